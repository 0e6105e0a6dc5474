//! Label and field selectors, parsed once per request and matched against JSON objects.

use std::borrow::Cow;

use serde_json::Value;

use crate::sim::kinds::Kind;
use crate::sim::stored::Stored;

/// One label requirement.
#[derive(Debug, Clone, PartialEq)]
enum LabelOp {
    Exists,
    NotExists,
    In(Vec<String>),
    NotIn(Vec<String>),
    Gt(i64),
    Lt(i64),
}

/// A parsed label selector (`a=b,c!=d,e in (f,g),!h`). Empty matches everything.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LabelSelector {
    reqs: Vec<(String, LabelOp)>,
}

fn valid_key(k: &str) -> bool {
    !k.is_empty()
        && k.len() <= 317
        && k.split('/').count() <= 2
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '/'))
        && !k.ends_with('/')
        && !k.starts_with('/')
}

fn valid_value(v: &str) -> bool {
    v.len() <= 63
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        && (v.is_empty()
            || (v.starts_with(|c: char| c.is_ascii_alphanumeric())
                && v.ends_with(|c: char| c.is_ascii_alphanumeric())))
}

/// Splits on commas outside parentheses.
fn split_top(s: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0i32, 0usize);
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&s[start..]);
    parts
}

impl LabelSelector {
    /// Parses the `labelSelector` query syntax.
    pub fn parse(s: &str) -> Result<Self, String> {
        let mut reqs = Vec::new();
        if s.trim().is_empty() {
            return Ok(Self { reqs });
        }
        for part in split_top(s) {
            let p = part.trim();
            let err = |why: &str| format!("unable to parse requirement: {why}: {p:?}");
            if p.is_empty() {
                return Err(err("found '', expected: identifier"));
            }
            let req = if let Some(k) = p.strip_prefix('!') {
                (k.trim().to_string(), LabelOp::NotExists)
            } else if let Some((k, v)) = p.split_once("!=") {
                (
                    k.trim().to_string(),
                    LabelOp::NotIn(vec![v.trim().to_string()]),
                )
            } else if let Some((k, v)) = p.split_once("==").or_else(|| p.split_once('=')) {
                (
                    k.trim().to_string(),
                    LabelOp::In(vec![v.trim().to_string()]),
                )
            } else if let Some((k, v)) = p.split_once('>') {
                let n = v
                    .trim()
                    .parse()
                    .map_err(|_| err("for 'gt' operator, the value must be an integer"))?;
                (k.trim().to_string(), LabelOp::Gt(n))
            } else if let Some((k, v)) = p.split_once('<') {
                let n = v
                    .trim()
                    .parse()
                    .map_err(|_| err("for 'lt' operator, the value must be an integer"))?;
                (k.trim().to_string(), LabelOp::Lt(n))
            } else if let Some(open) = p.find('(') {
                let head: Vec<&str> = p[..open].split_whitespace().collect();
                let close = p
                    .rfind(')')
                    .filter(|c| *c == p.len() - 1)
                    .ok_or_else(|| err("found end of string, expected: ')'"))?;
                let values: Vec<String> = p[open + 1..close]
                    .split(',')
                    .map(|v| v.trim().to_string())
                    .filter(|v| !v.is_empty())
                    .collect();
                match head.as_slice() {
                    [k, "in"] => (k.to_string(), LabelOp::In(values)),
                    [k, "notin"] => (k.to_string(), LabelOp::NotIn(values)),
                    _ => return Err(err("expected: in, notin")),
                }
            } else if p.split_whitespace().count() == 1 {
                (p.to_string(), LabelOp::Exists)
            } else {
                return Err(err(
                    "found unexpected token, expected: ',' or 'end of string'",
                ));
            };
            if !valid_key(&req.0) {
                return Err(err("invalid label key"));
            }
            if let LabelOp::In(vs) | LabelOp::NotIn(vs) = &req.1 {
                if vs.is_empty() && p.contains('(') {
                    return Err(err(
                        "for 'in', 'notin' operators, values set can't be empty",
                    ));
                }
                if let Some(bad) = vs.iter().find(|v| !valid_value(v)) {
                    return Err(err(&format!("invalid label value: {bad:?}")));
                }
            }
            reqs.push(req);
        }
        Ok(Self { reqs })
    }

