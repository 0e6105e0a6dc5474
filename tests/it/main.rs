//! kubedrain's integration tests, in one binary: one link instead of twenty keeps CI's
//! build time and disk small (each test binary links kube, axum and ratatui).

mod common;
mod drain_support;

mod campaign;
mod campaign_headless;
mod campaign_holds;
mod campaign_kill;
mod campaign_skew;
mod campaign_support;
mod campaign_taints;
mod campaign_upgrade;
mod drain_answers;
mod drain_e2e;
mod drain_e2e_faults;
mod drain_findings;
mod drain_forbidden;
mod drain_forecast;
mod drain_live_render;
mod drain_live_truth;
mod drain_many;
mod drain_output;
mod drain_plan;
mod drain_scale;
mod drain_verdicts;
mod flow_daemonsets;
mod sim_api;
mod sim_cli;
mod sim_controllers;
mod sim_eviction;
mod sim_kube_client;
mod sim_kubectl;
mod sim_tables;
mod sim_upgrade;
mod sim_watch;
mod tui_fixtures;
mod tui_namespace_scope;
mod tui_pty;
mod tui_quit;
mod tui_render;
mod tui_verdicts;
mod tui_workflow_pty;
mod tui_workflow_render;
mod versions;
