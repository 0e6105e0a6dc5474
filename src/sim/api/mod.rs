//! The HTTP surface: the subset of the Kubernetes API the simulator serves.
//!
//! Requests go through one fallback handler that parses the path itself, so every answer,
//! including for unknown paths and malformed requests, is a Kubernetes `Status`.

pub mod apply;
pub mod body;
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
mod route;
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
use axum::body::Body;
use axum::extract::{Query, Request, State};
use axum::response::{IntoResponse, Response};
use http::{Method, header};

use self::faults::{FaultAction, Faults};
use self::stats::{RequestRecord, Stats};
use self::status::{ApiError, ApiResult, json_value};
use self::table::IncludeObject;
use crate::sim::auth;
use crate::sim::kinds::Kind;
use crate::sim::store::Store;

pub use self::body::{MAX_REQUEST_BODY, decode_object, read_body, table_request};
pub use self::route::Target;
use self::route::{Route, parse_route, verb_of};

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
/// Parsed query parameters.
pub type Params = HashMap<String, String>;

/// Whether the query asks for a server dry run.
pub fn dry_run(q: &Params) -> bool {
    q.get("dryRun").is_some_and(|v| v == "All")
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
                .map_err(|m| ApiError::new(422, "Invalid", m.to_string()))
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
