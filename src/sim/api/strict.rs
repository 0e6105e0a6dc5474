//! Decoding like the API server: a body that does not fit the kind's Go types is a 400, and
//! unknown fields are rejected, warned about or ignored as `fieldValidation` asks
//! (`Strict` / `Warn`, the default / `Ignore`).
//!
//! Unknown fields are found by a round trip through k8s-openapi's typed structs: a key of the
//! input that the typed value does not write back is a field the kind does not have.

use axum::response::Response;
use http::HeaderValue;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::Params;
use super::status::ApiError;
use crate::sim::kinds::Kind;
use k8s_openapi::api::{apps, batch, coordination, core, discovery, policy};

/// What to do with unknown fields (`fieldValidation`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Directive {
    Ignore,
    Warn,
    Strict,
}

impl Directive {
    /// From the query; absent means `Warn`, as on the real server since 1.25.
    pub fn from_query(q: &Params) -> Result<Self, ApiError> {
        match q.get("fieldValidation").map(String::as_str) {
            None | Some("") | Some("Warn") => Ok(Self::Warn),
            Some("Ignore") => Ok(Self::Ignore),
            Some("Strict") => Ok(Self::Strict),
            Some(other) => Err(ApiError::bad_request(format!(
                "fieldValidation: Unsupported value: {other:?}: supported values: \"Ignore\", \"Strict\", \"Warn\""
            ))),
        }
    }
}

/// A decode failure: where, and serde's words.
struct DecodeError {
    path: Vec<serde_path_to_error::Segment>,
    message: String,
}

fn roundtrip<T: DeserializeOwned + Serialize>(v: &Value) -> Result<Value, DecodeError> {
    let typed: T = serde_path_to_error::deserialize(v.clone()).map_err(|e| DecodeError {
        path: e.path().iter().cloned().collect(),
        message: e.inner().to_string(),
    })?;
    serde_json::to_value(typed).map_err(|e| DecodeError {
        path: Vec::new(),
        message: e.to_string(),
    })
}

fn roundtrip_kind(kind: Kind, v: &Value) -> Result<Value, DecodeError> {
    match kind {
        Kind::Namespace => roundtrip::<core::v1::Namespace>(v),
        Kind::Node => roundtrip::<core::v1::Node>(v),
        Kind::Pod => roundtrip::<core::v1::Pod>(v),
        Kind::Event => roundtrip::<core::v1::Event>(v),
        Kind::PodDisruptionBudget => roundtrip::<policy::v1::PodDisruptionBudget>(v),
        Kind::DaemonSet => roundtrip::<apps::v1::DaemonSet>(v),
        Kind::ReplicaSet => roundtrip::<apps::v1::ReplicaSet>(v),
        Kind::Deployment => roundtrip::<apps::v1::Deployment>(v),
        Kind::StatefulSet => roundtrip::<apps::v1::StatefulSet>(v),
        Kind::Job => roundtrip::<batch::v1::Job>(v),
        Kind::Service => roundtrip::<core::v1::Service>(v),
        Kind::Endpoints => roundtrip::<core::v1::Endpoints>(v),
        Kind::EndpointSlice => roundtrip::<discovery::v1::EndpointSlice>(v),
        Kind::ConfigMap => roundtrip::<core::v1::ConfigMap>(v),
        Kind::Secret => roundtrip::<core::v1::Secret>(v),
        Kind::ServiceAccount => roundtrip::<core::v1::ServiceAccount>(v),
        Kind::Lease => roundtrip::<coordination::v1::Lease>(v),
    }
}

fn at<'a>(v: &'a mut Value, path: &[serde_path_to_error::Segment]) -> Option<&'a mut Value> {
    use serde_path_to_error::Segment;
    let mut cur = v;
    for seg in path {
        cur = match seg {
            Segment::Seq { index } => cur.get_mut(*index)?,
            Segment::Map { key } => cur.get_mut(key.as_str())?,
            _ => return None,
        };
    }
    Some(cur)
}

fn path_text(path: &[serde_path_to_error::Segment]) -> String {
    use serde_path_to_error::Segment;
    let mut s = String::new();
    for seg in path {
        match seg {
            Segment::Seq { index } => s.push_str(&format!("[{index}]")),
            Segment::Map { key } => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(key);
            }
            _ => {}
        }
    }
    s
}

