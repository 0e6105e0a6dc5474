//! Get, create, replace, patch and delete of single objects (pods' deletes live in `pods`).

use std::sync::Arc;

use serde_json::{Value, json};

use super::managed;
use super::patch::{self, PatchType};
use super::status::{ApiError, ApiResult, json_value, object_details, success};
use super::table::{self, IncludeObject};
use super::{ApiState, Params, decode_object, dry_run};
use crate::sim::clock::format_time;
use crate::sim::kinds::Kind;
use crate::sim::store::{StoreError, rv_of};

/// `DeleteOptions` from the query and/or the body.
#[derive(Debug, Clone, Default)]
pub struct DeleteOptions {
    /// `gracePeriodSeconds`, if given.
    pub grace: Option<i64>,
    /// `dryRun: [All]`.
    pub dry_run: bool,
    /// `preconditions.uid`, if given.
    pub uid: Option<String>,
}

impl DeleteOptions {
    /// Reads query parameters, then a JSON `DeleteOptions` body (the body wins).
    pub fn from_request(q: &Params, ct: &str, body: &[u8]) -> ApiResult<Self> {
        let mut o = DeleteOptions {
            grace: match q.get("gracePeriodSeconds") {
                Some(g) => Some(g.parse().map_err(|_| {
                    ApiError::bad_request(format!("invalid gracePeriodSeconds {g:?}"))
                })?),
                None => None,
            },
            dry_run: dry_run(q),
            uid: None,
        };
        if !body.iter().all(u8::is_ascii_whitespace) {
            let v = decode_object(ct, body)?;
            o.merge_body(&v);
        }
        Ok(o)
    }

    /// Applies a `DeleteOptions` JSON object.
    pub fn merge_body(&mut self, v: &Value) {
        if let Some(g) = v["gracePeriodSeconds"].as_i64() {
            self.grace = Some(g);
        }
        if v["dryRun"]
            .as_array()
            .is_some_and(|a| a.iter().any(|x| x == "All"))
        {
            self.dry_run = true;
        }
        if let Some(u) = v["preconditions"]["uid"].as_str() {
            self.uid = Some(u.to_string());
        }
    }
}

fn render(
    kind: Kind,
    st: &ApiState,
    obj: &Value,
    table_opt: Option<IncludeObject>,
    code: u16,
) -> axum::response::Response {
    match table_opt {
        Some(inc) => {
            let t = table::table(
                kind,
                [obj],
                st.store.clock().now(),
                inc,
                json!({"resourceVersion": obj["metadata"]["resourceVersion"]}),
            );
            json_value(code, &t)
        }
        None => json_value(code, obj),
    }
}

/// GET one object.
pub fn get(
    st: &ApiState,
    kind: Kind,
    ns: &str,
    name: &str,
    table_opt: Option<IncludeObject>,
) -> ApiResult {
    let obj = st
        .store
        .get(kind, ns, name)
        .ok_or_else(|| ApiError::not_found(kind, name))?;
    Ok(render(kind, st, &obj, table_opt, 200))
}

/// Fields a real server fills on create that controllers and printers rely on.
fn defaults(kind: Kind, obj: &mut Value) {
    match kind {
        Kind::Pod => {
            if !obj["status"]["phase"].is_string() {
                obj["status"]["phase"] = json!("Pending");
            }
            for (field, default) in [
                ("terminationGracePeriodSeconds", json!(30)),
                ("restartPolicy", json!("Always")),
                ("schedulerName", json!("default-scheduler")),
                ("dnsPolicy", json!("ClusterFirst")),
            ] {
                if obj["spec"][field].is_null() {
                    obj["spec"][field] = default;
                }
            }
        }
        Kind::Namespace if !obj["status"]["phase"].is_string() => {
            obj["status"]["phase"] = json!("Active");
        }
        Kind::Job => {
            // The server's defaults for a non-indexed Job without either field.
            for field in ["parallelism", "completions"] {
                if obj["spec"][field].is_null() {
                    obj["spec"][field] = json!(1);
                }
            }
        }
        Kind::Deployment | Kind::ReplicaSet | Kind::StatefulSet
            if obj["spec"]["replicas"].is_null() =>
        {
            obj["spec"]["replicas"] = json!(1);
        }
        _ => {}
    }
}

