//! The config file (`~/.config/kubedrain/config.yaml`, or `--config`, or `$KUBEDRAIN_CONFIG`):
//! default drain options, the skin, key remapping and the columns of the panes. Read once at
//! start; a mistake names the file, line and key, and nothing starts until it is fixed.

pub mod skin;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// A config file that cannot be used: where, and why.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// `line` 0: the position is not known.
    #[error("{}: {message}", at(path, *line))]
    Invalid {
        path: PathBuf,
        line: u64,
        message: String,
    },
}

fn at(path: &Path, line: u64) -> String {
    match line {
        0 => path.display().to_string(),
        l => format!("{}:{l}", path.display()),
    }
}

/// Everything the file can set; each part optional.
#[derive(Debug, Default, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct Config {
    /// Defaults of the drain options (the TUI's form, and `kubedrain drain` flags not given).
    pub drain: DrainDefaults,
    pub ui: Ui,
    /// Action name → key (or list of keys), e.g. `drain: D`.
    pub keys: BTreeMap<String, KeyList>,
}

/// The drain options a config can preset, with kubectl's flag names in camelCase.
#[derive(Debug, Default, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct DrainDefaults {
    pub ignore_daemonsets: Option<bool>,
    pub delete_emptydir_data: Option<bool>,
    pub force: Option<bool>,
    pub grace_period: Option<i64>,
    /// A Go duration, as `--timeout` takes it (`5m`, `0s`).
    pub timeout: Option<String>,
    pub pod_selector: Option<String>,
    pub disable_eviction: Option<bool>,
    pub skip_wait_for_delete_timeout: Option<u64>,
}

/// Look of the TUI.
#[derive(Debug, Default, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct Ui {
    /// `default`, `light`, `high-contrast`, or the name of a file in `skins/` beside the
    /// config (`NAME.yaml`).
    pub skin: Option<String>,
    /// Per pane, the columns to show (by their header), in the pane's own order.
    pub columns: BTreeMap<String, Vec<String>>,
}

/// One key or several.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum KeyList {
    One(String),
    Many(Vec<String>),
}

impl KeyList {
    /// The keys as written.
    pub fn all(&self) -> Vec<&str> {
        match self {
            KeyList::One(k) => vec![k.as_str()],
            KeyList::Many(v) => v.iter().map(String::as_str).collect(),
        }
    }
}

/// The config file in use: `--config`, else `$KUBEDRAIN_CONFIG`, else `config.yaml` in the
/// XDG config directory. `explicit`: named by the user (then it must exist).
pub fn path(flag: Option<&Path>) -> (PathBuf, bool) {
    if let Some(p) = flag {
        return (p.to_path_buf(), true);
    }
    if let Some(p) = std::env::var_os("KUBEDRAIN_CONFIG").filter(|v| !v.is_empty()) {
        return (PathBuf::from(p), true);
    }
    (config_dir().join("config.yaml"), false)
}

/// `$XDG_CONFIG_HOME/kubedrain`, or `~/.config/kubedrain`.
pub fn config_dir() -> PathBuf {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))
        .unwrap_or_else(|| PathBuf::from("."));
    base.join("kubedrain")
}

/// Reads the config at `path`; a default file that does not exist is an empty config.
pub fn load(path: &Path, explicit: bool) -> Result<Config, ConfigError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !explicit => {
            return Ok(Config::default());
        }
        Err(source) => {
            return Err(ConfigError::Read {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    parse(&text, path)
}

/// Parses config `text` read from `path` (for the errors).
pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
    if text.trim().is_empty() {
        return Ok(Config::default());
    }
    serde_saphyr::from_str(text).map_err(|e| invalid_yaml(&e, path))
}

/// A YAML or schema error, with its line and the key it names.
pub fn invalid_yaml(e: &serde_saphyr::Error, path: &Path) -> ConfigError {
    let line = e.location().map_or(0, |l| l.line());
    // The crate writes `error: line 3 column 3: <message>` and a snippet under it: the
    // message alone, since the file:line prefix says where.
    let full = e.to_string();
    let first = full.lines().next().unwrap_or_default();
    let first = first.strip_prefix("error: ").unwrap_or(first);
    let message = match first.split_once(": ") {
        Some((pos, rest)) if pos.starts_with("line ") => rest,
        _ => first,
    };
    let message = message
        .split_once(" at line ")
        .map_or(message, |(m, _)| m)
        .to_string();
    ConfigError::Invalid {
        path: path.to_path_buf(),
        line,
        message,
    }
}

/// The line of `key:` in `text` (for errors found after parsing, such as an unknown action
/// or column); 0 when not found.
pub fn line_of(text: &str, key: &str) -> u64 {
    let want = format!("{key}:");
    text.lines()
        .position(|l| l.trim_start().starts_with(&want))
        .map_or(0, |i| i as u64 + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(s: &str) -> Result<Config, ConfigError> {
        parse(s, Path::new("/c.yaml"))
    }

    #[test]
    fn a_full_config_reads() {
        let c = parse_str(
            "drain:\n  gracePeriod: 30\n  timeout: 5m\n  deleteEmptydirData: true\nui:\n  skin: light\n  columns:\n    nodes: [NAME, STATUS]\nkeys:\n  drain: D\n  cordon: [x, ctrl-x]\n",
        )
        .unwrap();
        assert_eq!(c.drain.grace_period, Some(30));
        assert_eq!(c.drain.timeout.as_deref(), Some("5m"));
        assert_eq!(c.drain.delete_emptydir_data, Some(true));
        assert_eq!(c.ui.skin.as_deref(), Some("light"));
        assert_eq!(c.ui.columns["nodes"], ["NAME", "STATUS"]);
        assert_eq!(c.keys["cordon"].all(), ["x", "ctrl-x"]);
    }

    #[test]
    fn mistakes_name_the_file_line_and_key() {
        let e = parse_str("drain:\n  gracePeriod: 30\n  gracePeriods: 5\n").unwrap_err();
        let s = e.to_string();
        assert!(s.starts_with("/c.yaml:3: "), "{s}");
        assert!(s.contains("gracePeriods"), "{s}");
        let e = parse_str("ui:\n  skin: [a\n").unwrap_err().to_string();
        assert!(e.starts_with("/c.yaml:"), "{e}");
        let e = parse_str("drain:\n  gracePeriod: soon\n")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("/c.yaml:2: "), "{e}");
    }

    #[test]
    fn a_missing_default_file_is_no_config_but_a_named_one_is_an_error() {
        let p = Path::new("/nonexistent/kubedrain/config.yaml");
        assert_eq!(load(p, false).unwrap(), Config::default());
        let e = load(p, true).unwrap_err().to_string();
        assert!(
            e.starts_with("cannot read the config file /nonexistent"),
            "{e}"
        );
    }
}
