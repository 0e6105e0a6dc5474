//! Pod deletion with grace periods, and the `pods/eviction` subresource with the real server's
//! PodDisruptionBudget rules (kubernetes `pkg/registry/core/pod/storage/eviction.go`).

use std::sync::Arc;

use serde_json::{Value, json};

use super::delete::DeleteOptions;
use super::selectors::LabelSelector;
use super::status::{ApiError, ApiResult, success};
use super::{ApiState, Params, decode_object, dry_run};
use crate::sim::clock::format_time;
use crate::sim::kinds::Kind;
use crate::sim::store::StoreError;

/// The grace period the server applies (`CheckGracefulDeleteForPod`): unscheduled and finished
/// pods go at once; negative values become 1; unset uses the pod's own setting (default 30).
pub fn effective_grace(pod: &Value, requested: Option<i64>) -> i64 {
    let mut grace = requested
        .or_else(|| pod["spec"]["terminationGracePeriodSeconds"].as_i64())
        .unwrap_or(30);
    let phase = pod["status"]["phase"].as_str().unwrap_or("");
    if pod["spec"]["nodeName"].as_str().unwrap_or("").is_empty()
        || phase == "Succeeded"
        || phase == "Failed"
    {
        grace = 0;
    }
    if grace < 0 {
        grace = 1;
    }
    grace
}

/// `preconditions.uid`: 409 when the pod behind the name is another one.
fn uid_precondition(pod: &Value, name: &str, opts: &DeleteOptions) -> ApiResult<()> {
    match &opts.uid {
        Some(uid) if pod["metadata"]["uid"].as_str() != Some(uid) => Err(ApiError::new(
            409,
            "Conflict",
            format!(
                "Operation cannot be fulfilled on pods \"{name}\": Precondition failed: UID in precondition: {uid}, UID in object meta: {}",
                pod["metadata"]["uid"].as_str().unwrap_or("")
            ),
        )),
        _ => Ok(()),
    }
}

/// Deletes a pod: grace 0 removes it now; otherwise it gets `deletionTimestamp` and
/// `deletionGracePeriodSeconds` and the kubelet controller removes it when the grace runs out.
/// A second delete may only shorten a running grace period. Returns the pod as the API shows it.
pub fn delete_pod(
    st: &ApiState,
    ns: &str,
    name: &str,
    opts: &DeleteOptions,
) -> ApiResult<Arc<Value>> {
    let pod = st
        .store
        .get(Kind::Pod, ns, name)
        .ok_or_else(|| ApiError::not_found(Kind::Pod, name))?;
    uid_precondition(&pod, name, opts)?;
    let grace = effective_grace(&pod, opts.grace);
    if opts.dry_run {
        return Ok(pod);
    }
    if grace == 0 {
        return Ok(st.store.delete(Kind::Pod, ns, name)?);
    }
    let now = st.store.clock().now();
    let res = st.store.update(Kind::Pod, ns, name, |p| {
        let current = p["metadata"]["deletionGracePeriodSeconds"].as_i64();
        if current.is_some_and(|c| grace >= c) {
            return Ok(());
        }
        let at = now
            .checked_add(jiff::SignedDuration::from_secs(grace))
            .unwrap_or(now);
        p["metadata"]["deletionTimestamp"] = json!(format_time(at));
        p["metadata"]["deletionGracePeriodSeconds"] = json!(grace);
        Ok(())
    });
    Ok(res?)
}

/// `POST .../pods/{name}/eviction`.
pub fn evict(st: &ApiState, ns: &str, name: &str, ct: &str, body: &[u8], q: &Params) -> ApiResult {
    let ev = decode_object(ct, body)?;
    match ev["kind"].as_str() {
        None | Some("Eviction") => {}
        Some(k) => {
            return Err(ApiError::bad_request(format!(
                "the kind in the data ({k}) does not match Eviction"
            )));
        }
    }
    if let Some(n) = ev["metadata"]["name"].as_str()
        && n != name
    {
        return Err(ApiError::bad_request(
            "name in URL does not match name in Eviction object",
        ));
    }
    let mut opts = DeleteOptions {
        dry_run: dry_run(q),
        ..Default::default()
    };
    if ev["deleteOptions"].is_object() {
        opts.merge_body(&ev["deleteOptions"])?;
    }
    let pod = st
        .store
        .get(Kind::Pod, ns, name)
        .ok_or_else(|| ApiError::not_found(Kind::Pod, name))?;
    // The precondition first: an eviction meant for another pod takes nothing from a budget.
    uid_precondition(&pod, name, &opts)?;
    let phase = pod["status"]["phase"].as_str().unwrap_or("");
    // Pods that are finished, not running yet, or already going: a plain delete, PDBs ignored.
    let ignore_pdb = matches!(phase, "Succeeded" | "Failed" | "Pending")
        || !pod["metadata"]["deletionTimestamp"].is_null();
    if !ignore_pdb {
        check_budget(st, ns, name, &pod, opts.dry_run)?;
    }
    delete_pod(st, ns, name, &opts)?;
    Ok(success(201, None))
}

