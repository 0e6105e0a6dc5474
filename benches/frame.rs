//! Frame time of the main screen (200×50, `TestBackend`) at 1k, 10k and 150k pods: M4 of
//! `shared/reference/performance.md` §7. `cargo bench --bench frame`.

#[path = "common/model.rs"]
mod model;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn frames(c: &mut Criterion) {
    let mut g = c.benchmark_group("frame_200x50");
    g.sample_size(30);
    for (nodes, pods) in [(34, 1_000), (334, 10_000), (5_000, 150_000)] {
        for all in [false, true] {
            let m = model::scale_model(nodes, pods, (200, 50), all);
            let mut t = Terminal::new(TestBackend::new(200, 50)).unwrap();
            let label = if all { "all_pods" } else { "node_pods" };
            g.bench_with_input(BenchmarkId::new(label, pods), &m, |b, m| {
                b.iter(|| {
                    t.draw(|f| kubedrain::ui::render(m, f)).unwrap();
                })
            });
        }
    }
    g.finish();
}

/// One pod event (a restart count, as the scale benchmark's churn makes) as the loop handles
/// it: `update`, then view refresh and draw when it asks for a frame. 5,000 nodes / 150,000
/// pods; the pod runs on a node far below the visible rows, or on the selected node.
fn pod_events(c: &mut Criterion) {
    use kubedrain::app::{Msg, update};
    use kubedrain::cluster::watch::{Ev, Feed, WatchReport};
    let mut g = c.benchmark_group("pod_event_200x50_150000");
    g.sample_size(30);
    let mut m = model::scale_model(5_000, 150_000, (200, 50), false);
    let mut t = Terminal::new(TestBackend::new(200, 50)).unwrap();
    let selected = m.views.pods[0].to_string();
    let offscreen = m
        .cache
        .index
        .pods_on("node-04000")
        .next()
        .unwrap()
        .to_string();
    for (label, key) in [("offscreen_node", offscreen), ("selected_node", selected)] {
        let pod = m.cache.pods.get(&key).unwrap().clone();
        let mut n = 0;
        g.bench_function(label, |b| {
            b.iter(|| {
                let mut p = pod.clone();
                n += 1;
                p.restarts = n;
                let report = WatchReport::Feed(Feed::Pods(Ev::Apply(p)));
                update(
                    &mut m,
                    Msg::Watch {
                        generation: 1,
                        report,
                    },
                );
                if m.redraw {
                    m.refresh();
                    t.draw(|f| kubedrain::ui::render(&m, f)).unwrap();
                    m.redraw = false;
                }
            })
        });
    }
    g.finish();
}

criterion_group!(benches, frames, pod_events);
criterion_main!(benches);
