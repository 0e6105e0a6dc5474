//! Headless commands: `kubedrain plan|drain|cordon|uncordon NODE`, on the same engine as the
//! TUI, with kubectl-compatible output. Each returns the process exit code.

use jiff::Timestamp;

use super::client::{client_without_retry, load_config};
use super::events::{DrainEvent, NodeState};
use super::exec::start_drain;
use super::fetch;
use super::journal::Journal;
use super::node_ops::{self, NodeOpError};
use super::options::DrainOptions;
use super::render::{self, Line};
use crate::cli::{Command, KubeArgs};

fn print(lines: Vec<Line>) {
    for l in lines {
        match l {
            Line::Out(s) => println!("{s}"),
            Line::Err(s) => eprintln!("{s}"),
        }
    }
}

/// Runs a plan/drain/cordon/uncordon command; returns the exit code.
pub async fn run(kube: &KubeArgs, readonly: bool, cmd: Command) -> i32 {
    if readonly && !matches!(cmd, Command::Plan(_)) {
        eprintln!("error: --readonly: refusing to change the cluster");
        return 1;
    }
    let (config, target) = match load_config(kube).await {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e:#}");
            return 1;
        }
    };
    let client = match client_without_retry(config) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e:#}");
            return 1;
        }
    };
    let journal = Journal::open(target);
    match cmd {
        Command::Plan(a) => {
            let opts = match DrainOptions::from_flags(&a.flags) {
                Ok(o) => o,
                Err(e) => {
                    eprintln!("error: {e}");
                    return 1;
                }
            };
            let snap = match fetch::snapshot(&client, &a.node, true).await {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("{}", err_text(&e));
                    return 1;
                }
            };
            let plan = snap.plan(&opts, Timestamp::now());
            if a.output == "json" {
                match serde_json::to_string_pretty(&plan) {
                    Ok(j) => println!("{j}"),
                    Err(e) => {
                        eprintln!("error: {e}");
                        return 1;
                    }
                }
            } else {
                print!("{}", render::plan_text(&plan));
            }
            i32::from(!plan.can_proceed())
        }
        Command::Drain(a) => {
            let opts = match DrainOptions::from_flags(&a.flags) {
                Ok(o) => o,
                Err(e) => {
                    eprintln!("error: {e}");
                    return 1;
                }
            };
            let delete = opts.disable_eviction;
            let (handle, mut rx) = start_drain(client, &a.node, opts, journal);
            let mut state = NodeState::Failed;
            let mut interrupted = false;
            loop {
                tokio::select! {
                    ev = rx.recv() => {
                        let Some(ev) = ev else { break };
                        print(render::event_lines(&ev, delete));
                        if let DrainEvent::Finished(o) = &ev {
                            state = o.state;
                        }
                    }
                    _ = tokio::signal::ctrl_c(), if !interrupted => {
                        interrupted = true;
                        handle.cancel();
                    }
                }
            }
            let _ = handle.wait().await;
            i32::from(state != NodeState::Drained)
        }
        Command::Cordon(a) => match node_ops::cordon(&client, &a.node, false, &journal).await {
            Ok(c) if c.already => ok(format!("node/{} already cordoned", a.node)),
            Ok(_) => ok(format!("node/{} cordoned", a.node)),
            Err(e) => fail_op("cordon", &a.node, &e),
        },
        Command::Uncordon(a) => {
            match node_ops::uncordon(&client, &a.node, a.force, &journal).await {
                Ok(u) if u.already => ok(format!("node/{} already uncordoned", a.node)),
                Ok(u) => {
                    if !u.changes.is_empty() {
                        eprintln!("since the cordon: {}", u.changes.join(", "));
                    }
                    ok(format!("node/{} uncordoned", a.node))
                }
                Err(e) => fail_op("uncordon", &a.node, &e),
            }
        }
        _ => 1,
    }
}

fn ok(line: String) -> i32 {
    println!("{line}");
    0
}

fn err_text(e: &NodeOpError) -> String {
    match e {
        NodeOpError::NotFound(_) => e.to_string(),
        _ => format!("error: {e}"),
    }
}

/// Unlike kubectl (exit 0 on a failed patch), a failed cordon/uncordon exits 1.
fn fail_op(verb: &str, node: &str, e: &NodeOpError) -> i32 {
    match e {
        NodeOpError::Api(_) => eprintln!("error: unable to {verb} node \"{node}\": {e}"),
        _ => eprintln!("{}", err_text(e)),
    }
    1
}
