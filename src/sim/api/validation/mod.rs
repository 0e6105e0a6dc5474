//! Validation the way the API server does it (`k8s.io/apimachinery/pkg/util/validation/field`
//! and `pkg/apis/*/validation`): field errors with a type, a path and a bad value, answered as
//! a 422 `Invalid` Status whose message and `details.causes` match the real server's words.

pub mod corekinds;
pub mod meta;
pub mod pods;
pub mod workloads;

use serde_json::{Value, json};

use super::status::ApiError;
use crate::sim::kinds::Kind;

/// The kinds of field error (`field.ErrorType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorType {
    Required,
    Invalid,
    NotSupported,
    Duplicate,
    Forbidden,
    TooLong,
}

impl ErrorType {
    /// The `reason` of a `StatusCause`.
    pub fn reason(self) -> &'static str {
        match self {
            ErrorType::Required => "FieldValueRequired",
            ErrorType::Invalid => "FieldValueInvalid",
            ErrorType::NotSupported => "FieldValueNotSupported",
            ErrorType::Duplicate => "FieldValueDuplicate",
            ErrorType::Forbidden => "FieldValueForbidden",
            ErrorType::TooLong => "FieldValueTooLong",
        }
    }

    fn text(self) -> &'static str {
        match self {
            ErrorType::Required => "Required value",
            ErrorType::Invalid => "Invalid value",
            ErrorType::NotSupported => "Unsupported value",
            ErrorType::Duplicate => "Duplicate value",
            ErrorType::Forbidden => "Forbidden",
            ErrorType::TooLong => "Too long",
        }
    }
}

/// One field error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub ty: ErrorType,
    /// The path, e.g. `spec.template.spec.containers[0].image`.
    pub field: String,
    /// The bad value as Go's `%v`/`%q` prints it (`None` for types that print none).
    pub bad: Option<String>,
    pub detail: String,
}

impl FieldError {
    /// `Required value` (with an optional detail).
    pub fn required(field: &str, detail: &str) -> Self {
        Self::new(ErrorType::Required, field, None, detail)
    }

    /// `Invalid value: <bad>: detail`, the bad value already formatted (see [`quote`], [`go_value`]).
    pub fn invalid(field: &str, bad: String, detail: &str) -> Self {
        Self::new(ErrorType::Invalid, field, Some(bad), detail)
    }

    /// `Unsupported value: "x": supported values: "a", "b"`.
    pub fn not_supported(field: &str, bad: &Value, supported: &[&str]) -> Self {
        let list: Vec<String> = supported.iter().map(|s| format!("{s:?}")).collect();
        let detail = format!("supported values: {}", list.join(", "));
        Self::new(ErrorType::NotSupported, field, Some(go_value(bad)), &detail)
    }

    /// `Duplicate value: "x"`.
    pub fn duplicate(field: &str, bad: &str) -> Self {
        Self::new(ErrorType::Duplicate, field, Some(quote(bad)), "")
    }

    /// `Forbidden: detail`.
    pub fn forbidden(field: &str, detail: &str) -> Self {
        Self::new(ErrorType::Forbidden, field, None, detail)
    }

    /// `Too long: detail`.
    pub fn too_long(field: &str, detail: &str) -> Self {
        Self::new(ErrorType::TooLong, field, None, detail)
    }

    fn new(ty: ErrorType, field: &str, bad: Option<String>, detail: &str) -> Self {
        Self {
            ty,
            field: field.to_string(),
            bad,
            detail: detail.to_string(),
        }
    }

    /// `ErrorBody()`: the message without the field path (a cause's `message`).
    pub fn body(&self) -> String {
        let mut s = match &self.bad {
            Some(b) => format!("{}: {b}", self.ty.text()),
            None => self.ty.text().to_string(),
        };
        if !self.detail.is_empty() {
            s.push_str(": ");
            s.push_str(&self.detail);
        }
        s
    }

    /// `Error()`: `field: body`.
    pub fn message(&self) -> String {
        format!("{}: {}", self.field, self.body())
    }
}

/// A list of field errors, as validation functions return them.
pub type Errors = Vec<FieldError>;

/// Go's `%q` of a string.
pub fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

/// A JSON value as Go prints the corresponding typed value: strings quoted, numbers and
/// booleans bare, string maps as `map[string]string{"k":"v"}`.
pub fn go_value(v: &Value) -> String {
    match v {
        Value::String(s) => quote(s),
        Value::Null => "\"\"".into(),
        Value::Object(m) if m.values().all(Value::is_string) => {
            let mut pairs: Vec<(&String, &Value)> = m.iter().collect();
            pairs.sort_by(|a, b| a.0.cmp(b.0));
            let inner: Vec<String> = pairs
                .iter()
                .map(|(k, v)| format!("{}:{}", quote(k), go_value(v)))
                .collect();
            format!("map[string]string{{{}}}", inner.join(", "))
        }
        other => other.to_string(),
    }
}

