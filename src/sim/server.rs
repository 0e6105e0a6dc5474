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
use super::auth::{Auth, AuthOptions, SimUser, new_token};
use super::clock::SimClock;
use super::controllers::{self, Controllers};
use super::scenario;
use super::store::Store;
use super::tls::SimTls;

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
    /// A watch without `timeoutSeconds` is closed after a random time between this and twice
    /// it, as the apiserver's `--min-request-timeout` (1800 s) does: clients must re-watch.
    pub min_request_timeout: Duration,
    /// Changes kept for watches to resume from (older ones get 410 Gone).
    pub history: usize,
    /// Requests kept in the request log.
    pub request_log: usize,
    /// Start the controllers (scheduler, kubelet, ...); off gives a static cluster.
    pub controllers: bool,
    /// Instead of `scenario`: a generated cluster of this many worker nodes.
    pub generated: Option<(usize, usize)>,
    /// Bearer-token authentication and RBAC; `None` serves every request as an
    /// administrator (the library's tests), `kubedrain sim` and `demo` turn it on.
    pub auth: Option<AuthOptions>,
}

impl Default for SimOptions {
    fn default() -> Self {
        Self {
            scenario: "seed".into(),
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            speed: 1.0,
            bookmark_interval: Duration::from_secs(5),
            min_request_timeout: Duration::from_secs(1800),
            history: 200_000,
            request_log: 100_000,
            controllers: true,
            generated: None,
            auth: None,
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
    /// The administrator's bearer token (in the written kubeconfig).
    admin_token: String,
    /// The other users, for per-user kubeconfig contexts.
    users: Vec<SimUser>,
    /// The CA that signed the serving certificate, when serving HTTPS.
    ca_pem: Option<String>,
}

/// Plain HTTP (the library's tests, `--plain-http`).
async fn serve_plain(
    listener: tokio::net::TcpListener,
    app: axum::Router,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    let graceful = async move {
        let _ = shutdown.wait_for(|v| *v).await;
    };
    // As Go's net/http (the API server's): no Nagle delay. Without it, a streamed list's last
    // small chunk waited for the client's delayed ACK, ~40 ms on every page.
    use axum::serve::ListenerExt;
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::warn!("simulator TCP_NODELAY: {e}");
        }
    });
    if let Err(e) = axum::serve(listener, app)
        .with_graceful_shutdown(graceful)
        .await
    {
        tracing::error!("simulator server failed: {e}");
    }
}

