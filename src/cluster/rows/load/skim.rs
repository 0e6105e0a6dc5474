//! The same `wire` shapes as the serde decoder's, read from a watch line with [`Skim`]:
//! every field serde reads is read here with the same mapping, the rest is skipped. Where
//! serde would refuse a repeated field, a `null` or a value of another type, this reader
//! gives up ([`Unhandled`]) and the line goes to serde instead.

use serde::de::IgnoredAny;

use super::wire::{
    Condition, Container, Meta, OwnerRef, Pod, Requests, Spec, Status, cpu_of, memory_of, phase_of,
    ready_of, true_of,
};
use crate::cluster::json_skim::{Skim, Skimmed, Unhandled};

/// The pod of `{"type":"ADDED","object":{…}}`. The API server writes the type first; an
/// object before its type is stepped over and read once the type is known.
pub(super) fn added(line: &[u8]) -> Option<Pod> {
    let mut s = Skim::new(line);
    let (mut added, mut pod, mut later) = (None, None, None);
    s.object(|key, s| match key {
        b"type" if added.is_none() => {
            added = Some(s.str()? == "ADDED");
            Ok(())
        }
        b"object" if pod.is_none() && later.is_none() => match added {
            Some(true) => {
                pod = Some(read_pod(s)?);
                Ok(())
            }
            Some(false) => Err(Unhandled),
            None => {
                let start = s.pos();
                s.skip()?;
                later = Some(start..s.pos());
                Ok(())
            }
        },
        _ => Err(Unhandled),
    })
    .ok()?;
    s.end().ok()?;
    if added != Some(true) {
        return None;
    }
    match (pod, later) {
        (Some(pod), _) => Some(pod),
        (None, Some(range)) => {
            let mut s = Skim::new(&line[range]);
            let pod = read_pod(&mut s).ok()?;
            s.end().ok()?;
            Some(pod)
        }
        (None, None) => None,
    }
}

/// Marks a field read; a second one is [`Unhandled`] (serde refuses duplicate fields).
fn once(seen: &mut bool) -> Skimmed<()> {
    if std::mem::replace(seen, true) {
        return Err(Unhandled);
    }
    Ok(())
}

/// A string mapped by `f`; `null` maps as `""`, as the serde decoder's `StrAs` does.
fn str_as<T>(s: &mut Skim, f: fn(&str) -> T) -> Skimmed<T> {
    if s.null() {
        return Ok(f(""));
    }
    s.str().map(f)
}

fn read_pod(s: &mut Skim) -> Skimmed<Pod> {
    let mut pod = Pod::default();
    let mut seen = [false; 3];
    s.object(|key, s| match key {
        b"metadata" => {
            once(&mut seen[0])?;
            pod.metadata = read_meta(s)?;
            Ok(())
        }
        b"spec" => {
            once(&mut seen[1])?;
            pod.spec = read_spec(s)?;
            Ok(())
        }
        b"status" => {
            once(&mut seen[2])?;
            pod.status = read_status(s)?;
            Ok(())
        }
        _ => s.skip(),
    })?;
    Ok(pod)
}

fn read_meta(s: &mut Skim) -> Skimmed<Meta> {
    let mut meta = Meta::default();
    let mut seen = [false; 2];
    s.object(|key, s| match key {
        b"deletionTimestamp" => {
            once(&mut seen[0])?;
            meta.deletion_timestamp = if s.null() {
                None
            } else {
                s.skip()?;
                Some(IgnoredAny)
            };
            Ok(())
        }
        b"ownerReferences" => {
            once(&mut seen[1])?;
            meta.owner_references = if s.null() {
                None
            } else {
                let mut owners = Vec::new();
                s.array(|s| {
                    owners.push(read_owner(s)?);
                    Ok(())
                })?;
                Some(owners)
            };
            Ok(())
        }
        _ => s.skip(),
    })?;
    Ok(meta)
}

