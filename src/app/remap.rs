//! Key remapping from the config file's `keys:` (action name → key or keys). The new keys
//! replace the action's keys for the session, in help and hints too; a key already taken
//! where the action applies is refused, so remapping never silently shadows another key.
//!
//! The main keymap's actions have plain names (`drain`); a dialog's or panel's keys are
//! named `place.action` (`drain-panel.cancel-drain`, `campaign.pause`, `describe.yaml`).

use std::collections::HashMap;
use std::sync::OnceLock;

use ratatui::crossterm::event::KeyCode;

use super::keymap::{Action, BINDINGS, Binding, Key, Scope};

/// The session's remapped keys.
#[derive(Debug, Default, PartialEq)]
pub struct Remap {
    /// The main keymap's actions.
    pub main: HashMap<Action, Vec<Key>>,
    /// Dialog and panel keys, by `place.action`.
    pub named: HashMap<String, Vec<Key>>,
}

static REMAP: OnceLock<Remap> = OnceLock::new();

/// Uses `map` from now on (the first call wins).
pub fn install(map: Remap) {
    let _ = REMAP.set(map);
}

/// The keys of `b` in this session.
pub fn keys_of(b: &Binding) -> &'static [Key] {
    REMAP
        .get()
        .and_then(|m| m.main.get(&b.action))
        .map_or(b.keys, Vec::as_slice)
}

/// The keys of a dialog's or panel's binding in this session: `default` unless the config
/// remapped `name()` (only asked for when something was remapped).
pub fn named_keys(default: &'static [Key], name: impl FnOnce() -> String) -> &'static [Key] {
    match REMAP.get() {
        Some(r) if !r.named.is_empty() => r.named.get(&name()).map_or(default, Vec::as_slice),
        _ => default,
    }
}

/// A dialog's or panel's binding as remapping sees it.
#[derive(Debug, Clone)]
pub struct Named {
    /// `place.action`, as a config writes it.
    pub name: String,
    /// The places it applies in (two bindings clash only where they share one).
    pub places: Vec<&'static str>,
    /// Its default keys.
    pub keys: &'static [Key],
}

/// Every dialog and panel binding, from the tables the key handlers read.
pub fn all_named() -> Vec<Named> {
    let mut all = super::drain_flow::named_bindings();
    all.extend(super::campaign::named_bindings());
    all.extend(super::describe::keys::named_bindings());
    all
}

/// The action names a config can remap, with their actions.
pub const NAMES: &[(&str, Action)] = &[
    ("quit", Action::Quit),
    ("up", Action::Up),
    ("down", Action::Down),
    ("top", Action::Top),
    ("bottom", Action::Bottom),
    ("page-up", Action::PageUp),
    ("page-down", Action::PageDown),
    ("next-pane", Action::NextPane),
    ("prev-pane", Action::PrevPane),
    ("enter", Action::Enter),
    ("back", Action::Back),
    ("filter", Action::Filter),
    ("command", Action::Command),
    ("help", Action::Help),
    ("all-namespaces", Action::AllNamespaces),
    ("pods-all", Action::PodsAll),
    ("pods-pending", Action::PodsPending),
    ("events-all", Action::EventsAll),
    ("cordon", Action::Cordon),
    ("uncordon", Action::Uncordon),
    ("drain", Action::Drain),
    ("mark", Action::Mark),
    ("campaign", Action::Campaign),
    ("panel", Action::DrainPanel),
    ("teach", Action::Teach),
];

/// Text that names no key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{0:?} is not a key (one character, ctrl-x, or enter, esc, tab, space, up, down, \
     home, end, pgup, pgdn, f1-f12)"
)]
pub struct NotAKey(pub String);

