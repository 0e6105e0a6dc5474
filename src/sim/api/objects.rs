//! Get, create, replace, patch and delete of single objects (pods' deletes live in `pods`).

use std::sync::Arc;

use serde_json::{Value, json};

use super::patch::{self, PatchType};
use super::status::{ApiError, ApiResult, json_value, object_details};
use super::strict::{self, Directive};
use super::table::{self, IncludeObject};
use super::{ApiState, Params, decode_object, dry_run};
use super::{defaults, managed, validation};
use crate::sim::clock::format_time;
use crate::sim::controllers::gc;
use crate::sim::kinds::Kind;
use crate::sim::store::{StoreError, rv_of};

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

/// 403 from the NamespaceLifecycle admission plugin: no new objects in a terminating namespace.
pub fn check_namespace_open(st: &ApiState, kind: Kind, ns: &str, name: &str) -> ApiResult<()> {
    match st.store.get(Kind::Namespace, "", ns) {
        Some(n) if !n["metadata"]["deletionTimestamp"].is_null() => {
            let resource = crate::sim::store::resource_label(kind);
            let what = if name.is_empty() {
                resource
            } else {
                format!("{resource} {name:?}")
            };
            Err(ApiError::new(
                403,
                "Forbidden",
                format!("{what} is forbidden: unable to create new content in namespace {ns} because it is being terminated"),
            )
            .with_details(object_details(kind, name)))
        }
        // Only enforced when the scenario models namespaces at all.
        None if st.store.count(Kind::Namespace) > 0 => {
            Err(ApiError::not_found(Kind::Namespace, ns))
        }
        _ => Ok(()),
    }
}

/// POST a new object: decode (unknown fields per `fieldValidation`), admission (namespace
/// lifecycle), defaults, validation, then store.
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
    let directive = Directive::from_query(q)?;
    let mut obj = decode_object(ct, body)?;
    if let Some(k) = obj["kind"].as_str()
        && k != kind.name()
    {
        return Err(ApiError::bad_request(format!(
            "the kind in the data ({k}) does not match the expected kind ({})",
            kind.name()
        )));
    }
    let decoded = strict::decode(kind, &obj, directive)?;
    strict::prune(kind, &mut obj);
    if let Some(ns) = path_ns {
        match obj["metadata"]["namespace"].as_str() {
            Some(b) if !b.is_empty() && b != ns => {
                return Err(ApiError::bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request",
                ));
            }
            _ => obj["metadata"]["namespace"] = json!(ns),
        }
        let name = obj["metadata"]["name"].as_str().unwrap_or("");
        check_namespace_open(st, kind, ns, name)?;
    }
    if let Some(m) = obj["metadata"].as_object_mut() {
        for f in [
            "resourceVersion",
            "uid",
            "creationTimestamp",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "generation",
            "selfLink",
        ] {
            m.remove(f);
        }
    }
    if kind == Kind::Job {
        // A Job's generated selector names its own uid.
        obj["metadata"]["uid"] = json!(defaults::new_uid());
    }
    defaults::on_create(kind, &mut obj);
    validation::check_create(kind, &obj)?;
    super::corekinds::allocate(&st.store, kind, &mut obj)?;
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
        return Ok(strict::with_warnings(
            json_value(201, &obj),
            &decoded.warnings,
        ));
    }
    let created = st.store.create(kind, obj)?;
    Ok(strict::with_warnings(
        json_value(201, &created),
        &decoded.warnings,
    ))
}

/// Defaults and validates `next`, the result of an update of `before` (not for `status`).
fn admit_update(kind: Kind, before: &Value, next: &mut Value) -> ApiResult<()> {
    super::corekinds::prepare_update(kind, before, next);
    let template_changed = before["spec"]["template"] != next["spec"]["template"];
    defaults::scheme(kind, next, template_changed);
    validation::check_update(kind, before, next)
}

/// Unknown fields of a patched object that the stored one did not already have, checked
/// under `directive` (an object that never decoded is left alone).
fn decode_patched(
    kind: Kind,
    before: &Value,
    after: &Value,
    directive: Directive,
) -> ApiResult<strict::Decoded> {
    if strict::decode(kind, before, Directive::Ignore).is_err() {
        return Ok(strict::Decoded::default());
    }
    let had = strict::decode(kind, before, Directive::Warn)?.warnings;
    let mut now = strict::decode(kind, after, Directive::Warn)?;
    now.warnings.retain(|w| !had.contains(w));
    if directive == Directive::Strict && !now.warnings.is_empty() {
        return Err(ApiError::bad_request(format!(
            "{k} in version \"v1\" cannot be handled as a {k}: strict decoding error: {}",
            now.warnings.join(", "),
            k = kind.name()
        )));
    }
    if directive == Directive::Ignore {
        now.warnings.clear();
    }
    Ok(now)
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
    let directive = Directive::from_query(q)?;
    let new = decode_object(ct, body)?;
    if new["metadata"]["name"].as_str().is_some_and(|n| n != name) {
        return Err(ApiError::bad_request(
            "the name of the object does not match the name on the URL",
        ));
    }
    let decoded = strict::decode(kind, &new, directive)?;
    let mut new = new;
    strict::prune(kind, &mut new);
    let status_only = sub == Some("status");
    let (manager, time) = update_by(st, q);
    let mut failure: Option<ApiError> = None;
    let mut apply = |cur: &mut Value| -> Result<(), StoreError> {
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
            if let Err(e) = admit_update(kind, &before, cur) {
                failure = Some(e);
                return Err(StoreError::Invalid(String::new()));
            }
        }
        managed::record(&before, cur, &manager, &time, sub);
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
    let out = match (res, failure) {
        (_, Some(e)) => return Err(e),
        (r, None) => r?,
    };
    if !dry_run(q) {
        gc::finish_if_released(&st.store, kind, &out);
    }
    Ok(strict::with_warnings(
        json_value(200, &out),
        &decoded.warnings,
    ))
}

