//! Just enough Kubernetes protobuf to accept the objects kubectl's generators send that way
//! (`kubectl create namespace|deployment|job|poddisruptionbudget`, `kubectl run`): the
//! `k8s\0` envelope with a `runtime.Unknown`, decoded by small field tables into the same JSON
//! the API would take. Unknown fields are skipped.

use serde_json::{Map, Value, json};

/// How a protobuf field maps to JSON.
#[derive(Clone, Copy)]
enum F {
    Str,
    Int,
    Bool,
    Msg(&'static [Field]),
    RepStr,
    RepMsg(&'static [Field]),
    /// `map<string,string>` (repeated entries of key=1, value=2).
    StrMap,
    IntOrStr,
}

type Field = (u64, &'static str, F);

/// Optional (pointer) integer fields: an encoded 0 is meaningful.
const POINTER_INTS: &[&str] = &[
    "replicas",
    "parallelism",
    "completions",
    "backoffLimit",
    "activeDeadlineSeconds",
    "terminationGracePeriodSeconds",
];

const OBJECT_META: &[Field] = &[
    (1, "name", F::Str),
    (2, "generateName", F::Str),
    (3, "namespace", F::Str),
    (11, "labels", F::StrMap),
    (12, "annotations", F::StrMap),
    (14, "finalizers", F::RepStr),
];
const REQUIREMENT: &[Field] = &[
    (1, "key", F::Str),
    (2, "operator", F::Str),
    (3, "values", F::RepStr),
];
const LABEL_SELECTOR: &[Field] = &[
    (1, "matchLabels", F::StrMap),
    (2, "matchExpressions", F::RepMsg(REQUIREMENT)),
];
const PORT: &[Field] = &[
    (1, "name", F::Str),
    (2, "hostPort", F::Int),
    (3, "containerPort", F::Int),
    (4, "protocol", F::Str),
];
const ENV: &[Field] = &[(1, "name", F::Str), (2, "value", F::Str)];
const CONTAINER: &[Field] = &[
    (1, "name", F::Str),
    (2, "image", F::Str),
    (3, "command", F::RepStr),
    (4, "args", F::RepStr),
    (5, "workingDir", F::Str),
    (6, "ports", F::RepMsg(PORT)),
    (7, "env", F::RepMsg(ENV)),
    (13, "terminationMessagePath", F::Str),
    (14, "imagePullPolicy", F::Str),
    (16, "stdin", F::Bool),
    (18, "tty", F::Bool),
];
const POD_SPEC: &[Field] = &[
    (2, "containers", F::RepMsg(CONTAINER)),
    (3, "restartPolicy", F::Str),
    (4, "terminationGracePeriodSeconds", F::Int),
    (6, "dnsPolicy", F::Str),
    (7, "nodeSelector", F::StrMap),
    (8, "serviceAccountName", F::Str),
    (10, "nodeName", F::Str),
    (20, "initContainers", F::RepMsg(CONTAINER)),
    (19, "schedulerName", F::Str),
];
const POD_TEMPLATE: &[Field] = &[
    (1, "metadata", F::Msg(OBJECT_META)),
    (2, "spec", F::Msg(POD_SPEC)),
];
const DEPLOYMENT_SPEC: &[Field] = &[
    (1, "replicas", F::Int),
    (2, "selector", F::Msg(LABEL_SELECTOR)),
    (3, "template", F::Msg(POD_TEMPLATE)),
    (5, "minReadySeconds", F::Int),
];
const JOB_SPEC: &[Field] = &[
    (1, "parallelism", F::Int),
    (2, "completions", F::Int),
    (3, "activeDeadlineSeconds", F::Int),
    (4, "selector", F::Msg(LABEL_SELECTOR)),
    (6, "template", F::Msg(POD_TEMPLATE)),
    (7, "backoffLimit", F::Int),
];
const PDB_SPEC: &[Field] = &[
    (1, "minAvailable", F::IntOrStr),
    (2, "selector", F::Msg(LABEL_SELECTOR)),
    (3, "maxUnavailable", F::IntOrStr),
];

fn top_level(kind: &str) -> Option<&'static [Field]> {
    const NS: &[Field] = &[(1, "metadata", F::Msg(OBJECT_META))];
    const DEPLOY: &[Field] = &[
        (1, "metadata", F::Msg(OBJECT_META)),
        (2, "spec", F::Msg(DEPLOYMENT_SPEC)),
    ];
    const JOB: &[Field] = &[
        (1, "metadata", F::Msg(OBJECT_META)),
        (2, "spec", F::Msg(JOB_SPEC)),
    ];
    const PDB: &[Field] = &[
        (1, "metadata", F::Msg(OBJECT_META)),
        (2, "spec", F::Msg(PDB_SPEC)),
    ];
    const POD: &[Field] = &[
        (1, "metadata", F::Msg(OBJECT_META)),
        (2, "spec", F::Msg(POD_SPEC)),
    ];
    Some(match kind {
        "Namespace" => NS,
        // Their specs agree on replicas (1), selector (2) and template (3).
        "Deployment" | "ReplicaSet" | "StatefulSet" => DEPLOY,
        "Job" => JOB,
        "PodDisruptionBudget" => PDB,
        "Pod" => POD,
        _ => return None,
    })
}

struct Reader<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Reader<'a> {
    fn varint(&mut self) -> Option<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = *self.b.get(self.i)?;
            self.i += 1;
            v |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Some(v);
            }
        }
        None
    }

    fn bytes(&mut self) -> Option<&'a [u8]> {
        let n = usize::try_from(self.varint()?).ok()?;
        let out = self.b.get(self.i..self.i.checked_add(n)?)?;
        self.i += n;
        Some(out)
    }

    /// The next field: (number, wire type, varint value or bytes).
    fn field(&mut self) -> Option<(u64, u64, u64, &'a [u8])> {
        let tag = self.varint()?;
        let (num, wt) = (tag >> 3, tag & 7);
        match wt {
            0 => Some((num, wt, self.varint()?, &[])),
            1 => {
                self.i += 8;
                (self.i <= self.b.len()).then_some((num, wt, 0, &[]))
            }
            2 => Some((num, wt, 0, self.bytes()?)),
            5 => {
                self.i += 4;
                (self.i <= self.b.len()).then_some((num, wt, 0, &[]))
            }
            _ => None,
        }
    }

    fn done(&self) -> bool {
        self.i >= self.b.len()
    }
}

