//! The campaign form: which nodes, the target version, max-unavailable and the soak.

use crate::campaign::journal::Hold;
use crate::campaign::plan::Selection;
use crate::campaign::prepare::{Pick, Request};
use crate::campaign::upgrade::{TargetError, parse_target};
use crate::drain::options::parse_go_duration;

/// What is wrong with the campaign form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CampaignFormError {
    /// "Marked nodes" with none marked.
    #[error("no node is marked (Space in the nodes pane marks one)")]
    NoneMarked,
    /// Not a version (the CLI's words, for the form's field).
    #[error("{}", .0.to_string().replace("--target", "target version"))]
    Target(#[from] TargetError),
    /// Not a whole number ≥ 1.
    #[error("max unavailable \"{0}\": expected a whole number ≥ 1")]
    MaxUnavailable(String),
    /// Not a duration.
    #[error("soak \"{0}\": expected a duration like 2m")]
    Soak(String),
}

/// Which nodes the campaign takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PickChoice {
    Marked,
    AllWorkers,
    ControlPlane,
    All,
}

impl PickChoice {
    const ORDER: [PickChoice; 4] = [
        PickChoice::Marked,
        PickChoice::AllWorkers,
        PickChoice::ControlPlane,
        PickChoice::All,
    ];

    /// How the form shows it.
    pub fn label(self, marked: usize) -> String {
        match self {
            PickChoice::Marked => format!("marked nodes ({marked})"),
            PickChoice::AllWorkers => "all workers".into(),
            PickChoice::ControlPlane => "control plane".into(),
            PickChoice::All => "all nodes (control plane first)".into(),
        }
    }

    fn step(self, by: isize) -> PickChoice {
        let i = Self::ORDER.iter().position(|c| *c == self).unwrap_or(0) as isize;
        let n = Self::ORDER.len() as isize;
        Self::ORDER[(i + by).rem_euclid(n) as usize]
    }
}

/// The form's fields, in order.
pub const FIELDS: [&str; 5] = [
    "nodes",
    "target version",
    "max unavailable",
    "soak",
    "hold points",
];

/// The hold-point choices, in ←/→ order.
const HOLDS: [Option<Hold>; 3] = [None, Some(Hold::Node), Some(Hold::Wave)];

/// How the form shows a hold-point choice.
pub fn hold_label(h: Option<Hold>) -> &'static str {
    match h {
        None => "none",
        Some(Hold::Node) => "before each node (p goes on)",
        Some(Hold::Wave) => "before each wave (p goes on)",
    }
}

/// The form as typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CampaignForm {
    pub pick: PickChoice,
    /// The marked nodes when the form was opened, in name order.
    pub marked: Vec<String>,
    /// Empty: an OS-only campaign.
    pub target: String,
    pub max_unavailable: String,
    pub soak: String,
    /// Pause before each node or wave until the operator goes on.
    pub hold: Option<Hold>,
    /// The field with the cursor (index into [`FIELDS`]).
    pub field: usize,
    /// The cursor just arrived: the first keystroke replaces the value.
    pub fresh: bool,
    /// Why the last Enter was refused.
    pub error: Option<String>,
}

impl CampaignForm {
    /// A form for `marked` (every worker when nothing is marked).
    pub fn new(marked: Vec<String>) -> CampaignForm {
        CampaignForm {
            pick: if marked.is_empty() {
                PickChoice::AllWorkers
            } else {
                PickChoice::Marked
            },
            marked,
            target: String::new(),
            max_unavailable: "1".into(),
            soak: "0s".into(),
            hold: None,
            field: 0,
            fresh: true,
            error: None,
        }
    }

    /// Moves the cursor by `by` fields.
    pub fn move_by(&mut self, by: isize) {
        let n = FIELDS.len() as isize;
        self.field = (self.field as isize + by).rem_euclid(n) as usize;
        self.fresh = true;
    }

    /// ←/→ on the nodes field ("marked nodes" only when some are) and the hold points.
    pub fn cycle(&mut self, by: isize) {
        if self.field == 4 {
            let i = HOLDS.iter().position(|h| *h == self.hold).unwrap_or(0) as isize;
            self.hold = HOLDS[(i + by).rem_euclid(HOLDS.len() as isize) as usize];
        }
        if self.field == 0 {
            self.pick = self.pick.step(by);
            if self.pick == PickChoice::Marked && self.marked.is_empty() {
                self.pick = self.pick.step(by);
            }
        }
    }

