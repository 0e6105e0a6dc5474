//! Hold points: the campaign pauses itself before each node's cordon or each wave's
//! pre-check (`Spec::hold`) and says where in one line, until the operator resumes it.

use std::sync::atomic::Ordering;

use super::events::CampaignEvent;
use super::exec::{Control, Halt, Runner};
use super::journal::Step;

impl Runner {
    /// A hold point: pauses the campaign itself, says where in one `Waiting` line, and waits
    /// until [`CampaignControl::resume`] (or an abort).
    pub(super) async fn hold_point(&self, node: Option<&str>, wave: usize, what: String) -> Result<(), Halt> {
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
