//! `metadata` validation: names (RFC 1123 subdomains or labels, by kind), labels, annotations,
//! ownerReferences, and what an update may not change (`ValidateObjectMeta[Update]`).

use std::sync::LazyLock;

use regex::Regex;
use serde_json::Value;

use super::{Errors, FieldError, quote};
use crate::sim::kinds::Kind;

const DNS1123_LABEL_FMT: &str = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
const DNS1123_LABEL_MSG: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character";
const DNS1123_SUBDOMAIN_FMT: &str =
    r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
const DNS1123_SUBDOMAIN_MSG: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
const QUALIFIED_NAME_FMT: &str = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
const QUALIFIED_NAME_MSG: &str = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const LABEL_VALUE_FMT: &str = "(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?";
const LABEL_VALUE_MSG: &str = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
/// `TotalAnnotationSizeLimitB`.
const ANNOTATIONS_MAX: usize = 256 * 1024;

fn anchored(fmt: &str) -> Regex {
    Regex::new(&format!("^(?:{fmt})$")).unwrap()
}

static DNS1123_LABEL: LazyLock<Regex> = LazyLock::new(|| anchored(DNS1123_LABEL_FMT));
const DNS1035_LABEL_FMT: &str = "[a-z]([-a-z0-9]*[a-z0-9])?";
const DNS1035_LABEL_MSG: &str = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character";
static DNS1035_LABEL: LazyLock<Regex> = LazyLock::new(|| anchored(DNS1035_LABEL_FMT));
static DNS1123_SUBDOMAIN: LazyLock<Regex> = LazyLock::new(|| anchored(DNS1123_SUBDOMAIN_FMT));
static QUALIFIED_NAME: LazyLock<Regex> = LazyLock::new(|| anchored(QUALIFIED_NAME_FMT));
static LABEL_VALUE: LazyLock<Regex> = LazyLock::new(|| anchored(LABEL_VALUE_FMT));

/// `validation.RegexError`: the message with examples and the regex.
fn regex_error(msg: &str, fmt: &str, examples: &[&str]) -> String {
    let mut s = format!("{msg} (e.g. ");
    for (i, e) in examples.iter().enumerate() {
        if i > 0 {
            s.push_str(" or ");
        }
        s.push_str(&format!("'{e}', "));
    }
    s.push_str(&format!("regex used for validation is '{fmt}')"));
    s
}

fn max_len(n: usize) -> String {
    format!("must be no more than {n} characters")
}

/// `IsDNS1123Label`.
pub fn dns1123_label(v: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if v.len() > 63 {
        errs.push(max_len(63));
    }
    if !DNS1123_LABEL.is_match(v) {
        errs.push(regex_error(
            DNS1123_LABEL_MSG,
            DNS1123_LABEL_FMT,
            &["my-name", "123-abc"],
        ));
    }
    errs
}

/// `IsDNS1035Label` (Service names).
pub fn dns1035_label(v: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if v.len() > 63 {
        errs.push(max_len(63));
    }
    if !DNS1035_LABEL.is_match(v) {
        errs.push(regex_error(
            DNS1035_LABEL_MSG,
            DNS1035_LABEL_FMT,
            &["my-name", "abc-123"],
        ));
    }
    errs
}

/// `IsDNS1123Subdomain`.
pub fn dns1123_subdomain(v: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if v.len() > 253 {
        errs.push(max_len(253));
    }
    if !DNS1123_SUBDOMAIN.is_match(v) {
        errs.push(regex_error(
            DNS1123_SUBDOMAIN_MSG,
            DNS1123_SUBDOMAIN_FMT,
            &["example.com"],
        ));
    }
    errs
}

/// `IsQualifiedName`: label and annotation keys (`[prefix/]name`).
pub fn qualified_name(v: &str) -> Vec<String> {
    let mut errs = Vec::new();
    let parts: Vec<&str> = v.split('/').collect();
    let name = match parts.as_slice() {
        [name] => *name,
        [prefix, name] => {
            if prefix.is_empty() {
                errs.push("prefix part must be non-empty".to_string());
            } else {
                errs.extend(
                    dns1123_subdomain(prefix)
                        .into_iter()
                        .map(|m| format!("prefix part {m}")),
                );
            }
            *name
        }
        _ => {
            errs.push(format!(
                "a qualified name {} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
                regex_error(QUALIFIED_NAME_MSG, QUALIFIED_NAME_FMT, &["MyName", "my.name", "123-abc"])
            ));
            return errs;
        }
    };
    if name.is_empty() {
        errs.push("name part must be non-empty".into());
    } else if name.len() > 63 {
        errs.push(format!("name part {}", max_len(63)));
    }
    if !QUALIFIED_NAME.is_match(name) {
        errs.push(format!(
            "name part {}",
            regex_error(
                QUALIFIED_NAME_MSG,
                QUALIFIED_NAME_FMT,
                &["MyName", "my.name", "123-abc"]
            )
        ));
    }
    errs
}

/// `IsValidLabelValue`.
pub fn label_value(v: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if v.len() > 63 {
        errs.push(max_len(63));
    }
    if !LABEL_VALUE.is_match(v) {
        errs.push(regex_error(
            LABEL_VALUE_MSG,
            LABEL_VALUE_FMT,
            &["MyValue", "my_value", "12345"],
        ));
    }
    errs
}

