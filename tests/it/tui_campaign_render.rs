//! Snapshots of the TUI campaign (TestBackend + insta): marking nodes, the form, the plan,
//! and the campaign view mid-run, fed the engine's events through `update`.

use kubedrain::app::campaign::{CampaignCmd, CampaignMsg, PlanView};
use kubedrain::app::flow_fixtures::flow_model;
use kubedrain::app::model::{Model, Pane, View};
use kubedrain::app::panel::{self, Panel};
use kubedrain::app::{Cmd, Msg, update};
use kubedrain::campaign::events::{CampaignEvent, CampaignState};
use kubedrain::campaign::journal::{Spec, Step};
use kubedrain::campaign::plan::waves;
use kubedrain::campaign::report::Report;
use ratatui::crossterm::event::KeyCode;

use crate::common::screen::{key, press, screen};

/// The plan the executor would answer for "all nodes, v1.34.0".
fn plan(m: &Model) -> PlanView {
    let nodes: Vec<_> = m.cache.nodes.values().collect();
    let spec = Spec {
        waves: waves(&nodes, 1),
        target: Some("v1.34.0".into()),
        max_unavailable: 1,
        soak_secs: 0,
        allow_outage: false,
        ..Default::default()
    };
    PlanView {
        lines: kubedrain::campaign::text::order_lines(&spec),
        spec,
        held: None,
    }
}

fn campaign(m: &mut Model, e: CampaignEvent) {
    update(m, Msg::Campaign(CampaignMsg::Event(Box::new(e))));
}

fn phase(m: &mut Model, node: &str, wave: usize, step: Step, detail: Option<&str>) {
    campaign(
        m,
        CampaignEvent::Phase {
            node: Some(node.into()),
            wave,
            step,
            detail: detail.map(str::to_string),
        },
    );
}

/// Marks node0 (Space), opens the form (C), asks for the plan, gets it and starts it.
fn started(size: (u16, u16)) -> Model {
    let mut m = flow_model(size);
    key(&mut m, ' ');
    assert!(m.campaign.marked.contains("node0"));
    assert!(screen(&m).contains("✚ node0"), "{}", screen(&m));
    key(&mut m, 'C');
    // "all nodes": ← from "marked nodes (1)" wraps to the last choice.
    press(&mut m, KeyCode::Left);
    press(&mut m, KeyCode::Down);
    for c in "1.34.0".chars() {
        key(&mut m, c);
    }
    let cmds = update(
        &mut m,
        Msg::Key(ratatui::crossterm::event::KeyEvent::new(
            KeyCode::Enter,
            ratatui::crossterm::event::KeyModifiers::NONE,
        )),
    );
    match cmds.as_slice() {
        [Cmd::Campaign(CampaignCmd::Prepare(req))] => {
            assert_eq!(req.target.as_deref(), Some("v1.34.0"));
        }
        other => panic!("expected a Prepare, got {other:?}"),
    }
    let p = plan(&m);
    update(&mut m, Msg::Campaign(CampaignMsg::Planned(Ok(Box::new(p)))));
    m
}

#[test]
fn form_after_marking_a_node_80x24() {
    let mut m = flow_model((80, 24));
    key(&mut m, ' ');
    key(&mut m, 'C');
    let s = screen(&m);
    assert!(
        s.contains("marked nodes (1)") && s.contains("marked: node0"),
        "{s}"
    );
    insta::assert_snapshot!(s);
}

#[test]
fn the_plan_lists_the_control_plane_first_and_enter_starts_it() {
    let mut m = started((100, 30));
    let s = screen(&m);
    assert!(
        s.contains("Campaign plan") && s.contains("can start"),
        "{s}"
    );
    let master = s.find("wave 1/").expect("wave 1");
    assert!(
        s[master..].starts_with("wave 1/3: master0 (control plane)"),
        "{s}"
    );
    insta::assert_snapshot!(s);
    let cmds = update(
        &mut m,
        Msg::Key(ratatui::crossterm::event::KeyEvent::new(
            KeyCode::Enter,
            ratatui::crossterm::event::KeyModifiers::NONE,
        )),
    );
    assert!(
        matches!(cmds.as_slice(), [Cmd::Campaign(CampaignCmd::Start(_))]),
        "{cmds:?}"
    );
    // The campaign runs in a panel of the main view, with the keyboard, like a drain.
    assert_eq!(m.view, View::Main);
    assert_eq!(panel::focused(&m), Some(Panel::Campaign));
    assert!(
        m.campaign.marked.is_empty(),
        "marks are used up by the campaign"
    );
}

