//! Kubernetes `Status` objects: every error the simulator answers is one of these.

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use serde_json::{Value, json};

use crate::sim::kinds::Kind;
use crate::sim::store::StoreError;

/// An API error, rendered as a `Status` body with the matching HTTP code.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// HTTP status code (also `code` in the body).
    pub code: u16,
    /// `reason`, e.g. `NotFound`; empty leaves it out (as the eviction 500 does).
    pub reason: &'static str,
    /// Human-readable message.
    pub message: String,
    /// `details`, when the error names an object or carries causes.
    pub details: Option<Value>,
    /// Sets a `Retry-After` header (429 with `retryAfterSeconds`).
    pub retry_after: Option<u64>,
}

impl ApiError {
    /// An error with no details.
    pub fn new(code: u16, reason: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            reason,
            message: message.into(),
            details: None,
            retry_after: None,
        }
    }

    /// Adds `details`.
    pub fn with_details(mut self, details: Value) -> Self {
        self.details = Some(details);
        self
    }

    /// 404 for an object: `pods "x" not found`.
    pub fn not_found(kind: Kind, name: &str) -> Self {
        Self::new(
            404,
            "NotFound",
            format!(
                "{} \"{name}\" not found",
                crate::sim::store::resource_label(kind)
            ),
        )
        .with_details(object_details(kind, name))
    }

    /// 404 for a path the server does not serve.
    pub fn no_route() -> Self {
        Self::new(
            404,
            "NotFound",
            "the server could not find the requested resource",
        )
        .with_details(json!({}))
    }

    /// 400 BadRequest.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "BadRequest", message)
    }

    /// 405 MethodNotAllowed.
    pub fn method_not_allowed(method: &str) -> Self {
        Self::new(
            405,
            "MethodNotAllowed",
            format!("the server does not allow this method on the requested resource ({method})"),
        )
        .with_details(json!({}))
    }

    /// 415 UnsupportedMediaType.
    pub fn unsupported_media_type(ct: &str) -> Self {
        Self::new(
            415,
            "UnsupportedMediaType",
            format!(
                "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json (got {ct:?})"
            ),
        )
    }

    /// 422 Invalid.
    pub fn invalid(kind: Kind, name: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        Self::new(
            422,
            "Invalid",
            format!("{} \"{name}\" is invalid: {message}", kind.name()),
        )
        .with_details(object_details(kind, name))
    }

    /// 500 InternalError.
    pub fn internal(message: impl Into<String>) -> Self {
        let message = message.into();
        Self::new(
            500,
            "InternalError",
            format!("Internal error occurred: {message}"),
        )
        .with_details(json!({"causes": [{"message": message}]}))
    }

    /// 403 Forbidden.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(403, "Forbidden", message).with_details(json!({}))
    }

    /// 410 Gone / Expired (as watches report a too old resourceVersion).
    pub fn expired(message: impl Into<String>) -> Self {
        Self::new(410, "Expired", message)
    }

    /// Maps a store error to its Status.
    pub fn from_store(err: StoreError) -> Self {
        match err {
            StoreError::NotFound { kind, name } => Self::not_found(kind, &name),
            StoreError::AlreadyExists { kind, ref name } => {
                Self::new(409, "AlreadyExists", err.to_string())
                    .with_details(object_details(kind, name))
            }
            StoreError::Gone { .. } => Self::expired(err.to_string()),
            StoreError::Invalid(m) => Self::new(422, "Invalid", m),
            StoreError::Conflict(m) => Self::new(409, "Conflict", m),
        }
    }

    /// The `Status` JSON body.
    pub fn to_value(&self) -> Value {
        let mut v = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
        });
        if !self.reason.is_empty() {
            v["reason"] = json!(self.reason);
        }
        if let Some(d) = &self.details {
            v["details"] = d.clone();
        }
        v["code"] = json!(self.code);
        v
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        Self::from_store(e)
    }
}

/// `details` naming an object the way the apiserver does (`kind` is the resource plural).
pub fn object_details(kind: Kind, name: &str) -> Value {
    let mut d = json!({"name": name});
    if !kind.group().is_empty() {
        d["group"] = json!(kind.group());
    }
    d["kind"] = json!(kind.plural());
    d
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&self.to_value()).unwrap_or_default();
        let mut resp = json_response(self.code, body);
        if let Some(s) = self.retry_after {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(s));
        }
        resp
    }
}

/// A `Status` with `status: Success` (eviction, deletes of non-pods).
pub fn success(code: u16, details: Option<Value>) -> Response {
    let mut v = json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success"});
    if let Some(d) = details {
        v["details"] = d;
    }
    v["code"] = json!(code);
    json_response(code, serde_json::to_vec(&v).unwrap_or_default())
}

/// A response with a JSON body and the given code.
pub fn json_response(code: u16, body: Vec<u8>) -> Response {
    let mut resp = Response::new(Body::from(body));
    *resp.status_mut() = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

/// Serializes `v` as a JSON response.
pub fn json_value(code: u16, v: &Value) -> Response {
    json_response(code, serde_json::to_vec(v).unwrap_or_default())
}

/// Result type of API handlers.
pub type ApiResult<T = Response> = Result<T, ApiError>;
