//! The `scale` subresource of Deployments, ReplicaSets and StatefulSets (`kubectl scale`).

use serde_json::{Value, json};

use super::patch::{self, PatchType};
use super::request::Write;
use super::status::{ApiError, ApiResult, json_value};
use super::{ApiState, decode_object, dry_run, managed};
use crate::sim::clock::format_time;
use crate::sim::kinds::Kind;
use crate::sim::store::StoreError;

/// Kinds with a scale subresource.
pub fn has_scale(kind: Kind) -> bool {
    matches!(
        kind,
        Kind::Deployment | Kind::ReplicaSet | Kind::StatefulSet
    )
}

/// The autoscaling/v1 `Scale` view of a workload.
fn scale_of(o: &Value) -> Value {
    let m = &o["metadata"];
    let selector = o["spec"]["selector"]["matchLabels"]
        .as_object()
        .map(|ml| {
            let mut kv: Vec<String> = ml
                .iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
                .collect();
            kv.sort();
            kv.join(",")
        })
        .unwrap_or_default();
    json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            "name": m["name"], "namespace": m["namespace"], "uid": m["uid"],
            "resourceVersion": m["resourceVersion"], "creationTimestamp": m["creationTimestamp"],
        },
        "spec": {"replicas": o["spec"]["replicas"].as_i64().unwrap_or(1)},
        "status": {"replicas": o["status"]["replicas"].as_i64().unwrap_or(0), "selector": selector},
    })
}

/// GET `.../{name}/scale`.
pub fn get(st: &ApiState, kind: Kind, ns: &str, name: &str) -> ApiResult {
    let o = st
        .store
        .get(kind, ns, name)
        .ok_or_else(|| ApiError::not_found(kind, name))?;
    Ok(json_value(200, &scale_of(&o)))
}

/// PUT or PATCH `.../{name}/scale`: only `spec.replicas` is taken from the result.
pub fn change(st: &ApiState, w: &Write, patch: bool) -> ApiResult {
    let (kind, ns, name, q) = (w.kind, w.namespace(), w.name, w.query);
    let (ct, body) = (w.content_type, w.body);
    let patch_type = patch.then_some(ct);
    let (ty, input) = match patch_type {
        Some(ct) => {
            let ty = PatchType::from_content_type(ct)
                .ok_or_else(|| ApiError::unsupported_media_type(ct))?;
            let v: Value = serde_json::from_slice(body)
                .map_err(|e| ApiError::bad_request(format!("error decoding patch: {e}")))?;
            (Some(ty), v)
        }
        None => (None, decode_object(ct, body)?),
    };
    let mut err = None;
    let apply = |o: &mut Value| -> Result<(), StoreError> {
        let mut scale = scale_of(o);
        match ty {
            Some(ty) => {
                if let Err(e) = patch::apply(ty, &mut scale, &input) {
                    err = Some(e.to_string());
                    return Err(StoreError::Invalid(e.to_string()));
                }
            }
            None => scale = input.clone(),
        }
        let before = o.clone();
        match scale["spec"]["replicas"].as_i64() {
            Some(r) if r >= 0 => {
                o["spec"]["replicas"] = json!(r);
                // Through `/scale` the manager takes spec.replicas (an apply then conflicts).
                let manager = q.get("fieldManager").map_or("unknown", String::as_str);
                let time = format_time(st.store.clock().now());
                managed::record(&before, o, manager, &time, Some("scale"));
            }
            _ => {
                let m =
                    "spec.replicas: Invalid value: must be greater than or equal to 0".to_string();
                err = Some(m.clone());
                return Err(StoreError::Invalid(m));
            }
        }
        Ok(())
    };
    let res = if dry_run(q) {
        st.store.preview_update(kind, ns, name, apply)
    } else {
        st.store.update(kind, ns, name, apply)
    };
    match res {
        Ok(o) => Ok(json_value(200, &scale_of(&o))),
        Err(StoreError::Invalid(m)) => Err(ApiError::invalid(kind, name, err.unwrap_or(m))),
        Err(e) => Err(e.into()),
    }
}
