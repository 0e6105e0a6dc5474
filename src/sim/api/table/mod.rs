//! Server-side `Table` responses (`Accept: application/json;as=Table;...`): the columns and cells
//! the real apiserver's printers produce, so `kubectl get` prints exactly what it prints there.

use jiff::Timestamp;
use serde_json::{Value, json};

use crate::sim::kinds::Kind;

mod cells;
mod columns;
mod corekinds;

pub use cells::{cells, node_roles, node_status};
pub use columns::columns;

/// What `rows[].object` carries (`includeObject` query).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IncludeObject {
    None,
    Metadata,
    Object,
}

/// An `includeObject` value the apiserver does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("includeObject: Unsupported value: {0:?}")]
pub struct UnsupportedInclude(pub String);

impl IncludeObject {
    /// Parses the query value; the apiserver's default is `Metadata`.
    pub fn parse(s: Option<&str>) -> Result<Self, UnsupportedInclude> {
        match s {
            None | Some("") | Some("Metadata") => Ok(Self::Metadata),
            Some("None") => Ok(Self::None),
            Some("Object") => Ok(Self::Object),
            Some(o) => Err(UnsupportedInclude(o.to_string())),
        }
    }
}

/// Whether an `Accept` header asks for a Table.
pub fn wants_table(accept: &str) -> bool {
    accept.split(',').any(|part| {
        let p: Vec<&str> = part.split(';').map(str::trim).collect();
        p.contains(&"as=Table") && !p.contains(&"g=apidiscovery.k8s.io")
    })
}

/// kubectl's `HumanDuration` (k8s.io/apimachinery/pkg/util/duration).
pub fn human_duration(secs: i64) -> String {
    if secs < -1 {
        return "<invalid>".into();
    }
    if secs < 0 {
        return "0s".into();
    }
    if secs < 120 {
        return format!("{secs}s");
    }
    let minutes = secs / 60;
    if minutes < 10 {
        let s = secs % 60;
        return if s == 0 {
            format!("{minutes}m")
        } else {
            format!("{minutes}m{s}s")
        };
    }
    if minutes < 180 {
        return format!("{minutes}m");
    }
    let hours = secs / 3600;
    if hours < 8 {
        let m = minutes % 60;
        return if m == 0 {
            format!("{hours}h")
        } else {
            format!("{hours}h{m}m")
        };
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        let h = hours % 24;
        return if h == 0 {
            format!("{}d", hours / 24)
        } else {
            format!("{}d{h}h", hours / 24)
        };
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    if hours < 24 * 365 * 8 {
        let dy = (hours / 24) % 365;
        return if dy == 0 {
            format!("{}y", hours / 24 / 365)
        } else {
            format!("{}y{dy}d", hours / 24 / 365)
        };
    }
    format!("{}y", hours / 24 / 365)
}

/// `translateTimestampSince`: the age of an RFC 3339 timestamp, `<unknown>` when absent.
pub fn since(ts: &Value, now: Timestamp) -> String {
    match ts.as_str().and_then(|s| s.parse::<Timestamp>().ok()) {
        Some(t) => human_duration(now.as_second() - t.as_second()),
        None => "<unknown>".into(),
    }
}

/// One row: cells plus the object as `includeObject` asks.
pub fn row(kind: Kind, o: &Value, now: Timestamp, include: IncludeObject) -> Value {
    let mut r = json!({"cells": cells(kind, o, now)});
    match include {
        IncludeObject::None => {}
        IncludeObject::Metadata => {
            r["object"] = json!({
                "kind": "PartialObjectMetadata",
                "apiVersion": "meta.k8s.io/v1",
                "metadata": o["metadata"],
            });
        }
        IncludeObject::Object => r["object"] = o.clone(),
    }
    let phase = cells::s(&o["status"]["phase"]);
    if kind == Kind::Pod && (phase == "Succeeded" || phase == "Failed") {
        r["conditions"] = json!([{"type": "Completed", "status": "True", "reason": phase, "message": format!("The pod has completed {}", if phase == "Succeeded" { "successfully." } else { "and failed." })}]);
    }
    r
}

/// A whole Table for a list page (items borrowed, or decoded one by one and dropped after
/// their row is made).
pub fn table<B: std::borrow::Borrow<Value>>(
    kind: Kind,
    items: impl IntoIterator<Item = B>,
    now: Timestamp,
    include: IncludeObject,
    list_meta: Value,
) -> Value {
    let rows: Vec<Value> = items
        .into_iter()
        .map(|o| row(kind, o.borrow(), now, include))
        .collect();
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": list_meta,
        "columnDefinitions": columns(kind),
        "rows": rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_durations_match_kubectl() {
        for (secs, want) in [
            (8, "8s"),
            (95, "95s"),
            (286, "4m46s"),
            (300, "5m"),
            (41 * 60, "41m"),
            (3 * 3600 + 5 * 60, "3h5m"),
            (10 * 3600, "10h"),
            (77 * 86400, "77d"),
            (3 * 86400 + 3600, "3d1h"),
            (800 * 86400, "2y70d"),
        ] {
            assert_eq!(human_duration(secs), want);
        }
    }

    #[test]
    fn accept_detection() {
        assert!(wants_table(
            "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
        ));
        assert!(!wants_table("application/json"));
        assert!(!wants_table(
            "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
        ));
    }
}
