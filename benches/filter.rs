//! M7 in process: a `/` filter typed one key at a time into the all-pods view at 150,000
//! pods, then Esc clearing it; each key as the loop handles it (`update`, view refresh,
//! draw on a 200×50 `TestBackend`). `cargo bench --bench filter`; prints each key's median
//! and slowest time over the rounds (5, or `FILTER_ROUNDS`) and the rows it left. Reports,
//! never asserts.

#[path = "common/model.rs"]
mod model;

use std::time::Instant;

use kubedrain::app::{Msg, update};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent};

/// A Deployment's name in the middle of the model's (`svc-NNNNN`), as the scale harness types.
const FILTER: &str = "svc-07500";

/// Rounds, unless `FILTER_ROUNDS` says otherwise (more for a profile).
fn rounds() -> usize {
    std::env::var("FILTER_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5)
}

fn main() {
    let mut m = model::scale_model(5_000, 150_000, (200, 50), false);
    let mut t = Terminal::new(TestBackend::new(200, 50)).unwrap();
    // One key as the loop handles it: its time in ms, and the pods view's rows after it.
    let mut press = |code: KeyCode| {
        let s = Instant::now();
        update(&mut m, Msg::Key(KeyEvent::from(code)));
        m.refresh();
        t.draw(|f| kubedrain::ui::render(&m, f)).unwrap();
        let took = s.elapsed().as_secs_f64() * 1000.0;
        // As the run loop does, once the frame is out.
        m.after_frame();
        (took, m.views.pods.len())
    };
    // As the scale harness gets there: `:pods`, then `a` for all namespaces.
    for c in ":pods".chars() {
        press(KeyCode::Char(c));
    }
    press(KeyCode::Enter);
    press(KeyCode::Char('a'));
    let labels: Vec<String> = FILTER
        .chars()
        .map(String::from)
        .chain(["Esc".into()])
        .collect();
    let mut times = vec![Vec::new(); labels.len()];
    let mut rows = vec![0; labels.len()];
    for _ in 0..rounds() {
        press(KeyCode::Char('/'));
        let keys = FILTER.chars().map(KeyCode::Char).chain([KeyCode::Esc]);
        for (i, code) in keys.enumerate() {
            let (ms, n) = press(code);
            times[i].push(ms);
            rows[i] = n;
        }
    }
    println!(
        "key    median ms   max ms     rows   (150,000 pods, all-pods view, {} rounds)",
        rounds()
    );
    for ((label, mut v), n) in labels.into_iter().zip(times).zip(rows) {
        v.sort_by(f64::total_cmp);
        println!(
            "{label:<6} {:>9.2} {:>8.2} {n:>8}",
            v[v.len() / 2],
            v[v.len() - 1]
        );
    }
}
