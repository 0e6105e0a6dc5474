//! `--request-timeout`: a deadline on every API call but watches. kube's own `read_timeout`
//! would apply to the socket, so a watch quiet between two bookmarks would be cut; here the
//! deadline covers one request (its answer and its whole body), and watches (`watch=true`),
//! long by design, are left to the bookmark-based idle timeout (`liveness.rs`).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body::{Body as HttpBody, Frame};
use kube::client::{Body, ClientBuilder, DynBody};
use kube::{Client, Config};
use tokio::time::{Instant, Sleep};
use tower::{BoxError, Layer, Service};

/// Per-call timeout when `--request-timeout` is not given. kubectl's default is none (only a
/// 30 s connect timeout), so a server that accepts connections and never answers hangs
/// kubectl; a maintenance tool must fail instead. 30 s is longer than any single call of a
/// drain takes on a loaded apiserver (a 500-item list page, an eviction) and short enough
/// for an operator to act on.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// A `--request-timeout` that is not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeoutError {
    /// A number of seconds past Go's longest duration.
    #[error("invalid timeout {0:?}: at most 2562047h")]
    TooLong(String),
    /// Neither seconds nor a Go duration.
    #[error(
        "invalid timeout {0:?}: a whole number of seconds, or a number with a unit (e.g. 1s, 2m, 3h); 0 for none"
    )]
    Invalid(String),
}

/// Parses `--request-timeout` as kubectl does: an integer is seconds, else a Go duration
/// (`30s`, `1m`, `1h30m`); `0` means no timeout.
pub fn parse(s: &str) -> Result<Duration, TimeoutError> {
    let s = s.trim();
    if let Ok(secs) = s.parse::<u64>() {
        return crate::drain::options::parse_go_duration(&format!("{secs}s"))
            .ok_or_else(|| TimeoutError::TooLong(s.to_string()));
    }
    crate::drain::options::parse_go_duration(s).ok_or_else(|| TimeoutError::Invalid(s.to_string()))
}

/// The request timeout kubedrain applies to `config`'s calls. It travels in kube's
/// `read_timeout` field between `config_from_args` and [`client`], which moves it out of the
/// connector (where it would cut watches) into [`RequestTimeout`].
pub fn set(config: &mut Config, timeout: Option<Duration>) {
    config.read_timeout = timeout.filter(|t| !t.is_zero());
}

/// The client for `config`: kube's stack plus the per-call deadline `set` put in it.
pub fn client(mut config: Config) -> Result<Client, kube::Error> {
    let timeout = config.read_timeout.take();
    let builder = ClientBuilder::try_from(config)?;
    Ok(builder.with_layer(&RequestTimeout { timeout }).build())
}

/// A call that did not finish within the request timeout.
#[derive(Debug)]
pub struct TimedOut {
    /// The timeout.
    pub after: Duration,
    /// The request (method and path).
    pub what: String,
}

impl fmt::Display for TimedOut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the API server did not answer {} within {} (--request-timeout)",
            self.what,
            crate::drain::options::format_go_duration(self.after)
        )
    }
}

impl std::error::Error for TimedOut {}

/// The layer: a deadline on each request that is not a watch.
#[derive(Debug, Clone, Copy)]
pub struct RequestTimeout {
    timeout: Option<Duration>,
}

impl<S> Layer<S> for RequestTimeout {
    type Service = Timed<S>;
    fn layer(&self, inner: S) -> Timed<S> {
        Timed {
            inner,
            timeout: self.timeout,
        }
    }
}

/// The service the layer wraps around kube's stack.
#[derive(Debug, Clone)]
pub struct Timed<S> {
    inner: S,
    timeout: Option<Duration>,
}

/// Whether the request is a watch (`watch=true` or `watch=1` in the query).
fn is_watch<B>(req: &Request<B>) -> bool {
    req.uri()
        .query()
        .is_some_and(|q| q.split('&').any(|p| p == "watch=true" || p == "watch=1"))
}

type BoxFut<T> = Pin<Box<dyn Future<Output = Result<T, BoxError>> + Send>>;

impl<S> Service<Request<Body>> for Timed<S>
where
    S: Service<Request<Body>, Response = Response<Box<DynBody>>, Error = BoxError>,
    S::Future: Send + 'static,
{
    type Response = Response<TimedBody>;
    type Error = BoxError;
    type Future = BoxFut<Response<TimedBody>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        let limit = self.timeout.filter(|_| !is_watch(&req));
        let what = format!("{} {}", req.method(), req.uri().path());
        let fut = self.inner.call(req);
        Box::pin(async move {
            let Some(after) = limit else {
                return fut.await.map(|r| r.map(|b| TimedBody::new(b, None)));
            };
            let deadline = Instant::now() + after;
            match tokio::time::timeout_at(deadline, fut).await {
                Ok(r) => r.map(|r| {
                    r.map(|b| {
                        TimedBody::new(
                            b,
                            Some((
                                Box::pin(tokio::time::sleep_until(deadline)),
                                TimedOut { after, what },
                            )),
                        )
                    })
                }),
                Err(_) => Err(Box::new(TimedOut { after, what }) as BoxError),
            }
        })
    }
}

/// A response body that fails once the request's deadline passes (a server that sends the
/// headers of a list and then stalls).
pub struct TimedBody {
    inner: Box<DynBody>,
    deadline: Option<(Pin<Box<Sleep>>, TimedOut)>,
}

impl TimedBody {
    fn new(inner: Box<DynBody>, deadline: Option<(Pin<Box<Sleep>>, TimedOut)>) -> TimedBody {
        TimedBody { inner, deadline }
    }
}

impl HttpBody for TimedBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        if let Poll::Ready(frame) = Pin::new(&mut self.inner).poll_frame(cx) {
            return Poll::Ready(frame);
        }
        if let Some((sleep, why)) = &mut self.deadline
            && sleep.as_mut().poll(cx).is_ready()
        {
            let err = TimedOut {
                after: why.after,
                what: why.what.clone(),
            };
            self.deadline = None;
            return Poll::Ready(Some(Err(Box::new(err))));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_like_kubectl() {
        assert_eq!(parse("0"), Ok(Duration::ZERO));
        assert_eq!(parse("5"), Ok(Duration::from_secs(5)));
        assert_eq!(parse("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse("1m"), Ok(Duration::from_secs(60)));
        assert_eq!(parse("1h30m"), Ok(Duration::from_secs(5400)));
        assert!(parse("-1s").is_err());
        assert!(
            parse("soon")
                .unwrap_err()
                .to_string()
                .contains("e.g. 1s, 2m, 3h")
        );
        assert!(parse("99999999999999").is_err(), "beyond Go's range");
    }

    #[test]
    fn watches_are_told_apart_by_their_query() {
        let req = |uri: &str| Request::get(uri).body(()).unwrap();
        assert!(is_watch(&req("/api/v1/pods?watch=true&resourceVersion=5")));
        assert!(is_watch(&req("/api/v1/pods?resourceVersion=5&watch=1")));
        assert!(!is_watch(&req("/api/v1/pods?limit=250")));
        assert!(!is_watch(&req("/api/v1/namespaces/a/pods/watcher")));
    }
}
