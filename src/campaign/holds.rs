//! Hold points: the campaign pauses itself before each node's cordon or each wave's
//! pre-check (`Spec::hold`) and says where in one line, until the operator resumes it.

use std::sync::atomic::Ordering;

use super::events::CampaignEvent;
use super::exec::{Control, Halt, Runner};
use super::journal::{Hold, Step};
use super::plan::Wave;

impl Runner {
    /// The hold before a wave not started yet: the wave's own (`Hold::Wave`), or its first
    /// node's (`Hold::Node`: before the pre-check, so the check is fresh when it goes on).
    /// Returns the node held for.
    pub(super) async fn hold_before_wave(&self, wave: &Wave) -> Result<Option<String>, Halt> {
        let total = self.spec.waves.len();
        match (self.spec.hold, wave.nodes.first()) {
            (Some(Hold::Wave), _) => {
                let what = format!(
                    "before wave {}/{total} ({})",
                    wave.index + 1,
                    wave.nodes.join(", ")
                );
                self.hold_point(None, wave.index, what).await?;
                Ok(None)
            }
            (Some(Hold::Node), Some(first)) => {
                self.hold_before_node(wave, first).await?;
                Ok(Some(first.clone()))
            }
            _ => Ok(None),
        }
    }

    /// The hold before `node`'s cordon (`Hold::Node`).
    pub(super) async fn hold_before_node(&self, wave: &Wave, node: &str) -> Result<(), Halt> {
        if self.spec.hold != Some(Hold::Node) {
            return Ok(());
        }
        let total = self.spec.waves.len();
        let what = format!("before {node} (wave {}/{total})", wave.index + 1);
        self.hold_point(Some(node), wave.index, what).await
    }

    /// A hold point: pauses the campaign itself, says where in one `Waiting` line, and waits
    /// until [`super::exec::CampaignControl::resume`] (or an abort).
    async fn hold_point(&self, node: Option<&str>, wave: usize, what: String) -> Result<(), Halt> {
        let paused = self.ctl_tx.send_if_modified(|c| {
            let run = *c == Control::Run;
            if run {
                *c = Control::Pause;
            }
            run
        });
        if paused {
            // The hold's own line says it is paused; `Paused(false)` still says it goes on.
            self.paused_said.store(true, Ordering::Relaxed);
            self.emit(CampaignEvent::Waiting {
                node: node.map(str::to_string),
                message: format!("hold point: {what} — resume to go on"),
            });
            self.record(Some(wave), node, Step::Hold, "holding", Some(what))
                .await;
        }
        self.boundary(node, Step::Hold).await?;
        if paused {
            self.record(Some(wave), node, Step::Hold, "released", None)
                .await;
        }
        Ok(())
    }
}
