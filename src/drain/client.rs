//! Building the kube client for drains: kubeconfig/context from the CLI, and no silent
//! retries (kube-client's default retry would hide a PDB's 429 behind ~15 retries).

use color_eyre::eyre::{Result, WrapErr};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};

use super::journal::Target;
use crate::cli::KubeArgs;

/// Loads the client config from `--kubeconfig`/`--context`, else `$KUBECONFIG`/`~/.kube/config`,
/// else in-cluster; returns it with the context name and server for the journal.
pub async fn load_config(args: &KubeArgs) -> Result<(Config, Target)> {
    let opts = KubeConfigOptions {
        context: args.context.clone(),
        ..Default::default()
    };
    // A colon-separated $KUBECONFIG list is merged by `Kubeconfig::read`.
    let single = args
        .kubeconfig
        .as_ref()
        .filter(|p| !p.to_string_lossy().contains(':'));
    let kc = match single {
        Some(p) => Some(
            Kubeconfig::read_from(p)
                .wrap_err_with(|| format!("reading kubeconfig {}", p.display()))?,
        ),
        None => Kubeconfig::read().ok(),
    };
    let (config, context) = match kc {
        Some(kc) => {
            let context = args
                .context
                .clone()
                .or_else(|| kc.current_context.clone())
                .unwrap_or_default();
            let cfg = Config::from_custom_kubeconfig(kc, &opts)
                .await
                .wrap_err("loading kubeconfig")?;
            (cfg, context)
        }
        None => (
            Config::infer().await.wrap_err("no kubeconfig found")?,
            "in-cluster".to_string(),
        ),
    };
    let target = Target {
        context,
        server: config.cluster_url.to_string(),
    };
    Ok((config, target))
}

/// A client that never retries on its own: 429s from evictions reach the drain engine at once.
pub fn client_without_retry(mut config: Config) -> Result<Client> {
    config.default_retry = false;
    Client::try_from(config).wrap_err("building the Kubernetes client")
}
