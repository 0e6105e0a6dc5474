//! A pod's scheduling constraints beyond nodeSelector and tolerations: required node affinity
//! (evaluated like the scheduler's `NodeAffinity` filter) and whether it declares what the
//! placement forecast does not model (required pod (anti-)affinity, topology spread).

use std::sync::Arc;

use super::super::raw;

/// One `matchExpressions` / `matchFields` requirement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    pub key: String,
    /// `In`, `NotIn`, `Exists`, `DoesNotExist`, `Gt`, `Lt`.
    pub operator: String,
    pub values: Vec<String>,
}

impl Requirement {
    /// Whether the value found for the key (`None`: absent) satisfies the requirement.
    pub fn matches(&self, found: Option<&str>) -> bool {
        let num = |s: &str| s.parse::<i64>().ok();
        match self.operator.as_str() {
            "In" => found.is_some_and(|v| self.values.iter().any(|x| x == v)),
            "NotIn" => found.is_none_or(|v| !self.values.iter().any(|x| x == v)),
            "Exists" => found.is_some(),
            "DoesNotExist" => found.is_none(),
            "Gt" | "Lt" => {
                let (Some(v), Some(limit)) = (
                    found.and_then(num),
                    self.values.first().and_then(|s| num(s)),
                ) else {
                    return false;
                };
                if self.operator == "Gt" {
                    v > limit
                } else {
                    v < limit
                }
            }
            _ => false,
        }
    }
}

/// A node selector term: its requirements are ANDed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NodeTerm {
    /// On the node's labels.
    pub expressions: Vec<Requirement>,
    /// On the node's fields (only `metadata.name` exists).
    pub fields: Vec<Requirement>,
}

/// The constraints of a pod that has any (most pods have none: `PodRow::constraints` is `None`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Constraints {
    /// `requiredDuringSchedulingIgnoredDuringExecution` node selector terms (ORed); empty: none.
    pub node_terms: Vec<NodeTerm>,
    /// Declares required pod affinity or anti-affinity.
    pub pod_affinity: bool,
    /// Declares topology spread constraints.
    pub topology_spread: bool,
}

impl Constraints {
    /// Whether the node (its name and label lookup) satisfies the required node affinity.
    pub fn node_matches<'a>(&self, name: &str, label: impl Fn(&str) -> Option<&'a str>) -> bool {
        self.node_terms.is_empty()
            || self.node_terms.iter().any(|t| {
                t.expressions.iter().all(|r| r.matches(label(&r.key)))
                    && t.fields
                        .iter()
                        .all(|r| r.matches((r.key == "metadata.name").then_some(name)))
            })
    }

    /// What the forecast cannot model about this pod, in a few words.
    pub fn unmodelled(&self) -> Option<&'static str> {
        match (self.pod_affinity, self.topology_spread) {
            (true, _) => Some("pod (anti-)affinity"),
            (false, true) => Some("topology spread"),
            _ => None,
        }
    }
}

fn requirement(r: raw::Requirement) -> Requirement {
    Requirement {
        key: r.key,
        operator: r.operator,
        values: r.values,
    }
}

/// The constraints of a pod spec, `None` when it has none of them.
pub(crate) fn from_spec(
    affinity: Option<raw::Affinity>,
    spread: usize,
) -> Option<Arc<Constraints>> {
    let a = affinity.unwrap_or_default();
    let required = |p: &Option<raw::PodAffinity>| {
        p.as_ref().is_some_and(|p| {
            !p.required_during_scheduling_ignored_during_execution
                .is_empty()
        })
    };
    let c = Constraints {
        node_terms: a
            .node_affinity
            .and_then(|n| n.required_during_scheduling_ignored_during_execution)
            .map(|s| {
                s.node_selector_terms
                    .into_iter()
                    .map(|t| NodeTerm {
                        expressions: t.match_expressions.into_iter().map(requirement).collect(),
                        fields: t.match_fields.into_iter().map(requirement).collect(),
                    })
                    .collect()
            })
            .unwrap_or_default(),
        pod_affinity: required(&a.pod_affinity) || required(&a.pod_anti_affinity),
        topology_spread: spread > 0,
    };
    (c != Constraints::default()).then(|| Arc::new(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(key: &str, op: &str, values: &[&str]) -> Requirement {
        Requirement {
            key: key.into(),
            operator: op.into(),
            values: values.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn operators_and_terms() {
        assert!(req("zone", "In", &["a", "b"]).matches(Some("b")));
        assert!(!req("zone", "In", &["a"]).matches(None));
        assert!(req("zone", "NotIn", &["a"]).matches(None));
        assert!(req("gpu", "DoesNotExist", &[]).matches(None));
        assert!(req("cores", "Gt", &["4"]).matches(Some("8")));
        assert!(!req("cores", "Lt", &["4"]).matches(Some("x")));
        let c = Constraints {
            node_terms: vec![
                NodeTerm {
                    expressions: vec![req("disk", "In", &["ssd"])],
                    fields: vec![],
                },
                NodeTerm {
                    expressions: vec![],
                    fields: vec![req("metadata.name", "In", &["n2"])],
                },
            ],
            ..Default::default()
        };
        let labels = |k: &str| (k == "disk").then_some("ssd");
        assert!(c.node_matches("n1", labels));
        assert!(c.node_matches("n2", |_| None), "second term by name");
        assert!(!c.node_matches("n1", |_| None));
    }
}