/// POST a new object.
pub fn create(
    st: &ApiState,
    kind: Kind,
    path_ns: Option<&str>,
    ct: &str,
    body: &[u8],
    q: &Params,
) -> ApiResult {
    if kind.namespaced() && path_ns.is_none() {
        return Err(ApiError::method_not_allowed("POST"));
    }
    let mut obj = decode_object(ct, body)?;
    if let Some(k) = obj["kind"].as_str()
        && k != kind.name()
    {
        return Err(ApiError::bad_request(format!(
            "the kind in the data ({k}) does not match the expected kind ({})",
            kind.name()
        )));
    }
    if let Some(ns) = path_ns {
        match obj["metadata"]["namespace"].as_str() {
            Some(b) if !b.is_empty() && b != ns => {
                return Err(ApiError::bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request",
                ));
            }
            _ => obj["metadata"]["namespace"] = json!(ns),
        }
        // Only enforced when the scenario models namespaces at all.
        if st.store.count(Kind::Namespace) > 0 && st.store.get(Kind::Namespace, "", ns).is_none() {
            return Err(ApiError::not_found(Kind::Namespace, ns));
        }
    }
    if let Some(m) = obj["metadata"].as_object_mut() {
        for f in [
            "resourceVersion",
            "uid",
            "creationTimestamp",
            "deletionTimestamp",
            "generation",
            "selfLink",
        ] {
            m.remove(f);
        }
    }
    defaults(kind, &mut obj);
    if dry_run(q) {
        let name = obj["metadata"]["name"].as_str().unwrap_or("").to_string();
        if !name.is_empty() && st.store.get(kind, path_ns.unwrap_or(""), &name).is_some() {
            return Err(ApiError::from_store(StoreError::AlreadyExists {
                kind,
                name,
            }));
        }
        obj["apiVersion"] = json!(kind.api_version());
        obj["kind"] = json!(kind.name());
        obj["metadata"]["creationTimestamp"] = json!(format_time(st.store.clock().now()));
        return Ok(json_value(201, &obj));
    }
    let created = st.store.create(kind, obj)?;
    Ok(json_value(201, &created))
}

/// A `metadata.uid` in a PUT body is a precondition, as on the real API server: a different
/// object behind the same name answers 409.
fn check_uid(body_uid: &Value, current: &Value, kind: Kind, name: &str) -> Result<(), StoreError> {
    let cur = current["metadata"]["uid"].as_str().unwrap_or("");
    match body_uid.as_str() {
        Some(uid) if !uid.is_empty() && uid != cur => Err(StoreError::Conflict(format!(
            "Operation cannot be fulfilled on {} \"{name}\": Precondition failed: UID in precondition: {uid}, UID in object meta: {cur}",
            crate::sim::store::resource_label(kind)
        ))),
        _ => Ok(()),
    }
}

fn check_rv(body_rv: &Value, current: &Value, kind: Kind, name: &str) -> Result<(), StoreError> {
    match body_rv.as_str() {
        Some(rv) if !rv.is_empty() && rv.parse::<u64>().ok() != Some(rv_of(current)) => {
            Err(StoreError::Conflict(format!(
                "Operation cannot be fulfilled on {} \"{name}\": the object has been modified; please apply your changes to the latest version and try again",
                crate::sim::store::resource_label(kind)
            )))
        }
        _ => Ok(()),
    }
}

/// Who makes an Update now: the request's field manager and the time.
fn update_by(st: &ApiState, q: &Params) -> (String, String) {
    let manager = q
        .get("fieldManager")
        .cloned()
        .unwrap_or_else(|| "unknown".into());
    (manager, format_time(st.store.clock().now()))
}

/// PUT (replace) an object or its status.
#[allow(clippy::too_many_arguments)]
pub fn replace(
    st: &ApiState,
    kind: Kind,
    ns: &str,
    name: &str,
    sub: Option<&str>,
    ct: &str,
    body: &[u8],
    q: &Params,
) -> ApiResult {
    let new = decode_object(ct, body)?;
    if new["metadata"]["name"].as_str().is_some_and(|n| n != name) {
        return Err(ApiError::bad_request(
            "the name of the object does not match the name on the URL",
        ));
    }
    let status_only = sub == Some("status");
    let (manager, time) = update_by(st, q);
    let apply = |cur: &mut Value| -> Result<(), StoreError> {
        check_uid(&new["metadata"]["uid"], cur, kind, name)?;
        check_rv(&new["metadata"]["resourceVersion"], cur, kind, name)?;
        let before = cur.clone();
        if status_only {
            cur["status"] = new["status"].clone();
        } else {
            let status = cur["status"].take();
            let mut next = new.clone();
            if !status.is_null() && kind != Kind::Event {
                next["status"] = status;
            }
            *cur = next;
            managed::keep(&before, cur);
        }
        managed::record(&before, cur, &manager, &time, sub);
        Ok(())
    };
    if dry_run(q) {
        let mut cur = (*st
            .store
            .get(kind, ns, name)
            .ok_or_else(|| ApiError::not_found(kind, name))?)
        .clone();
        apply(&mut cur)?;
        return Ok(json_value(200, &cur));
    }
    let out = st.store.update(kind, ns, name, apply)?;
    Ok(json_value(200, &out))
}