/// HTTPS: each connection's TLS handshake, then HTTP/1.1 (with upgrades) into the router;
/// on shutdown, connections finish their requests and close.
async fn serve_tls(
    listener: tokio::net::TcpListener,
    app: axum::Router,
    acceptor: tokio_rustls::TlsAcceptor,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        let stopping = shutdown.wait_for(|v| *v);
        let tcp = tokio::select! {
            _ = stopping => return,
            accepted = listener.accept() => match accepted {
                Ok((tcp, _)) => {
                    // No Nagle delay, as in `serve_plain`.
                    if let Err(e) = tcp.set_nodelay(true) {
                        tracing::warn!("simulator TCP_NODELAY: {e}");
                    }
                    tcp
                }
                Err(e) => {
                    tracing::warn!("simulator accept failed: {e}");
                    continue;
                }
            },
        };
        let (acceptor, app, mut shutdown) = (acceptor.clone(), app.clone(), shutdown.clone());
        tokio::spawn(async move {
            let Ok(stream) = acceptor.accept(tcp).await else {
                return; // a failed handshake (e.g. a client that does not trust the CA)
            };
            let service = hyper_util::service::TowerToHyperService::new(app);
            let conn = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                .with_upgrades();
            tokio::pin!(conn);
            let stopping = async move {
                let _ = shutdown.wait_for(|v| *v).await;
            };
            tokio::select! {
                _ = conn.as_mut() => {}
                _ = stopping => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
        });
    }
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
        let admin_token = if opts.auth.is_some() {
            new_token()
        } else {
            "kubedrain-sim-token".to_string()
        };
        let auth = match &opts.auth {
            Some(a) => Some(Arc::new(
                Auth::new(&admin_token, a).map_err(|e| eyre!("RBAC objects: {e}"))?,
            )),
            None => None,
        };
        let users = opts
            .auth
            .as_ref()
            .map(|a| a.users.clone())
            .unwrap_or_default();
        let state = Arc::new(ApiState {
            store: store.clone(),
            faults: faults.clone(),
            stats: stats.clone(),
            git_version,
            server_address: addr.to_string(),
            bookmark_interval: opts.bookmark_interval,
            min_request_timeout: opts.min_request_timeout,
            shutdown: shutdown_rx.clone(),
            pages: Mutex::default(),
            auth,
        });
        let app = router(state);
        // With authentication, HTTPS: kubectl sends tokens only over TLS.
        let tls = match opts.auth {
            Some(_) => Some(SimTls::generate(addr.ip())?),
            None => None,
        };
        let ca_pem = tls.as_ref().map(|t| t.ca_pem.clone());
        controllers::bootstrap::system_objects(&store, addr, ca_pem.as_deref())?;
        let server = match tls {
            Some(tls) => tokio::spawn(serve_tls(listener, app, tls.acceptor, shutdown_rx)),
            None => tokio::spawn(serve_plain(listener, app, shutdown_rx)),
        };
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
            admin_token,
            users,
            ca_pem,
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

    /// `https://127.0.0.1:PORT` (with authentication) or `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        let scheme = if self.ca_pem.is_some() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://{}", self.addr)
    }

    /// The CA certificate (PEM) clients must trust, when serving HTTPS.
    pub fn ca_pem(&self) -> Option<&str> {
        self.ca_pem.as_deref()
    }

    /// A kubeconfig for the simulator (cluster and context `kubedrain-sim`, user `kubedrain`,
    /// the administrator), with a context `kubedrain-sim-NAME` for every other user.
    pub fn kubeconfig_yaml(&self) -> String {
        let mut yaml = self.kubeconfig_as(None);
        for u in &self.users {
            yaml.push_str(&format!(
                "- name: {name}\n  user:\n    token: {token}\n",
                name = u.name,
                token = u.token
            ));
        }
        let contexts: String = self
            .users
            .iter()
            .map(|u| {
                format!(
                    "- name: kubedrain-sim-{n}\n  context:\n    cluster: kubedrain-sim\n    user: {n}\n    namespace: default\n",
                    n = u.name
                )
            })
            .collect();
        yaml.replacen(
            "current-context:",
            &format!("{contexts}current-context:"),
            1,
        )
    }

    /// A kubeconfig whose only user is `user` (the administrator for `None`).
    pub fn kubeconfig_as(&self, user: Option<&str>) -> String {
        let token = match user {
            None => self.admin_token.as_str(),
            Some(name) => self
                .users
                .iter()
                .find(|u| u.name == name)
                .map_or("unknown-user", |u| u.token.as_str()),
        };
        let ca = match &self.ca_pem {
            Some(pem) => {
                use base64::Engine;
                let data = base64::engine::general_purpose::STANDARD.encode(pem);
                format!("\n    certificate-authority-data: {data}")
            }
            None => String::new(),
        };
        format!(
            "apiVersion: v1
kind: Config
clusters:
- name: kubedrain-sim
  cluster:
    server: {url}{ca}
contexts:
- name: kubedrain-sim
  context:
    cluster: kubedrain-sim
    user: kubedrain
    namespace: default
current-context: kubedrain-sim
preferences: {{}}
users:
- name: kubedrain
  user:
    token: {token}
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
        Ok(kube::Client::try_from(self.kube_config().await?)?)
    }

    /// The client configuration of the administrator's kubeconfig context.
    pub async fn kube_config(&self) -> Result<kube::Config> {
        let kc = kube::config::Kubeconfig::from_yaml(&self.kubeconfig_as(None))?;
        Ok(
            kube::Config::from_custom_kubeconfig(kc, &kube::config::KubeConfigOptions::default())
                .await?,
        )
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

    /// Waits until the controllers' first pass has ended (see `Controllers::wait_settled`);
    /// true at once without controllers.
    pub fn wait_controllers_settled(&self, timeout: Duration) -> bool {
        self.controllers
            .lock()
            .unwrap()
            .as_ref()
            .is_none_or(|c| c.wait_settled(timeout))
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
