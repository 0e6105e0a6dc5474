//! A whole-collection read as one streaming list (KEP-3157 WatchList: a watch with
//! `sendInitialEvents=true` that ends its initial state with a marked bookmark). The server
//! writes the objects while the client decodes them, in one request instead of one page
//! after another; `None` tells the caller to list in pages instead.

use futures::{AsyncBufRead, AsyncBufReadExt};
use kube::api::{Api, WatchEvent, WatchParams};
use kube::core::Status;
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
/// errors are errors. `fast` may read an `ADDED` line faster than serde_json (see
/// [`PodLoad::from_added_line`](super::rows::PodLoad::from_added_line)); lines it gives
/// `None` for are decoded with serde_json.
pub async fn list_streaming<K>(
    api: &Api<K>,
    fast: fn(&[u8]) -> Option<K>,
) -> Result<Option<Vec<K>>, kube::Error>
where
    K: Resource + Clone + DeserializeOwned + std::fmt::Debug,
{
    let Some(body) = open(api).await? else {
        return Ok(None);
    };
    let mut body = std::pin::pin!(body);
    let mut line = Vec::with_capacity(64 << 10);
    let mut items = Vec::new();
    loop {
        line.clear();
        if body
            .read_until(b'\n', &mut line)
            .await
            .map_err(kube::Error::ReadEvents)?
            == 0
        {
            return Ok(None);
        }
        let event = match fast(&line) {
            Some(obj) => WatchEvent::Added(obj),
            None => match decode(&line) {
                Some(event) => event?,
                None => continue,
            },
        };
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
}

/// Opens the streaming list's watch: its body, or `None` when the server refuses it. The
/// body's lines are read here rather than through `Api::watch`, so that `fast` sees their
/// bytes.
async fn open<K>(api: &Api<K>) -> Result<Option<impl AsyncBufRead + use<K>>, kube::Error>
where
    K: Resource + Clone + DeserializeOwned + std::fmt::Debug,
{
    let params = WatchParams::streaming_lists();
    // resourceVersion "0" with NotOlderThan (kube sets it with sendInitialEvents): served
    // from the watch cache, as a list with resourceVersion=0 is.
    let mut request = kube::core::Request::new(api.resource_url())
        .watch(&params, "0")
        .map_err(kube::Error::BuildRequest)?;
    // As kube does for watches: servers from 1.37 gzip each event as its own member, which
    // the client's decompression does not read past the first.
    request.headers_mut().insert(
        http::header::ACCEPT_ENCODING,
        http::HeaderValue::from_static("identity"),
    );
    match api.clone().into_client().request_stream(request).await {
        Ok(body) => Ok(Some(body)),
        Err(kube::Error::Api(s)) if s.code == 400 || s.code == 422 => Ok(None),
        Err(e) => Err(e),
    }
}

/// One line decoded as kube decodes watch lines: `None` for an incomplete last line, a
/// `Status` line as an API error.
fn decode<K: DeserializeOwned>(line: &[u8]) -> Option<Result<WatchEvent<K>, kube::Error>> {
    match serde_json::from_slice::<WatchEvent<K>>(line) {
        Ok(event) => Some(Ok(event)),
        Err(e) if e.is_eof() => None,
        Err(e) => Some(Err(match serde_json::from_slice::<Status>(line) {
            Ok(status) => kube::Error::Api(Box::new(status)),
            Err(_) => kube::Error::SerdeError(e),
        })),
    }
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
