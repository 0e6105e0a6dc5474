//! Campaigns over many nodes. Today: the versions matrix and the skew policy (pure), the way
//! to a target version, and the headless `kubedrain versions`. Depends on neither `app` nor `cli`.

pub mod command;
pub mod render;
pub mod skew;
pub mod steps;
pub mod version;
pub mod versions;

#[cfg(test)]
mod tests;
