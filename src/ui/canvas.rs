//! Where panes draw: a plain buffer. ratatui's `Frame` is made only by its `Terminal`, which
//! clears, compares and rewrites the whole screen on every frame; the run loop's screen
//! (`app::screen`) redraws only the panes that changed, so panes draw into its buffer.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::widgets::{StatefulWidget, Widget};

/// A buffer to draw widgets into, with `Frame`'s methods.
pub struct Canvas<'a> {
    buf: &'a mut Buffer,
}

impl<'a> Canvas<'a> {
    /// Draws into `buf` (its area is the screen).
    pub fn new(buf: &'a mut Buffer) -> Canvas<'a> {
        Canvas { buf }
    }

    /// The whole screen.
    pub fn area(&self) -> Rect {
        self.buf.area
    }

    /// Draws `widget` in `area`.
    pub fn render_widget<W: Widget>(&mut self, widget: W, area: Rect) {
        widget.render(area, self.buf);
    }

    /// Draws `widget` in `area` with `state`.
    pub fn render_stateful_widget<W: StatefulWidget>(
        &mut self,
        widget: W,
        area: Rect,
        state: &mut W::State,
    ) {
        widget.render(area, self.buf, state);
    }

    /// The buffer, for cells written directly.
    pub fn buffer_mut(&mut self) -> &mut Buffer {
        self.buf
    }
}
