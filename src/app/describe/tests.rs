//! The page's behaviour through `update`: which object the keys pick, what they say when
//! they cannot act, answers that arrive late, scrolling.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::*;
use crate::app::fixtures::seed_model;
use crate::app::msg::Msg;
use crate::app::update;

fn press(m: &mut Model, code: KeyCode) -> Vec<Cmd> {
    update(m, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

fn key(m: &mut Model, c: char) -> Vec<Cmd> {
    press(m, KeyCode::Char(c))
}

fn request(cmds: &[Cmd]) -> &Request {
    match cmds {
        [Cmd::Describe(r)] => r,
        other => panic!("expected one describe request, got {other:?}"),
    }
}

#[test]
fn d_asks_for_the_selected_node_and_y_for_its_yaml() {
    let mut m = seed_model((100, 30));
    key(&mut m, 'j');
    let cmds = key(&mut m, 'd');
    let r = request(&cmds);
    assert_eq!(r.subject, Subject::Node("node0".into()));
    assert_eq!(r.mode, Mode::Describe);
    assert!(m.describe.page.as_ref().unwrap().loading());
    // y on the page switches to the YAML of the same node, with a new request.
    let cmds = key(&mut m, 'y');
    let r2 = request(&cmds);
    assert_eq!(
        (r2.subject.clone(), r2.mode),
        (Subject::Node("node0".into()), Mode::Yaml)
    );
    assert!(r2.id > r.id);
    // The describe answer arrives late: dropped, the page waits for its YAML.
    update(
        &mut m,
        Msg::Describe(Answer {
            id: r.id,
            facts: Facts::Yaml(Ok("stale".into())),
        }),
    );
    assert!(m.describe.page.as_ref().unwrap().loading());
    let id = r2.id;
    update(
        &mut m,
        Msg::Describe(Answer {
            id,
            facts: Facts::Yaml(Ok("kind: Node\nmetadata:\n  name: node0\n".into())),
        }),
    );
    let page = m.describe.page.as_ref().unwrap();
    assert_eq!(page.lines[0].text(), "kind: Node");
    press(&mut m, KeyCode::Esc);
    assert!(m.describe.page.is_none());
}

#[test]
fn a_pod_request_carries_the_cached_controller() {
    let mut m = seed_model((100, 30));
    // coredns has no owner in the fixture: the chain starts from nothing.
    press(&mut m, KeyCode::Tab);
    let cmds = key(&mut m, 'd');
    let r = request(&cmds);
    assert!(matches!(&r.subject, Subject::Pod { namespace, .. } if namespace == "kube-system"));
    assert_eq!(r.cached_owner, None);
}

#[test]
fn e_needs_no_read_and_lists_the_objects_events_newest_last() {
    let mut m = seed_model((80, 24));
    key(&mut m, 'j'); // node0
    let cmds = key(&mut m, 'e');
    assert!(cmds.is_empty(), "events come from the cache");
    let page = m.describe.page.as_ref().unwrap();
    let text: Vec<String> = page.lines.iter().map(|l| l.text()).collect();
    assert!(text[0].contains("Events of node node0"), "{text:?}");
    assert!(
        text.iter()
            .any(|l| l.contains("NodeReady") && l.contains("status is now")),
        "{text:?}"
    );
    assert!(!text.iter().any(|l| l.contains("BackOff")), "{text:?}");
}

#[test]
fn keys_that_cannot_act_say_why() {
    let mut m = seed_model((80, 24));
    key(&mut m, '/');
    for c in "nothing-matches".chars() {
        key(&mut m, c);
    }
    press(&mut m, KeyCode::Enter);
    assert!(m.views.nodes.is_empty());
    assert!(key(&mut m, 'd').is_empty());
    let flash = m.flash.clone().unwrap().0;
    assert!(flash.contains("no node selected"), "{flash}");
    assert!(m.describe.page.is_none());

    // The versions view has no object to describe.
    let mut m = seed_model((80, 24));
    key(&mut m, ':');
    for c in "versions".chars() {
        key(&mut m, c);
    }
    press(&mut m, KeyCode::Enter);
    key(&mut m, 'y');
    assert!(
        m.flash.clone().unwrap().0.contains("PDB view"),
        "{:?}",
        m.flash
    );

    // Read-only does not block reads.
    let mut m = seed_model((80, 24));
    m.readonly = true;
    assert_eq!(key(&mut m, 'd').len(), 1);
    // An unknown key on the page says how to leave it.
    key(&mut m, 'z');
    assert!(
        m.flash.clone().unwrap().0.contains("Esc closes"),
        "{:?}",
        m.flash
    );
}

#[test]
fn scrolling_stays_in_range_and_g_goes_to_the_end() {
    let mut m = seed_model((80, 24));
    key(&mut m, 'y');
    let id = m.describe.page.as_ref().unwrap().id;
    let yaml: String = (0..100).map(|i| format!("line{i}: x\n")).collect();
    update(
        &mut m,
        Msg::Describe(Answer {
            id,
            facts: Facts::Yaml(Ok(yaml)),
        }),
    );
    let (_, rows) = geometry(m.size);
    key(&mut m, 'G');
    assert_eq!(m.describe.page.as_ref().unwrap().scroll, 100 - rows);
    key(&mut m, 'j');
    assert_eq!(m.describe.page.as_ref().unwrap().scroll, 100 - rows);
    press(&mut m, KeyCode::PageUp);
    assert_eq!(m.describe.page.as_ref().unwrap().scroll, 100 - 2 * rows);
    key(&mut m, 'g');
    assert_eq!(m.describe.page.as_ref().unwrap().scroll, 0);
    key(&mut m, 'k');
    assert_eq!(m.describe.page.as_ref().unwrap().scroll, 0);
}

#[test]
fn a_failed_read_is_said_on_the_page() {
    let mut m = seed_model((80, 24));
    press(&mut m, KeyCode::Tab);
    let cmds = key(&mut m, 'd');
    let id = request(&cmds).id;
    update(
        &mut m,
        Msg::Describe(Answer {
            id,
            facts: Facts::Pod {
                pod: Err("forbidden (403): pods is forbidden".into()),
                owners: vec![],
            },
        }),
    );
    let text: Vec<String> = m
        .describe
        .page
        .as_ref()
        .unwrap()
        .lines
        .iter()
        .map(|l| l.text())
        .collect();
    assert!(
        text.iter()
            .any(|l| l.contains("cannot read pod") && l.contains("forbidden (403)")),
        "{text:?}"
    );
    // What the cache knows still shows: the PDB section reads the pod's cached labels.
    assert!(
        text.iter()
            .any(|l| l.contains("PodDisruptionBudgets that select it")),
        "{text:?}"
    );
}

#[test]
fn d_in_the_pdb_view_describes_the_pdb_and_its_pods() {
    let mut m = seed_model((120, 40));
    key(&mut m, ':');
    for c in "pdb".chars() {
        key(&mut m, c);
    }
    press(&mut m, KeyCode::Enter);
    let cmds = key(&mut m, 'd');
    let r = request(&cmds);
    assert_eq!(
        r.subject,
        Subject::Pdb {
            namespace: "default".into(),
            name: "http-spring".into()
        }
    );
    let pdb: k8s_openapi::api::policy::v1::PodDisruptionBudget =
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": "http-spring", "namespace": "default"},
            "spec": {"minAvailable": 9, "selector": {"matchLabels": {"app": "http-spring"}}},
            "status": {"currentHealthy": 10, "desiredHealthy": 9, "disruptionsAllowed": 0,
                "expectedPods": 10, "observedGeneration": 1}
        }))
        .unwrap();
    let id = r.id;
    update(
        &mut m,
        Msg::Describe(Answer {
            id,
            facts: Facts::Pdb {
                pdb: Ok(Box::new(pdb)),
            },
        }),
    );
    let text: Vec<String> = m
        .describe
        .page
        .as_ref()
        .unwrap()
        .lines
        .iter()
        .map(|l| l.text())
        .collect();
    let all = text.join("\n");
    assert!(all.contains("Selector:       app=http-spring"), "{all}");
    assert!(all.contains("Allowed now:    0 disruption(s)"), "{all}");
    // The pods it selects, from the cache's PDB index: the 11 http-spring pods of the fixture.
    assert!(all.contains("Pods it selects (11)"), "{all}");
}

