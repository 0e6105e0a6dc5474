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

criterion_group!(benches, frames);
criterion_main!(benches);
