//! Driving a simulator's frozen clock by hand: a step returns only once the controllers have
//! made the pass it allows, so "nothing happened" can be asserted after it.

use std::time::Duration;

use kubedrain::sim::{SimClock, Simulator};

/// Moves the frozen clock on by `secs` and returns once the controllers have made that pass:
/// their loop has come round and been refused twice since (once may have been before it).
pub async fn step(sim: &Simulator, secs: u64) {
    step_clock(sim.clock(), Duration::from_secs(secs)).await;
}

/// [`step`] on the clock of controllers started without a server, by any duration.
pub async fn step_clock(clock: &SimClock, by: Duration) {
    let refused = clock.refused_passes();
    clock.step(by);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while clock.refused_passes() < refused + 2 {
        assert!(tokio::time::Instant::now() < deadline, "no controller pass");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Freezes the clock once the controllers have indexed the store, and returns once a pass
/// has been refused: any pass that was under way has ended, so the cluster holds still.
pub async fn freeze(sim: &Simulator) {
    assert!(sim.wait_controllers_ready(Duration::from_secs(30)));
    freeze_clock(sim.clock()).await;
}

/// [`freeze`] on the clock of controllers started without a server (already indexed).
pub async fn freeze_clock(clock: &SimClock) {
    clock.freeze();
    let refused = clock.refused_passes();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while clock.refused_passes() <= refused {
        assert!(tokio::time::Instant::now() < deadline, "no controller pass");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Steps one simulated second at a time until `f` holds (at most `max` seconds).
pub async fn step_until(
    sim: &Simulator,
    what: &str,
    max: u64,
    mut f: impl FnMut(&Simulator) -> bool,
) {
    for _ in 0..max {
        if f(sim) {
            return;
        }
        step(sim, 1).await;
    }
    assert!(f(sim), "not within {max} simulated seconds: {what}");
}
