//! The change history watches are served from: starting a watch, compaction, and recording
//! each change (bounded by count and bytes) for the watches that follow.

use std::sync::Arc;

use super::*;

impl Store {
    /// Starts a watch on `kind`.
    ///
    /// `from = None` (or `Some(0)`) replays every current object as ADDED, as the real server
    /// does for an unset or "0" resourceVersion. `Some(rv)` replays the changes after `rv`, or
    /// fails with [`StoreError::Gone`] when they are no longer all in history.
    pub fn watch(&self, kind: Kind, from: Option<u64>) -> Result<WatchStart, StoreError> {
        let inner = self.inner.lock().unwrap();
        let live = self.tx.subscribe();
        let at = self.clock.now();
        let backlog = match from {
            None | Some(0) => inner
                .objects
                .get(&kind)
                .map(|m| {
                    m.values()
                        .map(|o| {
                            Arc::new(Change {
                                rv: o.rv(),
                                kind,
                                change: ChangeType::Added,
                                object: o.clone(),
                                prev: None,
                                at,
                            })
                        })
                        .collect()
                })
                .unwrap_or_default(),
            Some(rv) => {
                // A version from the future means the client saw another server (e.g. the
                // simulator restarted): answer 410 so it relists instead of trusting its cache.
                if rv < inner.compacted_rv || rv > inner.rv {
                    return Err(StoreError::Gone {
                        requested: rv,
                        oldest: inner.compacted_rv + 1,
                    });
                }
                inner
                    .history
                    .iter()
                    .filter(|c| c.rv > rv && c.kind == kind)
                    .cloned()
                    .collect()
            }
        };
        Ok(WatchStart {
            backlog,
            live,
            rv: inner.rv,
        })
    }

    /// Drops all watch history (fault injection: the next watch from an old version gets 410).
    pub fn compact(&self) {
        let mut inner = self.inner.lock().unwrap();
        inner.history.clear();
        inner.history_bytes = 0;
        inner.compacted_rv = inner.rv;
    }

    /// The oldest resourceVersion a watch may still start from.
    pub fn oldest_watchable(&self) -> u64 {
        self.inner.lock().unwrap().compacted_rv
    }

    /// Changes kept for watches to resume from, and their objects' bytes.
    pub fn history_len(&self) -> (usize, usize) {
        let inner = self.inner.lock().unwrap();
        (inner.history.len(), inner.history_bytes)
    }

    /// Appends a change to the history (dropping the oldest past its bounds) and sends it
    /// to the live watches.
    pub(super) fn record(
        &self,
        inner: &mut Inner,
        kind: Kind,
        change: ChangeType,
        object: Arc<Stored>,
        prev: Option<Arc<Stored>>,
    ) {
        let c = Arc::new(Change {
            rv: inner.rv,
            kind,
            change,
            object,
            prev,
            at: self.clock.now(),
        });
        inner.history_bytes += c.object.size();
        inner.history.push_back(c.clone());
        // Bounded by count and by bytes; the newest change always stays.
        while inner.history.len() > self.history_cap
            || (inner.history_bytes > self.history_bytes_cap && inner.history.len() > 1)
        {
            if let Some(old) = inner.history.pop_front() {
                inner.history_bytes -= old.object.size();
                inner.compacted_rv = old.rv;
            }
        }
        // No receivers is fine: nobody is watching.
        let _ = self.tx.send(c);
    }
}
