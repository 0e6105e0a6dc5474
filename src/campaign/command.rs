//! Headless `kubedrain versions [--target vX.Y.Z] [-o json]`: reads nodes, kube-system pods
//! and `/version`, prints the matrix, its findings and the steps to the target. Exit code 1
//! on any violation of the skew policy (or when the cluster cannot be read), else 0.

use kube::Client;
use kube::api::{Api, ListParams};

use super::render;
use super::steps::{self, UpgradePlan};
use super::version::Version;
use super::versions::{Inventory, Matrix, matrix};
use crate::cluster::rows::{NodeRow, PodRow};

/// What `kubedrain versions` was asked.
#[derive(Debug, Clone, Default)]
pub struct VersionsOptions {
    /// `--target`: plan the way to this version.
    pub target: Option<String>,
    /// `-o json`.
    pub json: bool,
}

/// Lists every page of `api`.
async fn list_all<K>(api: &Api<K>) -> Result<Vec<K>, kube::Error>
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    let mut lp = ListParams::default().limit(500);
    let mut out = Vec::new();
    let mut pager = crate::cluster::list_page::Pager::new();
    loop {
        let page = pager.list(api, &lp).await?;
        out.extend(page.items);
        match page.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(c) => lp.continue_token = Some(c),
            None => return Ok(out),
        }
    }
}

/// Reads what the matrix is built from.
pub async fn inventory(client: &Client) -> Result<Inventory, kube::Error> {
    let server = client.apiserver_version().await?.git_version;
    let nodes: Vec<NodeRow> = list_all(&Api::all(client.clone())).await?;
    let pods: Vec<PodRow> = list_all(&Api::namespaced(client.clone(), "kube-system")).await?;
    Ok(Inventory::from_rows(Some(&server), &nodes, &pods))
}

#[derive(serde::Serialize)]
struct Report<'a> {
    #[serde(flatten)]
    matrix: &'a Matrix,
    plan: Option<&'a UpgradePlan>,
}

/// Runs the command; returns the exit code.
pub async fn run(client: Client, opts: VersionsOptions) -> i32 {
    // Bad input is refused before the cluster is read.
    let target = match opts.target.as_deref().map(Version::parse).transpose() {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: --target: {e}");
            return 1;
        }
    };
    let inv = match inventory(&client).await {
        Ok(i) => i,
        Err(e) => {
            eprintln!("error: reading the cluster's versions: {e}");
            return 1;
        }
    };
    let m = matrix(&inv);
    let plan = match target.as_ref().map(|t| steps::plan(&inv, t)).transpose() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return 1;
        }
    };
    if opts.json {
        let report = Report {
            matrix: &m,
            plan: plan.as_ref(),
        };
        match serde_json::to_string_pretty(&report) {
            Ok(j) => println!("{j}"),
            Err(e) => {
                eprintln!("error: {e}");
                return 1;
            }
        }
    } else {
        let mut lines = render::matrix_lines(&m);
        if let Some(p) = &plan {
            lines.push(render::Line::prose(String::new(), None));
            lines.extend(render::plan_lines(p));
        }
        print!("{}", render::text(&lines));
    }
    i32::from(m.has_errors())
}
