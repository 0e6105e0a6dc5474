//! `labelSelector`: the query syntax, parsed with the API server's error wording, and
//! `metav1.LabelSelector` objects (PDBs, workloads), read through kube-core.
//!
//! kube-core's [`Expression`] is the data model of the equality and set-based requirements
//! (`=`, `==`, `!=`, `in`, `notin`, `key`, `!key`) and its [`SelectorExt`] matches them.
//! What stays ours: the text parser (kube-core parses no selector text, and a client must
//! see the server's `unable to parse requirement: …` errors) and `key>n` / `key<n`, which
//! the API server's parser accepts but kube-core's model cannot hold.

use std::collections::BTreeSet;
use std::fmt;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector as SelectorObject;
use kube::core::{Expression, Selector};
use serde::Deserialize;
use serde_json::Value;

use crate::sim::stored::Stored;

/// One label requirement.
#[derive(Debug, Clone, PartialEq)]
enum Requirement {
    /// Equality and set-based requirements, matched by kube-core.
    Set(Expression),
    /// `key>n`: the label is an integer above `n`.
    Gt(String, i64),
    /// `key<n`: the label is an integer below `n`.
    Lt(String, i64),
}

/// A parsed label selector (`a=b,c!=d,e in (f,g),!h`). Empty matches everything.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LabelSelector {
    reqs: Vec<Requirement>,
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

/// The label an expression reads.
fn key_of(e: &Expression) -> &str {
    match e {
        Expression::In(k, _)
        | Expression::NotIn(k, _)
        | Expression::Equal(k, _)
        | Expression::NotEqual(k, _)
        | Expression::Exists(k)
        | Expression::DoesNotExist(k) => k,
    }
}

/// The values an expression compares with.
fn values_of(e: &Expression) -> Vec<&str> {
    match e {
        Expression::In(_, vs) | Expression::NotIn(_, vs) => vs.iter().map(String::as_str).collect(),
        Expression::Equal(_, v) | Expression::NotEqual(_, v) => vec![v.as_str()],
        Expression::Exists(_) | Expression::DoesNotExist(_) => Vec::new(),
    }
}

impl Requirement {
    /// The label it reads.
    fn key(&self) -> &str {
        match self {
            Requirement::Set(e) => key_of(e),
            Requirement::Gt(k, _) | Requirement::Lt(k, _) => k,
        }
    }
}

impl fmt::Display for Requirement {
    /// As the API server writes it (`labels.Requirement.String`); kube-core writes its own.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Requirement::Set(e) => e.fmt(f),
            Requirement::Gt(k, n) => write!(f, "{k}>{n}"),
            Requirement::Lt(k, n) => write!(f, "{k}<{n}"),
        }
    }
}

/// A `labelSelector` requirement the apiserver refuses: why, and the requirement.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unable to parse requirement: {why}: {requirement:?}")]
pub struct LabelSelectorError {
    pub why: String,
    pub requirement: String,
}