/// master0 done, node0 drained and waiting for the operator's upgrade.
pub(crate) fn mid_run(size: (u16, u16)) -> Model {
    let mut m = started(size);
    press(&mut m, KeyCode::Enter);
    update(
        &mut m,
        Msg::Campaign(CampaignMsg::Started(Ok("c-1".into()))),
    );
    for step in [Step::Cordon, Step::Drain, Step::Upgrade] {
        phase(&mut m, "master0", 0, step, None);
    }
    phase(
        &mut m,
        "master0",
        0,
        Step::Gate,
        Some("Ready, kubelet v1.33.1 → v1.34.0"),
    );
    phase(&mut m, "master0", 0, Step::Uncordon, None);
    campaign(
        &mut m,
        CampaignEvent::Phase {
            node: None,
            wave: 0,
            step: Step::Soak,
            detail: None,
        },
    );
    phase(&mut m, "node0", 1, Step::Cordon, None);
    phase(&mut m, "node0", 1, Step::Drain, None);
    campaign(
        &mut m,
        CampaignEvent::UpgradeNow {
            node: "node0".into(),
            commands: vec!["ssh node0".into(), "sudo kubeadm upgrade node".into()],
            by_hook: false,
        },
    );
    campaign(
        &mut m,
        CampaignEvent::Waiting {
            node: Some("node0".into()),
            message: "not Ready yet (kubelet stopped posting status)".into(),
        },
    );
    m
}

/// Enter in the campaign panel: the whole campaign view.
fn zoomed(size: (u16, u16)) -> Model {
    let mut m = mid_run(size);
    press(&mut m, KeyCode::Enter);
    assert_eq!(m.view, View::Campaign);
    m
}

#[test]
fn campaign_view_mid_run_80x24() {
    let m = zoomed((80, 24));
    let s = screen(&m);
    assert!(s.contains("waiting: node/node0: not Ready yet"), "{s}");
    assert!(s.contains("sudo kubeadm upgrade node"), "{s}");
    insta::assert_snapshot!(s);
}

#[test]
fn campaign_view_mid_run_120x40() {
    let m = zoomed((120, 40));
    let s = screen(&m);
    let master = s.lines().find(|l| l.contains("master0")).unwrap();
    assert!(master.contains("v1.33.1 → v1.34.0"), "{master}");
    let node0 = s.lines().find(|l| l.contains(" node0 ")).unwrap();
    assert!(node0.contains("waiting Ready"), "{node0}");
    insta::assert_snapshot!(s);
}

#[test]
fn pause_and_abort_ask_the_engine_and_abort_needs_a_second_press() {
    let mut m = mid_run((100, 30));
    let p = update(&mut m, Msg::Key(k('p')));
    assert_eq!(p, vec![Cmd::Campaign(CampaignCmd::Pause)]);
    campaign(&mut m, CampaignEvent::Paused(true));
    assert!(screen(&m).contains("paused"));
    assert_eq!(
        update(&mut m, Msg::Key(k('p'))),
        vec![Cmd::Campaign(CampaignCmd::Continue)]
    );
    assert!(update(&mut m, Msg::Key(k('A'))).is_empty());
    assert!(screen(&m).contains("press A again"));
    assert_eq!(
        update(&mut m, Msg::Key(k('A'))),
        vec![Cmd::Campaign(CampaignCmd::Abort)]
    );
    let report = Report {
        campaign: "c-1".into(),
        context: "demo".into(),
        server: String::new(),
        target: None,
        max_unavailable: 1,
        started: None,
        ended: None,
        outcome: "aborted".into(),
        waves: vec![],
        nodes: vec![],
        pdb_waits: vec![],
        overrides: vec![],
        pending_pods: vec![],
    };
    campaign(
        &mut m,
        CampaignEvent::Finished {
            state: CampaignState::Aborted {
                node: Some("node0".into()),
                step: Step::Gate,
            },
            report: Box::new(report),
        },
    );
    let s = screen(&m);
    assert!(s.contains("campaign stopped"), "{s}");
    // Nothing runs any more: p says so instead of acting.
    assert!(update(&mut m, Msg::Key(k('p'))).is_empty());
    assert!(screen(&m).contains("no campaign is running"));
}

