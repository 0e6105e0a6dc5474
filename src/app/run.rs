//! The loop that owns the model, terminal setup and restore, and the `Cmd` executor.

use std::io::{BufWriter, Stdout, stdout};
use std::time::Duration;

use color_eyre::Result;
use jiff::Timestamp;
use ratatui::backend::CrosstermBackend;
use ratatui::buffer::Buffer;
use ratatui::crossterm::execute;
use ratatui::crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::damage::Damage;
use super::model::{ConnInfo, Model};
use super::msg::{Cmd, Msg};
use super::pacing::{FrameKind, FramePacer};
use super::screen::{Drawn, Screen};
use super::terminal_input::{Input, TerminalInput};
use super::update::update;
use crate::cluster::client::Connection;
use crate::cluster::watch;

/// How the TUI was asked to run.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// `-n`: list pods (and events) of one namespace only; the pods of every namespace are
    /// still watched, unless RBAC forbids it (then only this namespace's).
    pub namespace: Option<String>,
    pub readonly: bool,
    /// `--teach`: start with the narration pane on.
    pub teach: bool,
    /// `Some(scenario)` when the data comes from the built-in simulator.
    pub demo: Option<String>,
    /// The simulator's kubeconfig file, shown so kubectl can be run beside the demo.
    pub demo_kubeconfig: Option<String>,
    /// The maintenance workflow's client, journal target and (demo) upgrade hook.
    pub flow: super::flow_exec::FlowSetup,
    /// The demo cluster's clock (freeze, step, speed).
    pub demo_clock: Option<std::sync::Arc<dyn super::demo_clock::DemoClock>>,
    /// The kubeconfig's contexts (`:ctx`); empty for the demo.
    pub contexts: Vec<String>,
    /// The drain options form's starting values (the config file's), if not kubectl's.
    pub drain_defaults: Option<super::drain_flow::OptionsForm>,
}

/// At most this many queued messages are applied per loop turn, so keys stay responsive
/// while a 150,000-pod relist streams in.
const MAX_BATCH: usize = 20_000;

/// How long quitting waits for a cancelled drain to end (it answers a cancel within a second).
const QUIT_WAIT: Duration = Duration::from_secs(2);

/// Puts the terminal back to normal. Safe to call twice (quit path and panic hook).
pub fn restore_terminal() {
    let _ = disable_raw_mode();
    let _ = execute!(
        stdout(),
        LeaveAlternateScreen,
        ratatui::crossterm::cursor::Show
    );
}

/// Owns raw mode and the alternate screen; restores them when dropped (quit and error paths).
struct TerminalGuard {
    screen: Screen<Backend>,
}

/// Stdout is line-buffered with 1 KiB: a full 200×50 frame would take dozens of `write`s to
/// the pty, each a chance to wait for the terminal. Buffered, a frame is one write at flush.
type Backend = CrosstermBackend<BufWriter<Stdout>>;

/// Big enough for a full frame of a large terminal with styles.
const OUT_BUFFER: usize = 256 * 1024;

impl TerminalGuard {
    fn enter() -> Result<TerminalGuard> {
        enable_raw_mode()?;
        crate::crash::tui_started(restore_terminal);
        let mut out = stdout();
        if let Err(e) = execute!(out, EnterAlternateScreen, ratatui::crossterm::cursor::Hide) {
            restore_terminal();
            return Err(e.into());
        }
        let size = match ratatui::crossterm::terminal::size() {
            Ok(size) => size,
            Err(e) => {
                restore_terminal();
                return Err(e.into());
            }
        };
        let backend = CrosstermBackend::new(BufWriter::with_capacity(OUT_BUFFER, out));
        Ok(TerminalGuard {
            screen: Screen::new(backend, size),
        })
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        crate::crash::tui_ended();
        restore_terminal();
    }
}

/// Draws the model into a buffer, whole or only `Some(damage)` (`ui::draw`; passed in, so
/// `app` does not depend on `ui`).
pub type Render = fn(&Model, &mut Buffer, Option<&Damage>);

/// Runs the TUI on `conn` until the user quits, drawing with `render`; `Some(context)` when
/// `:ctx` asked to continue in another context (the caller connects to it and runs again).
///
/// The session runs as a task on the runtime's workers, not on the thread that awaits this:
/// a watch event then reaches the event loop on the worker that decoded it, without waking
/// another thread. Each such wake was a moment where any other task of the machine could
/// take the core first; on a loaded core the event waited its turn (~1.5 ms, measured in
/// `docs/benchmarks.md`, "M3's slowest events"). A panic in the session is the UI's
/// (`crash::foreground`) and goes on here.
pub async fn run(conn: Connection, opts: RunOptions, render: Render) -> Result<Option<String>> {
    let session = crate::crash::foreground(session(conn, opts, render));
    match tokio::spawn(session).await {
        Ok(result) => result,
        Err(e) => match e.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(e) => Err(e.into()),
        },
    }
}

