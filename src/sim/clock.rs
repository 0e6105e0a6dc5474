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

    /// Changes the speed, keeping the current simulated time.
    pub fn set_speed(&self, speed: f64) {
        let mut a = self.state.lock().unwrap();
        let now = Instant::now();
        let sim = Self::at(&a, now);
        *a = Anchor {
            real: now,
            sim,
            speed: speed.max(0.0),
            offset: Duration::ZERO,
        };
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
