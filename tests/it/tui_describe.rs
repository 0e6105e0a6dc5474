//! `d` describe, `y` YAML and `e` events on the `seed` scenario: the simulator's objects are
//! listed into the model, the key asks for a read, the read runs against the simulator (as
//! the TUI's background task runs it) and its answer is drawn with TestBackend.
//!
//! The simulator runs without controllers and with its clock frozen, so ages are the same on
//! every run; a few events (and one PDB over http-spring) are added to the seed so every
//! section has something to show.

use kube::Client;
use kube::api::{Api, ListParams};
use kubedrain::app::describe::{Answer, Mode, Request, Subject, fetch};
use kubedrain::app::fixtures;
use kubedrain::app::model::{ConnInfo, Model};
use kubedrain::app::{Cmd, Msg, update};
use kubedrain::cluster::rows::{EventRow, NodeRow, PdbRow, PodRow};
use kubedrain::sim::api::faults::{FaultAction, FaultRule};
use kubedrain::sim::{Kind, SimOptions, Simulator};
use ratatui::crossterm::event::KeyCode;
use serde_json::json;

use crate::common::screen::{key, press, screen};
use crate::drain_support::sim::client;

/// Types `c` and returns what `update` asks the loop to run.
fn ask(m: &mut Model, c: char) -> Vec<Cmd> {
    update(
        m,
        Msg::Key(ratatui::crossterm::event::KeyEvent::new(
            KeyCode::Char(c),
            ratatui::crossterm::event::KeyModifiers::NONE,
        )),
    )
}

/// The pod the pod snapshots describe (node0's first in the Pods pane).
const POD: &str = "http-spring-766c586cb9-2mcjm";

/// The anchor every time in the test is counted from: node0's creation plus its scenario
/// age (77d), to the second. Counting from the simulator's clock instead would move ages by a
/// second whenever its start (TLS set-up and all) straddles a second boundary.
fn anchor(sim: &Simulator) -> jiff::Timestamp {
    let node0 = sim.store().get(Kind::Node, "", "node0").expect("node0");
    let created: jiff::Timestamp = node0["metadata"]["creationTimestamp"]
        .as_str()
        .expect("creationTimestamp")
        .parse()
        .expect("a timestamp");
    let t = created + jiff::SignedDuration::from_hours(77 * 24);
    jiff::Timestamp::from_second(t.as_second()).unwrap()
}

/// An event about `kind/name`, last seen `at`.
fn event(
    kind: &str,
    name: &str,
    type_: &str,
    reason: &str,
    message: &str,
    source: &str,
    at: jiff::Timestamp,
) -> serde_json::Value {
    let ns = if kind == "Node" { "" } else { "default" };
    let t = at.to_string();
    json!({
        "apiVersion": "v1", "kind": "Event",
        "metadata": {"name": format!("{name}.{reason}"), "namespace": "default"},
        "involvedObject": {"apiVersion": "v1", "kind": kind, "name": name, "namespace": ns},
        "type": type_, "reason": reason, "message": message,
        "source": {"component": source}, "count": 1,
        "firstTimestamp": t, "lastTimestamp": t,
    })
}

async fn seed() -> (Simulator, Client) {
    let sim = Simulator::start(SimOptions {
        scenario: "seed".into(),
        controllers: false,
        ..SimOptions::default()
    })
    .await
    .expect("simulator starts");
    sim.clock().freeze();
    let store = sim.store();
    let a = anchor(&sim);
    let events = [
        event(
            "Node",
            "node0",
            "Warning",
            "FreeDiskSpaceFailed",
            "Failed to garbage collect required amount of images. Attempted to free 2147483648 bytes, but only found 0 bytes eligible to free.",
            "kubelet",
            a,
        ),
        event(
            "Pod",
            POD,
            "Normal",
            "Scheduled",
            &format!("Successfully assigned default/{POD} to node0"),
            "default-scheduler",
            a,
        ),
        event(
            "Pod",
            POD,
            "Warning",
            "Unhealthy",
            "Readiness probe failed: Get \"http://10.32.0.4:8080/actuator/health\": context deadline exceeded (Client.Timeout exceeded while awaiting headers)",
            "kubelet",
            a + jiff::SignedDuration::from_secs(40),
        ),
    ];
    for e in events {
        store.create(Kind::Event, e).expect("event");
    }
    store
        .create(
            Kind::PodDisruptionBudget,
            json!({
                "apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
                "metadata": {"name": "http-spring", "namespace": "default"},
                "spec": {"minAvailable": 9, "selector": {"matchLabels": {"app": "http-spring"}}},
                "status": {"observedGeneration": 1, "disruptionsAllowed": 1, "desiredHealthy": 9,
                    "currentHealthy": 10, "expectedPods": 10}
            }),
        )
        .expect("pdb");
    let c = client(&sim).await;
    (sim, c)
}

