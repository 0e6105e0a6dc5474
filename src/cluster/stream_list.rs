//! A whole-collection read as one streaming list (KEP-3157 WatchList: a watch with
//! `sendInitialEvents=true` that ends its initial state with a marked bookmark). The server
//! writes the objects while the client decodes them, in one request instead of one page
//! after another; `None` tells the caller to list in pages instead.

use futures::TryStreamExt;
use kube::api::{Api, WatchEvent, WatchParams};
use kube::{Client, Resource};
use serde::de::DeserializeOwned;

/// The annotation on the bookmark that ends the initial events.
const INITIAL_EVENTS_END: &str = "k8s.io/initial-events-end";

/// Whether the API server can be asked for streaming lists at all: from 1.27 on it knows
/// `sendInitialEvents` and answers 422 while its WatchList gate is off (1.27–1.31, 1.33).
/// Older servers do not know the parameter: they refuse the `resourceVersionMatch` it comes
/// with, and one that ignored both would send a plain watch that never marks the end of its
/// initial events. They are not asked, which also saves the refused request.
pub async fn server_knows_streaming(client: &Client) -> bool {
    match client.apiserver_version().await {
        Ok(info) => version_streams(&info),
        Err(_) => false,
    }
}

/// [`server_knows_streaming`] for a `/version` answer already read.
pub fn version_streams(info: &k8s_openapi::apimachinery::pkg::version::Info) -> bool {
    minor_at_least(&info.major, &info.minor, 27)
}

/// `major.minor >= 1.want`; minors such as `27+` (GKE, EKS) count as 27.
fn minor_at_least(major: &str, minor: &str, want: u32) -> bool {
    let digits = |s: &str| -> Option<u32> {
        s.chars()
            .take_while(char::is_ascii_digit)
            .collect::<String>()
            .parse()
            .ok()
    };
    match (digits(major), digits(minor)) {
        (Some(1), Some(m)) => m >= want,
        (Some(maj), _) => maj > 1,
        _ => false,
    }
}

/// Every object of `api`'s collection as one streaming list. `Ok(None)`: the server does not
/// stream lists (it refused the request, or the stream ended or changed before its initial
/// events were marked complete), so the caller lists in pages. Transport and other API
/// errors are errors.
pub async fn list_streaming<K>(api: &Api<K>) -> Result<Option<Vec<K>>, kube::Error>
where
    K: Resource + Clone + DeserializeOwned + std::fmt::Debug,
{
    let params = WatchParams::streaming_lists();
    // resourceVersion "0" with NotOlderThan (kube sets it with sendInitialEvents): served
    // from the watch cache, as a list with resourceVersion=0 is.
    let stream = match api.watch(&params, "0").await {
        Ok(s) => s,
        Err(kube::Error::Api(s)) if s.code == 400 || s.code == 422 => return Ok(None),
        Err(e) => return Err(e),
    };
    let mut stream = std::pin::pin!(stream);
    let mut items = Vec::new();
    while let Some(event) = stream.try_next().await? {
        match event {
            WatchEvent::Added(obj) => items.push(obj),
            WatchEvent::Bookmark(b) if b.metadata.annotations.contains_key(INITIAL_EVENTS_END) => {
                return Ok(Some(items));
            }
            WatchEvent::Bookmark(_) => {}
            // The initial state is only ever Added events; anything else means the server
            // did not send one: read it again in pages.
            WatchEvent::Modified(_) | WatchEvent::Deleted(_) => return Ok(None),
            WatchEvent::Error(s) if s.code == 400 || s.code == 410 || s.code == 422 => {
                return Ok(None);
            }
            WatchEvent::Error(s) => return Err(kube::Error::Api(s)),
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::minor_at_least;

    #[test]
    fn only_servers_that_know_the_parameter_are_asked() {
        assert!(minor_at_least("1", "27", 27));
        assert!(minor_at_least("1", "32+", 27));
        assert!(!minor_at_least("1", "26", 27));
        assert!(!minor_at_least("1", "", 27));
        assert!(minor_at_least("2", "0", 27));
        assert!(!minor_at_least("", "30", 27));
    }
}
