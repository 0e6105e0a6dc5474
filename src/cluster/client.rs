//! Building a kube `Client` from kubeconfig and probing it before the screen switches, so
//! every connection problem is reported in plain words on a normal terminal.

use std::fmt;
use std::time::Duration;

use std::path::{Path, PathBuf};

use kube::config::{KubeConfigOptions, Kubeconfig, KubeconfigError};
use kube::{Client, Config};

/// A client that answered `/version`.
#[derive(Clone)]
pub struct Connection {
    /// The client every watcher shares.
    pub client: Client,
    /// The kubeconfig context in use (or a label such as `demo`).
    pub context: String,
    /// The API server URL.
    pub server: String,
    /// The API server's `gitVersion`.
    pub version: String,
    /// Whether the server can be asked for streaming lists (its version is 1.27 or later).
    pub streams_lists: bool,
}

/// Why kubedrain could not connect; `Display` is the sentence shown to the user.
#[derive(Debug)]
pub struct ConnectError(pub String);

impl fmt::Display for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConnectError {}

/// How long the `/version` probe may take before the server counts as unreachable.
const PROBE_TIMEOUT: Duration = Duration::from_secs(8);

/// The kubeconfig as kubectl reads it: the files of `--kubeconfig` if given, else those of
/// `$KUBECONFIG`, else `~/.kube/config`. A `:`-separated list is merged as kubectl merges
/// `$KUBECONFIG` (the first file to set a value or a named entry wins; kube's
/// `Kubeconfig::merge`), so a context in one file may use a cluster and user from another.
pub fn read_kubeconfig(path: Option<&Path>) -> Result<Kubeconfig, KubeconfigError> {
    let Some(list) = path else {
        // kube's `read` merges a `$KUBECONFIG` list the same way.
        return Kubeconfig::read();
    };
    let files: Vec<PathBuf> = std::env::split_paths(list)
        .filter(|p| !p.as_os_str().is_empty())
        .collect();
    files.iter().try_fold(Kubeconfig::default(), |merged, p| {
        Kubeconfig::read_from(p).and_then(|next| merged.merge(next))
    })
}

/// Where to connect and how long a request may take (from the command line's global flags).
#[derive(Debug, Clone)]
pub struct ConnectArgs {
    /// `--kubeconfig` (a `:`-separated list), else `$KUBECONFIG`, else `~/.kube/config`.
    pub kubeconfig: Option<PathBuf>,
    /// `--context`, else the kubeconfig's current context.
    pub context: Option<String>,
    /// How long one request may take (`None`: no limit).
    pub request_timeout: Option<Duration>,
}

/// Reads the kubeconfig and picks the context: the one `Config` both clients are built
/// from (the watchers' with kube's retries, the drain's without; no network yet).
pub async fn config_from_args(args: &ConnectArgs) -> Result<(Config, String), ConnectError> {
    let kubeconfig = read_kubeconfig(args.kubeconfig.as_deref()).map_err(|e| {
        let path = args
            .kubeconfig
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "~/.kube/config".into());
        // The YAML parser's message ends with a drawing of the spot: its first line says it.
        let e = e.to_string();
        let e = e.lines().next().unwrap_or_default();
        ConnectError(format!(
            "cannot read kubeconfig {path}: {e}\n  (use --kubeconfig FILE, or `kubedrain demo` to try the built-in simulated cluster)"
        ))
    })?;
    let context = match &args.context {
        Some(c) => {
            if !kubeconfig.contexts.iter().any(|n| &n.name == c) {
                let known: Vec<&str> = kubeconfig
                    .contexts
                    .iter()
                    .map(|n| n.name.as_str())
                    .collect();
                return Err(ConnectError(format!(
                    "context \"{c}\" is not in the kubeconfig (known contexts: {})",
                    if known.is_empty() {
                        "none".to_string()
                    } else {
                        known.join(", ")
                    }
                )));
            }
            c.clone()
        }
        None => kubeconfig.current_context.clone().ok_or_else(|| {
            ConnectError("the kubeconfig has no current context; pass --context NAME".to_string())
        })?,
    };
    let opts = KubeConfigOptions {
        context: Some(context.clone()),
        ..Default::default()
    };
    let mut config = Config::from_custom_kubeconfig(kubeconfig, &opts)
        .await
        .map_err(|e| ConnectError(format!("kubeconfig context \"{context}\" is unusable: {e}")))?;
    config.connect_timeout = Some(Duration::from_secs(5));
    super::timeout::set(&mut config, args.request_timeout);
    Ok((config, context))
}

