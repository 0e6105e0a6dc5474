//! A TCP proxy between kubedrain and a simulator, for faults the switchboard cannot make: a
//! server swapped behind the same URL (every open connection cut, new ones go elsewhere),
//! half-open connections (the socket stays open, no byte passes) and a frozen server
//! (connections accepted, nothing answered, as under SIGSTOP).

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::{AbortHandle, JoinHandle};

/// What may pass: the `dead` connections never pass a byte again; while `frozen`, no
/// connection does.
#[derive(Debug, Clone, Default)]
struct Gate {
    dead: BTreeSet<u64>,
    frozen: bool,
}

/// One connection: its number, and whether its latest request is a watch.
type Conn = (u64, Arc<AtomicBool>);

/// The proxy: listens on loopback, forwards each connection to the current backend.
pub struct Proxy {
    addr: SocketAddr,
    backend: Arc<Mutex<SocketAddr>>,
    conns: Arc<Mutex<Vec<AbortHandle>>>,
    gate: watch::Sender<Gate>,
    opened: Arc<Mutex<Vec<Conn>>>,
    accept: JoinHandle<()>,
}

/// The `host:port` of a simulator's `http://host:port` URL.
pub fn addr_of(url: &str) -> SocketAddr {
    url.trim_start_matches("http://")
        .parse()
        .expect("a loopback URL")
}

/// Copies `from` to `to` while the gate lets connection `id` pass; a dead connection keeps
/// both sockets open and forwards nothing. On the client's side, `watching` follows whether
/// the latest request line asks for a watch.
async fn pump<R, W>(
    mut from: R,
    mut to: W,
    id: u64,
    mut gate: watch::Receiver<Gate>,
    watching: Option<Arc<AtomicBool>>,
) where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => {
                let _ = to.shutdown().await;
                return;
            }
            Ok(n) => n,
        };
        if let Some(w) = &watching
            && let Some(line) = request_line(&buf[..n])
        {
            w.store(
                line.contains("watch=true") || line.contains("watch=1"),
                Ordering::SeqCst,
            );
        }
        if gate
            .wait_for(|g| !g.frozen && !g.dead.contains(&id))
            .await
            .is_err()
        {
            return;
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}

/// The request line a chunk starts with, if it starts a request.
fn request_line(chunk: &[u8]) -> Option<String> {
    let methods: [&[u8]; 5] = [b"GET ", b"POST ", b"PUT ", b"PATCH ", b"DELETE "];
    if !methods.iter().any(|m| chunk.starts_with(m)) {
        return None;
    }
    let end = chunk
        .windows(2)
        .position(|w| w == b"\r\n")
        .unwrap_or(chunk.len());
    Some(String::from_utf8_lossy(&chunk[..end]).into_owned())
}

impl Proxy {
    /// Starts forwarding to `backend`.
    pub async fn start(backend: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let backend = Arc::new(Mutex::new(backend));
        let conns: Arc<Mutex<Vec<AbortHandle>>> = Arc::default();
        let gate = watch::Sender::new(Gate::default());
        let opened: Arc<Mutex<Vec<Conn>>> = Arc::default();
        let (b, c, g, o) = (backend.clone(), conns.clone(), gate.clone(), opened.clone());
        let ids = AtomicU64::new(0);
        let accept = tokio::spawn(async move {
            while let Ok((down, _)) = listener.accept().await {
                let to = *b.lock().unwrap();
                let id = ids.fetch_add(1, Ordering::SeqCst);
                let watching = Arc::new(AtomicBool::new(false));
                o.lock().unwrap().push((id, watching.clone()));
                let gate = g.subscribe();
                let task = tokio::spawn(async move {
                    let Ok(up) = TcpStream::connect(to).await else {
                        return;
                    };
                    let (dr, dw) = down.into_split();
                    let (ur, uw) = up.into_split();
                    tokio::join!(
                        pump(dr, uw, id, gate.clone(), Some(watching)),
                        pump(ur, dw, id, gate, None)
                    );
                });
                c.lock().unwrap().push(task.abort_handle());
            }
        });
        Proxy {
            addr,
            backend,
            conns,
            gate,
            opened,
            accept,
        }
    }

    /// The URL clients use.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// From now on connections go to `backend`; every open one is cut (as a server restart does).
    pub fn swap(&self, backend: SocketAddr) {
        *self.backend.lock().unwrap() = backend;
        for c in self.conns.lock().unwrap().drain(..) {
            c.abort();
        }
    }

    /// Every open connection goes half-open: its sockets stay open and no byte passes either
    /// way, ever again (a connection a load balancer forgot). New connections work.
    pub fn half_open(&self) {
        let all: Vec<u64> = self.opened.lock().unwrap().iter().map(|c| c.0).collect();
        self.gate.send_modify(|g| g.dead.extend(all));
    }

    /// The open connections that carry a watch go half-open (the other ones, pooled for
    /// the next request, keep working); returns how many.
    pub fn half_open_watches(&self) -> usize {
        let watches: Vec<u64> = self
            .opened
            .lock()
            .unwrap()
            .iter()
            .filter(|c| c.1.load(Ordering::SeqCst))
            .map(|c| c.0)
            .collect();
        let n = watches.len();
        self.gate.send_modify(|g| g.dead.extend(watches));
        n
    }

    /// Connections are accepted and kept, but nothing passes until [`Proxy::thaw`] (a server
    /// under SIGSTOP; a proxy frozen from the start is a blackhole).
    pub fn freeze(&self) {
        self.gate.send_modify(|g| g.frozen = true);
    }

    /// Bytes pass again (those of half-open connections still do not).
    pub fn thaw(&self) {
        self.gate.send_modify(|g| g.frozen = false);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept.abort();
        for c in self.conns.lock().unwrap().drain(..) {
            c.abort();
        }
    }
}