/// `kind.group` as the server names a kind in messages (`Deployment.apps`, `Pod`).
pub fn qualified_kind(kind: Kind) -> String {
    if kind.group().is_empty() {
        kind.name().to_string()
    } else {
        format!("{}.{}", kind.name(), kind.group())
    }
}

/// The 422 `Invalid` Status for `errs` (which must not be empty), as `errors.NewInvalid`.
pub fn invalid(kind: Kind, name: &str, errs: &[FieldError]) -> ApiError {
    let mut seen = std::collections::HashSet::new();
    let msgs: Vec<String> = errs
        .iter()
        .map(FieldError::message)
        .filter(|m| seen.insert(m.clone()))
        .collect();
    let agg = if msgs.len() == 1 {
        msgs[0].clone()
    } else {
        format!("[{}]", msgs.join(", "))
    };
    let causes: Vec<Value> = errs
        .iter()
        .map(|e| json!({"reason": e.ty.reason(), "message": e.body(), "field": e.field}))
        .collect();
    let mut details = json!({"name": name});
    if !kind.group().is_empty() {
        details["group"] = json!(kind.group());
    }
    details["kind"] = json!(kind.name());
    details["causes"] = json!(causes);
    ApiError::new(
        422,
        "Invalid",
        format!("{} {} is invalid: {agg}", qualified_kind(kind), quote(name)),
    )
    .with_details(details)
}

/// Validates a new object of `kind` (metadata and spec), as the kind's create strategy does.
pub fn validate_create(kind: Kind, obj: &Value) -> Errors {
    let mut errs = meta::object_meta(kind, &obj["metadata"]);
    errs.extend(workloads::spec(kind, obj));
    errs.extend(corekinds::spec(kind, obj));
    errs
}

/// Validates an update of `old` to `new`: the new object as on create, plus the fields the
/// kind does not let change.
pub fn validate_update(kind: Kind, old: &Value, new: &Value) -> Errors {
    let mut errs = validate_create(kind, new);
    errs.extend(meta::immutable_meta(&old["metadata"], &new["metadata"]));
    errs.extend(workloads::immutable(kind, old, new));
    errs.extend(corekinds::immutable(kind, old, new));
    errs
}

/// Runs `validate_create` and turns errors into the 422 Status.
pub fn check_create(kind: Kind, obj: &Value) -> Result<(), ApiError> {
    let errs = validate_create(kind, obj);
    if errs.is_empty() {
        return Ok(());
    }
    Err(invalid(kind, name_of(obj), &errs))
}

/// Runs `validate_update` and turns errors into the 422 Status.
pub fn check_update(kind: Kind, old: &Value, new: &Value) -> Result<(), ApiError> {
    let errs = validate_update(kind, old, new);
    if errs.is_empty() {
        return Ok(());
    }
    Err(invalid(kind, name_of(old), &errs))
}

fn name_of(obj: &Value) -> &str {
    obj["metadata"]["name"].as_str().unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_shape_matches_new_invalid() {
        let e = invalid(
            Kind::Deployment,
            "x",
            &[
                FieldError::required("spec.selector", ""),
                FieldError::invalid(
                    "spec.template.metadata.labels",
                    go_value(&json!({"app": "x"})),
                    "`selector` does not match template `labels`",
                ),
            ],
        );
        assert_eq!(
            e.message,
            "Deployment.apps \"x\" is invalid: [spec.selector: Required value, spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"x\"}: `selector` does not match template `labels`]"
        );
        let d = e.details.unwrap();
        assert_eq!(d["kind"], "Deployment");
        assert_eq!(d["group"], "apps");
        assert_eq!(d["causes"][0]["reason"], "FieldValueRequired");
        assert_eq!(d["causes"][0]["message"], "Required value");
        assert_eq!(d["causes"][1]["field"], "spec.template.metadata.labels");
    }

    #[test]
    fn not_supported_lists_values() {
        let e = FieldError::not_supported("spec.taints[0].effect", &json!("Bogus"), &["A", "B"]);
        assert_eq!(
            e.message(),
            "spec.taints[0].effect: Unsupported value: \"Bogus\": supported values: \"A\", \"B\""
        );
    }
}
