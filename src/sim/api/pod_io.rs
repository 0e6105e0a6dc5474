//! What a real cluster's kubelet answers through the API server for a pod's containers:
//! `pods/log` with generated lines (the built-in cluster runs no processes; the first line says
//! so), `-f` following them as simulated time passes until the container stops, `--previous`
//! for a restarted container; and for `exec`, `attach` and `port-forward` a Status saying there
//! is no container runtime, instead of a bare 404.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::response::Response;
use http::{HeaderValue, header};
use jiff::Timestamp;
use serde_json::Value;
use tokio::sync::mpsc;

use super::status::{ApiError, ApiResult};
use super::{ApiState, Params};
use crate::sim::kinds::Kind;

/// How often a running container writes a line (simulated time).
const LINE_EVERY_SECS: i64 = 60;
/// Lines kept per container instance; older ones are rotated away, as the kubelet's log
/// rotation drops them.
const KEPT_LINES: i64 = 1000;

/// One container instance whose lines are generated.
struct Instance {
    container: String,
    image: String,
    node: String,
    started: Timestamp,
    /// When it stopped, with the line it ended on.
    finished: Option<(Timestamp, String)>,
}

impl Instance {
    /// Lines (time, text) written at or before `until`, the last `KEPT_LINES` of them.
    fn lines(&self, until: Timestamp) -> Vec<(Timestamp, String)> {
        let end = match &self.finished {
            Some((t, _)) if *t < until => *t,
            _ => until,
        };
        let span = end.as_second() - self.started.as_second();
        if span < 0 {
            return Vec::new();
        }
        let beats = span / LINE_EVERY_SECS;
        let mut out = Vec::new();
        if beats < KEPT_LINES {
            out.push((self.started, self.first_line()));
        }
        for n in (beats - KEPT_LINES + 1).max(1)..=beats {
            let at = self.started + jiff::SignedDuration::from_secs(n * LINE_EVERY_SECS);
            out.push((at, self.beat_line(n)));
        }
        if let Some((t, last)) = &self.finished
            && *t <= until
        {
            out.push((*t, last.clone()));
        }
        out
    }

    fn first_line(&self) -> String {
        format!(
            "kubedrain simulator: container {:?} (image {}) started on {}; it runs no process, these lines are generated",
            self.container, self.image, self.node
        )
    }

    fn beat_line(&self, n: i64) -> String {
        let up = jiff::SignedDuration::from_secs(n * LINE_EVERY_SECS);
        format!("{}: running for {up:#}", self.container)
    }
}

/// `GET pods/{name}/log`.
pub fn logs(st: &Arc<ApiState>, ns: &str, name: &str, q: &Params) -> ApiResult {
    let pod = st
        .store
        .get(Kind::Pod, ns, name)
        .ok_or_else(|| ApiError::not_found(Kind::Pod, name))?;
    let container = pick_container(&pod, name, q.get("container").map(String::as_str))?;
    let previous = q.get("previous").is_some_and(|v| v == "true");
    let instance = instance(&pod, name, &container, previous)?;
    let opts = LogOptions::parse(q)?;
    let now = st.store.clock().now();
    let lines = opts.select(instance.lines(now), now);
    let follow = q.get("follow").is_some_and(|v| v == "true") && !previous;
    let (tx, rx) = mpsc::channel::<Bytes>(64);
    let mut resp = Response::new(Body::from_stream(futures::stream::unfold(
        rx,
        |mut rx| async move { rx.recv().await.map(|b| (Ok::<_, Infallible>(b), rx)) },
    )));
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    let st = st.clone();
    let uid = pod["metadata"]["uid"].as_str().unwrap_or("").to_string();
    let (ns, name) = (ns.to_string(), name.to_string());
    tokio::spawn(async move {
        let mut budget = opts.limit_bytes;
        let mut last = None;
        for (t, line) in lines {
            last = Some(t);
            if !send(&tx, &opts, t, &line, &mut budget).await {
                return;
            }
        }
        if follow {
            let from = last.unwrap_or(instance.started);
            follow_lines(&st, &tx, &opts, &instance, (&ns, &name, &uid), from, budget).await;
        }
    });
    Ok(resp)
}

/// Sends lines newer than `from` as simulated time passes, until the container stops (the
/// pod is gone, replaced, or finished), the client leaves, or the server shuts down.
async fn follow_lines(
    st: &ApiState,
    tx: &mpsc::Sender<Bytes>,
    opts: &LogOptions,
    instance: &Instance,
    (ns, name, uid): (&str, &str, &str),
    mut from: Timestamp,
    mut budget: Option<u64>,
) {
    let mut shutdown = st.shutdown.clone();
    loop {
        let tick = st.store.clock().real_duration(Duration::from_secs(1));
        tokio::select! {
            _ = tokio::time::sleep(tick.clamp(Duration::from_millis(20), Duration::from_secs(1))) => {}
            _ = tx.closed() => return,
            _ = shutdown.changed() => return,
        }
        let now = st.store.clock().now();
        let after = from;
        for (t, line) in instance.lines(now).into_iter().filter(|(t, _)| *t > after) {
            from = t;
            if !send(tx, opts, t, &line, &mut budget).await {
                return;
            }
        }
        let stopped = match st.store.get(Kind::Pod, ns, name) {
            None => true,
            Some(p) => {
                p["metadata"]["uid"].as_str() != Some(uid)
                    || matches!(p["status"]["phase"].as_str(), Some("Succeeded" | "Failed"))
            }
        };
        if stopped {
            return;
        }
    }
}

