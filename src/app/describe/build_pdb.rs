//! A PDB's describe page: its selector and numbers, conditions, the pods it selects (the
//! watch cache's PDB index), its events.

use k8s_openapi::api::policy::v1::PodDisruptionBudget;

use super::Subject;
use super::build::{COL, Cond, cannot, cols, conditions, events, table};
use super::text::{DLine, Tone};
use crate::app::model::Model;

/// The PDB's sections.
pub fn pdb_lines(
    m: &Model,
    s: &Subject,
    pdb: &Result<Box<PodDisruptionBudget>, String>,
) -> Vec<DLine> {
    let mut out = vec![DLine::heading(format!("PodDisruptionBudget {}", s.key()))];
    let key = s.key();
    let row = m.cache.pdbs.get(&key);
    match pdb {
        Ok(p) => out.extend(spec_lines(m, p)),
        Err(e) => out.push(cannot(&format!("read {}", s.label()), e)),
    }
    out.push(DLine::blank());
    out.extend(selected_pods(m, &key, row.is_some()));
    out.push(DLine::blank());
    out.push(DLine::heading("Events"));
    out.extend(events(m, s));
    out
}

/// The PDB's selector, budget, what it allows now and its conditions.
fn spec_lines(m: &Model, p: &PodDisruptionBudget) -> Vec<DLine> {
    let mut out = Vec::new();
    let spec = p.spec.clone().unwrap_or_default();
    let sel = spec
        .selector
        .clone()
        .map(|sel| match kube::core::Selector::try_from(sel) {
            Ok(s) if s.selects_all() => "<empty>: selects no pod for evictions".into(),
            Ok(s) => s.to_string(),
            Err(e) => format!("cannot be read ({e})"),
        })
        .unwrap_or_else(|| "<none>: selects no pod".into());
    out.push(DLine::field("Selector", COL, sel, Tone::Text));
    let int = |v: &k8s_openapi::apimachinery::pkg::util::intstr::IntOrString| match v {
        k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::Int(i) => i.to_string(),
        k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::String(s) => s.clone(),
    };
    if let Some(v) = &spec.min_available {
        out.push(DLine::field("Min available", COL, int(v), Tone::Text));
    }
    if let Some(v) = &spec.max_unavailable {
        out.push(DLine::field("Max unavailable", COL, int(v), Tone::Text));
    }
    if let Some(st) = &p.status {
        let tone = if st.disruptions_allowed > 0 {
            Tone::Ok
        } else {
            Tone::Warn
        };
        out.push(DLine::field(
            "Allowed now",
            COL,
            format!("{} disruption(s)", st.disruptions_allowed),
            tone,
        ));
        out.push(DLine::field(
            "Healthy",
            COL,
            format!(
                "{} current / {} desired, {} expected pods",
                st.current_healthy, st.desired_healthy, st.expected_pods
            ),
            Tone::Text,
        ));
        out.push(DLine::blank());
        out.push(DLine::heading("Conditions"));
        out.extend(conditions(
            m,
            st.conditions.iter().flatten().map(|c| Cond {
                type_: &c.type_,
                status: &c.status,
                since: Some(c.last_transition_time.0),
                reason: Some(&c.reason),
                message: Some(&c.message),
                good: c.status == "True",
            }),
        ));
    }
    out
}

/// The pods the PDB selects, from the watch cache's index (`cached`: the PDB is in it).
fn selected_pods(m: &Model, key: &str, cached: bool) -> Vec<DLine> {
    let mut out = Vec::new();
    match (m.pods_hidden(), cached) {
        (Some(why), _) => {
            out.push(DLine::heading("Pods it selects"));
            out.push(cannot("tell", why));
        }
        (None, false) => {
            out.push(DLine::heading("Pods it selects"));
            out.push(cannot("tell", "the PDB is not in the watch cache"));
        }
        (None, true) => {
            let keys = m.cache.index.pdb_pods.get(key);
            let pods: Vec<_> = keys
                .into_iter()
                .flatten()
                .filter_map(|k| m.cache.pods.get(k))
                .collect();
            out.push(DLine::heading(format!("Pods it selects ({})", pods.len())));
            if pods.is_empty() {
                out.push(DLine::one("  <none>", Tone::Dim));
            } else {
                let rows = pods
                    .into_iter()
                    .map(|p| {
                        vec![
                            (p.name().to_string(), Tone::Text),
                            (p.status_text().to_string(), Tone::Text),
                            (
                                if p.ready { "ready" } else { "not ready" }.to_string(),
                                if p.ready { Tone::Ok } else { Tone::Warn },
                            ),
                            (
                                p.node_name.as_deref().unwrap_or("<none>").to_string(),
                                Tone::Text,
                            ),
                        ]
                    })
                    .collect();
                out.extend(table(&["NAME", "STATUS", "READY", "NODE"], rows, cols(m)));
            }
        }
    }
    out
}
