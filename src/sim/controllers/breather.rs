//! The controllers' thread gives way to the API server during a long pass.
//!
//! On a real cluster the controller manager and the kubelets run apart from the API server,
//! so their work never holds a watch event back. Here they share the process, and often one
//! core: the scale bench pins the simulator to one. A pass renewing a few dozen node Leases
//! ran up to 1.2 ms, and the scheduler let a just-woken API worker (about to send a watch
//! event) wait until it ended. Yielding every [`BUDGET`] of work hands the core to whoever
//! is waiting; with nobody waiting, a yield returns at once.

use std::time::{Duration, Instant};

/// How long the controllers work before they let a waiting thread run.
pub(super) const BUDGET: Duration = Duration::from_micros(200);

/// Counts the work since the last yield.
#[derive(Debug)]
pub(super) struct Breather {
    since: Instant,
}

impl Breather {
    pub(super) fn new() -> Self {
        Breather {
            since: Instant::now(),
        }
    }

    /// Yields the thread when [`BUDGET`] has passed since the last yield (or the last
    /// [`Breather::restart`]); returns whether it did.
    pub(super) fn breathe(&mut self) -> bool {
        self.breathe_at(Instant::now())
    }

    fn breathe_at(&mut self, now: Instant) -> bool {
        if now.duration_since(self.since) < BUDGET {
            return false;
        }
        std::thread::yield_now();
        self.since = Instant::now();
        true
    }

    /// Starts counting afresh (a pass begins after the thread slept).
    pub(super) fn restart(&mut self) {
        self.since = Instant::now();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yields_only_once_the_budget_is_spent() {
        let mut b = Breather::new();
        let start = b.since;
        assert!(!b.breathe_at(start + BUDGET / 2));
        assert!(b.breathe_at(start + BUDGET));
        // Counting starts again from the yield.
        let after = b.since;
        assert!(after >= start);
        assert!(!b.breathe_at(after + BUDGET / 4));
        assert!(b.breathe_at(after + BUDGET * 3));
    }
}
