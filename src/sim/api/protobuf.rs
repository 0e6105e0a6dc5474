//! Protobuf request bodies (`application/vnd.kubernetes.protobuf`), decoded with the Kubernetes
//! `.proto` definitions (proto/, compiled by build.rs) into the JSON the API takes: the `k8s\0`
//! envelope holds a `runtime.Unknown` whose `typeMeta` names the message of `raw`.
//!
//! Go's protobuf marshalling writes every non-pointer field, so an empty string is dropped
//! (the JSON encoder's `omitempty` would drop it too); zero numbers and `false` are kept, which
//! Go's decoder cannot tell from absent either.

use std::sync::OnceLock;

use base64::Engine;
use prost_reflect::{DescriptorPool, DynamicMessage, MapKey, MessageDescriptor, ReflectMessage};
use serde_json::{Map, Value, json};

static DESCRIPTORS: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/k8s.desc"));

/// The compiled descriptors, decoded once.
fn pool() -> &'static DescriptorPool {
    static POOL: OnceLock<DescriptorPool> = OnceLock::new();
    POOL.get_or_init(|| DescriptorPool::decode(DESCRIPTORS).expect("build.rs wrote a valid set"))
}

/// Fields whose Go struct is embedded with `json:",inline"`: their fields belong to the parent.
const INLINE: &[(&str, &str)] = &[
    ("api.core.v1.Volume", "volumeSource"),
    ("api.core.v1.PersistentVolumeSpec", "persistentVolumeSource"),
    ("api.core.v1.Probe", "handler"),
    ("api.core.v1.EphemeralContainer", "ephemeralContainerCommon"),
];

/// A protobuf body that does not decode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtobufError {
    /// Not the Kubernetes envelope.
    #[error("the body does not start with the Kubernetes protobuf magic \"k8s\\x00\"")]
    NoMagic,
    /// The envelope does not decode (prost's words: prost is not a dependency of ours).
    #[error("decoding runtime.Unknown: {0}")]
    Envelope(String),
    /// The envelope has no `typeMeta`.
    #[error("runtime.Unknown without typeMeta")]
    NoTypeMeta,
    /// The envelope has no `raw` object.
    #[error("runtime.Unknown without raw")]
    NoRaw,
    /// No message for the type (`what`: a message name, or `apiVersion kind`).
    #[error("no protobuf definition for {0}")]
    NoDefinition(String),
    /// The object does not decode as its type.
    #[error("decoding {api_version} {kind}: {error}")]
    Object {
        api_version: String,
        kind: String,
        error: String,
    },
}

/// Decodes a protobuf body into API JSON (with `apiVersion` and `kind`), or says why not.
pub fn decode(body: &[u8]) -> Result<Value, ProtobufError> {
    let unknown = body.strip_prefix(b"k8s\0").ok_or(ProtobufError::NoMagic)?;
    let envelope = message("apimachinery.pkg.runtime.Unknown")?;
    let unknown = DynamicMessage::decode(envelope, unknown)
        .map_err(|e| ProtobufError::Envelope(e.to_string()))?;
    let type_meta = unknown
        .get_field_by_name("typeMeta")
        .ok_or(ProtobufError::NoTypeMeta)?;
    let type_meta = type_meta.as_message().ok_or(ProtobufError::NoTypeMeta)?;
    let field = |name: &str| {
        type_meta
            .get_field_by_name(name)
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    };
    let (api_version, kind) = (field("apiVersion"), field("kind"));
    let raw = unknown
        .get_field_by_name("raw")
        .ok_or(ProtobufError::NoRaw)?;
    let raw = raw.as_bytes().ok_or(ProtobufError::NoRaw)?;
    let descriptor = message_for(&api_version, &kind)?;
    let object = DynamicMessage::decode(descriptor, raw.as_ref()).map_err(|error| {
        ProtobufError::Object {
            api_version: api_version.clone(),
            kind: kind.clone(),
            error: error.to_string(),
        }
    })?;
    let mut json = to_json(&object);
    if let Some(o) = json.as_object_mut() {
        o.insert("apiVersion".into(), json!(api_version));
        o.insert("kind".into(), json!(kind));
    }
    Ok(json)
}

fn message(name: &str) -> Result<MessageDescriptor, ProtobufError> {
    pool()
        .get_message_by_name(name)
        .ok_or_else(|| ProtobufError::NoDefinition(name.to_string()))
}

