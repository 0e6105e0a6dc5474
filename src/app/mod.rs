//! The application core: one model, a pure `update`, and the loop that owns them.
//!
//! Flow: watchers, the terminal and the 1 s tick produce [`Msg`]s; the loop (`run.rs`) applies
//! every queued one with [`update`], which returns [`Cmd`]s that only the executor in `run.rs`
//! acts on; then it renders if something visible changed (`dirty.rs` decides per watch
//! event, rebuilding only the views it touched), at most once per 16 ms while events stream:
//! the rows of one pane where only they changed (`damage.rs`, drawn by `screen.rs`), else
//! the whole screen.
//!
//! The maintenance workflow (`drain_flow/`, drawn by `ui::dialogs`): `c` / `u` / `r` open
//! its dialogs; confirming returns `Cmd::Flow`, which `flow_exec.rs` runs on the drain engine
//! (`drain::node_ops`, `drain::exec::start_drain`); results and every `DrainEvent` come back as
//! `Msg::Flow`. The plan is computed from `model.cache` with the pure `drain::plan`. The demo's
//! simulated upgrade is a closure passed in through `RunOptions::flow`, so the core never sees
//! simulator types.

mod actions;
pub mod campaign;
pub mod campaign_exec;
pub mod cells;
mod command_line;
pub mod conn;
pub mod damage;
pub mod demo_clock;
pub mod describe;
pub mod dirty;
pub mod drain_flow;
pub mod filter;
#[cfg(any(test, feature = "test-support"))]
pub mod fixtures;
pub mod flow_exec;
#[cfg(any(test, feature = "test-support"))]
pub mod flow_fixtures;
pub mod key_text;
pub mod keymap;
pub mod layout;
pub mod model;
pub mod msg;
pub mod namespaces;
pub mod pacing;
pub mod panel;
pub mod picker;
pub mod remap;
pub mod run;
pub mod screen;
pub mod teach;
mod terminal_input;
pub mod update;
pub mod versions;
pub mod views;

pub use model::Model;
pub use msg::{Cmd, Msg};
pub use update::update;

#[cfg(test)]
mod conn_tests;
#[cfg(test)]
mod dirty_tests;
#[cfg(test)]
mod filter_tests;
#[cfg(test)]
mod flow_tests;
#[cfg(test)]
mod scope_tests;
#[cfg(test)]
mod tests;