fn read_owner(s: &mut Skim) -> Skimmed<OwnerRef> {
    let mut owner = OwnerRef::default();
    let mut seen = [false; 2];
    s.object(|key, s| match key {
        b"uid" => {
            once(&mut seen[0])?;
            owner.uid = s.str()?.to_string();
            Ok(())
        }
        b"controller" => {
            once(&mut seen[1])?;
            owner.controller = if s.null() { None } else { Some(s.bool()?) };
            Ok(())
        }
        _ => s.skip(),
    })?;
    Ok(owner)
}

fn read_spec(s: &mut Skim) -> Skimmed<Spec> {
    let mut spec = Spec::default();
    let mut seen = [false; 3];
    s.object(|key, s| match key {
        b"nodeName" => {
            once(&mut seen[0])?;
            spec.node_name = if s.null() {
                None
            } else {
                Some(s.str()?.to_string())
            };
            Ok(())
        }
        b"containers" => {
            once(&mut seen[1])?;
            spec.containers = read_containers(s)?;
            Ok(())
        }
        b"initContainers" => {
            once(&mut seen[2])?;
            spec.init_containers = read_containers(s)?;
            Ok(())
        }
        _ => s.skip(),
    })?;
    Ok(spec)
}

/// Each container's `resources.requests`.
fn read_containers(s: &mut Skim) -> Skimmed<Vec<Container>> {
    let mut containers = Vec::new();
    s.array(|s| {
        let mut c = Container::default();
        let mut seen = false;
        s.object(|key, s| match key {
            b"resources" => {
                once(&mut seen)?;
                let mut seen_requests = false;
                s.object(|key, s| match key {
                    b"requests" => {
                        once(&mut seen_requests)?;
                        c.resources.requests = read_requests(s)?;
                        Ok(())
                    }
                    _ => s.skip(),
                })
            }
            _ => s.skip(),
        })?;
        containers.push(c);
        Ok(())
    })?;
    Ok(containers)
}

fn read_requests(s: &mut Skim) -> Skimmed<Requests> {
    let mut r = Requests::default();
    let mut seen = [false; 2];
    s.object(|key, s| match key {
        b"cpu" => {
            once(&mut seen[0])?;
            r.cpu = str_as(s, cpu_of)?;
            Ok(())
        }
        b"memory" => {
            once(&mut seen[1])?;
            r.memory = str_as(s, memory_of)?;
            Ok(())
        }
        _ => s.skip(),
    })?;
    Ok(r)
}

fn read_status(s: &mut Skim) -> Skimmed<Status> {
    let mut status = Status::default();
    let mut seen = [false; 2];
    s.object(|key, s| match key {
        b"phase" => {
            once(&mut seen[0])?;
            status.phase = str_as(s, phase_of)?;
            Ok(())
        }
        b"conditions" => {
            once(&mut seen[1])?;
            s.array(|s| {
                let mut c = Condition::default();
                let mut seen = [false; 2];
                s.object(|key, s| match key {
                    b"type" => {
                        once(&mut seen[0])?;
                        c.ready = str_as(s, ready_of)?;
                        Ok(())
                    }
                    b"status" => {
                        once(&mut seen[1])?;
                        c.status = str_as(s, true_of)?;
                        Ok(())
                    }
                    _ => s.skip(),
                })?;
                status.conditions.push(c);
                Ok(())
            })
        }
        _ => s.skip(),
    })?;
    Ok(status)
}

#[cfg(test)]
mod tests {
    use kube::api::WatchEvent;
    use serde_json::{Value, json};

    use super::super::PodLoad;

    const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/real-objects");

    fn real_pods() -> Vec<Value> {
        ["po.json", "po_init.json", "po_sidecar.json"]
            .iter()
            .map(|f| {
                let text = std::fs::read_to_string(format!("{FIXTURES}/{f}")).unwrap();
                serde_json::from_str(&text).unwrap()
            })
            .collect()
    }

    /// What serde_json reads of a watch line: the pod, or that it refuses the line.
    fn serde_reads(line: &str) -> Option<PodLoad> {
        match serde_json::from_str::<WatchEvent<PodLoad>>(line) {
            Ok(WatchEvent::Added(p)) => Some(p),
            _ => None,
        }
    }