/// A key as a config writes it: one character, `ctrl-x`, or a name (`enter`, `esc`, `tab`,
/// `backtab`, `space`, `up`, `down`, `left`, `right`, `home`, `end`, `pgup`, `pgdn`, `f1`…).
pub fn parse_key(s: &str) -> Result<Key, NotAKey> {
    let lower = s.to_ascii_lowercase();
    let mut chars = s.chars();
    if let (Some(c), None) = (chars.next(), chars.next()) {
        return Ok(Key::Ch(c));
    }
    if let Some(c) = lower.strip_prefix("ctrl-")
        && let (Some(c), None) = (c.chars().next(), c.chars().nth(1))
    {
        return Ok(Key::Ctrl(c));
    }
    let code = match lower.as_str() {
        "enter" => KeyCode::Enter,
        "esc" => KeyCode::Esc,
        "tab" => KeyCode::Tab,
        "backtab" | "shift-tab" => KeyCode::BackTab,
        "space" => return Ok(Key::Ch(' ')),
        "up" => KeyCode::Up,
        "down" => KeyCode::Down,
        "left" => KeyCode::Left,
        "right" => KeyCode::Right,
        "home" => KeyCode::Home,
        "end" => KeyCode::End,
        "pgup" | "pageup" => KeyCode::PageUp,
        "pgdn" | "pagedown" => KeyCode::PageDown,
        f if f.starts_with('f') && f[1..].parse::<u8>().is_ok_and(|n| (1..=12).contains(&n)) => {
            KeyCode::F(f[1..].parse().unwrap_or(1))
        }
        _ => {
            return Err(NotAKey(s.to_string()));
        }
    };
    Ok(Key::Code(code))
}

/// Checks and builds the remap from `(action name, keys)`; an error names the action.
pub fn build<'a>(
    entries: impl IntoIterator<Item = (&'a str, Vec<&'a str>)>,
) -> Result<Remap, (String, String)> {
    let named = all_named();
    let mut remap = Remap::default();
    for (name, keys) in entries {
        let keys = keys
            .into_iter()
            .map(parse_key)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| (name.to_string(), e.to_string()))?;
        if keys.is_empty() {
            return Err((name.to_string(), "no key given".into()));
        }
        if name.contains('.') {
            known_place(&named, name).map_err(|why| (name.to_string(), why))?;
            remap.named.insert(name.to_string(), keys);
            continue;
        }
        let Some(&(_, action)) = NAMES.iter().find(|(n, _)| *n == name) else {
            let names: Vec<&str> = NAMES.iter().map(|(n, _)| *n).collect();
            let why = format!(
                "no action {name:?} (one of: {}; or place.action for a dialog's or panel's key)",
                names.join(", ")
            );
            return Err((name.to_string(), why));
        };
        remap.main.insert(action, keys);
    }
    clashes(&remap.main)?;
    named_clashes(&named, &remap.named)?;
    Ok(remap)
}

/// Whether `name` is a dialog's or panel's binding; if not, what its place offers.
fn known_place(named: &[Named], name: &str) -> Result<(), String> {
    if named.iter().any(|n| n.name == name) {
        return Ok(());
    }
    let place = name.split('.').next().unwrap_or_default();
    let mut here: Vec<&str> = named
        .iter()
        .filter_map(|n| n.name.strip_prefix(place)?.strip_prefix('.'))
        .collect();
    here.dedup();
    if here.is_empty() {
        let mut places: Vec<&str> = named
            .iter()
            .filter_map(|n| n.name.split('.').next())
            .collect();
        places.dedup();
        return Err(format!(
            "no place {place:?} (one of: {})",
            places.join(", ")
        ));
    }
    Err(format!(
        "{place} has no action {:?} (one of: {})",
        name[place.len() + 1..].to_string(),
        here.join(", ")
    ))
}

/// A remapped dialog or panel key that another binding of the same place keeps.
fn named_clashes(named: &[Named], map: &HashMap<String, Vec<Key>>) -> Result<(), (String, String)> {
    let keys = |n: &Named| map.get(&n.name).map_or(n.keys, Vec::as_slice);
    for (name, new) in map {
        for mine in named.iter().filter(|n| &n.name == name) {
            let other = named.iter().find(|o| {
                o.name != *name
                    && o.places.iter().any(|p| mine.places.contains(p))
                    && keys(o).iter().any(|k| new.contains(k))
            });
            if let Some(o) = other {
                let key = keys(o)
                    .iter()
                    .find(|k| new.contains(k))
                    .map_or_else(String::new, |k| k.label());
                let why = format!("{key} is already {}'s key; remap that one too", o.name);
                return Err((name.clone(), why));
            }
        }
    }
    Ok(())
}

/// A remapped key that another action keeps where both apply.
fn clashes(map: &HashMap<Action, Vec<Key>>) -> Result<(), (String, String)> {
    let keys = |b: &Binding| map.get(&b.action).map_or(b.keys, Vec::as_slice);
    let overlap = |a: Scope, b: Scope| a == b || a == Scope::Global || b == Scope::Global;
    for (action, new) in map {
        let mine = BINDINGS.iter().filter(|b| b.action == *action);
        for b in mine {
            let other = BINDINGS.iter().find(|o| {
                o.action != *action
                    && overlap(o.scope, b.scope)
                    && keys(o).iter().any(|k| new.contains(k))
            });
            if let Some(o) = other {
                let name = name_of(*action);
                let key = keys(o)
                    .iter()
                    .find(|k| new.contains(k))
                    .map_or_else(String::new, |k| k.label());
                return Err((
                    name.to_string(),
                    format!(
                        "{key} is already {}'s key ({}); remap that one too",
                        name_of(o.action),
                        o.scope.title()
                    ),
                ));
            }
        }
    }
    Ok(())
}

