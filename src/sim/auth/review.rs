//! `SelfSubjectAccessReview` (what `kubectl auth can-i` asks): the requester's own attributes
//! checked against RBAC, answered without storing anything.

use serde_json::{Value, json};

use super::{Attributes, Auth, UserInfo};

/// A review that asks about neither a resource nor a non-resource URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "spec.resourceAttributes: Invalid value: \"null\": exactly one of nonResourceAttributes or resourceAttributes must be specified"
)]
pub struct NoAttributes;

/// The review with its `status` filled in, or the reason the spec is invalid.
pub fn answer(auth: Option<&Auth>, user: &UserInfo, review: &Value) -> Result<Value, NoAttributes> {
    let spec = &review["spec"];
    let s = |v: &Value| v.as_str().unwrap_or("").to_string();
    let attributes = if let Some(r) = spec.get("resourceAttributes").filter(|r| r.is_object()) {
        Attributes::Resource {
            verb: s(&r["verb"]),
            group: s(&r["group"]),
            resource: s(&r["resource"]),
            subresource: s(&r["subresource"]),
            namespace: s(&r["namespace"]),
            name: s(&r["name"]),
        }
    } else if let Some(n) = spec.get("nonResourceAttributes").filter(|n| n.is_object()) {
        Attributes::NonResource {
            verb: s(&n["verb"]),
            path: s(&n["path"]),
        }
    } else {
        return Err(NoAttributes);
    };
    let status = match auth {
        None => {
            json!({"allowed": true, "reason": "the built-in cluster runs without authorization"})
        }
        Some(auth) => match auth.authorize(user, &attributes) {
            Ok(reason) => json!({"allowed": true, "reason": reason}),
            Err(_) => json!({"allowed": false}),
        },
    };
    let mut out = review.clone();
    out["apiVersion"] = json!("authorization.k8s.io/v1");
    out["kind"] = json!("SelfSubjectAccessReview");
    out["metadata"] = json!({"creationTimestamp": null});
    out["status"] = status;
    Ok(out)
}
