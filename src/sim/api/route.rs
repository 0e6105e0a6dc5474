//! Which request a path is: the API's fixed paths, or a resource, its namespace, name and
//! subresource; and the RBAC verb a method makes of it.

use http::Method;

use super::Params;
use crate::sim::kinds::Kind;

/// A request for a resource: `/api/v1/namespaces/{ns}/pods/{name}/{sub}` and the like.
#[derive(Debug, Clone)]
pub struct Target {
    /// The resource's kind.
    pub kind: Kind,
    /// The namespace in the path, if any.
    pub ns: Option<String>,
    /// The object's name, for single-object requests.
    pub name: Option<String>,
    /// Subresource, e.g. `eviction`, `status`.
    pub sub: Option<String>,
}

pub(super) enum Route {
    Version,
    Health,
    Api,
    Apis,
    Group(String),
    ResourceList(String, String),
    OpenApiV2,
    SelfSubjectAccessReview,
    OpenApiRoot,
    OpenApi(String, String),
    Resource(Target),
    NotFound,
}

pub(super) fn parse_route(path: &str) -> Route {
    // Long: one match over the API's path shapes, read top to bottom as the apiserver's mux.
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let (group, version, rest) = match segs.as_slice() {
        ["version"] => return Route::Version,
        ["healthz" | "readyz" | "livez", ..] => return Route::Health,
        ["openapi", "v2"] => return Route::OpenApiV2,
        [
            "apis",
            "authorization.k8s.io",
            "v1",
            "selfsubjectaccessreviews",
        ] => {
            return Route::SelfSubjectAccessReview;
        }
        ["openapi", "v3"] => return Route::OpenApiRoot,
        ["openapi", "v3", "api", v] => return Route::OpenApi(String::new(), v.to_string()),
        ["openapi", "v3", "apis", g, v] => return Route::OpenApi(g.to_string(), v.to_string()),
        ["api"] => return Route::Api,
        ["apis"] => return Route::Apis,
        ["apis", g] => return Route::Group(g.to_string()),
        ["api", v] => return Route::ResourceList(String::new(), v.to_string()),
        ["apis", g, v] => return Route::ResourceList(g.to_string(), v.to_string()),
        ["api", v, rest @ ..] => ("", *v, rest),
        ["apis", g, v, rest @ ..] => (*g, *v, rest),
        _ => return Route::NotFound,
    };
    if version != "v1" {
        return Route::NotFound;
    }
    let find = |plural: &str| Kind::from_plural(group, plural);
    let target = match rest {
        ["namespaces", ns, plural, tail @ ..] if find(plural).is_some_and(|k| k.namespaced()) => {
            let kind = find(plural).unwrap();
            match tail {
                [] => Target {
                    kind,
                    ns: Some(ns.to_string()),
                    name: None,
                    sub: None,
                },
                [name] => Target {
                    kind,
                    ns: Some(ns.to_string()),
                    name: Some(name.to_string()),
                    sub: None,
                },
                [name, sub] => Target {
                    kind,
                    ns: Some(ns.to_string()),
                    name: Some(name.to_string()),
                    sub: Some(sub.to_string()),
                },
                _ => return Route::NotFound,
            }
        }
        [plural, tail @ ..] => {
            let Some(kind) = find(plural) else {
                return Route::NotFound;
            };
            match tail {
                [] => Target {
                    kind,
                    ns: None,
                    name: None,
                    sub: None,
                },
                [name] if !kind.namespaced() => Target {
                    kind,
                    ns: None,
                    name: Some(name.to_string()),
                    sub: None,
                },
                [name, sub] if !kind.namespaced() => Target {
                    kind,
                    ns: None,
                    name: Some(name.to_string()),
                    sub: Some(sub.to_string()),
                },
                _ => return Route::NotFound,
            }
        }
        _ => return Route::NotFound,
    };
    Route::Resource(target)
}

pub(super) fn verb_of(method: &Method, route: &Route, q: &Params) -> (&'static str, String) {
    match route {
        Route::Resource(t) => {
            let resource = match &t.sub {
                Some(s) => format!("{}/{s}", t.kind.plural()),
                None => t.kind.plural().to_string(),
            };
            let verb = match (method.as_str(), &t.name) {
                ("GET", None) if q.get("watch").is_some_and(|w| w == "true" || w == "1") => "watch",
                ("GET", None) => "list",
                ("GET", Some(_)) => "get",
                ("POST", _) => "create",
                ("PUT", _) => "update",
                ("PATCH", _) => "patch",
                ("DELETE", None) => "deletecollection",
                ("DELETE", _) => "delete",
                _ => "other",
            };
            (verb, resource)
        }
        _ => ("get", String::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        let r = |p: &str| match parse_route(p) {
            Route::Resource(t) => format!("{:?} {:?} {:?} {:?}", t.kind, t.ns, t.name, t.sub),
            Route::NotFound => "404".into(),
            _ => "other".into(),
        };
        assert_eq!(r("/api/v1/pods"), "Pod None None None");
        assert_eq!(
            r("/api/v1/namespaces/default/pods/x/eviction"),
            "Pod Some(\"default\") Some(\"x\") Some(\"eviction\")"
        );
        assert_eq!(
            r("/api/v1/namespaces/default"),
            "Namespace None Some(\"default\") None"
        );
        assert_eq!(
            r("/api/v1/namespaces/default/status"),
            "Namespace None Some(\"default\") Some(\"status\")"
        );
        assert_eq!(
            r("/apis/apps/v1/namespaces/kube-system/daemonsets/x"),
            "DaemonSet Some(\"kube-system\") Some(\"x\") None"
        );
        assert_eq!(r("/apis/apps/v1/nodes"), "404");
        assert_eq!(r("/api/v1/pods/x"), "404");
        assert_eq!(r("/nope"), "404");
    }
}