/// The message for `apiVersion`/`kind`: the group's package (`apps/v1` → `api.apps.v1`,
/// `rbac.authorization.k8s.io/v1` → `api.rbac.v1`, `v1` → `api.core.v1`), else meta/v1's
/// (`DeleteOptions`, which clients send under their resource's group version).
fn message_for(api_version: &str, kind: &str) -> Result<MessageDescriptor, ProtobufError> {
    let (group, version) = api_version.split_once('/').unwrap_or(("core", api_version));
    let package = group.split('.').next().unwrap_or(group);
    message(&format!("api.{package}.{version}.{kind}"))
        .or_else(|_| message(&format!("apimachinery.pkg.apis.meta.v1.{kind}")))
        .map_err(|_| ProtobufError::NoDefinition(format!("{api_version} {kind}")))
}

/// A message as the JSON Go's encoder writes for the same struct.
fn to_json(m: &DynamicMessage) -> Value {
    // Every name below is a field of the message matched, so the lookup finds it.
    let get = |name: &str| {
        m.get_field_by_name(name)
            .unwrap_or(std::borrow::Cow::Owned(prost_reflect::Value::Bool(false)))
    };
    match m.descriptor().full_name() {
        "apimachinery.pkg.util.intstr.IntOrString" => match get("type").as_i64() {
            Some(1) => json!(get("strVal").as_str().unwrap_or("")),
            _ => json!(get("intVal").as_i32().unwrap_or(0)),
        },
        "apimachinery.pkg.api.resource.Quantity" => json!(get("string").as_str().unwrap_or("")),
        "apimachinery.pkg.apis.meta.v1.Time" => time(&get("seconds"), 0, false),
        "apimachinery.pkg.apis.meta.v1.MicroTime" => {
            time(&get("seconds"), get("nanos").as_i32().unwrap_or(0), true)
        }
        "apimachinery.pkg.apis.meta.v1.FieldsV1" | "apimachinery.pkg.runtime.RawExtension" => {
            let raw = get("raw");
            raw.as_bytes()
                .and_then(|b| serde_json::from_slice(b).ok())
                .unwrap_or(Value::Null)
        }
        name => {
            let mut out = Map::new();
            for (field, value) in m.fields() {
                let v = value_json(value);
                if v == json!("") {
                    continue;
                }
                if INLINE.contains(&(name, field.name()))
                    && let Value::Object(inner) = v
                {
                    out.extend(inner);
                    continue;
                }
                out.insert(field.json_name().to_string(), v);
            }
            Value::Object(out)
        }
    }
}

fn value_json(v: &prost_reflect::Value) -> Value {
    use prost_reflect::Value as V;
    match v {
        V::Bool(b) => json!(b),
        V::I32(n) | V::EnumNumber(n) => json!(n),
        V::I64(n) => json!(n),
        V::U32(n) => json!(n),
        V::U64(n) => json!(n),
        V::F32(n) => json!(n),
        V::F64(n) => json!(n),
        V::String(s) => json!(s),
        V::Bytes(b) => json!(base64::engine::general_purpose::STANDARD.encode(b)),
        V::Message(m) => to_json(m),
        V::List(items) => Value::Array(items.iter().map(value_json).collect()),
        V::Map(entries) => Value::Object(
            entries
                .iter()
                .map(|(k, v)| (map_key(k), value_json(v)))
                .collect(),
        ),
    }
}

fn map_key(k: &MapKey) -> String {
    match k {
        MapKey::String(s) => s.clone(),
        MapKey::Bool(b) => b.to_string(),
        MapKey::I32(n) => n.to_string(),
        MapKey::I64(n) => n.to_string(),
        MapKey::U32(n) => n.to_string(),
        MapKey::U64(n) => n.to_string(),
    }
}

