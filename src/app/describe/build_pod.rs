//! A pod's describe page: where it runs, its owner chain, containers, conditions, volumes,
//! the PDBs that select it, its events.

use k8s_openapi::api::core::v1::{Container, ContainerStatus, Pod};

use super::Subject;
use super::build::{COL, Cond, ago, cannot, cols, conditions, events, map_field, table};
use super::facts::{self, Hop, PdbMatch};
use super::text::{DLine, Tone};
use crate::app::model::{Model, WatchState};
use crate::cluster::quantity::{format_bytes, format_cpu};
use crate::cluster::watch::Kind;

/// The pod's sections.
pub fn pod_lines(
    m: &Model,
    s: &Subject,
    pod: &Result<Box<Pod>, String>,
    owners: &[Hop],
) -> Vec<DLine> {
    let mut out = vec![DLine::heading(format!("Pod {}", s.key()))];
    let p = match pod {
        Ok(p) => Some(p),
        Err(e) => {
            out.push(cannot(&format!("read {}", s.label()), e));
            None
        }
    };
    if let Some(p) = p {
        summary(m, p, &mut out);
    }
    out.push(DLine::blank());
    out.push(DLine::heading("Owner chain"));
    out.extend(owner_chain(s, owners));
    if let Some(p) = p {
        containers(p, &mut out);
        let st = p.status.clone().unwrap_or_default();
        out.push(DLine::blank());
        out.push(DLine::heading("Conditions"));
        out.extend(conditions(
            m,
            st.conditions.iter().flatten().map(|c| Cond {
                type_: &c.type_,
                status: &c.status,
                since: c.last_transition_time.as_ref().map(|t| t.0),
                reason: c.reason.as_deref(),
                message: c.message.as_deref(),
                good: c.status == "True",
            }),
        ));
        out.push(DLine::blank());
        out.push(DLine::heading("Volumes"));
        out.extend(volumes(p, cols(m)));
    }
    out.push(DLine::blank());
    out.push(DLine::heading("PodDisruptionBudgets that select it"));
    out.extend(pdbs(m, s, p.map(|p| &**p)));
    out.push(DLine::blank());
    out.push(DLine::heading("Events"));
    out.extend(events(m, s));
    out
}

fn summary(m: &Model, p: &Pod, out: &mut Vec<DLine>) {
    let spec = p.spec.clone().unwrap_or_default();
    let st = p.status.clone().unwrap_or_default();
    let node = match (&spec.node_name, &st.host_ip) {
        (Some(n), Some(ip)) => format!("{n} ({ip})"),
        (Some(n), None) => n.clone(),
        (None, _) => "<none>: not scheduled".into(),
    };
    out.push(DLine::field("Node", COL, node, Tone::Text));
    let phase = st.phase.clone().unwrap_or_else(|| "Pending".into());
    let mut status = phase.clone();
    let key = format!(
        "{}/{}",
        p.metadata.namespace.as_deref().unwrap_or(""),
        p.metadata.name.as_deref().unwrap_or("")
    );
    if let Some(row) = m.cache.pods.get(&key)
        && row.status_text() != phase
    {
        status.push_str(&format!(" (kubectl shows {})", row.status_text()));
    }
    if p.metadata.deletion_timestamp.is_some() {
        status.push_str(", terminating");
    }
    let tone = match phase.as_str() {
        "Running" | "Succeeded" => Tone::Text,
        "Failed" => Tone::Bad,
        _ => Tone::Warn,
    };
    out.push(DLine::field("Phase", COL, status, tone));
    if let Some(ip) = &st.pod_ip {
        out.push(DLine::field("IP", COL, ip.clone(), Tone::Text));
    }
    out.push(DLine::field(
        "Created",
        COL,
        ago(m, p.metadata.creation_timestamp.as_ref().map(|t| t.0)),
        Tone::Text,
    ));
    if let Some(q) = &st.qos_class {
        out.push(DLine::field("QoS class", COL, q.clone(), Tone::Text));
    }
    if let Some(pc) = &spec.priority_class_name {
        out.push(DLine::field("Priority class", COL, pc.clone(), Tone::Text));
    }
    if let Some(g) = spec.termination_grace_period_seconds {
        out.push(DLine::field(
            "Grace period",
            COL,
            format!("{g}s"),
            Tone::Text,
        ));
    }
    out.extend(map_field("Labels", p.metadata.labels.as_ref()));
}

