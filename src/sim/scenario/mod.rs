//! Scenarios: YAML descriptions of a starting cluster (`assets/scenarios/*.yaml`, embedded in
//! the binary; format in `assets/scenarios/README.md`), or generated large clusters.

mod build;
pub mod format;
pub mod objects;

use std::path::Path;

use color_eyre::Result;
use color_eyre::eyre::{WrapErr, eyre};

use super::store::Store;
pub use format::ScenarioFile;

/// The built-in scenarios, by name.
pub const BUILTIN: [(&str, &str); 5] = [
    ("seed", include_str!("../../../assets/scenarios/seed.yaml")),
    (
        "pdb-blocked",
        include_str!("../../../assets/scenarios/pdb-blocked.yaml"),
    ),
    (
        "no-room",
        include_str!("../../../assets/scenarios/no-room.yaml"),
    ),
    (
        "mixed",
        include_str!("../../../assets/scenarios/mixed.yaml"),
    ),
    (
        "upgrade",
        include_str!("../../../assets/scenarios/upgrade.yaml"),
    ),
];

/// Where a scenario's objects come from.
#[derive(Debug, Clone)]
pub enum Source {
    /// A parsed YAML file.
    File(Box<ScenarioFile>),
    /// A generated large cluster.
    Generated { nodes: usize, pods_per_node: usize },
}

/// A cluster to start the simulator with.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Scenario name (file stem for files).
    pub name: String,
    /// The API server's gitVersion, e.g. `v1.25.4`.
    pub server_version: String,
    /// Suggested simulated time speed (1.0 = real time).
    pub speed: f64,
    /// One-line description.
    pub description: String,
    /// What to populate.
    pub source: Source,
}

/// Loads a built-in scenario by name (`seed`, `pdb-blocked`, `no-room`, `mixed`,
/// `generated:NODESxPODS`), or a YAML file by path.
pub fn load(name_or_path: &str) -> Result<Scenario> {
    if let Some((_, text)) = BUILTIN.iter().find(|(n, _)| *n == name_or_path) {
        return parse(
            name_or_path,
            &format!("assets/scenarios/{name_or_path}.yaml"),
            text,
        );
    }
    if let Some(size) = name_or_path.strip_prefix("generated") {
        let size = size.trim_start_matches(':');
        let (n, p) = if size.is_empty() {
            (5000, 30)
        } else {
            let (n, p) = size
                .split_once('x')
                .ok_or_else(|| eyre!("generated scenario size must look like generated:5000x30"))?;
            (n.parse()?, p.parse()?)
        };
        return Ok(generated(n, p));
    }
    let path = Path::new(name_or_path);
    if !path.exists() {
        let names: Vec<&str> = BUILTIN.iter().map(|(n, _)| *n).collect();
        return Err(eyre!(
            "no scenario {name_or_path:?}: not a built-in ({}, generated:NODESxPODS) and no such file",
            names.join(", ")
        ));
    }
    let text = std::fs::read_to_string(path)
        .wrap_err_with(|| format!("reading scenario {}", path.display()))?;
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("scenario");
    parse(stem, &path.display().to_string(), &text)
}

/// What is wrong with a scenario the parser refused: the field's path and the problem
/// (`nodes[0]: unknown field ...`), found by reading the same YAML as a tree through
/// serde_path_to_error; the parser's own words when the tree reads fine (a syntax error).
fn why_not(text: &str, e: &serde_saphyr::Error) -> String {
    let by_path = serde_saphyr::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|tree| serde_path_to_error::deserialize::<_, ScenarioFile>(tree).err())
        .map(|pe| match pe.path().to_string().as_str() {
            "." => pe.inner().to_string(),
            path => format!("{path}: {}", pe.inner()),
        });
    by_path.unwrap_or_else(|| {
        // Without its `error:` prefix, its copy of the location and its drawing of the spot.
        let plain = e.without_snippet().to_string();
        let msg = plain.trim().strip_prefix("error: ").unwrap_or(plain.trim());
        let msg = match e.location() {
            Some(l) => {
                let lead = format!("line {} column {}: ", l.line(), l.column());
                let tail = format!(" at line {}, column {}", l.line(), l.column());
                let msg = msg.strip_prefix(&lead).unwrap_or(msg);
                msg.strip_suffix(&tail).unwrap_or(msg)
            }
            None => msg,
        };
        msg.to_string()
    })
}

