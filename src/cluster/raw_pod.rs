//! The wire shape of a Pod, borrowed from the page buffer. At 150k pods a sync decodes ~70
//! strings per pod that kubedrain only compares, parses or interns; each is a `Str` that points
//! into the JSON unless it has escapes, so decoding a pod allocates almost nothing. Timestamps
//! kubedrain does not show (condition transitions, container start times) are skipped unparsed.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;
use std::ops::Deref;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, de};

use super::raw::Affinity;

/// A JSON string: borrowed from the input when it has no escapes, else owned.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Str<'a>(pub Cow<'a, str>);

impl Deref for Str<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Str<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Cow<'de, str>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Cow::Borrowed(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Cow::Owned(v.to_owned()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Cow::Owned(v))
            }
        }
        d.deserialize_str(V).map(Str)
    }
}

/// A JSON object of strings (labels, annotations, requests), sorted by key as a `BTreeMap`
/// would be, a repeated key keeping its last value as serde's map would.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Pairs<'a>(pub Vec<(Str<'a>, Str<'a>)>);

impl<'a> Pairs<'a> {
    /// The value of `key`, if present.
    pub fn get(&self, key: &str) -> Option<&str> {
        let i = self.0.binary_search_by(|(k, _)| (**k).cmp(key)).ok()?;
        Some(&self.0[i].1)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Pairs<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Pairs<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object of strings")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
                let mut v: Vec<(Str<'a>, Str<'a>)> =
                    Vec::with_capacity(map.size_hint().unwrap_or(0));
                while let Some(entry) = map.next_entry()? {
                    v.push(entry);
                }
                // Stable: of equal keys the later stays later, and dedup keeps it.
                v.sort_by(|a, b| a.0.cmp(&b.0));
                v.dedup_by(|later, kept| {
                    let same = later.0 == kept.0;
                    if same {
                        std::mem::swap(later, kept);
                    }
                    same
                });
                Ok(Pairs(v))
            }
        }
        d.deserialize_map(V(PhantomData))
    }
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct Pod<'a> {
    #[serde(borrow)]
    pub metadata: Meta<'a>,
    #[serde(borrow)]
    pub spec: PodSpec<'a>,
    #[serde(borrow)]
    pub status: PodStatus<'a>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct Meta<'a> {
    #[serde(borrow)]
    pub name: Option<Str<'a>>,
    #[serde(borrow)]
    pub namespace: Option<Str<'a>>,
    #[serde(borrow)]
    pub uid: Option<Str<'a>>,
    #[serde(borrow)]
    pub resource_version: Option<Str<'a>>,
    pub creation_timestamp: Option<Time>,
    pub deletion_timestamp: Option<Time>,
    #[serde(borrow)]
    pub labels: Option<Pairs<'a>>,
    #[serde(borrow)]
    pub annotations: Option<Pairs<'a>>,
    #[serde(borrow)]
    pub owner_references: Option<Vec<OwnerRef<'a>>>,
}

