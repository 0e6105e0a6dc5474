//! What each drain step means, in plain words and with the API fact behind it. Pure: the
//! caller says what was already told (`told`), so a pod blocked ten times is explained once.

use std::collections::HashSet;

use jiff::Timestamp;

use crate::drain::events::{DrainEvent, GoneHow, NodeState, PodState};

/// One narration: the sentence, and the API fact behind it (if one helps).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Told {
    pub text: String,
    pub fact: Option<String>,
}

fn told(text: impl Into<String>, fact: Option<&str>) -> Option<Told> {
    Some(Told {
        text: text.into(),
        fact: fact.map(str::to_string),
    })
}

/// A node's cordon as the watch saw it change (by anyone: kubedrain, kubectl, a controller).
pub fn cordon_changed(node: &str, cordoned: bool) -> Told {
    if cordoned {
        Told {
            text: format!(
                "{node} is cordoned: the scheduler places no new pods there; the pods already \
                 on it keep running until they are evicted"
            ),
            fact: Some(
                "spec.unschedulable: true, and the taint node.kubernetes.io/unschedulable:NoSchedule"
                    .into(),
            ),
        }
    } else {
        Told {
            text: format!(
                "{node} is schedulable again. Nothing moves back by itself: pods come to it only \
                 as new ones are created (rollouts, scale-ups, replacements)"
            ),
            fact: Some("spec.unschedulable removed; the unschedulable taint goes with it".into()),
        }
    }
}

/// The demo's simulated upgrade.
pub fn upgrade_started(node: &str) -> Told {
    Told {
        text: format!(
            "{node} is upgraded (simulated): the kubelet stops, the node goes NotReady, reboots \
             with a new kubelet and comes back Ready, still cordoned"
        ),
        fact: Some("status.nodeInfo.bootID and kubeletVersion change".into()),
    }
}

/// A drain event, unless it says nothing new (`told` remembers what was explained).
/// What the cache says of the node a replacement went to, so the narration can say why the
/// scheduler chose it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeRoom {
    /// Requested CPU and memory over allocatable, in percent, with the replacement counted.
    pub cpu_pct: u64,
    pub mem_pct: u64,
}

/// The narration of `ev`, once per fact (`told_` remembers); `room`: the replacement's node's.
pub fn drain_event(
    ev: &DrainEvent,
    now: Timestamp,
    room: Option<NodeRoom>,
    told_: &mut HashSet<String>,
) -> Option<Told> {
    let mut first = |key: String| told_.insert(key);
    match ev {
        DrainEvent::Cordoned {
            node,
            already: true,
        } => told(
            format!("{node} was cordoned already: nothing to change"),
            None,
        ),
        // The node watch tells the cordon itself (whoever made it).
        DrainEvent::Cordoned { .. } | DrainEvent::State { .. } => None,
        DrainEvent::Planned { node, plan } => {
            let c = plan.counts();
            told(
                format!(
                    "plan for {node}: {} pod(s) to {}, {} left alone, {} blocked. DaemonSet pods \
                     stay on purpose: their controller would start them again on the node at once",
                    c.removed,
                    plan.verb(),
                    c.skipped,
                    c.blocked
                ),
                Some("the pods are listed with spec.nodeName, in every namespace"),
            )
        }
        DrainEvent::Pod { pod, state, .. } => pod_state(pod, state, now, &mut first),
        DrainEvent::Replacement {
            node,
            workload,
            pod,
            on_node,
            ready,
            ..
        } => {
            let r = Replacement {
                workload,
                pod,
                from: node,
                on_node: on_node.as_deref(),
                ready: *ready,
                room,
            };
            replacement(r, &mut first)
        }
        DrainEvent::Notice { message, .. } => told(format!("note: {message}"), None),
        DrainEvent::Finished(o) => {
            let text = match o.state {
                NodeState::Drained => format!(
                    "{} is drained: only DaemonSet and static pods are left. It stays cordoned \
                     through the upgrade; uncordon it after",
                    o.node
                ),
                s => format!(
                    "the drain of {} ended {}: it stays cordoned, with the pods not removed",
                    o.node,
                    s.annotation()
                ),
            };
            told(text, None)
        }
    }
}

