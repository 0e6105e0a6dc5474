//! The pure reducer: `update(&mut Model, Msg) -> Vec<Cmd>`. No I/O here.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::actions::{action, set_filter};
use super::keymap::{self, Action};
use super::model::{
    ConnState, Input, Model, Overlay, Pane, PodCoverage, PodScope, View, WatchState,
};
use super::msg::{Cmd, Msg};
use crate::cluster::watch::{Ev, Feed, Kind, WatchReport};

/// How long a flash message stays in the status line, in seconds.
const FLASH_SECS: i64 = 5;

/// Applies `msg` to `m`; returns the side effects to run.
pub fn update(m: &mut Model, msg: Msg) -> Vec<Cmd> {
    // Teach mode reads the message before it lands, and what it left after.
    let told_before = m.teach.told_count();
    super::teach::before(m, &msg);
    let flash_before = m.flash_seq;
    let cmds = apply(m, msg);
    super::teach::after(m, flash_before, &cmds);
    // A message said something: the footer shows it (not only the pane rows of a damage).
    if m.flash_seq != flash_before {
        m.redraw = true;
    }
    // New lines show at once where the narration or the timeline is on screen.
    if m.teach.told_count() != told_before && (m.teach.on || m.view == View::Timeline) {
        m.redraw = true;
    }
    cmds
}

fn apply(m: &mut Model, msg: Msg) -> Vec<Cmd> {
    // Long: one arm per message; each arm is short and hands off to its module.
    match msg {
        Msg::Watch { generation, report } => {
            if generation == m.generation {
                let before = m.conn_state();
                watch(m, report);
                if m.conn_state() != before {
                    m.redraw = true;
                }
                super::drain_flow::check_resume(m);
                super::describe::cache_changed(m);
            }
            Vec::new()
        }
        Msg::ClusterUid(uid) => super::conn::cluster_uid(m, uid),
        Msg::Tick(now) => {
            let before = m.now;
            let state_before = m.conn_state();
            m.now = now;
            let arrivals = m.arrivals.len();
            m.arrivals
                .retain(|_, t| (now - *t).get_seconds() < super::model::ARRIVAL_SECS);
            let mut changed = m.arrivals.len() != arrivals;
            if m.flash
                .as_ref()
                .is_some_and(|(_, t)| (now - *t).get_seconds() >= FLASH_SECS)
            {
                m.flash = None;
                changed = true;
            }
            // Ages shown to the second exist only for things younger than 10 minutes (and the
            // "disconnected for" timer); older ages change at most once a minute.
            let young = m
                .views
                .youngest
                .is_some_and(|t| (now - t).get_seconds() < 600);
            // A watch going silent shows at the tick that notices it; while one is, the "ago"
            // counts.
            let state = m.conn_state();
            let disconnected = state != state_before
                || matches!(
                    state,
                    ConnState::Disconnected { .. } | ConnState::Stale { .. }
                );
            let new_minute = before.as_second() / 60 != now.as_second() / 60;
            if new_minute {
                // A long session sees pods come and go: their memory goes with their events.
                m.cache.prune_departed();
            }
            if changed || young || disconnected || new_minute {
                m.redraw = true;
            }
            // The live drain's clocks and countdowns, the demo upgrade's progress.
            if super::drain_flow::tick(m) {
                m.redraw = true;
            }
            // The describe page's "read 5s ago".
            if m.describe.page.is_some() {
                m.redraw = true;
            }
            // The campaign view's (or panel's) drain clocks and countdowns.
            let on_screen = m.view == View::Campaign
                || super::panel::shown(m) == Some(super::panel::Panel::Campaign);
            if on_screen && m.campaign.running() {
                m.redraw = true;
            }
            Vec::new()
        }
        Msg::Resize(w, h) => {
            m.size = (w, h);
            m.stale = true;
            m.redraw = true;
            m.refresh();
            Vec::new()
        }
        // The watches confirm themselves (bookmarks): `/version` answering says nothing about
        // a watch refused or cut, so it no longer clears a failure (it made the indicator
        // flap between "live" and "disconnected").
        Msg::Health(_) => Vec::new(),
        Msg::ServerVersion(v) => {
            if m.conn.version != v {
                m.conn.version = v;
                // The versions view reads it (the newest apiserver answers).
                m.versions.dirty = true;
                m.redraw = true;
            }
            Vec::new()
        }
        Msg::Flash(text) => {
            m.say(text);
            m.redraw = true;
            Vec::new()
        }
        Msg::Quit => {
            m.quit = true;
            Vec::new()
        }
        Msg::Flow(msg) => super::drain_flow::on_msg(m, msg),
        Msg::Describe(answer) => {
            super::describe::on_answer(m, answer);
            Vec::new()
        }
        Msg::Campaign(msg) => super::campaign::on_msg(m, msg),
        Msg::ClusterTime(t) => {
            m.redraw |= m.cluster_time != Some(t);
            m.cluster_time = Some(t);
            Vec::new()
        }
        Msg::Clock(state) => {
            let text = match (m.demo_clock, state) {
                (Some(old), new) if old.frozen && !new.frozen => "thawed: the cluster runs again",
                (Some(old), new) if !old.frozen && new.frozen => {
                    "frozen: time, countdowns and controllers stand still (. steps, f thaws)"
                }
                (_, new) if new.frozen => "stepped one second and one controller pass",
                _ => "",
            };
            if !text.is_empty() {
                m.say(text);
            }
            m.demo_clock = Some(state);
            m.redraw = true;
            Vec::new()
        }
        Msg::Key(k) => {
            if k.kind == KeyEventKind::Release {
                return Vec::new();
            }
            m.redraw = true;
            let cmds = key(m, k);
            m.refresh();
            cmds
        }
    }
}

