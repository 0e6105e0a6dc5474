//! Starting and stopping a simulator: the library API the rest of the crate and tests use.

use std::net::SocketAddr;
use std::sync::Arc;

use color_eyre::Result;

use super::store::Store;

/// How to start a simulator.
#[derive(Debug, Clone)]
pub struct SimOptions {
    /// Built-in scenario name or path to a YAML file.
    pub scenario: String,
    /// Where to listen; port 0 picks an ephemeral port.
    pub listen: SocketAddr,
    /// Simulated time speed (1.0 = real time).
    pub speed: f64,
}

impl Default for SimOptions {
    fn default() -> Self {
        Self {
            scenario: "seed".into(),
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            speed: 1.0,
        }
    }
}

/// A running simulator.
pub struct Simulator {
    store: Arc<Store>,
    addr: SocketAddr,
}

impl Simulator {
    /// Starts a simulator.
    pub async fn start(opts: SimOptions) -> Result<Simulator> {
        let _ = opts;
        color_eyre::eyre::bail!("not implemented yet")
    }

    /// The object store.
    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

/// `kubedrain sim`: runs until Ctrl-C.
pub async fn run_cli(args: crate::cli::SimArgs) -> Result<()> {
    let _ = args;
    color_eyre::eyre::bail!("not implemented yet")
}
