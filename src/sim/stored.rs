//! One stored object version: its JSON, serialised once when it was written, and the few
//! fields that selectors and indexes read, so that neither has to decode it.
//!
//! A 6 KB pod decoded into `serde_json::Value` takes ~70 KB of heap (every map is a B-tree
//! node, every string its own allocation); kept as bytes it takes its size. Lists and watches
//! copy the bytes; whoever needs the object itself decodes it ([`Stored::value`]).

use std::borrow::Cow;

use serde_json::Value;

use super::api::selectors::{field_value, supported_fields};
use super::kinds::Kind;

/// Field paths every kind can be selected by, before the kind's own ones.
const META_FIELDS: [&str; 2] = ["metadata.name", "metadata.namespace"];

/// One version of an object, immutable; shared (`Arc`) by the store, watch history, list
/// snapshots and the controllers' index.
#[derive(Debug)]
pub struct Stored {
    kind: Kind,
    rv: u64,
    json: Box<[u8]>,
    labels: Box<[(Box<str>, Box<str>)]>,
    /// Values of the selectable fields, in [`selectable_fields`] order.
    fields: Box<[Box<str>]>,
}

/// The field paths a kind's field selectors may use, in the order [`Stored`] keeps them.
pub fn selectable_fields(kind: Kind) -> impl Iterator<Item = &'static str> {
    META_FIELDS
        .into_iter()
        .chain(supported_fields(kind).iter().copied())
}

thread_local! {
    /// A reused serialisation buffer: growing a fresh Vec to 6 KB reallocates it several times.
    static BUF: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// `obj` as JSON in an allocation of exactly its size.
fn serialise(obj: &Value) -> Box<[u8]> {
    BUF.with_borrow_mut(|buf| {
        buf.clear();
        // A Value always serialises (its map keys are strings).
        let _ = serde_json::to_writer(&mut *buf, obj);
        let out = Box::<[u8]>::from(&buf[..]);
        // A huge object should not pin its buffer for good.
        if buf.capacity() > 1 << 20 {
            *buf = Vec::new();
        }
        out
    })
}

impl Stored {
    /// Serialises `obj` (a JSON object with its final resourceVersion) once.
    pub fn new(kind: Kind, obj: &Value) -> Stored {
        let json = serialise(obj);
        let labels = obj["metadata"]["labels"]
            .as_object()
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| Some((k.as_str().into(), v.as_str()?.into())))
                    .collect()
            })
            .unwrap_or_default();
        let fields = selectable_fields(kind)
            .map(|f| field_value(obj, f).into_owned().into_boxed_str())
            .collect();
        Stored {
            kind,
            rv: super::store::rv_of(obj),
            json,
            labels,
            fields,
        }
    }

    /// The object's kind.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The numeric resourceVersion of this version.
    pub fn rv(&self) -> u64 {
        self.rv
    }

    /// The serialised object.
    pub fn json(&self) -> &[u8] {
        &self.json
    }

    /// The object, decoded.
    pub fn value(&self) -> Value {
        // The bytes came from serialising a Value: they always decode.
        serde_json::from_slice(&self.json).unwrap_or(Value::Null)
    }

    /// `metadata.name`.
    pub fn name(&self) -> &str {
        &self.fields[0]
    }

    /// `metadata.namespace` ("" for cluster-scoped objects).
    pub fn namespace(&self) -> &str {
        &self.fields[1]
    }

    /// One label's value.
    pub fn label(&self, key: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|(k, _)| &**k == key)
            .map(|(_, v)| &**v)
    }

    /// A selectable field's value as field selectors compare it ("" when absent); `None` for
    /// a path the kind cannot be selected by.
    pub fn field(&self, path: &str) -> Option<&str> {
        selectable_fields(self.kind)
            .position(|f| f == path)
            .map(|i| &*self.fields[i])
    }

    /// [`Stored::field`] as the selectors want it (unknown paths read as empty).
    pub fn field_cow(&self, path: &str) -> Cow<'_, str> {
        Cow::Borrowed(self.field(path).unwrap_or(""))
    }

    /// Heap bytes this version holds (what the watch history's byte bound counts).
    pub fn size(&self) -> usize {
        self.json.len()
            + self.fields.iter().map(|f| f.len() + 16).sum::<usize>()
            + self
                .labels
                .iter()
                .map(|(k, v)| k.len() + v.len() + 32)
                .sum::<usize>()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn keeps_json_and_the_selectable_fields() {
        let pod = json!({"metadata": {"name": "p", "namespace": "ns", "resourceVersion": "42",
            "labels": {"app": "web", "n": "5"}}, "spec": {"nodeName": "n1"},
            "status": {"phase": "Running"}});
        let s = Stored::new(Kind::Pod, &pod);
        assert_eq!(s.value(), pod);
        assert_eq!(s.rv(), 42);
        assert_eq!((s.name(), s.namespace()), ("p", "ns"));
        assert_eq!(s.label("app"), Some("web"));
        assert_eq!(s.label("tier"), None);
        assert_eq!(s.field("spec.nodeName"), Some("n1"));
        assert_eq!(s.field("status.phase"), Some("Running"));
        // Absent booleans read as false, as the real field selectors do.
        assert_eq!(s.field("spec.hostNetwork"), Some("false"));
        assert_eq!(s.field("spec.bogus"), None);
        let node = Stored::new(Kind::Node, &json!({"metadata": {"name": "n1"}}));
        assert_eq!(
            (node.namespace(), node.field("spec.unschedulable")),
            ("", Some("false"))
        );
    }
}