async fn list<K>(c: &Client) -> Vec<K>
where
    K: kube::Resource<DynamicType = ()> + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    Api::<K>::all(c.clone())
        .list(&ListParams::default())
        .await
        .expect("list")
        .items
}

/// The model as the watchers would fill it.
async fn model(sim: &Simulator, c: &Client, size: (u16, u16)) -> Model {
    let conn = ConnInfo {
        context: "kubedrain-sim".into(),
        version: "v1.25.4".into(),
        ..ConnInfo::default()
    };
    // 45 s after the anchor: the first events are 45 s old.
    let now = anchor(sim) + jiff::SignedDuration::from_secs(45);
    let mut m = Model::new(conn, None, false, now);
    m.size = size;
    let data = (
        list::<NodeRow>(c).await,
        list::<PodRow>(c).await,
        list::<EventRow>(c).await,
        list::<PdbRow>(c).await,
    );
    fixtures::load(&mut m, data);
    m
}

/// Runs the read `cmds` asks for against the simulator and hands the answer to `update`.
async fn answer(m: &mut Model, c: &Client, cmds: Vec<Cmd>) -> Request {
    let [Cmd::Describe(req)] = &cmds[..] else {
        panic!("expected one read, got {cmds:?}");
    };
    let facts = fetch::fetch(c, req).await;
    update(m, Msg::Describe(Answer { id: req.id, facts }));
    req.clone()
}

/// Describe of node0 at `size`.
async fn node0(size: (u16, u16)) -> (Model, Client, Simulator) {
    let (sim, c) = seed().await;
    let mut m = model(&sim, &c, size).await;
    key(&mut m, 'j');
    let cmds = ask(&mut m, 'd');
    let req = answer(&mut m, &c, cmds).await;
    assert_eq!(req.subject, Subject::Node("node0".into()));
    (m, c, sim)
}

/// Describe of `POD` at `size`.
async fn pod(size: (u16, u16)) -> (Model, Client, Simulator) {
    let (sim, c) = seed().await;
    let mut m = model(&sim, &c, size).await;
    key(&mut m, 'j');
    press(&mut m, KeyCode::Tab);
    let cmds = ask(&mut m, 'd');
    let req = answer(&mut m, &c, cmds).await;
    assert_eq!(
        req.subject,
        Subject::Pod {
            namespace: "default".into(),
            name: POD.into()
        }
    );
    (m, c, sim)
}

/// The screen, with the one name the simulator makes up per run (the service-account
/// token volume's suffix) made stable.
fn shot(m: &Model) -> String {
    let re = regex::Regex::new(r"kube-api-access-[a-z0-9]{5}").unwrap();
    re.replace_all(&screen(m), "kube-api-access-xxxxx")
        .into_owned()
}

