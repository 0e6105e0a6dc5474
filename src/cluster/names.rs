//! Object names checked before they go into a request path: a node name is a DNS-1123
//! subdomain and a namespace a DNS-1123 label, as the API server requires, so `node1/status`
//! or `node1?dryRun=All` can never reach a subresource or add a query parameter.

/// A name the API server would refuse: which name, and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// A node name that is not a DNS-1123 subdomain.
    #[error(
        "invalid node name {name:?}: {why} (a node name is a DNS-1123 subdomain, e.g. worker-1.example)"
    )]
    Node { name: String, why: &'static str },
    /// A namespace that is not a DNS-1123 label.
    #[error(
        "invalid namespace {name:?}: {why} (a namespace is a DNS-1123 label, e.g. kube-system)"
    )]
    Namespace { name: String, why: &'static str },
}

/// Longest DNS-1123 subdomain (node names).
const SUBDOMAIN_MAX: usize = 253;
/// Longest DNS-1123 label (namespaces).
const LABEL_MAX: usize = 63;

fn alnum(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}

/// A DNS-1123 label: lowercase letters, digits and `-`, starting and ending alphanumeric.
fn label_error(s: &str) -> Option<&'static str> {
    if s.is_empty() {
        return Some("it is empty");
    }
    if !s.chars().all(|c| alnum(c) || c == '-') {
        return Some("only lowercase letters, digits, '-' and '.' are allowed");
    }
    if !s.starts_with(alnum) || !s.ends_with(alnum) {
        return Some("it must start and end with a lowercase letter or digit");
    }
    None
}

/// Checks a node name (DNS-1123 subdomain); the error says what is wrong with it.
pub fn node_name(name: &str) -> Result<(), NameError> {
    let why = if name.is_empty() {
        Some("it is empty")
    } else if name.len() > SUBDOMAIN_MAX {
        Some("it is longer than 253 characters")
    } else if !name.chars().all(|c| alnum(c) || c == '-' || c == '.') {
        Some("only lowercase letters, digits, '-' and '.' are allowed")
    } else if name.split('.').any(str::is_empty) {
        Some("it has an empty part between dots")
    } else {
        name.split('.').find_map(label_error)
    };
    match why {
        Some(why) => Err(NameError::Node {
            name: name.to_string(),
            why,
        }),
        None => Ok(()),
    }
}

/// Checks a namespace name (DNS-1123 label).
pub fn namespace(name: &str) -> Result<(), NameError> {
    let why = if name.len() > LABEL_MAX {
        Some("it is longer than 63 characters")
    } else {
        label_error(name).map(|w| {
            if w.contains("'.'") {
                "only lowercase letters, digits and '-' are allowed"
            } else {
                w
            }
        })
    };
    match why {
        Some(why) => Err(NameError::Namespace {
            name: name.to_string(),
            why,
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_names() {
        for ok in [
            "node1",
            "ip-10-0-0-1.ec2.internal",
            "a",
            "0",
            &"a".repeat(253),
        ] {
            assert!(node_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "node1/status",
            "node1?dryRun=All",
            "Node1",
            "-node",
            "node-",
            "a..b",
            ".a",
            "a b",
            "nöde",
            "../nodes",
            "node1#x",
            "node%2Fstatus",
            &"a".repeat(254),
        ] {
            let e = node_name(bad).unwrap_err().to_string();
            assert!(e.starts_with("invalid node name"), "{bad}: {e}");
        }
        assert!(
            node_name("a..b")
                .unwrap_err()
                .to_string()
                .contains("empty part")
        );
        assert!(
            node_name("node1/status")
                .unwrap_err()
                .to_string()
                .contains("only lowercase letters, digits, '-' and '.'")
        );
    }

    #[test]
    fn namespaces() {
        assert!(namespace("kube-system").is_ok());
        for bad in ["", "a.b", "a/b", "A", &"a".repeat(64)] {
            assert!(namespace(bad).is_err(), "{bad}");
        }
        assert!(
            namespace("a.b")
                .unwrap_err()
                .to_string()
                .contains("'-' are allowed")
        );
    }
}