/// Sends one line; false when the client left or `limitBytes` is used up.
async fn send(
    tx: &mpsc::Sender<Bytes>,
    opts: &LogOptions,
    t: Timestamp,
    line: &str,
    budget: &mut Option<u64>,
) -> bool {
    let mut text = if opts.timestamps {
        format!("{} {line}\n", t.strftime("%Y-%m-%dT%H:%M:%S%.9fZ"))
    } else {
        format!("{line}\n")
    };
    if let Some(left) = budget {
        if *left == 0 {
            return false;
        }
        if text.len() as u64 > *left {
            text.truncate(*left as usize);
        }
        *left -= text.len() as u64;
    }
    tx.send(Bytes::from(text)).await.is_ok()
}

/// `tailLines`, `sinceSeconds`, `sinceTime`, `timestamps`, `limitBytes`.
struct LogOptions {
    tail: Option<usize>,
    since: Option<Timestamp>,
    since_seconds: Option<i64>,
    timestamps: bool,
    limit_bytes: Option<u64>,
}

impl LogOptions {
    fn parse(q: &Params) -> ApiResult<Self> {
        fn number<T: std::str::FromStr>(q: &Params, key: &str) -> ApiResult<Option<T>> {
            q.get(key)
                .map(|v| {
                    v.parse()
                        .map_err(|_| ApiError::bad_request(format!("invalid {key} {v:?}")))
                })
                .transpose()
        }
        let since = q
            .get("sinceTime")
            .map(|v| {
                v.parse::<Timestamp>()
                    .map_err(|_| ApiError::bad_request(format!("invalid sinceTime {v:?}")))
            })
            .transpose()?;
        Ok(Self {
            tail: number::<i64>(q, "tailLines")?.and_then(|n| usize::try_from(n).ok()),
            since,
            since_seconds: number(q, "sinceSeconds")?,
            timestamps: q.get("timestamps").is_some_and(|v| v == "true"),
            limit_bytes: number(q, "limitBytes")?,
        })
    }

    fn select(
        &self,
        mut lines: Vec<(Timestamp, String)>,
        now: Timestamp,
    ) -> Vec<(Timestamp, String)> {
        let since = self
            .since_seconds
            .map(|s| now - jiff::SignedDuration::from_secs(s))
            .or(self.since);
        if let Some(since) = since {
            lines.retain(|(t, _)| *t >= since);
        }
        if let Some(n) = self.tail {
            let skip = lines.len().saturating_sub(n);
            lines.drain(..skip);
        }
        lines
    }
}

/// The container `requested`, or the only one; the real server's errors otherwise.
fn pick_container(pod: &Value, pod_name: &str, requested: Option<&str>) -> ApiResult<String> {
    let names: Vec<&str> = pod["spec"]["containers"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["name"].as_str())
        .collect();
    match requested {
        Some(c) if names.contains(&c) => Ok(c.to_string()),
        Some(c) => Err(ApiError::bad_request(format!(
            "container {c} is not valid for pod {pod_name}"
        ))),
        None if names.len() == 1 => Ok(names[0].to_string()),
        None => Err(ApiError::bad_request(format!(
            "a container name must be specified for pod {pod_name}, choose one of: [{}]",
            names.join(" ")
        ))),
    }
}

/// The container's current (or previous) instance from the pod's status.
fn instance(pod: &Value, pod_name: &str, container: &str, previous: bool) -> ApiResult<Instance> {
    let status = pod["status"]["containerStatuses"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|s| s["name"] == container)
        .cloned()
        .unwrap_or(Value::Null);
    let spec = pod["spec"]["containers"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["name"] == container);
    let image = spec.and_then(|c| c["image"].as_str()).unwrap_or("");
    let node = pod["spec"]["nodeName"].as_str().unwrap_or("");
    let state = if previous {
        &status["lastState"]
    } else {
        &status["state"]
    };
    let time = |v: &Value| v.as_str().and_then(|s| s.parse::<Timestamp>().ok());
    let make = |started, finished| Instance {
        container: container.to_string(),
        image: image.to_string(),
        node: node.to_string(),
        started,
        finished,
    };
    if let Some(started) = time(&state["running"]["startedAt"]) {
        return Ok(make(started, None));
    }
    let term = &state["terminated"];
    if let (Some(started), Some(finished)) = (time(&term["startedAt"]), time(&term["finishedAt"])) {
        let last = format!(
            "{container}: exited with code {} ({})",
            term["exitCode"].as_i64().unwrap_or(0),
            term["reason"].as_str().unwrap_or("Completed")
        );
        return Ok(make(started, Some((finished, last))));
    }
    if previous {
        return Err(ApiError::bad_request(format!(
            "previous terminated container {container:?} in pod {pod_name:?} not found"
        )));
    }
    let reason = state["waiting"]["reason"]
        .as_str()
        .unwrap_or("ContainerCreating");
    Err(ApiError::bad_request(format!(
        "container {container:?} in pod {pod_name:?} is waiting to start: {reason}"
    )))
}

/// `exec`, `attach`, `portforward`: the built-in cluster has no container runtime.
pub fn no_runtime(st: &ApiState, ns: &str, name: &str, sub: &str) -> ApiResult {
    if st.store.get(Kind::Pod, ns, name).is_none() {
        return Err(ApiError::not_found(Kind::Pod, name));
    }
    let what = match sub {
        "exec" => "run a command in",
        "attach" => "attach to",
        _ => "forward ports to",
    };
    Err(ApiError::bad_request(format!(
        "the kubedrain built-in cluster has no container runtime: it cannot {what} pod {ns}/{name} (its containers are simulated; `kubectl logs` shows generated lines)"
    )))
}
