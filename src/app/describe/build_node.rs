//! A node's describe page: its facts and conditions, capacity and allocatable, what its pods
//! (every namespace) request against it, the pods, its events.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Node, NodeStatus, Pod};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

use super::Subject;
use super::build::{COL, Cond, ago, cannot, cols, conditions, cont, events, map_field, table};
use super::facts::{self, Allocated};
use super::text::{DLine, Tone};
use crate::app::model::Model;
use crate::cluster::quantity::{format_bytes, format_cpu};
use crate::cluster::rows::NodeRow;

fn q(map: Option<&BTreeMap<String, Quantity>>, k: &str) -> String {
    map.and_then(|m| m.get(k))
        .map_or("-".into(), |v| v.0.clone())
}

/// The node's sections.
pub fn node_lines(
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
    scheduling_lines(n, row, out);
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
    capacity_lines(m, &status, out);
}

/// Whether the node is cordoned (and by whom), and its taints.
fn scheduling_lines(n: &Node, row: Option<&NodeRow>, out: &mut Vec<DLine>) {
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
}

/// Each resource's capacity beside its allocatable.
fn capacity_lines(m: &Model, status: &NodeStatus, out: &mut Vec<DLine>) {
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
            let phase = match p.metadata.deletion_timestamp {
                Some(_) => format!("{phase}, terminating"),
                None => phase,
            };
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
