//! `kubedrain campaign`: the campaign from the command line, one line per phase change; exit
//! 0 when it went all the way, 1 when held or failed, 130 when interrupted (Ctrl-C); with
//! `--dry-run` the ordered plan and each wave's pre-check, exit 1 if a wave would be held.

use std::collections::HashSet;
use std::io::IsTerminal;
use std::ops::ControlFlow;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiff::Timestamp;

use crate::campaign::events::{CampaignEvent, CampaignState};
use crate::campaign::exec::{Setup, Start, start_campaign};
use crate::campaign::journal::{CampaignJournal, Hold, HoldError, Progress, Spec, last_unfinished};
use crate::campaign::plan::Selection;
use crate::campaign::prepare::{Pick, PrepareError, Prepared, Request, prepare};
use crate::campaign::read;
use crate::campaign::report::{self, Report};
use crate::campaign::text::{check_lines, order_lines};
use crate::campaign::upgrade::{TargetError, UpgradeHook, parse_target};
use crate::cli::{CampaignArgs, FlagError, KubeArgs};
use crate::drain::client::{client_without_retry, load_config};
use crate::drain::events::{DrainEvent, PodState};
use crate::drain::journal::{Journal, Target, state_dir};
use crate::drain::options::{DrainOptions, parse_go_duration};

/// Why `kubedrain campaign` stopped before its campaign started (printed after `error: `).
#[derive(Debug, thiserror::Error)]
enum CampaignCmdError {
    #[error(transparent)]
    Flags(#[from] FlagError),
    #[error(transparent)]
    Target(#[from] TargetError),
    #[error(transparent)]
    Hold(#[from] HoldError),
    #[error("invalid --soak \"{0}\": expected a duration like 2m")]
    Soak(String),
    #[error("--max-unavailable must be at least 1")]
    MaxUnavailable,
    #[error("--readonly: refusing to change the cluster (use --dry-run)")]
    Readonly,
    #[error("--resume continues with the journaled campaign's hold points: do not give --hold")]
    HoldWithResume,
    #[error(
        "--hold needs a terminal on stdin (Enter lets the campaign go on at each hold point); \
         stdin is not one"
    )]
    HoldWithoutTerminal,
    #[error("name nodes, or select them with -l/--all-workers/--control-plane, not both")]
    NamesAndSelection,
    #[error("-l cannot be combined with --all-workers or --control-plane")]
    LabelsAndGroup,
    /// The kubeconfig or the client (the error chain, as `{:#}` prints it).
    #[error("{0:#}")]
    Connect(color_eyre::Report),
    #[error("--resume continues the journaled campaign with its own nodes: do not select nodes")]
    ResumeWithNodes,
    #[error("no unfinished campaign against {server} in {}", journal.display())]
    NothingToResume {
        server: String,
        journal: std::path::PathBuf,
    },
    #[error(
        "the journaled campaign has hold points: --resume needs a terminal on stdin \
         (Enter lets it go on at each one)"
    )]
    ResumeWithoutTerminal,
    #[error("--target {given} differs from the journaled campaign's target ({journaled})")]
    OtherTarget { given: String, journaled: String },
    #[error(transparent)]
    Prepare(#[from] PrepareError),
    #[error("--dry-run and --resume do not go together")]
    DryRunResume,
}

/// Exit code when Ctrl-C stopped the campaign.
pub const INTERRUPTED: i32 = 130;

/// Runs `kubedrain campaign`; returns the exit code.
pub async fn run(kube: &KubeArgs, readonly: bool, a: CampaignArgs) -> i32 {
    run_with(kube, readonly, a, None, None).await
}

/// [`run`] on a cluster given in-process (`None`: from the kubeconfig), with an upgrade
/// hook (the demo's simulated upgrade; `None`: the operator upgrades each node).
pub async fn run_with(
    kube: &KubeArgs,
    readonly: bool,
    a: CampaignArgs,
    cluster: Option<(kube::Config, Target)>,
    upgrade: Option<UpgradeHook>,
) -> i32 {
    match run_inner(kube, readonly, a, cluster, upgrade).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            1
        }
    }
}