/// PATCH an object (merge, strategic merge, JSON patch; apply-patch as a merge that may create).
#[allow(clippy::too_many_arguments)]
pub fn patch(
    st: &ApiState,
    kind: Kind,
    ns: &str,
    name: &str,
    sub: Option<&str>,
    ct: &str,
    body: &[u8],
    q: &Params,
) -> ApiResult {
    let _ = sub;
    let ty =
        PatchType::from_content_type(ct).ok_or_else(|| ApiError::unsupported_media_type(ct))?;
    let p: Value = if ty == PatchType::Apply {
        serde_yaml::from_slice(body)
            .map_err(|e| ApiError::bad_request(format!("error decoding YAML: {e}")))?
    } else {
        serde_json::from_slice(body)
            .map_err(|e| ApiError::bad_request(format!("error decoding patch: {e}")))?
    };
    if ty != PatchType::Json && !p.is_object() {
        return Err(ApiError::bad_request("patch body must be a JSON object"));
    }
    let mut patch_err: Option<String> = None;
    let (manager, time) = update_by(st, q);
    let mut apply = |cur: &mut Value| -> Result<(), StoreError> {
        // A patch's uid is not a precondition but a change of an immutable field (422), as
        // on the real server; a PUT's is a precondition (409).
        let (want, have) = (&p["metadata"]["uid"], &cur["metadata"]["uid"]);
        if want.as_str().is_some_and(|u| !u.is_empty()) && want != have {
            let msg = format!("metadata.uid: Invalid value: {want}: field is immutable");
            patch_err = Some(msg.clone());
            return Err(StoreError::Invalid(msg));
        }
        check_rv(&p["metadata"]["resourceVersion"], cur, kind, name)?;
        let before = cur.clone();
        if let Err(e) = patch::apply(ty, cur, &p) {
            patch_err = Some(e.clone());
            return Err(StoreError::Invalid(e));
        }
        if !cur.is_object() || !cur["metadata"].is_object() {
            patch_err = Some("the patch removed the object's metadata".into());
            return Err(StoreError::Invalid(String::new()));
        }
        // A patch cannot write managedFields (the server keeps them).
        managed::keep(&before, cur);
        if ty != PatchType::Apply {
            managed::record(&before, cur, &manager, &time, sub);
        }
        Ok(())
    };
    let res = if dry_run(q) {
        match st.store.get(kind, ns, name) {
            Some(cur) => {
                let mut cur = (*cur).clone();
                apply(&mut cur).map(|_| Arc::new(cur))
            }
            None => Err(StoreError::NotFound {
                kind,
                name: name.to_string(),
            }),
        }
    } else {
        st.store.update(kind, ns, name, apply)
    };
    match res {
        Ok(obj) => Ok(json_value(200, &obj)),
        Err(StoreError::NotFound { .. }) if ty == PatchType::Apply && !dry_run(q) => {
            let mut obj = p.clone();
            obj["metadata"]["name"] = json!(name);
            if kind.namespaced() {
                obj["metadata"]["namespace"] = json!(ns);
            }
            defaults(kind, &mut obj);
            let created = st.store.create(kind, obj)?;
            Ok(json_value(201, &created))
        }
        Err(StoreError::Invalid(_)) if patch_err.is_some() => {
            Err(ApiError::invalid(kind, name, patch_err.unwrap_or_default()))
        }
        Err(e) => Err(e.into()),
    }
}

/// DELETE an object of a kind without graceful deletion: gone at once.
pub fn delete(st: &ApiState, kind: Kind, ns: &str, name: &str, opts: &DeleteOptions) -> ApiResult {
    let cur = st
        .store
        .get(kind, ns, name)
        .ok_or_else(|| ApiError::not_found(kind, name))?;
    if let Some(uid) = &opts.uid
        && cur["metadata"]["uid"].as_str() != Some(uid)
    {
        return Err(ApiError::new(
            409,
            "Conflict",
            format!(
                "Operation cannot be fulfilled on {} \"{name}\": Precondition failed: UID in precondition: {uid}, UID in object meta: {}",
                crate::sim::store::resource_label(kind),
                cur["metadata"]["uid"].as_str().unwrap_or("")
            ),
        ));
    }
    if !opts.dry_run {
        st.store.delete(kind, ns, name)?;
    }
    let mut details = object_details(kind, name);
    details["uid"] = cur["metadata"]["uid"].clone();
    Ok(success(200, Some(details)))
}
