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
