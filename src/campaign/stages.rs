//! The per-node steps of a campaign (cordon, drain, upgrade, gate, uncordon) and the wave's
//! soak, each journaled; and what the executor observes on the side (PDB waits, Pending pods).

use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;

use jiff::Timestamp;
use kube::Client;
use kube::api::ListParams;

use super::events::CampaignEvent;
use super::exec::{Halt, Runner};
use super::gate::{self, Expect};
use super::journal::{NodeVersions, Step};
use super::read;
use super::report::{Extras, PdbWait};
use super::upgrade::instructions;
use crate::cluster::rows::{NodeRow, PodRow};
use crate::drain::events::{DrainEvent, NodeState, PodState};
use crate::drain::exec::start_drain_with;
use crate::drain::journal::ann;
use crate::drain::node_ops;

impl Runner {
    pub(super) async fn cordon(&self, wave: usize, node: &str) -> Result<(), Halt> {
        // Journaled before the cordon: a crash between the two is recognised on resume.
        let interrupted = self
            .progress
            .lock()
            .ok()
            .and_then(|p| p.cordon_started.get(node).copied());
        self.record(Some(wave), Some(node), Step::Cordon, "started", None)
            .await;
        match node_ops::cordon(&self.s.client, node, false, &self.s.drain_journal).await {
            Ok(mut c) => {
                if c.already && interrupted.is_some_and(|t| ours_since(&c.before, t)) {
                    c.already = false;
                }
                let before = versions(&c.before);
                let outcome = if c.already {
                    "already-cordoned"
                } else {
                    "cordoned"
                };
                if let Ok(mut p) = self.progress.lock() {
                    if !c.already {
                        p.cordoned_by_us.insert(node.to_string());
                    }
                    p.before.insert(node.to_string(), before.clone());
                }
                let detail = serde_json::to_string(&before).ok();
                self.record(Some(wave), Some(node), Step::Cordon, outcome, detail)
                    .await;
                let note = c
                    .already
                    .then(|| "cordoned before the campaign: it will be left cordoned".to_string());
                self.phase(wave, node, Step::Cordon, note);
                // Cordoned: the scheduler avoids it anyway, and once it is back it is the
                // best place for pods (it will not be drained again).
                self.untaint(wave, node).await
            }
            Err(e) => self.fail(wave, node, Step::Cordon, e.to_string()).await,
        }
    }

    pub(super) fn phase(&self, wave: usize, node: &str, step: Step, detail: Option<String>) {
        self.emit(CampaignEvent::Phase {
            node: Some(node.to_string()),
            wave,
            step,
            detail,
        });
    }

    pub(super) async fn fail(
        &self,
        wave: usize,
        node: &str,
        step: Step,
        reason: String,
    ) -> Result<(), Halt> {
        self.record(Some(wave), Some(node), step, "failed", Some(reason.clone()))
            .await;
        let _ = self.stop.send(true);
        Err(Halt::Fail {
            node: node.to_string(),
            step,
            reason,
        })
    }

    pub(super) async fn node_steps(
        &self,
        wave: &super::plan::Wave,
        node: &str,
    ) -> Result<(), Halt> {
        let w = wave.index;
        if !self.did(node, Step::Drain) {
            self.boundary(Some(node), Step::Drain).await?;
            self.drain(w, node).await?;
        }
        if !self.did(node, Step::Upgrade) {
            self.boundary(Some(node), Step::Upgrade).await?;
            self.upgrade(wave, node).await?;
        }
        if !self.did(node, Step::Gate) {
            self.boundary(Some(node), Step::Gate).await?;
            self.gate(w, node).await?;
        }
        if !self.did(node, Step::Uncordon) {
            self.boundary(Some(node), Step::Uncordon).await?;
            self.uncordon(w, node).await?;
        }
        Ok(())
    }

    async fn drain(&self, wave: usize, node: &str) -> Result<(), Halt> {
        self.record(Some(wave), Some(node), Step::Drain, "started", None)
            .await;
        let sink = self.sink.clone();
        let extras = self.extras.clone();
        let handle = start_drain_with(
            self.s.client.clone(),
            node,
            self.s.opts.clone(),
            self.s.drain_journal.clone(),
            move |e| {
                note_pdb_wait(&extras, &e);
                sink(CampaignEvent::Drain(Box::new(e)));
            },
        );
        let mut cancelled = false;
        let mut watch = tokio::time::interval(self.s.poll);
        while !handle.is_finished() {
            tokio::select! {
                _ = self.stopped(), if !cancelled => {
                    handle.cancel();
                    cancelled = true;
                }
                _ = watch.tick(), if !cancelled => self.keep_cordoned(wave, node).await,
                _ = tokio::time::sleep(Duration::from_millis(50)) => {}
            }
        }
        let out = handle.wait().await;
        match out.state {
            NodeState::Drained => {
                self.record(
                    Some(wave),
                    Some(node),
                    Step::Drain,
                    "done",
                    Some(out.message),
                )
                .await;
                self.phase(wave, node, Step::Drain, None);
                Ok(())
            }
            NodeState::Cancelled | NodeState::Interrupted if cancelled => {
                self.record(
                    Some(wave),
                    Some(node),
                    Step::Drain,
                    "aborted",
                    Some(out.message),
                )
                .await;
                Err(Halt::Abort {
                    node: Some(node.to_string()),
                    step: Step::Drain,
                })
            }
            _ => {
                let mut reason = out.message.clone();
                if !out.errors.is_empty() {
                    reason = format!("{}; {reason}", out.errors.join("; "));
                }
                self.fail(wave, node, Step::Drain, reason).await
            }
        }
    }

