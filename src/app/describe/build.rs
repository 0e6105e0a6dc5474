//! The page's lines: kubectl-describe-like sections built from the fetched facts and the
//! live cache (events, PDBs, pods). Pure; a section that cannot be known says why.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Node, Pod};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

use super::facts::{self, Allocated};
use super::text::{DLine, Tone, width};
use super::{Facts, Mode, Page, Subject};
use crate::app::model::{Model, WatchState};
use crate::cluster::age;
use crate::cluster::quantity::{format_bytes, format_cpu};
use crate::cluster::watch::Kind;

/// Where the values of `Label:  value` lines start.
pub const COL: usize = 18;

/// The page's lines for its mode.
pub fn lines(m: &Model, page: &Page) -> Vec<DLine> {
    match page.mode {
        Mode::Events => {
            let mut out = vec![DLine::heading(format!(
                "Events of {} (newest last)",
                page.subject.label()
            ))];
            out.extend(events(m, &page.subject));
            out
        }
        Mode::Yaml => match &page.facts {
            None => loading(&page.subject),
            Some(Facts::Yaml(Ok(y))) => yaml_lines(y),
            Some(Facts::Yaml(Err(e))) => vec![cannot(&format!("read {}", page.subject.label()), e)],
            Some(_) => Vec::new(),
        },
        Mode::Describe => match &page.facts {
            None => loading(&page.subject),
            Some(Facts::Node { node, pods }) => node_lines(m, page.subject.name(), node, pods),
            Some(Facts::Pod { pod, owners }) => {
                super::build_pod::pod_lines(m, &page.subject, pod, owners)
            }
            Some(Facts::Pdb { pdb }) => pdb_lines(m, &page.subject, pdb),
            Some(Facts::Yaml(_)) => Vec::new(),
        },
    }
}

fn loading(s: &Subject) -> Vec<DLine> {
    vec![DLine::one(
        format!("reading {} from the API server…", s.label()),
        Tone::Dim,
    )]
}

/// `cannot <what>: <why>` in the warning colour.
pub fn cannot(what: &str, why: &str) -> DLine {
    DLine::one(format!("  cannot {what}: {why}"), Tone::Bad).hang(4)
}

/// YAML, one line per line; wrapped rows indent under the line's own indent.
fn yaml_lines(y: &str) -> Vec<DLine> {
    y.lines()
        .map(|l| {
            let indent = l.len() - l.trim_start_matches([' ', '-']).len();
            DLine::one(l, Tone::Text).hang(indent + 2)
        })
        .collect()
}

/// `k=v` lines of a map, or `<none>`.
pub fn map_field(label: &str, map: Option<&BTreeMap<String, String>>) -> Vec<DLine> {
    let mut out = Vec::new();
    for (i, (k, v)) in map.into_iter().flatten().enumerate() {
        let l = if i == 0 { label } else { "" };
        out.push(cont(l, format!("{k}={v}")));
    }
    if out.is_empty() {
        out.push(DLine::field(label, COL, "<none>", Tone::Dim));
    }
    out
}

/// A field line; an empty label continues the field above.
pub fn cont(label: &str, value: String) -> DLine {
    if label.is_empty() {
        DLine::one(format!("{}{value}", " ".repeat(COL)), Tone::Text).hang(COL)
    } else {
        DLine::field(label, COL, value, Tone::Text)
    }
}

/// `5m ago` from an optional time.
pub fn ago(m: &Model, t: Option<jiff::Timestamp>) -> String {
    match t {
        Some(t) => format!("{} ago", age::human((m.now - t).get_seconds())),
        None => "unknown".into(),
    }
}

/// The width the page's text has (lines are laid out for it; rebuilt on resize).
pub fn cols(m: &Model) -> usize {
    super::geometry(m.size).0
}

