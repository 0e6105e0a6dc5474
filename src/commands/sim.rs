//! `kubedrain sim`: the built-in cluster as a server of its own, until a signal stops it.

use color_eyre::Result;
use color_eyre::eyre::eyre;

use crate::cli::SimArgs;
use crate::sim::auth::AuthOptions;
use crate::sim::{SimOptions, Simulator};

/// Ctrl-C, SIGTERM and SIGHUP (so `kill` and a closed terminal also clean up the
/// kubeconfig), listened for from before the kubeconfig is written.
struct StopSignals {
    int: tokio::signal::unix::Signal,
    term: tokio::signal::unix::Signal,
    hup: tokio::signal::unix::Signal,
}

impl StopSignals {
    fn listen() -> Result<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(StopSignals {
            int: signal(SignalKind::interrupt())?,
            term: signal(SignalKind::terminate())?,
            hup: signal(SignalKind::hangup())?,
        })
    }

    async fn wait(&mut self) {
        tokio::select! {
            _ = self.int.recv() => {}
            _ = self.term.recv() => {}
            _ = self.hup.recv() => {}
        }
    }
}

/// `kubedrain sim`: runs until Ctrl-C.
pub async fn run(args: SimArgs) -> Result<()> {
    if !args.listen.ip().is_loopback() {
        eprintln!(
            "WARNING: listening on {} (not loopback){}",
            args.listen,
            if args.plain_http {
                " over plain HTTP without authentication: anyone who can reach it can change it"
            } else {
                ": anyone with the kubeconfig's token can change it"
            }
        );
    }
    if !(args.speed > 0.0 && args.speed.is_finite()) {
        return Err(eyre!(
            "--speed must be a positive number, got {}",
            args.speed
        ));
    }
    let opts = SimOptions {
        scenario: args.scenario.clone(),
        listen: args.listen,
        speed: args.speed,
        generated: args.nodes.map(|n| (n, args.pods_per_node)),
        auth: (!args.plain_http).then(AuthOptions::default),
        ..SimOptions::default()
    };
    let mut stop = StopSignals::listen()?;
    let sim = Simulator::start(opts).await?;
    // Ours (private, removed on exit), unless the user chose where it goes.
    let private = match &args.kubeconfig_out {
        Some(p) => {
            sim.write_kubeconfig(p)?;
            None
        }
        None => Some(sim.private_kubeconfig("kubeconfig")?),
    };
    let path = match &private {
        Some(f) => f.path().to_path_buf(),
        None => args.kubeconfig_out.clone().unwrap_or_default(),
    };
    println!(
        "kubedrain simulator ({}) listening on {}",
        sim.scenario(),
        sim.url()
    );
    println!("export KUBECONFIG={}", path.display());
    let _churn = args.churn.map(|rate| {
        let targets = sim.store().keys(crate::sim::Kind::Pod);
        println!("churn: {rate} pod changes per second");
        crate::sim::churn::Churn::start(sim.store().clone(), targets, rate, None, 100_000)
    });
    stop.wait().await;
    eprintln!("stopping the simulator");
    sim.stop().await;
    drop(private);
    Ok(())
}
