//! Request bodies: read within the apiserver's limit, decoded from JSON, YAML or protobuf;
//! and whether the client wants a Table.

use axum::body::Bytes;
use axum::extract::Request;
use http::header;
use serde_json::Value;

use super::status::{ApiError, ApiResult};
use super::table::{self, IncludeObject};
use super::{Params, protobuf};

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
        .map_err(|e| ApiError::bad_request(e.to_string()))
}
