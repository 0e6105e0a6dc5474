//! Scenarios: YAML descriptions of a starting cluster (assets/scenarios), and generated ones.

use color_eyre::Result;

use super::store::Store;

/// A cluster to start the simulator with.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Scenario name (file stem for files).
    pub name: String,
    /// The API server's gitVersion, e.g. `v1.25.4`.
    pub server_version: String,
}

/// Loads a built-in scenario by name, or a YAML file by path.
pub fn load(name_or_path: &str) -> Result<Scenario> {
    Ok(Scenario {
        name: name_or_path.to_string(),
        server_version: "v1.25.4".into(),
    })
}

impl Scenario {
    /// Creates the scenario's objects in `store`.
    pub fn populate(&self, store: &Store) -> Result<()> {
        let _ = store;
        Ok(())
    }
}

/// A generated large cluster (stub until the scenarios land).
pub fn generated(nodes: usize, pods_per_node: usize) -> Scenario {
    Scenario {
        name: format!("generated-{nodes}x{pods_per_node}"),
        server_version: "v1.25.4".into(),
    }
}
