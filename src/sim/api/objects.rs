//! Get, create, replace, patch and delete of single objects (pods' deletes live in `pods`).

use serde_json::{Value, json};

use super::patch::{self, PatchType};
use super::request::Write;
use super::status::{ApiError, ApiResult, json_value, object_details};
use super::strategy::Strategy;
use super::strict::{self, Directive};
use super::table::{self, IncludeObject};
use super::{ApiState, Params, decode_object, dry_run};
use super::{apply, managed};
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
/// lifecycle), the kind's strategy (defaults, validation), then store.
pub fn create(st: &ApiState, w: &Write) -> ApiResult {
    let (kind, q) = (w.kind, w.query);
    if kind.namespaced() && w.ns.is_none() {
        return Err(ApiError::method_not_allowed("POST"));
    }
    let directive = Directive::from_query(q)?;
    let mut obj = decode_object(w.content_type, w.body)?;
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
    if let Some(ns) = w.ns {
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
    let strategy = Strategy::of(kind);
    strategy.prepare_for_create(&mut obj);
    strategy.validate(&obj)?;
    super::corekinds::allocate(&st.store, kind, &mut obj)?;
    if dry_run(q) {
        let name = obj["metadata"]["name"].as_str().unwrap_or("").to_string();
        if !name.is_empty() && st.store.get(kind, w.namespace(), &name).is_some() {
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

/// The kind's strategy on an update that made `next` of `before`: through `/status` only
/// the status changes; otherwise the status stays, and defaults and validation apply.
fn admit_update(kind: Kind, sub: Option<&str>, before: &Value, next: &mut Value) -> ApiResult<()> {
    let strategy = Strategy::of(kind);
    if sub == Some("status") {
        strategy.prepare_for_status_update(before, next);
        return Ok(());
    }
    strategy.prepare_for_update(before, next);
    strategy.validate_update(before, next)
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
pub fn replace(st: &ApiState, w: &Write) -> ApiResult {
    let (kind, name, q) = (w.kind, w.name, w.query);
    let directive = Directive::from_query(q)?;
    let new = decode_object(w.content_type, w.body)?;
    if new["metadata"]["name"].as_str().is_some_and(|n| n != name) {
        return Err(ApiError::bad_request(
            "the name of the object does not match the name on the URL",
        ));
    }
    let decoded = strict::decode(kind, &new, directive)?;
    let mut new = new;
    strict::prune(kind, &mut new);
    let (manager, time) = update_by(st, q);
    let mut failure: Option<ApiError> = None;
    let apply = |cur: &mut Value| -> Result<(), StoreError> {
        check_uid(&new["metadata"]["uid"], cur, kind, name)?;
        check_rv(&new["metadata"]["resourceVersion"], cur, kind, name)?;
        let before = std::mem::replace(cur, new.clone());
        managed::keep(&before, cur);
        if let Err(e) = admit_update(kind, w.sub, &before, cur) {
            failure = Some(e);
            return Err(StoreError::Invalid(String::new()));
        }
        managed::record(&before, cur, &manager, &time, w.sub);
        Ok(())
    };
    let res = if dry_run(q) {
        st.store.preview_update(kind, w.namespace(), name, apply)
    } else {
        st.store.update(kind, w.namespace(), name, apply)
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

/// PATCH an object (merge, strategic merge, JSON patch, or a server-side apply, which
/// creates the object when there is none).
pub fn patch(st: &ApiState, w: &Write) -> ApiResult {
    let (kind, q) = (w.kind, w.query);
    let ty = PatchType::from_content_type(w.content_type)
        .ok_or_else(|| ApiError::unsupported_media_type(w.content_type))?;
    let (manager, time) = update_by(st, q);
    if ty == PatchType::Apply {
        applier(q)?;
    }
    let how = Patching {
        w,
        ty,
        patch: patch_body(ty, w.body)?,
        directive: Directive::from_query(q)?,
        manager,
        time,
        force: q.get("force").is_some_and(|f| f == "true"),
    };
    let mut failure: Option<ApiError> = None;
    let mut warnings = Vec::new();
    let apply = |cur: &mut Value| -> Result<(), StoreError> {
        match how.patched(cur) {
            Ok(w) => {
                warnings = w;
                Ok(())
            }
            Err(e) => {
                failure = Some(e);
                Err(StoreError::Invalid(String::new()))
            }
        }
    };
    let res = if dry_run(q) {
        st.store.preview_update(kind, w.namespace(), w.name, apply)
    } else {
        st.store.update(kind, w.namespace(), w.name, apply)
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
            apply_create(st, &how)
        }
        Err(e) => Err(e.into()),
    }
}

/// One PATCH request, decoded: what it changes and who changes it.
struct Patching<'a> {
    w: &'a Write<'a>,
    ty: PatchType,
    patch: Value,
    directive: Directive,
    manager: String,
    time: String,
    /// `?force=true`: an apply takes over the fields it conflicts on.
    force: bool,
}

impl Patching<'_> {
    /// Patches `cur` (the stored object) in place; the warnings of unknown fields.
    fn patched(&self, cur: &mut Value) -> ApiResult<Vec<String>> {
        let (kind, name) = (self.w.kind, self.w.name);
        // A patch's uid is not a precondition but a change of an immutable field (422), as
        // on the real server; a PUT's is a precondition (409).
        let (want, have) = (&self.patch["metadata"]["uid"], &cur["metadata"]["uid"]);
        if want.as_str().is_some_and(|u| !u.is_empty()) && want != have {
            let msg = format!("metadata.uid: Invalid value: {want}: field is immutable");
            return Err(ApiError::invalid(kind, name, msg));
        }
        check_rv(&self.patch["metadata"]["resourceVersion"], cur, kind, name)?;
        let before = cur.clone();
        if self.ty == PatchType::Apply {
            apply::apply(cur, &self.patch, &self.manager, &self.time, self.force)
                .map_err(|found| apply::conflict_error(&found))?;
        } else {
            patch::apply(self.ty, cur, &self.patch)
                .map_err(|e| ApiError::invalid(kind, name, e.to_string()))?;
            // A patch cannot write managedFields (the server keeps them).
            managed::keep(&before, cur);
        }
        if !cur.is_object() || !cur["metadata"].is_object() {
            let msg = "the patch removed the object's metadata";
            return Err(ApiError::invalid(kind, name, msg));
        }
        let decoded = decode_patched(kind, &before, cur, self.directive)?;
        if !decoded.warnings.is_empty() {
            strict::prune(kind, cur);
        }
        admit_update(kind, self.w.sub, &before, cur)?;
        if self.ty != PatchType::Apply {
            managed::record(&before, cur, &self.manager, &self.time, self.w.sub);
        }
        Ok(decoded.warnings)
    }
}

/// The manager of a server-side apply, which the API server requires.
fn applier(q: &Params) -> ApiResult<()> {
    match q.get("fieldManager") {
        Some(m) if !m.is_empty() => Ok(()),
        _ => Err(ApiError::new(
            422,
            "Invalid",
            "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch",
        )),
    }
}

/// A server-side apply of an object that does not exist yet: a create, its fields the
/// manager's.
fn apply_create(st: &ApiState, how: &Patching) -> ApiResult {
    let (kind, ns, name) = (how.w.kind, how.w.namespace(), how.w.name);
    let mut obj = how.patch.clone();
    let decoded = strict::decode(kind, &obj, how.directive)?;
    strict::prune(kind, &mut obj);
    let set = apply::field_set(&obj);
    let api_version = obj["apiVersion"].as_str().unwrap_or("v1").to_string();
    obj["metadata"]["managedFields"] = json!([{"manager": how.manager, "operation": "Apply",
        "apiVersion": api_version, "time": how.time, "fieldsType": "FieldsV1", "fieldsV1": set}]);
    obj["metadata"]["name"] = json!(name);
    if kind.namespaced() {
        obj["metadata"]["namespace"] = json!(ns);
        check_namespace_open(st, kind, ns, name)?;
    }
    let strategy = Strategy::of(kind);
    strategy.prepare_for_create(&mut obj);
    strategy.validate(&obj)?;
    super::corekinds::allocate(&st.store, kind, &mut obj)?;
    let created = st.store.create(kind, obj)?;
    Ok(strict::with_warnings(
        json_value(201, &created),
        &decoded.warnings,
    ))
}
