//! The PodDisruptionBudgets view (`:pdb`): what will block a drain.

use crate::ui::canvas::Canvas;
use ratatui::layout::Rect;

use crate::app::cells;
use crate::app::model::{Model, Table};
use crate::ui::table::{self, Col, fixed};
use crate::ui::theme;

/// Every column of the pane, in order.
pub const COLS: &[Col] = &[
    fixed("NAMESPACE", 14, 2),
    fixed("NAME", 20, 0),
    fixed("MIN AVAILABLE", 13, 1),
    fixed("MAX UNAVAILABLE", 15, 1),
    fixed("ALLOWED DISRUPTIONS", 19, 0),
    fixed("HEALTHY/WANT", 12, 1),
    fixed("PODS", 5, 3),
    fixed("AGE", 5, 3),
];

/// Draws the PDB view over the whole body.
pub fn render(m: &Model, f: &mut Canvas, area: Rect) {
    let filter = m.filters.get(&Table::Pdbs).map(|f| f.text.as_str());
    let blocking = m
        .cache
        .pdbs
        .values()
        .filter(|p| p.disruptions_allowed == 0)
        .count();
    let detail = if blocking > 0 {
        format!("{blocking} allow no disruption")
    } else {
        String::new()
    };
    let title = table::title("PodDisruptionBudgets", &detail, m.views.pdbs.len(), filter);
    let mut cols = COLS.to_vec();
    // A handful of PDBs: measuring them per frame is cheap.
    cols[1].width = m
        .cache
        .pdbs
        .values()
        .map(|p| p.meta.name.as_deref().unwrap_or("").len())
        .max()
        .unwrap_or(0)
        .clamp(12, 63) as u16;
    crate::ui::columns::apply("pdbs", &mut cols);
    table::render(
        f,
        area,
        title,
        &cols,
        m.views.pdbs.len(),
        m.nav(Table::Pdbs),
        true,
        "no PodDisruptionBudgets",
        None,
        |i, keep| {
            let Some(p) = m.cache.pdbs.get(&m.views.pdbs[i]) else {
                return Vec::new();
            };
            let text = cells::pdb(m, p);
            keep.iter()
                .map(|&c| {
                    let style = match c {
                        0 | 7 => theme::dim(),
                        // Zero allowed disruptions blocks every eviction it covers.
                        4 if p.disruptions_allowed == 0 => theme::bad(),
                        4 => theme::ok(),
                        _ => theme::text(),
                    };
                    table::cell(text[c].clone(), style)
                })
                .collect()
        },
    );
}

#[cfg(test)]
mod tests {
    use super::cells;
    use crate::app::fixtures::seed_model;
    use crate::app::model::PodCoverage;

    #[test]
    fn pdb_pod_counts_are_unknown_where_pods_are_hidden() {
        let mut m = seed_model((120, 30));
        let pdb = m.cache.pdbs["default/http-spring"].clone();
        assert_eq!(cells::pdb(&m, &pdb)[6], "11");
        m.pod_coverage = PodCoverage::namespace("default", "access denied (403): forbidden");
        assert_eq!(
            cells::pdb(&m, &pdb)[6],
            "11",
            "default's pods are all known"
        );
        m.pod_coverage = PodCoverage::namespace("kube-system", "access denied (403): forbidden");
        assert_eq!(cells::pdb(&m, &pdb)[6], "?");
    }
}
