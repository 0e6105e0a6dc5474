//! Shared test helpers: a raw HTTP client and object builders for the simulator's API
//! tests, the binary in a PTY (`pty`), recorded as an asciicast (`cast`) and drawn as SVG
//! (`svg`), and screens rendered to text (`screen`).
#![allow(dead_code)]

pub mod cast;
pub mod clock;
pub mod pty;
pub mod screen;
pub mod svg;

use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use kubedrain::sim::server::EMPTY_SCENARIO;
use kubedrain::sim::{Kind, SimOptions, Simulator};
use serde_json::{Value, json};

pub const TABLE_ACCEPT: &str = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";

/// A raw HTTP client for one simulator.
pub struct Http {
    client: Client<HttpConnector, Full<Bytes>>,
    base: String,
}

/// A response: code, Content-Type and the body as JSON (Null when not JSON).
#[derive(Debug)]
pub struct Resp {
    pub code: u16,
    pub content_type: String,
    pub headers: http::HeaderMap,
    pub body: Value,
}

impl Http {
    pub fn new(sim: &Simulator) -> Self {
        Self {
            client: Client::builder(TokioExecutor::new()).build_http(),
            base: sim.url(),
        }
    }

    pub async fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> Resp {
        let resp = self.raw(method, path, headers, body).await;
        let code = resp.status().as_u16();
        let content_type = resp
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        let headers = resp.headers().clone();
        let bytes = tokio::time::timeout(Duration::from_secs(10), resp.into_body().collect())
            .await
            .expect("body within 10s")
            .unwrap()
            .to_bytes();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Resp {
            code,
            content_type,
            headers,
            body,
        }
    }

    pub async fn raw(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> hyper::Response<Incoming> {
        let mut b = hyper::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base));
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        let req = b
            .body(Full::new(Bytes::from(body.unwrap_or("").to_string())))
            .unwrap();
        tokio::time::timeout(Duration::from_secs(10), self.client.request(req))
            .await
            .expect("response within 10s")
            .unwrap()
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.send("GET", path, &[], None).await
    }

    pub async fn get_table(&self, path: &str) -> Resp {
        self.send("GET", path, &[("accept", TABLE_ACCEPT)], None)
            .await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Resp {
        self.send(
            "POST",
            path,
            &[("content-type", "application/json")],
            Some(&body.to_string()),
        )
        .await
    }

    pub async fn patch(&self, path: &str, ct: &str, body: &str) -> Resp {
        self.send("PATCH", path, &[("content-type", ct)], Some(body))
            .await
    }

    /// Opens a watch and returns a reader of its events.
    pub async fn watch(&self, path: &str) -> WatchReader {
        let resp = self.raw("GET", path, &[], None).await;
        assert_eq!(resp.status().as_u16(), 200, "watch {path}");
        WatchReader {
            body: resp.into_body(),
            buf: Vec::new(),
        }
    }
}

/// Reads newline-delimited watch events.
pub struct WatchReader {
    body: Incoming,
    buf: Vec<u8>,
}

impl WatchReader {
    /// The next event, or None when the stream ended; panics after `within`.
    pub async fn next_within(&mut self, within: Duration) -> Option<Value> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            if let Some(i) = self.buf.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = self.buf.drain(..=i).collect();
                return Some(serde_json::from_slice(&line).expect("watch event is JSON"));
            }
            let frame = tokio::time::timeout_at(deadline, self.body.frame())
                .await
                .expect("watch event in time");
            match frame {
                None => return None,
                Some(f) => {
                    if let Ok(data) = f.unwrap().into_data() {
                        self.buf.extend_from_slice(&data);
                    }
                }
            }
        }
    }

    pub async fn next(&mut self) -> Option<Value> {
        self.next_within(Duration::from_secs(10)).await
    }

    /// The next event that is not a BOOKMARK.
    pub async fn next_change(&mut self) -> Option<Value> {
        loop {
            let e = self.next().await?;
            if e["type"] != "BOOKMARK" {
                return Some(e);
            }
        }
    }
}

