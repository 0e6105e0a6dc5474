//! Which nodes a command names or selects, and `cordon`/`uncordon` of each.

use kube::Client;
use kube::api::{Api, ListParams};

use super::{api_text, fail_op, node_name, ok};
use crate::cluster::rows::NodeRow;
use crate::drain::journal::Journal;
use crate::drain::node_ops;
use crate::drain::selector::{PodSelector, SelectorError};

/// Why a command's node arguments name no nodes to act on (printed as it is).
#[derive(Debug, thiserror::Error)]
pub(super) enum ResolveError {
    #[error(
        "error: cannot specify both a node name and a --selector option\nSee 'kubedrain {verb} -h' for help and examples"
    )]
    NamesAndSelector { verb: &'static str },
    #[error("error: USAGE: {verb} NODE [flags]\nSee 'kubedrain {verb} -h' for help and examples")]
    Usage { verb: &'static str },
    #[error("error: invalid --selector {selector:?}: {why}")]
    Selector {
        selector: String,
        why: SelectorError,
    },
    #[error("Error from server (NotFound): nodes \"{0}\" not found")]
    NotFound(String),
    #[error("error: {}", api_text(.0))]
    Api(kube::Error),
}

/// `drain`'s node arguments resolved as kubectl does: names (each must exist; `node/NAME`
/// is accepted) or a label selector, never both. `Err`: what to print; nothing was changed.
pub(super) async fn resolve_nodes(
    client: &Client,
    verb: &'static str,
    names: &[String],
    selector: Option<&str>,
) -> Result<Vec<String>, ResolveError> {
    let api: Api<NodeRow> = Api::all(client.clone());
    match (names, selector) {
        ([_, ..], Some(_)) => Err(ResolveError::NamesAndSelector { verb }),
        ([], None) => Err(ResolveError::Usage { verb }),
        ([], Some(sel)) => {
            // Checked here, before any request (kubectl parses it client-side too).
            PodSelector::parse(sel).map_err(|why| ResolveError::Selector {
                selector: sel.to_string(),
                why,
            })?;
            let list = api
                .list(&ListParams::default().labels(sel))
                .await
                .map_err(ResolveError::Api)?;
            let mut found: Vec<String> = list.items.iter().map(|n| n.name().to_string()).collect();
            found.sort();
            Ok(found)
        }
        // One node: the drain itself GETs it (and says "not found" as kubectl does); one
        // request saved.
        ([arg], None) => Ok(vec![node_name(arg).to_string()]),
        (names, None) => {
            let mut found: Vec<String> = Vec::new();
            for arg in names {
                let name = node_name(arg);
                match api.get(name).await {
                    Ok(_) if found.iter().any(|f| f == name) => {}
                    Ok(_) => found.push(name.to_string()),
                    Err(kube::Error::Api(s)) if s.code == 404 => {
                        return Err(ResolveError::NotFound(name.to_string()));
                    }
                    Err(e) => return Err(ResolveError::Api(e)),
                }
            }
            Ok(found)
        }
    }
}

/// `cordon` (`uncordon: None`) or `uncordon` (`Some(force)`) of every node `a` names or
/// selects, one line each as kubectl prints them; exit 1 if any failed.
pub(super) async fn cordon_nodes(
    client: &Client,
    a: &crate::cli::NodeArg,
    uncordon: Option<bool>,
    journal: &Journal,
) -> i32 {
    let verb = if uncordon.is_some() {
        "uncordon"
    } else {
        "cordon"
    };
    if a.dry_run == "server" {
        eprintln!("error: --dry-run=server is not supported for {verb}: use --dry-run=client");
        return 1;
    }
    let nodes = match resolve_nodes(client, verb, &a.nodes, a.selector.as_deref()).await {
        Ok(n) => n,
        Err(e) => {
            eprintln!("{e}");
            return 1;
        }
    };
    let mut code = 0;
    for node in &nodes {
        code = code.max(match (uncordon, a.dry_run.as_str()) {
            (_, "client") => cordon_dry_run(client, node, uncordon.is_some()).await,
            (None, _) => match node_ops::cordon(client, node, false, journal).await {
                Ok(c) if c.already => ok(format!("node/{node} already cordoned")),
                Ok(_) => ok(format!("node/{node} cordoned")),
                Err(e) => fail_op("cordon", node, &e),
            },
            (Some(force), _) => match node_ops::uncordon(client, node, force, journal).await {
                Ok(u) if u.already => ok(format!("node/{node} already uncordoned")),
                Ok(u) => {
                    if !u.changes.is_empty() {
                        eprintln!("since the cordon: {}", u.changes.join(", "));
                    }
                    ok(format!("node/{node} uncordoned"))
                }
                Err(e) => fail_op("uncordon", node, &e),
            },
        });
    }
    code
}

/// kubectl's `--dry-run=client` line for one node: what would change, nothing changed.
async fn cordon_dry_run(client: &Client, node: &str, uncordon: bool) -> i32 {
    let api: Api<NodeRow> = Api::all(client.clone());
    match api.get(node).await {
        Ok(n) if n.unschedulable != uncordon => ok(format!(
            "node/{node} already {} (dry run)",
            if uncordon { "uncordoned" } else { "cordoned" }
        )),
        Ok(_) => ok(format!(
            "node/{node} {} (dry run)",
            if uncordon { "uncordoned" } else { "cordoned" }
        )),
        Err(kube::Error::Api(s)) if s.code == 404 => {
            eprintln!("Error from server (NotFound): nodes \"{node}\" not found");
            1
        }
        Err(e) => {
            eprintln!("error: {}", api_text(&e));
            1
        }
    }
}
