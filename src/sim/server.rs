//! Starting and stopping a simulator: the library API the rest of the crate and tests use.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use color_eyre::Result;
use color_eyre::eyre::{WrapErr, eyre};

use super::api::faults::Faults;
use super::api::stats::Stats;
use super::api::{ApiState, router};
use super::clock::SimClock;
use super::controllers::{self, Controllers};
use super::scenario;
use super::store::Store;

/// The scenario name that starts an empty cluster (tests fill the store themselves).
pub const EMPTY_SCENARIO: &str = "empty";

/// How to start a simulator.
#[derive(Debug, Clone)]
pub struct SimOptions {
    /// Built-in scenario name or path to a YAML file.
    pub scenario: String,
    /// Where to listen; port 0 picks an ephemeral port.
    pub listen: SocketAddr,
    /// Simulated time speed (1.0 = real time).
    pub speed: f64,
    /// How often watches that allow bookmarks get one.
    pub bookmark_interval: Duration,
    /// Changes kept for watches to resume from (older ones get 410 Gone).
    pub history: usize,
    /// Requests kept in the request log.
    pub request_log: usize,
    /// Start the controllers (scheduler, kubelet, ...); off gives a static cluster.
    pub controllers: bool,
    /// Instead of `scenario`: a generated cluster of this many worker nodes.
    pub generated: Option<(usize, usize)>,
}

impl Default for SimOptions {
    fn default() -> Self {
        Self {
            scenario: "seed".into(),
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            speed: 1.0,
            bookmark_interval: Duration::from_secs(5),
            history: 200_000,
            request_log: 100_000,
            controllers: true,
            generated: None,
        }
    }
}

/// A running simulator. Dropping it stops the server and the controllers.
pub struct Simulator {
    store: Arc<Store>,
    clock: Arc<SimClock>,
    addr: SocketAddr,
    faults: Arc<Faults>,
    stats: Arc<Stats>,
    shutdown: tokio::sync::watch::Sender<bool>,
    server: Mutex<Option<tokio::task::JoinHandle<()>>>,
    controllers: Mutex<Option<Controllers>>,
    scenario: String,
}

impl Simulator {
    /// Loads the scenario, starts the controllers and serves the API.
    pub async fn start(opts: SimOptions) -> Result<Simulator> {
        let clock = Arc::new(SimClock::new(opts.speed));
        let store = Store::new(clock.clone(), opts.history);
        let (scenario_name, git_version) =
            if opts.scenario == EMPTY_SCENARIO && opts.generated.is_none() {
                (EMPTY_SCENARIO.to_string(), "v1.25.4".to_string())
            } else {
                let scn = match opts.generated {
                    Some((nodes, per_node)) => scenario::generated(nodes, per_node),
                    None => scenario::load(&opts.scenario)?,
                };
                scn.populate(&store)?;
                (scn.name.clone(), scn.server_version.clone())
            };
        let listener = tokio::net::TcpListener::bind(opts.listen)
            .await
            .wrap_err_with(|| format!("cannot listen on {}", opts.listen))?;
        let addr = listener.local_addr()?;
        let faults = Arc::new(Faults::default());
        let stats = Arc::new(Stats::new(opts.request_log));
        let (shutdown, shutdown_rx) = tokio::sync::watch::channel(false);
        let state = Arc::new(ApiState {
            store: store.clone(),
            faults: faults.clone(),
            stats: stats.clone(),
            git_version,
            server_address: addr.to_string(),
            bookmark_interval: opts.bookmark_interval,
            shutdown: shutdown_rx.clone(),
            pages: Mutex::default(),
        });
        let app = router(state);
        let mut sd = shutdown_rx;
        let server = tokio::spawn(async move {
            let graceful = async move {
                let _ = sd.wait_for(|v| *v).await;
            };
            if let Err(e) = axum::serve(listener, app)
                .with_graceful_shutdown(graceful)
                .await
            {
                tracing::error!("simulator server failed: {e}");
            }
        });
        let controllers = opts.controllers.then(|| controllers::spawn(store.clone()));
        Ok(Simulator {
            store,
            clock,
            addr,
            faults,
            stats,
            shutdown,
            server: Mutex::new(Some(server)),
            controllers: Mutex::new(controllers),
            scenario: scenario_name,
        })
    }

    /// The object store.
    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// The simulated clock (speed control).
    pub fn clock(&self) -> &Arc<SimClock> {
        &self.clock
    }

    /// Fault injection.
    pub fn faults(&self) -> &Arc<Faults> {
        &self.faults
    }

