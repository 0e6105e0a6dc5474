//! The campaign's journal: one JSON line per step, beside the drain journal
//! (`<state_dir>/campaign.jsonl`; cordons, evictions and uncordons also go to the drain
//! journal as for any drain). It is the campaign's memory: [`progress`] reads where an
//! unfinished campaign stopped, so `--resume` continues at the same node and step.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::gate::Baseline;
use super::plan::Wave;
use crate::drain::journal::{Target, state_dir};

/// A step of the campaign, in the order a node goes through them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Step {
    /// The campaign starts (detail: its [`Spec`]) or resumes.
    Start,
    /// A wave's pre-check (outcome `proceed` or `held`).
    Precheck,
    Cordon,
    Drain,
    /// The upgrade was handed to the hook or to the operator.
    Upgrade,
    /// The return-to-service gate passed (detail: the versions after).
    Gate,
    Uncordon,
    /// A wave's soak (no node).
    Soak,
    /// Stopped short: abort, held, failed (detail: where).
    Stop,
    /// Every wave done.
    Finish,
    /// The queued taint put on a node waiting its turn (`tainted`) or lifted (`untainted`).
    Taint,
    /// A hold point: the campaign paused itself (`holding`) until resumed (`released`).
    Hold,
}

impl Step {
    /// The node steps, in order.
    pub const NODE: [Step; 6] = [
        Step::Cordon,
        Step::Drain,
        Step::Upgrade,
        Step::Gate,
        Step::Uncordon,
        Step::Soak,
    ];

    /// Lower-case name (`cordon`, `drain`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Step::Start => "start",
            Step::Precheck => "precheck",
            Step::Cordon => "cordon",
            Step::Drain => "drain",
            Step::Upgrade => "upgrade",
            Step::Gate => "gate",
            Step::Uncordon => "uncordon",
            Step::Soak => "soak",
            Step::Stop => "stop",
            Step::Finish => "finish",
            Step::Taint => "taint",
            Step::Hold => "hold",
        }
    }
}

/// Where a campaign pauses itself until the operator lets it go on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Hold {
    /// Before each node's cordon.
    Node,
    /// Before each wave's pre-check.
    Wave,
}

/// A `--hold` value that is neither `node` nor `wave`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid --hold \"{0}\": expected node or wave")]
pub struct HoldError(pub String);

impl Hold {
    /// `node` or `wave` (as `--hold` takes it), or why not.
    pub fn parse(s: &str) -> Result<Hold, HoldError> {
        match s {
            "node" => Ok(Hold::Node),
            "wave" => Ok(Hold::Wave),
            _ => Err(HoldError(s.to_string())),
        }
    }
}

/// What the campaign is: recorded on its start line, read back on resume.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Spec {
    pub waves: Vec<Wave>,
    /// Kubernetes version to upgrade to; `None`: an OS-only campaign.
    pub target: Option<String>,
    pub max_unavailable: usize,
    /// Minimum soak per wave, seconds.
    pub soak_secs: u64,
    pub allow_outage: bool,
    /// What was unsettled at the start (the soak does not wait for it).
    #[serde(default)]
    pub baseline: Baseline,
    /// Put a `PreferNoSchedule` taint on the nodes waiting their turn ([`super::taints`]).
    #[serde(default)]
    pub taint_queued: bool,
    /// Pause before each node or each wave until resumed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hold: Option<Hold>,
}

/// One journal line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub time: Timestamp,
    /// The campaign's id (its start time and pid).
    pub campaign: String,
    pub context: String,
    pub server: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wave: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    pub step: Step,
    /// `done`, `waiting`, `held`, `failed`, `aborted`, `cordoned`, `already-cordoned`, ...
    pub outcome: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl Entry {
    /// Whether this line completes its step (what resume skips).
    pub fn completes(&self) -> bool {
        matches!(
            self.outcome.as_str(),
            "done" | "cordoned" | "already-cordoned" | "uncordoned" | "left-cordoned"
        )
    }
}

