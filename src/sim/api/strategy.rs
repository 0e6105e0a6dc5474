//! Each kind's strategy, as the API server's registry keeps one per resource: what a create
//! and an update prepare (server-set fields cleared, defaults, the split between the object
//! and its `status` subresource), what they validate, and whether a delete is graceful. The
//! handlers in `objects` and `delete` ask it instead of deciding per kind themselves.

use serde_json::{Value, json};

use super::status::ApiResult;
use super::{corekinds, defaults, validation};
use crate::sim::kinds::Kind;

/// Metadata the server sets: a create clears what a client sent.
const SERVER_SET: [&str; 7] = [
    "resourceVersion",
    "uid",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "generation",
    "selfLink",
];

/// Metadata a status update cannot change (apimachinery's `ResetObjectMetaForStatus`).
const KEPT_BY_STATUS: [&str; 7] = [
    "deletionTimestamp",
    "generation",
    "selfLink",
    "labels",
    "annotations",
    "finalizers",
    "ownerReferences",
];

/// The strategy of one kind.
#[derive(Debug, Clone, Copy)]
pub struct Strategy(Kind);

impl Strategy {
    /// The strategy of `kind`.
    pub fn of(kind: Kind) -> Self {
        Self(kind)
    }

    /// Whether the kind has a `status` subresource: its status is written there, and an
    /// update of the object itself leaves it as it was.
    pub fn has_status(self) -> bool {
        matches!(
            self.0,
            Kind::Pod
                | Kind::Node
                | Kind::Namespace
                | Kind::Service
                | Kind::Deployment
                | Kind::ReplicaSet
                | Kind::StatefulSet
                | Kind::DaemonSet
                | Kind::Job
                | Kind::PodDisruptionBudget
        )
    }

    /// Whether a DELETE starts a grace period (pods) rather than removing the object.
    pub fn graceful_delete(self) -> bool {
        self.0 == Kind::Pod
    }

    /// `PrepareForCreate`: the server-set metadata cleared and the defaults filled in.
    pub fn prepare_for_create(self, obj: &mut Value) {
        if let Some(m) = obj["metadata"].as_object_mut() {
            for f in SERVER_SET {
                m.remove(f);
            }
        }
        if self.0 == Kind::Job {
            // A Job's generated selector names its own uid.
            obj["metadata"]["uid"] = json!(defaults::new_uid());
        }
        defaults::on_create(self.0, obj);
    }

    /// `Validate` on create.
    pub fn validate(self, obj: &Value) -> ApiResult<()> {
        validation::check_create(self.0, obj)
    }

    /// `PrepareForUpdate` of the object itself: its status stays (a client writes it through
    /// `/status`), a Service keeps what was allocated, a changed template gets its defaults.
    pub fn prepare_for_update(self, before: &Value, next: &mut Value) {
        if self.has_status() {
            match before.get("status") {
                Some(s) => next["status"] = s.clone(),
                None => {
                    if let Some(o) = next.as_object_mut() {
                        o.remove("status");
                    }
                }
            }
        }
        corekinds::prepare_update(self.0, before, next);
        let template_changed = before["spec"]["template"] != next["spec"]["template"];
        defaults::scheme(self.0, next, template_changed);
    }

    /// `PrepareForUpdate` of `/status`: everything but the status stays as it was.
    pub fn prepare_for_status_update(self, before: &Value, next: &mut Value) {
        let status = next.get("status").cloned();
        let mut kept = before.clone();
        for f in [
            "name",
            "namespace",
            "uid",
            "resourceVersion",
            "managedFields",
        ] {
            if let Some(v) = next["metadata"].get(f) {
                kept["metadata"][f] = v.clone();
            }
        }
        for f in KEPT_BY_STATUS {
            match before["metadata"].get(f) {
                Some(v) => kept["metadata"][f] = v.clone(),
                None => {
                    if let Some(m) = kept["metadata"].as_object_mut() {
                        m.remove(f);
                    }
                }
            }
        }
        match status {
            Some(s) => kept["status"] = s,
            None => {
                if let Some(o) = kept.as_object_mut() {
                    o.remove("status");
                }
            }
        }
        *next = kept;
    }

    /// `ValidateUpdate` of the object itself.
    pub fn validate_update(self, before: &Value, next: &Value) -> ApiResult<()> {
        validation::check_update(self.0, before, next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_update_keeps_the_status_and_a_status_update_keeps_the_rest() {
        let before = json!({"metadata": {"name": "p", "labels": {"a": "1"}},
            "spec": {"nodeName": "n1"}, "status": {"phase": "Running"}});
        let mut next = before.clone();
        next["spec"]["nodeName"] = json!("n2");
        next["status"]["phase"] = json!("Failed");
        let pods = Strategy::of(Kind::Pod);
        let mut main = next.clone();
        pods.prepare_for_update(&before, &mut main);
        assert_eq!(main["status"]["phase"], "Running");
        assert_eq!(main["spec"]["nodeName"], "n2");
        let mut status = next.clone();
        status["metadata"]["labels"]["a"] = json!("2");
        pods.prepare_for_status_update(&before, &mut status);
        assert_eq!(status["status"]["phase"], "Failed");
        assert_eq!(status["spec"]["nodeName"], "n1");
        assert_eq!(status["metadata"]["labels"]["a"], "1");
        // A ConfigMap has no status subresource: nothing to keep.
        assert!(!Strategy::of(Kind::ConfigMap).has_status());
    }
}
