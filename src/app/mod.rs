//! The application core: one model, a pure `update`, and the loop that owns them.

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
