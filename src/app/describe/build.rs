//! The page's lines: kubectl-describe-like sections built from the fetched facts and the
//! live cache (events, PDBs, pods). Pure; a section that cannot be known says why.

use std::collections::BTreeMap;

use super::text::{DLine, Tone, width};
use super::{Facts, Mode, Page, Subject};
use crate::app::model::{Model, WatchState};
use crate::cluster::age;
use crate::cluster::watch::Kind;

/// Where the values of `Label:  value` lines start.
pub const COL: usize = 18;

/// The page's lines for its mode.
pub fn lines(m: &Model, page: &Page) -> Vec<DLine> {
    match page.mode {
        Mode::Events => {
            let mut out = vec![DLine::heading(format!(
                "Events of {} (newest last)",
                page.subject.label()
            ))];
            out.extend(events(m, &page.subject));
            out
        }
        Mode::Yaml => match &page.facts {
            None => loading(&page.subject),
            Some(Facts::Yaml(Ok(y))) => yaml_lines(y),
            Some(Facts::Yaml(Err(e))) => vec![cannot(&format!("read {}", page.subject.label()), e)],
            Some(_) => Vec::new(),
        },
        Mode::Describe => match &page.facts {
            None => loading(&page.subject),
            Some(Facts::Node { node, pods }) => {
                super::build_node::node_lines(m, page.subject.name(), node, pods)
            }
            Some(Facts::Pod { pod, owners }) => {
                super::build_pod::pod_lines(m, &page.subject, pod, owners)
            }
            Some(Facts::Pdb { pdb }) => super::build_pdb::pdb_lines(m, &page.subject, pdb),
            Some(Facts::Yaml(_)) => Vec::new(),
        },
    }
}

fn loading(s: &Subject) -> Vec<DLine> {
    vec![DLine::one(
        format!("reading {} from the API server…", s.label()),
        Tone::Dim,
    )]
}

/// `cannot <what>: <why>` in the warning colour.
pub fn cannot(what: &str, why: &str) -> DLine {
    DLine::one(format!("  cannot {what}: {why}"), Tone::Bad).hang(4)
}

/// YAML, one line per line; wrapped rows indent under the line's own indent.
fn yaml_lines(y: &str) -> Vec<DLine> {
    y.lines()
        .map(|l| {
            let indent = l.len() - l.trim_start_matches([' ', '-']).len();
            DLine::one(l, Tone::Text).hang(indent + 2)
        })
        .collect()
}

/// `k=v` lines of a map, or `<none>`.
pub fn map_field(label: &str, map: Option<&BTreeMap<String, String>>) -> Vec<DLine> {
    let mut out = Vec::new();
    for (i, (k, v)) in map.into_iter().flatten().enumerate() {
        let l = if i == 0 { label } else { "" };
        out.push(cont(l, format!("{k}={v}")));
    }
    if out.is_empty() {
        out.push(DLine::field(label, COL, "<none>", Tone::Dim));
    }
    out
}

/// A field line; an empty label continues the field above.
pub fn cont(label: &str, value: String) -> DLine {
    if label.is_empty() {
        DLine::one(format!("{}{value}", " ".repeat(COL)), Tone::Text).hang(COL)
    } else {
        DLine::field(label, COL, value, Tone::Text)
    }
}

/// `5m ago` from an optional time.
pub fn ago(m: &Model, t: Option<jiff::Timestamp>) -> String {
    match t {
        Some(t) => format!("{} ago", age::human((m.cluster_now() - t).get_seconds())),
        None => "unknown".into(),
    }
}

/// The width the page's text has (lines are laid out for it; rebuilt on resize).
pub fn cols(m: &Model) -> usize {
    super::geometry(m.size).0
}

/// Rows padded into columns (the last column is not padded), two spaces apart, indented 2.
/// Wider than `cols`: each row becomes its first cell, then `HEAD value` pairs under it.
pub fn table(head: &[&str], rows: Vec<Vec<(String, Tone)>>, cols: usize) -> Vec<DLine> {
    let n = head.len();
    let mut w: Vec<usize> = head.iter().map(|h| width(h)).collect();
    for r in &rows {
        for (i, (c, _)) in r.iter().enumerate().take(n) {
            w[i] = w[i].max(width(c));
        }
    }
    if 2 + w.iter().map(|w| w + 2).sum::<usize>() > cols + 2 {
        return stacked(head, rows);
    }
    let line = |cells: Vec<(String, Tone)>, head: bool| {
        let mut l = DLine::one("  ", Tone::Text);
        let last = cells.len().saturating_sub(1);
        let mut at = 2;
        for (i, (c, tone)) in cells.into_iter().enumerate() {
            let pad = if i < last {
                " ".repeat(w[i] - width(&c) + 2)
            } else {
                String::new()
            };
            if i < last {
                at += w[i] + 2;
            }
            l = l.push(format!("{c}{pad}"), if head { Tone::Dim } else { tone });
        }
        l.hang(at.min(24))
    };
    let mut out = vec![line(
        head.iter().map(|h| (h.to_string(), Tone::Dim)).collect(),
        true,
    )];
    out.extend(rows.into_iter().map(|r| line(r, false)));
    out
}

