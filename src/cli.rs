//! Command-line interface (clap). Flags follow kubectl and k9s habits.

use crate::drain::options::DrainOptions;
use std::net::SocketAddr;
use std::path::PathBuf;

use clap::builder::RangedU64ValueParser;
use clap::{Args, Parser, Subcommand};

use crate::cluster::names::{self, NameError};
use crate::drain::options::parse_go_duration;

/// A flag value kubedrain refuses: which flag, and what was wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FlagError {
    /// Not a Go duration (a duration flag's own parser; clap names the flag).
    #[error("time: invalid duration {0:?} (e.g. 90s, 5m, 1h30m; at most 2562047h)")]
    Duration(String),
    /// `--speed` or `--churn` given something that is not a number.
    #[error("{0:?} is not a number")]
    NotANumber(String),
    /// `--speed` out of its range.
    #[error("must be above 0 and at most {MAX_SPEED}")]
    Speed,
    /// `--churn` out of its range.
    #[error("must be between 0 and {MAX_CHURN}")]
    Churn,
    /// `--timeout` as a drain option, in kubectl's words.
    #[error("invalid argument \"{0}\" for \"--timeout\" flag: time: invalid duration \"{0}\"")]
    Timeout(String),
    /// `--pod-selector` that does not parse, in kubectl's words.
    #[error("--pod-selector={0} must be a valid label selector")]
    PodSelector(String),
}

/// Fastest simulated time (`--speed`): beyond this the simulator's controllers cannot keep up.
pub const MAX_SPEED: f64 = 1000.0;
/// Most worker nodes `kubedrain sim --nodes` generates (Kubernetes' largest supported cluster).
pub const MAX_NODES: u64 = 5000;
/// Most pods per node `--pods-per-node` generates.
pub const MAX_PODS_PER_NODE: u64 = 500;
/// Most pod changes per second `--churn` makes.
pub const MAX_CHURN: f64 = 1_000_000.0;

/// A node name as `plan`, `cordon` and `uncordon` take it (checked before any request).
fn node_name(s: &str) -> Result<String, NameError> {
    names::node_name(s).map(|_| s.to_string())
}

/// A node argument as `drain` and `campaign` take it: `NAME`, or kubectl's `node/NAME`.
fn node_ref(s: &str) -> Result<String, NameError> {
    let name = ["node/", "nodes/", "no/"]
        .iter()
        .find_map(|p| s.strip_prefix(p))
        .unwrap_or(s);
    names::node_name(name).map(|_| s.to_string())
}

/// A namespace name (`-n`).
fn namespace_name(s: &str) -> Result<String, NameError> {
    names::namespace(s).map(|_| s.to_string())
}

/// A Go-style duration (`90s`, `5m`, `1h30m`, `0`), within Go's range.
/// A Go duration as kubectl's flags take it (`5m`, `1h30m`, `0s`).
pub fn go_duration(s: &str) -> Result<String, FlagError> {
    match parse_go_duration(s) {
        Some(_) => Ok(s.to_string()),
        None => Err(FlagError::Duration(s.to_string())),
    }
}

/// A simulated-time speed: a finite number above 0, at most [`MAX_SPEED`].
fn speed(s: &str) -> Result<f64, FlagError> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 && v <= MAX_SPEED => Ok(v),
        Ok(_) => Err(FlagError::Speed),
        Err(_) => Err(FlagError::NotANumber(s.to_string())),
    }
}

/// A churn rate: a finite number of changes per second, 0 to [`MAX_CHURN`].
fn churn(s: &str) -> Result<f64, FlagError> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && (0.0..=MAX_CHURN).contains(&v) => Ok(v),
        Ok(_) => Err(FlagError::Churn),
        Err(_) => Err(FlagError::NotANumber(s.to_string())),
    }
}

/// kubedrain: cordon, drain, upgrade and uncordon Kubernetes nodes, and watch it happen.
#[derive(Debug, Parser)]
#[command(name = "kubedrain", version, about, long_about = None)]
pub struct Cli {
    #[command(flatten)]
    pub kube: KubeArgs,

    /// Hide and refuse every mutating action (cordon, drain, uncordon).
    #[arg(long, global = true)]
    pub readonly: bool,

    /// Start with teach mode on: each step explained as it happens (`t` toggles it).
    #[arg(long)]
    pub teach: bool,

    /// Change nodes without writing the journal (no resume after a crash). Without it, a
    /// state directory that cannot be written is an error before anything changes.
    #[arg(long, global = true)]
    pub no_journal: bool,