    /// During the drain: a node someone made schedulable again is cordoned again (pods would
    /// land on it and the drain would never end), journaled and said as a warning.
    async fn keep_cordoned(&self, wave: usize, node: &str) {
        let Ok(n) = node_ops::get_node(&self.s.client, node).await else {
            return; // The drain's own node watch reports a node that is gone.
        };
        if n.unschedulable {
            return;
        }
        let (outcome, message) = match node_ops::cordon_node(
            &self.s.client,
            n,
            true,
            &self.s.drain_journal,
        )
        .await
        {
            Ok(_) => (
                "re-cordoned",
                format!(
                    "warning: node/{node} was uncordoned during its drain (not by this campaign): cordoned it again"
                ),
            ),
            Err(e) => (
                "re-cordon-failed",
                format!(
                    "warning: node/{node} was uncordoned during its drain and cannot be cordoned again: {e}"
                ),
            ),
        };
        self.record(
            Some(wave),
            Some(node),
            Step::Drain,
            outcome,
            Some(message.clone()),
        )
        .await;
        self.emit(CampaignEvent::Notice(message));
    }

    async fn upgrade(&self, wave: &super::plan::Wave, node: &str) -> Result<(), Halt> {
        let first_cp = wave.control_plane
            && self
                .spec
                .waves
                .iter()
                .find(|w| w.control_plane)
                .is_some_and(|w| w.index == wave.index);
        let target = self.spec.target.as_deref();
        let commands = instructions(node, target, first_cp);
        let by_hook = self.s.upgrade.is_some();
        if let Some(hook) = &self.s.upgrade
            && let Err(e) = hook(node, target)
        {
            return self
                .fail(
                    wave.index,
                    node,
                    Step::Upgrade,
                    format!("the upgrade did not start: {e}"),
                )
                .await;
        }
        self.emit(CampaignEvent::UpgradeNow {
            node: node.to_string(),
            commands,
            by_hook,
        });
        let how = if by_hook { "hook" } else { "operator" };
        self.record(
            Some(wave.index),
            Some(node),
            Step::Upgrade,
            "done",
            Some(how.into()),
        )
        .await;
        Ok(())
    }

    async fn gate(&self, wave: usize, node: &str) -> Result<(), Halt> {
        let before = self
            .progress
            .lock()
            .ok()
            .and_then(|p| p.before.get(node).cloned())
            .unwrap_or_default();
        let expect = match &self.spec.target {
            Some(t) => Expect::Kubelet(t.clone()),
            None => Expect::NewBoot(before.boot_id.clone()),
        };
        let mut last = String::new();
        loop {
            let verdict = match read_node(&self.s.client, node).await {
                Ok((n, pods)) => gate::check(&n, &pods, &expect)
                    .map(|()| n)
                    .map_err(|e| e.to_string()),
                Err(e) => Err(format!("cannot read node/{node}: {e}")),
            };
            match verdict {
                Ok(n) => {
                    let after = versions(&n);
                    let detail = serde_json::to_string(&after).ok();
                    self.record(Some(wave), Some(node), Step::Gate, "done", detail)
                        .await;
                    let text = format!(
                        "Ready, kubelet {} → {}, kernel {} → {}",
                        before.kubelet, after.kubelet, before.kernel, after.kernel
                    );
                    self.phase(wave, node, Step::Gate, Some(text));
                    return Ok(());
                }
                Err(why) if why != last => {
                    self.emit(CampaignEvent::Waiting {
                        node: Some(node.to_string()),
                        message: why.clone(),
                    });
                    self.record(
                        Some(wave),
                        Some(node),
                        Step::Gate,
                        "waiting",
                        Some(why.clone()),
                    )
                    .await;
                    last = why;
                }
                Err(_) => {}
            }
            tokio::select! {
                _ = self.stopped() => return Err(Halt::Abort { node: Some(node.into()), step: Step::Gate }),
                _ = tokio::time::sleep(self.s.poll) => {}
            }
        }
    }

    async fn uncordon(&self, wave: usize, node: &str) -> Result<(), Halt> {
        let ours = self
            .progress
            .lock()
            .is_ok_and(|p| p.cordoned_by_us.contains(node));
        if !ours {
            let why = "cordoned before the campaign started: left cordoned".to_string();
            self.record(
                Some(wave),
                Some(node),
                Step::Uncordon,
                "left-cordoned",
                Some(why.clone()),
            )
            .await;
            self.phase(wave, node, Step::Uncordon, Some(why));
            return Ok(());
        }
        match node_ops::uncordon(&self.s.client, node, false, &self.s.drain_journal).await {
            Ok(u) => {
                let detail = (!u.changes.is_empty()).then(|| u.changes.join(", "));
                self.record(
                    Some(wave),
                    Some(node),
                    Step::Uncordon,
                    "uncordoned",
                    detail.clone(),
                )
                .await;
                self.phase(wave, node, Step::Uncordon, detail);
                Ok(())
            }
            Err(e) => self.fail(wave, node, Step::Uncordon, e.to_string()).await,
        }
    }