/// Builds a client for `config` and checks the server answers `/version`.
pub async fn probe(config: Config, context: String) -> Result<Connection, ConnectError> {
    let server = config.cluster_url.to_string();
    let server = server.trim_end_matches('/').to_string();
    // Within the request timeout if it is shorter. Even with `--request-timeout 0` the first
    // probe gives up after PROBE_TIMEOUT: a server that never answers /version is not there.
    let within = config
        .read_timeout
        .map_or(PROBE_TIMEOUT, |t| t.min(PROBE_TIMEOUT));
    let client = super::timeout::client(config)
        .map_err(|e| ConnectError(format!("cannot build a client for {server}: {e}")))?;
    let answer = tokio::time::timeout(within, client.apiserver_version()).await;
    let timed_out = |after: Duration| {
        ConnectError(format!(
            "the API server at {server} did not answer within {} (context \"{context}\")",
            crate::drain::options::format_go_duration(after)
        ))
    };
    let info = match answer {
        Err(_) => return Err(timed_out(within)),
        Ok(Err(kube::Error::Service(e))) if e.is::<super::timeout::TimedOut>() => {
            return Err(timed_out(within));
        }
        Ok(Err(e)) => return Err(ConnectError(explain(&e, &server, &context))),
        Ok(Ok(info)) => info,
    };
    Ok(Connection {
        client,
        context,
        server,
        streams_lists: super::stream_list::version_streams(&info),
        version: info.git_version,
    })
}

/// The uid of the cluster's kube-system namespace: which cluster answers behind the URL
/// (every cluster has it, and a uid is never reused). A server restored from another
/// cluster's backup or swapped behind a load balancer has another one.
pub async fn cluster_uid(client: &Client) -> Result<String, kube::Error> {
    let api = kube::Api::<k8s_openapi::api::core::v1::Namespace>::all(client.clone());
    let ns = api.get("kube-system").await?;
    Ok(ns.metadata.uid.unwrap_or_default())
}

/// Turns a kube error into a sentence an operator can act on.
fn explain(e: &kube::Error, server: &str, context: &str) -> String {
    match e {
        kube::Error::Api(s) if s.code == 401 => format!(
            "the API server at {server} rejected the credentials of context \"{context}\" (401 Unauthorized): log in again or refresh the token"
        ),
        kube::Error::Api(s) if s.code == 403 => format!(
            "the credentials of context \"{context}\" are not allowed to read the API server at {server} (403 Forbidden): {}",
            s.message
        ),
        kube::Error::Api(s) => format!(
            "the API server at {server} answered {} {}: {}",
            s.code, s.reason, s.message
        ),
        other => {
            // Walk the source chain: "connection refused" sits a few levels down.
            let mut cause = other.to_string();
            let mut src = std::error::Error::source(other);
            while let Some(s) = src {
                cause = s.to_string();
                src = s.source();
            }
            format!("cannot reach the API server at {server} (context \"{context}\"): {cause}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kubeconfig_list_is_merged_first_file_wins() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a");
        let b = dir.path().join("b");
        std::fs::write(
            &a,
            "current-context: one\ncontexts:\n- name: one\n  context: {cluster: c1, user: u1}\n",
        )
        .unwrap();
        std::fs::write(
            &b,
            "current-context: two\ncontexts:\n- name: one\n  context: {cluster: ignored, user: ignored}\n- name: two\n  context: {cluster: c1, user: u1}\nclusters:\n- name: c1\n  cluster: {server: 'https://127.0.0.1:1'}\nusers:\n- name: u1\n  user: {token: t}\n",
        )
        .unwrap();
        let list = std::env::join_paths([&a, &b]).unwrap();
        let kc = read_kubeconfig(Some(Path::new(&list))).unwrap();
        assert_eq!(kc.current_context.as_deref(), Some("one"));
        let one = kc.contexts.iter().find(|c| c.name == "one").unwrap();
        assert_eq!(one.context.as_ref().unwrap().cluster, "c1");
        assert_eq!(kc.contexts.len(), 2);
        assert_eq!(kc.clusters[0].name, "c1");
        assert_eq!(kc.auth_infos[0].name, "u1");
        // One file alone is read as it is.
        let alone = read_kubeconfig(Some(&b)).unwrap();
        assert_eq!(alone.current_context.as_deref(), Some("two"));
    }
}