/// Rows padded into columns (the last column is not padded), two spaces apart, indented 2.
/// Wider than `cols`: each row becomes its first cell, then `HEAD value` pairs under it.
pub fn table(head: &[&str], rows: Vec<Vec<(String, Tone)>>, cols: usize) -> Vec<DLine> {
    let n = head.len();
    let mut w: Vec<usize> = head.iter().map(|h| width(h)).collect();
    for r in &rows {
        for (i, (c, _)) in r.iter().enumerate().take(n) {
            w[i] = w[i].max(width(c));
        }
    }
    if 2 + w.iter().map(|w| w + 2).sum::<usize>() > cols + 2 {
        return stacked(head, rows);
    }
    let line = |cells: Vec<(String, Tone)>, head: bool| {
        let mut l = DLine::one("  ", Tone::Text);
        let last = cells.len().saturating_sub(1);
        let mut at = 2;
        for (i, (c, tone)) in cells.into_iter().enumerate() {
            let pad = if i < last {
                " ".repeat(w[i] - width(&c) + 2)
            } else {
                String::new()
            };
            if i < last {
                at += w[i] + 2;
            }
            l = l.push(format!("{c}{pad}"), if head { Tone::Dim } else { tone });
        }
        l.hang(at.min(24))
    };
    let mut out = vec![line(
        head.iter().map(|h| (h.to_string(), Tone::Dim)).collect(),
        true,
    )];
    out.extend(rows.into_iter().map(|r| line(r, false)));
    out
}

fn stacked(head: &[&str], rows: Vec<Vec<(String, Tone)>>) -> Vec<DLine> {
    let mut out = Vec::new();
    for r in rows {
        let mut cells = r.into_iter();
        let Some((first, tone)) = cells.next() else {
            continue;
        };
        out.push(DLine::one(format!("  {first}"), tone).hang(4));
        let mut l = DLine::one("   ", Tone::Text).hang(4);
        for (h, (c, tone)) in head.iter().skip(1).zip(cells) {
            if c.is_empty() {
                continue;
            }
            l = l
                .push(format!(" {h} "), Tone::Dim)
                .push(format!("{c} "), tone);
        }
        out.push(l);
    }
    out
}

/// The subject's events from the live cache, newest last, full messages (wrapped).
pub fn events(m: &Model, s: &Subject) -> Vec<DLine> {
    match m.watch.get(&Kind::Events) {
        Some(WatchState::Failed { error, .. }) => {
            return vec![cannot("tell (the events watch failed)", error)];
        }
        Some(WatchState::Connecting) => {
            return vec![DLine::one("  events are still being listed…", Tone::Dim)];
        }
        _ => {}
    }
    let ns = s.namespace();
    let mut evs: Vec<_> = m
        .cache
        .events
        .values()
        .filter(|e| e.object_kind == s.kind() && e.object_name == s.name())
        .filter(|e| {
            ns.is_none()
                || e.object_namespace
                    .as_deref()
                    .or(e.meta.namespace.as_deref())
                    == ns
        })
        .collect();
    if evs.is_empty() {
        return vec![DLine::one(
            "  <none> (the API server keeps events about an hour)",
            Tone::Dim,
        )];
    }
    evs.sort_by_key(|e| e.last_seen);
    evs.into_iter()
        .map(|e| {
            let when = match e.last_seen {
                Some(t) => age::human((m.now - t).get_seconds()),
                None => "?".into(),
            };
            let tone = if e.is_warning() {
                Tone::Warn
            } else {
                Tone::Text
            };
            let mut l = DLine::one(format!("  {when:>5}  "), Tone::Dim)
                .push(format!("{:<7}  {}", e.type_, e.reason), tone);
            if e.count > 1 {
                l = l.push(format!(" ×{}", e.count), Tone::Dim);
            }
            if !e.source.is_empty() {
                l = l.push(format!(" ({})", e.source), Tone::Dim);
            }
            l.push(format!(": {}", e.message), Tone::Text).hang(9)
        })
        .collect()
}

fn q(map: Option<&BTreeMap<String, Quantity>>, k: &str) -> String {
    map.and_then(|m| m.get(k))
        .map_or("-".into(), |v| v.0.clone())
}