/// The object as its typed struct writes it back, or the decode error.
///
/// k8s-openapi makes fields required that Go decodes as empty (a container's `name`, a
/// Deployment's `selector`): those are validation's business (422), so a missing one gets a
/// placeholder of each JSON type in turn until the struct decodes. The error is already the
/// apiserver's sentence (Go's decoder's words), which [`decode`] wraps whole: a String.
fn typed(kind: Kind, v: &Value) -> Result<Value, String> {
    const PLACEHOLDERS: [fn() -> Value; 5] = [
        || Value::String(String::new()),
        || Value::Object(Default::default()),
        || Value::Array(Vec::new()),
        || Value::from(0),
        || Value::Bool(false),
    ];
    let mut v = v.clone();
    let mut filled: Vec<(String, usize)> = Vec::new();
    for _ in 0..64 {
        let err = match roundtrip_kind(kind, &v) {
            Ok(t) => return Ok(t),
            Err(e) => e,
        };
        let here = path_text(&err.path);
        if let Some(field) = err
            .message
            .strip_prefix("missing field `")
            .and_then(|r| r.split('`').next())
        {
            let slot = at(&mut v, &err.path).and_then(Value::as_object_mut);
            let Some(obj) = slot else {
                return Err(err.message);
            };
            obj.insert(field.to_string(), PLACEHOLDERS[0]());
            let p = if here.is_empty() {
                field.to_string()
            } else {
                format!("{here}.{field}")
            };
            filled.push((p, 0));
            continue;
        }
        // A placeholder of the wrong type: try the next one.
        if let Some(entry) = filled.iter_mut().find(|(p, _)| *p == here)
            && entry.1 + 1 < PLACEHOLDERS.len()
            && let Some(slot) = at(&mut v, &err.path)
        {
            entry.1 += 1;
            *slot = PLACEHOLDERS[entry.1]();
            continue;
        }
        if let Some(go) = go_base64_error(&err.message) {
            return Err(go);
        }
        return Err(if here.is_empty() {
            err.message
        } else {
            format!("decoding {here}: {}", err.message)
        });
    }
    Err("the object could not be decoded".into())
}

/// The base64 crate's complaint about a `[]byte` field (a Secret's `data`) in Go's words:
/// `illegal base64 data at input byte N`.
fn go_base64_error(message: &str) -> Option<String> {
    let offset = message
        .strip_prefix("Invalid symbol ")
        .or_else(|| message.strip_prefix("Invalid last symbol "))
        .and_then(|rest| rest.split("offset ").nth(1))
        .map(|n| n.trim_end_matches('.').to_string())
        .or_else(|| {
            message
                .strip_prefix("Invalid input length: ")
                .map(str::to_string)
        })
        .or_else(|| (message == "Invalid padding").then(String::new))?;
    Some(match offset.parse::<usize>() {
        Ok(n) => format!("illegal base64 data at input byte {n}"),
        Err(_) => "illegal base64 data at input byte 0".to_string(),
    })
}

/// Paths of keys in `input` that `typed` lacks (`spec.replica`, `spec.containers[0].imagePolicy`).
fn unknown(input: &Value, typed: &Value, path: &str, out: &mut Vec<String>) {
    match (input, typed) {
        (Value::Object(i), Value::Object(t)) => {
            for (k, v) in i {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                match t.get(k) {
                    Some(tv) => unknown(v, tv, &p, out),
                    // A null may be a known optional field left out on the way back.
                    None if v.is_null() => {}
                    None => out.push(p),
                }
            }
        }
        (Value::Array(i), Value::Array(t)) => {
            for (n, (iv, tv)) in i.iter().zip(t).enumerate() {
                unknown(iv, tv, &format!("{path}[{n}]"), out);
            }
        }
        _ => {}
    }
}

/// Removes the keys of `input` that `typed` lacks (what decoding into Go structs drops).
fn drop_unknown(input: &mut Value, typed: &Value) {
    match (input, typed) {
        (Value::Object(i), Value::Object(t)) => {
            i.retain(|k, v| v.is_null() || t.contains_key(k));
            for (k, v) in i.iter_mut() {
                if let Some(tv) = t.get(k) {
                    drop_unknown(v, tv);
                }
            }
        }
        (Value::Array(i), Value::Array(t)) => {
            for (iv, tv) in i.iter_mut().zip(t) {
                drop_unknown(iv, tv);
            }
        }
        _ => {}
    }
}

