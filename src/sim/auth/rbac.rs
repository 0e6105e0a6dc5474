//! RBAC as the apiserver's authorizer evaluates it: a request is allowed when any rule of a
//! role bound to the user (or one of their groups) matches its attributes; nothing denies.
//! The bootstrap roles every cluster has (discovery, public info, self reviews) are built in.

use serde_json::{Value, json};

use super::UserInfo;

/// What a request asks to do, as the authorizer sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attributes {
    /// A resource request, e.g. `create` `pods/eviction` in namespace `default`.
    Resource {
        verb: String,
        group: String,
        resource: String,
        subresource: String,
        namespace: String,
        name: String,
    },
    /// A path outside the resource tree (`/version`, `/api`, `/openapi/v2`).
    NonResource { verb: String, path: String },
}

/// One rule of a Role or ClusterRole.
#[derive(Debug, Clone, Default)]
struct Rule {
    verbs: Vec<String>,
    groups: Vec<String>,
    resources: Vec<String>,
    names: Vec<String>,
    urls: Vec<String>,
}

impl Rule {
    fn from_json(v: &Value) -> Self {
        let list = |k: &str| -> Vec<String> {
            v[k].as_array()
                .into_iter()
                .flatten()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        };
        Self {
            verbs: list("verbs"),
            groups: list("apiGroups"),
            resources: list("resources"),
            names: list("resourceNames"),
            urls: list("nonResourceURLs"),
        }
    }

    fn matches(&self, a: &Attributes) -> bool {
        let any = |list: &[String], want: &str| list.iter().any(|x| x == "*" || x == want);
        match a {
            Attributes::Resource {
                verb,
                group,
                resource,
                subresource,
                name,
                ..
            } => {
                let full = if subresource.is_empty() {
                    resource.clone()
                } else {
                    format!("{resource}/{subresource}")
                };
                let resource_ok = self.resources.iter().any(|r| {
                    r == "*"
                        || *r == full
                        || (subresource.is_empty() && r == resource)
                        || r.strip_prefix("*/") == Some(subresource.as_str())
                            && !subresource.is_empty()
                        || r.strip_suffix("/*") == Some(resource.as_str())
                            && !subresource.is_empty()
                });
                any(&self.verbs, verb)
                    && any(&self.groups, group)
                    && resource_ok
                    && (self.names.is_empty() || self.names.iter().any(|n| n == name))
            }
            Attributes::NonResource { verb, path } => {
                any(&self.verbs, verb)
                    && self.urls.iter().any(|u| match u.strip_suffix('*') {
                        Some(prefix) => path.starts_with(prefix),
                        None => u == path,
                    })
            }
        }
    }
}

/// A role's rules, by kind and namespace (empty for ClusterRoles).
#[derive(Debug, Clone)]
struct Role {
    cluster: bool,
    namespace: String,
    name: String,
    rules: Vec<Rule>,
}

/// A binding of subjects to a role.
#[derive(Debug, Clone)]
struct Binding {
    /// Empty for ClusterRoleBindings (they grant everywhere).
    namespace: String,
    role_cluster: bool,
    role: String,
    /// (kind, name): `User`, `Group` or `ServiceAccount` (as `system:serviceaccount:ns:name`).
    subjects: Vec<(String, String)>,
}

/// The roles and bindings in force.
#[derive(Debug, Clone, Default)]
pub struct Rbac {
    roles: Vec<Role>,
    bindings: Vec<Binding>,
}

/// An object given as RBAC that is not a Role, ClusterRole or binding.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} {name:?} is not an RBAC object")]
pub struct NotRbac {
    pub kind: String,
    pub name: String,
}

impl Rbac {
    /// The bootstrap roles and bindings, plus `objects` (Role, ClusterRole, RoleBinding,
    /// ClusterRoleBinding in their API form; other kinds are an error).
    pub fn new(objects: &[Value]) -> Result<Self, NotRbac> {
        let mut rbac = Rbac::default();
        for o in bootstrap().iter().chain(objects) {
            rbac.add(o)?;
        }
        Ok(rbac)
    }

