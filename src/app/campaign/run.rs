//! The running campaign as the view shows it, built only from the engine's events: each
//! node's phases with their times, what the campaign waits for, the last wave's forecast and
//! each node's live drain.

use std::collections::BTreeMap;

use jiff::Timestamp;

use crate::app::drain_flow::{LiveDrain, event_node};
use crate::campaign::events::{CampaignEvent, CampaignState};
use crate::campaign::journal::{Progress, Spec, Step};
use crate::campaign::plan::WaveCheck;

/// The phases a node goes through, in the view's column order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    Cordoned,
    Drained,
    Upgrading,
    /// The return-to-service gate passed: Ready again, versions verified, DaemonSet pods Ready.
    BackInService,
    Uncordoned,
    Soaked,
}

impl Phase {
    /// Column order.
    pub const ALL: [Phase; 6] = [
        Phase::Cordoned,
        Phase::Drained,
        Phase::Upgrading,
        Phase::BackInService,
        Phase::Uncordoned,
        Phase::Soaked,
    ];

    /// Column heading.
    pub fn title(self) -> &'static str {
        match self {
            Phase::Cordoned => "CORDONED",
            Phase::Drained => "DRAINED",
            Phase::Upgrading => "UPGRADE",
            Phase::BackInService => "READY+VER",
            Phase::Uncordoned => "UNCORDONED",
            Phase::Soaked => "SOAKED",
        }
    }

    /// Short column heading, for narrow terminals.
    pub fn short_title(self) -> &'static str {
        match self {
            Phase::Cordoned => "CORD",
            Phase::Drained => "DRAIN",
            Phase::Upgrading => "UPGR",
            Phase::BackInService => "READY",
            Phase::Uncordoned => "UNCRD",
            Phase::Soaked => "SOAK",
        }
    }

    /// What a node in this phase is doing until the next one.
    pub fn next_doing(self) -> &'static str {
        match self {
            Phase::Cordoned => "draining",
            Phase::Drained => "upgrading",
            Phase::Upgrading => "waiting Ready",
            Phase::BackInService => "uncordoning",
            Phase::Uncordoned => "soaking",
            Phase::Soaked => "done",
        }
    }

    fn of(step: Step) -> Option<Phase> {
        Some(match step {
            Step::Cordon => Phase::Cordoned,
            Step::Drain => Phase::Drained,
            Step::Upgrade => Phase::Upgrading,
            Step::Gate => Phase::BackInService,
            Step::Uncordon => Phase::Uncordoned,
            Step::Soak => Phase::Soaked,
            _ => return None,
        })
    }
}

/// One node's row.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeProgress {
    pub name: String,
    pub wave: usize,
    /// When each phase was reached.
    pub done: BTreeMap<Phase, Timestamp>,
    /// The gate's detail (versions after), when it passed.
    pub after: Option<String>,
    /// Phases done before this session (read from the journal on resume; no time shown).
    pub journaled: std::collections::BTreeSet<Phase>,
}

impl NodeProgress {
    /// The last phase reached.
    pub fn last(&self) -> Option<Phase> {
        let live = self.done.keys().next_back().copied();
        live.max(self.journaled.iter().next_back().copied())
    }
}

/// The campaign the view follows.
#[derive(Debug, Clone)]
pub struct CampaignRun {
    pub id: Option<String>,
    pub spec: Spec,
    pub started: Timestamp,
    /// Every node, in campaign order.
    pub nodes: Vec<NodeProgress>,
    /// The wave in progress (0-based).
    pub wave: usize,
    /// What the campaign waits for, in one line.
    pub waiting: Option<String>,
    /// The commands the operator must run now (no in-process upgrade): (node, commands).
    pub upgrade_now: Option<(String, Vec<String>)>,
    pub paused: bool,
    /// The latest wave's pre-check (its forecast).
    pub check: Option<WaveCheck>,
    /// Notices, most recent last.
    pub notices: Vec<String>,
    /// Each node's drain, as the drain view shows it.
    pub drains: BTreeMap<String, LiveDrain>,
    /// The node row the view shows the drain of.
    pub selected: usize,
    pub finished: Option<CampaignState>,
    /// Where the report went (or why it did not).
    pub report: Option<Result<(String, String), String>>,
}

/// At most this many notices are kept.
const NOTICES: usize = 20;

impl CampaignRun {
    /// A campaign about to start.
    pub fn new(spec: Spec, now: Timestamp) -> CampaignRun {
        let nodes = spec
            .waves
            .iter()
            .flat_map(|w| {
                w.nodes.iter().map(|n| NodeProgress {
                    name: n.clone(),
                    wave: w.index,
                    done: BTreeMap::new(),
                    after: None,
                    journaled: Default::default(),
                })
            })
            .collect();
        CampaignRun {
            id: None,
            spec,
            started: now,
            nodes,
            wave: 0,
            waiting: None,
            upgrade_now: None,
            paused: false,
            check: None,
            notices: Vec::new(),
            drains: BTreeMap::new(),
            selected: 0,
            finished: None,
            report: None,
        }
    }

