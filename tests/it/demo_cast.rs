//! The recorded demo stays true. The seed workflow (README, shared/seeds: select node0,
//! cordon, drain through the plan until only DaemonSet pods are left, the simulated upgrade,
//! uncordon) on `kubedrain demo` at 100×30 is recorded as `assets/demo.cast` (asciicast v2,
//! a marker at each step) and drawn as `assets/demo.svg` for the README. This test runs the
//! workflow again and compares the screen at each settled checkpoint, ages and clocks left
//! out, with the committed recording's; the SVG must be the recording's rendering.
//! `KUBEDRAIN_RECORD=1 cargo test --test it demo_cast` records both anew (never in CI).

use std::path::PathBuf;
use std::sync::LazyLock;
use std::time::Duration;

use regex::Regex;

use crate::common::cast::Cast;
use crate::common::pty::Pty;
use crate::common::svg::{self, Frame};

/// rows × columns: the size of the README's screens.
const SIZE: (u16, u16) = (30, 100);
/// Generous: the machine may be loaded; each wait ends on the screen it waits for.
const WAIT: Duration = Duration::from_secs(90);
/// How long a checkpoint's screen must stay the same (ages and clocks aside) to count as
/// settled: watch events that trail an action land within it.
const SETTLE: Duration = Duration::from_millis(1500);
const HOW: &str = "to record it anew: KUBEDRAIN_RECORD=1 cargo test --test it demo_cast \
                   (then look at assets/demo.svg and commit both)";

/// A step of the script: keys to type, then the screen to wait for and mark.
struct Step {
    keys: &'static [u8],
    label: &'static str,
    /// Compared with the recording once settled; otherwise a moment on the way (a status
    /// message, a drain under way), marked as soon as it shows, drawn but not compared.
    checkpoint: bool,
    until: fn(&str) -> bool,
    /// Seconds it shows in the SVG (0: not drawn).
    secs: f64,
}

/// The line of the nodes pane showing `node`.
fn node_line<'a>(s: &'a str, node: &str) -> &'a str {
    let prefix = format!("{node} ");
    s.lines()
        .find(|l| l.get(3..).is_some_and(|rest| rest.starts_with(&prefix)))
        .unwrap_or_default()
}

/// The status line (the last), where messages show for a few seconds before the key hints.
fn status(s: &str) -> &str {
    s.lines().last().unwrap_or_default()
}

fn cordoned(s: &str) -> bool {
    node_line(s, "node0").contains("Ready,SchedulingDisabled")
}

fn schedulable(s: &str) -> bool {
    let l = node_line(s, "node0");
    l.contains("Ready") && !l.contains("NotReady") && !l.contains("SchedulingDisabled")
}

