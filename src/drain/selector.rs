//! `--pod-selector`: Kubernetes label selector syntax (`a=b`, `a==b`, `a!=b`, `a in (x,y)`,
//! `a notin (x)`, `a`, `!a`), parsed and matched client-side.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;
use serde::{Serialize, Serializer};

/// One requirement of a label selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requirement {
    /// `key=value` / `key==value`.
    Equals(String, String),
    /// `key!=value` (also matches pods without the key).
    NotEquals(String, String),
    /// `key in (v1,v2)`.
    In(String, Vec<String>),
    /// `key notin (v1,v2)` (also matches pods without the key).
    NotIn(String, Vec<String>),
    /// `key`.
    Exists(String),
    /// `!key`.
    DoesNotExist(String),
}

/// A parsed label selector; all requirements must hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodSelector {
    /// The text as given (sent to the API server as `labelSelector`).
    pub text: String,
    /// The parsed requirements.
    pub requirements: Vec<Requirement>,
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

fn key(k: &str) -> Result<String, String> {
    let k = k.trim();
    let name = k.rsplit('/').next().unwrap_or(k);
    if KEY.is_match(k) && name.len() <= 63 && k.len() <= 253 + 1 + 63 {
        Ok(k.to_string())
    } else {
        Err(format!("invalid label key {k:?}"))
    }
}

fn value(v: &str) -> Result<String, String> {
    let v = v.trim();
    if VALUE.is_match(v) && v.len() <= 63 {
        Ok(v.to_string())
    } else {
        Err(format!("invalid label value {v:?}"))
    }
}

/// Splits on commas that are not inside parentheses.
fn split_top(s: &str) -> Result<Vec<&str>, String> {
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
            return Err("unbalanced parentheses".into());
        }
    }
    if depth != 0 {
        return Err("unbalanced parentheses".into());
    }
    out.push(&s[start..]);
    Ok(out)
}

impl PodSelector {
    /// Parses a selector; the error says what is wrong (callers wrap it in kubectl's text).
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut requirements = Vec::new();
        if text.trim().is_empty() {
            return Ok(PodSelector {
                text: String::new(),
                requirements,
            });
        }
        for part in split_top(text)? {
            let p = part.trim();
            if p.is_empty() {
                return Err("empty requirement".into());
            }
            let req = if let Some(c) = SET.captures(p) {
                if c[3].trim().is_empty() {
                    return Err(format!("for '{}' the set of values can't be empty", &c[2]));
                }
                let vals = c[3].split(',').map(value).collect::<Result<Vec<_>, _>>()?;
                if c[2].eq("in") {
                    Requirement::In(key(&c[1])?, vals)
                } else {
                    Requirement::NotIn(key(&c[1])?, vals)
                }
            } else if let Some(k) = p.strip_prefix('!') {
                if k.contains(['=', '!', '(']) {
                    return Err(format!("invalid requirement {p:?}"));
                }
                Requirement::DoesNotExist(key(k)?)
            } else if let Some((k, v)) = p.split_once("!=") {
                Requirement::NotEquals(key(k)?, value(v)?)
            } else if let Some((k, v)) = p.split_once("==") {
                Requirement::Equals(key(k)?, value(v)?)
            } else if let Some((k, v)) = p.split_once('=') {
                Requirement::Equals(key(k)?, value(v)?)
            } else {
                Requirement::Exists(key(p)?)
            };
            requirements.push(req);
        }
        Ok(PodSelector {
            text: text.trim().to_string(),
            requirements,
        })
    }

    /// Whether `labels` satisfy every requirement.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.requirements.iter().all(|r| match r {
            Requirement::Equals(k, v) => labels.get(k) == Some(v),
            Requirement::NotEquals(k, v) => labels.get(k) != Some(v),
            Requirement::In(k, vs) => labels.get(k).is_some_and(|v| vs.contains(v)),
            Requirement::NotIn(k, vs) => labels.get(k).is_none_or(|v| !vs.contains(v)),
            Requirement::Exists(k) => labels.contains_key(k),
            Requirement::DoesNotExist(k) => !labels.contains_key(k),
        })
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
        assert_eq!(s.requirements.len(), 7);
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
