//! Where M3's slowest events spent their time: from the churn's stamp to the simulator
//! handing the event to the connection, to the client's decoder, to its model, to the frame
//! that showed it. Each step comes from a record: the simulator's watch writes
//! (`sim::churn::arm_watch_writes`), and the TUI's bench log (`watched pods`, `applied pod`,
//! `frame`).

use std::path::Path;
use std::time::SystemTime;

use kubedrain::benchlog::Entry;
use kubedrain::sim::churn::WatchWrite;

use super::benchlog::{read_log, unix_nanos};

/// One slow event: its stamp's sequence number, when it was sent and when it was shown.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Slow {
    pub(crate) seq: u64,
    pub(crate) sent: SystemTime,
    pub(crate) shown: SystemTime,
}

/// A watch line shorter than this is a bookmark, not a pod's event.
const EVENT_LINE_MIN: usize = 1000;

/// One log line per slow event: the offsets (ms from the send) of each step the records show
/// and the frames drawn from 20 ms before the send until the showing, as start(took) ms. A
/// step without a record is left out; `bench_log` is the TUI's (none for kubectl).
pub(crate) fn split(
    slowest: &[Slow],
    writes: &[WatchWrite],
    bench_log: Option<&Path>,
) -> Vec<String> {
    let entries = bench_log.map(read_log).unwrap_or_default();
    slowest
        .iter()
        .map(|s| {
            let (sent, shown) = (unix_nanos(s.sent), unix_nanos(s.shown));
            let ms = |t: u128| (t as f64 - sent as f64) / 1e6;
            let mut steps = Vec::new();
            if let Some(w) = sim_write(writes, sent, shown) {
                steps.push(format!("sim wrote {:+.2}", ms(w)));
            }
            let applied = applied(&entries, s.seq, sent);
            if let Some(d) = applied.and_then(|a| decoded(&entries, sent, a)) {
                steps.push(format!("decoded {:+.2}", ms(d)));
            }
            if let Some(a) = applied {
                steps.push(format!("in the model {:+.2}", ms(a)));
            }
            let mut line = format!("{:.2} ms", ms(shown));
            if !steps.is_empty() {
                line += &format!(": {}", steps.join(", "));
            }
            if bench_log.is_some() {
                line += &format!(
                    "; frames from -20 ms, start(took) ms: {}",
                    frames(&entries, sent, shown).join(" ")
                );
            }
            line
        })
        .collect()
}

/// When the simulator handed over the first event line after `sent` (no later than `shown`).
fn sim_write(writes: &[WatchWrite], sent: u128, shown: u128) -> Option<u128> {
    writes
        .iter()
        .filter(|w| w.len >= EVENT_LINE_MIN && w.at_nanos >= sent && w.at_nanos <= shown)
        .map(|w| w.at_nanos)
        .min()
}

/// When the event of stamp `seq` reached the TUI's model: its restart count is the stamp
/// (plus the pod's other containers' restarts, which the simulator keeps small).
fn applied(entries: &[Entry], seq: u64, sent: u128) -> Option<u128> {
    let seq = u128::from(seq);
    entries
        .iter()
        .filter(|e| e.what == "applied pod" && e.at_nanos >= sent)
        .find(|e| e.value.is_some_and(|v| v >= seq && v - seq < 1000))
        .map(|e| e.at_nanos)
}

/// When the watcher decoded it: the last pod event it decoded before the model had it.
fn decoded(entries: &[Entry], sent: u128, applied: u128) -> Option<u128> {
    entries
        .iter()
        .filter(|e| e.what == "watched pods" && e.at_nanos >= sent && e.at_nanos <= applied)
        .map(|e| e.at_nanos)
        .max()
}

/// The frames drawn from 20 ms before `sent` until just after `shown`, as start(took) in ms.
fn frames(entries: &[Entry], sent: u128, shown: u128) -> Vec<String> {
    let ms = |t: u128| (t as f64 - sent as f64) / 1e6;
    entries
        .iter()
        .filter(|e| e.what == "frame")
        .filter(|e| e.at_nanos + 20_000_000 >= sent && e.at_nanos <= shown + 1_000_000)
        .map(|e| {
            let took = e.value.unwrap_or(0) * 1000;
            let start = e.at_nanos.saturating_sub(took);
            format!("{:+.2}({:.2})", ms(start), took as f64 / 1e6)
        })
        .collect()
}
