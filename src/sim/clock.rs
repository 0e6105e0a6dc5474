//! Simulated time: wall-clock anchored, running at an adjustable speed.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use jiff::Timestamp;

/// A clock whose time runs `speed` times faster than real time.
///
/// Changing the speed keeps time continuous: the clock re-anchors at the current simulated instant.
#[derive(Debug)]
pub struct SimClock {
    state: Mutex<Anchor>,
}

#[derive(Debug, Clone, Copy)]
struct Anchor {
    real: Instant,
    sim: Timestamp,
    speed: f64,
    /// Extra simulated time added by `advance` (tests jump the clock).
    offset: Duration,
    /// While frozen: the speed to go back to (time stands still meanwhile).
    frozen_speed: Option<f64>,
    /// Controller passes allowed while frozen (`step`).
    steps: u32,
    /// Controller passes refused while frozen (proof, for tests, that the freeze held).
    refused: u64,
}

impl SimClock {
    /// A clock starting now at the given speed.
    pub fn new(speed: f64) -> Self {
        Self {
            state: Mutex::new(Anchor {
                real: Instant::now(),
                sim: Timestamp::now(),
                speed: speed.max(0.0),
                offset: Duration::ZERO,
                frozen_speed: None,
                steps: 0,
                refused: 0,
            }),
        }
    }

    /// The current simulated time.
    pub fn now(&self) -> Timestamp {
        let a = *self.state.lock().unwrap();
        Self::at(&a, Instant::now())
    }

    fn at(a: &Anchor, real_now: Instant) -> Timestamp {
        let elapsed = real_now.duration_since(a.real).mul_f64(a.speed) + a.offset;
        a.sim
            .checked_add(jiff::SignedDuration::try_from(elapsed).unwrap_or_default())
            .unwrap_or(a.sim)
    }

    /// The speed factor (1.0 = real time).
    pub fn speed(&self) -> f64 {
        self.state.lock().unwrap().speed
    }

    /// Changes the speed, keeping the current simulated time (while frozen: the speed it
    /// thaws to).
    pub fn set_speed(&self, speed: f64) {
        let mut a = self.state.lock().unwrap();
        if a.frozen_speed.is_some() {
            a.frozen_speed = Some(speed.max(0.0));
            return;
        }
        Self::reanchor(&mut a, speed.max(0.0));
    }

    fn reanchor(a: &mut Anchor, speed: f64) {
        let now = Instant::now();
        a.sim = Self::at(a, now);
        a.real = now;
        a.speed = speed;
        a.offset = Duration::ZERO;
    }

    /// Stops simulated time and the controllers (until `thaw`); `step` moves them on.
    pub fn freeze(&self) {
        let mut a = self.state.lock().unwrap();
        if a.frozen_speed.is_none() {
            a.frozen_speed = Some(a.speed);
            Self::reanchor(&mut a, 0.0);
        }
    }

    /// Lets time run again at the speed it had (or was given while frozen).
    pub fn thaw(&self) {
        let mut a = self.state.lock().unwrap();
        if let Some(speed) = a.frozen_speed.take() {
            a.steps = 0;
            Self::reanchor(&mut a, speed);
        }
    }

    /// Whether time is frozen.
    pub fn is_frozen(&self) -> bool {
        self.state.lock().unwrap().frozen_speed.is_some()
    }

    /// The speed time runs at when not frozen.
    pub fn nominal_speed(&self) -> f64 {
        let a = self.state.lock().unwrap();
        a.frozen_speed.unwrap_or(a.speed)
    }

    /// While frozen: moves time on by `by` and lets the controllers make one pass.
    pub fn step(&self, by: Duration) {
        let mut a = self.state.lock().unwrap();
        if a.frozen_speed.is_some() {
            a.offset += by;
            a.steps += 1;
        }
    }

    /// For the controllers: whether they may make a pass now (always, unless frozen; while
    /// frozen, once per `step`).
    pub fn take_pass(&self) -> bool {
        let mut a = self.state.lock().unwrap();
        if a.frozen_speed.is_none() {
            return true;
        }
        if a.steps > 0 {
            a.steps -= 1;
            return true;
        }
        a.refused += 1;
        false
    }

    /// How many controller passes a freeze has refused so far.
    pub fn refused_passes(&self) -> u64 {
        self.state.lock().unwrap().refused
    }

    /// Jumps simulated time forward.
    pub fn advance(&self, by: Duration) {
        self.state.lock().unwrap().offset += by;
    }

    /// How long real time takes for `sim` of simulated time to pass (for sleeping).
    pub fn real_duration(&self, sim: Duration) -> Duration {
        let speed = self.speed();
        if speed <= 0.0 {
            Duration::from_secs(3600)
        } else {
            sim.div_f64(speed)
        }
    }
}

/// Formats a timestamp the way the Kubernetes API does (RFC 3339, seconds, `Z`).
pub fn format_time(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frozen_time_stands_still_and_steps_move_it_exactly() {
        let c = SimClock::new(100.0);
        c.freeze();
        let t0 = c.now();
        // Real time passes (the clock runs at 100×): the frozen clock must not move.
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(c.now(), t0);
        assert!(!c.take_pass(), "no controller pass while frozen");
        c.step(Duration::from_secs(1));
        assert_eq!(c.now(), t0 + jiff::SignedDuration::from_secs(1));
        assert!(c.take_pass(), "one pass per step");
        assert!(!c.take_pass());
        c.set_speed(2.0);
        assert_eq!((c.speed(), c.nominal_speed()), (0.0, 2.0));
        c.thaw();
        assert!(!c.is_frozen());
        assert_eq!(c.speed(), 2.0);
        assert!(c.now() >= t0 + jiff::SignedDuration::from_secs(1));
        assert!(c.take_pass());
    }
}
