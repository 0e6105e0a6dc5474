//! The `kubedrain` binary: parses the command line and dispatches.

use std::io::IsTerminal;

use clap::FromArgMatches;
use color_eyre::eyre::eyre;
use kubedrain::app::drain_flow::OptionsForm;
use kubedrain::app::flow_exec::FlowSetup;
use kubedrain::app::run::{RunOptions, run};
use kubedrain::cli::{Cli, Command, DemoArgs};
use kubedrain::cluster::client::{self, ConnectError, Connection};

/// mimalloc keeps freed memory for reuse instead of giving it back to the kernel at once,
/// and its small allocations are cheaper (why: `Cargo.toml`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let (cli, matches) = parse();
    let debug = cli.debug || std::env::var_os("RUST_BACKTRACE").is_some_and(|v| v != "0");
    let code = match install_hooks(debug).and_then(|()| run_main(cli, &matches)) {
        Ok(()) => 0,
        Err(e) => {
            report(&e, debug);
            1
        }
    };
    std::process::exit(code);
}

/// The command line; invoked as `kubectl-kubedrain` (a kubectl plugin on PATH), help and
/// errors say `kubectl kubedrain`.
fn parse() -> (Cli, clap::ArgMatches) {
    let plugin = std::env::args_os()
        .next()
        .and_then(|a| {
            std::path::Path::new(&a)
                .file_name()
                .map(|n| n.to_string_lossy().starts_with("kubectl-kubedrain"))
        })
        .unwrap_or(false);
    let mut cmd = kubedrain::cli::command();
    if plugin {
        cmd = cmd
            .bin_name("kubectl kubedrain")
            .display_name("kubectl kubedrain");
    }
    let matches = cmd.get_matches_mut();
    if let Some(why) = kubedrain::cli::misplaced(&matches) {
        // The subcommand's usage line under the error, as clap's own errors have.
        let sub = matches.subcommand_name().unwrap_or_default().to_string();
        let kind = clap::error::ErrorKind::ArgumentConflict;
        match cmd.find_subcommand_mut(&sub) {
            Some(target) => target.error(kind, why).exit(),
            None => cmd.error(kind, why).exit(),
        }
    }
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    (cli, matches)
}

/// color-eyre's report for `--debug`, and the panic hook that writes a crash log; without colours when stderr is not a
/// terminal.
fn install_hooks(debug: bool) -> color_eyre::Result<()> {
    use color_eyre::config::{HookBuilder, Theme};
    let mut hooks = HookBuilder::default().display_env_section(debug);
    if !std::io::stderr().is_terminal() {
        hooks = hooks.theme(Theme::new());
    }
    let (panic_hook, eyre_hook) = hooks.try_into_hooks()?;
    eyre_hook.install()?;
    // A panic: color-eyre's full report in a crash log, one line on stderr (see `crash`).
    let report =
        move |info: &std::panic::PanicHookInfo<'_>| panic_hook.panic_report(info).to_string();
    kubedrain::crash::install(Box::new(report), debug);
    Ok(())
}

/// A user's mistake is one line on stderr; `--debug` (or RUST_BACKTRACE) prints the whole
/// report.
fn report(e: &color_eyre::Report, debug: bool) {
    if debug {
        eprintln!("{e:?}");
        return;
    }
    let chain: Vec<String> = e.chain().map(|c| c.to_string()).collect();
    eprintln!("kubedrain: {}", chain.join(": "));
}

/// The TUI draws on a terminal: say so instead of failing inside raw mode.
fn need_terminal() -> color_eyre::Result<()> {
    if std::io::stdin().is_terminal() && std::io::stdout().is_terminal() {
        return Ok(());
    }
    Err(eyre!(
        "the TUI needs a terminal (stdin and stdout are not a TTY); for scripts use `kubedrain plan`, `drain`, `cordon`, `uncordon`, `versions` or `campaign`"
    ))
}

/// Writes generated text to stdout; a reader that stopped early (`| head`) is not an error.
fn print_out(bytes: &[u8]) -> color_eyre::Result<()> {
    use std::io::Write;
    match std::io::stdout().write_all(bytes) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        r => Ok(r?),
    }
}

