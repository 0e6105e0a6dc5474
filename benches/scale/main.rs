//! `cargo bench --bench scale -- [--nodes N] [--pods-per-node M] [--quick] [--no-kubectl]
//! [--out DIR] [--kubectl PATH] [--graces 0,2] [--runs N]`: kubedrain beside kubectl at scale on the
//! built-in simulator. Prints one table and writes it to `target/bench/results.{md,json}`.
//! `BENCH_KUBECTL` also names the kubectl to use. See README, "Performance".
//!
//! `cargo bench --bench scale -- --campaign [--nodes 100] [--pods-per-node 10]
//! [--max-unavailable 5] [--grace 10] [--speed 20]`: the maintenance window instead — a
//! campaign over the workers beside a kubectl shell loop; `target/bench/campaign.{md,json}`.
//!
//! `cargo bench --bench scale -- --long [--quick] [--nodes 500] [--pods-per-node 30]
//! [--minutes 60] [--relist-every 10]`: M8, a long session — the TUI under churn with forced
//! relists, its RSS drift and CPU; `target/bench/long.{md,json}`.

#[path = "../common/model.rs"]
mod model;

mod harness;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::path::PathBuf;

/// Counts the heap bytes each thread allocates net of what it frees (for the per-pod memory
/// breakdown); otherwise the system allocator. Per thread because the simulator runs in this
/// process: its threads keep allocating while the breakdown is measured, and a process-wide
/// count would include them.
struct Counting;

thread_local! {
    // Const-initialised and without a destructor: reading it never allocates.
    static THREAD_NET: Cell<usize> = const { Cell::new(0) };
}

/// Adds `add` and takes `sub` from this thread's count (wrapping: a thread may free more
/// than it allocated, e.g. memory another thread made).
fn count(add: usize, sub: usize) {
    // `try_with`: no count, rather than a panic, while the thread is being torn down.
    let _ = THREAD_NET.try_with(|c| c.set(c.get().wrapping_add(add).wrapping_sub(sub)));
}

// SAFETY: every call is forwarded to `System` unchanged; only a counter is added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            count(layout.size(), 0);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        count(0, layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            count(new_size, layout.size());
        }
        p
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// The calling thread's net heap bytes (wrapping; only differences mean anything).
fn live_bytes() -> usize {
    THREAD_NET.with(Cell::get)
}

fn main() -> color_eyre::Result<()> {
    color_eyre::install()?;
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut nodes = 5_000;
    let mut per_node = 30;
    let mut quick = false;
    let mut no_kubectl = false;
    let mut out = None;
    let mut graces = None;
    let mut runs = 1;
    let mut campaign = false;
    let mut long = false;
    let (mut minutes, mut relist_every) = (None, None);
    let (mut max_unavailable, mut grace, mut speed) = (None, None, None);
    let (mut nodes_given, mut per_node_given) = (false, false);
    let mut kubectl = std::env::var_os("BENCH_KUBECTL").map(PathBuf::from);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--nodes" => {
                nodes_given = true;
                nodes = it.next().and_then(|v| v.parse().ok()).unwrap_or(nodes)
            }
            "--pods-per-node" => {
                per_node_given = true;
                per_node = it.next().and_then(|v| v.parse().ok()).unwrap_or(per_node)
            }
            "--campaign" => campaign = true,
            "--long" => long = true,
            "--minutes" => minutes = it.next().and_then(|v| v.parse().ok()),
            "--relist-every" => relist_every = it.next().and_then(|v| v.parse().ok()),
            "--max-unavailable" => max_unavailable = it.next().and_then(|v| v.parse().ok()),
            "--grace" => grace = it.next().and_then(|v| v.parse().ok()),
            "--speed" => speed = it.next().and_then(|v| v.parse().ok()),
            "--quick" => quick = true,
            "--no-kubectl" => no_kubectl = true,
            "--out" => out = it.next().map(PathBuf::from),
            "--kubectl" => kubectl = it.next().map(PathBuf::from),
            "--runs" => runs = it.next().and_then(|v| v.parse().ok()).unwrap_or(runs),
            "--graces" => {
                graces = it
                    .next()
                    .map(|v| v.split(',').filter_map(|g| g.parse().ok()).collect())
            }
            // cargo bench passes --bench; criterion-style filters are ignored.
            _ => {}
        }
    }
    if campaign {
        // The maintenance window's own defaults: a 100-node pool, 10 pods a node.
        nodes = if nodes_given { nodes } else { 100 };
        per_node = if per_node_given { per_node } else { 10 };
    }
    if long {
        // M8's own defaults: 500 × 30 (15,110 pods), 100 nodes for the quick variant.
        nodes = if nodes_given {
            nodes
        } else if quick {
            100
        } else {
            500
        };
    }
    let mut cfg = harness::Config::new(nodes, per_node, env!("CARGO_BIN_EXE_kubedrain").into());
    if quick {
        cfg = cfg.quick();
    }
    cfg.no_kubectl = no_kubectl;
    cfg.live_bytes = Some(live_bytes);
    if let Some(o) = out {
        cfg.out_dir = o;
    }
    if kubectl.is_some() {
        cfg.kubectl = kubectl.clone();
    }
    cfg.runs = runs.max(1);
    if let Some(g) = graces {
        cfg.graces = g;
    }
    let kubectl_arg = kubectl
        .as_ref()
        .map_or(String::new(), |k| format!(" --kubectl {}", k.display()));
    if campaign {
        let mut cb = harness::CampaignBench::new(cfg);
        cb.max_unavailable = max_unavailable.unwrap_or(cb.max_unavailable).max(1);
        cb.grace = grace.unwrap_or(cb.grace);
        cb.speed = speed.unwrap_or(cb.speed);
        let command = format!(
            "cargo bench --bench scale -- --campaign --nodes {nodes} --pods-per-node {per_node} --max-unavailable {} --grace {} --speed {}{}{kubectl_arg}",
            cb.max_unavailable,
            cb.grace,
            cb.speed,
            if no_kubectl { " --no-kubectl" } else { "" },
        );
        let result = harness::run_campaign(&cb, &command)?;
        println!("{}", result.report.document());
        println!(
            "written: {}/campaign.md and campaign.json",
            cb.base.out_dir.display()
        );
        return Ok(());
    }
    if long {
        let mut lb = harness::LongBench::new(cfg);
        if quick {
            lb = lb.quick();
        }
        lb.minutes = minutes.unwrap_or(lb.minutes);
        lb.relist_every_min = relist_every.unwrap_or(lb.relist_every_min);
        let command = format!(
            "cargo bench --bench scale -- --long --nodes {nodes} --pods-per-node {per_node} --minutes {} --relist-every {}{}",
            lb.minutes,
            lb.relist_every_min,
            if quick { " --quick" } else { "" },
        );
        let result = harness::run_long(&lb, &command)?;
        println!("{}", result.report.document());
        println!(
            "written: {}/long.md and long.json",
            lb.base.out_dir.display()
        );
        return Ok(());
    }
    let command = format!(
        "cargo bench --bench scale -- --nodes {nodes} --pods-per-node {per_node}{}{}{}{}",
        if cfg.runs > 1 {
            format!(" --runs {}", cfg.runs)
        } else {
            String::new()
        },
        if quick { " --quick" } else { "" },
        if no_kubectl { " --no-kubectl" } else { "" },
        kubectl_arg
    );
    let report = harness::run(&cfg, &command)?;
    println!("{}", report.document());
    println!(
        "written: {}/results.md and results.json",
        cfg.out_dir.display()
    );
    Ok(())
}
