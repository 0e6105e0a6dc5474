//! Never silent: every key of the keymap, pressed in every pane (and read-only), either does
//! something visible, asks the runtime to do something, or says why it cannot. Generated
//! from `BINDINGS`, so a new binding is covered the day it is added.

use kubedrain::app::fixtures::seed_model;
use kubedrain::app::keymap::{Action, BINDINGS, Key};
use kubedrain::app::model::{Model, Pane};
use kubedrain::app::msg::Msg;
use kubedrain::app::update::update;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// The whole frame, styles included (a moved selection is a style).
fn screen(m: &mut Model) -> Buffer {
    m.refresh();
    let mut t = Terminal::new(TestBackend::new(m.size.0, m.size.1)).unwrap();
    t.draw(|f| kubedrain::ui::render(m, f)).unwrap();
    t.backend().buffer().clone()
}

fn event(k: Key) -> KeyEvent {
    match k {
        Key::Ch(c) => KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE),
        Key::Ctrl(c) => KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL),
        Key::Code(code) => KeyEvent::new(code, KeyModifiers::NONE),
    }
}

/// A model with `pane` focused and its selection on the second row (so up and down both
/// have somewhere to go).
fn model(pane: Pane, readonly: bool) -> Model {
    let mut m = seed_model((120, 40));
    m.readonly = readonly;
    m.refresh();
    let tab = KeyEvent::new(KeyCode::Tab, KeyModifiers::NONE);
    while m.focus != pane {
        update(&mut m, Msg::Key(tab));
    }
    if pane == Pane::Events {
        // Every event, not only the selected node's one: rows to move through.
        update(
            &mut m,
            Msg::Key(KeyEvent::new(KeyCode::Char('a'), KeyModifiers::NONE)),
        );
    }
    update(
        &mut m,
        Msg::Key(KeyEvent::new(KeyCode::Char('j'), KeyModifiers::NONE)),
    );
    m.flash = None;
    m
}

#[test]
fn every_key_in_every_pane_acts_or_says_why() {
    let mut silent = vec![];
    for b in BINDINGS {
        for &key in b.keys {
            for pane in [Pane::Nodes, Pane::Pods, Pane::Events] {
                for readonly in [false, true] {
                    let mut m = model(pane, readonly);
                    let before = screen(&mut m);
                    let cmds = update(&mut m, Msg::Key(event(key)));
                    let after = screen(&mut m);
                    if cmds.is_empty() && before == after && !m.quit {
                        silent.push(format!(
                            "{} ({:?}) in {pane:?}{}",
                            key.label(),
                            b.action,
                            if readonly { ", read-only" } else { "" }
                        ));
                    }
                }
            }
        }
    }
    assert!(
        silent.is_empty(),
        "keys that did nothing visible:\n{}",
        silent.join("\n")
    );
}

/// A model in `state` (reached by typing `keys` on the nodes pane).
fn model_in(keys: &str) -> Model {
    let mut m = model(Pane::Nodes, false);
    for c in keys.chars() {
        let ev = match c {
            '\n' => KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE),
            c => KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE),
        };
        update(&mut m, Msg::Key(ev));
    }
    m.flash = None;
    m
}

#[test]
fn every_key_over_views_pages_and_dialogs_acts_or_says_why() {
    let mut silent = vec![];
    for (state, keys) in [
        ("the PDB view", ":pdb\n"),
        ("the help", "?"),
        ("the cordon question", "c"),
        ("the drain options", "r"),
        ("the drain plan", "r\n"),
        ("the describe page", "d"),
        ("the namespace picker", ":ns\n"),
    ] {
        for b in BINDINGS {
            for &key in b.keys {
                let mut m = model_in(keys);
                // Moving has nowhere to go in a one-row list (the PDB view of the seed) or
                // on a page still waiting for its answer (the plan, the describe page: this
                // model has no runtime to answer; their scrolling is tested with content in
                // their own tests).
                let motion = matches!(
                    b.action,
                    Action::Up
                        | Action::Down
                        | Action::Top
                        | Action::Bottom
                        | Action::PageUp
                        | Action::PageDown
                );
                let empty = match state {
                    "the PDB view" => m.views.pdbs.len() <= 1,
                    "the drain plan" | "the describe page" => true,
                    _ => false,
                };
                if motion && empty {
                    continue;
                }
                let before = screen(&mut m);
                let cmds = update(&mut m, Msg::Key(event(key)));
                let after = screen(&mut m);
                if cmds.is_empty() && before == after && !m.quit {
                    silent.push(format!("{} ({:?}) over {state}", key.label(), b.action));
                }
            }
        }
    }
    assert!(
        silent.is_empty(),
        "keys that did nothing visible:\n{}",
        silent.join("\n")
    );
}

/// The panels between nodes and pods: a drain midway and a campaign mid-run, each with the
/// keyboard. Every key of the keymap and of the panel's own table acts or says why.
#[test]
fn every_key_in_the_drain_and_campaign_panels_acts_or_says_why() {
    use kubedrain::app::campaign::{CAMPAIGN_BINDINGS, CCtx};
    use kubedrain::app::drain_flow::{Ctx, FLOW_BINDINGS};
    use kubedrain::app::panel::{self, Panel};
    let drain = || {
        let mut m = kubedrain::app::flow_fixtures::flow_model((120, 40));
        kubedrain::app::flow_fixtures::live_midway(&mut m);
        assert_eq!(panel::focused(&m), Some(Panel::Drain));
        m
    };
    let campaign = || {
        let m = crate::tui_campaign_render::mid_run((120, 40));
        assert_eq!(panel::focused(&m), Some(Panel::Campaign));
        m
    };
    let keymap = BINDINGS.iter().flat_map(|b| b.keys.iter().copied());
    let drain_keys: Vec<Key> = keymap
        .clone()
        .chain(
            FLOW_BINDINGS
                .iter()
                .filter(|b| b.ctx == Ctx::Live)
                .flat_map(|b| b.keys.iter().copied()),
        )
        .collect();
    let campaign_keys: Vec<Key> = keymap
        .chain(
            CAMPAIGN_BINDINGS
                .iter()
                .filter(|b| b.ctxs.contains(&CCtx::Panel))
                .flat_map(|b| b.keys.iter().copied()),
        )
        .collect();
    let mut silent = vec![];
    for (state, make, keys) in [
        ("the drain panel", &drain as &dyn Fn() -> Model, drain_keys),
        ("the campaign panel", &campaign, campaign_keys),
    ] {
        for key in keys {
            let mut m = make();
            m.flash = None;
            let before = screen(&mut m);
            let cmds = update(&mut m, Msg::Key(event(key)));
            let after = screen(&mut m);
            if cmds.is_empty() && before == after && !m.quit {
                silent.push(format!("{} in {state}", key.label()));
            }
        }
    }
    assert!(
        silent.is_empty(),
        "keys that did nothing visible:\n{}",
        silent.join("\n")
    );
}
