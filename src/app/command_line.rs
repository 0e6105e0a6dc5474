//! The `:` command line: switching panes and views, `:ns`, `:ctx`, `:versions`, `:log`.

use super::actions::focus;
use super::keymap::COMMANDS;
use super::model::{Model, Overlay, Pane, View};
use super::msg::Cmd;

pub(super) fn run_command(m: &mut Model, cmd: &str) -> Vec<Cmd> {
    let (name, arg) = cmd
        .trim_start_matches(':')
        .split_once(' ')
        .map_or((cmd.trim_start_matches(':'), ""), |(n, a)| (n, a.trim()));
    let found = COMMANDS.iter().find(|(names, _)| names.contains(&name));
    match found.map(|(names, _)| names[0]) {
        Some("nodes") => focus(m, Pane::Nodes),
        Some("pods") => focus(m, Pane::Pods),
        Some("events") => focus(m, Pane::Events),
        // The PDB view is kept current by its watch: showing it rebuilds nothing.
        Some("pdb") => m.view = View::Pdbs,
        Some("ns") => super::namespaces::command(m, arg),
        Some("ctx") => context_command(m, arg),
        Some("versions") => versions_command(m, arg),
        Some("campaign") => return super::campaign::command(m),
        Some("log") => super::teach::open_log(m),
        Some("kubeconfig") => {
            let text = match &m.conn.demo_kubeconfig {
                Some(kc) => format!("kubectl beside the demo: export KUBECONFIG={kc}"),
                None => format!(
                    "not a demo: kubedrain uses context {} of your kubeconfig",
                    m.conn.context
                ),
            };
            m.say(text);
        }
        Some("help") => m.overlay = Some(Overlay::Help),
        Some("q") => super::drain_flow::quit(m),
        _ if name.is_empty() => {}
        _ => {
            m.say(format!(
                "unknown command :{name} (try :nodes :pods :events :pdb :ns :ctx :versions :campaign :log :q)"
            ))
        }
    }
    Vec::new()
}

/// `:ctx` picks among the kubeconfig's contexts; `:ctx NAME` continues in that one (a new
/// connection, watch and journal target), unless a drain or campaign runs here.
pub(super) fn context_command(m: &mut Model, arg: &str) {
    let text = if m.conn.demo.is_some() {
        "the demo is its own cluster: it has no other context".to_string()
    } else if arg.is_empty() && m.contexts.is_empty() {
        // In a pod (in-cluster config) there is no kubeconfig to choose from.
        "no kubeconfig contexts to switch to: connected without a kubeconfig (in-cluster)".into()
    } else if arg.is_empty() {
        let items = m
            .contexts
            .iter()
            .map(|c| super::picker::PickItem {
                value: c.clone(),
                label: c.clone(),
                detail: if *c == m.conn.context {
                    "current".into()
                } else {
                    String::new()
                },
                current: *c == m.conn.context,
            })
            .collect();
        m.picker = Some(super::picker::Picker::new(
            super::picker::PickKind::Context,
            items,
        ));
        return;
    } else if arg == m.conn.context {
        format!("already on context {arg}")
    } else if !m.contexts.iter().any(|c| c == arg) {
        format!("no context {arg} in the kubeconfig (:ctx picks one)")
    } else if let Some(l) = m.flow.live.as_ref().filter(|l| l.outcome.is_none()) {
        format!(
            "a drain of {} runs on {}: switching would cancel it (x cancels it first)",
            l.node, m.conn.context
        )
    } else if m.campaign.running() {
        format!(
            "a campaign runs on {}: it must end or be aborted first",
            m.conn.context
        )
    } else {
        m.switch_context = Some(arg.to_string());
        m.quit = true;
        return;
    };
    m.say(text);
}

/// `:versions [vX.Y.Z]`: the matrix, and with a version the way there.
fn versions_command(m: &mut Model, arg: &str) {
    let target = match arg {
        "" => None,
        a => match crate::campaign::version::Version::parse(a) {
            Ok(v) => Some(v),
            Err(e) => {
                m.say(format!(":versions: {e}"));
                return;
            }
        },
    };
    m.view = View::Versions;
    m.versions = super::model::VersionsView {
        target,
        ..Default::default()
    };
    m.stale = true;
}

#[cfg(test)]
mod tests {
    use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

    use crate::app::flow_fixtures::{self as fx, flow_model};
    use crate::app::model::Model;
    use crate::app::msg::Msg;
    use crate::app::update;

    fn command(m: &mut Model, line: &str) -> String {
        let key = |m: &mut Model, c| update(m, Msg::Key(KeyEvent::new(c, KeyModifiers::NONE)));
        key(m, KeyCode::Char(':'));
        for c in line.chars() {
            key(m, KeyCode::Char(c));
        }
        key(m, KeyCode::Enter);
        m.flash.take().map(|f| f.0).unwrap_or_default()
    }

    fn real(contexts: &[&str]) -> Model {
        let mut m = flow_model((120, 40));
        m.conn.demo = None;
        m.conn.context = contexts.first().map_or("in-cluster", |c| c).to_string();
        m.contexts = contexts.iter().map(|c| c.to_string()).collect();
        m
    }

    #[test]
    fn ctx_picks_refuses_what_it_cannot_and_switches() {
        let mut m = real(&["prod", "staging"]);
        assert_eq!(command(&mut m, "ctx"), "");
        let p = m.picker.clone().expect("the context picker");
        let labels: Vec<&str> = p.items.iter().map(|i| i.label.as_str()).collect();
        assert_eq!(labels, ["prod", "staging"]);
        assert_eq!(p.selected, 0, "the current context is selected");
        update(
            &mut m,
            Msg::Key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE)),
        );
        assert!(m.picker.is_none());
        assert_eq!(command(&mut m, "ctx prod"), "already on context prod");
        assert!(command(&mut m, "ctx nope").starts_with("no context nope"));
        assert!(!m.quit);
        // Not while a drain runs here: switching would cancel it.
        fx::live_midway(&mut m);
        m.flow.dialog = None;
        let said = command(&mut m, "ctx staging");
        assert!(said.starts_with("a drain of node0 runs on prod"), "{said}");
        assert!(!m.quit && m.switch_context.is_none());
        // Without one, the session ends with the context to continue in.
        let mut m = real(&["prod", "staging"]);
        command(&mut m, "ctx staging");
        assert!(m.quit);
        assert_eq!(m.switch_context.as_deref(), Some("staging"));
        // The picker's Enter does the same.
        let mut m = real(&["prod", "staging"]);
        command(&mut m, "ctx");
        for c in [KeyCode::Down, KeyCode::Enter] {
            update(&mut m, Msg::Key(KeyEvent::new(c, KeyModifiers::NONE)));
        }
        assert!(m.quit);
        assert_eq!(m.switch_context.as_deref(), Some("staging"));
    }

    #[test]
    fn in_cluster_there_is_no_context_to_pick() {
        let mut m = real(&[]);
        let said = command(&mut m, "ctx");
        assert!(said.contains("connected without a kubeconfig"), "{said}");
        assert!(m.picker.is_none());
    }

    #[test]
    fn the_demo_has_no_other_context() {
        let mut m = flow_model((120, 40));
        m.conn.demo = Some("seed".into());
        assert!(command(&mut m, "ctx").contains("no other context"));
    }
}