/// `metav1.Time` (seconds) and `MicroTime` (microseconds) in RFC 3339; the zero time is `null`.
fn time(seconds: &prost_reflect::Value, nanos: i32, micro: bool) -> Value {
    let seconds = seconds.as_i64().unwrap_or(0);
    if seconds == 0 && nanos == 0 {
        return Value::Null;
    }
    let Ok(t) = jiff::Timestamp::new(seconds, nanos) else {
        return Value::Null;
    };
    let format = if micro {
        "%Y-%m-%dT%H:%M:%S%.6fZ"
    } else {
        "%Y-%m-%dT%H:%M:%SZ"
    };
    json!(t.strftime(format).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ld(field: u64, bytes: &[u8]) -> Vec<u8> {
        let mut v = vec![(field << 3 | 2) as u8, bytes.len() as u8];
        v.extend_from_slice(bytes);
        v
    }

    fn envelope(api_version: &str, kind: &str, raw: &[u8]) -> Vec<u8> {
        let tm = [ld(1, api_version.as_bytes()), ld(2, kind.as_bytes())].concat();
        [b"k8s\0".to_vec(), ld(1, &tm), ld(2, raw)].concat()
    }

    #[test]
    fn decodes_a_deployment_envelope() {
        let label = [ld(1, b"app"), ld(2, b"web")].concat();
        let meta = [ld(1, b"web"), ld(2, b""), ld(11, &label)].concat();
        let container = [ld(1, b"nginx"), ld(2, b"nginx:1.25")].concat();
        let pod_spec = ld(2, &container);
        let template = [ld(1, &ld(11, &label)), ld(2, &pod_spec)].concat();
        let surge = [vec![1 << 3, 1], ld(3, b"25%")].concat();
        let strategy = ld(2, &ld(2, &surge));
        let spec = [
            vec![1 << 3, 3],
            ld(2, &ld(1, &label)),
            ld(3, &template),
            ld(4, &strategy),
        ]
        .concat();
        let raw = [ld(1, &meta), ld(2, &spec)].concat();
        let d = decode(&envelope("apps/v1", "Deployment", &raw)).unwrap();
        assert_eq!(d["apiVersion"], "apps/v1");
        assert_eq!(d["kind"], "Deployment");
        assert_eq!(d["metadata"]["name"], "web");
        assert!(
            d["metadata"].get("generateName").is_none(),
            "empty is unset"
        );
        assert_eq!(d["metadata"]["labels"]["app"], "web");
        assert_eq!(d["spec"]["replicas"], 3);
        assert_eq!(d["spec"]["selector"]["matchLabels"]["app"], "web");
        assert_eq!(
            d["spec"]["template"]["spec"]["containers"][0]["image"],
            "nginx:1.25"
        );
        assert_eq!(d["spec"]["strategy"]["rollingUpdate"]["maxSurge"], "25%");
    }

    #[test]
    fn decodes_delete_options_under_any_group_version() {
        // gracePeriodSeconds 0 (a pointer: meaningful), propagationPolicy, dryRun [All].
        let raw = [vec![1 << 3, 0], ld(4, b"Foreground"), ld(5, b"All")].concat();
        for gv in ["v1", "apps/v1", "policy/v1"] {
            let o = decode(&envelope(gv, "DeleteOptions", &raw)).unwrap();
            assert_eq!(o["gracePeriodSeconds"], 0, "{gv}");
            assert_eq!(o["propagationPolicy"], "Foreground");
            assert_eq!(o["dryRun"], json!(["All"]));
        }
    }

    #[test]
    fn quantities_times_and_inline_structs_read_as_json() {
        let qty = ld(1, b"250m");
        let limits = ld(1, &[ld(1, b"cpu"), ld(2, &qty)].concat());
        let volume = [ld(1, b"data"), ld(2, &ld(2, &[]))].concat(); // emptyDir: {}
        let container = [ld(1, b"app"), ld(2, b"busybox"), ld(8, &limits)].concat();
        let spec = [ld(1, &volume), ld(2, &container)].concat();
        let created = [vec![1 << 3], encode_varint(1_700_000_000)].concat();
        let meta = [ld(1, b"p"), ld(8, &created)].concat();
        let raw = [ld(1, &meta), ld(2, &spec)].concat();
        let p = decode(&envelope("v1", "Pod", &raw)).unwrap();
        assert_eq!(
            p["spec"]["containers"][0]["resources"]["limits"]["cpu"],
            "250m"
        );
        assert_eq!(p["spec"]["volumes"][0]["name"], "data");
        assert_eq!(p["spec"]["volumes"][0]["emptyDir"], json!({}));
        assert_eq!(p["metadata"]["creationTimestamp"], "2023-11-14T22:13:20Z");
    }

    fn encode_varint(mut n: u64) -> Vec<u8> {
        let mut out = Vec::new();
        loop {
            let byte = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                out.push(byte);
                return out;
            }
            out.push(byte | 0x80);
        }
    }

    #[test]
    fn bad_bodies_say_what_is_wrong() {
        assert!(
            decode(b"not protobuf")
                .unwrap_err()
                .to_string()
                .contains("magic")
        );
        let e = decode(&envelope("example.com/v1", "Widget", &[]))
            .unwrap_err()
            .to_string();
        assert_eq!(e, "no protobuf definition for example.com/v1 Widget");
        let e = decode(&envelope("v1", "Pod", &[0xff, 0xff]))
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("decoding v1 Pod: "), "{e}");
    }
}