fn name_of(a: Action) -> &'static str {
    NAMES
        .iter()
        .find(|(_, x)| *x == a)
        .map_or("describe", |(n, _)| *n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_parse_as_configs_write_them() {
        assert_eq!(parse_key("D"), Ok(Key::Ch('D')));
        assert_eq!(parse_key("ctrl-d"), Ok(Key::Ctrl('d')));
        assert_eq!(parse_key("F5"), Ok(Key::Code(KeyCode::F(5))));
        assert_eq!(parse_key("space"), Ok(Key::Ch(' ')));
        assert!(
            parse_key("hyper-x")
                .unwrap_err()
                .to_string()
                .contains("is not a key")
        );
    }

    #[test]
    fn a_remap_replaces_keys_and_refuses_a_taken_one() {
        let m = build([("drain", vec!["D"]), ("cordon", vec!["x", "ctrl-x"])]).unwrap();
        assert_eq!(m.main[&Action::Drain], [Key::Ch('D')]);
        assert_eq!(m.main[&Action::Cordon], [Key::Ch('x'), Key::Ctrl('x')]);
        // `u` is uncordon's in the nodes pane.
        let (name, why) = build([("drain", vec!["u"])]).unwrap_err();
        assert_eq!(name, "drain");
        assert_eq!(
            why,
            "u is already uncordon's key (Nodes pane); remap that one too"
        );
        // Swapping two keys is fine when both are remapped.
        assert!(build([("drain", vec!["u"]), ("uncordon", vec!["r"])]).is_ok());
        let (name, why) = build([("drains", vec!["D"])]).unwrap_err();
        assert_eq!(name, "drains");
        assert!(
            why.starts_with("no action \"drains\" (one of: quit, up"),
            "{why}"
        );
    }

    #[test]
    fn dialog_and_panel_keys_are_named_place_action() {
        let names: Vec<String> = all_named().into_iter().map(|n| n.name).collect();
        for want in [
            "drain-panel.cancel-drain",
            "drain-plan.start",
            "campaign.pause",
            "campaign-panel.zoom",
            "describe.yaml",
            "quit-dialog.confirm",
        ] {
            assert!(names.iter().any(|n| n == want), "{want} in {names:?}");
        }
        let m = build([
            ("drain-panel.cancel-drain", vec!["X"]),
            ("drain", vec!["D"]),
        ])
        .unwrap();
        assert_eq!(m.named["drain-panel.cancel-drain"], [Key::Ch('X')]);
        assert_eq!(m.main[&Action::Drain], [Key::Ch('D')]);
        // The plan's two Enter bindings (start, accept the outage) are one action: one remap.
        assert!(build([("drain-plan.start", vec!["s"])]).is_ok());
    }

    #[test]
    fn a_wrong_place_action_or_taken_key_is_named() {
        let (_, why) = build([("drain-panel.cancel", vec!["X"])]).unwrap_err();
        assert!(
            why.starts_with("drain-panel has no action \"cancel\" (one of: cancel-drain,"),
            "{why}"
        );
        let (_, why) = build([("drainpanel.hide", vec!["X"])]).unwrap_err();
        assert!(
            why.starts_with("no place \"drainpanel\" (one of: confirm, drain-options,"),
            "{why}"
        );
        // `x` cancels the drain in the panel; the campaign panel's `v` is another place's.
        let (name, why) = build([("drain-panel.hide", vec!["x"])]).unwrap_err();
        assert_eq!(name, "drain-panel.hide");
        assert_eq!(
            why,
            "x is already drain-panel.cancel-drain's key; remap that one too"
        );
        assert!(
            build([
                ("drain-panel.hide", vec!["x"]),
                ("drain-panel.cancel-drain", vec!["X"])
            ])
            .is_ok()
        );
        // Keys shared by the campaign view and panel clash with either's own keys.
        let (_, why) = build([("campaign.pause", vec!["enter"])]).unwrap_err();
        assert_eq!(
            why,
            "Enter is already campaign-panel.zoom's key; remap that one too"
        );
    }
}
