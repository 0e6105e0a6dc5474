//! One pod's eviction (or deletion) loop: policy/v1 Eviction with a body we build ourselves,
//! 429 → wait and retry (naming the blocking PDB), 404 → gone, anything else → that pod fails.

use std::sync::{Arc, LazyLock};
use std::time::Duration;

use kube::api::{Api, DeleteParams, PostParams, Preconditions};
use kube::core::Status;
use kube::{Client, Error};
use regex::Regex;
use serde_json::{Value, json};
use tokio::sync::{Notify, Semaphore};

use super::events::PodState;
use super::node_ops::api_message;
use crate::cluster::rows::PodRow;

/// kubectl's fixed retry delay, used when the server gives none.
pub const DEFAULT_RETRY: Duration = Duration::from_secs(5);

/// The pod to evict.
#[derive(Debug, Clone)]
pub struct Target {
    pub namespace: String,
    pub name: String,
    /// The pod's uid when planned: sent as a precondition, so a new pod that took the name
    /// (or another cluster behind the same URL) is never evicted in its place.
    pub uid: String,
}

impl Target {
    /// `namespace/name`.
    pub fn key(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }
}

/// How an eviction request ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Ended {
    /// Accepted: the pod is terminating.
    Accepted,
    /// 404: it was already gone.
    AlreadyGone,
    /// Failed for good, with kubectl's message.
    Failed(String),
}

