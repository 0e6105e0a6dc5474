//! The drains themselves: one node, several nodes, `--dry-run=client`, and the resume note.

use jiff::Timestamp;
use kube::Client;

use super::interrupt::Interrupt;
use super::{err_text, preflight, print};
use crate::drain::events::{DrainEvent, DrainOutcome, NodeState};
use crate::drain::exec::start_drain;
use crate::drain::fetch;
use crate::drain::journal::Journal;
use crate::drain::node_ops;
use crate::drain::options::DrainOptions;
use crate::drain::render;

/// One node: the engine cordons it and drains it, printing kubectl's lines as it goes.
pub(super) async fn drain_one(
    client: Client,
    node: &str,
    opts: DrainOptions,
    journal: &Journal,
    interrupt: &mut Interrupt,
) -> i32 {
    let delete = opts.disable_eviction;
    let (handle, mut rx) = start_drain(client, node, opts, journal.clone());
    let mut state = NodeState::Failed;
    loop {
        tokio::select! {
            ev = rx.recv() => {
                let Some(ev) = ev else { break };
                print(render::event_lines(&ev, delete));
                if let DrainEvent::Finished(o) = &ev {
                    state = o.state;
                }
            }
            _ = interrupt.next() => handle.interrupt(),
        }
    }
    let _ = handle.wait().await;
    i32::from(state != NodeState::Drained)
}

/// Several nodes, as kubectl does them: every node cordoned first, then drained one after
/// another; a failed node does not stop the next. Unlike kubectl, a node whose cordon failed is
/// not drained. Ctrl-C cancels the current cordon or drain and drains no more (all stay
/// cordoned).
pub(super) async fn drain_many(
    client: Client,
    nodes: &[String],
    (opts, cluster): (DrainOptions, fetch::Cluster),
    journal: &Journal,
    interrupt: &mut Interrupt,
) -> i32 {
    let mut outcomes: Vec<DrainOutcome> = Vec::new();
    let cordoned = cordon_all(&client, nodes, journal, interrupt, &mut outcomes).await;
    for node in cordoned {
        let outcome = if interrupt.interrupted() {
            not_drained(node, "left cordoned: not drained (interrupted)")
        } else {
            drain_cordoned(&client, node, (&opts, cluster), journal, interrupt).await
        };
        outcomes.push(outcome);
    }
    print(render::summary_lines(&outcomes));
    i32::from(interrupt.interrupted() || outcomes.iter().any(|o| o.state != NodeState::Drained))
}

/// The first step of [`drain_many`]: every node cordoned, one line each; a node whose
/// cordon failed or was interrupted gets its outcome in `outcomes`. Returns the cordoned.
async fn cordon_all<'a>(
    client: &Client,
    nodes: &'a [String],
    journal: &Journal,
    interrupt: &mut Interrupt,
    outcomes: &mut Vec<DrainOutcome>,
) -> Vec<&'a String> {
    let mut cordoned = Vec::new();
    for node in nodes {
        if interrupt.interrupted() {
            outcomes.push(not_drained(node, "not cordoned (interrupted)"));
            continue;
        }
        let cordon = node_ops::cordon(client, node, false, journal);
        match interrupt.unless(cordon).await {
            Some(Ok(c)) if c.already => println!("node/{node} already cordoned"),
            Some(Ok(_)) => println!("node/{node} cordoned"),
            Some(Err(e)) => {
                let error = format!("unable to cordon node \"{node}\": {e}");
                eprintln!("error: {error}");
                outcomes.push(DrainOutcome {
                    node: node.clone(),
                    state: NodeState::Failed,
                    errors: vec![error],
                    pending_pods: vec![],
                    message: format!(
                        "node/{node} not drained: its cordon failed, nothing was evicted"
                    ),
                });
                continue;
            }
            None => {
                outcomes.push(not_drained(
                    node,
                    "not drained: its cordon was interrupted (it may be cordoned), nothing was evicted",
                ));
                continue;
            }
        }
        cordoned.push(node);
    }
    cordoned
}

