//! The bench log the TUI writes (`KUBEDRAIN_BENCH_LOG`).

use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

pub(crate) fn read_log(path: &Path) -> Vec<kubedrain::benchlog::Entry> {
    std::fs::read_to_string(path)
        .map(|t| kubedrain::benchlog::parse(&t))
        .unwrap_or_default()
}

pub(crate) fn unix_nanos(t: SystemTime) -> u128 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos())
}

/// Waits until the log has `n` entries named `what`; their times.
pub(crate) fn wait_log(path: &Path, what: &str, n: usize, timeout: Duration) -> Vec<u128> {
    let start = Instant::now();
    loop {
        let hits: Vec<u128> = read_log(path)
            .into_iter()
            .filter(|e| e.what == what)
            .map(|e| e.at_nanos)
            .collect();
        if hits.len() >= n || start.elapsed() > timeout {
            return hits;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

pub(crate) fn frame_times_us(path: &Path, from: u128, to: u128) -> Vec<f64> {
    values_us(path, "frame", from, to)
}

/// The values of the log's `what` entries between `from` and `to` (unix ns), sorted.
pub(crate) fn values_us(path: &Path, what: &str, from: u128, to: u128) -> Vec<f64> {
    let mut v: Vec<f64> = read_log(path)
        .into_iter()
        .filter(|e| e.what == what && e.at_nanos >= from && e.at_nanos <= to)
        .filter_map(|e| e.value.map(|v| v as f64))
        .collect();
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v
}
