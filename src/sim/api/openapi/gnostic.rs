//! The OpenAPI v2 document as gnostic's protobuf (`openapi.v2.Document`, proto/gnostic), the
//! form kubectl ≤ 1.28 reads `/openapi/v2` in. kubectl uses the definitions (validation,
//! strategic merge, explain) and the PATCH operations' query parameters (does the server
//! validate fields itself?); the other parts of paths are left out.

use std::sync::OnceLock;

use prost_reflect::{DescriptorPool, DynamicMessage, Value as Pb};
use serde_json::Value;

static DESCRIPTORS: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/gnostic.desc"));

fn pool() -> &'static DescriptorPool {
    static POOL: OnceLock<DescriptorPool> = OnceLock::new();
    POOL.get_or_init(|| DescriptorPool::decode(DESCRIPTORS).expect("build.rs wrote a valid set"))
}

fn new(name: &str) -> DynamicMessage {
    let d = pool()
        .get_message_by_name(&format!("openapi.v2.{name}"))
        .unwrap_or_else(|| panic!("openapi.v2.{name} is in OpenAPIv2.proto"));
    DynamicMessage::new(d)
}

fn set(m: &mut DynamicMessage, field: &str, v: Pb) {
    m.set_field_by_name(field, v);
}

fn string(s: &str) -> Pb {
    Pb::String(s.to_string())
}

/// Encodes a swagger 2.0 JSON document.
pub fn encode(doc: &Value) -> Vec<u8> {
    use prost_reflect::prost::Message;
    let mut d = new("Document");
    set(
        &mut d,
        "swagger",
        string(doc["swagger"].as_str().unwrap_or("2.0")),
    );
    let mut info = new("Info");
    set(
        &mut info,
        "title",
        string(doc["info"]["title"].as_str().unwrap_or("")),
    );
    set(
        &mut info,
        "version",
        string(doc["info"]["version"].as_str().unwrap_or("")),
    );
    set(&mut d, "info", Pb::Message(info));
    set(&mut d, "paths", Pb::Message(paths(doc)));
    let mut defs = new("Definitions");
    let named = named_schemas(doc["definitions"].as_object());
    set(&mut defs, "additional_properties", Pb::List(named));
    set(&mut d, "definitions", Pb::Message(defs));
    d.encode_to_vec()
}

fn named_schemas(props: Option<&serde_json::Map<String, Value>>) -> Vec<Pb> {
    props
        .into_iter()
        .flatten()
        .map(|(name, s)| {
            let mut n = new("NamedSchema");
            set(&mut n, "name", string(name));
            set(&mut n, "value", Pb::Message(schema(s)));
            Pb::Message(n)
        })
        .collect()
}

/// Only the PATCH operations: their GVK and query parameters.
fn paths(doc: &Value) -> DynamicMessage {
    let mut items = Vec::new();
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        let Some(patch) = item.get("patch") else {
            continue;
        };
        let mut op = new("Operation");
        if let Some(id) = patch["operationId"].as_str() {
            set(&mut op, "operation_id", string(id));
        }
        let params: Vec<Pb> = patch["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| resolve(doc, p))
            .filter(|p| p["in"] == "query")
            .map(query_parameter)
            .collect();
        set(&mut op, "parameters", Pb::List(params));
        set(&mut op, "vendor_extension", Pb::List(extensions(patch)));
        let mut path_item = new("PathItem");
        set(&mut path_item, "patch", Pb::Message(op));
        let mut named = new("NamedPathItem");
        set(&mut named, "name", string(path));
        set(&mut named, "value", Pb::Message(path_item));
        items.push(Pb::Message(named));
    }
    let mut paths = new("Paths");
    set(&mut paths, "path", Pb::List(items));
    paths
}

fn resolve<'a>(doc: &'a Value, p: &'a Value) -> &'a Value {
    match p["$ref"]
        .as_str()
        .and_then(|r| r.strip_prefix("#/parameters/"))
    {
        Some(name) => &doc["parameters"][name],
        None => p,
    }
}

