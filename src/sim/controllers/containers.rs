//! The kubelet's container state machine for pods with a declared fate (see [`super::declare`]):
//! image pulls that fail (`ErrImagePull`, then `ImagePullBackOff` with the image back-off),
//! containers that exit and are restarted by the pod's `restartPolicy` with the crash back-off
//! (`CrashLoopBackOff`), and the pod phase the kubelet derives from its containers.
//!
//! Pure: it rewrites a pod's `status` and returns the events to record. Every transition
//! happens at the simulated instant it was due, not when the timer happened to fire, so a clock
//! that jumps still shows the exact back-off intervals.

use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

use super::declare::{exit_of, pull_error};
use super::podspec::image_id;
use super::util::{fmt, random_hex, set_condition};

/// The kubelet's back-off for failed pulls and crashed containers: 10 s, doubling, 5 min cap.
const BACKOFF_INITIAL: f64 = 10.0;
const BACKOFF_MAX: f64 = 300.0;
/// How long `ErrImagePull` shows before the next pod sync reports `ImagePullBackOff`.
const ERR_IMAGE_PULL_SHOWN: f64 = 2.0;

/// What the kubelet remembers of one container between syncs (the real one keeps it in
/// memory too: its back-off entries are not in the API).
#[derive(Debug, Clone, Default)]
pub struct Track {
    /// When the container's next transition is due.
    pub due: Option<Timestamp>,
    /// Failed pulls so far, and when the last began.
    pulls: u32,
    last_pull: Option<Timestamp>,
}

/// An event for the pod, about one of its containers.
#[derive(Debug, Clone, PartialEq)]
pub struct Ev {
    pub field_path: String,
    pub type_: &'static str,
    pub reason: &'static str,
    pub message: String,
}

/// The `n`th back-off (`n` ≥ 1): 10 s · 2ⁿ⁻¹, at most 5 minutes.
pub fn backoff(n: u32) -> f64 {
    (BACKOFF_INITIAL * 2f64.powi(n.saturating_sub(1).min(16) as i32)).min(BACKOFF_MAX)
}

/// A duration as Go prints it (`10s`, `1m20s`, `5m0s`), for the kubelet's messages.
fn go_duration(secs: f64) -> String {
    let s = secs.round() as i64;
    if s < 60 {
        format!("{s}s")
    } else {
        format!("{}m{}s", s / 60, s % 60)
    }
}

fn at(t: Timestamp, secs: f64) -> Timestamp {
    t.checked_add(SignedDuration::from_secs_f64(secs))
        .unwrap_or(t)
}

fn container_id() -> String {
    format!("containerd://{}", random_hex(64))
}

struct Ctx<'a> {
    pod: &'a Value,
    events: Vec<Ev>,
}