/// `kubedrain info`: where kubedrain keeps its state and which cluster it would talk to
/// (read from the kubeconfig, no connection made).
fn info(cli: &Cli, settings: &kubedrain::commands::settings::Settings) -> color_eyre::Result<()> {
    use kubedrain::drain::journal::state_dir;
    let dir = state_dir();
    let log = match kubedrain::logging::path(cli.log_file.as_deref()) {
        Some(p) => p.display().to_string(),
        None => format!(
            "off (--log-file PATH, or {}=info for {})",
            kubedrain::logging::LEVEL_ENV,
            kubedrain::logging::default_path().display()
        ),
    };
    let files: Vec<std::path::PathBuf> = match &cli.kube.kubeconfig {
        Some(p) => std::env::split_paths(p).collect(),
        None => std::env::var_os("HOME")
            .map(|h| std::path::Path::new(&h).join(".kube/config"))
            .into_iter()
            .collect(),
    };
    let context = match &cli.kube.context {
        Some(c) => format!("{c} (--context)"),
        None => files
            .iter()
            .find_map(|f| kube::config::Kubeconfig::read_from(f).ok()?.current_context)
            .unwrap_or_else(|| "(none: no current-context)".into()),
    };
    let shown: Vec<String> = files
        .iter()
        .map(|f| {
            let missing = if f.exists() { "" } else { " (missing)" };
            format!("{}{missing}", f.display())
        })
        .collect();
    println!("state dir:  {}", dir.display());
    println!("journal:    {}", dir.join("journal.jsonl").display());
    println!("campaigns:  {}", dir.join("campaign.jsonl").display());
    println!("log file:   {log}");
    println!("kubeconfig: {}", shown.join(":"));
    println!("context:    {context}");
    let config = match &settings.path {
        Some(p) => p.display().to_string(),
        None => format!(
            "none (would be read from {})",
            kubedrain::config::path(None).0.display()
        ),
    };
    println!("config:     {config}");
    Ok(())
}

fn run_main(mut cli: Cli, matches: &clap::ArgMatches) -> color_eyre::Result<()> {
    kubedrain::logging::init(kubedrain::logging::path(cli.log_file.as_deref()).as_deref())
        .map_err(|e| eyre!("{e}"))?;
    let settings =
        kubedrain::commands::settings::load(cli.config.as_deref()).map_err(|e| eyre!("{e}"))?;
    if let (Some(Command::Drain(a)), Some(m)) =
        (&mut cli.command, matches.subcommand_matches("drain"))
    {
        // A flag given on the command line wins over the config.
        let given = |id: &str| {
            m.value_source(id)
                .is_some_and(|s| s != clap::parser::ValueSource::DefaultValue)
        };
        kubedrain::commands::settings::drain_flags(&mut a.flags, &settings.drain, given);
    }
    let drain_defaults = kubedrain::commands::settings::options_form(&settings.drain);
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        args = ?std::env::args().skip(1).collect::<Vec<_>>(),
        "kubedrain starting"
    );
    if let Some(Command::Info) = cli.command {
        return info(&cli, &settings);
    }
    if cli.no_journal {
        kubedrain::drain::journal::disable();
    } else if changes_nodes(&cli)
        && let Err(e) = kubedrain::drain::journal::Journal::open(Default::default()).prepare()
    {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let result = runtime.block_on(dispatch(cli, drain_defaults));
    // Shutting the runtime down here would wait for blocking tasks (the terminal reader).
    runtime.shutdown_background();
    if let Err(e) = &result
        && let Some(ce) = e.downcast_ref::<ConnectError>()
    {
        eprintln!("kubedrain: {ce}");
        std::process::exit(1);
    }
    result
}

/// Runs the command the line asks for (the TUI without one).
async fn dispatch(cli: Cli, drain_defaults: Option<OptionsForm>) -> color_eyre::Result<()> {
    match cli.command {
        None => tui(&cli, drain_defaults).await,
        Some(Command::Demo(args)) => demo(args, &cli.kube, cli.readonly, drain_defaults).await,
        Some(Command::Completions(a)) => {
            let mut out = Vec::new();
            clap_complete::generate(
                a.shell,
                &mut kubedrain::cli::command(),
                "kubedrain",
                &mut out,
            );
            print_out(&out)
        }
        Some(Command::Info) => Ok(()),
        Some(Command::Man) => {
            let mut out = Vec::new();
            clap_mangen::Man::new(kubedrain::cli::command()).render(&mut out)?;
            print_out(&out)
        }
        Some(Command::Sim(args)) => kubedrain::commands::sim::run(args).await,
        Some(Command::Campaign(args)) => std::process::exit(match &args.simulate_upgrade {
            Some(scenario) => {
                let scenario = scenario.clone();
                campaign_demo(&cli.kube, cli.readonly, args, scenario).await?
            }
            None => kubedrain::commands::campaign::run(&cli.kube, cli.readonly, args).await,
        }),
        Some(
            cmd
            @ (Command::Plan(_) | Command::Drain(_) | Command::Cordon(_) | Command::Uncordon(_)),
        ) => {
            std::process::exit(kubedrain::commands::drain::run(&cli.kube, cli.readonly, cmd).await)
        }
        Some(Command::Versions(args)) => std::process::exit(versions(&cli.kube, args).await),
    }
}