/// The versions a node reports (before the cordon, after the gate).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeVersions {
    pub kubelet: String,
    pub os_image: String,
    pub kernel: String,
    pub boot_id: String,
}

/// The campaign journal file and the cluster it records for.
#[derive(Debug, Clone)]
pub struct CampaignJournal {
    pub path: PathBuf,
    pub target: Target,
}

impl CampaignJournal {
    /// `<state_dir>/campaign.jsonl` for `target`.
    pub fn open(target: Target) -> Self {
        CampaignJournal {
            path: state_dir().join("campaign.jsonl"),
            target,
        }
    }

    /// Appends a line and waits until it is on disk (off the async runtime).
    pub async fn record(&self, mut e: Entry) -> std::io::Result<()> {
        e.context = self.target.context.clone();
        e.server = self.target.server.clone();
        let mut line = serde_json::to_string(&e).map_err(std::io::Error::other)?;
        line.push('\n');
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || {
            use std::io::Write;
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)?
                .write_all(line.as_bytes())
        })
        .await
        .map_err(std::io::Error::other)?
    }

    /// Every readable line (unparsable ones skipped).
    pub fn entries(&self) -> Vec<Entry> {
        std::fs::read_to_string(&self.path)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    /// The lines of one campaign.
    pub fn of(&self, campaign: &str) -> Vec<Entry> {
        self.entries()
            .into_iter()
            .filter(|e| e.campaign == campaign)
            .collect()
    }
}

/// Where a campaign stands, read from its journal lines.
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    pub campaign: String,
    pub spec: Spec,
    /// Steps completed per node.
    pub done: BTreeMap<String, BTreeSet<Step>>,
    /// Waves whose pre-check passed.
    pub checked: BTreeSet<usize>,
    /// Waves soaked.
    pub soaked: BTreeSet<usize>,
    /// Nodes this campaign cordoned (not those cordoned before it): only these are uncordoned.
    pub cordoned_by_us: BTreeSet<String>,
    /// Versions before the cordon, per node.
    pub before: BTreeMap<String, NodeVersions>,
    /// When a cordon was started without a recorded result (the process died in between).
    pub cordon_started: BTreeMap<String, Timestamp>,
    /// Nodes carrying this campaign's queued taint, as journaled.
    pub tainted: BTreeSet<String>,
    /// Whether the campaign finished.
    pub finished: bool,
}

impl Progress {
    /// Whether `node` completed `step`.
    pub fn did(&self, node: &str, step: Step) -> bool {
        self.done.get(node).is_some_and(|s| s.contains(&step))
    }

    /// The first node and step not done, in the campaign's order (`None`: all done).
    pub fn next(&self) -> Option<(String, Step)> {
        for w in &self.spec.waves {
            for step in Step::NODE {
                for n in &w.nodes {
                    let done = if step == Step::Soak {
                        self.soaked.contains(&w.index)
                    } else {
                        self.did(n, step)
                    };
                    if !done {
                        return Some((n.clone(), step));
                    }
                }
            }
        }
        None
    }
}

/// The progress of `campaign` from the journal lines (`None` without its start line).
pub fn progress(entries: &[Entry], campaign: &str) -> Option<Progress> {
    let mut lines = entries.iter().filter(|e| e.campaign == campaign);
    let start = lines.clone().find(|e| e.step == Step::Start)?;
    let spec: Spec = serde_json::from_str(start.detail.as_deref()?).ok()?;
    let mut p = Progress {
        campaign: campaign.to_string(),
        spec,
        done: BTreeMap::new(),
        checked: BTreeSet::new(),
        soaked: BTreeSet::new(),
        cordoned_by_us: BTreeSet::new(),
        before: BTreeMap::new(),
        cordon_started: BTreeMap::new(),
        tainted: BTreeSet::new(),
        finished: false,
    };
    for e in lines.by_ref() {
        match (e.step, &e.node) {
            (Step::Taint, Some(n)) => {
                match e.outcome.as_str() {
                    "tainted" => p.tainted.insert(n.clone()),
                    "untainted" => p.tainted.remove(n),
                    _ => false,
                };
            }
            (Step::Cordon, Some(n)) if e.outcome == "started" => {
                p.cordon_started.insert(n.clone(), e.time);
            }
            (Step::Finish, _) => p.finished = true,
            (Step::Precheck, _) if e.outcome == "proceed" => {
                p.checked.extend(e.wave);
            }
            (Step::Soak, _) if e.completes() => {
                p.soaked.extend(e.wave);
            }
            (step, Some(n)) if e.completes() => {
                p.done.entry(n.clone()).or_default().insert(step);
                if step == Step::Cordon {
                    if e.outcome == "cordoned" {
                        p.cordoned_by_us.insert(n.clone());
                    }
                    if let Some(v) = e
                        .detail
                        .as_deref()
                        .and_then(|d| serde_json::from_str(d).ok())
                    {
                        p.before.insert(n.clone(), v);
                    }
                }
            }
            _ => {}
        }
    }
    Some(p)
}