fn query_parameter(p: &Value) -> Pb {
    let mut q = new("QueryParameterSubSchema");
    for field in ["name", "in", "description", "type"] {
        if let Some(s) = p[field].as_str() {
            set(&mut q, field, string(s));
        }
    }
    if p["uniqueItems"] == true {
        set(&mut q, "unique_items", Pb::Bool(true));
    }
    let mut non_body = new("NonBodyParameter");
    set(&mut non_body, "query_parameter_sub_schema", Pb::Message(q));
    let mut param = new("Parameter");
    set(&mut param, "non_body_parameter", Pb::Message(non_body));
    let mut item = new("ParametersItem");
    set(&mut item, "parameter", Pb::Message(param));
    Pb::Message(item)
}

/// `x-…` keys as gnostic `NamedAny`s holding YAML, which kube-openapi parses back.
fn extensions(v: &Value) -> Vec<Pb> {
    v.as_object()
        .into_iter()
        .flatten()
        .filter(|(k, _)| k.starts_with("x-"))
        .map(|(k, v)| {
            let mut n = new("NamedAny");
            set(&mut n, "name", string(k));
            set(&mut n, "value", any(v));
            Pb::Message(n)
        })
        .collect()
}

fn any(v: &Value) -> Pb {
    let mut a = new("Any");
    let yaml = serde_saphyr::to_string(v).unwrap_or_default();
    set(&mut a, "yaml", Pb::String(yaml));
    Pb::Message(a)
}

fn schema(v: &Value) -> DynamicMessage {
    let mut s = new("Schema");
    for (k, val) in v.as_object().into_iter().flatten() {
        match k.as_str() {
            "$ref" => set(&mut s, "_ref", string(val.as_str().unwrap_or(""))),
            "format" | "title" | "description" | "pattern" | "discriminator" => {
                set(&mut s, k, string(val.as_str().unwrap_or("")))
            }
            "default" | "example" => set(&mut s, k, any(val)),
            "multipleOf" | "maximum" | "minimum" => {
                set(&mut s, &snake(k), Pb::F64(val.as_f64().unwrap_or(0.0)))
            }
            "exclusiveMaximum" | "exclusiveMinimum" | "uniqueItems" | "readOnly" => {
                set(&mut s, &snake(k), Pb::Bool(val == true))
            }
            "maxLength" | "minLength" | "maxItems" | "minItems" | "maxProperties"
            | "minProperties" => set(&mut s, &snake(k), Pb::I64(val.as_i64().unwrap_or(0))),
            "required" => set(&mut s, "required", strings(val)),
            "enum" => {
                let values = val.as_array().into_iter().flatten().map(any).collect();
                set(&mut s, "enum", Pb::List(values))
            }
            "type" => {
                let mut t = new("TypeItem");
                let values = match val {
                    Value::String(one) => Pb::List(vec![string(one)]),
                    _ => strings(val),
                };
                set(&mut t, "value", values);
                set(&mut s, "type", Pb::Message(t));
            }
            "items" => {
                let mut items = new("ItemsItem");
                let list = match val {
                    Value::Array(many) => many.iter().map(|i| Pb::Message(schema(i))).collect(),
                    one => vec![Pb::Message(schema(one))],
                };
                set(&mut items, "schema", Pb::List(list));
                set(&mut s, "items", Pb::Message(items));
            }
            "allOf" => {
                let list = val.as_array().into_iter().flatten();
                set(
                    &mut s,
                    "all_of",
                    Pb::List(list.map(|i| Pb::Message(schema(i))).collect()),
                )
            }
            "additionalProperties" => {
                let mut a = new("AdditionalPropertiesItem");
                match val {
                    Value::Bool(b) => set(&mut a, "boolean", Pb::Bool(*b)),
                    other => set(&mut a, "schema", Pb::Message(schema(other))),
                }
                set(&mut s, "additional_properties", Pb::Message(a));
            }
            "properties" => {
                let mut p = new("Properties");
                let named = named_schemas(val.as_object());
                set(&mut p, "additional_properties", Pb::List(named));
                set(&mut s, "properties", Pb::Message(p));
            }
            _ => {}
        }
    }
    set(&mut s, "vendor_extension", Pb::List(extensions(v)));
    s
}

