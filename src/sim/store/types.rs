//! What a change is, and the store's errors.

use std::sync::Arc;

use jiff::Timestamp;
use serde_json::Value;

use super::Stored;
use crate::sim::kinds::Kind;

/// What happened to an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeType {
    Added,
    Modified,
    Deleted,
}

impl ChangeType {
    /// The watch event `type` string.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeType::Added => "ADDED",
            ChangeType::Modified => "MODIFIED",
            ChangeType::Deleted => "DELETED",
        }
    }
}

/// One change, as watchers see it.
#[derive(Debug, Clone)]
pub struct Change {
    /// The resourceVersion the change produced.
    pub rv: u64,
    pub kind: Kind,
    pub change: ChangeType,
    /// The object after the change (for deletes: its last state, with the new resourceVersion),
    /// serialised once and shared by every watcher.
    pub object: Arc<Stored>,
    /// The object before a MODIFIED change, so a filtered watch can tell an object entering or
    /// leaving its selection (ADDED / DELETED), as the real watch cache does.
    pub prev: Option<Arc<Stored>>,
    /// Simulated time of the write: the simulator's kubelets watch their pods themselves and
    /// start a grace period when its deletion was written, not when the controllers' single
    /// task gets round to it.
    pub at: Timestamp,
}

impl Change {
    /// The changed object, decoded.
    pub fn value(&self) -> Value {
        self.object.value()
    }
}

/// Why a store operation failed; the API layer maps these to `Status` objects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreError {
    NotFound {
        kind: Kind,
        name: String,
    },
    AlreadyExists {
        kind: Kind,
        name: String,
    },
    /// The requested watch resourceVersion is older than the kept history.
    Gone {
        requested: u64,
        oldest: u64,
    },
    Invalid(String),
    Conflict(String),
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreError::NotFound { kind, name } => {
                write!(f, "{} \"{name}\" not found", resource_label(*kind))
            }
            StoreError::AlreadyExists { kind, name } => {
                write!(f, "{} \"{name}\" already exists", resource_label(*kind))
            }
            StoreError::Gone { requested, oldest } => {
                write!(f, "too old resource version: {requested} ({oldest})")
            }
            StoreError::Invalid(m) | StoreError::Conflict(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for StoreError {}

/// `pods` or `daemonsets.apps`: how the API server names a resource in messages.
pub fn resource_label(kind: Kind) -> String {
    if kind.group().is_empty() {
        kind.plural().to_string()
    } else {
        format!("{}.{}", kind.plural(), kind.group())
    }
}