fn node_lines(
    m: &Model,
    name: &str,
    node: &Result<Box<Node>, String>,
    pods: &Result<Vec<Pod>, String>,
) -> Vec<DLine> {
    let mut out = vec![DLine::heading(format!("Node {name}"))];
    let row = m.cache.nodes.get(name);
    match node {
        Ok(n) => node_facts(m, n, &mut out),
        Err(e) => out.push(cannot(&format!("read node {name}"), e)),
    }
    // Allocatable: the node read, else what the watch knows.
    let alloc = match (node, row) {
        (Ok(n), _) => {
            let a = n.status.as_ref().and_then(|s| s.allocatable.as_ref());
            let get = |k: &str| a.and_then(|a| a.get(k)).map(|q| q.0.clone());
            (
                get("cpu")
                    .and_then(|q| crate::cluster::quantity::cpu_millis(&q))
                    .unwrap_or(0),
                get("memory")
                    .and_then(|q| crate::cluster::quantity::bytes(&q))
                    .unwrap_or(0),
                get("pods")
                    .and_then(|q| crate::cluster::quantity::count(&q))
                    .unwrap_or(0),
            )
        }
        (Err(_), Some(r)) => (r.cpu_allocatable_m, r.mem_allocatable, r.pods_allocatable),
        (Err(_), None) => (0, 0, 0),
    };
    out.push(DLine::blank());
    match pods {
        Ok(pods) => {
            out.extend(allocated_lines(&facts::allocated(pods), alloc, cols(m)));
            out.push(DLine::blank());
            out.extend(node_pods(m, pods));
        }
        Err(e) => {
            out.push(DLine::heading("Allocated resources"));
            out.push(cannot("list the pods on the node (every namespace)", e));
        }
    }
    out.push(DLine::blank());
    out.push(DLine::heading("Events"));
    out.extend(events(m, &Subject::Node(name.to_string())));
    out
}

fn node_facts(m: &Model, n: &Node, out: &mut Vec<DLine>) {
    let meta = &n.metadata;
    let row = m.cache.nodes.get(meta.name.as_deref().unwrap_or(""));
    let roles = row
        .map(|r| r.roles.join(","))
        .filter(|r| !r.is_empty())
        .unwrap_or_else(|| "<none>".into());
    out.push(DLine::field("Roles", COL, roles, Tone::Text));
    out.extend(map_field("Labels", meta.labels.as_ref()));
    out.extend(map_field("Annotations", meta.annotations.as_ref()));
    out.push(DLine::field(
        "Created",
        COL,
        ago(m, meta.creation_timestamp.as_ref().map(|t| t.0)),
        Tone::Text,
    ));
    let spec = n.spec.clone().unwrap_or_default();
    let cordoned = spec.unschedulable.unwrap_or(false);
    let mut unsched = if cordoned { "true (cordoned)" } else { "false" }.to_string();
    if let Some(owner) = row
        .and_then(|r| r.cordon_owner.as_ref())
        .filter(|_| cordoned)
    {
        unsched.push_str(&format!(", set by {}", owner.manager));
    }
    let tone = if cordoned { Tone::Warn } else { Tone::Text };
    out.push(DLine::field("Unschedulable", COL, unsched, tone));
    let taints: Vec<String> = spec
        .taints
        .iter()
        .flatten()
        .map(|t| match &t.value {
            Some(v) => format!("{}={v}:{}", t.key, t.effect),
            None => format!("{}:{}", t.key, t.effect),
        })
        .collect();
    if taints.is_empty() {
        out.push(DLine::field("Taints", COL, "<none>", Tone::Dim));
    }
    for (i, t) in taints.into_iter().enumerate() {
        out.push(cont(if i == 0 { "Taints" } else { "" }, t));
    }
    let status = n.status.clone().unwrap_or_default();
    for a in status.addresses.iter().flatten() {
        out.push(DLine::field(&a.type_, COL, a.address.clone(), Tone::Text));
    }
    if let Some(i) = &status.node_info {
        out.push(DLine::field(
            "Kubelet",
            COL,
            i.kubelet_version.clone(),
            Tone::Text,
        ));
        out.push(DLine::field(
            "OS image",
            COL,
            i.os_image.clone(),
            Tone::Text,
        ));
        out.push(DLine::field(
            "Kernel",
            COL,
            i.kernel_version.clone(),
            Tone::Text,
        ));
        out.push(DLine::field(
            "Runtime",
            COL,
            i.container_runtime_version.clone(),
            Tone::Text,
        ));
    }
    out.push(DLine::blank());
    out.push(DLine::heading("Conditions"));
    out.extend(conditions(
        m,
        status.conditions.iter().flatten().map(|c| Cond {
            type_: &c.type_,
            status: &c.status,
            since: c.last_transition_time.as_ref().map(|t| t.0),
            reason: c.reason.as_deref(),
            message: c.message.as_deref(),
            // Every node condition but Ready is a problem when True.
            good: (c.type_ == "Ready") == (c.status == "True"),
        }),
    ));
    out.push(DLine::blank());
    out.push(DLine::heading("Capacity and allocatable"));
    let (cap, alloc) = (status.capacity.as_ref(), status.allocatable.as_ref());
    let mut keys: Vec<&String> = cap
        .into_iter()
        .chain(alloc)
        .flat_map(|m| m.keys())
        .collect();
    keys.sort();
    keys.dedup();
    let rows = keys
        .into_iter()
        .map(|k| {
            vec![
                (k.clone(), Tone::Text),
                (q(cap, k), Tone::Text),
                (q(alloc, k), Tone::Text),
            ]
        })
        .collect();
    out.extend(table(
        &["RESOURCE", "CAPACITY", "ALLOCATABLE"],
        rows,
        cols(m),
    ));
}