/// The seed workflow.
const SCRIPT: &[Step] = &[
    Step {
        keys: b"",
        label: "the demo cluster",
        checkpoint: true,
        until: |s| s.contains("node1") && s.contains("● live") && status(s).contains("? help"),
        secs: 2.5,
    },
    Step {
        keys: b"j",
        label: "node0 selected",
        checkpoint: true,
        until: |s| s.contains("Pods (8) · node0") && status(s).contains("? help"),
        secs: 2.5,
    },
    Step {
        keys: b"c",
        label: "cordon: confirm",
        checkpoint: true,
        until: |s| s.contains("Cordon node0?"),
        secs: 3.0,
    },
    Step {
        keys: b"\r",
        label: "cordoning",
        checkpoint: false,
        until: cordoned,
        secs: 2.5,
    },
    Step {
        keys: b"",
        label: "cordoned",
        checkpoint: true,
        until: |s| cordoned(s) && s.contains("NodeNotSchedulable") && status(s).contains("? help"),
        secs: 0.0,
    },
    Step {
        keys: b"r",
        label: "drain options",
        checkpoint: true,
        until: |s| s.contains("Drain node0 · options"),
        secs: 3.0,
    },
    Step {
        keys: b"\r",
        label: "drain plan",
        checkpoint: true,
        until: |s| s.contains("Drain plan") && s.contains("ready to drain"),
        secs: 5.0,
    },
    Step {
        keys: b"\r",
        label: "draining",
        checkpoint: false,
        until: |s| {
            s.contains("┏ Drain node0 ·") && (s.contains("terminating") || s.contains("drained"))
        },
        secs: 2.5,
    },
    Step {
        keys: b"",
        label: "drained",
        checkpoint: true,
        until: |s| {
            s.contains("drained and safe to upgrade")
                && s.contains("5 Ready on node1")
                && s.contains("1 Ready on node1")
                && status(s).contains("v hide")
        },
        secs: 4.0,
    },
    Step {
        keys: b"U",
        label: "rebooting",
        checkpoint: false,
        until: |s| node_line(s, "node0").contains("NotReady"),
        secs: 2.5,
    },
    Step {
        keys: b"",
        label: "back Ready",
        checkpoint: false,
        until: |s| cordoned(s) && status(s).contains("is back Ready"),
        secs: 3.0,
    },
    Step {
        keys: b"",
        label: "upgraded",
        checkpoint: true,
        until: |s| {
            // Its DaemonSet pods restarted and Ready again (they start a few seconds apart).
            let ready = !s.contains(" 0/1 ") && !s.contains(" 0/2 ");
            cordoned(s) && ready && s.contains("NodeReady") && status(s).contains("? help")
        },
        secs: 0.0,
    },
    Step {
        keys: b"u",
        label: "uncordon: confirm",
        checkpoint: true,
        until: |s| s.contains("Uncordon node0?") && s.contains("← new"),
        secs: 5.0,
    },
    Step {
        keys: b"\r",
        label: "uncordoning",
        checkpoint: false,
        until: |s| schedulable(s) && status(s).contains("uncordoned"),
        secs: 3.0,
    },
    Step {
        keys: b"",
        label: "uncordoned",
        checkpoint: true,
        until: |s| schedulable(s) && s.contains("NodeSchedulable") && status(s).contains("? help"),
        secs: 3.0,
    },
];