    /// On an error, print the whole report with a backtrace (as RUST_BACKTRACE=1 does).
    #[arg(long, global = true)]
    pub debug: bool,

    /// Write logs to this file (level from KUBEDRAIN_LOG, default info). Without it, logs go
    /// to <state dir>/kubedrain.log when KUBEDRAIN_LOG is set, else nowhere; never to the
    /// screen.
    #[arg(long, global = true, value_name = "PATH")]
    pub log_file: Option<PathBuf>,

    /// The config file (default: $XDG_CONFIG_HOME/kubedrain/config.yaml, or
    /// $KUBEDRAIN_CONFIG): drain defaults, skin, keys, columns.
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Option<Command>,
}

/// How to reach the cluster (kubectl's flags).
#[derive(Debug, Clone, Default, Args)]
pub struct KubeArgs {
    /// Path to the kubeconfig file to use.
    #[arg(long, global = true, env = "KUBECONFIG")]
    pub kubeconfig: Option<PathBuf>,

    /// The name of the kubeconfig context to use.
    #[arg(long, global = true)]
    pub context: Option<String>,

    /// Namespace whose pods and events the panes list (default: all). Node numbers and plans
    /// always cover every namespace.
    #[arg(short = 'n', long, global = true, value_parser = namespace_name)]
    pub namespace: Option<String>,

    /// How long one API request may take before it fails (kubectl's flag: `0` for none, a
    /// number of seconds, or `30s`, `1m`...). Default 30s. Watches are not cut by it: they
    /// restart when the server stops sending its bookmarks.
    #[arg(long, global = true, value_name = "DURATION", value_parser = crate::cluster::timeout::parse)]
    pub request_timeout: Option<std::time::Duration>,
}

impl KubeArgs {
    /// What the cluster client needs of these flags.
    pub fn connect(&self) -> crate::cluster::client::ConnectArgs {
        crate::cluster::client::ConnectArgs {
            kubeconfig: self.kubeconfig.clone(),
            context: self.context.clone(),
            request_timeout: self.request_timeout(),
        }
    }

    /// The per-request timeout in effect (`None`: none, from `--request-timeout 0`).
    pub fn request_timeout(&self) -> Option<std::time::Duration> {
        match self.request_timeout {
            Some(t) if t.is_zero() => None,
            Some(t) => Some(t),
            None => Some(crate::cluster::timeout::DEFAULT_REQUEST_TIMEOUT),
        }
    }
}

/// Every flag that selects or reaches a cluster, changes how nodes may be changed, or sets
/// up the TUI and the drain (the config file).
const CLIENT_FLAGS: &[&str] = &[
    "kubeconfig",
    "context",
    "namespace",
    "request_timeout",
    "readonly",
    "no_journal",
    "config",
];

/// The global flags that mean nothing under a subcommand, and why: hidden from its help and
/// completions, and refused on its command line rather than ignored.
pub const NOT_FOR: &[(&str, &[&str], &str)] = &[
    (
        "demo",
        &["kubeconfig", "context"],
        "it runs its own built-in cluster (--kubeconfig-out PATH keeps the demo's kubeconfig for kubectl)",
    ),
    (
        "sim",
        CLIENT_FLAGS,
        "it serves a cluster rather than using one (--kubeconfig-out PATH writes its kubeconfig)",
    ),
    (
        "plan",
        &["namespace", "readonly", "no_journal"],
        "it only reads the cluster, in every namespace",
    ),
    (
        "versions",
        &["namespace", "readonly", "no_journal", "config"],
        "it only reads the cluster",
    ),
    (
        "drain",
        &["namespace"],
        "a node's pods are read in every namespace",
    ),
    (
        "cordon",
        &["namespace"],
        "a cordon is the node's, in no namespace",
    ),
    (
        "uncordon",
        &["namespace"],
        "a cordon is the node's, in no namespace",
    ),
    (
        "campaign",
        &["namespace"],
        "a node's pods are read in every namespace",
    ),
    (
        "completions",
        CLIENT_FLAGS,
        "it prints a script and reaches no cluster",
    ),
    (
        "man",
        CLIENT_FLAGS,
        "it prints the manual and reaches no cluster",
    ),
    (
        "info",
        &["namespace", "request_timeout", "readonly", "no_journal"],
        "it prints paths and makes no connection",
    ),
];

