//! The kube client for drains: built from the one `Config` kubedrain loads
//! ([`crate::cluster::client::config_from_args`]), with no silent retries (kube-client's
//! default retry would hide a PDB's 429 behind ~15 retries).

use color_eyre::eyre::{Result, WrapErr, eyre};
use kube::{Client, Config};

use super::journal::Target;
use crate::cluster::client::ConnectArgs;

/// Loads the client config from `--kubeconfig`/`--context`, else `$KUBECONFIG`/`~/.kube/config`
/// (a `:`-separated list is merged like kubectl), else in-cluster; returns it with the context
/// name and server for the journal.
pub async fn load_config(args: &ConnectArgs) -> Result<(Config, Target)> {
    match crate::cluster::client::config_from_args(args).await {
        Ok((config, context)) => {
            let target = journal_target(&config, &context);
            Ok((config, target))
        }
        // Inside a pod with no kubeconfig: the service account, as kubectl does.
        Err(e)
            if args.kubeconfig.is_none()
                && std::env::var_os("KUBECONFIG").is_none()
                && kube::config::Kubeconfig::read().is_err() =>
        {
            match Config::incluster() {
                Ok(config) => {
                    let target = journal_target(&config, "in-cluster");
                    Ok((config, target))
                }
                Err(_) => Err(eyre!("{e}")),
            }
        }
        Err(e) => Err(eyre!("{e}")),
    }
}

/// The context and server the journal records for `config`.
pub fn journal_target(config: &Config, context: &str) -> Target {
    Target {
        context: context.to_string(),
        server: config.cluster_url.to_string(),
    }
}

/// A client that never retries on its own: 429s from evictions reach the drain engine at once.
pub fn client_without_retry(mut config: Config) -> Result<Client> {
    config.default_retry = false;
    crate::cluster::timeout::client(config).wrap_err("building the Kubernetes client")
}
