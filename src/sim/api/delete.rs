//! DELETE of one object (propagation policies, finalizers, namespaces that terminate) and of a
//! collection (`deletecollection` with label and field selectors).

use serde_json::{Value, json};

use super::pods;
use super::selectors::{FieldSelector, LabelSelector};
use super::status::{ApiError, ApiResult, json_value, object_details, success};
use super::{ApiState, Params, decode_object, dry_run};
use crate::sim::clock::format_time;
use crate::sim::controllers::gc::{self, Deletion, Propagation};
use crate::sim::kinds::Kind;
use crate::sim::store::resource_label;

/// Namespaces the NamespaceLifecycle plugin never lets go.
const IMMORTAL: [&str; 3] = ["default", "kube-system", "kube-public"];

/// `DeleteOptions` from the query and/or the body.
#[derive(Debug, Clone, Default)]
pub struct DeleteOptions {
    /// `gracePeriodSeconds`, if given.
    pub grace: Option<i64>,
    /// `dryRun: [All]`.
    pub dry_run: bool,
    /// `preconditions.uid`, if given.
    pub uid: Option<String>,
    /// `propagationPolicy` (or the deprecated `orphanDependents`), if given.
    pub propagation: Option<Propagation>,
}

fn propagation(s: &str) -> ApiResult<Propagation> {
    Propagation::parse(s).ok_or_else(|| {
        ApiError::bad_request(format!(
            "propagationPolicy: Unsupported value: {s:?}: supported values: \"Foreground\", \"Background\", \"Orphan\""
        ))
    })
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
            propagation: q
                .get("propagationPolicy")
                .map(|p| propagation(p))
                .transpose()?,
        };
        if let Some(orphan) = q.get("orphanDependents") {
            o.propagation.get_or_insert(if orphan == "true" {
                Propagation::Orphan
            } else {
                Propagation::Background
            });
        }
        if !body.iter().all(u8::is_ascii_whitespace) {
            let v = decode_object(ct, body)?;
            o.merge_body(&v)?;
        }
        Ok(o)
    }

    /// Applies a `DeleteOptions` JSON object.
    pub fn merge_body(&mut self, v: &Value) -> ApiResult<()> {
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
        if let Some(p) = v["propagationPolicy"].as_str() {
            self.propagation = Some(propagation(p)?);
        } else if let Some(orphan) = v["orphanDependents"].as_bool() {
            self.propagation = Some(if orphan {
                Propagation::Orphan
            } else {
                Propagation::Background
            });
        }
        Ok(())
    }
}

fn uid_conflict(kind: Kind, name: &str, want: &str, have: &Value) -> ApiError {
    ApiError::new(
        409,
        "Conflict",
        format!(
            "Operation cannot be fulfilled on {} \"{name}\": Precondition failed: UID in precondition: {want}, UID in object meta: {}",
            resource_label(kind),
            have.as_str().unwrap_or("")
        ),
    )
}

/// DELETE one object of a kind other than Pod.
pub fn delete(st: &ApiState, kind: Kind, ns: &str, name: &str, opts: &DeleteOptions) -> ApiResult {
    let cur = st
        .store
        .get(kind, ns, name)
        .ok_or_else(|| ApiError::not_found(kind, name))?;
    if let Some(uid) = &opts.uid
        && cur["metadata"]["uid"].as_str() != Some(uid)
    {
        return Err(uid_conflict(kind, name, uid, &cur["metadata"]["uid"]));
    }
    if kind == Kind::Namespace {
        return delete_namespace(st, name, &cur, opts);
    }
    // An object already on its way keeps its policy unless the request names one.
    let policy = opts.propagation.unwrap_or_else(|| {
        if gc::has_finalizer(&cur, gc::FOREGROUND) {
            Propagation::Foreground
        } else if gc::has_finalizer(&cur, gc::ORPHAN) {
            Propagation::Orphan
        } else {
            Propagation::default_for(kind)
        }
    });
    let mut details = object_details(kind, name);
    details["uid"] = cur["metadata"]["uid"].clone();
    if opts.dry_run {
        return Ok(success(200, Some(details)));
    }
    match gc::delete_object(&st.store, kind, ns, name, policy)? {
        Deletion::Gone(_) => Ok(success(200, Some(details))),
        Deletion::Pending(o) => Ok(json_value(200, &o)),
    }
}

/// DELETE of a namespace: it turns `Terminating` (the namespace controller empties and then
/// removes it) and the answer is the namespace, as on the real server.
fn delete_namespace(st: &ApiState, name: &str, cur: &Value, opts: &DeleteOptions) -> ApiResult {
    if IMMORTAL.contains(&name) {
        return Err(ApiError::forbidden(format!(
            "namespaces \"{name}\" is forbidden: this namespace may not be deleted"
        ))
        .with_details(object_details(Kind::Namespace, name)));
    }
    if !cur["metadata"]["deletionTimestamp"].is_null() {
        return Err(ApiError::new(
            409,
            "Conflict",
            format!("Operation cannot be fulfilled on namespaces \"{name}\": The system is ensuring all content is removed from this namespace.  Upon completion, this namespace will automatically be purged by the system."),
        )
        .with_details(object_details(Kind::Namespace, name)));
    }
    let now = format_time(st.store.clock().now());
    let mark = |n: &mut Value| {
        n["metadata"]["deletionTimestamp"] = json!(now);
        n["metadata"]["deletionGracePeriodSeconds"] = json!(0);
        n["status"]["phase"] = json!("Terminating");
    };
    if opts.dry_run {
        let mut n = cur.clone();
        mark(&mut n);
        return Ok(json_value(200, &n));
    }
    let out = st.store.update(Kind::Namespace, "", name, |n| {
        mark(n);
        Ok(())
    })?;
    Ok(json_value(200, &out))
}

/// DELETE on a collection (`deletecollection`): every object the selectors match is deleted
/// as a single DELETE would; the answer is the list of them as they were.
pub fn delete_collection(
    st: &ApiState,
    kind: Kind,
    ns: Option<&str>,
    q: &Params,
    opts: &DeleteOptions,
) -> ApiResult {
    if kind == Kind::Namespace || (kind.namespaced() && ns.is_none()) {
        return Err(ApiError::method_not_allowed("DELETE"));
    }
    let labels = LabelSelector::parse(q.get("labelSelector").map_or("", String::as_str))
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let fields = FieldSelector::parse(kind, q.get("fieldSelector").map_or("", String::as_str))
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let (rv, items) = st
        .store
        .list_where(kind, ns, |o| labels.matches(o) && fields.matches(o));
    if !opts.dry_run {
        for o in &items {
            let (ons, name) = crate::sim::controllers::util::key_of(o);
            let one = DeleteOptions {
                uid: None,
                ..opts.clone()
            };
            let res = if kind == Kind::Pod {
                pods::delete_pod(st, &ons, &name, &one).map(|_| ())
            } else {
                delete(st, kind, &ons, &name, &one).map(|_| ())
            };
            match res {
                // Gone meanwhile: nothing left to delete.
                Err(e) if e.code == 404 => {}
                other => other?,
            }
        }
    }
    let list = json!({
        "kind": format!("{}List", kind.name()),
        "apiVersion": kind.api_version(),
        "metadata": {"resourceVersion": rv.to_string()},
        "items": items.iter().map(|o| (**o).clone()).collect::<Vec<_>>(),
    });
    Ok(json_value(200, &list))
}