    /// Request counters and log.
    pub fn stats(&self) -> &Arc<Stats> {
        &self.stats
    }

    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The scenario's name.
    pub fn scenario(&self) -> &str {
        &self.scenario
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A kubeconfig for the simulator (cluster and context `kubedrain-sim`, user `kubedrain`).
    pub fn kubeconfig_yaml(&self) -> String {
        format!(
            "apiVersion: v1
kind: Config
clusters:
- name: kubedrain-sim
  cluster:
    server: {url}
contexts:
- name: kubedrain-sim
  context:
    cluster: kubedrain-sim
    user: kubedrain
    namespace: default
current-context: kubedrain-sim
users:
- name: kubedrain
  user:
    token: kubedrain-sim-token
preferences: {{}}
",
            url = self.url()
        )
    }

    /// Writes [`Simulator::kubeconfig_yaml`] to `path` (creating parent directories).
    pub fn write_kubeconfig(&self, path: &Path) -> Result<()> {
        super::kubeconfig_file::replace_private(path, &self.kubeconfig_yaml())
    }

    /// Writes the kubeconfig 0600 in a new private directory; removed when the result drops.
    pub fn private_kubeconfig(&self, name: &str) -> Result<super::kubeconfig_file::KubeconfigFile> {
        super::kubeconfig_file::KubeconfigFile::private(name, &self.kubeconfig_yaml())
    }

    /// A kube client for the simulator, built from its kubeconfig.
    pub async fn client(&self) -> Result<kube::Client> {
        let kc = kube::config::Kubeconfig::from_yaml(&self.kubeconfig_yaml())?;
        let config =
            kube::Config::from_custom_kubeconfig(kc, &kube::config::KubeConfigOptions::default())
                .await?;
        Ok(kube::Client::try_from(config)?)
    }

    /// Waits until the controllers have indexed the store (see `Controllers::wait_ready`);
    /// true at once without controllers.
    pub fn wait_controllers_ready(&self, timeout: Duration) -> bool {
        self.controllers
            .lock()
            .unwrap()
            .as_ref()
            .is_none_or(|c| c.wait_ready(timeout))
    }

    /// Like `stop`, and also waits until the controllers' thread has ended and freed its
    /// index, so that a benchmark's next run does not share the CPU with that teardown.
    pub async fn stop_and_wait(&self) {
        let controllers = self.controllers.lock().unwrap().take();
        self.stop().await;
        if let Some(c) = controllers {
            let _ = tokio::task::spawn_blocking(move || c.stop_and_join()).await;
        }
    }

    /// Stops the controllers and the server; open watches end.
    pub async fn stop(&self) {
        self.controllers.lock().unwrap().take();
        let _ = self.shutdown.send(true);
        let server = self.server.lock().unwrap().take();
        if let Some(s) = server
            && tokio::time::timeout(Duration::from_secs(5), s)
                .await
                .is_err()
        {
            tracing::warn!("simulator server did not stop within 5s");
        }
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
        if let Some(s) = self.server.lock().unwrap().take() {
            s.abort();
        }
    }
}

/// Ctrl-C, SIGTERM and SIGHUP (so `kill` and a closed terminal also clean up the
/// kubeconfig), listened for from before the kubeconfig is written.
struct StopSignals {
    int: tokio::signal::unix::Signal,
    term: tokio::signal::unix::Signal,
    hup: tokio::signal::unix::Signal,
}

impl StopSignals {
    fn listen() -> Result<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(StopSignals {
            int: signal(SignalKind::interrupt())?,
            term: signal(SignalKind::terminate())?,
            hup: signal(SignalKind::hangup())?,
        })
    }

    async fn wait(&mut self) {
        tokio::select! {
            _ = self.int.recv() => {}
            _ = self.term.recv() => {}
            _ = self.hup.recv() => {}
        }
    }
}

/// `kubedrain sim`: runs until Ctrl-C.
pub async fn run_cli(args: crate::cli::SimArgs) -> Result<()> {
    if !args.listen.ip().is_loopback() {
        eprintln!(
            "WARNING: listening on {} (not loopback): the simulator has no authentication; anyone who can reach it can change it",
            args.listen
        );
    }
    if !(args.speed > 0.0 && args.speed.is_finite()) {
        return Err(eyre!(
            "--speed must be a positive number, got {}",
            args.speed
        ));
    }
    let opts = SimOptions {
        scenario: args.scenario.clone(),
        listen: args.listen,
        speed: args.speed,
        generated: args.nodes.map(|n| (n, args.pods_per_node)),
        ..SimOptions::default()
    };
    let mut stop = StopSignals::listen()?;
    let sim = Simulator::start(opts).await?;
    // Ours (private, removed on exit), unless the user chose where it goes.
    let private = match &args.kubeconfig_out {
        Some(p) => {
            sim.write_kubeconfig(p)?;
            None
        }
        None => Some(sim.private_kubeconfig("kubeconfig")?),
    };
    let path = match &private {
        Some(f) => f.path().to_path_buf(),
        None => args.kubeconfig_out.clone().unwrap_or_default(),
    };
    println!(
        "kubedrain simulator ({}) listening on {}",
        sim.scenario(),
        sim.url()
    );
    println!("export KUBECONFIG={}", path.display());
    let _churn = args.churn.map(|rate| {
        let targets = sim.store().keys(super::Kind::Pod);
        println!("churn: {rate} pod changes per second");
        super::churn::Churn::start(sim.store().clone(), targets, rate, None, 100_000)
    });
    stop.wait().await;
    eprintln!("stopping the simulator");
    sim.stop().await;
    drop(private);
    Ok(())
}
