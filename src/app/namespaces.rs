//! `:ns`: which namespace the Pods and Events panes list. The pods of every namespace are
//! watched (unless RBAC allows only one), so switching is a filter, not a new watch.

use std::collections::BTreeMap;

use super::model::{Model, Nav, PodCoverage, Table};
use super::picker::{PickItem, PickKind, Picker};

/// `:ns` picks among the namespaces with pods, `:ns NAME` shows one, `:ns all` (or `-`) all
/// of them.
pub fn command(m: &mut Model, arg: &str) {
    let text = match arg {
        "" => match picker_items(m) {
            Some(items) => {
                m.picker = Some(Picker::new(PickKind::Namespace, items));
                return;
            }
            None => "no pods seen in any namespace yet".into(),
        },
        "all" | "-" | "*" => show(m, None),
        name => match crate::cluster::names::namespace(name) {
            Ok(()) => show(m, Some(name)),
            Err(why) => format!(":ns {name}: {why}"),
        },
    };
    m.say(text);
}

/// Namespaces with their pod counts, from the cache.
fn counts(m: &Model) -> BTreeMap<&str, usize> {
    let mut by_ns: BTreeMap<&str, usize> = BTreeMap::new();
    for p in m.cache.pods.values() {
        *by_ns.entry(p.namespace()).or_default() += 1;
    }
    by_ns
}

/// "all namespaces" and each namespace with pods (its count); `None` before any pod is seen.
fn picker_items(m: &Model) -> Option<Vec<PickItem>> {
    let by_ns = counts(m);
    if by_ns.is_empty() {
        return None;
    }
    let total: usize = by_ns.values().sum();
    let all = PickItem {
        value: "all".into(),
        label: "all".into(),
        detail: format!("{} · every namespace", plural(total, "pod")),
        current: m.namespace.is_none(),
    };
    let each = by_ns.iter().map(|(ns, n)| PickItem {
        value: ns.to_string(),
        label: ns.to_string(),
        detail: plural(*n, "pod"),
        current: m.namespace.as_deref() == Some(ns),
    });
    Some(std::iter::once(all).chain(each).collect())
}

