//! How a drain ends: the drain-state annotation on the node, the journal's result line,
//! and the outcome reported, for every way a drain can end.

use std::time::Duration;

use super::events::{DrainEvent, DrainOutcome, NodeState};
use super::evict;
use super::exec::{Run, Stop, cancelled};
use super::journal::Action;
use super::node_ops;
use super::options::format_go_duration;

/// How long `finish` waits for the drain-state annotation when the user is waiting for a
/// cancel or a timeout to be answered (the annotation then keeps saying `draining`, which
/// reads as "resume the drain", and the journal has the result).
const STOP_ANNOTATE: Duration = Duration::from_millis(500);
/// ... and otherwise.
const ANNOTATE: Duration = Duration::from_secs(10);
/// How long `finish` waits for the journal's result line to be written.
const JOURNAL_WAIT: Duration = Duration::from_secs(2);

impl Run {
    pub(super) async fn finish(
        &self,
        mut state: NodeState,
        mut errors: Vec<String>,
        pending_pods: Vec<String>,
        mut message: String,
        annotate: bool,
    ) -> DrainOutcome {
        // A cancel a signal asked for is an interruption: said so everywhere it is recorded.
        if state == NodeState::Cancelled
            && self.interrupted.load(std::sync::atomic::Ordering::SeqCst)
        {
            state = NodeState::Interrupted;
            message = message.replace("cancelled", "interrupted by a signal");
            for e in &mut errors {
                *e = e.replace("drain cancelled", "drain interrupted by a signal");
            }
        }
        let unrecorded = if annotate {
            self.record_state(&mut state, &mut errors, &mut message)
                .await
        } else {
            None
        };
        let mut detail = if errors.is_empty() {
            message.clone()
        } else {
            errors.join("; ")
        };
        // The journal says when the node's annotation disagrees with it.
        if let Some(why) = unrecorded {
            detail = format!("{detail}; {why}");
        }
        // Written before the outcome is reported: a headless drain exits right after it.
        let result = self.journal.record_durable(
            &self.node,
            Action::DrainResult,
            state.annotation(),
            None,
            Some(&detail),
        );
        let _ = tokio::time::timeout(JOURNAL_WAIT, result).await;
        let outcome = DrainOutcome {
            node: self.node.clone(),
            state,
            errors,
            pending_pods,
            message,
        };
        self.state(state);
        self.emit(DrainEvent::Finished(outcome.clone()));
        outcome
    }

    /// Writes the outcome's drain-state annotation on the node, within a bound. A node that
    /// went away or was replaced fails the drain (`state`, `errors`, `message` say so); a
    /// write that failed otherwise is returned, to go into the journal.
    async fn record_state(
        &self,
        state: &mut NodeState,
        errors: &mut Vec<String>,
        message: &mut String,
    ) -> Option<String> {
        // After a cancel or timeout someone waits for the answer: a short bound. Otherwise
        // a cancel during a slow write ends the wait (the outcome stays what it is).
        let stopping = matches!(
            state,
            NodeState::Cancelled | NodeState::Interrupted | NodeState::TimedOut
        ) || *self.cancel.borrow();
        let bound = if stopping { STOP_ANNOTATE } else { ANNOTATE };
        let write = self.write_drain_state(state.annotation());
        let mut cancel = self.cancel.clone();
        let written = tokio::select! {
            w = tokio::time::timeout(bound, write) => w.map_err(|_| "timed out"),
            _ = cancelled(&mut cancel), if !stopping => Err("cancelled"),
        };
        match written {
            Ok(Ok(())) => {}
            // The node went away and its pods with it: that is not a drain.
            Ok(Err(node_ops::NodeOpError::NotFound(_))) => {
                *state = NodeState::Failed;
                *message = format!("node {} was deleted during the drain", self.node);
                *errors = vec![message.clone()];
            }
            // Not our node any more: its annotations are not ours to write.
            Ok(Err(node_ops::NodeOpError::Replaced(m))) => {
                *state = NodeState::Failed;
                *message = m.clone();
                *errors = vec![m];
            }
            Ok(Err(e)) => {
                let why = format!("could not record drain state on node/{}: {e}", self.node);
                self.notice(why.clone());
                return Some(why);
            }
            Err(why) => {
                let why = format!(
                    "drain state not recorded on node/{} ({why}): its annotation still says draining",
                    self.node
                );
                self.notice(why.clone());
                return Some(why);
            }
        }
        None
    }

    /// Writes the drain-state annotation, retrying transient errors (a 503 burst at the end
    /// of a drain must not leave `draining` on a node the journal calls failed); the caller
    /// bounds the time.
    async fn write_drain_state(&self, state: &str) -> Result<(), node_ops::NodeOpError> {
        let uid = self.uid.get().map(String::as_str);
        let mut retries = 0;
        loop {
            match node_ops::set_drain_state(&self.client, &self.node, uid, state).await {
                Err(node_ops::NodeOpError::Api(e)) if evict::transient(&e).is_some() => {
                    retries += 1;
                    tokio::time::sleep(evict::transient_delay(retries)).await;
                }
                done => return done,
            }
        }
    }

    pub(super) fn left_cordoned(&self) -> String {
        format!(
            "node/{0} left cordoned; uncordon it with `kubedrain uncordon {0}`",
            self.node
        )
    }

    /// Ends a drain stopped by cancel or timeout before the eviction phase; `phase` says
    /// what it was doing, `cordoned` whether the node is known to be cordoned.
    pub(super) async fn stopped(&self, stop: Stop, phase: &str, cordoned: bool) -> DrainOutcome {
        let node = &self.node;
        let after = if cordoned {
            self.left_cordoned()
        } else {
            "nothing was evicted".to_string()
        };
        let (state, errors, message) = match stop {
            Stop::Cancelled if !cordoned => (
                NodeState::Cancelled,
                vec![],
                "cancelled before the cordon finished".to_string(),
            ),
            Stop::Cancelled => (
                NodeState::Cancelled,
                vec!["drain cancelled".to_string()],
                format!("drain of node/{node} cancelled while {phase}; {after}"),
            ),
            Stop::TimedOut => {
                let d = format_go_duration(self.opts.timeout.unwrap_or_default());
                (
                    NodeState::TimedOut,
                    vec![format!(
                        "drain of node \"{node}\": global timeout reached: {d} while {phase}"
                    )],
                    format!("drain of node/{node} timed out after {d} while {phase}; {after}"),
                )
            }
        };
        self.finish(state, errors, vec![], message, cordoned).await
    }
}
