//! The colours the README promises, cell by cell (TestBackend): SchedulingDisabled yellow
//! (deliberate, not broken), NotReady red, the selected row on the cursor colour; and a skin
//! from the config changes exactly those colours.

use kubedrain::app::flow_fixtures::{self as fx, cordoned_node0, flow_model};
use kubedrain::app::model::Model;
use kubedrain::cluster::rows::NodeReady;
use kubedrain::cluster::watch::{Ev, Feed};
use kubedrain::config::skin::Skin;
use kubedrain::ui::theme::force_skin;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::style::{Color, Modifier};

fn frame(m: &mut Model) -> Buffer {
    m.refresh();
    let mut t = Terminal::new(TestBackend::new(m.size.0, m.size.1)).unwrap();
    t.draw(|f| kubedrain::ui::render(m, f)).unwrap();
    t.backend().buffer().clone()
}

/// The first cell where `text` starts on screen.
fn find(b: &Buffer, text: &str) -> (u16, u16) {
    for y in 0..b.area.height {
        let row: String = (0..b.area.width).map(|x| b[(x, y)].symbol()).collect();
        if let Some(i) = row.find(text) {
            // Columns are cells; the row may hold wide symbols before the hit.
            let col = row[..i].chars().count() as u16;
            return (col, y);
        }
    }
    panic!("{text} not on screen");
}

/// node0 cordoned, node1 NotReady, master0 selected.
fn model() -> Model {
    let mut m = flow_model((120, 40));
    crate::common::screen::key(&mut m, 'k');
    assert_eq!(m.selected_node.as_deref(), Some("master0"));
    fx::feed(&mut m, Feed::Nodes(Ev::Apply(cordoned_node0(false))));
    let mut node1 = m.cache.nodes.get("node1").unwrap().clone();
    node1.ready = NodeReady::False;
    fx::feed(&mut m, Feed::Nodes(Ev::Apply(node1)));
    m
}

#[test]
fn states_and_the_selection_have_the_colours_the_readme_names() {
    for (skin, warn, bad, cursor) in [
        (Skin::default(), Color::Yellow, Color::Red, Color::Blue),
        (
            Skin::light(),
            Color::Indexed(130),
            Color::Indexed(160),
            Color::Indexed(153),
        ),
    ] {
        force_skin(Some(skin));
        let mut m = model();
        let b = frame(&mut m);
        force_skin(None);
        let (x, y) = find(&b, "NotReady");
        assert_eq!(b[(x, y)].fg, bad, "NotReady");
        assert!(b[(x, y)].modifier.contains(Modifier::BOLD));
        let (x, y) = find(&b, ",SchedulingDisabled");
        assert_eq!(b[(x + 1, y)].fg, warn, "SchedulingDisabled");
        // The selected row: the cursor's background, bold.
        let (nx, ny) = find(&b, "master0");
        assert_eq!(b[(nx, ny)].bg, cursor, "the selected row");
        assert!(b[(nx, ny)].modifier.contains(Modifier::BOLD));
    }
}
