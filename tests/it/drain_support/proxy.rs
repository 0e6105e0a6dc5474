//! A TCP proxy between kubedrain and a simulator, for faults the switchboard cannot make: a
//! server swapped behind the same URL (every open connection cut, new ones go elsewhere).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::net::{TcpListener, TcpStream};
use tokio::task::{AbortHandle, JoinHandle};

/// The proxy: listens on loopback, forwards each connection to the current backend.
pub struct Proxy {
    addr: SocketAddr,
    backend: Arc<Mutex<SocketAddr>>,
    conns: Arc<Mutex<Vec<AbortHandle>>>,
    accept: JoinHandle<()>,
}

/// The `host:port` of a simulator's `http://host:port` URL.
pub fn addr_of(url: &str) -> SocketAddr {
    url.trim_start_matches("http://")
        .parse()
        .expect("a loopback URL")
}

impl Proxy {
    /// Starts forwarding to `backend`.
    pub async fn start(backend: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let backend = Arc::new(Mutex::new(backend));
        let conns: Arc<Mutex<Vec<AbortHandle>>> = Arc::default();
        let (b, c) = (backend.clone(), conns.clone());
        let accept = tokio::spawn(async move {
            while let Ok((mut down, _)) = listener.accept().await {
                let to = *b.lock().unwrap();
                let task = tokio::spawn(async move {
                    if let Ok(mut up) = TcpStream::connect(to).await {
                        let _ = tokio::io::copy_bidirectional(&mut down, &mut up).await;
                    }
                });
                c.lock().unwrap().push(task.abort_handle());
            }
        });
        Proxy {
            addr,
            backend,
            conns,
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
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept.abort();
        for c in self.conns.lock().unwrap().drain(..) {
            c.abort();
        }
    }
}