/// Parses one comma-separated requirement (trimmed), with the API server's error wording.
fn requirement(p: &str) -> Result<Requirement, LabelSelectorError> {
    let err = |why: &str| LabelSelectorError {
        why: why.to_string(),
        requirement: p.to_string(),
    };
    if p.is_empty() {
        return Err(err("found '', expected: identifier"));
    }
    let owned = |s: &str| s.trim().to_string();
    let req = if let Some(k) = p.strip_prefix('!') {
        Requirement::Set(Expression::DoesNotExist(owned(k)))
    } else if let Some((k, v)) = p.split_once("!=") {
        Requirement::Set(Expression::NotEqual(owned(k), owned(v)))
    } else if let Some((k, v)) = p.split_once("==").or_else(|| p.split_once('=')) {
        Requirement::Set(Expression::Equal(owned(k), owned(v)))
    } else if let Some((k, v)) = p.split_once('>') {
        let n = v
            .trim()
            .parse()
            .map_err(|_| err("for 'gt' operator, the value must be an integer"))?;
        Requirement::Gt(owned(k), n)
    } else if let Some((k, v)) = p.split_once('<') {
        let n = v
            .trim()
            .parse()
            .map_err(|_| err("for 'lt' operator, the value must be an integer"))?;
        Requirement::Lt(owned(k), n)
    } else if let Some(open) = p.find('(') {
        let head: Vec<&str> = p[..open].split_whitespace().collect();
        let close = p
            .rfind(')')
            .filter(|c| *c == p.len() - 1)
            .ok_or_else(|| err("found end of string, expected: ')'"))?;
        let values: BTreeSet<String> = p[open + 1..close]
            .split(',')
            .map(owned)
            .filter(|v| !v.is_empty())
            .collect();
        match head.as_slice() {
            [k, "in"] => Requirement::Set(Expression::In(k.to_string(), values)),
            [k, "notin"] => Requirement::Set(Expression::NotIn(k.to_string(), values)),
            _ => return Err(err("expected: in, notin")),
        }
    } else if p.split_whitespace().count() == 1 {
        Requirement::Set(Expression::Exists(p.to_string()))
    } else {
        return Err(err(
            "found unexpected token, expected: ',' or 'end of string'",
        ));
    };
    if !valid_key(req.key()) {
        return Err(err("invalid label key"));
    }
    if let Requirement::Set(e) = &req {
        if let Expression::In(_, vs) | Expression::NotIn(_, vs) = e
            && vs.is_empty()
        {
            return Err(err(
                "for 'in', 'notin' operators, values set can't be empty",
            ));
        }
        if let Some(bad) = values_of(e).into_iter().find(|v| !valid_value(v)) {
            return Err(err(&format!("invalid label value: {bad:?}")));
        }
    }
    Ok(req)
}

/// Whether the label `e` reads (`value`, absent as `None`) satisfies it: kube-core's
/// `Expression::matches` semantics, without the one-entry map it wants, because the
/// simulator's controllers match every pod of a 150k-pod store and a map per test would
/// allocate three times each (`labels_match_as_kube_core_does` checks the two agree).
fn satisfies(e: &Expression, value: Option<&str>) -> bool {
    match e {
        Expression::In(_, vs) => value.is_some_and(|v| vs.contains(v)),
        Expression::NotIn(_, vs) => value.is_none_or(|v| !vs.contains(v)),
        Expression::Equal(_, want) => value == Some(want.as_str()),
        Expression::NotEqual(_, want) => value != Some(want.as_str()),
        Expression::Exists(_) => value.is_some(),
        Expression::DoesNotExist(_) => value.is_none(),
    }
}

impl LabelSelector {
    /// The requirements in key order, as the API server keeps a selector (both its parser and
    /// `LabelSelectorAsSelector` sort them): that is how it writes one out.
    fn sorted(mut reqs: Vec<Requirement>) -> Self {
        reqs.sort_by(|a, b| a.key().cmp(b.key()));
        Self { reqs }
    }

    /// Parses the `labelSelector` query syntax.
    pub fn parse(s: &str) -> Result<Self, LabelSelectorError> {
        if s.trim().is_empty() {
            return Ok(Self::default());
        }
        let reqs = split_top(s)
            .into_iter()
            .map(|part| requirement(part.trim()))
            .collect::<Result<_, _>>()?;
        Ok(Self::sorted(reqs))
    }

    /// A selector from a `LabelSelector` object (`matchLabels` + `matchExpressions`), as PDBs
    /// and workloads carry, read by kube-core. `None` for a nil selector and for one the API
    /// server's `LabelSelectorAsSelector` refuses (an unknown operator, `In` without
    /// values): such a selector selects nothing. The result may be empty.
    pub fn from_object(sel: &Value) -> Option<Self> {
        if !sel.is_object() {
            return None;
        }
        let object = SelectorObject::deserialize(sel).ok()?;
        let selector = Selector::try_from(object).ok()?;
        Some(Self::sorted(
            selector.into_iter().map(Requirement::Set).collect(),
        ))
    }

    /// `metav1.FormatLabelSelector`, as tables show a workload's selector: `<none>` for a nil
    /// or empty one, `<error>` for one that cannot be read.
    pub fn format_object(sel: &Value) -> String {
        match Self::from_object(sel) {
            Some(s) if s.is_empty() => "<none>".into(),
            Some(s) => s.to_string(),
            None if sel.is_null() => "<none>".into(),
            None => "<error>".into(),
        }
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
        let int = |k: &str| label(k).and_then(|v| v.parse::<i64>().ok());
        self.reqs.iter().all(|r| match r {
            Requirement::Set(e) => satisfies(e, label(key_of(e))),
            Requirement::Gt(k, n) => int(k).is_some_and(|x| x > *n),
            Requirement::Lt(k, n) => int(k).is_some_and(|x| x < *n),
        })
    }
}

