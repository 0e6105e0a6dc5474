//! Request counters and a bounded request log (benchmarks count requests and bytes).

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

/// One served request.
#[derive(Debug, Clone)]
pub struct RequestRecord {
    /// When the response was produced (wall clock).
    pub at: SystemTime,
    /// `get`, `list`, `watch`, `create`, `update`, `patch`, `delete`, or `other`.
    pub verb: &'static str,
    /// Resource with subresource, e.g. `pods`, `pods/eviction`, `nodes`; the path for non-resource URLs.
    pub resource: String,
    /// HTTP method.
    pub method: String,
    /// Path with query.
    pub path: String,
    /// HTTP status code.
    pub status: u16,
    /// Response body bytes (0 for streamed watches).
    pub bytes: usize,
}

/// Counters per (verb, resource), totals, and the last `cap` requests.
#[derive(Debug)]
pub struct Stats {
    counts: Mutex<HashMap<(&'static str, String), u64>>,
    log: Mutex<VecDeque<RequestRecord>>,
    cap: usize,
    total: AtomicU64,
    bytes: AtomicU64,
}

impl Default for Stats {
    fn default() -> Self {
        Self::new(10_000)
    }
}

impl Stats {
    /// Keeps the last `cap` records.
    pub fn new(cap: usize) -> Self {
        Self {
            counts: Mutex::default(),
            log: Mutex::default(),
            cap,
            total: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
        }
    }

    /// Records one request.
    pub fn record(&self, r: RequestRecord) {
        self.total.fetch_add(1, Ordering::Relaxed);
        self.bytes.fetch_add(r.bytes as u64, Ordering::Relaxed);
        *self
            .counts
            .lock()
            .unwrap()
            .entry((r.verb, r.resource.clone()))
            .or_default() += 1;
        if self.cap > 0 {
            let mut log = self.log.lock().unwrap();
            if log.len() >= self.cap {
                log.pop_front();
            }
            log.push_back(r);
        }
    }

    /// Requests with this verb on this resource (e.g. `("create", "pods/eviction")`).
    pub fn count(&self, verb: &str, resource: &str) -> u64 {
        self.counts
            .lock()
            .unwrap()
            .iter()
            .filter(|((v, r), _)| *v == verb && r == resource)
            .map(|(_, n)| *n)
            .sum()
    }

    /// Every (verb, resource) counter.
    pub fn counts(&self) -> Vec<((&'static str, String), u64)> {
        let mut v: Vec<_> = self
            .counts
            .lock()
            .unwrap()
            .iter()
            .map(|(k, n)| (k.clone(), *n))
            .collect();
        v.sort();
        v
    }

    /// All requests served.
    pub fn total(&self) -> u64 {
        self.total.load(Ordering::Relaxed)
    }

    /// All response bytes served (excluding watch streams).
    pub fn total_bytes(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }

    /// The kept request log, oldest first.
    pub fn log(&self) -> Vec<RequestRecord> {
        self.log.lock().unwrap().iter().cloned().collect()
    }

    /// Clears counters and the log.
    pub fn reset(&self) {
        self.counts.lock().unwrap().clear();
        self.log.lock().unwrap().clear();
        self.total.store(0, Ordering::Relaxed);
        self.bytes.store(0, Ordering::Relaxed);
    }
}