    fn text_mut(&mut self) -> Option<&mut String> {
        match self.field {
            1 => Some(&mut self.target),
            2 => Some(&mut self.max_unavailable),
            3 => Some(&mut self.soak),
            _ => None,
        }
    }

    /// A typed character: the first one after the cursor arrived replaces the value.
    pub fn type_char(&mut self, c: char) {
        let fresh = std::mem::replace(&mut self.fresh, false);
        if let Some(t) = self.text_mut() {
            if fresh {
                t.clear();
            }
            t.push(c);
        }
    }

    /// Backspace.
    pub fn backspace(&mut self) {
        self.fresh = false;
        if let Some(t) = self.text_mut() {
            t.pop();
        }
    }

    /// The request the form describes, or what is wrong with it.
    pub fn request(&self) -> Result<Request, CampaignFormError> {
        let pick = match self.pick {
            PickChoice::Marked if self.marked.is_empty() => {
                return Err(CampaignFormError::NoneMarked);
            }
            PickChoice::Marked => Selection::Names(self.marked.clone()),
            PickChoice::AllWorkers => Selection::AllWorkers,
            PickChoice::ControlPlane => Selection::ControlPlane,
            PickChoice::All => Selection::All,
        };
        let target = match self.target.trim() {
            "" => None,
            t => Some(parse_target(t)?),
        };
        let max_unavailable = match self.max_unavailable.trim().parse::<usize>() {
            Ok(n) if n >= 1 => n,
            _ => {
                return Err(CampaignFormError::MaxUnavailable(
                    self.max_unavailable.clone(),
                ));
            }
        };
        let soak = parse_go_duration(self.soak.trim())
            .ok_or_else(|| CampaignFormError::Soak(self.soak.clone()))?;
        Ok(Request {
            pick: Pick::Nodes(pick),
            target,
            max_unavailable,
            soak_secs: soak.as_secs(),
            allow_outage: false,
            // As `kubedrain campaign` does by default: evicted pods keep off the nodes next in line.
            taint_queued: true,
            hold: self.hold,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_keystroke_replaces_a_default_and_bad_values_are_named() {
        let mut f = CampaignForm::new(vec![]);
        assert_eq!(f.pick, PickChoice::AllWorkers);
        // Nothing marked: ← goes past "marked nodes" to "all nodes".
        f.cycle(-1);
        assert_eq!(f.pick, PickChoice::All);
        f.cycle(1);
        f.move_by(2);
        f.type_char('5');
        assert_eq!(f.max_unavailable, "5");
        f.type_char('0');
        assert_eq!(f.max_unavailable, "50");
        f.move_by(-1);
        for c in "1.26.0".chars() {
            f.type_char(c);
        }
        let r = f.request().unwrap();
        assert_eq!(r.target.as_deref(), Some("v1.26.0"));
        assert_eq!(r.max_unavailable, 50);
        f.target = "latest".into();
        assert!(
            f.request()
                .unwrap_err()
                .to_string()
                .contains("target version")
        );
        f.target.clear();
        f.max_unavailable = "0".into();
        assert!(
            f.request()
                .unwrap_err()
                .to_string()
                .contains("max unavailable")
        );
        f.max_unavailable = "1".into();
        f.pick = PickChoice::Marked;
        assert!(
            f.request()
                .unwrap_err()
                .to_string()
                .contains("no node is marked")
        );
    }

    #[test]
    fn the_nodes_field_cycles_through_every_choice() {
        let mut f = CampaignForm::new(vec!["node0".into()]);
        assert_eq!(f.pick, PickChoice::Marked);
        f.cycle(-1);
        assert_eq!(f.pick, PickChoice::All);
        f.cycle(1);
        f.cycle(1);
        assert_eq!(f.pick, PickChoice::AllWorkers);
        assert_eq!(
            f.request().unwrap().pick,
            Pick::Nodes(Selection::AllWorkers)
        );
    }
}