/// The command line as users see it: each subcommand's help and completions list only the
/// global flags that mean something there.
pub fn command() -> clap::Command {
    use clap::CommandFactory;
    let mut cmd = Cli::command();
    // A global flag is copied into each subcommand when the command is built, unless the
    // subcommand has an argument of that id already: give those a hidden copy. (Hiding after
    // the build would leave clap's built lookup tables pointing at the wrong arguments.)
    for (sub, flags, _) in NOT_FOR {
        let hidden: Vec<clap::Arg> = cmd
            .get_arguments()
            .filter(|a| flags.contains(&a.get_id().as_str()))
            .map(|a| a.clone().hide(true))
            .collect();
        cmd = cmd.mut_subcommand(sub, |s| s.args(hidden));
    }
    cmd
}

/// A global flag given on the command line of a subcommand where it means nothing, in words.
pub fn misplaced(matches: &clap::ArgMatches) -> Option<String> {
    let (name, sub) = matches.subcommand()?;
    let (_, flags, why) = NOT_FOR.iter().find(|(s, ..)| *s == name)?;
    let given = flags
        .iter()
        .find(|f| sub.value_source(f) == Some(clap::parser::ValueSource::CommandLine))?;
    let flag = match *given {
        "namespace" => "-n/--namespace".to_string(),
        f => format!("--{}", f.replace('_', "-")),
    };
    Some(format!("{flag} does not apply to {name}: {why}"))
}

/// Subcommands; without one, kubedrain opens the TUI on the current context.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start the built-in simulated cluster and open the TUI on it.
    Demo(DemoArgs),
    /// Run the built-in simulated cluster as an API server for kubectl and other clients.
    Sim(SimArgs),
    /// Show what draining NODE would do; exit 0 proceed, 1 blocked, 3 outage, 4 cannot tell.
    Plan(PlanArgs),
    /// Drain NODE (kubectl-compatible output).
    Drain(DrainArgs),
    /// Mark NODE unschedulable.
    Cordon(NodeArg),
    /// Mark NODE schedulable again.
    Uncordon(UncordonArgs),
    /// Show every component's version against the skew policy (and the way to --target);
    /// exit 1 on any violation.
    Versions(VersionsArgs),
    /// Take many nodes through cordon → drain → upgrade → uncordon: control plane first, then
    /// waves of workers; exit 0 done, 1 held or failed, 130 interrupted.
    Campaign(CampaignArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell) to stdout.
    Completions(CompletionsArgs),
    /// Print the man page (roff) to stdout: `kubedrain man > kubedrain.1`.
    Man,
    /// Print the paths and context in use: state directory, journals, log file, kubeconfig.
    Info,
}

/// `kubedrain completions`.
#[derive(Debug, Clone, Args)]
pub struct CompletionsArgs {
    /// The shell.
    pub shell: clap_complete::Shell,
}

/// `kubedrain versions`.
#[derive(Debug, Clone, Args)]
pub struct VersionsArgs {
    /// Plan the way to this version (e.g. v1.26.0): the chain of control-plane minors, the
    /// nodes that block it, the ordered steps.
    #[arg(long)]
    pub target: Option<String>,
    /// Output format: text or json.
    #[arg(short = 'o', long, default_value = "text", value_parser = ["text", "json"])]
    pub output: String,
}

/// `kubedrain demo`.
#[derive(Debug, Clone, Args)]
pub struct DemoArgs {
    /// Built-in scenario name or path to a scenario YAML file.
    #[arg(long, default_value = "seed")]
    pub scenario: String,
    /// Simulated time speed (2.0 = twice as fast as real time; above 0, at most 1000).
    #[arg(long, default_value_t = 1.0, value_parser = speed)]
    pub speed: f64,
    /// Also write the demo cluster's kubeconfig here, and keep it after the demo ends (the
    /// private copy beside the demo is removed on exit).
    #[arg(long, value_name = "PATH")]
    pub kubeconfig_out: Option<PathBuf>,
    /// Keep the demo's journals and reports here (default: a private directory removed on
    /// exit, so a demo never writes into the operator's journal).
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// Start with teach mode on: each step explained as it happens (`t` toggles it).
    #[arg(long)]
    pub teach: bool,
}