#[test]
fn d_in_the_events_pane_describes_the_object_of_the_event() {
    let mut m = seed_model((100, 30));
    key(&mut m, 'a'); // not bound in the nodes pane: says where it works
    press(&mut m, KeyCode::Tab);
    press(&mut m, KeyCode::Tab);
    key(&mut m, 'a'); // every event
    let keys = m.views.events.clone();
    let at = keys
        .iter()
        .position(|k| m.cache.events[k].reason == "FailedScheduling")
        .expect("the Pending pod's event");
    for _ in 0..at {
        key(&mut m, 'j');
    }
    let cmds = key(&mut m, 'd');
    assert_eq!(
        request(&cmds).subject,
        Subject::Pod {
            namespace: "default".into(),
            name: "http-spring-6d9f8b7c5-pend1".into()
        }
    );
}

#[test]
fn d_works_while_a_drain_runs_and_esc_returns_to_it() {
    let mut m = crate::app::flow_fixtures::flow_model((100, 30));
    crate::app::flow_fixtures::live_midway(&mut m);
    assert!(m.flow.dialog.is_some());
    let cmds = key(&mut m, 'd');
    assert!(matches!(request(&cmds).subject, Subject::Node(_)));
    // The page has the keyboard: x does not reach the drain underneath.
    key(&mut m, 'x');
    assert!(
        m.flash.clone().unwrap().0.contains("Esc closes"),
        "{:?}",
        m.flash
    );
    press(&mut m, KeyCode::Esc);
    assert!(m.describe.page.is_none());
    assert!(m.flow.dialog.is_some(), "the drain view is still there");
}