fn stacked(head: &[&str], rows: Vec<Vec<(String, Tone)>>) -> Vec<DLine> {
    let mut out = Vec::new();
    for r in rows {
        let mut cells = r.into_iter();
        let Some((first, tone)) = cells.next() else {
            continue;
        };
        out.push(DLine::one(format!("  {first}"), tone).hang(4));
        let mut l = DLine::one("   ", Tone::Text).hang(4);
        for (h, (c, tone)) in head.iter().skip(1).zip(cells) {
            if c.is_empty() {
                continue;
            }
            l = l
                .push(format!(" {h} "), Tone::Dim)
                .push(format!("{c} "), tone);
        }
        out.push(l);
    }
    out
}

/// The subject's events from the live cache, newest last, full messages (wrapped).
pub fn events(m: &Model, s: &Subject) -> Vec<DLine> {
    match m.watch.get(&Kind::Events) {
        Some(WatchState::Failed { error, .. }) => {
            return vec![cannot("tell (the events watch failed)", error)];
        }
        Some(WatchState::Connecting) => {
            return vec![DLine::one("  events are still being listed…", Tone::Dim)];
        }
        _ => {}
    }
    let ns = s.namespace();
    let mut evs: Vec<_> = m
        .cache
        .events
        .values()
        .filter(|e| e.object_kind == s.kind() && e.object_name == s.name())
        .filter(|e| {
            ns.is_none()
                || e.object_namespace
                    .as_deref()
                    .or(e.meta.namespace.as_deref())
                    == ns
        })
        .collect();
    if evs.is_empty() {
        return vec![DLine::one(
            "  <none> (the API server keeps events about an hour)",
            Tone::Dim,
        )];
    }
    // Same-second events in the order they were recorded: the recorder's names sort so.
    evs.sort_by(|a, b| (a.last_seen, &a.meta.name).cmp(&(b.last_seen, &b.meta.name)));
    evs.into_iter()
        .map(|e| {
            let when = match e.last_seen {
                Some(t) => age::human((m.cluster_now() - t).get_seconds()),
                None => "?".into(),
            };
            let tone = if e.is_warning() {
                Tone::Warn
            } else {
                Tone::Text
            };
            let mut l = DLine::one(format!("  {when:>5}  "), Tone::Dim)
                .push(format!("{:<7}  {}", e.type_, e.reason), tone);
            if e.count > 1 {
                l = l.push(format!(" ×{}", e.count), Tone::Dim);
            }
            if !e.source.is_empty() {
                l = l.push(format!(" ({})", e.source), Tone::Dim);
            }
            l.push(format!(": {}", e.message), Tone::Text).hang(9)
        })
        .collect()
}

/// A condition as the tables show it.
pub struct Cond<'a> {
    pub type_: &'a str,
    pub status: &'a str,
    pub since: Option<jiff::Timestamp>,
    pub reason: Option<&'a str>,
    pub message: Option<&'a str>,
    /// Whether this status is the healthy one.
    pub good: bool,
}

/// Conditions: type, status, since, reason; the message (in full) on the next row.
pub fn conditions<'a>(m: &Model, cs: impl Iterator<Item = Cond<'a>>) -> Vec<DLine> {
    let cs: Vec<Cond> = cs.collect();
    if cs.is_empty() {
        return vec![DLine::one("  <none>", Tone::Dim)];
    }
    let rows = cs
        .iter()
        .map(|c| {
            let since = c.since.map_or(String::new(), |t| {
                age::human((m.cluster_now() - t).get_seconds())
            });
            vec![
                (c.type_.to_string(), Tone::Text),
                (
                    c.status.to_string(),
                    if c.good { Tone::Ok } else { Tone::Bad },
                ),
                (since, Tone::Text),
                (c.reason.unwrap_or("").to_string(), Tone::Text),
            ]
        })
        .collect();
    let lines = table(&["TYPE", "STATUS", "SINCE", "REASON"], rows, cols(m));
    // A header and a line per condition, or (stacked on a narrow page) two per condition.
    let (mut out, per) = if lines.len() == cs.len() + 1 {
        (vec![lines[0].clone()], 1)
    } else {
        (Vec::new(), 2)
    };
    let body = &lines[lines.len() - per * cs.len()..];
    for (chunk, c) in body.chunks(per).zip(&cs) {
        out.extend(chunk.iter().cloned());
        if let Some(msg) = c.message.filter(|s| !s.is_empty()) {
            out.push(DLine::one(format!("    {msg}"), Tone::Dim).hang(4));
        }
    }
    out
}