fn pod_state(
    pod: &str,
    state: &PodState,
    now: Timestamp,
    first: &mut impl FnMut(String) -> bool,
) -> Option<Told> {
    // Long: one sentence per pod state, side by side so the wording stays consistent.
    match state {
        PodState::Queued => None,
        PodState::Evicting { attempt: 1 } => told(
            format!(
                "evicting {pod}: an eviction asks the API server, which checks the \
                 PodDisruptionBudgets that select the pod before it deletes it"
            ),
            Some("POST /api/v1/namespaces/NS/pods/NAME/eviction"),
        ),
        PodState::Evicting { .. } => None,
        PodState::BlockedByPdb {
            pdb,
            healthy,
            needed,
            retry_in,
            ..
        } if first(format!("blocked {pod}")) => {
            let pdb = pdb.as_deref().unwrap_or("a PodDisruptionBudget");
            // The budget's own numbers; when they seem to allow one, an eviction already
            // accepted (a pod still terminating) has taken it.
            let why = match (healthy, needed) {
                (Some(h), Some(n)) if h > n => format!(
                    " ({h} healthy, {n} needed: the {} disruption(s) that allows are taken by \
                     pods already being evicted)",
                    h - n
                ),
                (Some(h), Some(n)) => {
                    format!(" ({h} healthy, {n} needed: one more pod down would break the budget)")
                }
                _ => String::new(),
            };
            told(
                format!(
                    "{pdb} refuses evicting {pod} now{why}. kubedrain asks again in {}s, as \
                     kubectl does; a replacement turning Ready elsewhere frees it",
                    retry_in.as_secs()
                ),
                Some("429 Too Many Requests: status.disruptionsAllowed is 0"),
            )
        }
        PodState::BlockedByPdb { .. } => None,
        PodState::Retrying { message, retry_in } if first(format!("retry {pod}")) => told(
            format!(
                "the API server refused evicting {pod} ({message}); asking again in {}s",
                retry_in.as_secs()
            ),
            None,
        ),
        PodState::Retrying { .. } => None,
        PodState::Terminating { grace_deadline } if first(format!("terminating {pod}")) => {
            let grace = grace_deadline
                .map(|d| format!(" within {}s", (d - now).get_seconds().max(0)))
                .unwrap_or_default();
            told(
                format!(
                    "{pod} is terminating: its containers get SIGTERM and must stop{grace}, \
                     then SIGKILL"
                ),
                Some("metadata.deletionTimestamp set; spec.terminationGracePeriodSeconds"),
            )
        }
        PodState::Terminating { .. } => None,
        PodState::Gone { how } => {
            let (text, fact) = match how {
                GoneHow::Evicted => (format!("{pod} is gone from the node"), None),
                GoneHow::Deleted => (
                    format!("{pod} was deleted, not evicted: no PodDisruptionBudget was asked"),
                    Some("DELETE /api/v1/namespaces/NS/pods/NAME (--disable-eviction)"),
                ),
                GoneHow::AlreadyGone => (format!("{pod} was already gone"), None),
            };
            told(text, fact)
        }
        PodState::SkippedWait { seconds } => told(
            format!(
                "no longer waiting for {pod}: deleted over {seconds}s ago \
                 (--skip-wait-for-delete-timeout); its node may not answer"
            ),
            None,
        ),
        PodState::Failed { reason } => told(format!("could not remove {pod}: {reason}"), None),
    }
}

/// A replacement pod of a drained node's workload, as the drain saw it.
struct Replacement<'a> {
    workload: &'a str,
    pod: &'a str,
    /// The node being drained.
    from: &'a str,
    on_node: Option<&'a str>,
    ready: bool,
    room: Option<NodeRoom>,
}

fn replacement(r: Replacement, first: &mut impl FnMut(String) -> bool) -> Option<Told> {
    let Replacement {
        workload,
        pod,
        from,
        on_node,
        ready,
        room,
    } = r;
    let created = first(format!("created {pod}"));
    let scheduled = on_node.is_some() && first(format!("scheduled {pod}"));
    let became_ready = ready && first(format!("ready {pod}"));
    let node = on_node.unwrap_or("its node");
    let mut parts = Vec::new();
    if created {
        parts.push(format!(
            "{workload} created {pod} to keep its replica count (an evicted pod is not moved: a \
             new one replaces it)"
        ));
    }
    if scheduled {
        // Why there, from the cache: the drained node is cordoned, this one is not and has
        // room for the pod's requests.
        parts.push(match room {
            Some(r) => format!(
                "the scheduler put {pod} on {node}: {from} is cordoned, and {node} is not and \
                 has room ({}% of its CPU and {}% of its memory requested now)",
                r.cpu_pct, r.mem_pct
            ),
            None => {
                format!("the scheduler put {pod} on {node}, a node with room that is not cordoned")
            }
        });
    }
    if became_ready {
        parts.push(format!("{pod} is Ready on {node}"));
    }
    let fact = match (created, scheduled) {
        (true, _) => Some("a new Pod with an ownerReference to its controller"),
        (false, true) => Some("spec.nodeName, set through a Binding"),
        _ => None,
    };
    (!parts.is_empty()).then(|| Told {
        text: parts.join("; "),
        fact: fact.map(str::to_string),
    })
}
