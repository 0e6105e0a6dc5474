//! Controllers that make the simulated cluster behave like a real one.

use std::sync::Arc;

use super::store::Store;

/// The running controllers; dropping this stops them.
pub struct Controllers {
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for Controllers {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// Starts every controller against `store`.
pub fn spawn(store: Arc<Store>) -> Controllers {
    let _ = store;
    Controllers { tasks: Vec::new() }
}