/// Parses scenario YAML; errors name the file, line, column and field.
pub fn parse(name: &str, file: &str, text: &str) -> Result<Scenario> {
    let f: ScenarioFile = serde_saphyr::from_str(text).map_err(|e| {
        let at = e
            .location()
            .map(|l| format!(":{}:{}", l.line(), l.column()))
            .unwrap_or_default();
        eyre!("{file}{at}: {}", why_not(text, &e))
    })?;
    f.validate().map_err(|m| eyre!("{file}: {m}"))?;
    Ok(Scenario {
        name: name.to_string(),
        server_version: f.server_version.clone(),
        speed: f.speed,
        description: f.description.clone(),
        source: Source::File(Box::new(f)),
    })
}

/// A large generated cluster: `nodes` workers with `pods_per_node` pods each, plus one node
/// packed with 110 pods (see [`crate::sim::generate`]).
pub fn generated(nodes: usize, pods_per_node: usize) -> Scenario {
    Scenario {
        name: format!("generated-{nodes}x{pods_per_node}"),
        // A release that streams lists by default (WatchList), as current clusters do.
        server_version: "v1.32.5".into(),
        speed: 1.0,
        description: format!("{nodes} nodes × {pods_per_node} pods, generated"),
        source: Source::Generated {
            nodes,
            pods_per_node,
        },
    }
}

impl Scenario {
    /// Creates the scenario's objects in `store`: nodes, namespaces, workloads and their pods
    /// already placed and Running (as if the cluster had been up for a while), PDBs with status.
    pub fn populate(&self, store: &Store) -> Result<()> {
        match &self.source {
            Source::File(f) => build::populate(f, store),
            Source::Generated {
                nodes,
                pods_per_node,
            } => {
                super::generate::populate(store, *nodes, *pods_per_node);
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_parse() {
        for (name, _) in BUILTIN {
            let s = load(name).unwrap();
            assert!(s.server_version.starts_with('v'), "{name}");
        }
        assert!(matches!(
            load("generated:3x2").unwrap().source,
            Source::Generated {
                nodes: 3,
                pods_per_node: 2
            }
        ));
    }

    #[test]
    fn errors_name_file_line_and_field() {
        let yaml = "serverVersion: v1.25.4\nnodes:\n  - name: n0\n    cpuz: 4\n";
        let err = parse("x", "bad.yaml", yaml).unwrap_err().to_string();
        assert!(err.starts_with("bad.yaml:4:"), "{err}");
        assert!(err.contains("nodes[0].cpuz: unknown field `cpuz`"), "{err}");
        // A syntax error: the parser's words, once, without its drawing of the spot.
        let err = parse("x", "bad.yaml", "nodes: [\n")
            .unwrap_err()
            .to_string();
        assert_eq!(err, "bad.yaml:1:8: unclosed bracket '['");
        let yaml =
            "serverVersion: v1.25.4\nnodes:\n  - name: n0\n    capacity: {cpu: 4, pods: many}\n";
        let err = parse("x", "bad.yaml", yaml).unwrap_err().to_string();
        assert!(err.starts_with("bad.yaml:4:"), "{err}");
        let yaml = "nodes: []\ndeployments:\n  - name: d\n    nodes: [nowhere]\n    containers: [{name: c, image: i}]\n";
        let err = parse("x", "bad.yaml", yaml).unwrap_err().to_string();
        assert!(err.contains("nowhere"), "{err}");
    }

    #[test]
    fn file_paths_load() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("mine.yaml");
        std::fs::write(&p, "nodes:\n  - name: n0\n").unwrap();
        let s = load(p.to_str().unwrap()).unwrap();
        assert_eq!(s.name, "mine");
        std::fs::write(&p, "nodes:\n  - name: n0\n    ready: maybe\n").unwrap();
        let err = load(p.to_str().unwrap()).unwrap_err().to_string();
        assert!(err.contains("mine.yaml:3:"), "{err}");
    }
}
