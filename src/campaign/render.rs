//! The versions matrix, its findings and the steps to a target as text lines, each tagged
//! with the severity it shows: the headless command prints them, the TUI colours them.

use super::skew::Severity;
use super::steps::{self, UpgradePlan};
use super::version::Version;
use super::versions::{Cell, Inventory, Matrix, matrix};

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub text: String,
    /// The worst severity the line shows (`None`: plain).
    pub severity: Option<Severity>,
    /// A section heading.
    pub heading: bool,
    /// Prose that may wrap on a narrow screen (a table row may not).
    pub wrap: bool,
}

impl Line {
    /// Prose with the severity it shows.
    pub fn prose(text: String, severity: Option<Severity>) -> Line {
        Line {
            text,
            severity,
            heading: false,
            wrap: true,
        }
    }

    fn plain(text: String) -> Line {
        Line::prose(text, None)
    }

    fn heading(text: String) -> Line {
        Line {
            text,
            severity: None,
            heading: true,
            wrap: false,
        }
    }
}

fn verdict(s: Option<Severity>) -> &'static str {
    match s {
        None => "ok",
        Some(Severity::Info) => "info",
        Some(Severity::Warning) => "warning",
        Some(Severity::Error) => "ERROR",
    }
}

fn dash(s: &str) -> String {
    if s.is_empty() {
        "-".into()
    } else {
        s.to_string()
    }
}

fn allowed(c: &Cell) -> String {
    c.allowed.map_or_else(|| "-".into(), |a| a.to_string())
}

/// Aligns `rows` under `head` (two spaces between columns, no trailing blanks).
fn table(head: &[&str], rows: Vec<(Vec<String>, Option<Severity>)>) -> Vec<Line> {
    let mut w: Vec<usize> = head.iter().map(|h| h.chars().count()).collect();
    for (r, _) in &rows {
        for (i, c) in r.iter().enumerate() {
            w[i] = w[i].max(c.chars().count());
        }
    }
    let fmt = |cells: &[String]| {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                s.push_str(c);
            } else {
                s.push_str(&format!("{c:<0$}  ", w[i]));
            }
        }
        s.trim_end().to_string()
    };
    let head: Vec<String> = head.iter().map(|h| h.to_string()).collect();
    std::iter::once(Line::heading(fmt(&head)))
        .chain(rows.into_iter().map(|(r, s)| Line {
            text: fmt(&r),
            severity: s,
            heading: false,
            wrap: false,
        }))
        .collect()
}

/// The matrix: control plane, nodes, findings.
pub fn matrix_lines(m: &Matrix) -> Vec<Line> {
    let mut out = control_plane_lines(m);
    out.push(Line::plain(String::new()));
    out.extend(node_lines(m));
    out.push(Line::plain(String::new()));
    out.extend(findings_lines(m));
    out
}

/// The control-plane table.
pub fn control_plane_lines(m: &Matrix) -> Vec<Line> {
    let mut out = Vec::new();
    let reference = m.apiserver.as_ref().map_or_else(
        || "kube-apiserver version unknown".into(),
        |v| format!("compared with the oldest kube-apiserver, {v}"),
    );
    out.push(Line::heading(format!("CONTROL PLANE ({reference})")));
    let rows = m
        .control_plane
        .iter()
        .map(|r| {
            let judged = r.cell.allowed.is_some() || r.cell.severity.is_some();
            (
                vec![
                    r.component.name().to_string(),
                    dash(r.node.as_deref().unwrap_or_default()),
                    dash(&r.cell.version),
                    allowed(&r.cell),
                    if judged {
                        verdict(r.cell.severity).into()
                    } else {
                        "-".into()
                    },
                    r.source.clone(),
                ],
                r.cell.severity,
            )
        })
        .collect();
    out.extend(table(
        &[
            "COMPONENT",
            "NODE",
            "VERSION",
            "ALLOWED",
            "VERDICT",
            "SOURCE",
        ],
        rows,
    ));
    out
}