/// Drops unknown fields from `obj`, as the server's decoder does (the object must decode).
pub fn prune(kind: Kind, obj: &mut Value) {
    if let Ok(t) = typed(kind, &strip_directives(obj)) {
        drop_unknown(obj, &t);
    }
}

/// The outcome of decoding a body: unknown fields to warn about (none when ignored).
#[derive(Debug, Default)]
pub struct Decoded {
    pub warnings: Vec<String>,
}

/// Decodes `obj` as the kind's type under `directive`. A type mismatch is a 400 as the API
/// server's decoder answers it; unknown fields are a 400 under `Strict`, warnings under `Warn`.
/// Patch strategy directives (`$patch`, `$setElementOrder/...`) are not fields.
pub fn decode(kind: Kind, obj: &Value, directive: Directive) -> Result<Decoded, ApiError> {
    let cannot = |e: &str| {
        ApiError::bad_request(format!(
            "{k} in version \"v1\" cannot be handled as a {k}: {e}",
            k = kind.name()
        ))
    };
    let t = typed(kind, &strip_directives(obj)).map_err(|e| cannot(&e))?;
    if directive == Directive::Ignore {
        return Ok(Decoded::default());
    }
    let mut fields = Vec::new();
    unknown(obj, &t, "", &mut fields);
    fields.retain(|f| !f.rsplit('.').next().unwrap_or("").starts_with('$'));
    let msgs: Vec<String> = fields
        .iter()
        .map(|f| format!("unknown field {f:?}"))
        .collect();
    if directive == Directive::Strict && !msgs.is_empty() {
        return Err(cannot(&format!(
            "strict decoding error: {}",
            msgs.join(", ")
        )));
    }
    Ok(Decoded { warnings: msgs })
}

fn strip_directives(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(k, _)| !k.starts_with('$'))
                .map(|(k, v)| (k.clone(), strip_directives(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(strip_directives).collect()),
        other => other.clone(),
    }
}

/// Adds `Warning: 299 - "..."` headers, as the server does for `fieldValidation=Warn`.
pub fn with_warnings(mut resp: Response, warnings: &[String]) -> Response {
    for w in warnings {
        let text = format!("299 - {}", serde_json::to_string(w).unwrap_or_default());
        if let Ok(v) = HeaderValue::from_str(&text) {
            resp.headers_mut().append(http::header::WARNING, v);
        }
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unknown_fields_are_found_by_path() {
        let d = json!({"metadata": {"name": "x"}, "spec": {"replica": 3, "selector": {"matchLabels": {"a": "b"}},
            "template": {"spec": {"containers": [{"name": "c", "image": "i", "imagePolicy": "x"}]}}}});
        let out = decode(Kind::Deployment, &d, Directive::Warn).unwrap();
        assert_eq!(
            out.warnings,
            [
                "unknown field \"spec.replica\"",
                "unknown field \"spec.template.spec.containers[0].imagePolicy\""
            ]
        );
        let e = decode(Kind::Deployment, &d, Directive::Strict).unwrap_err();
        assert_eq!(e.code, 400);
        assert!(e.message.starts_with("Deployment in version \"v1\" cannot be handled as a Deployment: strict decoding error: unknown field \"spec.replica\""), "{}", e.message);
        assert!(
            decode(Kind::Deployment, &d, Directive::Ignore)
                .unwrap()
                .warnings
                .is_empty()
        );
    }

    #[test]
    fn wrong_types_are_bad_requests() {
        let p = json!({"metadata": {"name": "x", "labels": {"v": 1}}});
        assert_eq!(
            decode(Kind::Pod, &p, Directive::Ignore).unwrap_err().code,
            400
        );
        let ok = json!({"metadata": {"name": "x"}, "spec": {"containers": [{"name": "c", "resources": {"requests": {"cpu": 1}}}]}});
        assert!(decode(Kind::Pod, &ok, Directive::Strict).is_ok());
    }
}