/// An owner reference as the wire has it.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct OwnerRef<'a> {
    #[serde(borrow)]
    pub api_version: Str<'a>,
    #[serde(borrow)]
    pub kind: Str<'a>,
    #[serde(borrow)]
    pub name: Str<'a>,
    #[serde(borrow)]
    pub uid: Str<'a>,
    pub controller: Option<bool>,
    pub block_owner_deletion: Option<bool>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct PodSpec<'a> {
    #[serde(borrow)]
    pub node_name: Option<Str<'a>>,
    #[serde(borrow)]
    pub containers: Vec<Container<'a>>,
    #[serde(borrow)]
    pub init_containers: Vec<Container<'a>>,
    #[serde(borrow)]
    pub volumes: Vec<Volume<'a>>,
    #[serde(borrow)]
    pub tolerations: Vec<Toleration<'a>>,
    #[serde(borrow)]
    pub node_selector: Pairs<'a>,
    pub termination_grace_period_seconds: Option<i64>,
    pub affinity: Option<Affinity>,
    pub topology_spread_constraints: Vec<IgnoredAny>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct Container<'a> {
    /// Kept only for kube-system pods (the versions view reads component images).
    #[serde(borrow)]
    pub image: Str<'a>,
    #[serde(borrow)]
    pub resources: Resources<'a>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct Resources<'a> {
    #[serde(borrow)]
    pub requests: Pairs<'a>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct Volume<'a> {
    #[serde(borrow)]
    pub name: Str<'a>,
    pub empty_dir: Option<IgnoredAny>,
}

#[derive(Deserialize, Default, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct Toleration<'a> {
    #[serde(borrow)]
    pub key: Option<Str<'a>>,
    #[serde(borrow)]
    pub operator: Option<Str<'a>>,
    #[serde(borrow)]
    pub value: Option<Str<'a>>,
    #[serde(borrow)]
    pub effect: Option<Str<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct PodStatus<'a> {
    #[serde(borrow)]
    pub phase: Option<Str<'a>>,
    #[serde(borrow)]
    pub reason: Option<Str<'a>>,
    // The API spells these with capital IP, which camelCase would not produce.
    #[serde(rename = "podIP", borrow)]
    pub pod_ip: Option<Str<'a>>,
    #[serde(rename = "hostIP", borrow)]
    pub host_ip: Option<Str<'a>>,
    #[serde(borrow)]
    pub nominated_node_name: Option<Str<'a>>,
    #[serde(borrow)]
    pub conditions: Vec<Condition<'a>>,
    #[serde(borrow)]
    pub container_statuses: Vec<ContainerStatus<'a>>,
    #[serde(borrow)]
    pub init_container_statuses: Vec<ContainerStatus<'a>>,
}

/// A pod condition: what the row reads of it (not its times).
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct Condition<'a> {
    #[serde(rename = "type", borrow)]
    pub type_: Str<'a>,
    #[serde(borrow)]
    pub status: Str<'a>,
    #[serde(borrow)]
    pub message: Option<Str<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct ContainerStatus<'a> {
    pub ready: bool,
    pub restart_count: u32,
    #[serde(borrow)]
    pub state: ContainerState<'a>,
    #[serde(borrow)]
    pub last_state: ContainerState<'a>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct ContainerState<'a> {
    #[serde(borrow)]
    pub waiting: Option<StateDetail<'a>>,
    #[serde(borrow)]
    pub running: Option<StateDetail<'a>>,
    #[serde(borrow)]
    pub terminated: Option<StateDetail<'a>>,
}

/// A container state's details: what the STATUS column and the restart age read.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct StateDetail<'a> {
    #[serde(borrow)]
    pub reason: Option<Str<'a>>,
    pub exit_code: Option<i32>,
    pub finished_at: Option<Time>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_without_escapes_borrow_and_escaped_ones_decode() {
        let json = br#"{"metadata":{"name":"web-1","namespace":"a\"b","labels":{"z":"1","a":"x\u003cy","z":"2"}}}"#;
        let p: Pod = serde_json::from_slice(json).unwrap();
        let name = p.metadata.name.unwrap();
        assert!(matches!(name.0, Cow::Borrowed("web-1")));
        let ns = p.metadata.namespace.unwrap();
        assert!(matches!(ns.0, Cow::Owned(_)));
        assert_eq!(&*ns, "a\"b");
        let labels = p.metadata.labels.unwrap();
        let flat: Vec<(&str, &str)> = labels.0.iter().map(|(k, v)| (&**k, &**v)).collect();
        // Sorted, the escape decoded, the repeated key keeping its last value.
        assert_eq!(flat, [("a", "x<y"), ("z", "2")]);
        assert_eq!(labels.get("z"), Some("2"));
        assert_eq!(labels.get("b"), None);
    }

    #[test]
    fn decodes_from_owned_values_too() {
        let v = serde_json::json!({"spec": {"nodeName": "n1", "tolerations": [{"operator": "Exists"}]}});
        let p = Pod::deserialize(v).unwrap();
        assert_eq!(p.spec.node_name.as_deref(), Some("n1"));
        assert_eq!(p.spec.tolerations[0].operator.as_deref(), Some("Exists"));
    }
}
