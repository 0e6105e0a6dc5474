//! The `kubedrain` binary: parses the command line and dispatches.

use clap::Parser;
use kubedrain::app::flow_exec::FlowSetup;
use kubedrain::app::run::{RunOptions, run};
use kubedrain::cli::{Cli, Command, DemoArgs};
use kubedrain::cluster::client::{self, ConnectError, Connection};

fn main() -> color_eyre::Result<()> {
    color_eyre::install()?;
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let result = runtime.block_on(async move {
        match cli.command {
            None => {
                // One Config, two clients: the watchers' (kube's retries) and the drain's
                // (none). Probe before the screen switches: every connection problem is
                // printed on a normal terminal, in plain words.
                let (config, context) = client::config_from_args(&cli.kube).await?;
                let flow = drain_setup(&config, &context);
                let conn = client::probe(config, context).await?;
                let opts = RunOptions {
                    namespace: cli.kube.namespace.clone(),
                    readonly: cli.readonly,
                    flow,
                    ..Default::default()
                };
                run(conn, opts).await
            }
            Some(Command::Demo(args)) => demo(args, cli.kube.namespace, cli.readonly).await,
            Some(Command::Sim(args)) => kubedrain::sim::server::run_cli(args).await,
            Some(Command::Campaign(args)) => std::process::exit(match &args.simulate_upgrade {
                Some(scenario) => {
                    let scenario = scenario.clone();
                    campaign_demo(&cli.kube, cli.readonly, args, scenario).await?
                }
                None => kubedrain::campaign::commands::run(&cli.kube, cli.readonly, args).await,
            }),
            Some(
                cmd @ (Command::Plan(_)
                | Command::Drain(_)
                | Command::Cordon(_)
                | Command::Uncordon(_)),
            ) => std::process::exit(
                kubedrain::drain::commands::run(&cli.kube, cli.readonly, cmd).await,
            ),
            Some(Command::Versions(args)) => std::process::exit(versions(&cli.kube, args).await),
        }
    });
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
        ..Default::default()
    })
    .await?;
    let hook = sim_upgrade_hook(sim.store().clone());
    let config = kube::Config::new(sim.url().parse::<http::Uri>()?);
    let target = kubedrain::drain::journal::Target {
        context: "demo".into(),
        server: sim.url().to_string(),
    };
    let code = kubedrain::campaign::commands::run_with(
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
async fn demo(args: DemoArgs, namespace: Option<String>, readonly: bool) -> color_eyre::Result<()> {
    let sim = kubedrain::sim::server::Simulator::start(kubedrain::sim::server::SimOptions {
        scenario: args.scenario.clone(),
        speed: args.speed,
        ..Default::default()
    })
    .await?;
    // A kubeconfig beside the demo, so a presenter can run kubectl against the same cluster.
    let kc = std::env::temp_dir().join(format!("kubedrain-demo-{}.kubeconfig", std::process::id()));
    sim.write_kubeconfig(&kc)?;
    let url: http::Uri = sim.url().parse()?;
    let config = kube::Config::new(url);
    // Drains use a client without kube-client's retries (PDB 429s reach the engine at once);
    // `U` upgrades a node of the in-process simulator.
    let store = sim.store().clone();
    let upgrade: kubedrain::app::flow_exec::UpgradeFn = sim_upgrade_hook(store);
    let flow = FlowSetup {
        client: kubedrain::drain::client::client_without_retry(config.clone())
            .map_err(|e| format!("{e:#}")),
        target: kubedrain::drain::journal::Target {
            context: "demo".into(),
            server: sim.url().to_string(),
        },
        upgrade: Some(upgrade),
    };
    let conn: Connection = client::probe(config, "demo".into()).await?;
    let result = run(
        conn,
        RunOptions {
            namespace,
            readonly,
            demo: Some(args.scenario),
            demo_kubeconfig: Some(kc.display().to_string()),
            flow,
        },
    )
    .await;
    let _ = std::fs::remove_file(&kc);
    sim.stop().await;
    result
}

/// The drain client (no silent retries) and journal target, from the same `Config` as the
/// watchers' client. If it cannot be built the TUI says why and changes nothing: it never
/// drains with the watchers' retrying client.
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
    let client = kubedrain::drain::client::load_config(kube)
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
