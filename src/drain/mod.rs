//! The drain engine: a pure planner, an executor, and a journal of maintenance actions.

pub mod capacity;
pub mod client;
pub mod fetch;
pub mod filters;
pub mod journal;
pub mod live;
pub mod node_ops;
pub mod options;
pub mod plan;
pub mod replacements;
pub mod selector;

pub use filters::DsLookup;
pub use options::DrainOptions;
pub use plan::{ClusterView, DrainPlan, PlanInput, PodAction, SkipReason, plan};
pub mod commands;
mod drive;
pub mod events;
pub mod evict;
pub mod exec;
pub mod render;
