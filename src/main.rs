//! The `kubedrain` binary: parses the command line and dispatches.

use clap::Parser;
use kubedrain::cli::{Cli, Command};

fn main() -> color_eyre::Result<()> {
    color_eyre::install()?;
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        match cli.command {
            Some(Command::Sim(args)) => kubedrain::sim::server::run_cli(args).await,
            Some(
                cmd @ (Command::Plan(_)
                | Command::Drain(_)
                | Command::Cordon(_)
                | Command::Uncordon(_)),
            ) => std::process::exit(
                kubedrain::drain::commands::run(&cli.kube, cli.readonly, cmd).await,
            ),
            other => {
                let _ = other;
                color_eyre::eyre::bail!("not implemented yet")
            }
        }
    })
}