fn watch(m: &mut Model, report: WatchReport) {
    // Long: one arm per watch report; the arms share the connection bookkeeping.
    super::conn::heard(m, &report);
    match report {
        WatchReport::Alive { kind, .. } => {
            // A bookmark: the watch is back (after a failure), alive and current.
            if matches!(
                m.watch.get(&kind),
                Some(WatchState::Failed { .. } | WatchState::Reconnecting)
            ) {
                m.watch.insert(kind, WatchState::Live);
                m.redraw = true;
            }
        }
        WatchReport::Expired(kind) => {
            m.watch.insert(kind, WatchState::Resyncing);
            m.redraw = true;
        }
        WatchReport::Narrowed {
            kind,
            namespace,
            error,
        } => {
            // Only the pod watcher falls back to a namespace.
            if kind == Kind::Pods {
                m.pod_coverage = PodCoverage::namespace(&namespace, &error);
                m.stale = true;
                m.redraw = true;
            }
        }
        WatchReport::Forbidden(kind, error) => {
            if kind == Kind::Pods {
                let coverage = PodCoverage::forbidden(&error);
                if m.pod_coverage != coverage {
                    m.pod_coverage = coverage;
                    m.stale = true;
                }
            }
            let error = if kind == Kind::Pods {
                format!("{error} (-n NAMESPACE shows one namespace's pods)")
            } else {
                error
            };
            watch(m, WatchReport::Error(kind, error));
        }
        WatchReport::Error(kind, error) => {
            let since = match m.watch.get(&kind) {
                Some(WatchState::Failed { since, .. }) => *since,
                _ => m.now,
            };
            let state = WatchState::Failed { since, error };
            if m.watch.get(&kind) != Some(&state) {
                m.watch.insert(kind, state);
                m.redraw = true;
            }
        }
        WatchReport::Feed(feed) => {
            let kind = feed.kind();
            let state = match &feed {
                Feed::Nodes(Ev::Init)
                | Feed::Pods(Ev::Init)
                | Feed::Events(Ev::Init)
                | Feed::Pdbs(Ev::Init) => Some(match m.watch.get(&kind) {
                    Some(WatchState::Connecting) => WatchState::Connecting,
                    _ => WatchState::Resyncing,
                }),
                Feed::Nodes(Ev::InitApply(_) | Ev::InitPage(_))
                | Feed::Pods(Ev::InitApply(_) | Ev::InitPage(_))
                | Feed::Events(Ev::InitApply(_) | Ev::InitPage(_))
                | Feed::Pdbs(Ev::InitApply(_) | Ev::InitPage(_)) => None,
                // InitDone, or an event on a stream that resumed without relisting.
                _ => Some(WatchState::Live),
            };
            if let Some(s) = state
                && m.watch.get(&kind) != Some(&s)
            {
                m.watch.insert(kind, s);
                m.redraw = true;
            }
            // A pod that appears outside a relist has just been created or scheduled here:
            // remember when, so it can stand out for a moment (pods landing during a drain).
            if let Feed::Pods(Ev::Apply(p)) = &feed {
                let key = p.key();
                let was = m.cache.pods.get(&key).and_then(|o| o.node_name.clone());
                if p.node_name.is_some() && was != p.node_name {
                    m.arrivals.insert(key, m.now);
                }
            }
            // The cluster-wide pod list that was forbidden went through after all.
            if matches!(feed, Feed::Pods(Ev::InitDone))
                && matches!(m.pod_coverage, PodCoverage::Forbidden { .. })
            {
                m.pod_coverage = PodCoverage::All;
                m.stale = true;
            }
            // The live drain view keeps finding replacements after the engine stopped.
            if let (Feed::Pods(ev), Some(live)) = (&feed, &mut m.flow.live) {
                live.on_pod_event(ev);
            }
            if crate::benchlog::enabled() {
                match &feed {
                    Feed::Nodes(Ev::InitDone) => crate::benchlog::mark("synced nodes"),
                    Feed::Pods(Ev::InitDone) => crate::benchlog::mark("synced pods"),
                    // The churn's stamp is the restart count: the event reached the model.
                    Feed::Pods(Ev::Apply(p)) => {
                        crate::benchlog::value("applied pod", u128::from(p.restarts))
                    }
                    _ => {}
                }
            }
            super::dirty::apply(m, feed);
        }
    }
}