fn k(c: char) -> ratatui::crossterm::event::KeyEvent {
    ratatui::crossterm::event::KeyEvent::new(
        KeyCode::Char(c),
        ratatui::crossterm::event::KeyModifiers::NONE,
    )
}

#[test]
fn quitting_during_a_campaign_asks_and_then_stops_it_where_it_is() {
    let mut m = mid_run((100, 30));
    assert!(update(&mut m, Msg::Key(k('q'))).is_empty());
    let s = screen(&m);
    assert!(s.contains("A campaign is running (now at node0)"), "{s}");
    assert!(!m.quit);
    let cmds = update(&mut m, Msg::Key(k('y')));
    assert!(m.quit);
    assert_eq!(cmds, vec![Cmd::Campaign(CampaignCmd::Abort)]);
}

#[test]
fn an_unfinished_campaign_is_offered_and_r_resumes_it() {
    use kubedrain::campaign::journal::Progress;
    let mut m = flow_model((100, 30));
    let spec = plan(&m).spec;
    let mut done = std::collections::BTreeMap::new();
    done.insert(
        "master0".to_string(),
        [Step::Cordon, Step::Drain].into_iter().collect(),
    );
    let p = Progress {
        campaign: "c-9".into(),
        spec,
        done,
        checked: [0].into_iter().collect(),
        soaked: Default::default(),
        cordoned_by_us: ["master0".to_string()].into_iter().collect(),
        before: Default::default(),
        cordon_started: Default::default(),
        finished: false,
        tainted: Default::default(),
    };
    update(&mut m, Msg::Campaign(CampaignMsg::Unfinished(Box::new(p))));
    assert!(screen(&m).contains("unfinished campaign stopped at node/master0, step upgrade"));
    // R acts in the campaign view only; :campaign opens it.
    key(&mut m, ':');
    for c in "campaign".chars() {
        key(&mut m, c);
    }
    press(&mut m, KeyCode::Enter);
    let s = screen(&m);
    assert!(
        s.contains("campaign c-9 stopped at node/master0, step upgrade"),
        "{s}"
    );
    let cmds = update(&mut m, Msg::Key(k('R')));
    assert!(
        matches!(cmds.as_slice(), [Cmd::Campaign(CampaignCmd::Resume(p))] if p.campaign == "c-9"),
        "{cmds:?}"
    );
    assert!(m.campaign.running());
    // What the journal says was done shows as done; the engine's events go on from there.
    let row = screen(&m)
        .lines()
        .find(|l| l.contains("master0") && l.contains('✓'))
        .map(str::to_string);
    let row = row.unwrap_or_else(|| panic!("{}", screen(&m)));
    assert_eq!(row.matches('✓').count(), 2, "cordon and drain: {row}");
}

#[test]
fn at_a_hold_point_p_lets_the_campaign_go_on() {
    let mut m = mid_run((100, 30));
    campaign(
        &mut m,
        CampaignEvent::Waiting {
            node: Some("node1".into()),
            message: "hold point: before node1 (wave 3/3) — resume to go on".into(),
        },
    );
    let s = screen(&m);
    assert!(
        s.contains("paused") && s.contains("hold point: before node1"),
        "{s}"
    );
    assert_eq!(
        update(&mut m, Msg::Key(k('p'))),
        vec![Cmd::Campaign(CampaignCmd::Continue)]
    );
}

#[test]
fn before_its_cordon_a_node_is_working_towards_that_phase_only() {
    let mut m = started((100, 30));
    press(&mut m, KeyCode::Enter);
    update(
        &mut m,
        Msg::Campaign(CampaignMsg::Started(Ok("c-1".into()))),
    );
    let s = screen(&m);
    // The campaign panel's row (the nodes pane above lists master0 too).
    let row = s.lines().find(|l| l.contains("▸ master0")).unwrap();
    assert_eq!(
        row.matches('…').count(),
        1,
        "only CORD is in progress: {row}"
    );
    assert!(row.contains("cordoning"), "{row}");
}

