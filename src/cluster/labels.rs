//! Label selector matching, as the API server does it for PDBs and workloads.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use kube::core::{Selector, SelectorExt};

/// Whether `selector` matches `labels`, by kube-core's matching.
///
/// A missing or empty selector matches nothing here: that is the PDB and eviction rule
/// (drain-semantics §2.9), the only place kubedrain matches selectors. So does one that
/// cannot be read (an unknown operator, `In` without values): the API server's
/// `LabelSelectorAsSelector` refuses it, and the disruption controller then selects nothing.
pub fn selector_matches(
    selector: Option<&LabelSelector>,
    labels: &BTreeMap<String, String>,
) -> bool {
    let Some(sel) = selector else { return false };
    match Selector::try_from(sel.clone()) {
        Ok(s) => !s.selects_all() && s.matches(labels),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelectorRequirement;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn empty_or_missing_selector_matches_nothing() {
        let l = labels(&[("app", "web")]);
        assert!(!selector_matches(None, &l));
        assert!(!selector_matches(Some(&LabelSelector::default()), &l));
    }

    #[test]
    fn match_labels_and_expressions() {
        let l = labels(&[("app", "web"), ("tier", "front")]);
        let sel = LabelSelector {
            match_labels: Some(labels(&[("app", "web")])),
            match_expressions: Some(vec![LabelSelectorRequirement {
                key: "tier".into(),
                operator: "In".into(),
                values: Some(vec!["front".into(), "edge".into()]),
            }]),
        };
        assert!(selector_matches(Some(&sel), &l));
        let l2 = labels(&[("app", "web"), ("tier", "back")]);
        assert!(!selector_matches(Some(&sel), &l2));
    }

    #[test]
    fn unreadable_selector_matches_nothing() {
        let l = labels(&[("app", "web")]);
        let req = |op: &str, values: Option<Vec<String>>| LabelSelector {
            match_labels: None,
            match_expressions: Some(vec![LabelSelectorRequirement {
                key: "tier".into(),
                operator: op.into(),
                values,
            }]),
        };
        assert!(!selector_matches(Some(&req("Near", None)), &l));
        // `NotIn` without values would select every pod lacking the key; it selects none.
        assert!(!selector_matches(Some(&req("NotIn", None)), &l));
        assert!(selector_matches(
            Some(&req("NotIn", Some(vec!["db".into()]))),
            &l
        ));
    }
}
