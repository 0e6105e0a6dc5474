//! Benchmark hooks: with `KUBEDRAIN_BENCH_LOG=path`, the TUI appends timestamped lines
//! (`<unix-nanos> <what> [value]`) to that file: `synced nodes`, `synced pods` at each
//! completed (re)list, `frame <micros>` for every drawn frame, `watched <kind>` for every
//! watch event as it leaves the decoder, and `applied pod <restarts>` as a pod's event reaches
//! the model (the churn's stamp is the restart count). Unset, every hook is one relaxed load
//! of an already-initialised `OnceLock`, and nothing is written.

use std::fs::File;
use std::io::Write;
use std::sync::{Mutex, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

/// The environment variable naming the log file.
pub const ENV: &str = "KUBEDRAIN_BENCH_LOG";

static LOG: OnceLock<Option<Mutex<File>>> = OnceLock::new();

fn log() -> Option<&'static Mutex<File>> {
    LOG.get_or_init(|| {
        let path = std::env::var_os(ENV)?;
        File::options()
            .create(true)
            .append(true)
            .open(path)
            .ok()
            .map(Mutex::new)
    })
    .as_ref()
}

/// True when benchmark logging is on.
pub fn enabled() -> bool {
    log().is_some()
}

/// Nanoseconds since the Unix epoch (the log's time base; the harness reads the same clock).
pub fn unix_nanos() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
}

/// Appends `<unix-nanos> <what>` when logging is on.
pub fn mark(what: &str) {
    if let Some(f) = log() {
        let line = format!("{} {what}\n", unix_nanos());
        let _ = f.lock().map(|mut f| f.write_all(line.as_bytes()));
    }
}

/// Appends `<unix-nanos> <what> <value>` when logging is on.
pub fn value(what: &str, v: u128) {
    if let Some(f) = log() {
        let line = format!("{} {what} {v}\n", unix_nanos());
        let _ = f.lock().map(|mut f| f.write_all(line.as_bytes()));
    }
}

/// One parsed log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub at_nanos: u128,
    pub what: String,
    pub value: Option<u128>,
}

/// Parses a log written by [`mark`] and [`value`] (bad lines are skipped).
pub fn parse(text: &str) -> Vec<Entry> {
    text.lines()
        .filter_map(|l| {
            let (t, rest) = l.split_once(' ')?;
            let at_nanos = t.parse().ok()?;
            let (what, value) = match rest.rsplit_once(' ') {
                Some((w, v)) if v.parse::<u128>().is_ok() => (w, v.parse().ok()),
                _ => (rest, None),
            };
            Some(Entry {
                at_nanos,
                what: what.to_string(),
                value,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_marks_and_values() {
        let e = parse("10 synced pods\n11 frame 250\nbad\n");
        assert_eq!(
            e,
            vec![
                Entry {
                    at_nanos: 10,
                    what: "synced pods".into(),
                    value: None
                },
                Entry {
                    at_nanos: 11,
                    what: "frame".into(),
                    value: Some(250)
                },
            ]
        );
    }
}