/// The main screen while the campaign runs: the panel between nodes and pods, focused, then
/// with the keyboard in the pods pane (the campaign goes on in the panel).
#[test]
fn campaign_panel_mid_run_at_three_sizes() {
    for size in [(80, 24), (100, 30), (120, 40)] {
        let mut m = mid_run(size);
        let s = screen(&m);
        // The panel's title and the current node's row, with the nodes and pods panes around it.
        assert!(s.contains("Campaign to v1.34.0"), "{size:?}\n{s}");
        assert!(
            s.contains("▸ node0") || s.contains("node0"),
            "{size:?}\n{s}"
        );
        let panel_at = s.find("Campaign to").unwrap();
        let nodes_at = s.find("Nodes").expect("the nodes pane");
        let pods_at = s.find("Pods").expect("the pods pane");
        assert!(nodes_at < panel_at && panel_at < pods_at, "{size:?}\n{s}");
        insta::assert_snapshot!(format!("panel_focused_{}x{}", size.0, size.1), s);
        press(&mut m, KeyCode::Tab);
        assert_eq!(m.focus, Pane::Pods);
        assert_eq!(panel::focused(&m), None);
        assert_eq!(panel::shown(&m), Some(Panel::Campaign));
        let s = screen(&m);
        assert!(s.contains("v or Tab to it"), "{size:?}\n{s}");
        insta::assert_snapshot!(format!("panel_beside_pods_{}x{}", size.0, size.1), s);
    }
}

/// Keys in and around the panel: Tab order, `v` to it and away, Esc, a key it does not take
/// (it leaves the panel and acts where the focus goes), and `:campaign`'s full view.
#[test]
fn the_campaign_panel_is_a_pane_the_other_keys_work_beside() {
    let mut m = mid_run((100, 30));
    // Esc: back to the nodes; the campaign goes on.
    press(&mut m, KeyCode::Esc);
    assert_eq!((m.view, m.focus), (View::Main, Pane::Nodes));
    assert_eq!(panel::focused(&m), None);
    // Tab from the nodes goes into the panel, Tab again to the pods; Shift-Tab comes back.
    press(&mut m, KeyCode::Tab);
    assert_eq!(panel::focused(&m), Some(Panel::Campaign));
    press(&mut m, KeyCode::Tab);
    assert_eq!(m.focus, Pane::Pods);
    press(&mut m, KeyCode::BackTab);
    assert_eq!(panel::focused(&m), Some(Panel::Campaign));
    // `/` is not the panel's: it leaves the panel and opens the filter of the pane below.
    key(&mut m, '/');
    assert_eq!(panel::focused(&m), None);
    assert!(matches!(m.input, kubedrain::app::model::Input::Filter(_)));
    press(&mut m, KeyCode::Esc);
    // `v` in the panel puts it away; `v` anywhere brings it back with the keyboard.
    key(&mut m, 'v');
    assert_eq!(panel::focused(&m), Some(Panel::Campaign));
    key(&mut m, 'v');
    assert_eq!(panel::shown(&m), None);
    assert!(!screen(&m).contains("Campaign to"), "{}", screen(&m));
    key(&mut m, 'v');
    assert_eq!(panel::focused(&m), Some(Panel::Campaign));
    // Still steering the campaign from the panel: p pauses.
    assert_eq!(
        update(&mut m, Msg::Key(k('p'))),
        vec![Cmd::Campaign(CampaignCmd::Pause)]
    );
    // `:campaign` shows it whole; Esc comes back to the panes, the panel still there.
    key(&mut m, ':');
    for c in "campaign".chars() {
        key(&mut m, c);
    }
    press(&mut m, KeyCode::Enter);
    assert_eq!(m.view, View::Campaign);
    press(&mut m, KeyCode::Esc);
    assert_eq!(m.view, View::Main);
    assert_eq!(panel::shown(&m), Some(Panel::Campaign));
}