/// Finds the PDB guarding `pod` and takes one disruption from it, or says why not.
fn check_budget(st: &ApiState, ns: &str, name: &str, pod: &Value, dry_run: bool) -> ApiResult<()> {
    let labels = &pod["metadata"]["labels"];
    if labels.as_object().is_none_or(|m| m.is_empty()) {
        return Ok(());
    }
    let (_, pdbs) = st
        .store
        .list_where(Kind::PodDisruptionBudget, Some(ns), |pdb| {
            LabelSelector::from_object(&pdb["spec"]["selector"])
                .is_some_and(|s| !s.is_empty() && s.matches_labels(labels))
        });
    if pdbs.len() > 1 {
        return Err(ApiError::new(
            500,
            "",
            "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.",
        ));
    }
    let Some(pdb) = pdbs.first() else {
        return Ok(());
    };
    let pdb_name = pdb["metadata"]["name"].as_str().unwrap_or("").to_string();
    let mut refusal: Option<ApiError> = None;
    let now = format_time(st.store.clock().now());
    let res = st.store.update(Kind::PodDisruptionBudget, ns, &pdb_name, |pdb| {
        let s = &pdb["status"];
        let generation = pdb["metadata"]["generation"].as_i64().unwrap_or(1);
        let allowed = s["disruptionsAllowed"].as_i64().unwrap_or(0);
        let why = if s["observedGeneration"].as_i64().unwrap_or(0) < generation {
            Some(too_many(format!("The disruption budget {pdb_name} is still being processed by the server."), 10))
        } else if allowed < 0 {
            Some(ApiError::forbidden(format!(
                "poddisruptionbudgets.policy \"{pdb_name}\" is forbidden: pdb disruptions allowed is negative"
            )))
        } else if s["disruptedPods"].as_object().is_some_and(|m| m.len() > 2000) {
            Some(ApiError::forbidden(format!(
                "poddisruptionbudgets.policy \"{pdb_name}\" is forbidden: DisruptedPods map too big - too many evictions not confirmed by PDB controller"
            )))
        } else if allowed == 0 {
            Some(too_many(
                format!(
                    "The disruption budget {pdb_name} needs {} healthy pods and has {} currently",
                    s["desiredHealthy"].as_i64().unwrap_or(0),
                    s["currentHealthy"].as_i64().unwrap_or(0)
                ),
                0,
            ))
        } else {
            None
        };
        if let Some(e) = why {
            refusal = Some(e);
            return Err(StoreError::Conflict(String::new()));
        }
        if dry_run {
            return Ok(());
        }
        pdb["status"]["disruptionsAllowed"] = json!(allowed - 1);
        if !pdb["status"]["disruptedPods"].is_object() {
            pdb["status"]["disruptedPods"] = json!({});
        }
        pdb["status"]["disruptedPods"][name] = json!(now);
        Ok(())
    });
    match (res, refusal) {
        (_, Some(e)) => Err(e),
        (Err(e), None) => Err(e.into()),
        (Ok(_), None) => Ok(()),
    }
}

/// The eviction 429: the message kubectl prints, the PDB named in `details.causes`.
fn too_many(cause: String, retry_after: u64) -> ApiError {
    let mut details = json!({"causes": [{"reason": "DisruptionBudget", "message": cause}]});
    if retry_after > 0 {
        details["retryAfterSeconds"] = json!(retry_after);
    }
    let mut e = ApiError::new(
        429,
        "TooManyRequests",
        "Cannot evict pod as it would violate the pod's disruption budget.",
    )
    .with_details(details);
    if retry_after > 0 {
        e.retry_after = Some(retry_after);
    }
    e
}
