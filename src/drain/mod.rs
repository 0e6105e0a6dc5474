//! The drain engine: a pure planner, an executor, and a journal of maintenance actions.
//!
//! How the TUI uses it (all on the same engine as `kubedrain plan|drain|cordon|uncordon`):
//!
//! - **Options**: [`DrainOptions`] (build it directly, or `cli::DrainFlags::options`).
//! - **Plan** (pure, from watch caches): [`plan()`] with a [`PlanInput`] — the node, its pods,
//!   PDBs, optionally a [`ClusterView`] of all nodes/pods for the capacity check, and a
//!   DaemonSet-exists lookup (`&|_, _| DsLookup::Exists` when DaemonSets are not watched).
//!   [`DrainPlan::can_proceed`], `errors`, `warning_line()`, `pdbs`, `capacity`, `findings`.
//!   Headless alternative: [`fetch::snapshot`] then [`fetch::Snapshot::plan`].
//! - **Client**: [`client::client_without_retry`] (kube-client's retry would hide 429s).
//! - **Drain**: [`exec::start_drain`] (events on an unbounded channel) or
//!   [`exec::start_drain_with`] (a callback per event) → [`exec::DrainHandle`]:
//!   `cancel()`, `wait()`, `is_finished()`. Events: [`events::DrainEvent`], last one
//!   `Finished(DrainOutcome)`.
//! - **Cordon / uncordon**: [`node_ops::cordon`], [`node_ops::uncordon`] (refuses a cordon
//!   kubedrain did not make unless `force`; ask first with [`journal::may_uncordon`], show
//!   [`node_ops::version_changes`] in the confirmation).
//! - **Resume**: [`journal::find_unfinished`] over the nodes and [`journal::Journal::entries`].
//! - **Journal**: [`journal::Journal::open`] with the context and server.

pub mod capacity;
pub mod client;
mod drive;
pub mod events;
pub mod evict;
pub mod exec;
pub mod feed;
pub mod fetch;
pub mod filters;
pub mod journal;
pub mod live;
pub mod node_ops;
pub mod options;
mod outcome;
pub mod plan;
mod recheck;
pub mod render;
pub mod replacements;
pub mod selector;
pub mod verify;

pub use filters::DsLookup;
pub use options::DrainOptions;
pub use plan::{ClusterView, DrainPlan, PlanInput, PodAction, SkipReason, plan};