/// A static simulator: empty cluster, no controllers, short bookmarks.
pub async fn static_sim() -> Simulator {
    Simulator::start(SimOptions {
        scenario: EMPTY_SCENARIO.into(),
        controllers: false,
        bookmark_interval: Duration::from_millis(300),
        ..SimOptions::default()
    })
    .await
    .expect("simulator starts")
}

pub fn node(name: &str, ready: bool, roles: &[&str], version: &str) -> Value {
    let mut labels = json!({"kubernetes.io/hostname": name});
    for r in roles {
        labels[format!("node-role.kubernetes.io/{r}")] = json!("");
    }
    json!({
        "metadata": {"name": name, "labels": labels, "creationTimestamp": "2020-01-01T00:00:00Z"},
        "spec": {},
        "status": {
            "conditions": [{"type": "Ready", "status": if ready { "True" } else { "False" }}],
            "addresses": [{"type": "InternalIP", "address": "192.168.1.10"}],
            "nodeInfo": {"kubeletVersion": version, "osImage": "Ubuntu 22.04.1 LTS", "kernelVersion": "5.15.0", "containerRuntimeVersion": "containerd://1.6.8"},
        },
    })
}

/// A Running, Ready pod of `app` on `node` (or Pending when `node` is empty).
pub fn pod(ns: &str, name: &str, app: &str, node: &str) -> Value {
    let running = !node.is_empty();
    let mut p = json!({
        "metadata": {"name": name, "namespace": ns, "labels": {"app": app}},
        "spec": {"containers": [{"name": "c", "image": "nginx"}], "terminationGracePeriodSeconds": 30},
        "status": {"phase": if running { "Running" } else { "Pending" }},
    });
    if running {
        p["spec"]["nodeName"] = json!(node);
        p["status"]["podIP"] = json!("10.0.0.1");
        p["status"]["podIPs"] = json!([{"ip": "10.0.0.1"}]);
        p["status"]["conditions"] = json!([{"type": "Ready", "status": "True"}]);
        p["status"]["containerStatuses"] = json!([{"name": "c", "ready": true, "restartCount": 0, "state": {"running": {"startedAt": "2020-01-01T00:00:00Z"}}}]);
    }
    p
}

/// A PDB selecting `app` with the given status.
pub fn pdb(ns: &str, name: &str, app: &str, allowed: i64) -> Value {
    json!({
        "metadata": {"name": name, "namespace": ns},
        "spec": {"minAvailable": 2, "selector": {"matchLabels": {"app": app}}},
        "status": {"observedGeneration": 1, "disruptionsAllowed": allowed, "desiredHealthy": 2, "currentHealthy": 2 + allowed, "expectedPods": 3},
    })
}

pub fn put(sim: &Simulator, kind: Kind, obj: Value) {
    sim.store().create(kind, obj).expect("create in store");
}

/// Makes the simulator's API server this version: a kube-apiserver static pod with its image
/// (the newest such pod's version is served, so `version` must be newer than the cluster's).
pub fn apiserver_at(sim: &Simulator, version: &str) {
    let name = format!("kube-apiserver-{}", version.replace('.', "-"));
    let p = json!({
        "metadata": {"name": name, "namespace": "kube-system",
                     "labels": {"component": "kube-apiserver"}},
        "spec": {"containers": [{"name": "kube-apiserver",
                                 "image": format!("registry.k8s.io/kube-apiserver:{version}")}]},
        "status": {"phase": "Pending"},
    });
    put(sim, Kind::Pod, p);
}

/// Asserts a `Status` failure with this code and reason.
pub fn assert_status(r: &Resp, code: u16, reason: &str) {
    assert_eq!(r.code, code, "{r:?}");
    assert_eq!(r.body["kind"], "Status", "{r:?}");
    assert_eq!(r.body["apiVersion"], "v1");
    assert_eq!(r.body["status"], "Failure");
    assert_eq!(r.body["code"], code);
    assert_eq!(r.body["reason"], reason, "{r:?}");
    assert!(r.content_type.starts_with("application/json"));
}