/// The TUI, once per context: `:ctx NAME` ends a session with the context to continue in.
async fn tui(cli: &Cli, drain_defaults: Option<OptionsForm>) -> color_eyre::Result<()> {
    need_terminal()?;
    let mut connect = cli.kube.connect();
    loop {
        // One Config, two clients: the watchers' (kube's retries) and the drain's
        // (none). Probe before the screen switches: every connection problem is
        // printed on a normal terminal, in plain words.
        let (config, context) = client::config_from_args(&connect).await?;
        let flow = drain_setup(&config, &context);
        let conn = client::probe(config, context).await?;
        let opts = RunOptions {
            namespace: cli.kube.namespace.clone(),
            readonly: cli.readonly,
            teach: cli.teach,
            contexts: context_names(&connect),
            drain_defaults: drain_defaults.clone(),
            flow,
            ..Default::default()
        };
        match run(conn, opts, kubedrain::ui::draw).await? {
            Some(next) => connect.context = Some(next),
            None => break Ok(()),
        }
    }
}

/// `kubedrain campaign --simulate-upgrade SCENARIO` (demo only): the built-in simulator
/// in-process, and the campaign on it with the simulator's upgrade to the target as the hook.
async fn campaign_demo(
    kube: &kubedrain::cli::KubeArgs,
    readonly: bool,
    args: kubedrain::cli::CampaignArgs,
    scenario: String,
) -> color_eyre::Result<i32> {
    let sim = kubedrain::sim::server::Simulator::start(kubedrain::sim::server::SimOptions {
        scenario,
        speed: 4.0,
        auth: Some(Default::default()),
        ..Default::default()
    })
    .await?;
    let hook = sim_upgrade_hook(sim.store().clone());
    let config = sim.kube_config().await?;
    let target = kubedrain::drain::journal::Target {
        context: "demo".into(),
        server: sim.url().to_string(),
    };
    let code = kubedrain::commands::campaign::run_with(
        kube,
        readonly,
        args,
        Some((config, target)),
        Some(hook),
    )
    .await;
    sim.stop().await;
    Ok(code)
}

/// The simulator's upgrade of a node to `target` (its kubelet version; `None`: the OS only),
/// for the demo's `U` key and campaigns.
fn sim_upgrade_hook(
    store: std::sync::Arc<kubedrain::sim::store::Store>,
) -> kubedrain::campaign::upgrade::UpgradeHook {
    use kubedrain::sim::controllers::{default_upgrade_target, start_upgrade};
    std::sync::Arc::new(move |node: &str, target: Option<&str>| {
        let mut t = default_upgrade_target(&store, node).map_err(|e| e.to_string())?;
        if let Some(v) = target {
            t.kubelet_version = v.to_string();
        }
        start_upgrade(&store, node, t).map_err(|e| e.to_string())
    })
}

/// `kubedrain demo`: the built-in simulator on loopback, and the TUI on it.
async fn demo(
    args: DemoArgs,
    kube: &kubedrain::cli::KubeArgs,
    readonly: bool,
    drain_defaults: Option<kubedrain::app::drain_flow::OptionsForm>,
) -> color_eyre::Result<()> {
    let namespace = kube.namespace.clone();
    let sim = kubedrain::sim::server::Simulator::start(kubedrain::sim::server::SimOptions {
        scenario: args.scenario.clone(),
        speed: args.speed,
        auth: Some(Default::default()),
        ..Default::default()
    })
    .await?;
    // The scenario loaded (a bad name is reported first); the screen needs a terminal.
    if let Err(e) = need_terminal() {
        sim.stop().await;
        return Err(e);
    }
    // A kubeconfig beside the demo, so a presenter can run kubectl against the same cluster:
    // 0600 in a private directory, removed on exit (the drop) and panic (unwinding). SIGHUP
    // quits the TUI like `q` (a drain is cancelled and journaled first), then the drop.
    let kc_file = sim.private_kubeconfig("kubeconfig")?;
    let kc = match &args.kubeconfig_out {
        Some(out) => {
            sim.write_kubeconfig(out)?;
            out.clone()
        }
        None => kc_file.path().to_path_buf(),
    };
    demo_state_dir(&args, kc_file.path());
    if !readonly {
        kubedrain::drain::journal::Journal::open(Default::default())
            .prepare()
            .map_err(|e| eyre!("{e}"))?;
    }
    // Before the screen opens (and left in the scrollback): how to join with kubectl.
    println!("export KUBECONFIG={}", kc.display());
    let mut config = sim.kube_config().await?;
    kubedrain::cluster::timeout::set(&mut config, kube.request_timeout());
    let flow = demo_flow(&sim, &config);
    let conn: Connection = client::probe(config, "demo".into()).await?;
    let result = run(
        conn,
        RunOptions {
            namespace,
            readonly,
            teach: args.teach,
            demo: Some(args.scenario),
            demo_kubeconfig: Some(kc.display().to_string()),
            flow,
            demo_clock: Some(sim.clock().clone()),
            drain_defaults,
            ..Default::default()
        },
        kubedrain::ui::draw,
    )
    .await;
    drop(kc_file);
    sim.stop().await;
    // The demo has no other context to switch to (`:ctx` says so).
    result.map(|_| ())
}

