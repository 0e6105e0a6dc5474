//! The drain options dialog: kubectl's flags as the operator sets them.

use crate::cli::{DrainFlags, FlagError};
use crate::drain::options::DrainOptions;

/// What is wrong with the drain options form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OptionsError {
    /// `--grace-period` not a whole number.
    #[error("--grace-period: \"{0}\" is not a whole number of seconds")]
    GracePeriod(String),
    /// `--skip-wait-for-delete-timeout` not a whole number.
    #[error("--skip-wait-for-delete-timeout: \"{0}\" is not a whole number of seconds")]
    SkipWait(String),
    /// A flag the CLI would refuse, in its words.
    #[error(transparent)]
    Flag(#[from] FlagError),
}

/// A drain option's field in the form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    IgnoreDaemonsets,
    DeleteEmptydirData,
    Force,
    GracePeriod,
    Timeout,
    PodSelector,
    DisableEviction,
    SkipWaitForDeleteTimeout,
}

impl Field {
    /// Form order.
    pub const ALL: [Field; 8] = [
        Field::IgnoreDaemonsets,
        Field::DeleteEmptydirData,
        Field::Force,
        Field::GracePeriod,
        Field::Timeout,
        Field::PodSelector,
        Field::DisableEviction,
        Field::SkipWaitForDeleteTimeout,
    ];

    /// The kubectl flag.
    pub fn flag(self) -> &'static str {
        match self {
            Field::IgnoreDaemonsets => "--ignore-daemonsets",
            Field::DeleteEmptydirData => "--delete-emptydir-data",
            Field::Force => "--force",
            Field::GracePeriod => "--grace-period",
            Field::Timeout => "--timeout",
            Field::PodSelector => "--pod-selector",
            Field::DisableEviction => "--disable-eviction",
            Field::SkipWaitForDeleteTimeout => "--skip-wait-for-delete-timeout",
        }
    }

    /// One line of explanation.
    pub fn help(self) -> &'static str {
        match self {
            Field::IgnoreDaemonsets => "skip DaemonSet pods (they'd come right back)",
            Field::DeleteEmptydirData => "allow evicting pods with emptyDir (data lost)",
            Field::Force => "also delete pods no controller recreates",
            Field::GracePeriod => "seconds to terminate; -1 = each pod's own",
            Field::Timeout => "give up after (90s, 5m); 0s = wait forever",
            Field::PodSelector => "only pods matching this label selector",
            Field::DisableEviction => "DELETE instead of evict: bypasses PDBs!",
            Field::SkipWaitForDeleteTimeout => "don't wait for pods deleting > N s",
        }
    }

    /// Whether the field is a tick box.
    pub fn is_bool(self) -> bool {
        matches!(
            self,
            Field::IgnoreDaemonsets
                | Field::DeleteEmptydirData
                | Field::Force
                | Field::DisableEviction
        )
    }
}

/// The drain options dialog's state: kubectl's flags as the user sets them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionsForm {
    pub node: String,
    pub ignore_daemonsets: bool,
    pub delete_emptydir_data: bool,
    pub force: bool,
    pub grace_period: String,
    pub timeout: String,
    pub pod_selector: String,
    pub disable_eviction: bool,
    pub skip_wait_for_delete_timeout: String,
    /// The operator accepted the plan's outage findings (the plan's second confirmation).
    pub allow_outage: bool,
    /// Index into [`Field::ALL`].
    pub cursor: usize,
    /// The cursor just arrived on the field: the first keystroke replaces its value.
    pub fresh: bool,
    /// Why the values do not validate.
    pub error: Option<String>,
}

impl OptionsForm {
    /// kubectl's defaults, except `--ignore-daemonsets`, ticked: a drain for maintenance
    /// always wants it (kubectl refuses to start without it on any real cluster).
    pub fn new(node: &str) -> OptionsForm {
        OptionsForm {
            node: node.to_string(),
            ignore_daemonsets: true,
            delete_emptydir_data: false,
            force: false,
            grace_period: "-1".into(),
            timeout: "0s".into(),
            pod_selector: String::new(),
            disable_eviction: false,
            skip_wait_for_delete_timeout: "0".into(),
            allow_outage: false,
            cursor: 0,
            fresh: true,
            error: None,
        }
    }