/// One TUI session: see [`run`].
async fn session(conn: Connection, opts: RunOptions, render: Render) -> Result<Option<String>> {
    let info = ConnInfo {
        context: conn.context.clone(),
        server: conn.server.clone(),
        version: conn.version.clone(),
        demo: opts.demo.clone(),
        demo_kubeconfig: opts.demo_kubeconfig.clone(),
        cluster_uid: None,
    };
    let mut model = Model::new(
        info,
        opts.namespace.clone(),
        opts.readonly,
        Timestamp::now(),
    );
    model.flow.demo_upgrade = opts.flow.upgrade.is_some();
    model.demo_clock = opts.demo_clock.as_ref().map(|c| c.state());
    model.teach.tz = Some(jiff::tz::TimeZone::system());
    model.teach.on = opts.teach;
    model.contexts = opts.contexts.clone();
    model.flow.last_options = opts.drain_defaults.clone();
    if let Err(why) = &opts.flow.client {
        let why = format!("no client for changes ({why})");
        model.say(format!("cordon, uncordon and drain are disabled: {why}"));
        model.flow.cannot_change = Some(why);
    }
    let (tx, rx) = mpsc::channel::<Msg>(4096);
    let mut setup = opts.flow.clone();
    if setup.target.server.is_empty() {
        setup.target = crate::drain::journal::Target {
            context: conn.context.clone(),
            server: conn.server.clone(),
        };
    }
    let flow = super::flow_exec::FlowExec::new(setup.clone(), conn.client.clone(), tx.clone());
    let campaign = super::campaign_exec::CampaignExec::new(&setup, flow.journal(), tx.clone());
    let mut exec = Executor {
        client: conn.client.clone(),
        tx: tx.clone(),
        watchers: Vec::new(),
        namespace: opts.namespace.clone(),
        flow,
        campaign,
        clock: opts.demo_clock.clone(),
        signalled: false,
    };
    exec.flow.start();
    exec.campaign.start();
    exec.watch(model.generation, opts.namespace.as_deref());
    let health = spawn_health(conn.client.clone(), tx.clone(), HEALTH_EVERY);
    let mut guard = TerminalGuard::enter()?;
    model.size = guard.screen.size();
    let mut input = TerminalInput::start()?;
    let result = event_loop(&mut guard.screen, model, rx, &mut input, &mut exec, render).await;
    // Before anything else: keys typed from here on belong to the shell or the next session.
    input.stop().await;
    exec.stop();
    // A running campaign stops where it is (the journal says where; it is offered next time).
    exec.campaign.stop();
    // A running drain is cancelled (the quit dialog said so), or interrupted on a signal, and
    // given a moment to record it.
    let signalled = exec.signalled;
    exec.flow.stop(QUIT_WAIT, signalled).await;
    health.abort();
    drop(guard);
    // A bug in a background task was reported on screen; the exit status says it too.
    if let (Ok(_), Some(line)) = (&result, crate::crash::background_panic()) {
        return Err(color_eyre::eyre::eyre!("{line}"));
    }
    result
}

async fn event_loop(
    screen: &mut Screen<Backend>,
    mut model: Model,
    mut rx: mpsc::Receiver<Msg>,
    input: &mut TerminalInput,
    exec: &mut Executor,
    render: Render,
) -> Result<Option<String>> {
    // Long: one select! loop over keys, ticks and messages; its arms share terminal and model.
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    // SIGTERM (a `kill`), SIGHUP (the terminal or SSH session closed) and SIGINT (from
    // outside: in raw mode Ctrl-C is a key) quit as `q` would, without the question: a
    // running drain is cancelled and recorded, the node stays cordoned.
    use tokio::signal::unix::{SignalKind, signal};
    let mut term_signal = signal(SignalKind::terminate())?;
    let mut hup_signal = signal(SignalKind::hangup())?;
    let mut int_signal = signal(SignalKind::interrupt())?;
    // While events stream, frames keep to a duty cycle (`pacing`): a burst of 1,000 pod
    // events a second costs a bounded share of a core, not one frame per loop turn. A key
    // press or resize draws at once.
    let mut pacer = FramePacer::new(tokio::time::Instant::now());
    let mut urgent = true;
    // Whether watch events arrived since the last frame (the whole-frame floor is theirs).
    let mut streamed = false;
    loop {
        if model.quit {
            return Ok(model.switch_context.take());
        }
        if model.wants_frame() && (urgent || pacer.may_draw(tokio::time::Instant::now())) {
            // Frame time as the bench log reports it: view refresh + draw + terminal write.
            let started = tokio::time::Instant::now();
            let drawn = screen.frame(&mut model, render)?;
            let took = started.elapsed();
            if crate::benchlog::enabled() {
                crate::benchlog::value("frame", took.as_micros());
            }
            model.after_frame();
            urgent = false;
            let kind = if streamed && drawn == Drawn::Whole {
                FrameKind::WholeWhileStreaming
            } else {
                FrameKind::Other
            };
            pacer.drawn(started, took, kind);
            streamed = false;
        }
        // Only armed while a frame is owed, so an idle screen never wakes up.
        let frame_due = model.wants_frame().then(|| pacer.next_at());
        let first = tokio::select! {
            ev = input.next() => match ev {
                Some(Input::Key(k)) => {
                    crate::crash::injected("key");
                    Msg::Key(k)
                }
                Some(Input::Resize(w, h)) => Msg::Resize(w, h),
                Some(Input::Failed(e)) => return Err(e.into()),
                None => return Ok(None),
            },
            Some(msg) = rx.recv() => msg,
            _ = tick.tick() => match crate::crash::background_news() {
                // Not I/O: the panic hook left it in memory.
                Some(line) => Msg::Flash(line),
                None => {
                    exec.send_cluster_time();
                    Msg::Tick(Timestamp::now())
                }
            },
            _ = term_signal.recv() => exec.signalled(),
            _ = hup_signal.recv() => exec.signalled(),
            _ = int_signal.recv() => exec.signalled(),
            _ = tokio::time::sleep_until(frame_due.unwrap_or_else(tokio::time::Instant::now)), if frame_due.is_some() => continue,
        };
        let mut next = Some(first);
        let mut n = 0;
        while let Some(msg) = next {
            urgent |= matches!(msg, Msg::Key(_) | Msg::Resize(..));
            streamed |= matches!(msg, Msg::Watch { .. });
            for cmd in update(&mut model, msg) {
                exec.run(cmd);
            }
            n += 1;
            next = if n < MAX_BATCH && !model.quit {
                rx.try_recv().ok()
            } else {
                None
            };
        }
    }
}

