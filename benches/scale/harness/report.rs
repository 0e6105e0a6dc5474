//! The result table: one row per metric, printed and written as markdown and JSON.

use std::fmt::Write as _;

/// One line of the results table.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Row {
    pub id: String,
    pub metric: String,
    pub unit: String,
    pub kubedrain: Option<f64>,
    pub kubectl: Option<f64>,
    pub target: String,
    /// Whether kubedrain's figure meets the target (None: no target or not measured).
    pub met: Option<bool>,
    pub note: String,
}

impl Row {
    pub(crate) fn ratio(&self) -> Option<f64> {
        match (self.kubedrain, self.kubectl) {
            (Some(a), Some(b)) if b > 0.0 => Some(a / b),
            _ => None,
        }
    }
}

/// Everything one run produced.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Report {
    /// The document's heading.
    pub title: String,
    pub date: String,
    pub command: String,
    pub nodes: usize,
    pub pods: usize,
    pub pinning: String,
    pub kubectl_version: String,
    pub kubectl_cache: String,
    pub load_before: String,
    pub load_after: String,
    /// Percent of all CPU time the hypervisor gave to other guests during the run.
    pub steal_pct: Option<f64>,
    pub rows: Vec<Row>,
    pub notes: Vec<String>,
}

impl Report {
    /// Every metric id the harness reports (the smoke test checks they are all there).
    pub const METRICS: [&'static str; 8] = ["SIM", "M1", "M2", "M3", "M4", "M5", "M6", "M7"];

    #[allow(clippy::too_many_arguments)]
    pub(crate) fn row(
        &mut self,
        id: &str,
        metric: &str,
        unit: &str,
        kd: Option<f64>,
        kc: Option<f64>,
        target: &str,
        met: Option<bool>,
        note: impl Into<String>,
    ) {
        self.rows.push(Row {
            id: id.into(),
            metric: metric.into(),
            unit: unit.into(),
            kubedrain: kd,
            kubectl: kc,
            target: target.into(),
            met,
            note: note.into(),
        });
    }

    /// The markdown table.
    pub fn markdown(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "| # | metric | kubedrain | kubectl | ratio | target | met | note |\n|---|---|---|---|---|---|---|---|"
        );
        for r in &self.rows {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} | {} | {} |",
                r.id,
                r.metric,
                fmt_val(r.kubedrain, &r.unit),
                fmt_val(r.kubectl, &r.unit),
                r.ratio().map_or("–".into(), |x| format!("{x:.2}×")),
                r.target,
                match r.met {
                    Some(true) => "yes",
                    Some(false) => "**no**",
                    None => "–",
                },
                r.note
            );
        }
        s
    }

    /// The full markdown document: header, table and notes.
    pub fn document(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "# {}\n", self.title);
        let _ = writeln!(s, "- date: {}", self.date);
        let _ = writeln!(s, "- command: `{}`", self.command);
        let _ = writeln!(
            s,
            "- cluster: {} nodes, {} pods (simulator, generated)",
            self.nodes, self.pods
        );
        let _ = writeln!(s, "- pinning: {}", self.pinning);
        let _ = writeln!(
            s,
            "- kubectl: {} ({})",
            self.kubectl_version, self.kubectl_cache
        );
        let _ = writeln!(
            s,
            "- load average (1/5/15 min) before: {}; after: {}",
            self.load_before, self.load_after
        );
        let steal = self
            .steal_pct
            .map_or("not known (no /proc/stat)".to_string(), |p| {
                format!("{p:.1} %")
            });
        let _ = writeln!(
            s,
            "- CPU time taken by other guests of the host during the run (steal): {steal}\n"
        );
        s.push_str(&self.markdown());
        if !self.notes.is_empty() {
            s.push_str("\nNotes:\n\n");
            for n in &self.notes {
                let _ = writeln!(s, "- {n}");
            }
        }
        s
    }
}

pub(crate) fn fmt_val(v: Option<f64>, unit: &str) -> String {
    match v {
        None => "–".into(),
        Some(x) if x.is_nan() => "–".into(),
        Some(x) => {
            let num = if x.abs() >= 100.0 {
                format!("{x:.0}")
            } else if x.abs() >= 10.0 {
                format!("{x:.1}")
            } else if x.abs() >= 1.0 {
                format!("{x:.2}")
            } else {
                format!("{x:.3}")
            };
            if unit.is_empty() {
                num
            } else {
                format!("{num} {unit}")
            }
        }
    }
}
