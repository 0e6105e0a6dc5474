//! The Kubernetes side of the app: slim rows decoded from watch streams, selectors, quantities,
//! the client and the watchers, and the incremental cache the UI reads.

pub mod age;
pub mod cache;
pub mod client;
pub mod index;
pub mod intern;
pub mod json_skim;
pub mod labels;
pub mod list_page;
pub mod liveness;
pub mod names;
pub mod pod_texts;
pub mod quantity;
mod raw;
mod raw_pod;
pub mod rows;
pub mod scheduling;
pub mod stream_list;
pub mod timeout;
pub mod watch;
mod watch_run;