/// Every row of the page, scrolled through (the page's text as a reader sees it).
fn whole_page(m: &mut Model) -> String {
    let mut out = String::new();
    key(m, 'g');
    loop {
        let s = screen(m);
        let body: Vec<&str> = s.lines().skip(2).collect();
        let body = &body[..body.len() - 2];
        out.push_str(&body.join("\n"));
        out.push('\n');
        let before = m.describe.page.as_ref().unwrap().scroll;
        press(m, KeyCode::PageDown);
        if m.describe.page.as_ref().unwrap().scroll == before {
            return out;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn describe_node_shows_its_sections_from_the_cluster() {
    let (mut m, _c, _sim) = node0((120, 40)).await;
    let all = whole_page(&mut m);
    for want in [
        "Node node0",
        "Unschedulable:  false",
        "Taints:         <none>",
        "Ready           True",
        "Capacity and allocatable",
        // 5 http-spring (100m) + ingress (100m) + weave-net (2 × 50m) + kube-proxy (none).
        "cpu       700m (35%)",
        "memory    930Mi (22%)",
        "kube-system/weave-net-jpd2x",
        "DaemonSet",
        "FreeDiskSpaceFailed",
        // The whole message, never cut.
        "but only found 0 bytes eligible to free.",
    ] {
        assert!(all.contains(want), "{want:?} missing:\n{all}");
    }
    // Pods of other nodes are not this node's.
    assert!(!all.contains("coredns"), "{all}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn describe_node_80x24() {
    let (m, _, _sim) = node0((80, 24)).await;
    let s = screen(&m);
    assert!(s.contains("Describe · node node0"), "{s}");
    assert!(s.contains("Esc close"), "{s}");
    insta::assert_snapshot!(s);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn describe_node_100x30() {
    let (mut m, _, _sim) = node0((100, 30)).await;
    insta::assert_snapshot!("describe_node_100x30_top", shot(&m));
    key(&mut m, 'G');
    let s = shot(&m);
    assert!(
        s.contains("Allocated resources") || s.contains("Events"),
        "{s}"
    );
    insta::assert_snapshot!("describe_node_100x30_end", s);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn describe_node_120x40() {
    let (mut m, _, _sim) = node0((120, 40)).await;
    key(&mut m, 'G');
    insta::assert_snapshot!(shot(&m));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn describe_pod_shows_owners_pdbs_and_events() {
    let (mut m, _c, _sim) = pod((120, 40)).await;
    let all = whole_page(&mut m);
    for want in [
        &format!("Pod default/{POD}"),
        "Node:           node0 (192.168.138.129)",
        "└ ReplicaSet http-spring-766c586cb9",
        "└ Deployment http-spring",
        "Image:        jaesay/http-spring",
        "Requests:     cpu 100m, memory 128Mi",
        "kube-api-access",
        "default/http-spring  1 disruption(s) allowed",
        "Scheduled",
        "(Client.Timeout exceeded while awaiting headers)",
    ] {
        assert!(all.contains(want), "{want:?} missing:\n{all}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn describe_pod_80x24() {
    let (mut m, _, _sim) = pod((80, 24)).await;
    insta::assert_snapshot!("describe_pod_80x24_top", shot(&m));
    key(&mut m, 'G');
    insta::assert_snapshot!("describe_pod_80x24_end", shot(&m));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn describe_pod_100x30() {
    let (m, _, _sim) = pod((100, 30)).await;
    insta::assert_snapshot!(shot(&m));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn describe_pod_120x40() {
    let (mut m, _, _sim) = pod((120, 40)).await;
    key(&mut m, 'G');
    insta::assert_snapshot!(shot(&m));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn y_shows_the_fetched_yaml_without_managed_fields() {
    let (sim, c) = seed().await;
    let mut m = model(&sim, &c, (100, 30)).await;
    key(&mut m, 'j');
    press(&mut m, KeyCode::Tab);
    let cmds = ask(&mut m, 'y');
    let req = answer(&mut m, &c, cmds).await;
    assert_eq!(req.mode, Mode::Yaml);
    let all = whole_page(&mut m);
    assert!(
        all.contains("apiVersion: v1") && all.contains("kind: Pod"),
        "{all}"
    );
    assert!(all.contains(&format!("name: {POD}")), "{all}");
    // What the slim row drops is there: the container image and the node name.
    assert!(all.contains("image: jaesay/http-spring"), "{all}");
    assert!(all.contains("nodeName: node0"), "{all}");
    assert!(!all.contains("managedFields"), "{all}");
    let s = screen(&m);
    assert!(s.contains(&format!("YAML · pod default/{POD}")), "{s}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e_lists_that_objects_events_newest_last() {
    let (sim, c) = seed().await;
    let mut m = model(&sim, &c, (80, 24)).await;
    key(&mut m, 'j');
    press(&mut m, KeyCode::Tab);
    assert!(
        ask(&mut m, 'e').is_empty(),
        "events come from the watch cache"
    );
    let s = screen(&m);
    let scheduled = s.find("Scheduled").expect("the older event");
    let unhealthy = s.find("Unhealthy").expect("the newer event");
    assert!(scheduled < unhealthy, "newest last:\n{s}");
    // The node's event is not the pod's.
    assert!(!s.contains("FreeDiskSpaceFailed"), "{s}");
    // The long message wraps, whole.
    assert!(s.contains("awaiting headers)"), "{s}");
    insta::assert_snapshot!(s);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_that_is_forbidden_is_said_on_the_page() {
    let (sim, c) = seed().await;
    let mut m = model(&sim, &c, (100, 30)).await;
    sim.faults().add(FaultRule {
        method: Some("GET".into()),
        path: "/api/v1/pods".into(),
        action: FaultAction::Status(403),
        remaining: None,
    });
    key(&mut m, 'j');
    let cmds = ask(&mut m, 'd');
    answer(&mut m, &c, cmds).await;
    let all = whole_page(&mut m);
    assert!(
        all.contains("cannot list the pods on the node (every namespace): forbidden (403)"),
        "{all}"
    );
    // What could be read is still shown.
    assert!(all.contains("Capacity and allocatable"), "{all}");
}

#[test]
fn help_on_the_page_lists_the_page_keys_at_80x24() {
    let mut m = fixtures::seed_model((80, 24));
    ask(&mut m, 'e');
    key(&mut m, '?');
    let s = screen(&m);
    for b in kubedrain::app::describe::keys::PAGE_BINDINGS {
        assert!(s.contains(b.help), "{:?} missing:\n{s}", b.help);
    }
    // The panes' keys do not act on the page: not listed.
    assert!(!s.contains("next pane"), "{s}");
    insta::assert_snapshot!(s);
    // ? closes help and the page is still there.
    key(&mut m, '?');
    assert!(screen(&m).contains("Events · node master0"));
}