    /// The skim's answer must be serde's whenever it gives one.
    fn agrees(line: &str) -> bool {
        match PodLoad::from_added_line(line.as_bytes()) {
            Some(p) => {
                assert_eq!(Some(p), serde_reads(line), "{line}");
                true
            }
            None => false,
        }
    }

    /// The line with the object first (serde_json's `Value` sorts keys); the API server's
    /// order, type first, is tested too.
    fn added(pod: &Value) -> String {
        json!({"type": "ADDED", "object": pod}).to_string()
    }

    #[test]
    fn real_pods_read_as_serde_reads_them_compact_or_pretty() {
        for pod in real_pods() {
            let pretty = format!(
                "{{\n  \"type\": \"ADDED\",\n  \"object\": {}\n}}\n",
                serde_json::to_string_pretty(&pod).unwrap()
            );
            let server_order = format!("{{\"type\":\"ADDED\",\"object\":{pod}}}\n");
            assert!(agrees(&added(&pod)));
            assert!(agrees(&pretty));
            assert!(agrees(&server_order));
        }
    }

    /// Every value of every real pod replaced in turn by values of other types: wherever the
    /// skim answers, serde gives the same pod, and where serde refuses, the skim does not
    /// answer (the line goes to serde, which gives the error).
    #[test]
    fn any_value_replaced_reads_as_serde_reads_it() {
        let stand_ins = [
            json!(null),
            json!(7),
            json!(true),
            json!("q\"uoted ] }"),
            json!("Ready"),
            json!({}),
            json!([]),
            json!([{"a": "}"}]),
        ];
        let (mut answered, mut tried) = (0, 0);
        for pod in real_pods() {
            for path in paths(&pod, String::new()) {
                for v in &stand_ins {
                    let mut changed = pod.clone();
                    *changed.pointer_mut(&path).unwrap() = v.clone();
                    tried += 1;
                    answered += usize::from(agrees(&added(&changed)));
                }
            }
        }
        // Most replacements land in skipped fields, which the skim reads.
        assert!(answered * 2 > tried, "{answered} of {tried}");
    }

    /// JSON pointers of every value under `v`.
    fn paths(v: &Value, at: String) -> Vec<String> {
        let children: Vec<(String, &Value)> = match v {
            Value::Object(m) => m
                .iter()
                .map(|(k, c)| {
                    (
                        format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")),
                        c,
                    )
                })
                .collect(),
            Value::Array(a) => a
                .iter()
                .enumerate()
                .map(|(i, c)| (format!("{at}/{i}"), c))
                .collect(),
            _ => vec![],
        };
        let mut out = vec![];
        for (p, c) in children {
            out.extend(paths(c, p.clone()));
            out.push(p);
        }
        out
    }

    #[test]
    fn lines_the_skim_leaves_to_serde() {
        let pod = &real_pods()[0];
        let text = added(pod);
        let cases = [
            // Another event, no object, an unknown top-level field.
            text.replace("\"ADDED\"", "\"MODIFIED\""),
            "{\"type\":\"ADDED\"}".to_string(),
            text.replacen('{', "{\"extra\":1,", 1),
            // A field serde reads given twice; an escape in a kept string or a key.
            text.replacen(
                "\"spec\":{",
                "\"spec\":{\"nodeName\":\"a\",\"nodeName\":\"b\",",
                1,
            ),
            text.replacen("\"phase\":\"", "\"phase\":\"\\u0052", 1),
            text.replacen("\"spec\":", "\"sp\\u0065c\":", 1),
            // Not JSON after the object.
            format!("{text} x"),
        ];
        for line in &cases {
            assert_eq!(PodLoad::from_added_line(line.as_bytes()), None, "{line}");
        }
        // The field given twice where serde ignores the field: both read the pod.
        let twice = text.replacen(
            "\"spec\":{",
            "\"spec\":{\"dnsPolicy\":1,\"dnsPolicy\":2,",
            1,
        );
        assert!(agrees(&twice));
    }
}
