//! The terminal's cells and the frame being drawn. ratatui's `Terminal::draw` clears,
//! redraws and compares every cell of the screen on every frame: at 200×50 that is 10,000
//! cells for one pod's restart count. Here a whole frame does the same, and a frame for
//! `Model::damage` redraws, compares and writes only the damaged rows: the rest of the
//! drawing buffer already holds what the terminal shows.

use std::ops::Range;

use ratatui::backend::Backend;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;

use super::damage::{self, Damage};
use super::model::Model;
use super::run::Render;

/// What a frame drew.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Drawn {
    /// Every cell.
    Whole,
    /// These rows alone.
    Rows(Vec<Range<u16>>),
}
/// Damaged rows above this share of the screen are compared as a whole screen is (copying
/// them out to compare them would cost more than comparing every cell in place).
const PART_MAX_SHARE: usize = 4;

/// A terminal and the two buffers of its frames.
pub struct Screen<B: Backend> {
    backend: B,
    /// What the terminal shows.
    shown: Buffer,
    /// The frame being drawn: equal to `shown` between frames, except after a whole frame
    /// (`behind`), when it holds the frame before.
    next: Buffer,
    behind: bool,
    /// Scratch copies of damaged rows, for ratatui's comparison (which takes buffers).
    was: Buffer,
    now: Buffer,
}

impl<B: Backend> Screen<B> {
    /// A screen of `width`×`height` on `backend`, which shows nothing yet (a fresh alternate
    /// screen).
    pub fn new(backend: B, (width, height): (u16, u16)) -> Screen<B> {
        let area = Rect::new(0, 0, width, height);
        Screen {
            backend,
            shown: Buffer::empty(area),
            next: Buffer::empty(area),
            behind: false,
            was: Buffer::empty(Rect::default()),
            now: Buffer::empty(Rect::default()),
        }
    }

    /// The screen's size.
    pub fn size(&self) -> (u16, u16) {
        (self.shown.area.width, self.shown.area.height)
    }

    /// The terminal was resized: clear it; the next frame must be whole.
    pub fn resize(&mut self, (width, height): (u16, u16)) -> Result<(), B::Error> {
        let area = Rect::new(0, 0, width, height);
        self.shown = Buffer::empty(area);
        self.next = Buffer::empty(area);
        self.behind = false;
        self.backend.clear()?;
        self.backend.flush()
    }

    /// Draws `model`'s next frame with `render`: the damaged rows alone where
    /// `damage::rows` allows, else the whole screen (also after a resize).
    pub fn frame(&mut self, model: &mut Model, render: Render) -> Result<Drawn, B::Error> {
        if self.size() != model.size {
            self.resize(model.size)?;
            model.redraw = true;
        }
        let whole = damage::whole(model);
        model.refresh();
        let (w, h) = self.size();
        let rows = (!whole)
            .then(|| damage::rows(model, Rect::new(0, 0, w, h)))
            .flatten();
        let m = &*model;
        let drawn = match rows {
            Some(rows) => {
                self.rows(&rows, |buf| render(m, buf, Some(&m.damage)))?;
                Drawn::Rows(rows)
            }
            None => {
                self.whole(|buf| render(m, buf, None))?;
                Drawn::Whole
            }
        };
        model.redraw = false;
        model.damage = Damage::default();
        Ok(drawn)
    }

    /// Draws a whole frame with `draw` and writes the cells that differ from the screen.
    pub fn whole(&mut self, draw: impl FnOnce(&mut Buffer)) -> Result<(), B::Error> {
        self.next.reset();
        draw(&mut self.next);
        self.backend.draw(self.shown.diff_iter(&self.next))?;
        std::mem::swap(&mut self.shown, &mut self.next);
        self.behind = true;
        self.backend.flush()
    }

    /// Draws a frame that changes only `rows` (sorted, apart): they are cleared, `draw`
    /// draws into them (what it writes elsewhere must be what is there), and their cells
    /// that differ from the screen are written.
    pub fn rows(
        &mut self,
        rows: &[Range<u16>],
        draw: impl FnOnce(&mut Buffer),
    ) -> Result<(), B::Error> {
        if self.behind {
            self.next.content.clone_from_slice(&self.shown.content);
            self.behind = false;
        }
        let area = self.next.area;
        let width = area.width as usize;
        let cells = |r: &Range<u16>| {
            let (start, end) = (r.start.min(area.height), r.end.min(area.height));
            start as usize * width..end as usize * width
        };
        for r in rows {
            self.next.content[cells(r)]
                .iter_mut()
                .for_each(ratatui::buffer::Cell::reset);
        }
        draw(&mut self.next);
        let damaged: usize = rows.iter().map(|r| cells(r).len()).sum();
        if damaged * PART_MAX_SHARE > self.next.content.len() {
            self.backend.draw(self.shown.diff_iter(&self.next))?;
        } else {
            for r in rows {
                self.diff_rows(r.start, cells(r))?;
            }
        }
        for r in rows {
            let c = cells(r);
            self.shown.content[c.clone()].clone_from_slice(&self.next.content[c]);
        }
        self.backend.flush()
    }

    /// Writes what differs in the cells `c` (whole rows from row `y`), compared as ratatui
    /// compares whole screens (wide characters included).
    fn diff_rows(&mut self, y: u16, c: Range<usize>) -> Result<(), B::Error> {
        if c.is_empty() {
            return Ok(());
        }
        let width = self.shown.area.width;
        let area = Rect::new(0, y, width, (c.len() / width as usize) as u16);
        for (scratch, from) in [(&mut self.was, &self.shown), (&mut self.now, &self.next)] {
            scratch.area = area;
            scratch.content.clear();
            scratch.content.extend_from_slice(&from.content[c.clone()]);
        }
        self.backend.draw(self.was.diff_iter(&self.now))
    }

    /// The backend (for the test terminal's contents).
    pub fn backend(&self) -> &B {
        &self.backend
    }
}