    /// The options last used in this session, for `node`: the cursor at the top, nothing
    /// accepted yet.
    pub fn again(last: &OptionsForm, node: &str) -> OptionsForm {
        OptionsForm {
            node: node.to_string(),
            allow_outage: false,
            cursor: 0,
            fresh: true,
            error: None,
            ..last.clone()
        }
    }

    /// Moves the cursor by `by` fields (wrapping).
    pub fn move_by(&mut self, by: isize) {
        let n = Field::ALL.len() as isize;
        self.cursor = (self.cursor as isize + by).rem_euclid(n) as usize;
        self.fresh = true;
    }

    /// A tick box's value.
    pub fn get_bool(&self, f: Field) -> bool {
        match f {
            Field::IgnoreDaemonsets => self.ignore_daemonsets,
            Field::DeleteEmptydirData => self.delete_emptydir_data,
            Field::Force => self.force,
            Field::DisableEviction => self.disable_eviction,
            _ => false,
        }
    }

    pub(super) fn bool_mut(&mut self, f: Field) -> Option<&mut bool> {
        match f {
            Field::IgnoreDaemonsets => Some(&mut self.ignore_daemonsets),
            Field::DeleteEmptydirData => Some(&mut self.delete_emptydir_data),
            Field::Force => Some(&mut self.force),
            Field::DisableEviction => Some(&mut self.disable_eviction),
            _ => None,
        }
    }

    /// A text field's value.
    pub fn text(&self, f: Field) -> &str {
        match f {
            Field::GracePeriod => &self.grace_period,
            Field::Timeout => &self.timeout,
            Field::PodSelector => &self.pod_selector,
            Field::SkipWaitForDeleteTimeout => &self.skip_wait_for_delete_timeout,
            _ => "",
        }
    }

    pub(super) fn text_mut(&mut self, f: Field) -> Option<&mut String> {
        match f {
            Field::GracePeriod => Some(&mut self.grace_period),
            Field::Timeout => Some(&mut self.timeout),
            Field::PodSelector => Some(&mut self.pod_selector),
            Field::SkipWaitForDeleteTimeout => Some(&mut self.skip_wait_for_delete_timeout),
            _ => None,
        }
    }

    /// The field under the cursor.
    pub fn field(&self) -> Field {
        Field::ALL[self.cursor.min(Field::ALL.len() - 1)]
    }

    /// The flags, as the CLI would parse them.
    pub fn flags(&self) -> Result<DrainFlags, OptionsError> {
        let grace_period = self
            .grace_period
            .trim()
            .parse::<i64>()
            .map_err(|_| OptionsError::GracePeriod(self.grace_period.clone()))?;
        let skip = self
            .skip_wait_for_delete_timeout
            .trim()
            .parse::<u64>()
            .map_err(|_| OptionsError::SkipWait(self.skip_wait_for_delete_timeout.clone()))?;
        Ok(DrainFlags {
            ignore_daemonsets: self.ignore_daemonsets,
            delete_emptydir_data: self.delete_emptydir_data,
            force: self.force,
            grace_period,
            timeout: self.timeout.trim().to_string(),
            pod_selector: self.pod_selector.trim().to_string(),
            disable_eviction: self.disable_eviction,
            skip_wait_for_delete_timeout: skip,
            allow_outage: self.allow_outage,
        })
    }

    /// Validated options.
    pub fn options(&self) -> Result<DrainOptions, OptionsError> {
        Ok(self.flags()?.options()?)
    }

    /// The equivalent kubectl command line (what a teacher writes on the board).
    pub fn kubectl(&self) -> String {
        let mut s = format!("kubectl drain {}", self.node);
        for f in Field::ALL {
            if f.is_bool() {
                if self.get_bool(f) {
                    s.push(' ');
                    s.push_str(f.flag());
                }
                continue;
            }
            let v = self.text(f).trim();
            let default = match f {
                Field::GracePeriod => v == "-1",
                Field::Timeout => v == "0s" || v == "0",
                Field::SkipWaitForDeleteTimeout => v == "0",
                _ => v.is_empty(),
            };
            if !default {
                let v = if v.contains(' ') {
                    format!("'{v}'")
                } else {
                    v.to_string()
                };
                s.push_str(&format!(" {}={v}", f.flag()));
            }
        }
        s
    }
}
