//! Every real-cluster fixture (tests/fixtures/real-objects) decodes and shows in its pane.

use kubedrain::app::fixtures;
use kubedrain::app::model::{ConnInfo, Model, PodScope};
use kubedrain::cluster::rows::{EventRow, NodeRow, PdbRow, PodRow};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/real-objects");

fn read<T: serde::de::DeserializeOwned>(f: &str) -> T {
    serde_json::from_str(&std::fs::read_to_string(format!("{DIR}/{f}")).unwrap()).unwrap()
}

fn screen(m: &Model) -> String {
    let mut t = Terminal::new(TestBackend::new(m.size.0, m.size.1)).unwrap();
    t.draw(|f| kubedrain::ui::render(m, f)).unwrap();
    let buf = t.backend().buffer();
    (0..m.size.1)
        .map(|y| {
            (0..m.size.0)
                .map(|x| buf[(x, y)].symbol())
                .collect::<String>()
                + "\n"
        })
        .collect()
}

fn model_with(pod: PodRow) -> Model {
    let mut m = Model::new(ConnInfo::default(), None, false, fixtures::now());
    m.size = (160, 40);
    let node: NodeRow = read("no.json");
    let ev: EventRow = read("ev.json");
    let pdb: PdbRow = read("pdb.json");
    fixtures::load(&mut m, (vec![node], vec![pod], vec![ev], vec![pdb]));
    m.pod_scope = PodScope::All;
    m.events_all = true;
    m.stale = true;
    m.refresh();
    m
}

#[test]
fn every_real_pod_node_and_event_renders() {
    for f in ["po.json", "po_init.json", "po_sidecar.json"] {
        let pod: PodRow = read(f);
        let m = model_with(pod.clone());
        let s = screen(&m);
        // Node pane: the minikube node with its kubelet version and master role.
        assert!(
            s.contains("minikube") && s.contains("v1.15.2") && s.contains("master"),
            "{f}\n{s}"
        );
        // Pods pane: name, READY, STATUS, IP exactly as decoded.
        let row = s
            .lines()
            .find(|l| l.contains(&format!(" {} ", pod.name())) && l.contains(pod.namespace()))
            .unwrap_or_else(|| panic!("{f}: pod row missing\n{s}"));
        assert!(
            row.contains(&format!(
                "{}/{}",
                pod.ready_containers, pod.total_containers
            )),
            "{f}: {row}"
        );
        assert!(row.contains(pod.status_text()), "{f}: {row}");
        if let Some(ip) = &pod.pod_ip {
            assert!(row.contains(&**ip), "{f}: {row}");
        }
        assert!(pod.total_containers >= 1);
        // Events pane: the real event.
        assert!(
            s.contains("Pulled") && s.contains("pod/hello-1567197780-mn4mv"),
            "{f}\n{s}"
        );
    }
    // The sidecar fixture really has its IP decoded (podIP, not podIp).
    let p: PodRow = read("po.json");
    assert_eq!(p.pod_ip.as_deref(), Some("172.17.0.6"));
}

#[test]
fn real_pdb_renders_in_the_pdb_view() {
    let pod: PodRow = read("po.json");
    let mut m = model_with(pod);
    m.view = kubedrain::app::model::View::Pdbs;
    let s = screen(&m);
    assert!(
        s.contains("PodDisruptionBudgets") && s.contains("fred"),
        "{s}"
    );
}
