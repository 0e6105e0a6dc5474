//! Headless commands: `kubedrain plan|cordon|uncordon NODE` and `kubedrain drain NODE...` or
//! `-l SELECTOR`, on the same engine as the TUI, with kubectl-compatible output. Each returns
//! the process exit code.

mod drains;
mod interrupt;
mod nodes;

use jiff::Timestamp;

use crate::drain::client::{client_without_retry, load_config};
use kube::Client;

use crate::cli::{Command, DrainArgs, KubeArgs, PlanArgs};
use crate::drain::fetch;
use crate::drain::journal::Journal;
use crate::drain::node_ops::NodeOpError;
use crate::drain::options::DrainOptions;
use crate::drain::plan::{Severity, Verdict, exit};
use crate::drain::render::{self, Line};

use drains::{drain_dry_run, drain_many, drain_one, say_resumed};
use interrupt::Interrupt;
use nodes::{cordon_nodes, resolve_nodes};

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
    let dry_run = match &cmd {
        Command::Cordon(a) => a.dry_run == "client",
        Command::Uncordon(a) => a.target.dry_run == "client",
        _ => false,
    };
    if readonly && !dry_run && !matches!(cmd, Command::Plan(_)) {
        eprintln!("error: --readonly: refusing to change the cluster");
        return 1;
    }
    let (config, target) = match load_config(&kube.connect()).await {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e:#}");
            return 1;
        }
    };
    // Before anything else: a server that is down, unreachable or never answers is said in
    // plain words within seconds ("client error (Connect)" and minute-long hangs were not).
    let probe = crate::cluster::client::probe(config.clone(), target.context.clone()).await;
    // The probe read `/version`: the pre-flight's whole-cluster read need not ask again.
    let cluster = match probe {
        Ok(c) => fetch::Cluster::read(c.streams_lists),
        Err(e) => {
            eprintln!("error: {e}");
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
        Command::Plan(a) => plan_cmd(&client, &a, cluster).await,
        Command::Drain(a) => drain_cmd(client, &journal, &a, cluster).await,
        Command::Cordon(a) => cordon_nodes(&client, &a, None, &journal).await,
        Command::Uncordon(a) => cordon_nodes(&client, &a.target, Some(a.force), &journal).await,
        _ => 1,
    }
}

/// `kubedrain plan NODE`: the plan, as text or JSON; its exit code says the verdict.
async fn plan_cmd(client: &Client, a: &PlanArgs, cluster: fetch::Cluster) -> i32 {
    let opts = match a.flags.options() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            return 1;
        }
    };
    let snap = match fetch::snapshot(client, &a.node, cluster).await {
        Ok(s) => s,
        // A plan needs every namespace's pods: without them it cannot tell.
        Err(NodeOpError::Api(kube::Error::Api(s))) if s.code == 403 => {
            eprintln!(
                "error: {}\nkubedrain cannot tell whether draining node/{} is safe without reading every namespace's pods and PodDisruptionBudgets",
                s.message, a.node
            );
            return exit::CANNOT_TELL;
        }
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
    plan.exit_code()
}

