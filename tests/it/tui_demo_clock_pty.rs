//! The demo clock through the real binary: `f` freezes the demo cluster and the header says
//! so, `.` steps it (and says why it cannot when not frozen), `+`/`-` change the speed shown
//! in the header, `f` thaws it. That a freeze holds the cluster is `sim_freeze`'s test.

use std::time::Duration;

use crate::common::pty::Pty;

#[test]
fn freeze_step_and_speed_show_in_the_header_and_hold_the_cluster() {
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("kc").display().to_string();
    let mut pty = Pty::spawn(&["demo", "--kubeconfig-out", &kc], None);
    let long = Duration::from_secs(60);
    pty.wait_for("the demo", long, |s| {
        s.contains("node1") && s.contains("×1")
    });
    pty.send(b"+");
    pty.wait_for("×2", long, |s| s.contains("×2"));
    pty.send(b"-");
    pty.send(b"-");
    pty.wait_for("×0.5", long, |s| s.contains("×0.5"));
    pty.send(b".");
    pty.wait_for("step needs a freeze", long, |s| {
        s.contains(". steps a frozen cluster")
    });
    pty.send(b"f");
    pty.wait_for("frozen", long, |s| s.contains("⏸ frozen (×0.5)"));
    pty.send(b".");
    pty.wait_for("stepped", long, |s| s.contains("stepped one second"));
    pty.send(b"+");
    pty.wait_for("speed while frozen", long, |s| s.contains("⏸ frozen (×1)"));
    pty.send(b"f");
    pty.wait_for("thawed", long, |s| s.contains("thawed") && s.contains("×1"));
    pty.send(b"q");
    assert!(pty.wait_exit(Duration::from_secs(20)), "quits");
}

/// The grace left of the drain row of `pod`, in seconds.
fn grace_left(screen: &str, pod: &str) -> Option<i64> {
    let line = screen
        .lines()
        .find(|l| l.contains(pod) && l.contains("of grace left"))?;
    let before = line.split("s of grace left").next()?;
    before.rsplit(' ').next()?.parse().ok()
}

/// The drain panel's elapsed wall time, in seconds.
fn elapsed(screen: &str) -> Option<i64> {
    let at = screen.find("elapsed ")? + "elapsed ".len();
    let (m, s) = screen[at..].split_whitespace().next()?.split_once(':')?;
    Some(m.parse::<i64>().ok()? * 60 + s.parse::<i64>().ok()?)
}

/// A frozen cluster holds its pods and their grace countdowns while kubedrain's own clock
/// (the drain's elapsed time) runs on; `.` moves the countdowns on by exactly one second.
#[test]
fn a_freeze_holds_grace_countdowns_and_a_step_moves_them_one_second() {
    let state = tempfile::tempdir().unwrap();
    let mut pty = Pty::spawn(&["demo"], Some(state.path()));
    let long = Duration::from_secs(60);
    let pod = "http-spring-766c586cb9-2mcjm";
    pty.wait_for("the demo", long, |s| {
        s.contains("node0") && s.contains("live")
    });
    pty.send(b"f");
    pty.wait_for("frozen", long, |s| s.contains("⏸ frozen"));
    pty.drain_node0();
    pty.wait_for("terminating with a countdown", long, |s| {
        grace_left(s, pod).is_some() && elapsed(s).is_some()
    });
    let s = pty.screen();
    let (grace0, start) = (grace_left(&s, pod).unwrap(), elapsed(&s).unwrap());
    let left0 = s.contains("6 of 6 pods left");
    // Five seconds of kubedrain's own time pass (the positive event) ...
    pty.wait_for("5 s of wall time", long, |s| {
        elapsed(s).is_some_and(|e| e >= start + 5)
    });
    // ... and the frozen cluster's countdown and pods did not move.
    let s = pty.screen();
    assert_eq!(grace_left(&s, pod), Some(grace0), "{s}");
    assert_eq!(s.contains("6 of 6 pods left"), left0, "{s}");
    // One step: one second of cluster time.
    pty.send(b".");
    pty.wait_for("one second less", long, |s| {
        grace_left(s, pod) != Some(grace0)
    });
    assert_eq!(grace_left(&pty.screen(), pod), Some(grace0 - 1));
    pty.send(b"x");
    pty.send(b"f");
    pty.wait_for("cancelled", long, |s| s.contains("Drain node0 · cancelled"));
    pty.send(b"q");
    assert!(pty.wait_exit(Duration::from_secs(20)), "quits");
}
