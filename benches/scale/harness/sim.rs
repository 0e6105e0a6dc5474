//! The simulator the clients run against, in this process.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use color_eyre::Result;
use kubedrain::sim::Kind;
use kubedrain::sim::server::{SimOptions, Simulator};
use serde_json::Value;

use super::*;

pub(crate) struct Sim {
    pub(crate) rt: tokio::runtime::Runtime,
    pub(crate) sim: Option<Simulator>,
    pub(crate) kubeconfig: PathBuf,
}

impl Sim {
    pub(crate) fn start(cfg: &Config, dir: &Path) -> Result<(Sim, Duration)> {
        Sim::start_at(cfg, dir, 1.0)
    }

    /// [`Sim::start`] with simulated time running `speed` times faster than real time.
    pub(crate) fn start_at(cfg: &Config, dir: &Path, speed: f64) -> Result<(Sim, Duration)> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        let t = Instant::now();
        let sim = rt.block_on(Simulator::start(SimOptions {
            generated: Some((cfg.nodes, cfg.pods_per_node)),
            history: 500_000,
            request_log: 0,
            speed,
            ..SimOptions::default()
        }))?;
        // The controllers index the store in their own thread after the API answers, then
        // reconcile everything once (150,000 pods, 5,000 Leases); measuring before that pass
        // has ended would share CPU 0 with it. An operator drains a settled cluster.
        if !sim.wait_controllers_settled(Duration::from_secs(600)) {
            log(
                cfg,
                "warning: the simulator's controllers had not settled after 600 s",
            );
        }
        let took = t.elapsed();
        let kubeconfig = dir.join("kubeconfig");
        sim.write_kubeconfig(&kubeconfig)?;
        Ok((
            Sim {
                rt,
                sim: Some(sim),
                kubeconfig,
            },
            took,
        ))
    }

    pub(crate) fn sim(&self) -> &Simulator {
        self.sim.as_ref().unwrap()
    }

    pub(crate) fn kc(&self) -> &str {
        self.kubeconfig.to_str().unwrap()
    }

    /// A full paged list (limit 500) of pods, as JSON or as Table rows: seconds and bytes.
    pub(crate) fn paged_list(&self, table: bool) -> Result<(f64, usize)> {
        let sim = self.sim();
        let url = sim.url();
        self.rt.block_on(async {
            let client = reqwest_like::Client::new(&url);
            let t = Instant::now();
            let mut cont = String::new();
            let mut bytes = 0;
            loop {
                let mut path = "/api/v1/pods?limit=500".to_string();
                if !cont.is_empty() {
                    path.push_str("&continue=");
                    path.push_str(&cont);
                }
                let body = client.get(&path, table).await?;
                bytes += body.len();
                cont = continue_token(&body).unwrap_or_default();
                if cont.is_empty() {
                    break;
                }
            }
            Ok((t.elapsed().as_secs_f64(), bytes))
        })
    }

    /// Pods on a node, sorted by namespace and name.
    pub(crate) fn pods_on(&self, node: &str) -> Vec<(String, String)> {
        let (_, pods) = self.sim().store().list(Kind::Pod, None);
        pods.iter()
            .filter(|p| p["spec"]["nodeName"] == node)
            .map(|p| key_of(p))
            .collect()
    }

    pub(crate) fn all_pod_keys(&self) -> Vec<(String, String)> {
        let (_, pods) = self.sim().store().list(Kind::Pod, None);
        pods.iter().map(|p| key_of(p)).collect()
    }

    pub(crate) fn stop(mut self) {
        if let Some(sim) = self.sim.take() {
            // Waits for the controllers' thread to free its index, so the next run starts on
            // an idle CPU.
            self.rt.block_on(sim.stop_and_wait());
            drop(sim);
        }
    }
}

pub(crate) fn key_of(p: &Value) -> (String, String) {
    (
        p["metadata"]["namespace"]
            .as_str()
            .unwrap_or("")
            .to_string(),
        p["metadata"]["name"].as_str().unwrap_or("").to_string(),
    )
}

pub(crate) fn continue_token(body: &[u8]) -> Option<String> {
    // The metadata comes first in the simulator's lists; no need to parse the whole body.
    let head = &body[..body.len().min(4096)];
    let text = String::from_utf8_lossy(head);
    let i = text.find("\"continue\":\"")? + 12;
    let j = text[i..].find('"')?;
    Some(text[i..i + j].to_string())
}

/// A minimal HTTP/1.1 GET client on hyper (the simulator serves plain HTTP).
pub(crate) mod reqwest_like {
    use color_eyre::Result;
    use color_eyre::eyre::eyre;
    use http_body_util::{BodyExt, Empty};
    use hyper::body::Bytes;
    use hyper_util::client::legacy::Client as HClient;
    use hyper_util::client::legacy::connect::HttpConnector;
    use hyper_util::rt::TokioExecutor;

    pub struct Client {
        base: String,
        inner: HClient<HttpConnector, Empty<Bytes>>,
    }

    impl Client {
        pub fn new(base: &str) -> Client {
            Client {
                base: base.to_string(),
                inner: HClient::builder(TokioExecutor::new()).build_http(),
            }
        }

        pub async fn get(&self, path: &str, table: bool) -> Result<Vec<u8>> {
            let accept = if table {
                "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
            } else {
                "application/json"
            };
            let req = hyper::Request::get(format!("{}{path}", self.base))
                .header("accept", accept)
                .body(Empty::<Bytes>::new())?;
            let resp = self.inner.request(req).await?;
            if !resp.status().is_success() {
                return Err(eyre!("GET {path}: {}", resp.status()));
            }
            Ok(resp.into_body().collect().await?.to_bytes().to_vec())
        }
    }
}
