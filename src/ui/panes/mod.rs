//! The tables: nodes, pods, events (main view) PDBs and versions (full views).

pub mod campaign;
pub mod events;
pub mod nodes;
pub mod pdbs;
pub mod pods;
pub mod teach;
pub mod versions;
