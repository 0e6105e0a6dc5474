//! One LIST page of the simulator's pods decoded as the TUI's watchers decode it, three ways:
//! serde_json over the bytes (checking each string it keeps as UTF-8), the body checked as
//! UTF-8 whole and then read as text (what `cluster::list_page` does), and serde_json only
//! stepping over every value (the floor of reading the JSON at all). `cargo bench --bench
//! decode`; prints each way's median µs per pod over the rounds (7, or `DECODE_ROUNDS`).
//! Reports timings, never asserts them (only that each way read every pod).

use std::sync::Arc;
use std::time::Instant;

use kube::core::ObjectList;
use kubedrain::cluster::rows::PodRow;
use kubedrain::sim::{Kind, SimClock, Store, generate};
use serde::de::IgnoredAny;

/// Pods in the page: the TUI's page size.
const PAGE: usize = 500;
/// Decodes per round.
const DECODES: usize = 40;

/// One way of decoding a page: the pods it read.
type Decode<'a> = &'a dyn Fn(&[u8]) -> usize;

fn main() {
    let store = Store::new(Arc::new(SimClock::new(1.0)), 1000);
    generate::populate(&store, 20, 25);
    let (_, pods) = store.list(Kind::Pod, None);
    let items: Vec<_> = pods.iter().take(PAGE).map(|p| (**p).clone()).collect();
    let body = serde_json::to_vec(&serde_json::json!({
        "kind": "PodList", "apiVersion": "v1",
        "metadata": {"resourceVersion": "1", "continue": "next"},
        "items": items,
    }))
    .unwrap();
    let n = items.len();
    println!("one page: {n} pods, {} KB of JSON", body.len() / 1024);
    let rounds: usize = std::env::var("DECODE_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(7);
    let ways: [(&str, Decode); 3] = [
        ("bytes (serde_json::from_slice)", &|b| {
            serde_json::from_slice::<ObjectList<PodRow>>(b)
                .unwrap()
                .items
                .len()
        }),
        ("text (from_utf8, then from_str)", &|b| {
            let text = std::str::from_utf8(b).unwrap();
            serde_json::from_str::<ObjectList<PodRow>>(text)
                .unwrap()
                .items
                .len()
        }),
        ("every value skipped (IgnoredAny)", &|b| {
            serde_json::from_slice::<IgnoredAny>(b).map(|_| n).unwrap()
        }),
    ];
    for (name, decode) in ways {
        let mut per_pod: Vec<f64> = (0..rounds)
            .map(|_| {
                let s = Instant::now();
                for _ in 0..DECODES {
                    assert_eq!(decode(&body), n);
                }
                s.elapsed().as_secs_f64() * 1e6 / (DECODES * n) as f64
            })
            .collect();
        per_pod.sort_by(f64::total_cmp);
        println!(
            "{name}: median {:.2} µs per pod (fastest {:.2}, slowest {:.2})",
            per_pod[rounds / 2],
            per_pod[0],
            per_pod[rounds - 1]
        );
    }
}