/// The demo's journals and reports stay out of the operator's: its own directory (`state`
/// in the private one beside the kubeconfig, removed with it), unless --state-dir or
/// KUBEDRAIN_STATE_DIR says where.
fn demo_state_dir(args: &DemoArgs, kubeconfig: &std::path::Path) {
    let explicit =
        std::env::var_os(kubedrain::drain::journal::STATE_DIR_ENV).filter(|v| !v.is_empty());
    match (&args.state_dir, explicit) {
        (Some(dir), _) => kubedrain::drain::journal::use_state_dir(dir.clone()),
        (None, Some(_)) => {}
        (None, None) => kubedrain::drain::journal::use_state_dir(
            kubeconfig
                .parent()
                .map(|d| d.join("state"))
                .unwrap_or_default(),
        ),
    }
}

/// The demo's drains: a client without kube-client's retries (PDB 429s reach the engine at
/// once), and `U` upgrading a node of the in-process simulator.
fn demo_flow(sim: &kubedrain::sim::server::Simulator, config: &kube::Config) -> FlowSetup {
    let upgrade: kubedrain::app::flow_exec::UpgradeFn = sim_upgrade_hook(sim.store().clone());
    FlowSetup {
        client: kubedrain::drain::client::client_without_retry(config.clone())
            .map_err(|e| format!("{e:#}")),
        target: kubedrain::drain::journal::Target {
            context: "demo".into(),
            server: sim.url().to_string(),
        },
        upgrade: Some(upgrade),
    }
}

/// Whether the command may change nodes (and so must be able to journal it first).
fn changes_nodes(cli: &Cli) -> bool {
    if cli.readonly {
        return false;
    }
    match &cli.command {
        None => true,
        Some(Command::Cordon(a)) => a.dry_run == "none",
        Some(Command::Uncordon(a)) => a.target.dry_run == "none",
        // The demo checks its own state directory once it knows where that is.
        Some(Command::Demo(_)) => false,
        Some(Command::Drain(a)) => a.target.dry_run == "none",
        Some(Command::Campaign(a)) => !a.dry_run,
        Some(
            Command::Sim(_)
            | Command::Plan(_)
            | Command::Versions(_)
            | Command::Completions(_)
            | Command::Man
            | Command::Info,
        ) => false,
    }
}

/// The drain client (no silent retries) and journal target, from the same `Config` as the
/// watchers' client. If it cannot be built the TUI says why and changes nothing: it never
/// drains with the watchers' retrying client.
/// The kubeconfig's context names, for `:ctx` (read before the screen opens; none if it
/// cannot be read, which the connection already reported).
fn context_names(connect: &kubedrain::cluster::client::ConnectArgs) -> Vec<String> {
    client::read_kubeconfig(connect.kubeconfig.as_deref())
        .map(|k| k.contexts.into_iter().map(|c| c.name).collect())
        .unwrap_or_default()
}

fn drain_setup(config: &kube::Config, context: &str) -> FlowSetup {
    use kubedrain::drain::client::{client_without_retry, journal_target};
    FlowSetup {
        client: client_without_retry(config.clone()).map_err(|e| format!("{e:#}")),
        target: journal_target(config, context),
        upgrade: None,
    }
}

/// `kubedrain versions`: the skew matrix (and the way to `--target`); returns the exit code.
async fn versions(kube: &kubedrain::cli::KubeArgs, args: kubedrain::cli::VersionsArgs) -> i32 {
    let client = kubedrain::drain::client::load_config(&kube.connect())
        .await
        .and_then(|(config, _)| kubedrain::drain::client::client_without_retry(config));
    match client {
        Ok(c) => {
            let opts = kubedrain::campaign::command::VersionsOptions {
                target: args.target,
                json: args.output == "json",
            };
            kubedrain::campaign::command::run(c, opts).await
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            1
        }
    }
}