/// The second step of [`drain_many`] for one cordoned node: the pre-flight, then the drain,
/// printing kubectl's lines (its cordon was printed in the first step).
async fn drain_cordoned(
    client: &Client,
    node: &str,
    (opts, cluster): (&DrainOptions, fetch::Cluster),
    journal: &Journal,
    interrupt: &mut Interrupt,
) -> DrainOutcome {
    match interrupt
        .unless(preflight(client, node, opts, cluster, true))
        .await
    {
        Some(Ok(())) => {}
        Some(Err(code)) => {
            return DrainOutcome {
                node: node.to_string(),
                state: NodeState::Failed,
                errors: vec![format!("the plan refused the drain (exit {code})")],
                pending_pods: vec![],
                message: format!("node/{node} left cordoned: not drained (see the plan above)"),
            };
        }
        None => return not_drained(node, "left cordoned: not drained (interrupted)"),
    }
    let delete = opts.disable_eviction;
    let (handle, mut rx) = start_drain(client.clone(), node, opts.clone(), journal.clone());
    loop {
        tokio::select! {
            ev = rx.recv() => match ev {
                None => break,
                // Printed above, when every node was cordoned.
                Some(DrainEvent::Cordoned { .. }) => {}
                Some(DrainEvent::Finished(o)) => print(render::node_outcome_lines(&o)),
                Some(ev) => print(render::event_lines(&ev, delete)),
            },
            _ = interrupt.next() => handle.interrupt(),
        }
    }
    handle.wait().await
}

/// The outcome of a node Ctrl-C kept from being drained.
fn not_drained(node: &str, why: &str) -> DrainOutcome {
    DrainOutcome {
        node: node.to_string(),
        state: NodeState::Cancelled,
        errors: vec![],
        pending_pods: vec![],
        message: format!("node/{node} {why}"),
    }
}

/// `--dry-run=client`, as kubectl prints it: every node "cordoned (dry run)", then per node
/// the real plan's warnings and errors and an "evicting pod ... (dry run)" line per pod it
/// would evict. Reads only; PDBs are not consulted (kubectl's neither; `plan` does).
pub(super) async fn drain_dry_run(client: &Client, nodes: &[String], opts: &DrainOptions) -> i32 {
    let mut snaps = Vec::new();
    for node in nodes {
        match fetch::snapshot(client, node, fetch::Cluster::Skip).await {
            Ok(s) => snaps.push(s),
            Err(e) => {
                eprintln!("{}", err_text(&e));
                return 1;
            }
        }
    }
    for s in &snaps {
        let already = if s.node.unschedulable { "already " } else { "" };
        println!("node/{} {already}cordoned (dry run)", s.node.name());
    }
    let mut outcomes = Vec::new();
    for s in &snaps {
        let plan = s.plan(opts, Timestamp::now());
        let node = plan.node.clone();
        let outcome = if plan.errors.is_empty() {
            if let Some(w) = plan.warning_line() {
                eprintln!("{w}");
            }
            for p in plan.removals() {
                println!("evicting pod {} (dry run)", p.key());
            }
            DrainOutcome {
                state: NodeState::Drained,
                errors: vec![],
                pending_pods: vec![],
                message: String::new(),
                node: node.clone(),
            }
        } else {
            DrainOutcome {
                state: NodeState::Failed,
                errors: plan.errors.clone(),
                pending_pods: vec![],
                message: format!("node/{node} unchanged (dry run)"),
                node: node.clone(),
            }
        };
        match outcome.state {
            NodeState::Drained => println!("node/{node} drained (dry run)"),
            _ => print(render::node_outcome_lines(&outcome)),
        }
        outcomes.push(outcome);
    }
    print(render::summary_lines(&outcomes));
    i32::from(outcomes.iter().any(|o| o.state != NodeState::Drained))
}

/// A drain of a node whose last drain was interrupted (killed mid-drain) is its resume:
/// say so, with the last step the journal holds.
pub(super) async fn say_resumed(journal: &Journal, nodes: &[String]) {
    let j = journal.clone();
    let Ok(history) = tokio::task::spawn_blocking(move || j.history()).await else {
        return;
    };
    for node in nodes {
        if let Some(last) = history.interrupted_drain(node) {
            let step = match &last.pod {
                Some(pod) => format!("{} {pod}: {}", last.action, last.outcome),
                None => format!("{}: {}", last.action, last.outcome),
            };
            eprintln!(
                "node/{node}: resuming the drain interrupted after {} (last step: {step})",
                last.time.strftime("%Y-%m-%d %H:%M:%S UTC")
            );
        }
    }
}
