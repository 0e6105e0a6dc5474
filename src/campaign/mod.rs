//! Campaigns: many nodes through cordon → drain → upgrade → return-to-service gate →
//! uncordon → soak, control plane first, then waves of workers, within the version skew
//! policy. Pure parts: the versions matrix and skew rules ([`skew`], [`versions`],
//! [`version`]), the way to a target version ([`steps`]), the campaign planner ([`plan`]: order,
//! waves, each wave's pre-check on the drain engine's one verdict model) and the gate
//! ([`gate`]). Then the executor ([`exec`], a tokio task sending [`events::CampaignEvent`]s,
//! its per-node stages in `stages`, hold points in `holds`, the queued nodes' taint in
//! [`taints`]), its journal ([`journal`]), what the operator runs ([`upgrade`]), the report
//! ([`report`]) and the headless `kubedrain versions` ([`command`]) and `kubedrain campaign`
//! ([`commands`]). Depends on neither `app` nor `cli`'s TUI.

pub mod command;
pub mod events;
pub mod exec;
pub mod gate;
mod holds;
pub mod journal;
pub mod plan;
pub mod prepare;
pub mod read;
pub mod render;
pub mod report;
pub mod skew;
pub mod skew_gate;
mod stages;
pub mod steps;
pub mod taints;
pub mod text;
pub mod upgrade;
pub mod version;
pub mod versions;

#[cfg(test)]
mod tests;