/// `kubedrain sim`.
#[derive(Debug, Clone, Args)]
pub struct SimArgs {
    /// Built-in scenario name (seed, pdb-blocked, no-room, mixed, upgrade) or path to a YAML file.
    #[arg(long, default_value = "seed")]
    pub scenario: String,
    /// Address to listen on (loopback and an ephemeral port by default).
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,
    /// Simulated time speed (2.0 = twice as fast as real time; above 0, at most 1000).
    #[arg(long, default_value_t = 1.0, value_parser = speed)]
    pub speed: f64,
    /// Write a kubeconfig for the simulator to this path.
    #[arg(long)]
    pub kubeconfig_out: Option<PathBuf>,
    /// Generate a large cluster instead of a scenario: number of worker nodes (1 to 5000).
    #[arg(long, value_parser = RangedU64ValueParser::<usize>::new().range(1..=MAX_NODES))]
    pub nodes: Option<usize>,
    /// With --nodes: pods per node (0 to 500).
    #[arg(long, default_value_t = 30,
          value_parser = RangedU64ValueParser::<usize>::new().range(0..=MAX_PODS_PER_NODE))]
    pub pods_per_node: usize,
    /// Benchmark churn: change this many pods per second, round-robin over every pod (each
    /// change sets a container's restart count to a sequence number; see `sim::churn`).
    #[arg(long, value_parser = churn)]
    pub churn: Option<f64>,
    /// Serve plain HTTP without authentication (every request acts as the administrator).
    /// By default the simulator serves HTTPS with its own CA and a bearer token, as a real
    /// API server does; kubectl sends tokens only over HTTPS
    #[arg(long)]
    pub plain_http: bool,
}

/// The nodes `drain`, `cordon` and `uncordon` take, as kubectl's do.
#[derive(Debug, Clone, Args)]
pub struct NodeArg {
    /// The nodes (`NAME` or `node/NAME`), one after another as kubectl does.
    #[arg(value_parser = node_ref)]
    pub nodes: Vec<String>,
    /// The nodes matching this label selector instead of naming them.
    #[arg(short = 'l', long)]
    pub selector: Option<String>,
    /// `client`: print what would change (for a drain: what would be cordoned and evicted),
    /// change nothing (`--dry-run` alone means `client`, as in kubectl). `server` is refused:
    /// `kubedrain plan` shows more.
    #[arg(
        long,
        value_name = "STRATEGY",
        num_args = 0..=1,
        require_equals = true,
        default_value = "none",
        default_missing_value = "client",
        value_parser = ["none", "client", "server"]
    )]
    pub dry_run: String,
}

/// `kubedrain uncordon`.
#[derive(Debug, Clone, Args)]
pub struct UncordonArgs {
    #[command(flatten)]
    pub target: NodeArg,
    /// Also lift a cordon that kubedrain did not put there (or that predates it).
    #[arg(long)]
    pub force: bool,
}

/// kubectl drain's flags, with kubectl's defaults.
#[derive(Debug, Clone, Args)]
pub struct DrainFlags {
    /// Skip DaemonSet-managed pods instead of failing.
    #[arg(long)]
    pub ignore_daemonsets: bool,
    /// Delete pods with emptyDir volumes (their data is lost).
    #[arg(long)]
    pub delete_emptydir_data: bool,
    /// Also delete pods not managed by a controller.
    #[arg(long)]
    pub force: bool,
    /// Seconds each pod gets to terminate; negative uses the pod's own setting.
    #[arg(long, default_value_t = -1, allow_hyphen_values = true,
          value_parser = clap::value_parser!(i64).range(..=i64::from(u32::MAX)))]
    pub grace_period: i64,
    /// Give up after this long (e.g. 90s, 5m); 0 waits forever.
    #[arg(long, default_value = "0s", value_parser = go_duration)]
    pub timeout: String,
    /// Only drain pods matching this label selector.
    #[arg(long, default_value = "")]
    pub pod_selector: String,
    /// Delete pods instead of evicting them (bypasses PodDisruptionBudgets).
    #[arg(long)]
    pub disable_eviction: bool,
    /// Skip pods whose deletion started more than this many seconds ago.
    #[arg(long, default_value_t = 0,
          value_parser = clap::value_parser!(u64).range(..=i64::MAX as u64))]
    pub skip_wait_for_delete_timeout: u64,
    /// Accept a drain that leaves a workload without a ready replica or breaks a
    /// PodDisruptionBudget (`plan` exits 3 for those; `drain` refuses them without this).
    #[arg(long)]
    pub allow_outage: bool,
}