/// A condition as the tables show it.
pub struct Cond<'a> {
    pub type_: &'a str,
    pub status: &'a str,
    pub since: Option<jiff::Timestamp>,
    pub reason: Option<&'a str>,
    pub message: Option<&'a str>,
    /// Whether this status is the healthy one.
    pub good: bool,
}

/// Conditions: type, status, since, reason; the message (in full) on the next row.
pub fn conditions<'a>(m: &Model, cs: impl Iterator<Item = Cond<'a>>) -> Vec<DLine> {
    let cs: Vec<Cond> = cs.collect();
    if cs.is_empty() {
        return vec![DLine::one("  <none>", Tone::Dim)];
    }
    let rows = cs
        .iter()
        .map(|c| {
            let since = c
                .since
                .map_or(String::new(), |t| age::human((m.now - t).get_seconds()));
            vec![
                (c.type_.to_string(), Tone::Text),
                (
                    c.status.to_string(),
                    if c.good { Tone::Ok } else { Tone::Bad },
                ),
                (since, Tone::Text),
                (c.reason.unwrap_or("").to_string(), Tone::Text),
            ]
        })
        .collect();
    let lines = table(&["TYPE", "STATUS", "SINCE", "REASON"], rows, cols(m));
    // A header and a line per condition, or (stacked on a narrow page) two per condition.
    let (mut out, per) = if lines.len() == cs.len() + 1 {
        (vec![lines[0].clone()], 1)
    } else {
        (Vec::new(), 2)
    };
    let body = &lines[lines.len() - per * cs.len()..];
    for (chunk, c) in body.chunks(per).zip(&cs) {
        out.extend(chunk.iter().cloned());
        if let Some(msg) = c.message.filter(|s| !s.is_empty()) {
            out.push(DLine::one(format!("    {msg}"), Tone::Dim).hang(4));
        }
    }
    out
}

fn pct(part: u64, of: u64) -> String {
    facts::percent(part, of).map_or(String::new(), |p| format!(" ({p}%)"))
}