impl Ctx<'_> {
    fn ev(&mut self, c: &Value, type_: &'static str, reason: &'static str, message: String) {
        self.events.push(Ev {
            field_path: format!("spec.containers{{{}}}", c["name"].as_str().unwrap_or("")),
            type_,
            reason,
            message,
        });
    }

    /// Pulls the image (or fails to) and, if it can, runs the container from `t`.
    fn start(&mut self, c: &Value, s: &mut Value, tr: &mut Track, t: Timestamp) {
        let image = c["image"].as_str().unwrap_or("");
        s["image"] = json!(image);
        if let Some(err) = pull_error(self.pod, image) {
            tr.pulls += 1;
            tr.last_pull = Some(t);
            self.ev(c, "Normal", "Pulling", format!("Pulling image \"{image}\""));
            self.ev(
                c,
                "Warning",
                "Failed",
                format!("Failed to pull image \"{image}\": {err}"),
            );
            self.ev(c, "Warning", "Failed", "Error: ErrImagePull".into());
            s["imageID"] = json!("");
            s["ready"] = json!(false);
            s["started"] = json!(false);
            s["state"] = json!({"waiting": {"reason": "ErrImagePull", "message": err}});
            tr.due = Some(at(t, ERR_IMAGE_PULL_SHOWN));
            return;
        }
        tr.pulls = 0;
        if c["imagePullPolicy"] == "Always" {
            self.ev(c, "Normal", "Pulling", format!("Pulling image \"{image}\""));
            self.ev(
                c,
                "Normal",
                "Pulled",
                format!("Successfully pulled image \"{image}\" in 1.2s (1.2s including waiting)"),
            );
        } else {
            self.ev(
                c,
                "Normal",
                "Pulled",
                format!("Container image \"{image}\" already present on machine"),
            );
        }
        let name = c["name"].as_str().unwrap_or("");
        self.ev(c, "Normal", "Created", format!("Created container {name}"));
        self.ev(c, "Normal", "Started", format!("Started container {name}"));
        s["imageID"] = json!(image_id(image));
        s["containerID"] = json!(container_id());
        s["ready"] = json!(true);
        s["started"] = json!(true);
        s["state"] = json!({"running": {"startedAt": fmt(t)}});
        tr.due = exit_of(self.pod, c).map(|e| at(t, e.after));
    }

    /// The container's next transition, due at `t`.
    fn transition(&mut self, c: &Value, s: &mut Value, tr: &mut Track, t: Timestamp) {
        tr.due = None;
        let waiting = s["state"]["waiting"]["reason"].as_str().unwrap_or("");
        if waiting == "ErrImagePull" {
            let image = c["image"].as_str().unwrap_or("");
            let msg = format!("Back-off pulling image \"{image}\"");
            self.ev(c, "Normal", "BackOff", msg.clone());
            self.ev(c, "Warning", "Failed", "Error: ImagePullBackOff".into());
            s["state"] = json!({"waiting": {"reason": "ImagePullBackOff", "message": msg}});
            tr.due = Some(at(tr.last_pull.unwrap_or(t), backoff(tr.pulls)).max(t));
        } else if waiting == "ImagePullBackOff" {
            self.start(c, s, tr, t);
        } else if waiting == "CrashLoopBackOff" {
            s["restartCount"] = json!(s["restartCount"].as_i64().unwrap_or(0) + 1);
            self.start(c, s, tr, t);
        } else if s["state"]["running"].is_object() {
            self.exit(c, s, tr, t);
        }
    }

    /// The running container exits (as declared); the restart policy says what follows.
    fn exit(&mut self, c: &Value, s: &mut Value, tr: &mut Track, t: Timestamp) {
        let code = exit_of(self.pod, c).map_or(0, |e| e.code);
        let terminated = json!({
            "exitCode": code,
            "reason": if code == 0 { "Completed" } else { "Error" },
            "startedAt": s["state"]["running"]["startedAt"],
            "finishedAt": fmt(t),
            "containerID": s["containerID"],
        });
        s["ready"] = json!(false);
        s["started"] = json!(false);
        let restart = match self.pod["spec"]["restartPolicy"].as_str() {
            Some("Never") => false,
            Some("OnFailure") => code != 0,
            _ => true,
        };
        if !restart {
            s["state"] = json!({"terminated": terminated});
            return;
        }
        s["lastState"] = json!({"terminated": terminated});
        let restarts = s["restartCount"].as_i64().unwrap_or(0) as u32;
        if restarts == 0 {
            // The kubelet restarts a container at once the first time; back-off comes after.
            s["restartCount"] = json!(1);
            self.start(c, s, tr, t);
            return;
        }
        let wait = backoff(restarts);
        let meta = &self.pod["metadata"];
        let msg = format!(
            "back-off {} restarting failed container={} pod={}_{}({})",
            go_duration(wait),
            c["name"].as_str().unwrap_or(""),
            meta["name"].as_str().unwrap_or(""),
            meta["namespace"].as_str().unwrap_or(""),
            meta["uid"].as_str().unwrap_or(""),
        );
        self.ev(
            c,
            "Warning",
            "BackOff",
            "Back-off restarting failed container".into(),
        );
        s["state"] = json!({"waiting": {"reason": "CrashLoopBackOff", "message": msg}});
        tr.due = Some(at(t, wait));
    }
}

