//! Headless commands: `kubedrain plan|cordon|uncordon NODE` and `kubedrain drain NODE...` or
//! `-l SELECTOR`, on the same engine as the TUI, with kubectl-compatible output. Each returns
//! the process exit code.

use jiff::Timestamp;

use crate::drain::client::{client_without_retry, load_config};
use kube::Client;
use kube::api::{Api, ListParams};

use crate::cli::{Command, KubeArgs};
use crate::cluster::rows::NodeRow;
use crate::drain::events::{DrainEvent, DrainOutcome, NodeState};
use crate::drain::exec::start_drain;
use crate::drain::fetch;
use crate::drain::journal::Journal;
use crate::drain::node_ops::{self, NodeOpError};
use crate::drain::options::DrainOptions;
use crate::drain::plan::{Severity, Verdict, exit};
use crate::drain::render::{self, Line};

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
    if let Err(e) = probe {
        eprintln!("error: {e}");
        return 1;
    }
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
            let opts = match a.flags.options() {
                Ok(o) => o,
                Err(e) => {
                    eprintln!("error: {e}");
                    return 1;
                }
            };
            let snap = match fetch::snapshot(&client, &a.node, true).await {
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
        Command::Drain(a) => {
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
                say_resumed(&journal, &nodes).await;
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
                    .unless(preflight(&client, node, &opts, false))
                    .await
                {
                    Some(Ok(())) => drain_one(client, node, opts, &journal, &mut interrupt).await,
                    Some(Err(code)) => code,
                    None => {
                        eprintln!("interrupted: nothing was changed");
                        1
                    }
                },
                _ => drain_many(client, &nodes, opts, &journal, &mut interrupt).await,
            };
            journal.flush().await;
            code
        }
        Command::Cordon(a) => cordon_nodes(&client, &a, None, &journal).await,
        Command::Uncordon(a) => cordon_nodes(&client, &a.target, Some(a.force), &journal).await,
        _ => 1,
    }
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
    cordoned: bool,
) -> Result<(), i32> {
    let snap = match fetch::snapshot(client, node, true).await {
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

/// Ctrl-C for a whole headless command: one listener, so a Ctrl-C that arrives while the
/// command is busy elsewhere is still seen at the next wait. A second Ctrl-C exits at once
/// (130), in case something does not answer the first.
struct Interrupt {
    count: tokio::sync::watch::Receiver<u32>,
    seen: bool,
}

impl Interrupt {
    /// Ctrl-C, and SIGTERM and SIGHUP alike (a `kill` or a closed session): the drain is
    /// cancelled, its result journaled and the node annotated, instead of dying mid-step
    /// with `draining` on the node.
    fn listen() -> std::io::Result<Interrupt> {
        use tokio::signal::unix::{SignalKind, signal};
        let mut int = signal(SignalKind::interrupt())?;
        let mut term = signal(SignalKind::terminate())?;
        let mut hup = signal(SignalKind::hangup())?;
        let (tx, count) = tokio::sync::watch::channel(0u32);
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = int.recv() => {}
                    _ = term.recv() => {}
                    _ = hup.recv() => {}
                }
                tx.send_modify(|n| *n += 1);
                if *tx.borrow() >= 2 {
                    eprintln!("error: interrupted twice: exiting now (nodes stay cordoned)");
                    std::process::exit(130);
                }
            }
        });
        Ok(Interrupt { count, seen: false })
    }

    /// Resolves at the first Ctrl-C (at once if one came already); never after that.
    async fn next(&mut self) {
        if self.seen || self.count.wait_for(|n| *n > 0).await.is_err() {
            return std::future::pending().await;
        }
        self.seen = true;
    }

    /// Whether Ctrl-C was pressed (now or before).
    fn interrupted(&mut self) -> bool {
        self.seen |= *self.count.borrow() > 0;
        self.seen
    }

    /// Runs `step` unless Ctrl-C comes first (`None`; at once if it came already).
    async fn unless<T>(&mut self, step: impl std::future::Future<Output = T>) -> Option<T> {
        if self.interrupted() {
            return None;
        }
        tokio::select! {
            biased;
            _ = self.next() => None,
            v = step => Some(v),
        }
    }
}

