//! Key remapping from the config file's `keys:` (action name → key or keys). The new keys
//! replace the action's keys for the session, in help and hints too; a key already taken
//! where the action applies is refused, so remapping never silently shadows another key.

use std::collections::HashMap;
use std::sync::OnceLock;

use ratatui::crossterm::event::KeyCode;

use super::keymap::{Action, BINDINGS, Binding, Key, Scope};

static REMAP: OnceLock<HashMap<Action, Vec<Key>>> = OnceLock::new();

/// Uses `map` from now on (the first call wins).
pub fn install(map: HashMap<Action, Vec<Key>>) {
    let _ = REMAP.set(map);
}

/// The keys of `b` in this session.
pub fn keys_of(b: &Binding) -> &'static [Key] {
    REMAP
        .get()
        .and_then(|m| m.get(&b.action))
        .map_or(b.keys, Vec::as_slice)
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
) -> Result<HashMap<Action, Vec<Key>>, (String, String)> {
    let mut map = HashMap::new();
    for (name, keys) in entries {
        let Some(&(_, action)) = NAMES.iter().find(|(n, _)| *n == name) else {
            let names: Vec<&str> = NAMES.iter().map(|(n, _)| *n).collect();
            let why = format!("no action {name:?} (one of: {})", names.join(", "));
            return Err((name.to_string(), why));
        };
        let keys = keys
            .into_iter()
            .map(parse_key)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| (name.to_string(), e.to_string()))?;
        if keys.is_empty() {
            return Err((name.to_string(), "no key given".into()));
        }
        map.insert(action, keys);
    }
    clashes(&map)?;
    Ok(map)
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
        assert_eq!(m[&Action::Drain], [Key::Ch('D')]);
        assert_eq!(m[&Action::Cordon], [Key::Ch('x'), Key::Ctrl('x')]);
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
}