/// `kubedrain drain NODE...|-l SELECTOR`: resolve the nodes, check, then drain them;
/// `cluster` is how the pre-flight reads the whole cluster.
async fn drain_cmd(
    client: Client,
    journal: &Journal,
    a: &DrainArgs,
    cluster: fetch::Cluster,
) -> i32 {
    // One Ctrl-C listener for the whole command: a Ctrl-C at any moment cancels.
    let mut interrupt = match Interrupt::listen() {
        Ok(i) => i,
        Err(e) => {
            eprintln!("error: cannot listen for Ctrl-C: {e}");
            return 1;
        }
    };
    let opts = match a.flags.options() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            return 1;
        }
    };
    if a.target.dry_run == "server" {
        eprintln!(
            "error: --dry-run=server is not supported: `kubedrain plan NODE` shows what it \
             would, PDB blockers included, without retrying until --timeout"
        );
        return 1;
    }
    let resolve = resolve_nodes(
        &client,
        "drain",
        &a.target.nodes,
        a.target.selector.as_deref(),
    );
    let nodes = match interrupt.unless(resolve).await {
        Some(Ok(n)) => n,
        Some(Err(e)) => {
            eprintln!("{e}");
            return 1;
        }
        None => {
            eprintln!("interrupted: nothing was changed");
            return 1;
        }
    };
    if a.target.dry_run != "client" {
        say_resumed(journal, &nodes).await;
    }
    let code = match nodes.as_slice() {
        // A selector that matches nothing: kubectl prints nothing and succeeds.
        [] => 0,
        _ if a.target.dry_run == "client" => {
            match interrupt
                .unless(drain_dry_run(&client, &nodes, &opts))
                .await
            {
                Some(code) => code,
                None => {
                    eprintln!("interrupted: nothing was changed");
                    1
                }
            }
        }
        [node] => match interrupt
            .unless(preflight(&client, node, &opts, cluster, false))
            .await
        {
            Some(Ok(())) => drain_one(client, node, opts, journal, &mut interrupt).await,
            Some(Err(code)) => code,
            None => {
                eprintln!("interrupted: nothing was changed");
                1
            }
        },
        _ => drain_many(client, &nodes, (opts, cluster), journal, &mut interrupt).await,
    };
    journal.flush().await;
    code
}

/// kubedrain's pre-flight, before anything changes: the whole plan (every namespace, where
/// replacements land). A drain that would never finish (a PDB that never allows an eviction,
/// pods under two PDBs, ...), that cannot be judged, or that would take a workload down or
/// break a budget without `--allow-outage` does not start: `Err(exit code)` after printing why.
/// kubectl's own pre-flight errors are left to the engine, which reports them as kubectl does.
async fn preflight(
    client: &Client,
    node: &str,
    opts: &DrainOptions,
    cluster: fetch::Cluster,
    cordoned: bool,
) -> Result<(), i32> {
    let snap = match fetch::snapshot(client, node, cluster).await {
        Ok(s) => s,
        // The engine says "not found" in kubectl's words.
        Err(NodeOpError::NotFound(_)) => return Ok(()),
        Err(e) => {
            eprintln!(
                "error: cannot check the drain of node/{node} before it starts: {e}; \
                 kubedrain cannot tell whether it is safe; {}",
                if cordoned {
                    "it stays cordoned"
                } else {
                    "nothing was changed"
                }
            );
            return Err(exit::CANNOT_TELL);
        }
    };
    let plan = snap.plan(opts, Timestamp::now());
    let state = if cordoned {
        "it stays cordoned"
    } else {
        "nothing was changed"
    };
    let refuse = |sev: Severity, code: i32, why: &str| {
        for f in plan.findings_of(sev) {
            eprintln!("error: {}: {}", f.message, f.pods.join(", "));
        }
        eprintln!(
            "error: node/{node} not drained: {why}; {state} (`kubedrain plan {node}` shows the whole plan)"
        );
        Err(code)
    };
    match plan.verdict {
        Verdict::Blocked if plan.errors.is_empty() => refuse(
            Severity::Blocker,
            exit::BLOCKED,
            "the drain could never finish",
        ),
        Verdict::CannotTell => refuse(
            Severity::Unknown,
            exit::CANNOT_TELL,
            "kubedrain cannot tell whether it is safe",
        ),
        Verdict::Outage if !opts.allow_outage => refuse(
            Severity::Outage,
            exit::OUTAGE,
            "it would cause an outage; --allow-outage accepts it",
        ),
        _ => Ok(()),
    }
}

/// `NAME` from `NAME`, `node/NAME`, `nodes/NAME` or `no/NAME`.
fn node_name(arg: &str) -> &str {
    ["node/", "nodes/", "no/"]
        .iter()
        .find_map(|p| arg.strip_prefix(p))
        .unwrap_or(arg)
}

fn api_text(e: &kube::Error) -> String {
    match e {
        kube::Error::Api(s) => s.message.clone(),
        other => other.to_string(),
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