/// How the kind's names are checked: namespaces are labels, everything else subdomains.
fn name_rule(kind: Kind) -> fn(&str) -> Vec<String> {
    match kind {
        Kind::Namespace => dns1123_label,
        Kind::Service => dns1035_label,
        _ => dns1123_subdomain,
    }
}

/// `ValidateLabels` at `path`.
pub fn labels(labels: &Value, path: &str) -> Errors {
    let mut errs = Vec::new();
    let Some(m) = labels.as_object() else {
        return errs;
    };
    for (k, v) in m {
        for msg in qualified_name(k) {
            errs.push(FieldError::invalid(path, quote(k), &msg));
        }
        let v = v.as_str().unwrap_or("");
        for msg in label_value(v) {
            errs.push(FieldError::invalid(path, quote(v), &msg));
        }
    }
    errs
}

fn annotations(ann: &Value, path: &str) -> Errors {
    let mut errs = Vec::new();
    let Some(m) = ann.as_object() else {
        return errs;
    };
    let mut total = 0;
    for (k, v) in m {
        for msg in qualified_name(&k.to_lowercase()) {
            errs.push(FieldError::invalid(path, quote(k), &msg));
        }
        total += k.len() + v.as_str().map_or(0, str::len);
    }
    if total > ANNOTATIONS_MAX {
        errs.push(FieldError::too_long(
            path,
            &format!("must have at most {ANNOTATIONS_MAX} bytes"),
        ));
    }
    errs
}

fn owner_references(refs: &Value, path: &str) -> Errors {
    let mut errs = Vec::new();
    let mut controllers = 0;
    for (i, r) in refs.as_array().into_iter().flatten().enumerate() {
        let p = format!("{path}[{i}]");
        for (field, what) in [
            ("apiVersion", "version must not be empty"),
            ("kind", "kind must not be empty"),
            ("name", "name must not be empty"),
            ("uid", "uid must not be empty"),
        ] {
            if r[field].as_str().unwrap_or("").is_empty() {
                let f = if field == "apiVersion" {
                    "apiVersion"
                } else {
                    field
                };
                errs.push(FieldError::invalid(
                    &format!("{p}.{f}"),
                    "\"\"".into(),
                    what,
                ));
            }
        }
        if r["controller"] == true {
            controllers += 1;
        }
    }
    if controllers > 1 {
        errs.push(FieldError::invalid(
            path,
            "[]".into(),
            "Only one reference can have Controller set to true",
        ));
    }
    errs
}

/// `ValidateObjectMeta` for an object of `kind`.
pub fn object_meta(kind: Kind, meta: &Value) -> Errors {
    let mut errs = Vec::new();
    let rule = name_rule(kind);
    let name = meta["name"].as_str().unwrap_or("");
    let generate = meta["generateName"].as_str().unwrap_or("");
    if !generate.is_empty() {
        // A prefix may end in '-' (a random suffix follows).
        let masked = match generate.strip_suffix('-') {
            Some(p) => format!("{p}a"),
            None => generate.to_string(),
        };
        for msg in rule(&masked) {
            errs.push(FieldError::invalid(
                "metadata.generateName",
                quote(generate),
                &msg,
            ));
        }
    }
    if name.is_empty() {
        if generate.is_empty() {
            errs.push(FieldError::required(
                "metadata.name",
                "name or generateName is required",
            ));
        }
    } else {
        for msg in rule(name) {
            errs.push(FieldError::invalid("metadata.name", quote(name), &msg));
        }
    }
    if kind.namespaced() {
        let ns = meta["namespace"].as_str().unwrap_or("");
        if ns.is_empty() {
            errs.push(FieldError::required("metadata.namespace", ""));
        } else {
            for msg in dns1123_label(ns) {
                errs.push(FieldError::invalid("metadata.namespace", quote(ns), &msg));
            }
        }
    }
    errs.extend(labels(&meta["labels"], "metadata.labels"));
    errs.extend(annotations(&meta["annotations"], "metadata.annotations"));
    errs.extend(owner_references(
        &meta["ownerReferences"],
        "metadata.ownerReferences",
    ));
    errs
}

/// `ValidateObjectMetaUpdate`: what metadata may not change.
pub fn immutable_meta(old: &Value, new: &Value) -> Errors {
    let mut errs = Vec::new();
    for field in ["name", "namespace"] {
        if !new[field].is_null() && new[field] != old[field] {
            errs.push(FieldError::invalid(
                &format!("metadata.{field}"),
                super::go_value(&new[field]),
                "field is immutable",
            ));
        }
    }
    errs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_rfc1123() {
        assert!(dns1123_subdomain("web.example-1").is_empty());
        assert_eq!(dns1123_subdomain("Bad_Name").len(), 1);
        assert_eq!(dns1123_subdomain(&"a".repeat(254)), [max_len(253)]);
        assert_eq!(dns1123_label("a.b").len(), 1);
        assert!(dns1123_label("kube-system").is_empty());
    }

    #[test]
    fn qualified_names_and_values() {
        assert!(qualified_name("app.kubernetes.io/name").is_empty());
        assert!(qualified_name("node-role.kubernetes.io/control-plane").is_empty());
        assert_eq!(
            qualified_name("bad key"),
            [
                "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
            ]
        );
        assert_eq!(qualified_name("a/b/c").len(), 1);
        assert_eq!(qualified_name("/x"), ["prefix part must be non-empty"]);
        assert!(label_value("").is_empty());
        assert_eq!(label_value("-x").len(), 1);
        assert_eq!(label_value(&"v".repeat(64)), [max_len(63)]);
    }
}
