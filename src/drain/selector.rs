//! `--pod-selector`: Kubernetes label selector syntax (`a=b`, `a==b`, `a!=b`, `a in (x,y)`,
//! `a notin (x)`, `a`, `!a`), parsed and matched client-side.
//!
//! The requirements are kube-core's [`Expression`]s and kube-core matches them
//! ([`SelectorExt`]); only the parser is ours, because kube-core parses no selector text
//! (it has no `FromStr`), and our errors name what is wrong with the key, the value or
//! the parentheses.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

use kube::core::{Expression, Selector, SelectorExt};
use regex::Regex;
use serde::{Serialize, Serializer};

/// A parsed label selector; all requirements must hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodSelector {
    /// The text as given (sent to the API server as `labelSelector`).
    pub text: String,
    /// The parsed requirements, in kube-core's model (`!=` and `notin` also match pods
    /// without the key, as on the API server).
    pub selector: Selector,
}

impl Serialize for PodSelector {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

static KEY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$").unwrap()
});
static VALUE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$").unwrap());
static SET: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(\S+?)\s+(in|notin)\s*\(([^()]*)\)$").unwrap());

/// What is wrong with a label selector's text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SelectorError {
    /// A `(` without its `)`, a `)` without its `(`, or parentheses nested.
    #[error("unbalanced parentheses")]
    UnbalancedParentheses,
    /// Nothing between two commas.
    #[error("empty requirement")]
    EmptyRequirement,
    /// `in ()` or `notin ()`.
    #[error("for '{op}' the set of values can't be empty")]
    EmptySet { op: String },
    /// A `!key` requirement with an operator after the key.
    #[error("invalid requirement {0:?}")]
    Requirement(String),
    /// A key that is not a qualified label name.
    #[error("invalid label key {0:?}")]
    Key(String),
    /// A value that is not a label value.
    #[error("invalid label value {0:?}")]
    Value(String),
}

fn key(k: &str) -> Result<String, SelectorError> {
    let k = k.trim();
    let name = k.rsplit('/').next().unwrap_or(k);
    if KEY.is_match(k) && name.len() <= 63 && k.len() <= 253 + 1 + 63 {
        Ok(k.to_string())
    } else {
        Err(SelectorError::Key(k.to_string()))
    }
}

fn value(v: &str) -> Result<String, SelectorError> {
    let v = v.trim();
    if VALUE.is_match(v) && v.len() <= 63 {
        Ok(v.to_string())
    } else {
        Err(SelectorError::Value(v.to_string()))
    }
}

/// Splits on commas that are not inside parentheses.
fn split_top(s: &str) -> Result<Vec<&str>, SelectorError> {
    let (mut depth, mut start, mut out) = (0i32, 0, Vec::new());
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
        if !(0..=1).contains(&depth) {
            return Err(SelectorError::UnbalancedParentheses);
        }
    }
    if depth != 0 {
        return Err(SelectorError::UnbalancedParentheses);
    }
    out.push(&s[start..]);
    Ok(out)
}

impl PodSelector {
    /// Parses a selector; the error says what is wrong (callers wrap it in kubectl's text).
    pub fn parse(text: &str) -> Result<Self, SelectorError> {
        let mut requirements = Vec::new();
        if text.trim().is_empty() {
            return Ok(PodSelector {
                text: String::new(),
                selector: Selector::default(),
            });
        }
        for part in split_top(text)? {
            let p = part.trim();
            if p.is_empty() {
                return Err(SelectorError::EmptyRequirement);
            }
            let req = if let Some(c) = SET.captures(p) {
                if c[3].trim().is_empty() {
                    return Err(SelectorError::EmptySet {
                        op: c[2].to_string(),
                    });
                }
                let vals = c[3]
                    .split(',')
                    .map(value)
                    .collect::<Result<BTreeSet<_>, _>>()?;
                if c[2].eq("in") {
                    Expression::In(key(&c[1])?, vals)
                } else {
                    Expression::NotIn(key(&c[1])?, vals)
                }
            } else if let Some(k) = p.strip_prefix('!') {
                if k.contains(['=', '!', '(']) {
                    return Err(SelectorError::Requirement(p.to_string()));
                }
                Expression::DoesNotExist(key(k)?)
            } else if let Some((k, v)) = p.split_once("!=") {
                Expression::NotEqual(key(k)?, value(v)?)
            } else if let Some((k, v)) = p.split_once("==") {
                Expression::Equal(key(k)?, value(v)?)
            } else if let Some((k, v)) = p.split_once('=') {
                Expression::Equal(key(k)?, value(v)?)
            } else {
                Expression::Exists(key(p)?)
            };
            requirements.push(req);
        }
        Ok(PodSelector {
            text: text.trim().to_string(),
            selector: requirements.into_iter().collect(),
        })
    }

    /// Whether `labels` satisfy every requirement (kube-core's matching).
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.selector.matches(labels)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn parses_all_operators() {
        let s = PodSelector::parse(
            "app=web,tier==front,env!=prod,zone in (a, b),x notin (y),team,!debug",
        )
        .unwrap();
        // Seven requirements, each read as the operator it spells.
        assert_eq!(
            s.selector.to_string(),
            "app=web,tier=front,env!=prod,zone in (a,b),x notin (y),team,!debug"
        );
        let ok = l(&[
            ("app", "web"),
            ("tier", "front"),
            ("zone", "b"),
            ("team", "t"),
        ]);
        assert!(s.matches(&ok));
        let mut bad = ok.clone();
        bad.insert("debug".into(), "1".into());
        assert!(!s.matches(&bad));
        let mut bad = ok.clone();
        bad.insert("env".into(), "prod".into());
        assert!(!s.matches(&bad));
    }

    #[test]
    fn rejects_garbage() {
        for bad in [
            "a=b=c",
            "=x",
            "a in (b",
            "a,,b",
            "!a=b",
            "a b",
            "app=-x",
            "x in ()",
            "x notin ( )",
        ] {
            assert!(PodSelector::parse(bad).is_err(), "{bad}");
        }
        assert!(PodSelector::parse("example.com/app=web").is_ok());
    }
}