fn string(b: &[u8]) -> Option<Value> {
    Some(Value::String(std::str::from_utf8(b).ok()?.to_string()))
}

fn message(b: &[u8], schema: &[Field]) -> Option<Value> {
    let mut out = Map::new();
    let mut r = Reader { b, i: 0 };
    while !r.done() {
        let (num, wt, n, bytes) = r.field()?;
        let Some((_, name, kind)) = schema.iter().find(|f| f.0 == num) else {
            continue;
        };
        let name = name.to_string();
        match (*kind, wt) {
            // Go's non-pointer fields are always encoded: empty strings, false and 0 mean "unset",
            // except for pointer fields, where an explicit 0 is a value.
            (F::Str, 2) if !bytes.is_empty() => {
                out.insert(name, string(bytes)?);
            }
            (F::Int, 0) if (n != 0 || POINTER_INTS.contains(&name.as_str())) => {
                out.insert(name, json!(n as i64 as i32));
            }
            (F::Bool, 0) if n != 0 => {
                out.insert(name, json!(true));
            }
            (F::Msg(s), 2) => {
                let m = message(bytes, s)?;
                if m.as_object().is_some_and(|m| !m.is_empty()) {
                    out.insert(name, m);
                }
            }
            (F::RepStr, 2) => {
                let v = out.entry(name).or_insert_with(|| json!([]));
                v.as_array_mut()?.push(string(bytes)?);
            }
            (F::RepMsg(s), 2) => {
                let item = message(bytes, s)?;
                out.entry(name)
                    .or_insert_with(|| json!([]))
                    .as_array_mut()?
                    .push(item);
            }
            (F::StrMap, 2) => {
                let e = message(bytes, &[(1, "k", F::Str), (2, "v", F::Str)])?;
                let m = out.entry(name).or_insert_with(|| json!({}));
                m.as_object_mut()?.insert(
                    e["k"].as_str()?.to_string(),
                    e.get("v").cloned().unwrap_or(json!("")),
                );
            }
            (F::IntOrStr, 2) => {
                let v = message(
                    bytes,
                    &[
                        (1, "type", F::Int),
                        (2, "intVal", F::Int),
                        (3, "strVal", F::Str),
                    ],
                )?;
                let val = if v["type"].as_i64() == Some(1) {
                    v["strVal"].clone()
                } else {
                    json!(v["intVal"].as_i64().unwrap_or(0))
                };
                out.insert(name, val);
            }
            // A field this table types differently (another kind's spec): skip it.
            _ => {}
        }
    }
    Some(Value::Object(out))
}