    fn add(&mut self, o: &Value) -> Result<(), NotRbac> {
        let kind = o["kind"].as_str().unwrap_or("");
        let name = o["metadata"]["name"].as_str().unwrap_or("").to_string();
        let namespace = o["metadata"]["namespace"]
            .as_str()
            .unwrap_or("")
            .to_string();
        match kind {
            "ClusterRole" | "Role" => {
                let rules = o["rules"].as_array().into_iter().flatten();
                self.roles.push(Role {
                    cluster: kind == "ClusterRole",
                    namespace,
                    name,
                    rules: rules.map(Rule::from_json).collect(),
                });
            }
            "ClusterRoleBinding" | "RoleBinding" => {
                let subjects = o["subjects"].as_array().into_iter().flatten();
                let subjects = subjects
                    .map(|s| {
                        let kind = s["kind"].as_str().unwrap_or("").to_string();
                        let name = s["name"].as_str().unwrap_or("");
                        let name = if kind == "ServiceAccount" {
                            let ns = s["namespace"].as_str().unwrap_or(&namespace);
                            format!("system:serviceaccount:{ns}:{name}")
                        } else {
                            name.to_string()
                        };
                        (kind, name)
                    })
                    .collect();
                self.bindings.push(Binding {
                    namespace: if kind == "RoleBinding" {
                        namespace
                    } else {
                        String::new()
                    },
                    role_cluster: o["roleRef"]["kind"] == "ClusterRole",
                    role: o["roleRef"]["name"].as_str().unwrap_or("").to_string(),
                    subjects,
                });
            }
            other => {
                return Err(NotRbac {
                    kind: other.to_string(),
                    name,
                });
            }
        }
        Ok(())
    }

    /// Whether `user` may do `a`, and the reason the apiserver gives when it may.
    pub fn allows(&self, user: &UserInfo, a: &Attributes) -> Option<String> {
        if user.groups.iter().any(|g| g == "system:masters") {
            return Some(String::new());
        }
        let request_ns = match a {
            Attributes::Resource { namespace, .. } => namespace.as_str(),
            Attributes::NonResource { .. } => "",
        };
        for b in &self.bindings {
            // A RoleBinding grants only inside its namespace, and never non-resource URLs.
            if !b.namespace.is_empty()
                && (b.namespace != request_ns || matches!(a, Attributes::NonResource { .. }))
            {
                continue;
            }
            let bound = b.subjects.iter().any(|(kind, name)| match kind.as_str() {
                "Group" => user.groups.contains(name),
                _ => *name == user.name,
            });
            if !bound {
                continue;
            }
            let role = self.roles.iter().find(|r| {
                r.name == b.role
                    && r.cluster == b.role_cluster
                    && (r.cluster || r.namespace == b.namespace)
            });
            if role.is_some_and(|r| r.rules.iter().any(|rule| rule.matches(a))) {
                let how = if b.namespace.is_empty() {
                    "ClusterRoleBinding"
                } else {
                    "RoleBinding"
                };
                return Some(format!(
                    "RBAC: allowed by {how} of {} {:?}",
                    role_kind(b),
                    b.role
                ));
            }
        }
        None
    }
}

fn role_kind(b: &Binding) -> &'static str {
    if b.role_cluster {
        "ClusterRole"
    } else {
        "Role"
    }
}

/// The message of a 403, in the apiserver's words.
pub fn forbidden_message(user: &UserInfo, a: &Attributes) -> String {
    match a {
        Attributes::Resource {
            verb,
            group,
            resource,
            subresource,
            namespace,
            name,
        } => {
            let full = if subresource.is_empty() {
                resource.clone()
            } else {
                format!("{resource}/{subresource}")
            };
            let what = if name.is_empty() {
                format!("{full} is forbidden")
            } else {
                format!("{full} {name:?} is forbidden")
            };
            let scope = if namespace.is_empty() {
                "at the cluster scope".to_string()
            } else {
                format!("in the namespace {namespace:?}")
            };
            format!(
                "{what}: User {:?} cannot {verb} resource {full:?} in API group {group:?} {scope}",
                user.name
            )
        }
        Attributes::NonResource { verb, path } => format!(
            "forbidden: User {:?} cannot {verb} path {path:?}",
            user.name
        ),
    }
}

