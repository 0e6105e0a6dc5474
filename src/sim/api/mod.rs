//! The HTTP surface: the subset of the Kubernetes API the simulator serves.
//!
//! Requests go through one fallback handler that parses the path itself, so every answer,
//! including for unknown paths and malformed requests, is a Kubernetes `Status`.

pub mod apply;
pub mod corekinds;
pub mod defaults;
pub mod delete;
pub mod discovery;
pub mod faults;
pub mod fieldpath;
pub mod list_watch;
pub mod managed;
pub mod objects;
pub mod openapi;
pub mod patch;
pub mod pod_io;
pub mod pods;
pub mod protobuf;
pub mod request;
pub mod scale;
pub mod selectors;
pub mod stats;
pub mod status;
pub mod strategy;
pub mod strict;
pub mod table;
pub mod validation;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Query, Request, State};
use axum::response::{IntoResponse, Response};
use http::{Method, header};
use serde_json::Value;

use self::faults::{FaultAction, Faults};
use self::stats::{RequestRecord, Stats};
use self::status::{ApiError, ApiResult, json_value};
use self::table::IncludeObject;
use crate::sim::auth;
use crate::sim::kinds::Kind;
use crate::sim::store::Store;

/// Everything request handlers share.
pub struct ApiState {
    /// The object store.
    pub store: Arc<Store>,
    /// Fault injection switchboard.
    pub faults: Arc<Faults>,
    /// Request counters and log.
    pub stats: Arc<Stats>,
    /// `gitVersion` served on `/version`.
    pub git_version: String,
    /// `host:port` advertised in `/api`.
    pub server_address: String,
    /// How often watches with `allowWatchBookmarks` get a BOOKMARK.
    pub bookmark_interval: Duration,
    /// Watches without `timeoutSeconds` end after a random time in [this, 2× this).
    pub min_request_timeout: Duration,
    /// Flips to true when the server shuts down (ends watches and hung requests).
    pub shutdown: tokio::sync::watch::Receiver<bool>,
    /// Snapshots behind `continue` tokens.
    pub pages: Mutex<list_watch::PageCache>,
    /// Authentication and RBAC; `None` serves every request as an administrator.
    pub auth: Option<Arc<crate::sim::auth::Auth>>,
}

/// The axum router serving the API for `state`.
pub fn router(state: Arc<ApiState>) -> Router {
    Router::new().fallback(handle).with_state(state)
}

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

