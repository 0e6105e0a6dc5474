//! The application core: one model, a pure `update`, and the loop that owns them.
//!
//! Flow: watchers, the terminal and the 1 s tick produce [`Msg`]s; the loop (`run.rs`) applies
//! every queued one with [`update`], which returns [`Cmd`]s that only the executor in `run.rs`
//! acts on; then it renders once if something visible changed.
//!
//! Where the drain engine plugs in (keys `c`, `u`, `r` are already in the keymap, marked
//! `reserved`, and emit `Cmd::Node { action, node }`):
//! - cordon / uncordon: the executor calls `drain::node_ops::{cordon, uncordon}` and answers
//!   with a `Msg` (result or error); the node watcher shows the new state anyway.
//! - drain: `update` opens a new `Overlay` variant holding the pure `drain::plan(..)` of the
//!   selected node (computed from `model.cache`); confirming emits a new `Cmd::StartDrain`;
//!   the executor calls `drain::exec::start_drain_with(.., sink)` with a sink that forwards
//!   each `DrainEvent` as a new `Msg::Drain`; `update` folds those into per-node progress in
//!   the model, which the overlay (or a fourth pane) renders; cancel is `Cmd::CancelDrain`
//!   → `DrainHandle::cancel()`. The sink is synchronous: give it an unbounded channel so no
//!   event is dropped.

pub mod drain_flow;
pub mod fixtures;
pub mod flow_exec;
pub mod flow_fixtures;
pub mod keymap;
pub mod model;
pub mod msg;
pub mod run;
pub mod update;
pub mod views;

pub use model::Model;
pub use msg::{Cmd, Msg};
pub use update::update;

#[cfg(test)]
mod flow_tests;
#[cfg(test)]
mod tests;
