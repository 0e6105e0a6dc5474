//! The demo cluster's clock, for teaching: `f` freezes the simulated cluster (time, grace
//! countdowns, every controller) and thaws it, `.` moves a frozen cluster on by one second and
//! one controller pass, `+`/`-` change its speed. The header shows the state.

use std::time::Duration;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::model::Model;
use super::msg::Cmd;

/// What a clock key asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockCmd {
    /// Freeze, or thaw when frozen.
    FreezeOrThaw,
    Step,
    Faster,
    Slower,
}

/// The clock as the header shows it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClockState {
    pub frozen: bool,
    /// The speed it runs (or will run again) at.
    pub speed: f64,
}

/// The speeds `+` and `-` move between.
const SPEEDS: [f64; 11] = [0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 100.0];

/// A clock the TUI can drive: the in-process simulator's.
pub trait DemoClock: Send + Sync + std::fmt::Debug {
    /// Applies `cmd` and says how the clock stands.
    fn apply(&self, cmd: ClockCmd) -> ClockState;
    /// How the clock stands.
    fn state(&self) -> ClockState;
    /// The simulated cluster's time now.
    fn now(&self) -> jiff::Timestamp;
}

impl DemoClock for crate::sim::SimClock {
    fn apply(&self, cmd: ClockCmd) -> ClockState {
        match cmd {
            ClockCmd::FreezeOrThaw if self.is_frozen() => self.thaw(),
            ClockCmd::FreezeOrThaw => self.freeze(),
            ClockCmd::Step => self.step(Duration::from_secs(1)),
            ClockCmd::Faster | ClockCmd::Slower => {
                let now = self.nominal_speed();
                let next = if cmd == ClockCmd::Faster {
                    SPEEDS.iter().find(|s| **s > now + 1e-9)
                } else {
                    SPEEDS.iter().rev().find(|s| **s < now - 1e-9)
                };
                if let Some(s) = next {
                    self.set_speed(*s);
                }
            }
        }
        self.state()
    }

    fn now(&self) -> jiff::Timestamp {
        crate::sim::SimClock::now(self)
    }

    fn state(&self) -> ClockState {
        ClockState {
            frozen: self.is_frozen(),
            speed: self.nominal_speed(),
        }
    }
}

/// The clock keys, anywhere but in a text field; `None` when `k` is not one (or not here).
pub fn key(m: &mut Model, k: &KeyEvent) -> Option<Vec<Cmd>> {
    if k.modifiers
        .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
        || typing(m)
    {
        return None;
    }
    let cmd = match k.code {
        KeyCode::Char('f') => ClockCmd::FreezeOrThaw,
        KeyCode::Char('.') => ClockCmd::Step,
        KeyCode::Char('+') | KeyCode::Char('=') => ClockCmd::Faster,
        KeyCode::Char('-') => ClockCmd::Slower,
        _ => return None,
    };
    let Some(state) = m.demo_clock else {
        let text = "f . + - (freeze, step, speed) work on the demo cluster only";
        m.say(text);
        return Some(Vec::new());
    };
    if cmd == ClockCmd::Step && !state.frozen {
        let text = ". steps a frozen cluster: f freezes it first";
        m.say(text);
        return Some(Vec::new());
    }
    Some(vec![Cmd::Clock(cmd)])
}

/// A text field has the keyboard (drain options' values, the campaign form).
fn typing(m: &Model) -> bool {
    use super::drain_flow::Dialog;
    matches!(&m.flow.dialog, Some(Dialog::Options(f)) if !f.field().is_bool())
        || matches!(
            m.campaign.dialog,
            Some(super::campaign::CampaignDialog::Form(_))
        )
}

/// The header's words for the clock: `⏸ frozen` or `×2`.
pub fn label(s: ClockState) -> String {
    let speed = if s.speed.fract() == 0.0 {
        format!("{}", s.speed as u64)
    } else {
        format!("{}", s.speed)
    };
    if s.frozen {
        format!("⏸ frozen (×{speed})")
    } else {
        format!("×{speed}")
    }
}
