//! The built-in simulated cluster: an in-memory Kubernetes API server on loopback that real
//! kubectl accepts, with controllers that make it behave (scheduler, workloads, kubelet, PDBs).

pub mod api;
pub mod auth;
pub mod churn;
pub mod clock;
pub mod controllers;
pub mod generate;
pub mod kinds;
pub mod kubeconfig_file;
pub mod scenario;
pub mod server;
pub mod store;
pub mod stored;
pub mod tls;

pub use clock::SimClock;
pub use kinds::Kind;
pub use server::{SimOptions, Simulator};
pub use store::Store;
