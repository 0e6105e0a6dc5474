//! LIST pages read into one buffer that the whole listing reuses. kube's `Api::list` collects
//! each body, copies it into a fresh `String` (checking all of it as UTF-8), then decodes:
//! at 150,000 pods that is ~930 MB copied twice more and ~300 large buffers allocated and
//! freed, which the profile of a sync showed as `memcpy` and page faults. Here each body is
//! copied once, from the connection's chunks into the buffer, and decoded from the bytes
//! (serde_json checks the UTF-8 of every string it keeps).

use futures::AsyncBufReadExt;
use kube::api::{Api, ListParams, ObjectList};
use kube::{Resource, core::Request};
use serde::de::DeserializeOwned;

/// Reads the pages of one listing; its buffer keeps the largest page's size between pages.
#[derive(Debug, Default)]
pub struct Pager {
    body: Vec<u8>,
}

impl Pager {
    /// A pager with an empty buffer.
    pub fn new() -> Pager {
        Pager::default()
    }

    /// One page of `api`'s collection, as `Api::list` would return it: the same request, an
    /// API error for an error status, a decoding error for a body that is not the list.
    pub async fn list<K>(&mut self, api: &Api<K>, lp: &ListParams) -> kube::Result<ObjectList<K>>
    where
        K: Resource + Clone + DeserializeOwned,
    {
        let mut request = Request::new(api.resource_url())
            .list(lp)
            .map_err(kube::Error::BuildRequest)?;
        // What kube marks its own list requests with (its tracing names the span by it).
        request.extensions_mut().insert("list");
        let body = api.clone().into_client().request_stream(request).await?;
        self.read(body).await?;
        serde_json::from_slice(&self.body).map_err(kube::Error::SerdeError)
    }

    /// The whole body into the buffer, chunk by chunk (no zero-filling of spare capacity, as
    /// `read_to_end` does).
    async fn read(&mut self, body: impl futures::AsyncBufRead) -> kube::Result<()> {
        let mut body = std::pin::pin!(body);
        self.body.clear();
        loop {
            let chunk = body.fill_buf().await.map_err(kube::Error::ReadEvents)?;
            if chunk.is_empty() {
                return Ok(());
            }
            let n = chunk.len();
            self.body.extend_from_slice(chunk);
            body.consume_unpin(n);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Pager;

    /// A body that arrives in uneven chunks is read whole, and a second, shorter body
    /// replaces the first rather than being appended to it.
    #[tokio::test]
    async fn bodies_are_read_whole_and_replace_the_last() {
        let chunks: Vec<std::io::Result<Vec<u8>>> = vec![
            Ok(b"{\"a\":".to_vec()),
            Ok(b"[1,".to_vec()),
            Ok(b"2]}".to_vec()),
        ];
        let body = futures::TryStreamExt::into_async_read(futures::stream::iter(chunks));
        let mut pager = Pager::new();
        pager.read(body).await.unwrap();
        assert_eq!(pager.body, b"{\"a\":[1,2]}");
        let short: Vec<std::io::Result<Vec<u8>>> = vec![Ok(b"{}".to_vec())];
        pager
            .read(futures::TryStreamExt::into_async_read(
                futures::stream::iter(short),
            ))
            .await
            .unwrap();
        assert_eq!(pager.body, b"{}");
    }

    /// A connection that fails mid-body is an error, not a short page.
    #[tokio::test]
    async fn a_failed_body_is_an_error() {
        let chunks: Vec<std::io::Result<Vec<u8>>> = vec![
            Ok(b"{\"items\":[".to_vec()),
            Err(std::io::Error::other("connection reset")),
        ];
        let body = futures::TryStreamExt::into_async_read(futures::stream::iter(chunks));
        let err = Pager::new().read(body).await.unwrap_err();
        assert!(err.to_string().contains("connection reset"), "{err}");
    }
}
