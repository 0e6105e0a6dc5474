//! Fault injection for tests and benchmarks: forced error codes, hangs and 410 Gone watches.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// What a matching request gets instead of its normal answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultAction {
    /// Answer with this HTTP code and a matching `Status` (403, 429, 500, 503, ...).
    Status(u16),
    /// Never answer (until the simulator stops or the client gives up).
    Hang,
}

/// A rule: requests whose method and path match get `action`.
#[derive(Debug, Clone)]
pub struct FaultRule {
    /// `GET`, `POST`, ...; `None` matches every method.
    pub method: Option<String>,
    /// Glob on the URL path (`*` matches any run of characters), e.g. `/api/v1/namespaces/*/pods/*/eviction`.
    pub path: String,
    /// What matching requests get.
    pub action: FaultAction,
    /// How many requests the rule still applies to; `None` is unlimited.
    pub remaining: Option<usize>,
}

/// Handle of an added rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FaultId(u64);

#[derive(Debug)]
struct Entry {
    id: FaultId,
    rule: FaultRule,
    hits: usize,
}

/// The simulator's fault switchboard (shared; every method takes `&self`).
#[derive(Debug)]
pub struct Faults {
    rules: Mutex<Vec<Entry>>,
    gone_watches: AtomicUsize,
    next_id: AtomicU64,
    /// Bumped to end every open watch with a 410 (forced relist).
    expire: tokio::sync::watch::Sender<u64>,
}

impl Default for Faults {
    fn default() -> Self {
        Self {
            rules: Mutex::default(),
            gone_watches: AtomicUsize::new(0),
            next_id: AtomicU64::new(0),
            expire: tokio::sync::watch::Sender::new(0),
        }
    }
}

/// `*`-glob match.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || text.len() < first.len() + last.len() || !text.ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid) {
            Some(i) => rest = &rest[i + mid.len()..],
            None => return false,
        }
    }
    true
}

impl Faults {
    /// Adds a rule.
    pub fn add(&self, rule: FaultRule) -> FaultId {
        let id = FaultId(self.next_id.fetch_add(1, Ordering::Relaxed));
        self.rules.lock().unwrap().push(Entry { id, rule, hits: 0 });
        id
    }

    /// Requests to paths matching `path` (any method) answer `code`.
    pub fn fail(&self, path: &str, code: u16) -> FaultId {
        self.add(FaultRule {
            method: None,
            path: path.into(),
            action: FaultAction::Status(code),
            remaining: None,
        })
    }

    /// Requests to paths matching `path` answer 403 Forbidden.
    pub fn forbid(&self, path: &str) -> FaultId {
        self.fail(path, 403)
    }

    /// Requests to paths matching `path` never answer.
    pub fn hang(&self, path: &str) -> FaultId {
        self.add(FaultRule {
            method: None,
            path: path.into(),
            action: FaultAction::Hang,
            remaining: None,
        })
    }

    /// Removes a rule.
    pub fn remove(&self, id: FaultId) {
        self.rules.lock().unwrap().retain(|e| e.id != id);
    }

    /// Removes every rule and pending 410.
    pub fn clear(&self) {
        self.rules.lock().unwrap().clear();
        self.gone_watches.store(0, Ordering::Relaxed);
    }

    /// How many requests a rule has caught.
    pub fn hits(&self, id: FaultId) -> usize {
        self.rules
            .lock()
            .unwrap()
            .iter()
            .find(|e| e.id == id)
            .map_or(0, |e| e.hits)
    }

    /// The next `n` watches (that start from a resourceVersion or not) get a 410 Gone ERROR event.
    pub fn gone_next_watches(&self, n: usize) {
        self.gone_watches.fetch_add(n, Ordering::Relaxed);
    }

    /// Ends every open watch with a 410 Gone ERROR event (clients must relist), as when the
    /// apiserver's watch cache is re-initialised. Combine with `Store::compact` so that
    /// resuming from the last seen version fails too.
    pub fn expire_open_watches(&self) {
        self.expire.send_modify(|n| *n += 1);
    }

    /// A receiver that changes when [`Faults::expire_open_watches`] is called.
    pub fn expiry(&self) -> tokio::sync::watch::Receiver<u64> {
        self.expire.subscribe()
    }

    /// Takes one pending 410 for a starting watch.
    pub fn take_gone(&self) -> bool {
        self.gone_watches
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
            .is_ok()
    }

    /// The fault for a request, if any rule matches (consuming one use of it).
    pub fn check(&self, method: &str, path: &str) -> Option<FaultAction> {
        let mut rules = self.rules.lock().unwrap();
        if rules.is_empty() {
            return None;
        }
        let e = rules.iter_mut().find(|e| {
            e.rule.remaining != Some(0)
                && e.rule
                    .method
                    .as_deref()
                    .is_none_or(|m| m.eq_ignore_ascii_case(method))
                && glob_match(&e.rule.path, path)
        })?;
        e.hits += 1;
        if let Some(r) = &mut e.rule.remaining {
            *r -= 1;
        }
        Some(e.rule.action)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match(
            "/api/v1/namespaces/*/pods/*/eviction",
            "/api/v1/namespaces/default/pods/web-1/eviction"
        ));
        assert!(!glob_match("/api/v1/nodes/*", "/api/v1/pods"));
        assert!(glob_match("*", "/anything"));
        assert!(glob_match("/api/v1/nodes", "/api/v1/nodes"));
    }

    #[test]
    fn limited_rules_run_out() {
        let f = Faults::default();
        let id = f.add(FaultRule {
            method: Some("POST".into()),
            path: "/x".into(),
            action: FaultAction::Status(500),
            remaining: Some(1),
        });
        assert_eq!(f.check("GET", "/x"), None);
        assert_eq!(f.check("POST", "/x"), Some(FaultAction::Status(500)));
        assert_eq!(f.check("POST", "/x"), None);
        assert_eq!(f.hits(id), 1);
    }
}
