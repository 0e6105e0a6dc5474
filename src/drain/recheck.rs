//! Checks beside the drain's pod watch, which stays the primary signal: a GET of each
//! terminating pod past its grace after the watch failed, and, while the watch is silent past
//! its bookmarks (half-open, frozen), one list of the node's pods every few seconds.

use std::collections::HashMap;
use std::time::Duration;

use futures::StreamExt;
use kube::Client;
use kube::api::{Api, ListParams};

use super::drive::{Step, Tracked};
use super::evict::Target;
use super::exec::MAX_IN_FLIGHT;
use super::fetch;
use crate::cluster::rows::PodRow;

/// Between two GETs of the same pod; also the longest a re-check may take.
pub(super) const RECHECK_EVERY: Duration = Duration::from_secs(10);

/// One pod a re-check GETs: its key, where it is, and the UID it had.
type Recheck = (String, Target, String);

/// Terminating pods that are overdue (past grace + slack), at most [`MAX_IN_FLIGHT`] of them,
/// each due again [`RECHECK_EVERY`] later.
pub(super) fn overdue(tracked: &mut HashMap<String, Tracked>) -> Vec<Recheck> {
    let now = tokio::time::Instant::now();
    tracked
        .iter_mut()
        .filter(|(_, t)| t.step == Step::Waiting && t.recheck_at.is_some_and(|r| r <= now))
        .take(MAX_IN_FLIGHT)
        .map(|(k, t)| {
            t.recheck_at = Some(now + RECHECK_EVERY);
            (k.clone(), t.target.clone(), t.uid.clone())
        })
        .collect()
}

/// GETs each pod to catch a deletion the watch missed; returns the keys found gone (404 or a
/// new UID). Runs beside the drive loop, which keeps answering cancel and timeout meanwhile.
/// Errors are ignored: the next round retries.
pub(super) async fn recheck(client: Client, pods: Vec<Recheck>) -> Vec<String> {
    futures::stream::iter(pods)
        .map(|(key, t, uid)| {
            let api = Api::<PodRow>::namespaced(client.clone(), &t.namespace);
            async move {
                let got = tokio::time::timeout(RECHECK_EVERY, api.get_opt(&t.name)).await;
                match got {
                    Ok(Ok(p)) if p.as_ref().is_none_or(|p| p.uid() != uid) => Some(key),
                    _ => None,
                }
            }
        })
        .buffer_unordered(RECHECK_PARALLEL)
        .filter_map(std::future::ready)
        .collect()
        .await
}

/// Re-check GETs in flight at once.
const RECHECK_PARALLEL: usize = 8;

/// One node-scoped list of pods: returns the keys of `waiting` (key, uid) it no longer shows
/// (gone, or a new pod under the name). An error or no answer `within` returns nothing: the
/// next round retries (on another connection: a pooled one may be as dead as the watch).
pub(super) async fn verify_listed(
    client: Client,
    node: String,
    waiting: Vec<(String, String)>,
    within: Duration,
) -> Vec<String> {
    let api = Api::<PodRow>::all(client);
    let lp = ListParams::default().fields(&format!("spec.nodeName={node}"));
    let Ok(Ok((pods, _))) = tokio::time::timeout(within, fetch::list_all(&api, lp)).await else {
        return Vec::new();
    };
    let here: HashMap<String, String> = pods
        .iter()
        .map(|p| (p.key(), p.uid().to_string()))
        .collect();
    waiting
        .into_iter()
        .filter(|(k, uid)| here.get(k) != Some(uid))
        .map(|(k, _)| k)
        .collect()
}

/// While the pod watch is stale, how often its pods are listed: half a bookmark interval,
/// within 0.5–5 s, so a drain whose watch died ends within two intervals of its last pod.
pub(super) fn verify_every(interval: Duration) -> Duration {
    (interval / 2).clamp(Duration::from_millis(500), Duration::from_secs(5))
}