/// Starts a declared pod's containers at `now` (it has its IPs already): statuses, phase and
/// conditions in `pod`, one [`Track`] per container in `tracks`; returns the events.
pub fn start(pod: &mut Value, tracks: &mut Vec<Track>, now: Timestamp) -> Vec<Ev> {
    let spec = pod.clone();
    let mut ctx = Ctx {
        pod: &spec,
        events: Vec::new(),
    };
    let containers = spec["spec"]["containers"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    tracks.clear();
    let mut statuses = Vec::new();
    for c in &containers {
        let mut s = json!({"name": c["name"], "image": c["image"], "imageID": "",
            "lastState": {}, "ready": false, "restartCount": 0, "started": false,
            "state": {"waiting": {"reason": "ContainerCreating"}}});
        let mut tr = Track::default();
        ctx.start(c, &mut s, &mut tr, now);
        statuses.push(s);
        tracks.push(tr);
    }
    pod["status"]["containerStatuses"] = json!(statuses);
    let events = ctx.events;
    advance(pod, tracks, now, events)
}

/// Makes every transition due by `now` (several, if the clock jumped), then the pod's phase
/// and conditions; returns `events` with the transitions' own appended.
pub fn advance(pod: &mut Value, tracks: &mut [Track], now: Timestamp, events: Vec<Ev>) -> Vec<Ev> {
    let spec = pod.clone();
    let mut ctx = Ctx { pod: &spec, events };
    let containers = spec["spec"]["containers"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mut statuses = pod["status"]["containerStatuses"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for ((c, s), tr) in containers
        .iter()
        .zip(statuses.iter_mut())
        .zip(tracks.iter_mut())
    {
        // Bounded: a clock jump of days must not record thousands of restarts at once.
        for _ in 0..64 {
            match tr.due {
                Some(t) if t <= now => ctx.transition(c, s, tr, t),
                _ => break,
            }
        }
    }
    pod["status"]["containerStatuses"] = json!(statuses);
    render(pod, now);
    ctx.events
}

/// The earliest transition due among `tracks`.
pub fn next_due(tracks: &[Track]) -> Option<Timestamp> {
    tracks.iter().filter_map(|t| t.due).min()
}

/// Tracks for a pod the kubelet finds already running (the controllers restarted): each
/// unfinished container's next transition is due at once, a running one's when it exits.
pub fn resume(pod: &Value, now: Timestamp) -> Vec<Track> {
    let containers = pod["spec"]["containers"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let statuses = pod["status"]["containerStatuses"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    containers
        .iter()
        .zip(statuses.iter())
        .map(|(c, s)| {
            let due = if s["state"]["waiting"].is_object() {
                Some(now)
            } else if let Some(started) = s["state"]["running"]["startedAt"].as_str() {
                let started: Timestamp = started.parse().unwrap_or(now);
                exit_of(pod, c).map(|e| at(started, e.after))
            } else {
                None
            };
            Track {
                due,
                ..Track::default()
            }
        })
        .collect()
}

/// The kubelet's `getPhase`: any container waiting for its first start keeps the pod Pending;
/// any running makes it Running; when all have stopped the restart policy decides.
pub fn pod_phase(pod: &Value) -> &'static str {
    let (mut running, mut waiting, mut stopped, mut succeeded) = (0, 0, 0, 0);
    for s in pod["status"]["containerStatuses"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let st = &s["state"];
        if st["running"].is_object() {
            running += 1;
        } else if st["terminated"].is_object() {
            stopped += 1;
            if st["terminated"]["exitCode"] == 0 {
                succeeded += 1;
            }
        } else if s["lastState"]["terminated"].is_object() {
            stopped += 1;
        } else {
            waiting += 1;
        }
    }
    let policy = pod["spec"]["restartPolicy"].as_str().unwrap_or("Always");
    match () {
        _ if waiting > 0 => "Pending",
        _ if running > 0 => "Running",
        _ if stopped == 0 => "Pending",
        _ if policy == "Always" => "Running",
        _ if stopped == succeeded => "Succeeded",
        _ if policy == "OnFailure" => "Running",
        _ => "Failed",
    }
}

/// Phase and the Ready/ContainersReady conditions from the container statuses.
fn render(pod: &mut Value, now: Timestamp) {
    let now = fmt(now);
    let phase = pod_phase(pod);
    pod["status"]["phase"] = json!(phase);
    let unready: Vec<&str> = pod["status"]["containerStatuses"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|s| s["ready"] != true)
        .filter_map(|s| s["name"].as_str())
        .collect();
    let conds: Vec<Value> = ["Ready", "ContainersReady"]
        .iter()
        .map(|t| {
            let mut c = json!({"type": t, "status": if unready.is_empty() { "True" } else { "False" },
                "lastProbeTime": null});
            if phase == "Succeeded" {
                c["status"] = json!("False");
                c["reason"] = json!("PodCompleted");
            } else if !unready.is_empty() {
                c["reason"] = json!("ContainersNotReady");
                c["message"] = json!(format!(
                    "containers with unready status: [{}]",
                    unready.join(" ")
                ));
            }
            c
        })
        .collect();
    for c in conds {
        set_condition(&mut pod["status"]["conditions"], c, &now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(policy: &str, command: Value, image: &str) -> Value {
        json!({"metadata": {"name": "p", "namespace": "default", "uid": "u1"},
            "spec": {"restartPolicy": policy, "containers": [
                {"name": "c", "image": image, "command": command, "imagePullPolicy": "IfNotPresent"}]},
            "status": {"phase": "Pending", "conditions": []}})
    }

    fn t0() -> Timestamp {
        "2026-01-01T00:00:00Z".parse().unwrap()
    }

    fn state(p: &Value) -> &Value {
        &p["status"]["containerStatuses"][0]
    }

    #[test]
    fn backoff_doubles_to_five_minutes() {
        let b: Vec<f64> = (1..=7).map(backoff).collect();
        assert_eq!(b, [10.0, 20.0, 40.0, 80.0, 160.0, 300.0, 300.0]);
        assert_eq!(go_duration(10.0), "10s");
        assert_eq!(go_duration(160.0), "2m40s");
        assert_eq!(go_duration(300.0), "5m0s");
    }

    #[test]
    fn a_crashing_container_backs_off() {
        let mut p = pod("Always", json!(["false"]), "busybox");
        let mut tr = Vec::new();
        start(&mut p, &mut tr, t0());
        // Restarted at once after the first exit, then waits 10 s.
        assert_eq!(state(&p)["restartCount"], 1);
        assert_eq!(state(&p)["state"]["waiting"]["reason"], "CrashLoopBackOff");
        assert_eq!(state(&p)["lastState"]["terminated"]["exitCode"], 1);
        assert_eq!(p["status"]["phase"], "Running");
        assert_eq!(p["status"]["conditions"][0]["status"], "False");
        let mut t = t0();
        for (restarts, wait) in [(2, 10.0), (3, 20.0), (4, 40.0)] {
            assert_eq!(next_due(&tr), Some(at(t, wait)));
            t = at(t, wait);
            advance(&mut p, &mut tr, at(t, -0.5), vec![]);
            assert_eq!(
                state(&p)["restartCount"],
                restarts - 1,
                "not before it is due"
            );
            let ev = advance(&mut p, &mut tr, t, vec![]);
            assert_eq!(state(&p)["restartCount"], restarts);
            assert!(ev.iter().any(|e| e.reason == "BackOff"));
        }
    }

    #[test]
    fn never_and_on_failure() {
        let mut tr = Vec::new();
        let mut ok = pod("Never", json!(["sh", "-c", "sleep 3; exit 0"]), "busybox");
        start(&mut ok, &mut tr, t0());
        assert_eq!(ok["status"]["phase"], "Running");
        advance(&mut ok, &mut tr, at(t0(), 3.0), vec![]);
        assert_eq!(ok["status"]["phase"], "Succeeded");
        assert_eq!(state(&ok)["state"]["terminated"]["reason"], "Completed");
        let mut bad = pod("Never", json!(["sh", "-c", "exit 2"]), "busybox");
        start(&mut bad, &mut tr, t0());
        assert_eq!(bad["status"]["phase"], "Failed");
        assert_eq!(state(&bad)["state"]["terminated"]["exitCode"], 2);
        assert_eq!(state(&bad)["restartCount"], 0);
        let mut retry = pod("OnFailure", json!(["false"]), "busybox");
        start(&mut retry, &mut tr, t0());
        assert_eq!(retry["status"]["phase"], "Running");
        assert_eq!(
            state(&retry)["state"]["waiting"]["reason"],
            "CrashLoopBackOff"
        );
        let mut done = pod("OnFailure", json!(["true"]), "busybox");
        start(&mut done, &mut tr, t0());
        assert_eq!(done["status"]["phase"], "Succeeded");
    }

    #[test]
    fn a_missing_image_backs_off() {
        let mut p = pod("Always", Value::Null, "nginx:doesnotexist");
        let mut tr = Vec::new();
        let ev = start(&mut p, &mut tr, t0());
        assert_eq!(state(&p)["state"]["waiting"]["reason"], "ErrImagePull");
        assert_eq!(p["status"]["phase"], "Pending");
        let reasons: Vec<&str> = ev.iter().map(|e| e.reason).collect();
        assert_eq!(reasons, ["Pulling", "Failed", "Failed"]);
        advance(&mut p, &mut tr, at(t0(), 2.0), vec![]);
        assert_eq!(state(&p)["state"]["waiting"]["reason"], "ImagePullBackOff");
        assert_eq!(next_due(&tr), Some(at(t0(), 10.0)));
        advance(&mut p, &mut tr, at(t0(), 10.0), vec![]);
        assert_eq!(state(&p)["state"]["waiting"]["reason"], "ErrImagePull");
        advance(&mut p, &mut tr, at(t0(), 12.0), vec![]);
        assert_eq!(next_due(&tr), Some(at(t0(), 30.0)));
        // Fixing the image (`kubectl set image`) lets the next attempt start it.
        p["spec"]["containers"][0]["image"] = json!("nginx:1.25");
        advance(&mut p, &mut tr, at(t0(), 30.0), vec![]);
        assert!(state(&p)["state"]["running"].is_object());
        assert_eq!(p["status"]["phase"], "Running");
        assert_eq!(p["status"]["conditions"][0]["status"], "True");
    }
}
