//! Campaigns: many nodes through cordon → drain → upgrade → return-to-service gate →
//! uncordon → soak, control plane first, then waves of workers. A pure planner
//! ([`plan`]: order, waves, each wave's pre-check on the drain engine's one verdict model),
//! an executor ([`exec`], a tokio task sending [`events::CampaignEvent`]s), its journal
//! ([`journal`]), the gate ([`gate`]), what the operator runs ([`upgrade`]), the report
//! ([`report`]) and the headless `kubedrain campaign` ([`commands`]).

pub mod commands;
pub mod events;
pub mod exec;
pub mod gate;
pub mod journal;
pub mod plan;
pub mod read;
pub mod report;
mod steps;
pub mod upgrade;
