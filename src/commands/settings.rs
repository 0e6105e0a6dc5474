//! The config file put to use at start: the skin, remapped keys and chosen columns are
//! checked and installed for the session, and the drain defaults handed to the TUI and to
//! `kubedrain drain` (for the flags not given). Nothing runs on a config with a mistake.

use std::path::{Path, PathBuf};

use crate::app::drain_flow::OptionsForm;
use crate::cli::DrainFlags;
use crate::config::{self, Config, ConfigError, DrainDefaults};

/// What the config file gave.
#[derive(Debug, Default)]
pub struct Settings {
    /// The file read (`None`: there was none at the default place).
    pub path: Option<PathBuf>,
    pub drain: DrainDefaults,
}

/// Reads the config (`--config`, `$KUBEDRAIN_CONFIG` or the default place), checks every
/// part and installs the skin, keys and columns.
pub fn load(flag: Option<&Path>) -> Result<Settings, ConfigError> {
    let (path, explicit) = config::path(flag);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !explicit => {
            return Ok(Settings::default());
        }
        Err(source) => return Err(ConfigError::Read { path, source }),
    };
    let cfg = config::parse(&text, &path)?;
    // `section.key: why`, at the line where `key:` is written.
    let invalid = |section: &str, key: &str, message: String| ConfigError::Invalid {
        path: path.clone(),
        line: config::line_of(&text, key),
        message: format!("{section}.{key}: {message}"),
    };
    let skin = match &cfg.ui.skin {
        Some(name) => config::skin::resolve(name, path.parent().unwrap_or(Path::new(".")))?,
        None => Default::default(),
    };
    let keys = crate::app::remap::build(
        cfg.keys
            .iter()
            .map(|(name, keys)| (name.as_str(), keys.all())),
    )
    .map_err(|(name, why)| invalid("keys", &name, why))?;
    for (pane, titles) in &cfg.ui.columns {
        crate::ui::columns::check(pane, titles)
            .map_err(|why| invalid("ui.columns", pane, why.to_string()))?;
    }
    if let Some(t) = &cfg.drain.timeout {
        crate::cli::go_duration(t).map_err(|why| invalid("drain", "timeout", why.to_string()))?;
    }
    install(&cfg, skin, keys);
    Ok(Settings {
        path: Some(path),
        drain: cfg.drain,
    })
}

fn install(cfg: &Config, skin: config::skin::Skin, keys: crate::app::remap::Remap) {
    crate::ui::theme::install_skin(skin);
    crate::app::remap::install(keys);
    crate::ui::columns::install(cfg.ui.columns.clone().into_iter().collect());
}

/// The TUI's drain options form, starting from the config's defaults (`None`: kubectl's).
pub fn options_form(d: &DrainDefaults) -> Option<OptionsForm> {
    if *d == DrainDefaults::default() {
        return None;
    }
    let mut f = OptionsForm::new("");
    set(&mut f.ignore_daemonsets, d.ignore_daemonsets);
    set(&mut f.delete_emptydir_data, d.delete_emptydir_data);
    set(&mut f.force, d.force);
    set(&mut f.disable_eviction, d.disable_eviction);
    if let Some(g) = d.grace_period {
        f.grace_period = g.to_string();
    }
    set(&mut f.timeout, d.timeout.clone());
    set(&mut f.pod_selector, d.pod_selector.clone());
    if let Some(s) = d.skip_wait_for_delete_timeout {
        f.skip_wait_for_delete_timeout = s.to_string();
    }
    Some(f)
}

fn set<T>(slot: &mut T, value: Option<T>) {
    if let Some(v) = value {
        *slot = v;
    }
}

/// `kubedrain drain`'s flags: the config's default where the flag was not given (`given`
/// says, by clap's argument id).
pub fn drain_flags(flags: &mut DrainFlags, d: &DrainDefaults, given: impl Fn(&str) -> bool) {
    let pick = |id: &str| !given(id);
    if pick("ignore_daemonsets") {
        set(&mut flags.ignore_daemonsets, d.ignore_daemonsets);
    }
    if pick("delete_emptydir_data") {
        set(&mut flags.delete_emptydir_data, d.delete_emptydir_data);
    }
    if pick("force") {
        set(&mut flags.force, d.force);
    }
    if pick("grace_period") {
        set(&mut flags.grace_period, d.grace_period);
    }
    if pick("timeout") {
        set(&mut flags.timeout, d.timeout.clone());
    }
    if pick("pod_selector") {
        set(&mut flags.pod_selector, d.pod_selector.clone());
    }
    if pick("disable_eviction") {
        set(&mut flags.disable_eviction, d.disable_eviction);
    }
    if pick("skip_wait_for_delete_timeout") {
        set(
            &mut flags.skip_wait_for_delete_timeout,
            d.skip_wait_for_delete_timeout,
        );
    }
}
