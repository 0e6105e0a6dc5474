//! Logs go to a file, never to the screen (the TUI owns the terminal): `--log-file PATH`, or
//! `<state dir>/kubedrain.log` when `KUBEDRAIN_LOG` sets a level; off otherwise.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use tracing_subscriber::EnvFilter;

use crate::drain::journal::state_dir;

/// The level (a tracing filter such as `info` or `kubedrain=debug,kube=info`).
pub const LEVEL_ENV: &str = "KUBEDRAIN_LOG";

/// Why logging could not start.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// `KUBEDRAIN_LOG` is not a tracing filter.
    #[error("{LEVEL_ENV}={spec:?} is not a log filter: {source}")]
    Filter {
        spec: String,
        source: tracing_subscriber::filter::ParseError,
    },
    /// The log file's folder cannot be made.
    #[error("cannot create {}: {source}", dir.display())]
    Dir {
        dir: PathBuf,
        source: std::io::Error,
    },
    /// The log file cannot be opened for appending.
    #[error("cannot open the log file {}: {source}", path.display())]
    Open {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A logger is already set.
    #[error("cannot start logging: {0}")]
    Start(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// The log file when `KUBEDRAIN_LOG` is set and `--log-file` is not.
pub fn default_path() -> PathBuf {
    state_dir().join("kubedrain.log")
}

/// Where logs go (`None`: nowhere).
pub fn path(flag: Option<&Path>) -> Option<PathBuf> {
    match flag {
        Some(p) => Some(p.to_path_buf()),
        None => std::env::var_os(LEVEL_ENV)
            .filter(|v| !v.is_empty())
            .map(|_| default_path()),
    }
}

/// The filter `KUBEDRAIN_LOG` asks for (`info` when unset), or why it is not one.
fn filter() -> Result<EnvFilter, LogError> {
    let spec = std::env::var(LEVEL_ENV).unwrap_or_default();
    let spec = if spec.trim().is_empty() {
        "info".to_string()
    } else {
        spec
    };
    EnvFilter::try_new(&spec).map_err(|source| LogError::Filter { spec, source })
}

/// Starts logging to `path` (appending), if any.
pub fn init(path: Option<&Path>) -> Result<(), LogError> {
    let Some(path) = path else {
        return Ok(());
    };
    let filter = filter()?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| LogError::Dir {
            dir: dir.to_path_buf(),
            source,
        })?;
    }
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|source| LogError::Open {
            path: path.to_path_buf(),
            source,
        })?;
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(Mutex::new(file))
        .with_ansi(false)
        .try_init()
        .map_err(LogError::Start)
}
