//! Quitting while a drain runs asks first (q, :q, Ctrl-C); y cancels the drain and quits, n
//! goes back to the drain; with no drain running, q quits at once. And a TUI without a drain
//! client says so and changes nothing.

use kubedrain::app::drain_flow::{Dialog, FlowCmd};
use kubedrain::app::flow_fixtures::{self as fx, flow_model};
use kubedrain::app::model::Model;
use kubedrain::app::{Cmd, Msg, update};
use kubedrain::drain::events::{DrainEvent, DrainOutcome, NodeState};
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::common::screen::{key, press, screen};

fn ctrl_c(m: &mut Model) -> Vec<Cmd> {
    update(
        m,
        Msg::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)),
    )
}

fn asking(m: &Model) -> bool {
    matches!(&m.flow.dialog, Some(Dialog::Quit { node, .. }) if node == "node0")
}

#[test]
fn quit_during_a_drain_asks_first_naming_the_node() {
    let mut m = flow_model((100, 30));
    fx::live_midway(&mut m);
    assert!(ctrl_c(&mut m).is_empty());
    assert!(!m.quit, "Ctrl-C during a drain does not quit at once");
    assert!(asking(&m));
    let s = screen(&m);
    assert!(s.contains("Quit kubedrain?"), "{s}");
    assert!(s.contains("A drain of node0 is running"), "{s}");
    assert!(s.contains("node0 stays cordoned"), "{s}");
    assert!(s.contains("lifts the cordon"), "every line is shown: {s}");
    assert!(s.contains("y quit") && s.contains("n stay"), "{s}");
    insta::assert_snapshot!(s);
}

#[test]
fn n_or_esc_stays_with_the_drain() {
    for stay in [KeyCode::Char('n'), KeyCode::Esc] {
        let mut m = flow_model((100, 30));
        fx::live_midway(&mut m);
        // q in the drain view asks too.
        key(&mut m, 'q');
        assert!(asking(&m));
        let cmds = update(&mut m, Msg::Key(KeyEvent::new(stay, KeyModifiers::NONE)));
        assert!(cmds.is_empty(), "{cmds:?}");
        assert!(!m.quit);
        assert!(
            matches!(m.flow.dialog, Some(Dialog::Live)),
            "back to the drain view"
        );
        assert!(m.flow.live.as_ref().is_some_and(|l| !l.cancel_sent));
    }
}

#[test]
fn y_or_enter_cancels_the_drain_then_quits() {
    for yes in [KeyCode::Char('y'), KeyCode::Enter] {
        let mut m = flow_model((100, 30));
        fx::live_midway(&mut m);
        ctrl_c(&mut m);
        // A second Ctrl-C is not a yes.
        ctrl_c(&mut m);
        assert!(!m.quit && asking(&m));
        let cmds = update(&mut m, Msg::Key(KeyEvent::new(yes, KeyModifiers::NONE)));
        assert_eq!(cmds, vec![Cmd::Flow(FlowCmd::CancelDrain)]);
        assert!(m.quit);
    }
}

#[test]
fn colon_q_asks_too() {
    let mut m = flow_model((100, 30));
    fx::live_midway(&mut m);
    // The drain view cannot be closed while it runs; were it not shown, `:q` still asks.
    m.flow.dialog = None;
    key(&mut m, ':');
    key(&mut m, 'q');
    press(&mut m, KeyCode::Enter);
    assert!(!m.quit);
    assert!(asking(&m));
    press(&mut m, KeyCode::Esc);
    assert!(m.flow.dialog.is_none(), "back to where it was: no dialog");
}

#[test]
fn the_question_goes_away_when_the_drain_ends() {
    let mut m = flow_model((100, 30));
    fx::live_midway(&mut m);
    ctrl_c(&mut m);
    fx::drain_event(
        &mut m,
        DrainEvent::Finished(DrainOutcome {
            node: "node0".into(),
            state: NodeState::Drained,
            errors: vec![],
            pending_pods: vec![],
            message: "node/node0 drained".into(),
        }),
    );
    assert!(matches!(m.flow.dialog, Some(Dialog::Live)));
    // Nothing runs any more: q quits at once.
    ctrl_c(&mut m);
    assert!(m.quit);
}

#[test]
fn without_a_drain_quitting_is_immediate() {
    let mut m = flow_model((100, 30));
    key(&mut m, 'q');
    assert!(m.quit);
}

#[test]
fn without_a_drain_client_changes_are_refused_with_the_reason() {
    let mut m = flow_model((100, 30));
    m.flow.cannot_change = Some("no client for changes (bad certificate)".into());
    let key = |m: &mut _, code| update(m, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
    let flash = |m: &kubedrain::app::model::Model| {
        m.flash.as_ref().map(|(t, _)| t.clone()).unwrap_or_default()
    };
    let cmds = key(&mut m, KeyCode::Char('c'));
    assert!(cmds.is_empty(), "{cmds:?}");
    assert!(m.flow.dialog.is_none());
    assert_eq!(
        flash(&m),
        "cannot cordon node0: no client for changes (bad certificate)"
    );
    // The drain plan is a read, so it can be seen; its Enter is refused with the reason.
    key(&mut m, KeyCode::Char('r'));
    key(&mut m, KeyCode::Enter);
    assert!(
        m.flow
            .dialog
            .as_ref()
            .is_some_and(|d| format!("{d:?}").starts_with("Plan"))
    );
    assert!(key(&mut m, KeyCode::Enter).is_empty());
    assert!(m.flow.live.is_none());
    assert_eq!(
        flash(&m),
        "cannot drain node0: no client for changes (bad certificate) (this plan is a preview)"
    );
    key(&mut m, KeyCode::Esc);
    key(&mut m, KeyCode::Esc);
    m.flash = None;
    let s = screen(&m);
    assert!(s.contains("CHANGES DISABLED"), "{s}");
    let footer = s.lines().last().unwrap_or_default();
    assert!(
        !footer.contains("cordon") && !footer.contains("drain") && footer.contains("r plan"),
        "{footer}"
    );
}

/// The real binary: Ctrl-C while a PDB holds the drain up asks first; y cancels the drain,
/// waits for it to say so, and exits (the journal records the cancelled drain).
#[test]
fn ctrl_c_mid_drain_asks_then_cancels_and_quits() {
    use crate::common::pty::Pty;
    use std::time::Duration;
    let state = tempfile::tempdir().unwrap();
    // Slow: the replacements stay unready, so the PDB keeps blocking.
    let args = ["demo", "--scenario", "pdb-blocked", "--speed", "0.1"];
    let mut pty = Pty::spawn(&args, Some(state.path()));
    let long = Duration::from_secs(60);
    pty.wait_for_demo();
    pty.drain_node0();
    pty.wait_for("a PDB blocking the drain", long, |s| {
        s.contains("Drain node0 ·") && s.contains("blocked") && s.contains("PDB shop/checkout")
    });
    pty.send(b"\x03");
    pty.wait_for("the quit question", long, |s| {
        s.contains("Quit kubedrain?") && s.contains("node0 stays cordoned")
    });
    pty.send(b"y");
    assert!(pty.wait_exit(Duration::from_secs(10)), "y quits");
    let journal = std::fs::read_to_string(state.path().join("journal.jsonl")).unwrap();
    let result = journal
        .lines()
        .rfind(|l| l.contains("\"drain-result\""))
        .unwrap_or_else(|| panic!("no drain result in:\n{journal}"));
    assert!(result.contains("\"outcome\":\"cancelled\""), "{result}");
}