/// The nodes table.
pub fn node_lines(m: &Matrix) -> Vec<Line> {
    let mut out = vec![Line::heading("NODES".into())];
    let rows = m
        .nodes
        .iter()
        .map(|n| {
            let proxy = n.kube_proxy.as_ref();
            let worst = n.kubelet.severity.max(proxy.and_then(|p| p.severity));
            (
                vec![
                    n.name.clone(),
                    if n.control_plane {
                        "control-plane"
                    } else {
                        "worker"
                    }
                    .into(),
                    dash(&n.kubelet.version),
                    allowed(&n.kubelet),
                    proxy.map_or_else(|| "none".into(), |p| dash(&p.version)),
                    proxy.map_or_else(|| "-".into(), allowed),
                    verdict(worst).into(),
                    dash(&n.container_runtime),
                    dash(&n.os_image),
                    dash(&n.kernel),
                ],
                worst,
            )
        })
        .collect();
    out.extend(table(
        &[
            "NAME",
            "ROLE",
            "KUBELET",
            "ALLOWED",
            "KUBE-PROXY",
            "ALLOWED",
            "VERDICT",
            "RUNTIME",
            "OS IMAGE",
            "KERNEL",
        ],
        rows,
    ));
    out
}

/// The findings, worst first.
pub fn findings_lines(m: &Matrix) -> Vec<Line> {
    let mut out = Vec::new();
    let counts = [Severity::Error, Severity::Warning, Severity::Info]
        .map(|s| format!("{} {}", m.count(s), s.as_str()));
    out.push(Line::heading(format!("FINDINGS ({})", counts.join(", "))));
    if m.findings.is_empty() {
        out.push(Line::plain(
            "none: every version is within the skew policy".into(),
        ));
    }
    for f in &m.findings {
        out.push(Line::prose(
            format!("{:<7}  {}: {}", f.severity.as_str(), f.subject, f.message),
            Some(f.severity),
        ));
    }
    out
}

/// The way to a target: chain, blockers, ordered steps.
pub fn plan_lines(p: &UpgradePlan) -> Vec<Line> {
    let mut out = vec![Line::heading(format!(
        "UPGRADE TO {} (control plane at {})",
        p.target, p.from
    ))];
    out.push(Line::plain(format!(
        "chain: {} → {}",
        p.from.minor_release(),
        p.chain.join(" → ")
    )));
    if p.blockers.is_empty() {
        out.push(Line::plain("blocking: none".into()));
    }
    for b in &p.blockers {
        out.push(Line::prose(
            format!(
                "blocking: {} (kubelet {}) blocks the control-plane step to {}: it must be ≥ {} first",
                b.node, b.kubelet, b.blocks, b.needs
            ),
            Some(Severity::Warning),
        ));
    }
    for n in &p.notes {
        out.push(Line::prose(format!("note: {n}"), Some(Severity::Warning)));
    }
    if p.steps.is_empty() {
        out.push(Line::plain(format!(
            "nothing to do: every node is at {}",
            p.target
        )));
    }
    let rows = p
        .steps
        .iter()
        .enumerate()
        .map(|(i, s)| {
            (
                vec![
                    format!("{:>2}.", i + 1),
                    s.node.clone(),
                    s.role.as_str().into(),
                    format!("{} → {}", s.from, s.to),
                    format!("{}{}", if s.drain { "drain; " } else { "" }, s.why),
                ],
                None,
            )
        })
        .collect::<Vec<_>>();
    if !rows.is_empty() {
        out.extend(table(&["STEP", "NODE", "ROLE", "VERSION", "WHAT"], rows));
    }
    out
}

/// Plain text of `lines`, one per line.
pub fn text(lines: &[Line]) -> String {
    lines.iter().map(|l| format!("{}\n", l.text)).collect()
}

/// The view's order: what needs attention first (a blind spot, findings), then the way to
/// `target`, then the matrix; with the title's counts (`0 error · 1 warning · 2 info`).
/// `hidden`: why kube-system pods cannot be read, if they cannot.
pub fn view_lines(
    inv: &Inventory,
    target: Option<&Version>,
    hidden: Option<&str>,
) -> (Vec<Line>, String) {
    let mx = matrix(inv);
    let mut out = Vec::new();
    if let Some(why) = hidden {
        out.push(Line::prose(
            format!("cannot tell control-plane and kube-proxy versions: {why}"),
            Some(Severity::Warning),
        ));
    }
    out.extend(findings_lines(&mx));
    if let Some(t) = target {
        out.push(Line::plain(String::new()));
        match steps::plan(inv, t) {
            Ok(p) => out.extend(plan_lines(&p)),
            Err(e) => out.push(Line::prose(e.to_string(), Some(Severity::Error))),
        }
    }
    out.push(Line::plain(String::new()));
    out.extend(control_plane_lines(&mx));
    out.push(Line::plain(String::new()));
    out.extend(node_lines(&mx));
    let detail = [Severity::Error, Severity::Warning, Severity::Info]
        .map(|s| format!("{} {}", mx.count(s), s.as_str()))
        .join(" · ");
    (out, detail)
}
