//! Jobs: run pods until `completions` have Succeeded, replace failed ones after the job
//! controller's back-off, give up past `backoffLimit`, and leave a finished Job alone.

use serde_json::{Value, json};

use super::containers::backoff;
use super::podspec::pod_from_template;
use super::util::{add_secs, fmt, is_active, owner_ref, parse_time, phase, pod_ready};
use super::{Manager, Timer, events};
use crate::sim::kinds::Kind;
use crate::sim::store::{ObjKey, random_suffix};

/// A pod of a Job, named `<job>-<5 random chars>`.
pub fn job_pod(job: &Value) -> Value {
    let (ns, name) = super::util::key_of(job);
    let uid = job["metadata"]["uid"].as_str().unwrap_or("").to_string();
    let mut t = job["spec"]["template"].clone();
    if t["spec"]["restartPolicy"].is_null() {
        t["spec"]["restartPolicy"] = json!("Never");
    }
    pod_from_template(
        &t,
        &ns,
        &format!("{name}-{}", random_suffix(5)),
        Some(owner_ref(job)),
        &[
            ("controller-uid", uid.clone()),
            ("job-name", name.clone()),
            ("batch.kubernetes.io/controller-uid", uid),
            ("batch.kubernetes.io/job-name", name),
        ],
    )
}

/// Whether a Job has finished (its `Complete` or `Failed` condition is True).
pub fn job_finished(job: &Value) -> bool {
    job["status"]["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|c| (c["type"] == "Complete" || c["type"] == "Failed") && c["status"] == "True")
}

/// When a finished pod's last container stopped.
fn finished_at(pod: &Value) -> Option<jiff::Timestamp> {
    pod["status"]["containerStatuses"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| parse_time(&s["state"]["terminated"]["finishedAt"]))
        .max()
}

/// Container restarts of a Job's running pods (what `OnFailure` counts against the limit).
fn restarts(pods: &[std::sync::Arc<Value>]) -> i64 {
    pods.iter()
        .filter(|p| is_active(p))
        .flat_map(|p| {
            p["status"]["containerStatuses"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .map(|s| s["restartCount"].as_i64().unwrap_or(0))
        .sum()
}

impl Manager {
    /// Runs a Job's pods until `completions` have Succeeded.
    pub(super) fn job_sync(&mut self, k: &ObjKey) {
        // Long: the Job controller's pass in v1.25's order: counts, the back-off limit, new
        // pods, then the status and conditions; each step reads the counts of the one before.
        let Some(job) = self.index.get(Kind::Job, k) else {
            return;
        };
        // Being deleted (foreground, or its namespace is): no new pods, the GC takes over.
        // Finished: the real controller never looks at it again, so pods deleted afterwards
        // (a drain evicting them) are not run again.
        if self.being_deleted(&job) || job_finished(&job) {
            return;
        }
        let uid = job["metadata"]["uid"].as_str().unwrap_or("").to_string();
        let completions = job["spec"]["completions"].as_i64().unwrap_or(1);
        let parallelism = job["spec"]["parallelism"].as_i64().unwrap_or(1);
        let backoff_limit = job["spec"]["backoffLimit"].as_i64().unwrap_or(6);
        let owned = self.index.owned(&uid);
        // Counts never go down: pods may be deleted once counted.
        let count = |ph: &str, field: &str| {
            let seen = owned.iter().filter(|p| phase(p) == ph).count() as i64;
            seen.max(job["status"][field].as_i64().unwrap_or(0))
        };
        let succeeded = count("Succeeded", "succeeded");
        let failed = count("Failed", "failed");
        let mut active = owned.iter().filter(|p| is_active(p)).count() as i64;
        let done = succeeded >= completions;
        let on_failure = job["spec"]["template"]["spec"]["restartPolicy"] == "OnFailure";
        // As v1.25: more failed pods than the limit, or (OnFailure) as many container restarts
        // in running pods as the limit (any, when it is 0).
        let exceeded = !done
            && (failed > backoff_limit || (on_failure && restarts(&owned) >= backoff_limit.max(1)));
        let now_t = self.store.clock().now();
        let now = fmt(now_t);
        if exceeded {
            for p in owned.iter().filter(|p| is_active(p)) {
                self.delete_pod(p);
            }
            active = 0;
        } else if !done && job["spec"]["suspend"] != true {
            // After a failure the controller waits 10 s, doubling, before the replacement.
            let last_failure = owned
                .iter()
                .filter(|p| phase(p) == "Failed")
                .filter_map(|p| finished_at(p))
                .max();
            let ready_at = last_failure.map(|t| add_secs(t, backoff(failed as u32)));
            if let Some(at) = ready_at.filter(|at| *at > now_t) {
                self.arm(at, Timer::Job(k.clone()));
            } else {
                active +=
                    self.create_job_pods(&job, parallelism.min(completions - succeeded) - active);
            }
        }
        let mut status = job["status"].clone();
        if !status.is_object() {
            status = json!({});
        }
        status["active"] = json!(active);
        status["succeeded"] = json!(succeeded);
        status["failed"] = json!(failed);
        status["ready"] = json!(owned.iter().filter(|p| pod_ready(p)).count());
        if status["startTime"].is_null() {
            status["startTime"] = json!(job["metadata"]["creationTimestamp"]);
        }
        if done && status["completionTime"].is_null() {
            status["completionTime"] = json!(now);
            status["conditions"] = json!([{"type": "Complete", "status": "True", "lastProbeTime": now, "lastTransitionTime": now}]);
            events::record(
                &self.store,
                &job,
                "Normal",
                "Completed",
                "Job completed",
                "job-controller",
            );
        }
        if exceeded {
            let msg = "Job has reached the specified backoff limit";
            status["conditions"] = json!([{"type": "Failed", "status": "True", "lastProbeTime": now,
                "lastTransitionTime": now, "reason": "BackoffLimitExceeded", "message": msg}]);
            events::record(
                &self.store,
                &job,
                "Warning",
                "BackoffLimitExceeded",
                msg,
                "job-controller",
            );
        }
        for f in ["active", "succeeded", "failed"] {
            if status[f] == 0 {
                status.as_object_mut().unwrap().remove(f);
            }
        }
        if let Ok(o) = self.store.update(Kind::Job, &k.0, &k.1, |o| {
            o["status"] = status;
            Ok(())
        }) {
            self.saw(Kind::Job, &o);
        }
    }

    /// Creates `n` pods for `job`; returns how many were created.
    fn create_job_pods(&mut self, job: &Value, n: i64) -> i64 {
        let mut made = 0;
        for _ in 0..n {
            let pod = job_pod(job);
            let name = pod["metadata"]["name"].as_str().unwrap_or("").to_string();
            if let Ok(p) = self.store.create(Kind::Pod, pod) {
                self.saw(Kind::Pod, &p);
                made += 1;
                events::record(
                    &self.store,
                    job,
                    "Normal",
                    "SuccessfulCreate",
                    &format!("Created pod: {name}"),
                    "job-controller",
                );
            }
        }
        made
    }
}
