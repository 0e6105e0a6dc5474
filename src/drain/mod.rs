//! The drain engine: a pure planner, an executor, and a journal of maintenance actions.

pub mod capacity;
pub mod filters;
pub mod options;
pub mod plan;
pub mod selector;

pub use filters::DsLookup;
pub use options::DrainOptions;
pub use plan::{ClusterView, DrainPlan, PlanInput, PodAction, SkipReason, plan};