fn plural(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

fn show(m: &mut Model, ns: Option<&str>) -> String {
    if let (PodCoverage::Namespace { namespace, reason }, want) = (&m.pod_coverage, ns)
        && want != Some(namespace.as_str())
    {
        return format!("cannot show {}: {reason}", want.unwrap_or("all namespaces"));
    }
    if m.namespace.as_deref() == ns {
        return match ns {
            Some(n) => format!("already showing namespace {n}"),
            None => "already showing all namespaces".into(),
        };
    }
    m.namespace = ns.map(str::to_string);
    // `0` toggles between all namespaces and the one chosen last (`-n` at the start).
    if ns.is_some() {
        m.namespace_arg = m.namespace.clone();
    }
    m.nav.insert(Table::Pods, Nav::default());
    m.nav.insert(Table::Events, Nav::default());
    m.stale = true;
    match ns {
        None => "showing all namespaces (0: back to the last namespace)".into(),
        Some(n) => {
            let pods = counts(m).get(n).copied().unwrap_or(0);
            let none = if pods == 0 {
                " — no pods seen there (:ns lists the namespaces with pods)"
            } else {
                ""
            };
            format!("showing namespace {n}: {pods} pod(s){none} (0: all namespaces)")
        }
    }
}

#[cfg(test)]
mod tests {
    use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

    use super::*;
    use crate::app::fixtures::seed_model;
    use crate::app::msg::Msg;
    use crate::app::update::update;

    fn run(m: &mut Model, cmd: &str) {
        update(
            m,
            Msg::Key(KeyEvent::new(KeyCode::Char(':'), KeyModifiers::NONE)),
        );
        for c in cmd.chars() {
            update(
                m,
                Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)),
            );
        }
        update(
            m,
            Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)),
        );
    }

    fn flash(m: &Model) -> String {
        m.flash.as_ref().map(|f| f.0.clone()).unwrap_or_default()
    }

    #[test]
    fn ns_name_narrows_zero_toggles_and_ns_all_widens() {
        let mut m = seed_model((100, 30));
        m.refresh();
        run(&mut m, "ns kube-system");
        m.refresh();
        assert_eq!(m.namespace.as_deref(), Some("kube-system"));
        assert!(
            flash(&m).starts_with("showing namespace kube-system: "),
            "{}",
            flash(&m)
        );
        assert!(m.views.pods.iter().all(|k| k.starts_with("kube-system/")));
        let zero = KeyEvent::new(KeyCode::Char('0'), KeyModifiers::NONE);
        update(&mut m, Msg::Key(zero));
        assert_eq!(m.namespace, None);
        update(&mut m, Msg::Key(zero));
        assert_eq!(
            m.namespace.as_deref(),
            Some("kube-system"),
            "0 goes back to :ns's"
        );
        run(&mut m, "ns all");
        assert_eq!(m.namespace, None);
        assert!(flash(&m).starts_with("showing all namespaces"));
    }

    #[test]
    fn ns_picks_among_namespaces_with_their_pod_counts() {
        let mut m = seed_model((100, 30));
        run(&mut m, "ns");
        let kube_system = m
            .cache
            .pods
            .values()
            .filter(|p| p.namespace() == "kube-system")
            .count();
        let p = m.picker.clone().expect("the picker");
        assert_eq!(p.items[0].label, "all");
        assert!(p.items[p.selected].current, "the shown one is selected");
        let ks = p.items.iter().find(|i| i.label == "kube-system").unwrap();
        assert_eq!(ks.detail, format!("{kube_system} pods"));
        assert_eq!(m.namespace, None, "opening changes nothing");
        // Typing filters (any letter: j and k too), arrows move, Enter shows the namespace.
        let key = |m: &mut Model, c| update(m, Msg::Key(KeyEvent::new(c, KeyModifiers::NONE)));
        key(&mut m, KeyCode::Up);
        assert!(flash(&m).contains("the first namespace"), "{}", flash(&m));
        key(&mut m, KeyCode::Char('z'));
        assert!(flash(&m).contains("no namespace contains \"z\""));
        key(&mut m, KeyCode::Enter);
        assert!(m.picker.is_some(), "nothing to choose: it stays open");
        key(&mut m, KeyCode::Backspace);
        for c in "kube".chars() {
            key(&mut m, KeyCode::Char(c));
        }
        let p = m.picker.clone().unwrap();
        assert!(p.shown().iter().all(|i| i.label.contains("kube")), "{p:?}");
        key(&mut m, KeyCode::Enter);
        assert!(m.picker.is_none());
        assert_eq!(m.namespace.as_deref(), Some("kube-system"));
        // Esc leaves it as it was.
        run(&mut m, "ns");
        key(&mut m, KeyCode::Down);
        key(&mut m, KeyCode::Esc);
        assert!(m.picker.is_none());
        assert_eq!(m.namespace.as_deref(), Some("kube-system"));
    }

    #[test]
    fn bad_or_empty_namespaces_are_said() {
        let mut m = seed_model((100, 30));
        run(&mut m, "ns Bad_Name");
        assert!(flash(&m).starts_with(":ns Bad_Name: "), "{}", flash(&m));
        assert_eq!(m.namespace, None);
        run(&mut m, "ns nothing-here");
        assert!(flash(&m).contains("no pods seen there"), "{}", flash(&m));
        assert_eq!(m.namespace.as_deref(), Some("nothing-here"));
    }

    #[test]
    fn a_namespace_rbac_hides_is_refused_with_the_reason() {
        let mut m = seed_model((100, 30));
        m.namespace = Some("default".into());
        m.pod_coverage = PodCoverage::Namespace {
            namespace: "default".into(),
            reason: "pods outside namespace default are not visible".into(),
        };
        run(&mut m, "ns kube-system");
        assert_eq!(m.namespace.as_deref(), Some("default"));
        assert!(
            flash(&m).starts_with("cannot show kube-system: pods outside"),
            "{}",
            flash(&m)
        );
    }
}
