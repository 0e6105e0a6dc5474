//! Ctrl-C (and SIGTERM, SIGHUP) for a whole headless command.

/// Ctrl-C for a whole headless command: one listener, so a Ctrl-C that arrives while the
/// command is busy elsewhere is still seen at the next wait. A second Ctrl-C exits at once
/// (130), in case something does not answer the first.
pub(super) struct Interrupt {
    count: tokio::sync::watch::Receiver<u32>,
    seen: bool,
}

impl Interrupt {
    /// Ctrl-C, and SIGTERM and SIGHUP alike (a `kill` or a closed session): the drain is
    /// cancelled, its result journaled and the node annotated, instead of dying mid-step
    /// with `draining` on the node.
    pub(super) fn listen() -> std::io::Result<Interrupt> {
        use tokio::signal::unix::{SignalKind, signal};
        let mut int = signal(SignalKind::interrupt())?;
        let mut term = signal(SignalKind::terminate())?;
        let mut hup = signal(SignalKind::hangup())?;
        let (tx, count) = tokio::sync::watch::channel(0u32);
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = int.recv() => {}
                    _ = term.recv() => {}
                    _ = hup.recv() => {}
                }
                tx.send_modify(|n| *n += 1);
                if *tx.borrow() >= 2 {
                    eprintln!("error: interrupted twice: exiting now (nodes stay cordoned)");
                    std::process::exit(130);
                }
            }
        });
        Ok(Interrupt { count, seen: false })
    }

    /// Resolves at the first Ctrl-C (at once if one came already); never after that.
    pub(super) async fn next(&mut self) {
        if self.seen || self.count.wait_for(|n| *n > 0).await.is_err() {
            return std::future::pending().await;
        }
        self.seen = true;
    }

    /// Whether Ctrl-C was pressed (now or before).
    pub(super) fn interrupted(&mut self) -> bool {
        self.seen |= *self.count.borrow() > 0;
        self.seen
    }

    /// Runs `step` unless Ctrl-C comes first (`None`; at once if it came already).
    pub(super) async fn unless<T>(
        &mut self,
        step: impl std::future::Future<Output = T>,
    ) -> Option<T> {
        if self.interrupted() {
            return None;
        }
        tokio::select! {
            biased;
            _ = self.next() => None,
            v = step => Some(v),
        }
    }
}