fn selection(a: &CampaignArgs) -> Result<Option<Selection>, CampaignCmdError> {
    if !a.nodes.is_empty() && (a.selector.is_some() || a.all_workers || a.control_plane) {
        return Err(CampaignCmdError::NamesAndSelection);
    }
    Ok(match (&a.selector, a.all_workers, a.control_plane) {
        (Some(_), true, _) | (Some(_), _, true) => {
            return Err(CampaignCmdError::LabelsAndGroup);
        }
        (Some(_), _, _) => None,
        (None, true, true) => Some(Selection::All),
        (None, true, false) => Some(Selection::AllWorkers),
        (None, false, true) => Some(Selection::ControlPlane),
        (None, false, false) if !a.nodes.is_empty() => Some(Selection::Names(
            a.nodes
                .iter()
                .map(|n| n.strip_prefix("node/").unwrap_or(n).to_string())
                .collect(),
        )),
        (None, false, false) => Some(Selection::All),
    })
}

/// The command line's campaign, checked before anything is read.
struct Checked {
    opts: DrainOptions,
    target: Option<String>,
    soak: Duration,
    hold: Option<Hold>,
    sel: Option<Selection>,
}

/// Checks the flags (and that hold points can be released) before anything is read.
fn check(a: &CampaignArgs, readonly: bool) -> Result<Checked, CampaignCmdError> {
    let opts = a.flags.options()?;
    let target = a.target.as_deref().map(parse_target).transpose()?;
    let soak = parse_go_duration(&a.soak).ok_or_else(|| CampaignCmdError::Soak(a.soak.clone()))?;
    if a.max_unavailable == 0 {
        return Err(CampaignCmdError::MaxUnavailable);
    }
    if readonly && !a.dry_run {
        return Err(CampaignCmdError::Readonly);
    }
    let hold = a.hold.as_deref().map(Hold::parse).transpose()?;
    if hold.is_some() && a.resume {
        return Err(CampaignCmdError::HoldWithResume);
    }
    // A hold point nobody can release would wait forever: refused before anything changes.
    if hold.is_some() && !a.dry_run && !std::io::stdin().is_terminal() {
        return Err(CampaignCmdError::HoldWithoutTerminal);
    }
    let sel = selection(a)?;
    Ok(Checked {
        opts,
        target,
        soak,
        hold,
        sel,
    })
}

async fn run_inner(
    kube: &KubeArgs,
    readonly: bool,
    a: CampaignArgs,
    cluster: Option<(kube::Config, Target)>,
    upgrade: Option<UpgradeHook>,
) -> Result<i32, CampaignCmdError> {
    let checked = check(&a, readonly)?;
    let (config, jtarget) = match cluster {
        Some(c) => c,
        None => load_config(&kube.connect())
            .await
            .map_err(CampaignCmdError::Connect)?,
    };
    let client = client_without_retry(config).map_err(CampaignCmdError::Connect)?;
    let journal = CampaignJournal::open(jtarget.clone());
    let start = if a.resume {
        Start::Resume(resumed(&a, &journal, &jtarget.server, &checked.target)?)
    } else {
        match planned(&client, &a, &checked).await? {
            ControlFlow::Continue(spec) => Start::New(spec),
            ControlFlow::Break(code) => return Ok(code),
        }
    };
    if a.dry_run {
        return Err(CampaignCmdError::DryRunResume);
    }
    let setup = Setup {
        client,
        journal,
        drain_journal: Journal::open(jtarget),
        opts: checked.opts,
        upgrade,
        poll: Duration::from_secs(1),
    };
    Ok(execute(setup, start, a.report).await)
}