fn strings(v: &Value) -> Pb {
    let items = v.as_array().into_iter().flatten();
    Pb::List(items.filter_map(|s| s.as_str()).map(string).collect())
}

/// `maxLength` → `max_length`.
fn snake(camel: &str) -> String {
    camel
        .chars()
        .flat_map(|c| {
            let lower = c.to_ascii_lowercase();
            let sep = c.is_ascii_uppercase().then_some('_');
            sep.into_iter().chain([lower])
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_schema_round_trips_through_the_descriptor() {
        let doc = json!({
            "swagger": "2.0",
            "info": {"title": "Kubernetes", "version": "v1.25.4"},
            "paths": {"/apis/apps/v1/namespaces/{namespace}/deployments/{name}": {"patch": {
                "operationId": "patchAppsV1NamespacedDeployment",
                "parameters": [{"$ref": "#/parameters/fv"}, {"in": "body", "name": "body"}],
                "x-kubernetes-group-version-kind": {"group": "apps", "kind": "Deployment", "version": "v1"},
            }}},
            "parameters": {"fv": {"in": "query", "name": "fieldValidation", "type": "string"}},
            "definitions": {"D": {
                "type": "object", "required": ["spec"],
                "properties": {"spec": {"$ref": "#/definitions/S"}, "n": {"type": "integer", "format": "int32"}},
                "x-kubernetes-group-version-kind": [{"group": "apps", "kind": "Deployment", "version": "v1"}],
            }},
        });
        let bytes = encode(&doc);
        let d = pool().get_message_by_name("openapi.v2.Document").unwrap();
        let back = DynamicMessage::decode(d, bytes.as_slice()).unwrap();
        // Walk the decoded message by field names: the fields kube-openapi reads.
        let get = |m: &DynamicMessage, f: &str| m.get_field_by_name(f).unwrap().into_owned();
        let defs = get(&back, "definitions");
        let defs = get(defs.as_message().unwrap(), "additional_properties");
        let named = defs.as_list().unwrap()[0].as_message().unwrap().clone();
        assert_eq!(get(&named, "name").as_str(), Some("D"));
        let schema = get(&named, "value").as_message().unwrap().clone();
        let props = get(&schema, "properties");
        let props = get(props.as_message().unwrap(), "additional_properties");
        let spec = props
            .as_list()
            .unwrap()
            .iter()
            .map(|p| p.as_message().unwrap());
        let spec = spec
            .clone()
            .find(|p| get(p, "name").as_str() == Some("spec"))
            .unwrap();
        let spec = get(spec, "value").as_message().unwrap().clone();
        assert_eq!(get(&spec, "_ref").as_str(), Some("#/definitions/S"));
        let ext = get(&schema, "vendor_extension");
        let ext = ext.as_list().unwrap()[0].as_message().unwrap().clone();
        assert_eq!(
            get(&ext, "name").as_str(),
            Some("x-kubernetes-group-version-kind")
        );
        let yaml = get(&ext, "value").as_message().unwrap().clone();
        assert!(
            get(&yaml, "yaml")
                .as_str()
                .unwrap()
                .contains("kind: Deployment")
        );

        let paths = get(&back, "paths");
        let path = get(paths.as_message().unwrap(), "path");
        let path = path.as_list().unwrap()[0].as_message().unwrap().clone();
        let op = get(&get(&path, "value").as_message().unwrap().clone(), "patch");
        let params = get(op.as_message().unwrap(), "parameters");
        assert_eq!(
            params.as_list().unwrap().len(),
            1,
            "the body parameter is left out"
        );
        assert_eq!(snake("maxProperties"), "max_properties");
    }
}
