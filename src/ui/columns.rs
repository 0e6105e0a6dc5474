//! The columns the config chose per pane (`ui.columns`), in the list's order: the others are
//! hidden. Columns a pane always shows (priority 0, such as NAME) stay whatever the list
//! says; left out of it, they come first.

use std::collections::HashMap;
use std::sync::OnceLock;

use super::table::Col;

static CHOSEN: OnceLock<HashMap<String, Vec<String>>> = OnceLock::new();

/// The panes whose columns can be chosen, with every column they have.
pub fn panes() -> [(&'static str, &'static [Col]); 4] {
    [
        ("nodes", super::panes::nodes::COLS),
        ("pods", super::panes::pods::COLS),
        ("events", super::panes::events::COLS),
        ("pdbs", super::panes::pdbs::COLS),
    ]
}

/// A config's column list that names what is not there (with what is).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ColumnsError {
    /// No such pane.
    #[error("no pane {pane:?} (one of: {})", panes.join(", "))]
    Pane {
        pane: String,
        panes: Vec<&'static str>,
    },
    /// A column listed twice.
    #[error("{title:?} is listed twice")]
    Twice { title: String },
    /// No such column in the pane.
    #[error("{pane} has no column {title:?} (its columns: {})", columns.join(", "))]
    Column {
        pane: String,
        title: String,
        columns: Vec<&'static str>,
    },
}

/// Checks a pane's list: a known pane, known column titles (any case).
pub fn check(pane: &str, titles: &[String]) -> Result<(), ColumnsError> {
    let Some((_, cols)) = panes().into_iter().find(|(p, _)| *p == pane) else {
        return Err(ColumnsError::Pane {
            pane: pane.to_string(),
            panes: panes().iter().map(|(p, _)| *p).collect(),
        });
    };
    for (n, t) in titles.iter().enumerate() {
        if titles[..n].iter().any(|u| u.eq_ignore_ascii_case(t)) {
            return Err(ColumnsError::Twice { title: t.clone() });
        }
        if !cols.iter().any(|c| c.title.eq_ignore_ascii_case(t)) {
            return Err(ColumnsError::Column {
                pane: pane.to_string(),
                title: t.clone(),
                columns: cols.iter().map(|c| c.title).collect(),
            });
        }
    }
    Ok(())
}

/// Uses `chosen` (pane → titles) from now on (the first call wins).
pub fn install(chosen: HashMap<String, Vec<String>>) {
    let _ = CHOSEN.set(chosen);
}

/// Hides (width 0) the columns of `pane` that the config left out, and orders the rest as
/// its list does.
pub fn apply(pane: &str, cols: &mut [Col]) {
    if let Some(list) = CHOSEN.get().and_then(|c| c.get(pane)) {
        choose(list, cols);
    }
}

fn choose(list: &[String], cols: &mut [Col]) {
    for c in cols.iter_mut() {
        match list.iter().position(|t| t.eq_ignore_ascii_case(c.title)) {
            Some(n) => c.pos = u8::try_from(n + 1).unwrap_or(u8::MAX),
            None if c.prio > 0 => c.width = 0,
            None => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::table::fit;

    #[test]
    fn the_list_orders_the_columns_and_hides_the_rest() {
        let mut cols = crate::ui::panes::nodes::COLS.to_vec();
        let list: Vec<String> = ["AGE", "version", "STATUS"].map(String::from).into();
        choose(&list, &mut cols);
        let shown: Vec<&str> = fit(&cols, 200)
            .iter()
            .map(|&(i, _)| cols[i].title)
            .collect();
        // NAME is always shown and not listed: it comes first.
        assert_eq!(shown, ["NAME", "AGE", "VERSION", "STATUS"]);
    }

    #[test]
    fn unknown_panes_and_columns_are_named() {
        assert!(check("nodes", &["name".into(), "CPU REQ".into()]).is_ok());
        let e = check("nodes", &["CPU".into()]).unwrap_err().to_string();
        assert!(
            e.starts_with("nodes has no column \"CPU\" (its columns: NAME, STATUS"),
            "{e}"
        );
        let e = check("nodes", &["AGE".into(), "age".into()])
            .unwrap_err()
            .to_string();
        assert_eq!(e, "\"age\" is listed twice");
        let e = check("node", &[]).unwrap_err().to_string();
        assert_eq!(e, "no pane \"node\" (one of: nodes, pods, events, pdbs)");
    }
}
