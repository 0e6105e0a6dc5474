//! The tables: nodes, pods, events (main view) and PDBs (full view).

pub mod events;
pub mod nodes;
pub mod pdbs;
pub mod pods;
