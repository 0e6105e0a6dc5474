//! A Deployment's status as upstream's `calculateStatus` and `syncRolloutStatus` write it:
//! counts summed over its ReplicaSets, `Available` by maxUnavailable, and `Progressing`
//! through NewReplicaSetCreated, ReplicaSetUpdated, NewReplicaSetAvailable, and
//! DeploymentPaused / DeploymentResumed around `kubectl rollout pause` and `resume`.

use std::sync::Arc;

use serde_json::{Value, json};

use super::Manager;
use super::deployment::Synced;
use super::rollout::{max_unavailable, replicas};
use super::util::{fmt, set_condition};
use crate::sim::kinds::Kind;
use crate::sim::store::ObjKey;

fn count(rs: &Value, field: &str) -> i64 {
    rs["status"][field].as_i64().unwrap_or(0)
}

fn condition<'a>(status: &'a Value, type_: &str) -> Option<&'a Value> {
    status["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == type_)
}

/// Whether the rollout is done (upstream's `DeploymentComplete`).
fn complete(dep: &Value, st: &Value) -> bool {
    let want = replicas(dep);
    let n = |f: &str| st[f].as_i64().unwrap_or(0);
    n("updatedReplicas") == want && n("replicas") == want && n("availableReplicas") == want
}

/// Whether the rollout moved since the last status (upstream's `DeploymentProgressing`).
fn progressed(old: &Value, new: &Value) -> bool {
    let n = |s: &Value, f: &str| s[f].as_i64().unwrap_or(0);
    let old_pods = |s: &Value| n(s, "replicas") - n(s, "updatedReplicas");
    n(new, "updatedReplicas") > n(old, "updatedReplicas")
        || n(new, "readyReplicas") > n(old, "readyReplicas")
        || old_pods(new) < old_pods(old)
        || n(new, "availableReplicas") > n(old, "availableReplicas")
}

impl Manager {
    /// Writes the Deployment's status; returns whether its rollout is complete.
    pub(super) fn deployment_status(
        &mut self,
        k: &ObjKey,
        dep: &Value,
        new: Option<&Arc<Value>>,
        old: &[Arc<Value>],
        synced: &Synced,
    ) -> bool {
        let all = || new.into_iter().chain(old.iter());
        let sum = |f: &str| all().map(|r| count(r, f)).sum::<i64>();
        let want = replicas(dep);
        let available = sum("availableReplicas");
        let total: i64 = all().map(|r| replicas(r)).sum();
        let mut status = json!({
            "observedGeneration": dep["metadata"]["generation"],
            "replicas": sum("replicas"),
            "updatedReplicas": new.map_or(0, |r| count(r, "replicas")),
            "readyReplicas": sum("readyReplicas"),
            "availableReplicas": available,
            "conditions": dep["status"]["conditions"].clone(),
        });
        let unavailable = (total - available).max(0);
        if unavailable > 0 {
            status["unavailableReplicas"] = json!(unavailable);
        }
        let now = fmt(self.store.clock().now());
        let avail_ok = available >= want - max_unavailable(dep);
        let (a_status, a_reason, a_msg) = if avail_ok {
            (
                "True",
                "MinimumReplicasAvailable",
                "Deployment has minimum availability.",
            )
        } else {
            (
                "False",
                "MinimumReplicasUnavailable",
                "Deployment does not have minimum availability.",
            )
        };
        set_if_new(
            &mut status,
            json!({"type": "Available", "status": a_status, "reason": a_reason,
                "message": a_msg}),
            &now,
        );
        let done = complete(dep, &status);
        let rs_name = new
            .and_then(|r| r["metadata"]["name"].as_str())
            .unwrap_or("");
        self.progressing(dep, &mut status, rs_name, synced, done, &now);
        self.set_status(Kind::Deployment, k, status);
        done && dep["spec"]["paused"] != true
    }

    /// The Progressing condition after this sync.
    fn progressing(
        &self,
        dep: &Value,
        status: &mut Value,
        rs_name: &str,
        synced: &Synced,
        done: bool,
        now: &str,
    ) {
        let current = condition(status, "Progressing").cloned();
        let reason = current
            .as_ref()
            .map_or("", |c| c["reason"].as_str().unwrap_or(""));
        let paused = dep["spec"]["paused"] == true;
        let set = |status: &mut Value, s: &str, r: &str, m: String| {
            set_if_new(
                status,
                json!({"type": "Progressing", "status": s, "reason": r, "message": m}),
                now,
            );
        };
        if paused {
            if reason != "DeploymentPaused" {
                set(
                    status,
                    "Unknown",
                    "DeploymentPaused",
                    "Deployment is paused".into(),
                );
            }
            return;
        }
        if reason == "DeploymentPaused" {
            set(
                status,
                "Unknown",
                "DeploymentResumed",
                "Deployment is resumed".into(),
            );
        }
        if let Some(name) = &synced.created {
            set(
                status,
                "True",
                "NewReplicaSetCreated",
                format!("Created new replica set \"{name}\""),
            );
        }
        let reason = condition(status, "Progressing")
            .and_then(|c| c["reason"].as_str())
            .unwrap_or("")
            .to_string();
        let same_pods = status["replicas"] == status["updatedReplicas"];
        if done {
            if !(same_pods && reason == "NewReplicaSetAvailable") {
                let msg = format!("ReplicaSet \"{rs_name}\" has successfully progressed.");
                set(status, "True", "NewReplicaSetAvailable", msg);
            }
        } else if synced.created.is_none() && progressed(&dep["status"], status) {
            // Progress moves lastUpdateTime even with the same reason.
            let msg = format!("ReplicaSet \"{rs_name}\" is progressing.");
            set(status, "True", "ReplicaSetUpdated", msg.clone());
            if let Some(c) = condition_mut(status, "Progressing") {
                c["lastUpdateTime"] = json!(now);
            }
        }
    }
}

fn condition_mut<'a>(status: &'a mut Value, type_: &str) -> Option<&'a mut Value> {
    status["conditions"]
        .as_array_mut()?
        .iter_mut()
        .find(|c| c["type"] == type_)
}

/// Sets a condition, keeping both times when its status and reason are unchanged (so a
/// resync does not churn the status); lastUpdateTime is now otherwise.
fn set_if_new(status: &mut Value, mut cond: Value, now: &str) {
    if let Some(c) = condition(status, cond["type"].as_str().unwrap_or(""))
        && c["status"] == cond["status"]
        && c["reason"] == cond["reason"]
    {
        if c["message"] == cond["message"] {
            return;
        }
        cond["lastUpdateTime"] = c["lastUpdateTime"].clone();
    }
    if cond.get("lastUpdateTime").is_none() {
        cond["lastUpdateTime"] = json!(now);
    }
    set_condition(&mut status["conditions"], cond, now);
}