/// One node: the engine cordons it and drains it, printing kubectl's lines as it goes.
async fn drain_one(
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
async fn drain_many(
    client: Client,
    nodes: &[String],
    opts: DrainOptions,
    journal: &Journal,
    interrupt: &mut Interrupt,
) -> i32 {
    let delete = opts.disable_eviction;
    let mut outcomes: Vec<DrainOutcome> = Vec::new();
    let mut cordoned = Vec::new();
    for node in nodes {
        if interrupt.interrupted() {
            outcomes.push(not_drained(node, "not cordoned (interrupted)"));
            continue;
        }
        let cordon = node_ops::cordon(&client, node, false, journal);
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
    for node in cordoned {
        if interrupt.interrupted() {
            outcomes.push(not_drained(
                node,
                "left cordoned: not drained (interrupted)",
            ));
            continue;
        }
        match interrupt
            .unless(preflight(&client, node, &opts, true))
            .await
        {
            Some(Ok(())) => {}
            Some(Err(code)) => {
                outcomes.push(DrainOutcome {
                    node: node.clone(),
                    state: NodeState::Failed,
                    errors: vec![format!("the plan refused the drain (exit {code})")],
                    pending_pods: vec![],
                    message: format!("node/{node} left cordoned: not drained (see the plan above)"),
                });
                continue;
            }
            None => {
                outcomes.push(not_drained(
                    node,
                    "left cordoned: not drained (interrupted)",
                ));
                continue;
            }
        }
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
        outcomes.push(handle.wait().await);
    }
    print(render::summary_lines(&outcomes));
    i32::from(interrupt.interrupted() || outcomes.iter().any(|o| o.state != NodeState::Drained))
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
async fn drain_dry_run(client: &Client, nodes: &[String], opts: &DrainOptions) -> i32 {
    let mut snaps = Vec::new();
    for node in nodes {
        match fetch::snapshot(client, node, false).await {
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

/// `drain`'s node arguments resolved as kubectl does: names (each must exist; `node/NAME`
/// is accepted) or a label selector, never both. `Err`: what to print; nothing was changed.
async fn resolve_nodes(
    client: &Client,
    verb: &str,
    names: &[String],
    selector: Option<&str>,
) -> Result<Vec<String>, String> {
    let help = format!("See 'kubedrain {verb} -h' for help and examples");
    let api: Api<NodeRow> = Api::all(client.clone());
    match (names, selector) {
        ([_, ..], Some(_)) => Err(format!(
            "error: cannot specify both a node name and a --selector option\n{help}"
        )),
        ([], None) => Err(format!("error: USAGE: {verb} NODE [flags]\n{help}")),
        ([], Some(sel)) => {
            // Checked here, before any request (kubectl parses it client-side too).
            crate::drain::selector::PodSelector::parse(sel)
                .map_err(|why| format!("error: invalid --selector {sel:?}: {why}"))?;
            let list = api
                .list(&ListParams::default().labels(sel))
                .await
                .map_err(|e| format!("error: {}", api_text(&e)))?;
            let mut found: Vec<String> = list.items.iter().map(|n| n.name().to_string()).collect();
            found.sort();
            Ok(found)
        }
        // One node: the drain itself GETs it (and says "not found" as kubectl does); one
        // request saved.
        ([arg], None) => Ok(vec![node_name(arg).to_string()]),
        (names, None) => {
            let mut found: Vec<String> = Vec::new();
            for arg in names {
                let name = node_name(arg);
                match api.get(name).await {
                    Ok(_) if found.iter().any(|f| f == name) => {}
                    Ok(_) => found.push(name.to_string()),
                    Err(kube::Error::Api(s)) if s.code == 404 => {
                        return Err(format!(
                            "Error from server (NotFound): nodes \"{name}\" not found"
                        ));
                    }
                    Err(e) => return Err(format!("error: {}", api_text(&e))),
                }
            }
            Ok(found)
        }
    }
}

/// `cordon` (`uncordon: None`) or `uncordon` (`Some(force)`) of every node `a` names or
/// selects, one line each as kubectl prints them; exit 1 if any failed.
async fn cordon_nodes(
    client: &Client,
    a: &crate::cli::NodeArg,
    uncordon: Option<bool>,
    journal: &Journal,
) -> i32 {
    let verb = if uncordon.is_some() {
        "uncordon"
    } else {
        "cordon"
    };
    if a.dry_run == "server" {
        eprintln!("error: --dry-run=server is not supported for {verb}: use --dry-run=client");
        return 1;
    }
    let nodes = match resolve_nodes(client, verb, &a.nodes, a.selector.as_deref()).await {
        Ok(n) => n,
        Err(e) => {
            eprintln!("{e}");
            return 1;
        }
    };
    let mut code = 0;
    for node in &nodes {
        code = code.max(match (uncordon, a.dry_run.as_str()) {
            (_, "client") => cordon_dry_run(client, node, uncordon.is_some()).await,
            (None, _) => match node_ops::cordon(client, node, false, journal).await {
                Ok(c) if c.already => ok(format!("node/{node} already cordoned")),
                Ok(_) => ok(format!("node/{node} cordoned")),
                Err(e) => fail_op("cordon", node, &e),
            },
            (Some(force), _) => match node_ops::uncordon(client, node, force, journal).await {
                Ok(u) if u.already => ok(format!("node/{node} already uncordoned")),
                Ok(u) => {
                    if !u.changes.is_empty() {
                        eprintln!("since the cordon: {}", u.changes.join(", "));
                    }
                    ok(format!("node/{node} uncordoned"))
                }
                Err(e) => fail_op("uncordon", node, &e),
            },
        });
    }
    code
}

/// kubectl's `--dry-run=client` line for one node: what would change, nothing changed.
async fn cordon_dry_run(client: &Client, node: &str, uncordon: bool) -> i32 {
    let api: Api<NodeRow> = Api::all(client.clone());
    match api.get(node).await {
        Ok(n) if n.unschedulable != uncordon => ok(format!(
            "node/{node} already {} (dry run)",
            if uncordon { "uncordoned" } else { "cordoned" }
        )),
        Ok(_) => ok(format!(
            "node/{node} {} (dry run)",
            if uncordon { "uncordoned" } else { "cordoned" }
        )),
        Err(kube::Error::Api(s)) if s.code == 404 => {
            eprintln!("Error from server (NotFound): nodes \"{node}\" not found");
            1
        }
        Err(e) => {
            eprintln!("error: {}", api_text(&e));
            1
        }
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

/// A drain of a node whose last drain was interrupted (killed mid-drain) is its resume:
/// say so, with the last step the journal holds.
async fn say_resumed(journal: &Journal, nodes: &[String]) {
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