enum Route {
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

fn parse_route(path: &str) -> Route {
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

/// Parsed query parameters.
pub type Params = HashMap<String, String>;

/// Whether the query asks for a server dry run.
pub fn dry_run(q: &Params) -> bool {
    q.get("dryRun").is_some_and(|v| v == "All")
}

fn verb_of(method: &Method, route: &Route, q: &Params) -> (&'static str, String) {
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

async fn handle(State(st): State<Arc<ApiState>>, req: Request) -> Response {
    let method = req.method().clone();
    let uri = req.uri().clone();
    let path = uri.path().to_string();
    let q: Params = Query::<Params>::try_from_uri(&uri)
        .map(|q| q.0)
        .unwrap_or_default();
    let route = parse_route(&path);
    let (verb, mut resource) = verb_of(&method, &route, &q);
    if resource.is_empty() {
        resource = path.clone();
    }
    let resp = match st.faults.check(method.as_str(), &path) {
        Some(FaultAction::Status(code)) => injected(code, &path),
        Some(FaultAction::Hang) => {
            let mut sd = st.shutdown.clone();
            let _ = sd.wait_for(|v| *v).await;
            ApiError::new(503, "ServiceUnavailable", "the simulator is shutting down")
                .into_response()
        }
        None => match authorize(&st, &method, &path, &route, &q, req.headers()) {
            Err(e) => e.into_response(),
            Ok(user) => match serve(&st, method.clone(), route, &q, user, req).await {
                Ok(r) => r,
                Err(e) => e.into_response(),
            },
        },
    };
    let bytes = if verb == "watch" {
        0
    } else {
        axum::body::HttpBody::size_hint(resp.body())
            .exact()
            .unwrap_or(0) as usize
    };
    st.stats.record(RequestRecord {
        at: SystemTime::now(),
        verb,
        resource,
        method: method.to_string(),
        path: uri.to_string(),
        status: resp.status().as_u16(),
        bytes,
    });
    resp
}

/// Authenticates the request and checks RBAC (the apiserver's filters, in its order).
fn authorize(
    st: &ApiState,
    method: &Method,
    path: &str,
    route: &Route,
    q: &Params,
    headers: &http::HeaderMap,
) -> ApiResult<auth::UserInfo> {
    use auth::{Attributes, Refusal};
    let Some(a) = &st.auth else {
        return Ok(auth::UserInfo {
            name: auth::ADMIN.into(),
            groups: vec!["system:masters".into()],
        });
    };
    let refused = |r: Refusal| match r {
        Refusal::Unauthorized => ApiError::new(401, "Unauthorized", "Unauthorized"),
        Refusal::Forbidden(m) => ApiError::new(403, "Forbidden", m),
    };
    let user = a.authenticate(headers).map_err(refused)?;
    let attributes = match route {
        Route::Resource(t) => Attributes::Resource {
            verb: verb_of(method, route, q).0.to_string(),
            group: t.kind.group().to_string(),
            resource: t.kind.plural().to_string(),
            subresource: t.sub.clone().unwrap_or_default(),
            namespace: t.ns.clone().unwrap_or_default(),
            name: t.name.clone().unwrap_or_default(),
        },
        Route::SelfSubjectAccessReview => Attributes::Resource {
            verb: "create".into(),
            group: "authorization.k8s.io".into(),
            resource: "selfsubjectaccessreviews".into(),
            subresource: String::new(),
            namespace: String::new(),
            name: String::new(),
        },
        _ => Attributes::NonResource {
            verb: method.as_str().to_ascii_lowercase(),
            path: path.to_string(),
        },
    };
    a.authorize(&user, &attributes).map_err(refused)?;
    Ok(user)
}

fn injected(code: u16, path: &str) -> Response {
    let (reason, message) = match code {
        401 => ("Unauthorized", "Unauthorized".to_string()),
        403 => ("Forbidden", format!("{path} is forbidden: injected fault")),
        404 => (
            "NotFound",
            "the server could not find the requested resource".into(),
        ),
        409 => ("Conflict", "injected conflict".into()),
        410 => ("Expired", "injected 410 Gone".into()),
        429 => (
            "TooManyRequests",
            "injected: too many requests, please try again later".into(),
        ),
        503 => (
            "ServiceUnavailable",
            "injected: the server is currently unable to handle the request".into(),
        ),
        504 => (
            "Timeout",
            "injected: the server was unable to return a response in the time allotted".into(),
        ),
        _ => (
            "InternalError",
            "Internal error occurred: injected fault".into(),
        ),
    };
    ApiError::new(code, reason, message).into_response()
}

/// The write a request for `t` (the object `name`) makes.
fn write<'a>(
    t: &'a Target,
    name: &'a str,
    query: &'a Params,
    content_type: &'a str,
    body: &'a [u8],
) -> request::Write<'a> {
    request::Write {
        kind: t.kind,
        ns: t.ns.as_deref(),
        name,
        sub: t.sub.as_deref(),
        query,
        content_type,
        body,
    }
}

/// The query with `fieldManager` filled in from the User-Agent when the client gave none
/// (not for a server-side apply, which must name its manager).
fn with_manager(q: &Params, req: &Request) -> Params {
    let header = |h| req.headers().get(h).and_then(|v| v.to_str().ok());
    let ua = header(header::USER_AGENT);
    let mut q = q.clone();
    if header(header::CONTENT_TYPE).is_some_and(|ct| ct.starts_with("application/apply-patch")) {
        return q;
    }
    q.insert("fieldManager".into(), managed::manager(&q, ua));
    q
}

/// Reads a request body (bounded) as JSON, or YAML when the Content-Type says so.
pub async fn read_body(req: Request) -> ApiResult<(String, Bytes)> {
    let ct = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let bytes = axum::body::to_bytes(req.into_body(), MAX_REQUEST_BODY)
        .await
        .map_err(|e| {
            let too_large =
                std::iter::successors(Some(&e as &dyn std::error::Error), |e| e.source())
                    // http-body-util's LengthLimitError, known by its words (not a dependency here).
                    .any(|e| e.to_string() == "length limit exceeded");
            if too_large {
                too_large_body()
            } else {
                ApiError::bad_request(format!("reading request body: {e}"))
            }
        })?;
    Ok((ct, bytes))
}

/// The apiserver's `maxRequestBodyBytes`: 3 MiB.
pub const MAX_REQUEST_BODY: usize = 3 * 1024 * 1024;

/// 413, in the apiserver's words.
fn too_large_body() -> ApiError {
    ApiError::new(
        413,
        "RequestEntityTooLarge",
        format!("Request entity too large: limit is {MAX_REQUEST_BODY}"),
    )
}

/// Decodes a JSON (or YAML) object body.
pub fn decode_object(ct: &str, bytes: &[u8]) -> ApiResult<Value> {
    if ct.contains("protobuf") {
        return protobuf::decode(bytes)
            .map_err(|why| ApiError::bad_request(format!("error decoding protobuf body: {why}")));
    }
    if ct.contains("cbor") {
        return Err(ApiError::new(
            415,
            "UnsupportedMediaType",
            format!(
                "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf (got {ct:?})"
            ),
        ));
    }
    let v: Value = if ct.contains("yaml") {
        serde_saphyr::from_slice(bytes)
            .map_err(|e| ApiError::bad_request(format!("error decoding YAML: {e}")))?
    } else {
        serde_json::from_slice(bytes)
            .map_err(|e| ApiError::bad_request(format!("error decoding JSON: {e}")))?
    };
    if !v.is_object() {
        return Err(ApiError::bad_request(
            "the request body must be a JSON object",
        ));
    }
    Ok(v)
}

/// How the client wants objects: plain JSON or a Table (with which `includeObject`).
pub fn table_request(req_accept: &str, q: &Params) -> ApiResult<Option<IncludeObject>> {
    if !table::wants_table(req_accept) {
        return Ok(None);
    }
    IncludeObject::parse(q.get("includeObject").map(String::as_str))
        .map(Some)
        .map_err(ApiError::bad_request)
}

async fn serve(
    st: &Arc<ApiState>,
    method: Method,
    route: Route,
    q: &Params,
    user: auth::UserInfo,
    req: Request,
) -> ApiResult {
    let accept = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let get_only = |r: ApiResult| {
        if method == Method::GET {
            r
        } else {
            Err(ApiError::method_not_allowed(method.as_str()))
        }
    };
    match route {
        Route::Version => {
            let v = crate::sim::controllers::apiserver_version(&st.store, &st.git_version);
            get_only(Ok(json_value(200, &discovery::version(&v))))
        }
        Route::Health => {
            let mut r = Response::new(Body::from("ok"));
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                "text/plain; charset=utf-8".parse().unwrap(),
            );
            Ok(r)
        }
        Route::Api => get_only(Ok(json_value(
            200,
            &discovery::api_versions(&st.server_address),
        ))),
        Route::Apis => get_only(Ok(json_value(200, &discovery::api_group_list()))),
        Route::Group(g) => discovery::api_group(&g)
            .map(|v| json_value(200, &v))
            .ok_or_else(ApiError::no_route),
        Route::ResourceList(g, v) => discovery::resource_list(&g, &v)
            .map(|v| json_value(200, &v))
            .ok_or_else(ApiError::no_route),
        Route::OpenApiV2 => {
            let v = crate::sim::controllers::apiserver_version(&st.store, &st.git_version);
            get_only(Ok(openapi_v2(&accept, &v)))
        }
        Route::SelfSubjectAccessReview if method == Method::POST => {
            let (ct, body) = read_body(req).await?;
            let review = decode_object(&ct, &body)?;
            auth::review::answer(st.auth.as_deref(), &user, &review)
                .map(|v| json_value(201, &v))
                .map_err(|m| ApiError::new(422, "Invalid", m))
        }
        Route::SelfSubjectAccessReview => Err(ApiError::method_not_allowed(method.as_str())),
        Route::OpenApiRoot => get_only(Ok(json_value(200, &openapi::v3_root()))),
        Route::OpenApi(g, v) => {
            let version = crate::sim::controllers::apiserver_version(&st.store, &st.git_version);
            openapi::v3_group_version(&g, &v, &version)
                .map(|v| json_value(200, &v))
                .ok_or_else(ApiError::no_route)
        }
        Route::NotFound => Err(ApiError::no_route()),
        Route::Resource(t) => {
            let table = table_request(&accept, q)?;
            serve_resource(st, method, t, q, table, req).await
        }
    }
}

