//! When the event loop may draw the next frame while watch events stream.
//!
//! Frames caused by watch events are rate-limited so a burst of 1,000 pod events a second
//! costs a bounded share of a core, and what arrives during a wait is coalesced into the next
//! frame. The limit is a duty cycle kept as a schedule (the generic cell rate algorithm): each
//! frame moves the schedule on by what it took plus its gap (`GAP_PER_FRAME` times what it
//! took, within a floor and `FRAME_GAP`), and a frame may be drawn once the schedule is less
//! than `CREDIT` ahead of the clock. Over any stretch the frames' allowances add up to at most
//! the stretch plus `CREDIT`, as with a fixed gap after each frame; but a lone frame (the
//! once-a-second redraw of ages, a key) no longer makes the next watch event's frame wait
//! out its gap.

use std::time::Duration;

use tokio::time::Instant;

/// The longest allowance of one frame: frames caused by watch events come ~60 a second at
/// least while they stream, however slow a frame is.
pub const FRAME_GAP: Duration = Duration::from_millis(16);

/// The smallest allowance of a whole frame drawn while watch events streamed: at most 250 a
/// second. Without it, 1,000 visible changes a second drew ~730 whole frames a second (19 %
/// of a core, against 7 % with 16 ms gaps); with it ~200 (9 %). 8 ms cost 7 % but kept
/// changes of a 1,000/s burst waiting (event to screen p50 4.3 ms against 0.4 ms with 4 ms).
pub const MIN_GAP: Duration = Duration::from_millis(4);

/// The smallest allowance of any other frame: the rows of a damage (a fifth of a whole
/// frame's cost, or less), or a frame drawn for a tick or a key.
pub const MIN_GAP_ROWS: Duration = Duration::from_millis(1);

/// A frame's allowance is this many times what it took (within the floors and FRAME_GAP):
/// frames take at most a fifth of a core unless one takes over 4 ms.
pub const GAP_PER_FRAME: u32 = 4;

/// How far ahead of the clock the schedule may be when a frame is drawn: one FRAME_GAP. A
/// frame after a quiet spell is drawn at once; a stream of them settles at their allowances
/// after at most CREDIT / MIN_GAP_ROWS extra frames.
pub const CREDIT: Duration = FRAME_GAP;

/// What kind of frame was drawn, for its allowance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameKind {
    /// Every cell, drawn while watch events streamed in.
    WholeWhileStreaming,
    /// Damaged rows, or a frame for a tick or a key.
    Other,
}

/// The frame schedule (see the module docs).
#[derive(Debug, Clone)]
pub struct FramePacer {
    /// When the next frame would be due if every frame had waited out its allowance.
    scheduled: Instant,
}

impl FramePacer {
    /// A schedule that lets the first frame be drawn at once.
    pub fn new(now: Instant) -> FramePacer {
        FramePacer { scheduled: now }
    }

    /// The earliest time a frame may be drawn.
    pub fn next_at(&self) -> Instant {
        self.scheduled.checked_sub(CREDIT).unwrap_or(self.scheduled)
    }

    /// Whether a frame may be drawn at `now`.
    pub fn may_draw(&self, now: Instant) -> bool {
        now >= self.next_at()
    }

    /// Records a frame that started at `started` and took `took`.
    pub fn drawn(&mut self, started: Instant, took: Duration, kind: FrameKind) {
        let floor = match kind {
            FrameKind::WholeWhileStreaming => MIN_GAP,
            FrameKind::Other => MIN_GAP_ROWS,
        };
        let gap = (took * GAP_PER_FRAME).clamp(floor, FRAME_GAP);
        self.scheduled = self.scheduled.max(started) + took + gap;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const US: Duration = Duration::from_micros(1);

    #[test]
    fn a_frame_after_a_lone_whole_frame_is_not_held_back() {
        // The once-a-second tick redraws every cell while events stream; a visible change
        // 2 ms later used to wait out the tick frame's 4 ms gap.
        let t0 = Instant::now();
        let mut p = FramePacer::new(t0);
        assert!(p.may_draw(t0));
        p.drawn(t0, 500 * US, FrameKind::WholeWhileStreaming);
        assert!(p.may_draw(t0 + Duration::from_millis(2)));
    }

    #[test]
    fn a_stream_of_whole_frames_settles_at_250_a_second() {
        // Events every millisecond, each wanting a whole frame (cheap: the floor decides).
        let t0 = Instant::now();
        let mut p = FramePacer::new(t0);
        let mut drawn = Vec::new();
        for ms in 0..1_000u64 {
            let now = t0 + Duration::from_millis(ms);
            if p.may_draw(now) {
                p.drawn(now, Duration::ZERO, FrameKind::WholeWhileStreaming);
                drawn.push(ms);
            }
        }
        // 250 a second, plus at most the credit's worth at the start.
        let extra = (CREDIT.as_millis() / MIN_GAP.as_millis()) as usize + 1;
        assert!(
            (250..=250 + extra).contains(&drawn.len()),
            "{} frames",
            drawn.len()
        );
        // Once settled, whole frames are MIN_GAP apart.
        let late: Vec<u64> = drawn.iter().copied().filter(|&ms| ms > 100).collect();
        assert!(late.windows(2).all(|w| w[1] - w[0] == 4), "{late:?}");
    }

    #[test]
    fn slow_frames_take_at_most_a_fifth_of_the_time() {
        // 2 ms frames wanted back to back: each is followed by an 8 ms gap.
        let t0 = Instant::now();
        let mut p = FramePacer::new(t0);
        let mut now = t0;
        let mut busy = Duration::ZERO;
        let took = Duration::from_millis(2);
        while now < t0 + Duration::from_secs(1) {
            if p.may_draw(now) {
                p.drawn(now, took, FrameKind::Other);
                now += took;
                busy += took;
            } else {
                now = p.next_at();
            }
        }
        let share = busy.as_secs_f64() / (now - t0).as_secs_f64();
        // A fifth of the time, plus the credit's worth of frames at the start.
        assert!(share <= 0.2 + 0.03, "{share}");
        assert!(share >= 0.19, "{share}");
    }

    #[test]
    fn credit_does_not_pile_up_over_a_quiet_spell() {
        let t0 = Instant::now();
        let mut p = FramePacer::new(t0);
        p.drawn(t0, 100 * US, FrameKind::Other);
        // A minute later, a burst of whole frames may only use one FRAME_GAP of credit.
        let later = t0 + Duration::from_secs(60);
        let mut at_once = 0;
        while p.may_draw(later) {
            p.drawn(later, Duration::ZERO, FrameKind::WholeWhileStreaming);
            at_once += 1;
        }
        assert_eq!(
            at_once,
            (CREDIT.as_millis() / MIN_GAP.as_millis()) as usize + 1
        );
    }
}