/// Pod → controller → its controller…, as far as the reads went.
fn owner_chain(s: &Subject, owners: &[Hop]) -> Vec<DLine> {
    let mut out = vec![DLine::one(format!("  Pod {}", s.name()), Tone::Text)];
    if owners.is_empty() {
        out.push(
            DLine::one(
                "    no controller: a bare pod (nothing recreates it; a drain needs --force)",
                Tone::Warn,
            )
            .hang(6),
        );
    }
    for (i, h) in owners.iter().enumerate() {
        let indent = "  ".repeat(i + 2);
        let mut l = DLine::one(
            format!("{indent}└ {} {}", h.owner.kind, h.owner.name),
            Tone::Text,
        )
        .hang(indent.len() + 2);
        if let Err(e) = &h.read {
            l = l.push(format!("  cannot read it: {e}"), Tone::Bad);
        }
        out.push(l);
    }
    out
}

fn resources(c: &Container, limits: bool) -> String {
    let r = c.resources.as_ref();
    let map = if limits {
        r.and_then(|r| r.limits.as_ref())
    } else {
        r.and_then(|r| r.requests.as_ref())
    };
    let parts: Vec<String> = map
        .into_iter()
        .flatten()
        .map(|(k, v)| format!("{k} {}", v.0))
        .collect();
    if parts.is_empty() {
        "<none>".into()
    } else {
        parts.join(", ")
    }
}

fn state(cs: Option<&ContainerStatus>) -> (String, Tone) {
    let Some(st) = cs.and_then(|c| c.state.as_ref()) else {
        return ("not started".into(), Tone::Warn);
    };
    if st.running.is_some() {
        ("Running".into(), Tone::Ok)
    } else if let Some(w) = &st.waiting {
        let mut s = format!("Waiting ({})", w.reason.as_deref().unwrap_or("?"));
        if let Some(msg) = w.message.as_deref().filter(|m| !m.is_empty()) {
            s.push_str(&format!(": {msg}"));
        }
        (s, Tone::Warn)
    } else if let Some(t) = &st.terminated {
        let tone = if t.exit_code == 0 {
            Tone::Text
        } else {
            Tone::Bad
        };
        (
            format!(
                "Terminated ({}, exit code {})",
                t.reason.as_deref().unwrap_or("?"),
                t.exit_code
            ),
            tone,
        )
    } else {
        ("unknown".into(), Tone::Warn)
    }
}

fn containers(p: &Pod, out: &mut Vec<DLine>) {
    let spec = p.spec.clone().unwrap_or_default();
    let st = p.status.clone().unwrap_or_default();
    let groups = [
        (
            "Init containers",
            spec.init_containers.unwrap_or_default(),
            st.init_container_statuses.unwrap_or_default(),
        ),
        (
            "Containers",
            spec.containers,
            st.container_statuses.unwrap_or_default(),
        ),
    ];
    for (title, list, statuses) in groups {
        if list.is_empty() {
            continue;
        }
        out.push(DLine::blank());
        out.push(DLine::heading(title));
        for c in list {
            let cs = statuses.iter().find(|s| s.name == c.name);
            out.push(DLine::one(format!("  {}", c.name), Tone::Label));
            out.push(DLine::field(
                "  Image",
                COL,
                c.image.clone().unwrap_or_default(),
                Tone::Text,
            ));
            out.push(DLine::field(
                "  Requests",
                COL,
                resources(&c, false),
                Tone::Text,
            ));
            out.push(DLine::field(
                "  Limits",
                COL,
                resources(&c, true),
                Tone::Text,
            ));
            let (text, tone) = state(cs);
            out.push(DLine::field("  State", COL, text, tone));
            let (ready, restarts) = cs.map_or((false, 0), |s| (s.ready, s.restart_count));
            out.push(DLine::field(
                "  Ready",
                COL,
                format!("{ready}, {restarts} restart(s)"),
                if ready { Tone::Text } else { Tone::Warn },
            ));
        }
    }
    let r = facts::pod_resources(p);
    out.push(DLine::field(
        "Pod requests",
        COL,
        format!(
            "cpu {}, memory {} (what the scheduler counts)",
            format_cpu(r.requests.cpu_m),
            format_bytes(r.requests.mem)
        ),
        Tone::Text,
    ));
}