    /// A selector from a `LabelSelector` object (`matchLabels` + `matchExpressions`), as PDBs
    /// and workloads carry. `None` for a nil selector; the result may be empty.
    pub fn from_object(sel: &Value) -> Option<Self> {
        let sel = sel.as_object()?;
        let mut reqs = Vec::new();
        if let Some(ml) = sel.get("matchLabels").and_then(Value::as_object) {
            for (k, v) in ml {
                reqs.push((
                    k.clone(),
                    LabelOp::In(vec![v.as_str().unwrap_or("").to_string()]),
                ));
            }
        }
        if let Some(exprs) = sel.get("matchExpressions").and_then(Value::as_array) {
            for e in exprs {
                let key = e["key"].as_str().unwrap_or("").to_string();
                let values: Vec<String> = e["values"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|v| v.as_str().map(String::from))
                            .collect()
                    })
                    .unwrap_or_default();
                let op = match e["operator"].as_str().unwrap_or("") {
                    "In" => LabelOp::In(values),
                    "NotIn" => LabelOp::NotIn(values),
                    "Exists" => LabelOp::Exists,
                    "DoesNotExist" => LabelOp::NotExists,
                    _ => return None,
                };
                reqs.push((key, op));
            }
        }
        Some(Self { reqs })
    }

    /// Whether the selector has no requirements (matches everything).
    pub fn is_empty(&self) -> bool {
        self.reqs.is_empty()
    }

    /// Whether an object's `metadata.labels` satisfy every requirement.
    pub fn matches(&self, obj: &Value) -> bool {
        self.matches_labels(&obj["metadata"]["labels"])
    }

    /// Whether a labels map satisfies every requirement.
    pub fn matches_labels(&self, labels: &Value) -> bool {
        self.matches_with(|k| labels.get(k).and_then(Value::as_str))
    }

    /// Whether a stored object's labels satisfy every requirement.
    pub fn matches_stored(&self, obj: &Stored) -> bool {
        self.matches_with(|k| obj.label(k))
    }

    /// Whether the labels `label` looks up satisfy every requirement.
    fn matches_with<'a>(&self, label: impl Fn(&str) -> Option<&'a str>) -> bool {
        self.reqs.iter().all(|(k, op)| {
            let v = label(k);
            match op {
                LabelOp::Exists => v.is_some(),
                LabelOp::NotExists => v.is_none(),
                LabelOp::In(vs) => v.is_some_and(|v| vs.iter().any(|x| x == v)),
                LabelOp::NotIn(vs) => v.is_none_or(|v| !vs.iter().any(|x| x == v)),
                LabelOp::Gt(n) => v
                    .and_then(|v| v.parse::<i64>().ok())
                    .is_some_and(|x| x > *n),
                LabelOp::Lt(n) => v
                    .and_then(|v| v.parse::<i64>().ok())
                    .is_some_and(|x| x < *n),
            }
        })
    }
}

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

impl FieldSelector {
    /// Parses the `fieldSelector` query for `kind`; unknown fields are an error, as on a real server.
    pub fn parse(kind: Kind, s: &str) -> Result<Self, String> {
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
                return Err(format!("invalid selector: '{s}'; can't understand '{p}'"));
            };
            let field = field.trim();
            if field != "metadata.name"
                && field != "metadata.namespace"
                && !supported_fields(kind).contains(&field)
            {
                return Err(format!("field label not supported: {field}"));
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
    fn label_selector_ops() {
        let o = json!({"metadata": {"labels": {"app": "web", "tier": "fe", "n": "5"}}});
        for (s, want) in [
            ("app=web", true),
            ("app==web", true),
            ("app!=web", false),
            ("app in (web, db)", true),
            ("app notin (web)", false),
            ("missing notin (x)", true),
            ("missing!=x", true),
            ("app,tier=fe", true),
            ("!app", false),
            ("!missing", true),
            ("n>4,n<6", true),
            ("", true),
        ] {
            assert_eq!(LabelSelector::parse(s).unwrap().matches(&o), want, "{s}");
            let stored = Stored::new(Kind::Pod, &o);
            assert_eq!(
                LabelSelector::parse(s).unwrap().matches_stored(&stored),
                want,
                "{s}"
            );
        }
        assert!(LabelSelector::parse("app in (a").is_err());
        assert!(LabelSelector::parse("a b").is_err());
        assert!(LabelSelector::parse("app=bad value").is_err());
    }

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