fn key(m: &mut Model, k: KeyEvent) -> Vec<Cmd> {
    // Ctrl-C quits from anywhere, whatever is being typed (asking first during a drain).
    if k.modifiers.contains(KeyModifiers::CONTROL) && k.code == KeyCode::Char('c') {
        super::drain_flow::quit(m);
        return Vec::new();
    }
    match m.input.clone() {
        Input::Filter(text) => edit_line(m, k, text, true),
        Input::Command(text) => edit_line(m, k, text, false),
        Input::Normal => {
            if m.overlay == Some(Overlay::Help) {
                // Any of these closes help; other keys say so (never silent).
                if matches!(
                    k.code,
                    KeyCode::Esc | KeyCode::Char('?') | KeyCode::Char('q')
                ) {
                    m.overlay = None;
                } else {
                    m.say("the help is open: Esc, ? or q closes it");
                }
                return Vec::new();
            }
            if let Some(cmds) = super::picker::key(m, &k) {
                return cmds;
            }
            if let Some(cmds) = super::describe::key(m, &k) {
                return cmds;
            }
            if let Some(cmds) = super::demo_clock::key(m, &k) {
                return cmds;
            }
            if let Some(cmds) = super::drain_flow::key(m, &k) {
                return cmds;
            }
            if let Some(cmds) = super::campaign::key(m, &k) {
                return cmds;
            }
            match keymap::lookup(&k, m.focus, m.readonly) {
                Some(a) => action(m, a),
                None => unbound(m, &k),
            }
        }
    }
}

/// A key with no binding where it was pressed: never silent. The pods pane's node takes
/// `c`/`u`/`r` (its title names it); other keys say where they work, or why they cannot.
fn unbound(m: &mut Model, k: &KeyEvent) -> Vec<Cmd> {
    if let Some(b) = keymap::readonly_here(k, m.focus, m.readonly) {
        let text = format!("read-only: {} ({}) is off", b.keys()[0].label(), b.help);
        m.say(text);
        return Vec::new();
    }
    let Some(b) = keymap::elsewhere(k, m.focus) else {
        return Vec::new();
    };
    let node_keys = matches!(b.action, Action::Cordon | Action::Uncordon | Action::Drain);
    if node_keys && m.focus == Pane::Pods && m.pod_scope == PodScope::Node && m.view == View::Main {
        // `open` refuses cordon/uncordon read-only (and says so); a drain plan can be seen.
        return action(m, b.action);
    }
    let key = b.keys()[0].label();
    if m.view != View::Main {
        let text = format!(
            "{key} ({}) works in the main view: Esc goes back to it",
            b.help
        );
        m.say(text);
        return Vec::new();
    }
    let text = if b.mutating && m.readonly {
        format!("read-only: {key} ({}) is off", b.help)
    } else {
        format!(
            "{key} ({}) works in the {}",
            b.help,
            b.scope.title().to_lowercase()
        )
    };
    m.say(text);
    Vec::new()
}

/// Typing into the filter or command line.
fn edit_line(m: &mut Model, k: KeyEvent, mut text: String, is_filter: bool) -> Vec<Cmd> {
    match k.code {
        KeyCode::Esc => {
            m.input = Input::Normal;
            if is_filter {
                set_filter(m, "");
            }
            return Vec::new();
        }
        KeyCode::Enter => {
            m.input = Input::Normal;
            if !is_filter {
                return super::command_line::run_command(m, text.trim());
            }
            return Vec::new();
        }
        KeyCode::Backspace => {
            if text.pop().is_none() {
                m.input = Input::Normal;
                return Vec::new();
            }
        }
        KeyCode::Char(c) => text.push(c),
        _ => return Vec::new(),
    }
    if is_filter {
        set_filter(m, &text);
        m.input = Input::Filter(text);
    } else {
        m.input = Input::Command(text);
    }
    Vec::new()
}