impl DrainFlags {
    /// The drain options these flags ask for, validated; errors carry kubectl's wording.
    pub fn options(&self) -> Result<DrainOptions, FlagError> {
        let f = self;
        let timeout = crate::drain::options::parse_go_duration(&f.timeout)
            .ok_or_else(|| FlagError::Timeout(f.timeout.clone()))?;
        let pod_selector = if f.pod_selector.trim().is_empty() {
            None
        } else {
            Some(
                crate::drain::selector::PodSelector::parse(&f.pod_selector)
                    .map_err(|_| FlagError::PodSelector(f.pod_selector.clone()))?,
            )
        };
        Ok(DrainOptions {
            ignore_daemonsets: f.ignore_daemonsets,
            delete_emptydir_data: f.delete_emptydir_data,
            force: f.force,
            // kubectl: only values >= 0 are sent; negative means "the pod's own setting".
            grace_period: u32::try_from(f.grace_period).ok(),
            timeout: (!timeout.is_zero()).then_some(timeout),
            pod_selector,
            disable_eviction: f.disable_eviction,
            skip_wait_for_delete_timeout: (f.skip_wait_for_delete_timeout > 0)
                .then_some(f.skip_wait_for_delete_timeout),
            allow_outage: f.allow_outage,
        })
    }
}

/// `kubedrain plan`.
#[derive(Debug, Clone, Args)]
pub struct PlanArgs {
    /// The node to plan a drain of.
    #[arg(value_parser = node_name)]
    pub node: String,
    #[command(flatten)]
    pub flags: DrainFlags,
    /// Output format: text or json.
    #[arg(short = 'o', long, default_value = "text", value_parser = ["text", "json"])]
    pub output: String,
}

/// `kubedrain drain`.
#[derive(Debug, Clone, Args)]
pub struct DrainArgs {
    #[command(flatten)]
    pub target: NodeArg,
    #[command(flatten)]
    pub flags: DrainFlags,
}

/// `kubedrain campaign`.
#[derive(Debug, Clone, Args)]
pub struct CampaignArgs {
    /// The nodes to take (default: every node; or use -l, --all-workers, --control-plane).
    #[arg(value_parser = node_ref)]
    pub nodes: Vec<String>,
    /// Take the nodes matching this label selector.
    #[arg(short = 'l', long)]
    pub selector: Option<String>,
    /// Take every node without a control-plane role.
    #[arg(long)]
    pub all_workers: bool,
    /// Take the control-plane nodes (with --all-workers: every node).
    #[arg(long)]
    pub control_plane: bool,
    /// Kubernetes version to upgrade to (e.g. v1.26.0); without it, an OS-only campaign whose
    /// gate waits for each node to reboot.
    #[arg(long)]
    pub target: Option<String>,
    /// Workers taken out of service at once (control-plane nodes always go one at a time).
    #[arg(long, default_value_t = 1)]
    pub max_unavailable: usize,
    /// Minimum time after each wave before the next (e.g. 2m); the soak also waits until no
    /// pod is Pending and every PodDisruptionBudget is at its desired health.
    #[arg(long, default_value = "0s", value_parser = go_duration)]
    pub soak: String,
    /// Print the ordered plan and each wave's pre-check and forecast; change nothing (exit 1
    /// when a wave would be held).
    #[arg(long)]
    pub dry_run: bool,
    /// Continue the last unfinished campaign against this cluster at the node and step where
    /// it stopped (its nodes, target and soak come from the campaign journal).
    #[arg(long)]
    pub resume: bool,
    /// Write the report to PATH.md and PATH.json (default: in the state directory).
    #[arg(long, value_name = "PATH")]
    pub report: Option<PathBuf>,
    /// Put a PreferNoSchedule taint (kubedrain.io/queued) on the nodes waiting their turn, so
    /// evicted pods prefer other nodes; lifted from each node at its turn, and from all of them
    /// when the campaign ends or stops (`--taint-queued=false`: no taint).
    #[arg(
        long,
        value_name = "BOOL",
        default_value_t = true,
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true",
        action = clap::ArgAction::Set
    )]
    pub taint_queued: bool,
    /// Pause before each node's cordon (`node`) or each wave's pre-check (`wave`) until Enter
    /// is pressed; needs a terminal on stdin.
    #[arg(long, value_name = "node|wave", value_parser = ["node", "wave"])]
    pub hold: Option<String>,
    /// Demo only: run the campaign on the built-in simulator with this scenario, in-process,
    /// where each node's upgrade is simulated (the kubeconfig is not used).
    #[arg(long, hide = true, value_name = "SCENARIO")]
    pub simulate_upgrade: Option<String>,
    #[command(flatten)]
    pub flags: DrainFlags,
}
