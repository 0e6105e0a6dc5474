//! The Kubernetes side of the app: slim rows decoded from watch streams, selectors, quantities.

pub mod labels;
pub mod quantity;
mod raw;
pub mod rows;