/// Decodes a PATCH body of type `ty`.
fn patch_body(ty: PatchType, body: &[u8]) -> ApiResult<Value> {
    let p: Value = if ty == PatchType::Apply {
        serde_saphyr::from_slice(body)
            .map_err(|e| ApiError::bad_request(format!("error decoding YAML: {e}")))?
    } else {
        serde_json::from_slice(body)
            .map_err(|e| ApiError::bad_request(format!("error decoding patch: {e}")))?
    };
    if ty != PatchType::Json && !p.is_object() {
        return Err(ApiError::bad_request("patch body must be a JSON object"));
    }
    Ok(p)
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
    // Long: the store runs the closure under its lock; its steps keep the apiserver's order.
    let ty =
        PatchType::from_content_type(ct).ok_or_else(|| ApiError::unsupported_media_type(ct))?;
    let directive = Directive::from_query(q)?;
    let p = patch_body(ty, body)?;
    let mut failure: Option<ApiError> = None;
    let mut warnings = Vec::new();
    let (manager, time) = update_by(st, q);
    let mut apply = |cur: &mut Value| -> Result<(), StoreError> {
        let mut fail = |e: ApiError| {
            failure = Some(e);
            Err(StoreError::Invalid(String::new()))
        };
        // A patch's uid is not a precondition but a change of an immutable field (422), as
        // on the real server; a PUT's is a precondition (409).
        let (want, have) = (&p["metadata"]["uid"], &cur["metadata"]["uid"]);
        if want.as_str().is_some_and(|u| !u.is_empty()) && want != have {
            let msg = format!("metadata.uid: Invalid value: {want}: field is immutable");
            return fail(ApiError::invalid(kind, name, msg));
        }
        check_rv(&p["metadata"]["resourceVersion"], cur, kind, name)?;
        let before = cur.clone();
        if let Err(e) = patch::apply(ty, cur, &p) {
            return fail(ApiError::invalid(kind, name, e.to_string()));
        }
        if !cur.is_object() || !cur["metadata"].is_object() {
            return fail(ApiError::invalid(
                kind,
                name,
                "the patch removed the object's metadata",
            ));
        }
        // A patch cannot write managedFields (the server keeps them).
        managed::keep(&before, cur);
        match decode_patched(kind, &before, cur, directive) {
            Ok(d) => {
                if !d.warnings.is_empty() {
                    strict::prune(kind, cur);
                }
                warnings = d.warnings;
            }
            Err(e) => return fail(e),
        }
        if sub != Some("status")
            && let Err(e) = admit_update(kind, &before, cur)
        {
            return fail(e);
        }
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
    if let Some(e) = failure {
        return Err(e);
    }
    match res {
        Ok(obj) => {
            if !dry_run(q) {
                gc::finish_if_released(&st.store, kind, &obj);
            }
            Ok(strict::with_warnings(json_value(200, &obj), &warnings))
        }
        Err(StoreError::NotFound { .. }) if ty == PatchType::Apply && !dry_run(q) => {
            apply_create(st, kind, ns, name, p, directive)
        }
        Err(e) => Err(e.into()),
    }
}

/// A server-side apply of an object that does not exist yet: a create.
fn apply_create(
    st: &ApiState,
    kind: Kind,
    ns: &str,
    name: &str,
    mut obj: Value,
    directive: Directive,
) -> ApiResult {
    let decoded = strict::decode(kind, &obj, directive)?;
    strict::prune(kind, &mut obj);
    obj["metadata"]["name"] = json!(name);
    if kind.namespaced() {
        obj["metadata"]["namespace"] = json!(ns);
        check_namespace_open(st, kind, ns, name)?;
    }
    if kind == Kind::Job {
        obj["metadata"]["uid"] = json!(defaults::new_uid());
    }
    defaults::on_create(kind, &mut obj);
    validation::check_create(kind, &obj)?;
    super::corekinds::allocate(&st.store, kind, &mut obj)?;
    let created = st.store.create(kind, obj)?;
    Ok(strict::with_warnings(
        json_value(201, &created),
        &decoded.warnings,
    ))
}