/// Requests and limits of the node's pods against its allocatable.
pub fn allocated_lines(a: &Allocated, alloc: (u64, u64, u64), cols: usize) -> Vec<DLine> {
    let (cpu, mem, pods) = alloc;
    let mut out = vec![
        DLine::heading("Allocated resources"),
        DLine::one(
            format!(
                "  requests of the {} pods that are not finished, every namespace; % of allocatable",
                a.pods
            ),
            Tone::Dim,
        )
        .hang(2),
    ];
    let rows = vec![
        vec![
            ("cpu".to_string(), Tone::Text),
            (
                format!(
                    "{}{}",
                    format_cpu(a.requests.cpu_m),
                    pct(a.requests.cpu_m, cpu)
                ),
                Tone::Text,
            ),
            (
                format!("{}{}", format_cpu(a.limits.cpu_m), pct(a.limits.cpu_m, cpu)),
                Tone::Text,
            ),
            (format_cpu(cpu), Tone::Text),
        ],
        vec![
            ("memory".to_string(), Tone::Text),
            (
                format!(
                    "{}{}",
                    format_bytes(a.requests.mem),
                    pct(a.requests.mem, mem)
                ),
                Tone::Text,
            ),
            (
                format!("{}{}", format_bytes(a.limits.mem), pct(a.limits.mem, mem)),
                Tone::Text,
            ),
            (format_bytes(mem), Tone::Text),
        ],
        vec![
            ("pods".to_string(), Tone::Text),
            (
                format!("{}{}", a.pods, pct(a.pods as u64, pods)),
                Tone::Text,
            ),
            (String::new(), Tone::Text),
            (pods.to_string(), Tone::Text),
        ],
    ];
    out.extend(table(
        &["RESOURCE", "REQUESTS", "LIMITS", "ALLOCATABLE"],
        rows,
        cols,
    ));
    out
}

/// The node's pods, every namespace: name, phase, owner kind, requests.
fn node_pods(m: &Model, pods: &[Pod]) -> Vec<DLine> {
    let mut sorted: Vec<&Pod> = pods.iter().collect();
    sorted.sort_by_key(|p| (p.metadata.namespace.clone(), p.metadata.name.clone()));
    let mut out = vec![DLine::heading(format!(
        "Pods ({} on the node, every namespace)",
        pods.len()
    ))];
    if pods.is_empty() {
        out.push(DLine::one("  <none>", Tone::Dim));
        return out;
    }
    let rows = sorted
        .into_iter()
        .map(|p| {
            let phase = p
                .status
                .as_ref()
                .and_then(|s| s.phase.clone())
                .unwrap_or_else(|| "Pending".into());
            let owner = facts::controller_of(p.metadata.owner_references.as_deref())
                .map_or("<none>".to_string(), |o| o.kind);
            let r = facts::pod_resources(p).requests;
            let tone = match phase.as_str() {
                "Running" | "Succeeded" => Tone::Text,
                "Failed" => Tone::Bad,
                _ => Tone::Warn,
            };
            vec![
                (
                    format!(
                        "{}/{}",
                        p.metadata.namespace.as_deref().unwrap_or(""),
                        p.metadata.name.as_deref().unwrap_or("")
                    ),
                    Tone::Text,
                ),
                (phase, tone),
                (owner, Tone::Text),
                (format_cpu(r.cpu_m), Tone::Text),
                (format_bytes(r.mem), Tone::Text),
            ]
        })
        .collect();
    out.extend(table(
        &["NAMESPACE/NAME", "PHASE", "OWNER", "CPU REQ", "MEM REQ"],
        rows,
        cols(m),
    ));
    out
}

fn pdb_lines(
    m: &Model,
    s: &Subject,
    pdb: &Result<Box<k8s_openapi::api::policy::v1::PodDisruptionBudget>, String>,
) -> Vec<DLine> {
    let mut out = vec![DLine::heading(format!("PodDisruptionBudget {}", s.key()))];
    let key = s.key();
    let row = m.cache.pdbs.get(&key);
    match pdb {
        Ok(p) => {
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
        }
        Err(e) => out.push(cannot(&format!("read {}", s.label()), e)),
    }
    out.push(DLine::blank());
    match (m.pods_hidden(), row) {
        (Some(why), _) => {
            out.push(DLine::heading("Pods it selects"));
            out.push(cannot("tell", why));
        }
        (None, None) => {
            out.push(DLine::heading("Pods it selects"));
            out.push(cannot("tell", "the PDB is not in the watch cache"));
        }
        (None, Some(_)) => {
            let keys = m.cache.index.pdb_pods.get(&key);
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
    out.push(DLine::blank());
    out.push(DLine::heading("Events"));
    out.extend(events(m, s));
    out
}
