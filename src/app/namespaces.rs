//! `:ns`: which namespace the Pods and Events panes list. The pods of every namespace are
//! watched (unless RBAC allows only one), so switching is a filter, not a new watch.

use std::collections::BTreeMap;

use super::model::{Model, Nav, PodCoverage, Table};

/// `:ns` lists the namespaces with pods, `:ns NAME` shows one, `:ns all` (or `-`) all of them.
pub fn command(m: &mut Model, arg: &str) {
    let text = match arg {
        "" => list(m),
        "all" | "-" | "*" => show(m, None),
        name => match crate::cluster::names::namespace(name) {
            Ok(()) => show(m, Some(name)),
            Err(why) => format!(":ns {name}: {why}"),
        },
    };
    m.flash = Some((text, m.now));
}

/// Namespaces with their pod counts, from the cache.
fn counts(m: &Model) -> BTreeMap<&str, usize> {
    let mut by_ns: BTreeMap<&str, usize> = BTreeMap::new();
    for p in m.cache.pods.values() {
        *by_ns.entry(p.namespace()).or_default() += 1;
    }
    by_ns
}

fn list(m: &Model) -> String {
    let by_ns = counts(m);
    if by_ns.is_empty() {
        return "no pods seen in any namespace yet".into();
    }
    // Short enough for an 80-column status line on a small cluster; the pane title says
    // which namespace is shown.
    let names: Vec<String> = by_ns.iter().map(|(ns, n)| format!("{ns} ({n})")).collect();
    format!("namespaces: {} · :ns NAME, :ns all", names.join(", "))
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
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

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
    fn ns_lists_namespaces_with_their_pod_counts() {
        let mut m = seed_model((100, 30));
        run(&mut m, "ns");
        let f = flash(&m);
        let kube_system = m
            .cache
            .pods
            .values()
            .filter(|p| p.namespace() == "kube-system")
            .count();
        assert!(f.contains(&format!("kube-system ({kube_system})")), "{f}");
        assert!(f.contains("default ("), "{f}");
        assert_eq!(m.namespace, None, "listing changes nothing");
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