impl fmt::Display for LabelSelector {
    /// The requirements joined by commas, as `labels.Selector.String()` writes them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, r) in self.reqs.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            r.fmt(f)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use kube::core::SelectorExt;

    use super::*;
    use crate::sim::kinds::Kind;
    use serde_json::json;

    /// `satisfies` is kube-core's `Expression::matches`, label present or absent.
    #[test]
    fn labels_match_as_kube_core_does() {
        let set = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
        let k = || "app".to_string();
        let exprs = [
            Expression::In(k(), set(&["web", "db"])),
            Expression::NotIn(k(), set(&["web"])),
            Expression::NotIn(k(), set(&[])),
            Expression::Equal(k(), "web".into()),
            Expression::NotEqual(k(), "web".into()),
            Expression::Exists(k()),
            Expression::DoesNotExist(k()),
        ];
        for e in &exprs {
            for value in [None, Some("web"), Some("db"), Some("other")] {
                let map: BTreeMap<String, String> =
                    value.map(|v| (k(), v.to_string())).into_iter().collect();
                assert_eq!(satisfies(e, value), e.matches(&map), "{e:?} on {value:?}");
            }
        }
    }

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
            ("n>5", false),
            ("app>1", false),
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
        assert_eq!(
            LabelSelector::parse("z in (b,a), n>4,!x,a==1,m notin (q),k!=v,e,n<9")
                .unwrap()
                .to_string(),
            "a=1,e,k!=v,m notin (q),n>4,n<9,!x,z in (a,b)"
        );
        assert!(LabelSelector::parse("app=bad value").is_err());
    }

    #[test]
    fn parse_errors_in_the_servers_words() {
        for (s, want) in [
            (
                "app in ()",
                "for 'in', 'notin' operators, values set can't be empty",
            ),
            ("app in (a", "found end of string, expected: ')'"),
            ("app within (a)", "expected: in, notin"),
            ("a,,b", "found '', expected: identifier"),
            ("n>x", "for 'gt' operator, the value must be an integer"),
            ("/app=x", "invalid label key"),
            ("app=-x", "invalid label value: \"-x\""),
        ] {
            let e = LabelSelector::parse(s).unwrap_err().to_string();
            assert!(e.starts_with("unable to parse requirement: "), "{s}: {e}");
            assert!(e.contains(want), "{s}: {e}");
        }
    }

    #[test]
    fn objects_are_read_by_kube_core() {
        let labels = json!({"app": "web", "tier": "fe"});
        let sel = |v: Value| LabelSelector::from_object(&v);
        let both = sel(json!({
            "matchLabels": {"app": "web"},
            "matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["be"]}],
        }))
        .unwrap();
        assert!(both.matches_labels(&labels));
        assert!(!both.matches_labels(&json!({"app": "web", "tier": "be"})));
        assert!(sel(json!({})).unwrap().is_empty());
        let format = |v: Value| LabelSelector::format_object(&v);
        assert_eq!(
            format(json!({
                "matchLabels": {"tier": "fe", "app": "web"},
                "matchExpressions": [
                    {"key": "zone", "operator": "In", "values": ["b", "a"]},
                    {"key": "canary", "operator": "DoesNotExist"},
                ],
            })),
            "app=web,!canary,tier=fe,zone in (a,b)"
        );
        assert_eq!(format(json!({})), "<none>");
        assert_eq!(format(Value::Null), "<none>");
        assert_eq!(
            format(json!({"matchExpressions": [{"key": "a", "operator": "Near"}]})),
            "<error>"
        );
        assert_eq!(sel(Value::Null), None);
        // What `LabelSelectorAsSelector` refuses selects nothing.
        assert_eq!(
            sel(json!({"matchExpressions": [{"key": "tier", "operator": "Near"}]})),
            None
        );
        assert_eq!(
            sel(json!({"matchExpressions": [{"key": "tier", "operator": "NotIn"}]})),
            None
        );
    }
}