/// At once and then every `every`, asks the API server for `/version` (the header's version)
/// and for the kube-system namespace's uid (which cluster answers: another one is relisted).
pub fn spawn_health(
    client: kube::Client,
    tx: mpsc::Sender<Msg>,
    every: Duration,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(every);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut warned = false;
        loop {
            every.tick().await;
            let probe = tokio::time::timeout(Duration::from_secs(4), client.apiserver_version());
            let answer = probe.await.ok().and_then(Result::ok);
            if tx.send(Msg::Health(answer.is_some())).await.is_err() {
                break;
            }
            let Some(info) = answer else { continue };
            if tx.send(Msg::ServerVersion(info.git_version)).await.is_err() {
                break;
            }
            let uid = tokio::time::timeout(
                Duration::from_secs(4),
                crate::cluster::client::cluster_uid(&client),
            );
            let sent = match uid.await {
                Ok(Ok(uid)) if !uid.is_empty() => tx.send(Msg::ClusterUid(uid)).await,
                // Never silent: without it a swapped server goes unnoticed (said once).
                Ok(Err(kube::Error::Api(s))) if s.code == 403 && !warned => {
                    warned = true;
                    let text = format!(
                        "cannot read namespace kube-system ({}): another cluster behind the same URL would not be noticed",
                        s.code
                    );
                    tx.send(Msg::Flash(text)).await
                }
                _ => Ok(()),
            };
            if sent.is_err() {
                break;
            }
        }
    })
}

/// How often the health task asks.
const HEALTH_EVERY: Duration = Duration::from_secs(5);

/// Executes `Cmd`s: the only place side effects start.
struct Executor {
    client: kube::Client,
    tx: mpsc::Sender<Msg>,
    watchers: Vec<JoinHandle<()>>,
    /// `-n`: the pods watched if every namespace's are forbidden.
    namespace: Option<String>,
    flow: super::flow_exec::FlowExec,
    campaign: super::campaign_exec::CampaignExec,
    clock: Option<std::sync::Arc<dyn super::demo_clock::DemoClock>>,
    /// The TUI quits because of a signal (SIGTERM, SIGHUP, SIGINT).
    signalled: bool,
}

impl Executor {
    /// A signal asks to quit: a running drain then ends `interrupted`, not `cancelled`.
    fn signalled(&mut self) -> Msg {
        self.signalled = true;
        Msg::Quit
    }

    /// The demo cluster's time, for countdowns and ages that follow its clock.
    fn send_cluster_time(&self) {
        if let Some(clock) = &self.clock {
            let _ = self.tx.try_send(Msg::ClusterTime(clock.now()));
        }
    }

    /// Starts the watchers; `pods_fallback` is watched if pods of all namespaces are forbidden.
    fn watch(&mut self, generation: u64, pods_fallback: Option<&str>) {
        self.stop();
        self.watchers = watch::spawn_all(
            &self.client,
            pods_fallback,
            self.tx.clone(),
            move |report| Msg::Watch { generation, report },
        );
    }

    fn stop(&mut self) {
        for h in self.watchers.drain(..) {
            h.abort();
        }
    }

    fn run(&mut self, cmd: Cmd) {
        match cmd {
            Cmd::Flow(cmd) => self.flow.run(cmd),
            Cmd::Campaign(cmd) => self.campaign.run(cmd),
            Cmd::Clock(cmd) => {
                if let Some(clock) = &self.clock {
                    let _ = self.tx.try_send(Msg::Clock(clock.apply(cmd)));
                }
                self.send_cluster_time();
            }
            Cmd::Describe(req) => {
                super::describe::fetch::spawn(self.client.clone(), self.tx.clone(), req)
            }
            Cmd::Rewatch { generation } => {
                let namespace = self.namespace.clone();
                self.watch(generation, namespace.as_deref());
            }
        }
    }
}