#[test]
fn pdbs_not_listed_yet_are_not_none() {
    use crate::app::model::WatchState;
    use crate::cluster::watch::Kind;
    let mut m = seed_model((100, 30));
    m.watch.insert(Kind::Pdbs, WatchState::Connecting);
    press(&mut m, KeyCode::Tab);
    let cmds = key(&mut m, 'd');
    let id = request(&cmds).id;
    update(
        &mut m,
        Msg::Describe(Answer {
            id,
            facts: Facts::Pod {
                pod: Err("no answer within 10 s".into()),
                owners: vec![],
            },
        }),
    );
    let all: Vec<String> = m
        .describe
        .page
        .as_ref()
        .unwrap()
        .lines
        .iter()
        .map(|l| l.text())
        .collect();
    assert!(
        all.iter()
            .any(|l| l.contains("PDBs are still being listed")),
        "{all:?}"
    );
    assert!(
        !all.iter()
            .any(|l| l.contains("not limited by a disruption budget")),
        "{all:?}"
    );
}

#[test]
fn enter_on_a_pod_or_pdb_describes_it_and_on_an_event_shows_its_objects_events() {
    let mut m = seed_model((100, 30));
    key(&mut m, 'j');
    press(&mut m, KeyCode::Tab);
    let cmds = press(&mut m, KeyCode::Enter);
    let r = request(&cmds);
    assert!(matches!(r.subject, Subject::Pod { .. }), "{r:?}");
    assert_eq!(r.mode, Mode::Describe);
    press(&mut m, KeyCode::Esc);
    // The events pane: the page of events (full messages), no read needed.
    press(&mut m, KeyCode::Tab);
    let had_events = !m.views.events.is_empty();
    press(&mut m, KeyCode::Enter);
    if had_events {
        assert_eq!(m.describe.page.as_ref().map(|p| p.mode), Some(Mode::Events));
    } else {
        assert!(m.flash.is_some(), "an empty pane says so");
    }
}