/// Decodes a `application/vnd.kubernetes.protobuf` body into API JSON, for the kinds kubectl's
/// generators create; `None` when the body or kind is not one of those.
pub fn decode(body: &[u8]) -> Option<Value> {
    let unknown = body.strip_prefix(b"k8s\0")?;
    // runtime.Unknown: 1 typeMeta {1 apiVersion, 2 kind}, 2 raw (the object, binary).
    let (mut type_meta, mut raw) = (None, None);
    let mut r = Reader { b: unknown, i: 0 };
    while !r.done() {
        match r.field()? {
            (1, 2, _, b) => {
                type_meta = message(b, &[(1, "apiVersion", F::Str), (2, "kind", F::Str)])
            }
            (2, 2, _, b) => raw = Some(b),
            _ => {}
        }
    }
    let tm = type_meta?;
    let kind = tm["kind"].as_str()?;
    let mut obj = message(raw?, top_level(kind)?)?;
    obj["apiVersion"] = tm["apiVersion"].clone();
    obj["kind"] = json!(kind);
    Some(obj)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ld(field: u64, bytes: &[u8]) -> Vec<u8> {
        let mut v = vec![(field << 3 | 2) as u8, bytes.len() as u8];
        v.extend_from_slice(bytes);
        v
    }

    #[test]
    fn decodes_a_deployment_envelope() {
        let label = [ld(1, b"app"), ld(2, b"web")].concat();
        let meta = [ld(1, b"web"), ld(11, &label)].concat();
        let container = [ld(1, b"nginx"), ld(2, b"nginx:1.25")].concat();
        let pod_spec = ld(2, &container);
        let template = [ld(1, &ld(11, &label)), ld(2, &pod_spec)].concat();
        let spec = [vec![1 << 3, 3], ld(2, &ld(1, &label)), ld(3, &template)].concat();
        let raw = [ld(1, &meta), ld(2, &spec)].concat();
        let tm = [ld(1, b"apps/v1"), ld(2, b"Deployment")].concat();
        let body = [b"k8s\0".to_vec(), ld(1, &tm), ld(2, &raw)].concat();
        let d = decode(&body).unwrap();
        assert_eq!(d["kind"], "Deployment");
        assert_eq!(d["metadata"]["name"], "web");
        assert_eq!(d["metadata"]["labels"]["app"], "web");
        assert_eq!(d["spec"]["replicas"], 3);
        assert_eq!(d["spec"]["selector"]["matchLabels"]["app"], "web");
        assert_eq!(
            d["spec"]["template"]["spec"]["containers"][0]["image"],
            "nginx:1.25"
        );
        assert!(
            d["spec"]["template"]["metadata"].get("name").is_none(),
            "empty strings are unset"
        );
        assert!(decode(b"not protobuf").is_none());
    }
}
