//! kubedrain: a terminal UI for planned Kubernetes node maintenance
//! (cordon → drain → upgrade → uncordon), with a built-in simulated cluster.

pub mod app;
pub mod benchlog;
pub mod campaign;
pub mod cli;
pub mod cluster;
pub mod commands;
pub mod config;
pub mod crash;
pub mod drain;
pub mod logging;
pub mod sim;
pub mod ui;
pub mod wrap;