/// The screen without what differs from run to run: ages, durations and clocks (also one cut
/// by a dialog's edge), the five replicas of http-spring told apart only by name (they
/// leave in any order), and the width of spaces that moved with them.
fn normalise(screen: &str) -> String {
    static TIME: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"\b\d+(?:\.\d+)?(?:ms|[smhdy])(?:\d+(?:ms|[smhd]))*\b|\b\d+:\d\d(?::\d\d)?\b")
            .unwrap()
    });
    static CUT: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"([┃│])[smhd]\b").unwrap());
    static REPLICA: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"http-spring-766c586cb9-[a-z0-9]{5}").unwrap());
    screen
        .lines()
        .map(|l| {
            let l = TIME.replace_all(l, "");
            let l = CUT.replace_all(&l, "$1");
            let l = REPLICA.replace_all(&l, "http-spring-766c586cb9-*");
            l.split_whitespace().collect::<Vec<_>>().join(" ")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Runs the script on a fresh demo, recorded.
fn record() -> Cast {
    let state = tempfile::tempdir().unwrap();
    let config = tempfile::tempdir().unwrap();
    // No config file of the user's (a skin, remapped keys) may change what is recorded.
    let config_home = config.path().display().to_string();
    let env = [
        ("XDG_CONFIG_HOME", config_home.as_str()),
        ("KUBEDRAIN_CONFIG", ""),
    ];
    let mut pty = Pty::spawn_recorded(&["demo"], Some(state.path()), &env, SIZE);
    for step in SCRIPT {
        if !step.keys.is_empty() {
            pty.send(step.keys);
        }
        let key = |s: &str| (step.until)(s).then(|| normalise(s));
        if step.checkpoint {
            pty.checkpoint(step.label, WAIT, SETTLE, key);
        } else {
            // Marked as soon as it shows: one constant key settles at once.
            pty.checkpoint(step.label, WAIT, Duration::ZERO, |s| {
                key(s).map(|_| String::new())
            });
        }
    }
    pty.send(b"q");
    assert!(
        pty.wait_exit(Duration::from_secs(20)),
        "q exits successfully"
    );
    pty.cast()
}

fn step(label: &str) -> Option<&'static Step> {
    SCRIPT.iter().find(|s| s.label == label)
}

/// Where the checkpoints of `now` differ from those `recorded`, row by row; empty when none.
fn differences(recorded: &Cast, now: &Cast) -> String {
    let (was, is) = (recorded.checkpoints(), now.checkpoints());
    let labels = |c: &[crate::common::cast::Checkpoint]| -> Vec<String> {
        c.iter().map(|c| c.label.clone()).collect()
    };
    if labels(&was) != labels(&is) {
        return format!(
            "the steps differ:\n  recorded: {:?}\n  now:      {:?}\n",
            labels(&was),
            labels(&is)
        );
    }
    let mut out = String::new();
    for (w, i) in was.iter().zip(&is) {
        if !step(&w.label).is_some_and(|s| s.checkpoint) {
            continue;
        }
        let (w_text, i_text) = (w.screen.contents(), i.screen.contents());
        let (w_norm, i_norm) = (normalise(&w_text), normalise(&i_text));
        if w_norm == i_norm {
            continue;
        }
        out.push_str(&format!("at \"{}\" (ages and clocks left out):\n", w.label));
        let (wl, il): (Vec<&str>, Vec<&str>) = (w_norm.lines().collect(), i_norm.lines().collect());
        for row in 0..wl.len().max(il.len()) {
            let (a, b) = (wl.get(row).copied(), il.get(row).copied());
            if a != b {
                out.push_str(&format!(
                    "  row {row:2} recorded: {}\n         now:      {}\n",
                    a.unwrap_or("(none)"),
                    b.unwrap_or("(none)")
                ));
            }
        }
        out.push_str(&format!("the screen now:\n{i_text}\n\n"));
    }
    out
}

/// The SVG of a recording: the screens of the steps that are drawn, each for its time.
fn render(cast: &Cast) -> String {
    let marks = cast.checkpoints();
    let frames: Vec<Frame> = marks
        .iter()
        .filter_map(|c| {
            let secs = step(&c.label)?.secs;
            (secs > 0.0).then_some(Frame {
                screen: &c.screen,
                secs,
            })
        })
        .collect();
    svg::animated(&frames)
}

fn asset(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("assets")
        .join(name)
}

/// `KUBEDRAIN_RECORD=1`, and not in CI (CI only compares: a stale recording must fail there).
fn recording_asked() -> bool {
    let asked = std::env::var("KUBEDRAIN_RECORD").is_ok_and(|v| v == "1");
    let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
    if asked && ci {
        eprintln!("KUBEDRAIN_RECORD is ignored in CI: comparing with the committed recording");
    }
    asked && !ci
}

#[test]
fn demo_cast_is_the_seed_workflow_now() {
    let now = record();
    let (cast_path, svg_path) = (asset("demo.cast"), asset("demo.svg"));
    if recording_asked() {
        std::fs::write(&cast_path, now.to_text("xterm-256color")).unwrap();
        std::fs::write(&svg_path, render(&now)).unwrap();
        eprintln!(
            "recorded {} and {}",
            cast_path.display(),
            svg_path.display()
        );
        return;
    }
    let text = std::fs::read_to_string(&cast_path)
        .unwrap_or_else(|e| panic!("{}: {e}; {HOW}", cast_path.display()));
    let recorded = Cast::parse(&text).unwrap_or_else(|e| panic!("assets/demo.cast: {e}; {HOW}"));
    assert_eq!(
        (recorded.width, recorded.height),
        (SIZE.1, SIZE.0),
        "assets/demo.cast's size; {HOW}"
    );
    let diff = differences(&recorded, &now);
    assert!(
        diff.is_empty(),
        "assets/demo.cast is stale: the seed workflow looks different now.\n{diff}{HOW}"
    );
    let svg = std::fs::read_to_string(&svg_path).unwrap_or_default();
    assert!(
        svg == render(&recorded),
        "assets/demo.svg is not the rendering of assets/demo.cast; {HOW}"
    );
}

#[test]
fn normalising_leaves_out_ages_clocks_and_replica_names_only() {
    let a = "│http-spring-766c586cb9-2mcjm  1/1 Running  4m49s │ elapsed 0:02 ┃7s  │ 1 (77d ago)";
    let b = "│http-spring-766c586cb9-xn9lf  1/1 Running  5m │ elapsed 0:13 ┃s   │ 1 (78d ago)";
    assert_eq!(normalise(a), normalise(b));
    assert_eq!(
        normalise(a),
        "│http-spring-766c586cb9-* 1/1 Running │ elapsed ┃ │ 1 ( ago)"
    );
    // What the recording is there to catch still shows.
    assert_ne!(
        normalise("8/110 v1.25.4 node0"),
        normalise("7/110 v1.25.5 node0")
    );
    assert_ne!(normalise("Drain plan"), normalise("Drain  plan:"));
}
