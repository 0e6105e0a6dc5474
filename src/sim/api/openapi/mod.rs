//! `/openapi/v2` and `/openapi/v3`: the real Kubernetes schemas of the kinds the simulator
//! serves (assets/openapi/swagger.json, cut from upstream by scripts/openapi-subset.py), so
//! kubectl validates manifests (`create -f`, `apply`, `replace`, `edit`, `diff` on kubectl
//! ≤ 1.28 need v2), computes strategic merge patches and `explain`s fields as on a real cluster.
//! kubectl ≤ 1.28 asks for v2 as gnostic protobuf (`gnostic.rs`).

mod gnostic;

use std::sync::OnceLock;

use serde_json::{Map, Value, json};

use super::discovery::groups;
use crate::sim::kinds::Kind;

/// The media type kubectl asks `/openapi/v2` for.
pub const V2_PROTOBUF: &str = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf";
/// The media type kube-openapi answers with (`@` is not valid in a Content-Type for Go's mime).
pub const V2_PROTOBUF_ANSWER: &str = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf";

static SWAGGER: &str = include_str!("../../../../assets/openapi/swagger.json");

/// The v2 document, parsed once.
fn swagger() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| serde_json::from_str(SWAGGER).expect("assets/openapi/swagger.json parses"))
}

/// `/openapi/v2` as JSON, with the server's version in `info`.
pub fn v2_json(git_version: &str) -> Value {
    let mut doc = swagger().clone();
    doc["info"]["version"] = json!(git_version);
    doc
}

/// The last encoded v2 protobuf document and the server version it names.
type Encoded = std::sync::Mutex<Option<(String, Vec<u8>)>>;

/// `/openapi/v2` as gnostic protobuf (what kubectl ≤ 1.28 decodes), encoded once per version.
pub fn v2_protobuf(git_version: &str) -> Vec<u8> {
    static CACHE: OnceLock<Encoded> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let mut cache = cache.lock().unwrap_or_else(|p| p.into_inner());
    match cache.as_ref() {
        Some((v, bytes)) if v == git_version => bytes.clone(),
        _ => {
            let bytes = gnostic::encode(&v2_json(git_version));
            *cache = Some((git_version.to_string(), bytes.clone()));
            bytes
        }
    }
}

/// `/openapi/v3`: one entry per served group/version.
pub fn v3_root() -> Value {
    let mut paths = Map::new();
    paths.insert(
        "api/v1".into(),
        json!({"serverRelativeURL": "/openapi/v3/api/v1?hash=kubedrain-sim"}),
    );
    for g in groups() {
        paths.insert(
            format!("apis/{g}/v1"),
            json!({"serverRelativeURL": format!("/openapi/v3/apis/{g}/v1?hash=kubedrain-sim")}),
        );
    }
    json!({"paths": paths})
}

/// `/openapi/v3/api/v1`, `/openapi/v3/apis/{group}/v1`: the PATCH operations with their GVK and
/// the `fieldValidation` parameter (kubectl learns from them that the server validates), and
/// the schemas of every served kind (`kubectl explain`).
pub fn v3_group_version(group: &str, version: &str, git_version: &str) -> Option<Value> {
    if version != "v1" || (!group.is_empty() && !groups().contains(&group)) {
        return None;
    }
    let prefix = if group.is_empty() {
        "/api/v1".to_string()
    } else {
        format!("/apis/{group}/v1")
    };
    let mut paths = Map::new();
    for k in Kind::ALL.into_iter().filter(|k| k.group() == group) {
        let path = if k.namespaced() {
            format!("{prefix}/namespaces/{{namespace}}/{}/{{name}}", k.plural())
        } else {
            format!("{prefix}/{}/{{name}}", k.plural())
        };
        let op = json!({
            "operationId": format!("patch{}", k.name()),
            "x-kubernetes-action": "patch",
            "x-kubernetes-group-version-kind": {"group": group, "version": "v1", "kind": k.name()},
            "parameters": [
                {"name": "dryRun", "in": "query", "schema": {"type": "string"}},
                {"name": "fieldManager", "in": "query", "schema": {"type": "string"}},
                {"name": "fieldValidation", "in": "query", "schema": {"type": "string"}},
                {"name": "force", "in": "query", "schema": {"type": "boolean"}},
            ],
            "responses": {"200": {"description": "OK"}},
        });
        paths.insert(path, json!({"patch": op}));
    }
    Some(json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": git_version},
        "paths": paths,
        "components": {"schemas": v3_schemas()},
    }))
}

/// The v2 definitions as v3 component schemas (`$ref`s rewritten), converted once.
fn v3_schemas() -> &'static Value {
    static SCHEMAS: OnceLock<Value> = OnceLock::new();
    SCHEMAS.get_or_init(|| {
        let mut defs = swagger()["definitions"].clone();
        rewrite_refs(&mut defs);
        defs
    })
}

fn rewrite_refs(v: &mut Value) {
    match v {
        Value::Object(o) => {
            for (k, child) in o.iter_mut() {
                match child {
                    Value::String(s) if k == "$ref" => {
                        *s = s.replace("#/definitions/", "#/components/schemas/");
                    }
                    _ => rewrite_refs(child),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(rewrite_refs),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_served_kind_has_its_schema_with_its_gvk() {
        let defs = &swagger()["definitions"];
        for k in Kind::ALL {
            let found = defs.as_object().unwrap().values().any(|d| {
                d["x-kubernetes-group-version-kind"]
                    .as_array()
                    .is_some_and(|gvks| {
                        gvks.iter()
                            .any(|g| g["kind"] == k.name() && g["group"] == k.group())
                    })
            });
            assert!(found, "{} has a schema", k.name());
        }
    }

    #[test]
    fn v3_refs_point_into_components() {
        let doc = v3_group_version("apps", "v1", "v1.25.4").unwrap();
        let text = doc.to_string();
        assert!(!text.contains("#/definitions/"));
        let d = &doc["components"]["schemas"]["io.k8s.api.apps.v1.Deployment"];
        assert_eq!(
            d["properties"]["spec"]["$ref"],
            "#/components/schemas/io.k8s.api.apps.v1.DeploymentSpec"
        );
        assert!(v3_group_version("example.com", "v1", "v1.25.4").is_none());
    }
}