/// `/openapi/v2` as gnostic protobuf when asked for it (kubectl ≤ 1.28), else JSON.
fn openapi_v2(accept: &str, git_version: &str) -> Response {
    if accept.contains(openapi::V2_PROTOBUF) || accept.contains(openapi::V2_PROTOBUF_ANSWER) {
        let mut r = Response::new(Body::from(openapi::v2_protobuf(git_version)));
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            openapi::V2_PROTOBUF_ANSWER
                .parse()
                .expect("a valid header value"),
        );
        return r;
    }
    json_value(200, &openapi::v2_json(git_version))
}

async fn serve_resource(
    st: &Arc<ApiState>,
    method: Method,
    t: Target,
    q: &Params,
    table: Option<IncludeObject>,
    req: Request,
) -> ApiResult {
    let ns = t.ns.as_deref().unwrap_or("");
    let sub = t.sub.as_deref();
    if let Some(s) = sub {
        let ok = match s {
            "status" => true,
            "eviction" => t.kind == Kind::Pod && method == Method::POST,
            "log" => t.kind == Kind::Pod && method == Method::GET,
            "exec" | "attach" | "portforward" => t.kind == Kind::Pod,
            "scale" => scale::has_scale(t.kind),
            _ => false,
        };
        if !ok {
            return Err(ApiError::no_route());
        }
    }
    match (method.as_str(), t.name.as_deref()) {
        ("GET", None) => {
            if q.get("watch").is_some_and(|w| w == "true" || w == "1") {
                list_watch::watch(st.clone(), t.kind, t.ns.clone(), q, table)
            } else {
                list_watch::list(st, t.kind, t.ns.as_deref(), q, table)
            }
        }
        ("GET", Some(name)) if sub == Some("scale") => scale::get(st, t.kind, ns, name),
        ("GET", Some(name)) if sub == Some("log") => pod_io::logs(st, ns, name, q),
        (_, Some(name)) if matches!(sub, Some("exec" | "attach" | "portforward")) => {
            pod_io::no_runtime(st, ns, name, sub.unwrap_or_default())
        }
        ("GET", Some(name)) => objects::get(st, t.kind, ns, name, table),
        ("PUT" | "PATCH", Some(name)) if sub == Some("scale") => {
            let q = &with_manager(q, &req);
            let (ct, body) = read_body(req).await?;
            let w = write(&t, name, q, &ct, &body);
            scale::change(st, &w, method == Method::PATCH)
        }
        ("POST", None) => {
            let (ct, body) = read_body(req).await?;
            objects::create(st, &write(&t, "", q, &ct, &body))
        }
        ("POST", Some(name)) if sub == Some("eviction") => {
            let (ct, body) = read_body(req).await?;
            pods::evict(st, ns, name, &ct, &body, q)
        }
        ("PUT", Some(name)) => {
            let q = &with_manager(q, &req);
            let (ct, body) = read_body(req).await?;
            objects::replace(st, &write(&t, name, q, &ct, &body))
        }
        ("PATCH", Some(name)) => {
            let q = &with_manager(q, &req);
            let (ct, body) = read_body(req).await?;
            objects::patch(st, &write(&t, name, q, &ct, &body))
        }
        ("DELETE", Some(name)) if sub.is_none() => {
            let (ct, body) = read_body(req).await?;
            let opts = delete::DeleteOptions::from_request(q, &ct, &body)?;
            if strategy::Strategy::of(t.kind).graceful_delete() {
                let pod = pods::delete_pod(st, ns, name, &opts)?;
                Ok(json_value(200, &pod))
            } else {
                delete::delete(st, t.kind, ns, name, &opts)
            }
        }
        ("DELETE", None) => {
            let (ct, body) = read_body(req).await?;
            let opts = delete::DeleteOptions::from_request(q, &ct, &body)?;
            delete::delete_collection(st, t.kind, t.ns.as_deref(), q, &opts)
        }
        _ => Err(ApiError::method_not_allowed(method.as_str())),
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
