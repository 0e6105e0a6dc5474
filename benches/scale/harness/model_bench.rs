//! In-process measurements of the TUI model: heap per pod and TestBackend frame times.

use std::time::Instant;

use super::*;

/// Heap per pod (counting allocator): the TUI's pod row as decoded from the simulator's
/// JSON, and the same rows once applied to the TUI model (cache + index), in bytes.
///
/// The simulator runs in this process and keeps allocating (controllers, timers, the HTTP
/// server) while this runs; `cfg.live_bytes` counts only the calling thread's allocations, and
/// the decoding and the model are built on it, so the simulator cannot perturb the figure.
pub(crate) fn memory_breakdown(cfg: &Config, sim: &Sim) -> Option<(usize, f64, f64, f64)> {
    use kubedrain::app::{Msg, update};
    use kubedrain::cluster::rows::PodRow;
    use kubedrain::cluster::watch::{Ev, Feed, WatchReport};
    let live = cfg.live_bytes?;
    let url = sim.sim().url();
    let body = sim
        .rt
        .block_on(async {
            reqwest_like::Client::new(&url)
                .get("/api/v1/pods?limit=5000", false)
                .await
        })
        .ok()?;
    let b0 = live();
    let list: kube::core::ObjectList<PodRow> = serde_json::from_slice(&body).ok()?;
    let b1 = live();
    let n = list.items.len().max(1);
    let mut m = kubedrain::app::fixtures::seed_model((COLS, ROWS));
    let feed = |m: &mut kubedrain::app::Model, f: Feed| {
        update(
            m,
            Msg::Watch {
                generation: 1,
                report: WatchReport::Feed(f),
            },
        );
    };
    feed(&mut m, Feed::Pods(Ev::Init));
    for p in &list.items {
        feed(&mut m, Feed::Pods(Ev::InitApply(p.clone())));
    }
    feed(&mut m, Feed::Pods(Ev::InitDone));
    m.refresh();
    let b2 = live();
    let json_per_pod = body.len() as f64 / n as f64;
    drop(m);
    drop(list);
    // The counter wraps (a thread may free what others allocated): differences as signed.
    let diff = |a: usize, b: usize| b.wrapping_sub(a) as isize as f64 / n as f64;
    Some((n, json_per_pod, diff(b0, b1), diff(b1, b2)))
}

/// M4 in-process: frame time of the main screen with `TestBackend`.
pub(crate) fn frame_bench(cfg: &Config, nodes: usize, pods: usize) -> (f64, f64, f64, f64) {
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    let measure = |all: bool| {
        let m = crate::model::scale_model(nodes, pods, (COLS, ROWS), all);
        let mut t = Terminal::new(TestBackend::new(COLS, ROWS)).unwrap();
        let mut v = Vec::new();
        for _ in 0..cfg.frames {
            let s = Instant::now();
            t.draw(|f| kubedrain::ui::render(&m, f)).unwrap();
            v.push(s.elapsed().as_secs_f64() * 1000.0);
        }
        v.sort_by(|a, b| a.partial_cmp(b).unwrap());
        (percentile(&v, 0.5), percentile(&v, 0.99))
    };
    let (a50, a99) = measure(false);
    let (b50, b99) = measure(true);
    (a50, a99, b50, b99)
}