/// `--resume`: the journal's last unfinished campaign against `server`, if it may go on as
/// asked; says where it resumes.
fn resumed(
    a: &CampaignArgs,
    journal: &CampaignJournal,
    server: &str,
    target: &Option<String>,
) -> Result<Progress, CampaignCmdError> {
    if !a.nodes.is_empty() || a.selector.is_some() || a.all_workers || a.control_plane {
        return Err(CampaignCmdError::ResumeWithNodes);
    }
    let p = last_unfinished(&journal.entries(), server).ok_or_else(|| {
        CampaignCmdError::NothingToResume {
            server: server.to_string(),
            journal: journal.path.clone(),
        }
    })?;
    if p.spec.hold.is_some() && !std::io::stdin().is_terminal() {
        return Err(CampaignCmdError::ResumeWithoutTerminal);
    }
    if target.is_some() && *target != p.spec.target {
        return Err(CampaignCmdError::OtherTarget {
            given: target.clone().unwrap_or_default(),
            journaled: p.spec.target.as_deref().unwrap_or("none: OS only").into(),
        });
    }
    match p.next() {
        Some((n, s)) => println!(
            "resuming campaign {} at node/{n}, step {}",
            p.campaign,
            s.name()
        ),
        None => println!("resuming campaign {}: only its end is left", p.campaign),
    }
    Ok(p)
}

/// A new campaign: planned and its order printed; `Break` with the exit code when it stops
/// there (held by the skew policy, or a dry run).
async fn planned(
    client: &kube::Client,
    a: &CampaignArgs,
    c: &Checked,
) -> Result<ControlFlow<i32, Spec>, CampaignCmdError> {
    let pick = match &c.sel {
        Some(s) => Pick::Nodes(s.clone()),
        None => Pick::Labels(a.selector.clone().unwrap_or_default()),
    };
    let req = Request {
        pick,
        target: c.target.clone(),
        max_unavailable: a.max_unavailable,
        soak_secs: c.soak.as_secs(),
        allow_outage: c.opts.allow_outage,
        taint_queued: a.taint_queued,
        hold: c.hold,
    };
    let Prepared {
        spec,
        held,
        cluster,
    } = prepare(client, &req).await?;
    if let (Some(why), Some(t)) = (held, &c.target) {
        eprintln!("held: {why}");
        eprintln!("(`kubedrain versions --target {t}` shows the whole way)");
        return Ok(ControlFlow::Break(1));
    }
    for l in order_lines(&spec) {
        println!("{l}");
    }
    if a.dry_run {
        return Ok(ControlFlow::Break(dry_run(&cluster, &spec, &c.opts)));
    }
    Ok(ControlFlow::Continue(spec))
}

fn dry_run(cluster: &read::Cluster, spec: &Spec, opts: &DrainOptions) -> i32 {
    let now = Timestamp::now();
    let mut held = 0;
    let waves = &spec.waves;
    for w in waves {
        // The forecast as the campaign will see it: later waves' nodes carry the queued taint.
        let queued: Vec<&str> = waves
            .iter()
            .filter(|l| spec.taint_queued && l.index > w.index)
            .flat_map(|l| l.nodes.iter().map(String::as_str))
            .collect();
        let c = cluster.check_with_queued(w, &queued, opts, now);
        held += usize::from(c.held.is_some());
        for l in check_lines(&c, waves.len()) {
            println!("{l}");
        }
    }
    if held > 0 {
        println!(
            "dry run: {held} wave(s) would be held (each checked against the cluster as it is now); nothing was changed"
        );
        1
    } else {
        println!(
            "dry run: every wave can start (each checked against the cluster as it is now); nothing was changed"
        );
        0
    }
}