/// Each volume: its name and source (emptyDir data goes with the pod).
fn volumes(p: &Pod, cols: usize) -> Vec<DLine> {
    let vols = p
        .spec
        .as_ref()
        .and_then(|s| s.volumes.clone())
        .unwrap_or_default();
    if vols.is_empty() {
        return vec![DLine::one("  <none>", Tone::Dim)];
    }
    let rows = vols
        .iter()
        .map(|v| {
            let (kind, detail, tone) = volume_source(v);
            vec![
                (v.name.clone(), Tone::Text),
                (kind, tone),
                (detail, Tone::Text),
            ]
        })
        .collect();
    table(&["NAME", "TYPE", "SOURCE"], rows, cols)
}

fn volume_source(v: &k8s_openapi::api::core::v1::Volume) -> (String, String, Tone) {
    let val = serde_json::to_value(v).unwrap_or_default();
    let Some((kind, src)) = val
        .as_object()
        .and_then(|o| o.iter().find(|(k, _)| k.as_str() != "name"))
    else {
        return ("<unknown>".into(), String::new(), Tone::Dim);
    };
    let detail = match kind.as_str() {
        "emptyDir" => "data is lost when the pod leaves the node".to_string(),
        "configMap" | "secret" => src
            .get("name")
            .or_else(|| src.get("secretName"))
            .and_then(|n| n.as_str())
            .unwrap_or("")
            .to_string(),
        "hostPath" => src["path"].as_str().unwrap_or("").to_string(),
        "persistentVolumeClaim" => src["claimName"].as_str().unwrap_or("").to_string(),
        "projected" => src["sources"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_object().and_then(|o| o.keys().next().cloned()))
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default(),
        _ => String::new(),
    };
    let tone = if kind == "emptyDir" {
        Tone::Warn
    } else {
        Tone::Text
    };
    (kind.clone(), detail, tone)
}

/// The PDBs of the pod's namespace whose selector selects it (from the PDB watch, labels of
/// the read pod, else of the cached row).
fn pdbs(m: &Model, s: &Subject, pod: Option<&Pod>) -> Vec<DLine> {
    match m.watch.get(&Kind::Pdbs) {
        Some(WatchState::Failed { error, .. }) => {
            return vec![cannot("tell (the PDB watch failed)", error)];
        }
        Some(WatchState::Connecting) => {
            return vec![DLine::one("  PDBs are still being listed…", Tone::Dim)];
        }
        _ => {}
    }
    let ns = s.namespace().unwrap_or("");
    let labels = match (pod, m.cache.pods.get(&s.key())) {
        (Some(p), _) => p.metadata.labels.clone().unwrap_or_default(),
        (None, Some(row)) => row.labels().clone(),
        (None, None) => return vec![cannot("tell", "the pod's labels are not known")],
    };
    let found = facts::pdbs_covering(ns, &labels, m.cache.pdbs.values());
    if found.is_empty() {
        return vec![
            DLine::one(
                "  none: evicting it is not limited by a disruption budget",
                Tone::Dim,
            )
            .hang(4),
        ];
    }
    found
        .into_iter()
        .map(|(p, how)| match how {
            PdbMatch::Selects => {
                let tone = if p.disruptions_allowed > 0 { Tone::Ok } else { Tone::Warn };
                DLine::one(format!("  {}", p.key()), Tone::Text)
                    .push(
                        format!(
                            "  {} disruption(s) allowed · healthy {} current / {} desired · {} expected",
                            p.disruptions_allowed,
                            p.current_healthy,
                            p.desired_healthy,
                            p.expected_pods
                        ),
                        tone,
                    )
                    .hang(4)
            }
            PdbMatch::Invalid(e) => DLine::one(
                format!(
                    "  {}: its selector cannot be read ({e}); the API server ignores it",
                    p.key()
                ),
                Tone::Warn,
            )
            .hang(4),
        })
        .collect()
}
