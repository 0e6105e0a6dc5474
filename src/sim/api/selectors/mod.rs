//! Label and field selectors, parsed once per request and matched against JSON objects.

mod labels;

use std::borrow::Cow;

use serde_json::Value;

use crate::sim::kinds::Kind;
use crate::sim::stored::Stored;

pub use labels::LabelSelector;

/// A parsed field selector (`spec.nodeName=n1,status.phase!=Succeeded`).
#[derive(Debug, Clone, Default)]
pub struct FieldSelector {
    reqs: Vec<(String, bool, String)>,
}

/// Field paths a kind supports in field selectors (besides metadata.name/namespace).
pub fn supported_fields(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::Pod => &[
            "spec.nodeName",
            "spec.restartPolicy",
            "spec.schedulerName",
            "spec.serviceAccountName",
            "spec.hostNetwork",
            "status.phase",
            "status.podIP",
            "status.nominatedNodeName",
        ],
        Kind::Event => &[
            "involvedObject.kind",
            "involvedObject.namespace",
            "involvedObject.name",
            "involvedObject.uid",
            "involvedObject.apiVersion",
            "involvedObject.resourceVersion",
            "involvedObject.fieldPath",
            "reason",
            "reportingComponent",
            "source",
            "type",
        ],
        Kind::Node => &["spec.unschedulable"],
        Kind::Namespace => &["status.phase"],
        Kind::ReplicaSet => &["status.replicas"],
        Kind::Job => &["status.successful"],
        Kind::Secret => &["type"],
        _ => &[],
    }
}

fn unescape(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    let mut it = v.chars();
    while let Some(c) = it.next() {
        if c == '\\' {
            if let Some(n) = it.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Splits on commas not escaped with a backslash.
fn split_unescaped(s: &str, sep: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut start, mut escaped) = (0, false);
    for (i, c) in s.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == sep {
            parts.push(&s[start..i]);
            start = i + c.len_utf8();
        }
    }
    parts.push(&s[start..]);
    parts
}

/// A `fieldSelector` the apiserver refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FieldSelectorError {
    /// A part without `=`, `==` or `!=`.
    #[error("invalid selector: '{selector}'; can't understand '{part}'")]
    Syntax { selector: String, part: String },
    /// A field the kind cannot be selected by.
    #[error("field label not supported: {0}")]
    Unsupported(String),
}

impl FieldSelector {
    /// Parses the `fieldSelector` query for `kind`; unknown fields are an error, as on a real server.
    pub fn parse(kind: Kind, s: &str) -> Result<Self, FieldSelectorError> {
        let mut reqs = Vec::new();
        if s.trim().is_empty() {
            return Ok(Self { reqs });
        }
        for part in split_unescaped(s, ',') {
            let p = part.trim();
            let (field, eq, value) = if let Some((f, v)) = p.split_once("!=") {
                (f, false, v)
            } else if let Some((f, v)) = p.split_once("==").or_else(|| p.split_once('=')) {
                (f, true, v)
            } else {
                return Err(FieldSelectorError::Syntax {
                    selector: s.to_string(),
                    part: p.to_string(),
                });
            };
            let field = field.trim();
            if field != "metadata.name"
                && field != "metadata.namespace"
                && !supported_fields(kind).contains(&field)
            {
                return Err(FieldSelectorError::Unsupported(field.to_string()));
            }
            reqs.push((field.to_string(), eq, unescape(value.trim())));
        }
        Ok(Self { reqs })
    }

    /// Whether no requirement is set.
    pub fn is_empty(&self) -> bool {
        self.reqs.is_empty()
    }

    /// The value required for `field` with `=`, if any (lets list pick a cheap path).
    pub fn required(&self, field: &str) -> Option<&str> {
        self.reqs
            .iter()
            .find(|(f, eq, _)| *eq && f == field)
            .map(|(_, _, v)| v.as_str())
    }

    /// Whether `obj` satisfies every requirement.
    pub fn matches(&self, obj: &Value) -> bool {
        self.reqs
            .iter()
            .all(|(f, eq, v)| (field_value(obj, f) == v.as_str()) == *eq)
    }

    /// Whether a stored object satisfies every requirement (parsing admitted only the
    /// fields a [`Stored`] keeps).
    pub fn matches_stored(&self, obj: &Stored) -> bool {
        self.reqs
            .iter()
            .all(|(f, eq, v)| (obj.field_cow(f) == v.as_str()) == *eq)
    }
}

/// The string value of a selectable field (empty when absent; booleans as `true`/`false`).
pub fn field_value<'a>(obj: &'a Value, path: &str) -> Cow<'a, str> {
    let mut cur = obj;
    for seg in path.split('.') {
        cur = &cur[seg];
    }
    if path == "source" {
        cur = &obj["source"]["component"];
    }
    match cur {
        Value::String(s) => Cow::Borrowed(s.as_str()),
        Value::Bool(b) => Cow::Borrowed(if *b { "true" } else { "false" }),
        Value::Number(n) => Cow::Owned(n.to_string()),
        Value::Null if path == "spec.unschedulable" || path == "spec.hostNetwork" => {
            Cow::Borrowed("false")
        }
        _ => Cow::Borrowed(""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn field_selector_ops() {
        let p = json!({"metadata": {"name": "p", "namespace": "ns"}, "spec": {"nodeName": "n1"}, "status": {"phase": "Running"}});
        let m = |s: &str| FieldSelector::parse(Kind::Pod, s).unwrap().matches(&p);
        assert!(m("spec.nodeName=n1"));
        assert!(m("spec.nodeName==n1,status.phase!=Succeeded"));
        assert!(!m("metadata.namespace=other"));
        let stored = Stored::new(Kind::Pod, &p);
        for s in [
            "spec.nodeName=n1",
            "status.phase!=Running",
            "metadata.name=p,metadata.namespace=ns",
            "spec.hostNetwork=false",
        ] {
            let f = FieldSelector::parse(Kind::Pod, s).unwrap();
            assert_eq!(f.matches_stored(&stored), f.matches(&p), "{s}");
        }
        assert!(FieldSelector::parse(Kind::Pod, "spec.bogus=1").is_err());
        assert!(
            FieldSelector::parse(Kind::Node, "spec.unschedulable=false")
                .unwrap()
                .matches(&json!({}))
        );
    }
}