    pub(super) async fn soak(&self, wave: usize) -> Result<(), Halt> {
        let started = tokio::time::Instant::now();
        let min = Duration::from_secs(self.spec.soak_secs);
        let mut last = String::new();
        loop {
            let settled = match read::pods_and_pdbs(&self.s.client).await {
                Ok((pods, pdbs)) => {
                    gate::settled(&pods, &pdbs, &self.spec.baseline).map_err(|e| e.to_string())
                }
                Err(e) => Err(format!("cannot read pods and PDBs: {e}")),
            };
            let left = min.saturating_sub(started.elapsed());
            let why = match settled {
                Ok(()) if left.is_zero() => {
                    self.record(Some(wave), None, Step::Soak, "done", None)
                        .await;
                    self.emit(CampaignEvent::Phase {
                        node: None,
                        wave,
                        step: Step::Soak,
                        detail: None,
                    });
                    return Ok(());
                }
                Ok(()) => format!("soak: the minimum soak of {} s is not over", min.as_secs()),
                Err(e) => format!("soak: {e}"),
            };
            if why != last {
                self.emit(CampaignEvent::Waiting {
                    node: None,
                    message: why.clone(),
                });
                last = why;
            }
            tokio::select! {
                _ = self.stopped() => return Err(Halt::Abort { node: None, step: Step::Soak }),
                _ = tokio::time::sleep(self.s.poll.min(left.max(Duration::from_millis(10)))) => {}
            }
        }
    }
}

/// Whether `node`'s cordon is kubedrain's own, made at or after `since` on a node that was
/// schedulable before: the cordon of this campaign's interrupted cordon step.
fn ours_since(node: &NodeRow, since: Timestamp) -> bool {
    node.annotation(ann::CORDONED_BY) == Some("kubedrain")
        && node.annotation(ann::WAS_UNSCHEDULABLE) == Some("false")
        && node
            .annotation(ann::CORDONED_AT)
            .and_then(|t| t.parse::<Timestamp>().ok())
            .is_some_and(|t| t >= since)
}

fn versions(n: &NodeRow) -> NodeVersions {
    NodeVersions {
        kubelet: n.kubelet_version.clone(),
        os_image: n.os_image.clone(),
        kernel: n.kernel_version.clone(),
        boot_id: n.boot_id.clone(),
    }
}

/// Why a node or its pods could not be read for the gate.
#[derive(Debug, thiserror::Error)]
enum ReadNodeError {
    #[error(transparent)]
    Node(#[from] node_ops::NodeOpError),
    #[error(transparent)]
    Pods(#[from] read::ApiError),
}

async fn read_node(client: &Client, node: &str) -> Result<(NodeRow, Vec<PodRow>), ReadNodeError> {
    let n = node_ops::get_node(client, node).await?;
    let pods = read::list::<PodRow>(
        client,
        &ListParams::default().fields(&format!("spec.nodeName={node}")),
    )
    .await?;
    Ok((n, pods))
}

pub(super) fn note_pdb_wait(extras: &Mutex<Extras>, e: &DrainEvent) {
    let DrainEvent::Pod {
        node,
        state: PodState::BlockedByPdb { pdb, .. },
        ..
    } = e
    else {
        return;
    };
    let pdb = pdb.clone().unwrap_or_else(|| "unknown".into());
    let now = Timestamp::now();
    let Ok(mut x) = extras.lock() else { return };
    match x
        .pdb_waits
        .iter_mut()
        .find(|w| w.pdb == pdb && w.node == *node)
    {
        Some(w) => {
            w.refusals += 1;
            w.last = now;
        }
        None => x.pdb_waits.push(PdbWait {
            pdb,
            node: node.clone(),
            refusals: 1,
            first: now,
            last: now,
        }),
    }
}

/// Records pods seen Pending (not those Pending before the campaign) until aborted.
pub(super) async fn sample_pending(
    client: Client,
    every: Duration,
    baseline: std::collections::BTreeSet<String>,
    extras: Arc<Mutex<Extras>>,
) {
    // Only the Pending ones: a field selector keeps this cheap on a large cluster.
    let pending_only = ListParams::default().fields("status.phase=Pending");
    loop {
        if let Ok(pods) = read::list::<PodRow>(&client, &pending_only).await {
            let now = Timestamp::now();
            if let Ok(mut x) = extras.lock() {
                for p in gate::pending_pods(&pods) {
                    let key = p.key();
                    if !baseline.contains(&key) {
                        x.pending.entry(key).or_insert((now, now)).1 = now;
                    }
                }
            }
        }
        tokio::time::sleep(every).await;
    }
}