/// The most recent campaign against `server` that did not finish.
pub fn last_unfinished(entries: &[Entry], server: &str) -> Option<Progress> {
    let id = entries
        .iter()
        .rev()
        .find(|e| e.step == Step::Start && e.server == server && e.outcome == "started")?
        .campaign
        .clone();
    progress(entries, &id).filter(|p| !p.finished)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(node: Option<&str>, wave: Option<usize>, step: Step, outcome: &str) -> Entry {
        Entry {
            time: Timestamp::UNIX_EPOCH,
            campaign: "c1".into(),
            context: String::new(),
            server: "s".into(),
            wave,
            node: node.map(str::to_string),
            step,
            outcome: outcome.into(),
            detail: None,
        }
    }

    #[test]
    fn progress_finds_the_next_node_and_step_and_who_cordoned() {
        let spec = Spec {
            waves: vec![
                Wave {
                    index: 0,
                    nodes: vec!["m0".into()],
                    control_plane: true,
                },
                Wave {
                    index: 1,
                    nodes: vec!["n0".into(), "n1".into()],
                    control_plane: false,
                },
            ],
            target: Some("v1.26.0".into()),
            max_unavailable: 2,
            soak_secs: 0,
            allow_outage: false,
            baseline: Baseline::default(),
            taint_queued: true,
            hold: None,
        };
        let mut start = line(None, None, Step::Start, "started");
        start.detail = Some(serde_json::to_string(&spec).unwrap());
        let mut es = vec![start];
        for s in [Step::Drain, Step::Upgrade, Step::Gate, Step::Uncordon] {
            es.push(line(Some("m0"), Some(0), s, "done"));
        }
        es.insert(1, line(Some("m0"), Some(0), Step::Cordon, "cordoned"));
        es.push(line(None, Some(0), Step::Soak, "done"));
        es.push(line(Some("n0"), Some(1), Step::Cordon, "cordoned"));
        es.push(line(Some("n1"), Some(1), Step::Cordon, "already-cordoned"));
        es.push(line(Some("n0"), Some(1), Step::Drain, "done"));
        es.push(line(Some("n1"), Some(1), Step::Drain, "failed"));
        es.push(line(None, Some(1), Step::Stop, "aborted"));
        es.insert(1, line(Some("n0"), None, Step::Taint, "tainted"));
        es.insert(1, line(Some("n1"), None, Step::Taint, "tainted"));
        es.push(line(Some("n0"), None, Step::Taint, "untainted"));
        let p = last_unfinished(&es, "s").unwrap();
        assert_eq!(
            p.tainted,
            BTreeSet::from(["n1".to_string()]),
            "n1's taint is still on"
        );
        assert!(p.spec.taint_queued);
        assert_eq!(p.next(), Some(("n1".into(), Step::Drain)));
        assert!(p.cordoned_by_us.contains("n0") && !p.cordoned_by_us.contains("n1"));
        assert!(p.soaked.contains(&0) && !p.soaked.contains(&1));
        es.push(line(None, None, Step::Finish, "done"));
        assert_eq!(last_unfinished(&es, "s"), None);
    }
}