/// One line (or a few) per event; `None` for what the headless run does not print.
pub fn event_lines(e: &CampaignEvent, total: usize, seen: &mut HashSet<String>) -> Vec<String> {
    match e {
        CampaignEvent::Checked(c) => check_lines(c, total),
        CampaignEvent::Phase {
            node: Some(n),
            step,
            detail,
            ..
        } => {
            let what = match step.name() {
                "cordon" => "cordoned",
                "drain" => "drained",
                "gate" => "back in service",
                "uncordon" => "uncordoned",
                other => other,
            };
            vec![match detail {
                Some(d) => format!("node/{n}: {what} ({d})"),
                None => format!("node/{n}: {what}"),
            }]
        }
        CampaignEvent::Phase {
            node: None, wave, ..
        } => {
            vec![format!("wave {}/{total}: soaked", wave + 1)]
        }
        CampaignEvent::UpgradeNow {
            node,
            by_hook: true,
            ..
        } => vec![format!("node/{node}: upgrading (started in-process)")],
        CampaignEvent::UpgradeNow { node, commands, .. } => {
            let mut v = vec![format!(
                "node/{node}: upgrade node {node} now; on its host run:"
            )];
            v.extend(commands.iter().map(|c| format!("    {c}")));
            v
        }
        CampaignEvent::Waiting { message, .. } if message.starts_with("hold point:") => vec![
            format!("waiting: {message}"),
            "press Enter to go on (Ctrl-C stops the campaign)".into(),
        ],
        CampaignEvent::Waiting { message, .. } => vec![format!("waiting: {message}")],
        CampaignEvent::Paused(true) => vec!["paused".into()],
        CampaignEvent::Paused(false) => vec!["resumed".into()],
        CampaignEvent::Drain(d) => match d.as_ref() {
            DrainEvent::Pod {
                node,
                pod,
                state: PodState::BlockedByPdb { pdb, message, .. },
            } if seen.insert(format!("{node} {pdb:?}")) => vec![format!(
                "node/{node}: drain waits: {} ({pod}: {message})",
                pdb.as_deref().unwrap_or("a PodDisruptionBudget")
            )],
            _ => vec![],
        },
        CampaignEvent::Notice(m) if m.starts_with("warning: ") => vec![m.clone()],
        CampaignEvent::Notice(m) => vec![format!("note: {m}")],
        CampaignEvent::Finished { state, .. } => vec![match state {
            CampaignState::Completed => "campaign completed".to_string(),
            s => format!(
                "campaign stopped: {}",
                crate::campaign::exec::outcome_text(s)
            ),
        }],
    }
}

/// Each Enter on stdin (a thread: reading stdin blocks); `None` if stdin closes at once.
fn enter_presses() -> Option<tokio::sync::mpsc::UnboundedReceiver<()>> {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        while std::io::stdin().read_line(&mut line).is_ok_and(|n| n > 0) {
            line.clear();
            if tx.send(()).is_err() {
                break;
            }
        }
    });
    Some(rx)
}

async fn execute(setup: Setup, start: Start, report_prefix: Option<std::path::PathBuf>) -> i32 {
    let spec = match &start {
        Start::New(s) => s,
        Start::Resume(p) => &p.spec,
    };
    let (total, holds) = (spec.waves.len(), spec.hold.is_some());
    let report: Arc<Mutex<Option<Report>>> = Arc::new(Mutex::new(None));
    let seen = Mutex::new(HashSet::new());
    let sink_report = report.clone();
    let handle = start_campaign(setup, start, move |e| {
        if let CampaignEvent::Finished { report: r, .. } = &e
            && let Ok(mut slot) = sink_report.lock()
        {
            *slot = Some(*r.clone());
        }
        let lines = match seen.lock() {
            Ok(mut s) => event_lines(&e, total, &mut s),
            Err(_) => vec![],
        };
        for l in lines {
            println!("{l}");
        }
    });
    let mut interrupted = false;
    let control = handle.control();
    let mut enter = if holds { enter_presses() } else { None };
    let wait = handle.wait();
    tokio::pin!(wait);
    let state = loop {
        tokio::select! {
            s = &mut wait => break s,
            // Enter lets a hold point go on (elsewhere resuming a running campaign is a no-op).
            Some(()) = async { enter.as_mut()?.recv().await } => control.resume(),
            _ = tokio::signal::ctrl_c(), if !interrupted => {
                interrupted = true;
                eprintln!("interrupted: stopping the campaign (nodes stay as they are; `kubedrain campaign --resume` continues it)");
                control.abort();
            }
            _ = tokio::signal::ctrl_c(), if interrupted => {
                eprintln!("error: interrupted twice: exiting now (the journal says where the campaign was)");
                return INTERRUPTED;
            }
        }
    };
    let rep = report.lock().ok().and_then(|r| r.clone());
    if let Some(r) = rep {
        let prefix =
            report_prefix.unwrap_or_else(|| state_dir().join(format!("campaign-{}", r.campaign)));
        match report::write(&r, &prefix) {
            Ok((md, json)) => println!("report: {md} and {json}"),
            Err(e) => eprintln!(
                "error: cannot write the report to {}: {e}",
                prefix.display()
            ),
        }
    }
    match state {
        CampaignState::Completed => 0,
        CampaignState::Aborted { .. } if interrupted => INTERRUPTED,
        _ => 1,
    }
}