/// `system:discovery`, `system:public-info-viewer` and `system:basic-user`, bound as on every
/// kubeadm cluster.
fn bootstrap() -> Vec<Value> {
    let cluster_role = |name: &str, rules: Value| json!({"kind": "ClusterRole", "metadata": {"name": name}, "rules": rules});
    let bind = |name: &str, groups: &[&str]| {
        let subjects: Vec<Value> = groups
            .iter()
            .map(|g| json!({"kind": "Group", "name": g}))
            .collect();
        json!({"kind": "ClusterRoleBinding", "metadata": {"name": name},
               "roleRef": {"kind": "ClusterRole", "name": name}, "subjects": subjects})
    };
    vec![
        cluster_role(
            "system:discovery",
            json!([{"verbs": ["get"], "nonResourceURLs": ["/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/openapi", "/openapi/*", "/readyz", "/version", "/version/"]}]),
        ),
        cluster_role(
            "system:public-info-viewer",
            json!([{"verbs": ["get"], "nonResourceURLs": ["/healthz", "/livez", "/readyz", "/version", "/version/"]}]),
        ),
        cluster_role(
            "system:basic-user",
            json!([{"verbs": ["create"], "apiGroups": ["authorization.k8s.io"], "resources": ["selfsubjectaccessreviews", "selfsubjectrulesreviews"]}]),
        ),
        bind("system:discovery", &["system:authenticated"]),
        bind(
            "system:public-info-viewer",
            &["system:authenticated", "system:unauthenticated"],
        ),
        bind("system:basic-user", &["system:authenticated"]),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(name: &str, groups: &[&str]) -> UserInfo {
        UserInfo {
            name: name.into(),
            groups: groups.iter().map(|g| g.to_string()).collect(),
        }
    }

    fn res(verb: &str, group: &str, resource: &str, sub: &str, ns: &str) -> Attributes {
        Attributes::Resource {
            verb: verb.into(),
            group: group.into(),
            resource: resource.into(),
            subresource: sub.into(),
            namespace: ns.into(),
            name: String::new(),
        }
    }

    #[test]
    fn bindings_grant_what_their_roles_say_and_nothing_else() {
        let objects: Vec<Value> =
            serde_saphyr::from_multiple::<Value>(include_str!("../../../assets/rbac.yaml"))
                .unwrap()
                .into_iter()
                .chain([
                    json!({"kind": "ClusterRoleBinding", "metadata": {"name": "a"},
            "roleRef": {"kind": "ClusterRole", "name": "kubedrain"},
            "subjects": [{"kind": "User", "name": "alice"}]}),
                ])
                .collect();
        let rbac = Rbac::new(&objects).unwrap();
        let alice = user("alice", &["system:authenticated"]);
        assert!(
            rbac.allows(&alice, &res("create", "", "pods", "eviction", "x"))
                .is_some()
        );
        assert!(
            rbac.allows(&alice, &res("patch", "", "nodes", "", ""))
                .is_some()
        );
        assert!(
            rbac.allows(&alice, &res("delete", "", "pods", "", "x"))
                .is_none()
        );
        assert!(
            rbac.allows(&alice, &res("patch", "", "nodes", "status", ""))
                .is_none()
        );
        let bob = user("bob", &["system:authenticated"]);
        assert!(
            rbac.allows(&bob, &res("list", "", "pods", "", ""))
                .is_none()
        );
        let path = |p: &str| Attributes::NonResource {
            verb: "get".into(),
            path: p.into(),
        };
        assert!(
            rbac.allows(&bob, &path("/apis/apps/v1")).is_some(),
            "discovery"
        );
        let anonymous = user("system:anonymous", &["system:unauthenticated"]);
        assert!(rbac.allows(&anonymous, &path("/version")).is_some());
        assert!(rbac.allows(&anonymous, &path("/api")).is_none());
        assert!(
            rbac.allows(
                &user("root", &["system:masters"]),
                &res("delete", "", "pods", "", "x")
            )
            .is_some()
        );
        assert_eq!(
            forbidden_message(&bob, &res("list", "", "pods", "", "default")),
            "pods is forbidden: User \"bob\" cannot list resource \"pods\" in API group \"\" in the namespace \"default\""
        );
    }

    #[test]
    fn a_role_binding_grants_only_in_its_namespace() {
        let rbac = Rbac::new(&[
            json!({"kind": "Role", "metadata": {"name": "r", "namespace": "shop"},
                "rules": [{"verbs": ["get", "list"], "apiGroups": [""], "resources": ["pods"]}]}),
            json!({"kind": "RoleBinding", "metadata": {"name": "b", "namespace": "shop"},
                "roleRef": {"kind": "Role", "name": "r"}, "subjects": [{"kind": "Group", "name": "devs"}]}),
        ])
        .unwrap();
        let dev = user("carol", &["devs"]);
        assert!(
            rbac.allows(&dev, &res("list", "", "pods", "", "shop"))
                .is_some()
        );
        assert!(
            rbac.allows(&dev, &res("list", "", "pods", "", "default"))
                .is_none()
        );
        assert!(
            rbac.allows(&dev, &res("list", "", "pods", "", ""))
                .is_none()
        );
        assert!(Rbac::new(&[json!({"kind": "Pod", "metadata": {"name": "p"}})]).is_err());
    }
}