    /// A journaled campaign about to resume: what it did before shows as done.
    pub fn resumed(p: &Progress, now: Timestamp) -> CampaignRun {
        let mut run = CampaignRun::new(p.spec.clone(), now);
        for row in &mut run.nodes {
            if let Some(steps) = p.done.get(&row.name) {
                row.journaled = steps.iter().filter_map(|s| Phase::of(*s)).collect();
            }
            if p.soaked.contains(&row.wave) {
                row.journaled.insert(Phase::Soaked);
            }
        }
        run.wave = p
            .next()
            .and_then(|(n, _)| run.nodes.iter().find(|r| r.name == n).map(|r| r.wave))
            .unwrap_or(0);
        run
    }

    /// The node whose turn it is (the first of the current wave not yet uncordoned).
    pub fn current(&self) -> Option<&NodeProgress> {
        self.nodes
            .iter()
            .filter(|n| n.wave == self.wave)
            .find(|n| n.last() < Some(Phase::Uncordoned))
    }

    /// What `n` is doing now, if anything.
    pub fn doing(&self, n: &NodeProgress) -> Option<&'static str> {
        if self.finished.is_some() || n.wave != self.wave {
            return None;
        }
        Some(match n.last() {
            None => "cordoning",
            Some(p) => p.next_doing(),
        })
        .filter(|d| *d != "done")
    }

    fn node_mut(&mut self, name: &str) -> Option<&mut NodeProgress> {
        self.nodes.iter_mut().find(|n| n.name == name)
    }

    fn notice(&mut self, text: String) {
        self.notices.push(text);
        if self.notices.len() > NOTICES {
            self.notices.remove(0);
        }
    }

    /// Applies one engine event.
    pub fn apply(&mut self, e: CampaignEvent, now: Timestamp) {
        // Long: one arm per engine event; each arm is a few lines of bookkeeping.
        match e {
            CampaignEvent::Checked(c) => {
                self.wave = c.wave.index;
                if let Some(r) = &c.held {
                    self.waiting = Some(format!("wave {} held: {r}", c.wave.index + 1));
                }
                self.check = Some(*c);
            }
            CampaignEvent::Phase {
                node: Some(n),
                wave,
                step,
                detail,
            } => {
                self.wave = wave;
                self.waiting = None;
                if let (Some(p), Some(row)) = (Phase::of(step), self.node_mut(&n)) {
                    row.done.insert(p, now);
                    if p == Phase::BackInService {
                        row.after = detail;
                    }
                }
                if step == Step::Upgrade {
                    self.upgrade_now = None;
                }
            }
            CampaignEvent::Phase {
                node: None, wave, ..
            } => {
                // The wave's soak is every node's last phase.
                for row in self.nodes.iter_mut().filter(|r| r.wave == wave) {
                    row.done.insert(Phase::Soaked, now);
                }
                self.waiting = None;
            }
            CampaignEvent::UpgradeNow {
                node,
                commands,
                by_hook,
            } => {
                if let Some(row) = self.node_mut(&node) {
                    row.done.entry(Phase::Upgrading).or_insert(now);
                }
                self.upgrade_now = (!by_hook).then_some((node, commands));
            }
            CampaignEvent::Waiting { node, message } => {
                // A hold point pauses the engine itself: `p` goes on.
                if message.starts_with("hold point:") {
                    self.paused = true;
                }
                self.waiting = Some(match node {
                    Some(n) if !message.contains(&format!("node/{n}")) => {
                        format!("node/{n}: {message}")
                    }
                    _ => message,
                });
            }
            CampaignEvent::Paused(p) => self.paused = p,
            CampaignEvent::Drain(d) => {
                let node = event_node(&d).to_string();
                if let Some(i) = self.nodes.iter().position(|n| n.name == node)
                    && !self.drains.contains_key(&node)
                {
                    // Follow the newest drain unless the operator picked a row.
                    self.selected = i;
                }
                self.drains
                    .entry(node.clone())
                    .or_insert_with(|| LiveDrain {
                        in_campaign: true,
                        ..LiveDrain::new(&node, now, None)
                    })
                    .apply(*d, now);
            }
            CampaignEvent::Notice(m) => self.notice(m),
            CampaignEvent::Finished { state, .. } => {
                self.waiting = None;
                self.upgrade_now = None;
                self.finished = Some(state);
            }
        }
    }

    /// The drain of the selected row, if it has one.
    pub fn selected_drain(&self) -> Option<&LiveDrain> {
        self.nodes
            .get(self.selected)
            .and_then(|n| self.drains.get(&n.name))
    }
}