static PDB_CAUSE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[Dd]isruption budget ([^\s]+?) needs (\d+) healthy pods and has (\d+) currently")
        .unwrap()
});
static PDB_NAME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"[Dd]isruption budget "?([^\s"]+?)"? "#).unwrap());

/// Turns a 429 Status into the state to report (PDB name/counts from `details.causes`).
pub fn blocked_state(s: &Status, namespace: &str) -> PodState {
    let retry_in = s
        .details
        .as_ref()
        .map(|d| d.retry_after_seconds)
        .filter(|&r| r > 0)
        .map(|r| Duration::from_secs(r.into()))
        .unwrap_or(DEFAULT_RETRY);
    let cause = s.details.as_ref().and_then(|d| {
        d.causes
            .iter()
            .find(|c| c.reason == "DisruptionBudget")
            .or_else(|| d.causes.first())
            .map(|c| c.message.clone())
    });
    let Some(text) = cause
        .clone()
        .filter(|_| s.message.contains("disruption budget"))
    else {
        return PodState::Retrying {
            message: s.message.clone(),
            retry_in,
        };
    };
    let (pdb, healthy, needed) = match PDB_CAUSE.captures(&text) {
        Some(c) => (Some(c[1].to_string()), c[3].parse().ok(), c[2].parse().ok()),
        None => (
            PDB_NAME.captures(&text).map(|c| c[1].to_string()),
            None,
            None,
        ),
    };
    PodState::BlockedByPdb {
        pdb: pdb.map(|p| {
            if p.contains('/') {
                p
            } else {
                format!("{namespace}/{p}")
            }
        }),
        healthy,
        needed,
        message: s.message.clone(),
        cause,
        retry_in,
    }
}

/// A 409 for the uid precondition: the pod that was planned is gone, another one has its name.
fn is_uid_conflict(s: &Status) -> bool {
    s.code == 409 && s.message.contains("UID in precondition")
}

/// The policy/v1 Eviction body (kube-rs's `evict` sends `delete_options`, which the server ignores).
pub fn eviction_body(t: &Target, grace: Option<u32>) -> Value {
    let mut body = json!({
        "apiVersion": "policy/v1",
        "kind": "Eviction",
        "metadata": {"name": t.name, "namespace": t.namespace},
    });
    if let Some(g) = grace {
        body["deleteOptions"]["gracePeriodSeconds"] = json!(g);
    }
    if !t.uid.is_empty() {
        body["deleteOptions"]["preconditions"] = json!({"uid": t.uid});
    }
    body
}

/// First delay after a transient error; it doubles with each one in a row, up to
/// [`TRANSIENT_CAP`].
pub const TRANSIENT_BASE: Duration = Duration::from_millis(500);
/// Longest delay between two retries after transient errors.
pub const TRANSIENT_CAP: Duration = Duration::from_secs(30);
/// How long a pod keeps retrying transient errors in a row before it fails (a server that
/// answers 503 for this long is not coming back within the drain).
pub const TRANSIENT_BUDGET: Duration = Duration::from_secs(300);

/// The delay before retry `n` (1-based) after transient errors: capped exponential backoff
/// with jitter (half to all of the step), so pods retrying together spread out.
pub fn transient_delay(n: u32) -> Duration {
    let step = TRANSIENT_BASE
        .saturating_mul(1u32 << n.saturating_sub(1).min(16))
        .min(TRANSIENT_CAP);
    step.mul_f64(rand::random_range(0.5..=1.0))
}

/// Whether a failed request is worth retrying: 5xx and 409 (a conflict inside the server,
/// e.g. on the budget's status), and transport errors (connection reset or refused,
/// timeouts). Other 4xx are the server's final word. `Some(message)` if transient.
pub fn transient(e: &Error) -> Option<String> {
    match e {
        Error::Api(s) => transient_status(s).then(|| s.message.clone()),
        Error::HyperError(_) | Error::Service(_) | Error::ReadEvents(_) => Some(e.to_string()),
        _ => None,
    }
}

fn transient_status(s: &Status) -> bool {
    // The real server says this with a 500, but it is about the pod, not the server.
    matches!(s.code, 409 | 500 | 502 | 503 | 504)
        && !s.message.contains("more than one PodDisruptionBudget")
}

/// Runs `call` until it succeeds or fails for good, retrying transient errors with
/// [`transient_delay`]; the caller bounds the time (a check at the end of a drain must not
/// fail the drain because of one 503).
pub async fn retrying<T, F, Fut>(mut call: F) -> Result<T, Error>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, Error>>,
{
    let mut retries = 0;
    loop {
        match call().await {
            Err(e) if transient(&e).is_some() => {
                retries += 1;
                tokio::time::sleep(transient_delay(retries)).await;
            }
            done => return done,
        }
    }
}

/// Consecutive transient errors of one pod's requests.
#[derive(Debug, Default)]
struct Transient {
    count: u32,
    since: Option<tokio::time::Instant>,
}

impl Transient {
    /// Counts one more; the state to report and the delay, or `None` past the budget.
    fn next(&mut self, message: &str) -> Option<(PodState, Duration)> {
        let since = *self.since.get_or_insert_with(tokio::time::Instant::now);
        if since.elapsed() >= TRANSIENT_BUDGET {
            return None;
        }
        self.count += 1;
        let wait = transient_delay(self.count);
        let state = PodState::Retrying {
            message: format!("{message} (transient error, retry {})", self.count),
            retry_in: wait,
        };
        Some((state, wait))
    }

    fn reset(&mut self) {
        *self = Transient::default();
    }
}

/// One eviction (or, with `delete`, one delete with the pod's uid as precondition).
async fn request(
    api: &Api<PodRow>,
    t: &Target,
    grace: Option<u32>,
    delete: bool,
) -> Result<(), Error> {
    if delete {
        let dp = DeleteParams {
            grace_period_seconds: grace,
            preconditions: (!t.uid.is_empty()).then(|| Preconditions {
                uid: Some(t.uid.clone()),
                resource_version: None,
            }),
            ..Default::default()
        };
        api.delete(&t.name, &dp).await.map(|_| ())
    } else {
        api.create_subresource::<Value, Value>(
            "eviction",
            &t.name,
            &PostParams::default(),
            &eviction_body(t, grace),
        )
        .await
        .map(|_| ())
    }
}

/// Evicts (or deletes) one pod until it is accepted, gone or fails; reports each step via
/// `report`. Holds an eviction slot from `slots` only while a request is in flight; a blocked
/// pod retries after the server's delay, or sooner when `pdb_changed` fires.
pub async fn run(
    client: Client,
    t: Target,
    grace: Option<u32>,
    delete: bool,
    slots: Arc<Semaphore>,
    pdb_changed: Arc<Notify>,
    report: impl Fn(PodState),
) -> Ended {
    let api = Api::<PodRow>::namespaced(client, &t.namespace);
    let verb = if delete { "deleting" } else { "evicting" };
    let failed = |why: &str| {
        Ended::Failed(format!(
            "error when {verb} pods/\"{}\" -n \"{}\": {why}",
            t.name, t.namespace
        ))
    };
    let mut transients = Transient::default();
    for attempt in 1.. {
        let res = {
            let Ok(_permit) = slots.acquire().await else {
                return Ended::Failed("drain stopped".into());
            };
            report(PodState::Evicting { attempt });
            request(&api, &t, grace, delete).await
        };
        let status = match res {
            Ok(()) => return Ended::Accepted,
            Err(Error::Api(s)) if is_uid_conflict(&s) => return Ended::AlreadyGone,
            Err(Error::Api(s)) if !transient_status(&s) => s,
            Err(e) => {
                let Some(message) = transient(&e) else {
                    return failed(&api_message(&e));
                };
                let Some((state, wait)) = transients.next(&message) else {
                    let n = transients.count;
                    return failed(&format!(
                        "{message} (gave up after {n} retries over {}s of transient errors)",
                        TRANSIENT_BUDGET.as_secs()
                    ));
                };
                report(state);
                tokio::time::sleep(wait).await;
                continue;
            }
        };
        transients.reset();
        let terminating_ns = status.code == 403
            && status
                .details
                .as_ref()
                .is_some_and(|d| d.causes.iter().any(|c| c.reason == "NamespaceTerminating"));
        let state = match status.code {
            404 => return Ended::AlreadyGone,
            429 => blocked_state(&status, &t.namespace),
            403 if terminating_ns => PodState::Retrying {
                message: status.message.clone(),
                retry_in: DEFAULT_RETRY,
            },
            _ => return failed(&status.message),
        };
        let wait = match &state {
            PodState::BlockedByPdb { retry_in, .. } | PodState::Retrying { retry_in, .. } => {
                *retry_in
            }
            _ => DEFAULT_RETRY,
        };
        // Don't wait out the full delay when a PDB starts allowing disruptions (kubectl does).
        let woken = pdb_changed.notified();
        report(state);
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = woken => {}
        }
    }
    unreachable!("the retry loop only ends by returning")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transient_delays_grow_to_the_cap_with_jitter() {
        for n in 1..40 {
            let step = TRANSIENT_BASE
                .saturating_mul(1 << (n - 1).min(16))
                .min(TRANSIENT_CAP);
            let d = transient_delay(n);
            assert!(d >= step / 2 && d <= step, "retry {n}: {d:?} vs {step:?}");
        }
        assert!(transient_delay(1) <= Duration::from_millis(500));
        assert!(transient_delay(30) >= Duration::from_secs(15));
    }

    #[test]
    fn which_errors_are_retried() {
        let api = |code: u16, message: &str| {
            Error::Api(Box::new(Status {
                code,
                message: message.into(),
                ..Status::failure(message, "")
            }))
        };
        for code in [409, 500, 502, 503, 504] {
            assert!(transient(&api(code, "x")).is_some(), "{code}");
        }
        for code in [400, 401, 403, 404, 405, 422] {
            assert!(transient(&api(code, "x")).is_none(), "{code}");
        }
        let two = "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.";
        assert!(transient(&api(500, two)).is_none());
    }

    #[tokio::test]
    async fn retrying_rides_out_transient_errors_only() {
        let api = |code: u16| {
            Error::Api(Box::new(Status {
                code,
                ..Status::failure("x", "")
            }))
        };
        let calls = std::sync::atomic::AtomicU32::new(0);
        let got = retrying(|| async {
            match calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed) {
                0 | 1 => Err(api(503)),
                _ => Ok(7),
            }
        })
        .await;
        assert_eq!(got.unwrap(), 7);
        assert_eq!(calls.load(std::sync::atomic::Ordering::Relaxed), 3);
        let calls = std::sync::atomic::AtomicU32::new(0);
        let got: Result<(), _> = retrying(|| async {
            calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            Err(api(403))
        })
        .await;
        assert!(got.is_err());
        assert_eq!(
            calls.load(std::sync::atomic::Ordering::Relaxed),
            1,
            "403 is final"
        );
    }

    #[test]
    fn transient_errors_are_counted_until_the_budget() {
        let mut t = Transient::default();
        let (state, wait) = t.next("boom").unwrap();
        assert!(
            matches!(&state, PodState::Retrying { message, .. } if message == "boom (transient error, retry 1)"),
            "{state:?}"
        );
        assert!(wait <= TRANSIENT_BASE);
        t.next("boom").unwrap();
        assert_eq!(t.count, 2);
        t.since = tokio::time::Instant::now().checked_sub(TRANSIENT_BUDGET);
        assert!(t.next("boom").is_none(), "past the budget");
        t.reset();
        assert!(t.next("boom").is_some());
    }
}
