//! No panic reachable from input: seeded random command lines through the CLI parser and the
//! option checks, and seeded random mutations of the built-in scenarios through the scenario
//! loader (and, when they load, into a store). A panic fails the test; the seed makes it
//! reproducible.

use std::sync::Arc;

use clap::FromArgMatches;
use kubedrain::cli::{Cli, Command};
use kubedrain::drain::options::parse_go_duration;
use kubedrain::sim::clock::SimClock;
use kubedrain::sim::scenario::{BUILTIN, parse};
use kubedrain::sim::store::Store;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const TOKENS: &[&str] = &[
    "drain",
    "plan",
    "cordon",
    "uncordon",
    "campaign",
    "demo",
    "sim",
    "versions",
    "node0",
    "node1/status",
    "node1?dryRun=All",
    "Node1",
    "-node",
    "a..b",
    "",
    " ",
    "node/node0",
    "--timeout",
    "--timeout=",
    "90s",
    "0",
    "-1",
    "1e9",
    "99999999999999999999h",
    "2562047h",
    "1.5.5s",
    "5",
    "NaN",
    "inf",
    "-inf",
    "--grace-period",
    "18446744073709551616",
    "-9223372036854775809",
    "--skip-wait-for-delete-timeout",
    "--speed",
    "--speed=0",
    "--nodes",
    "--pods-per-node",
    "--churn",
    "--soak",
    "--max-unavailable",
    "-l",
    "a=b",
    "a!=",
    "--pod-selector",
    "x in (a,b",
    "-o",
    "json",
    "yaml",
    "--dry-run",
    "--dry-run=server",
    "-n",
    "kube-system",
    "A/b",
    "--force",
    "--ignore-daemonsets",
    "--readonly",
    "--no-journal",
    "--kubeconfig",
    "/nonexistent",
    "--target",
    "v1.99.99",
    "--listen",
    "999.0.0.1:80",
    "--",
    "--help-not",
    "ü",
    "\u{0}",
    "--report",
    "--resume",
];

#[test]
fn random_command_lines_never_panic() {
    let mut rng = StdRng::seed_from_u64(0x6b75_6265);
    let mut parsed = 0;
    for _ in 0..20_000 {
        let n = rng.random_range(1..=6);
        let mut argv = vec!["kubedrain"];
        argv.extend((0..n).map(|_| TOKENS[rng.random_range(0..TOKENS.len())]));
        // The command line as the binary builds it (flags hidden per subcommand).
        let Ok(matches) = kubedrain::cli::command().try_get_matches_from(&argv) else {
            continue;
        };
        if kubedrain::cli::misplaced(&matches).is_some() {
            continue;
        }
        let cli = Cli::from_arg_matches(&matches).expect("matches from the same command");
        parsed += 1;
        match &cli.command {
            Some(Command::Drain(a)) => {
                let _ = a.flags.options();
            }
            Some(Command::Plan(a)) => {
                let _ = a.flags.options();
            }
            Some(Command::Campaign(a)) => {
                let _ = a.flags.options();
                assert!(parse_go_duration(&a.soak).is_some(), "{argv:?}");
            }
            _ => {}
        }
    }
    assert!(parsed > 100, "the table reaches the commands: {parsed}");
}

/// A mutation of `text`: a range deleted, two lines swapped, or a structural character put in.
fn mutate(rng: &mut StdRng, text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let at = rng.random_range(0..chars.len());
    match rng.random_range(0..3) {
        0 => {
            let end = (at + rng.random_range(1..40)).min(chars.len());
            chars[..at].iter().chain(&chars[end..]).collect()
        }
        1 => {
            let mut lines: Vec<&str> = text.lines().collect();
            let (a, b) = (
                rng.random_range(0..lines.len()),
                rng.random_range(0..lines.len()),
            );
            lines.swap(a, b);
            lines.join("\n")
        }
        _ => {
            const PUT: &[char] = &[':', '-', ' ', '\n', '{', '[', '"', '0', '9', 'x', '.', '/'];
            let c = PUT[rng.random_range(0..PUT.len())];
            let mut out: Vec<char> = chars.clone();
            out.insert(at, c);
            out.into_iter().collect()
        }
    }
}

#[test]
fn mutated_scenarios_never_panic() {
    let mut rng = StdRng::seed_from_u64(0x7363_656e);
    let mut loaded = 0;
    for (name, text) in BUILTIN {
        for _ in 0..120 {
            let m = mutate(&mut rng, text);
            let Ok(s) = parse(name, "mutated.yaml", &m) else {
                continue;
            };
            loaded += 1;
            // Populating a mutation that made a count huge would only be slow, not wrong.
            let long_number = m.split(|c: char| !c.is_ascii_digit()).any(|d| d.len() > 4);
            if !long_number {
                let store = Store::new(Arc::new(SimClock::new(1.0)), 10_000);
                let _ = s.populate(&store);
            }
        }
    }
    assert!(loaded > 50, "many mutations still load: {loaded}");
}
