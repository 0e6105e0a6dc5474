//! The terminal's keys and resizes, read on a thread of their own and handed to the event
//! loop through a channel.
//!
//! Why not crossterm's `EventStream`: every poll of it try-locks crossterm's global reader
//! lock, which the stream's own thread holds while it waits for the terminal, and
//! parking_lot yields the core up to 7 times before it gives up. The event loop polled the
//! stream on most turns, so watch events paid for those yields (`docs/benchmarks.md`, "Keys
//! read on a thread of their own"). Here the lock has one user, this thread, and the loop
//! polls a channel. Keys have their own channel, so they never queue behind watch events.

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use ratatui::crossterm::event::{self, Event, KeyEvent};
use tokio::sync::{mpsc, oneshot};

/// What the loop acts on; mouse, focus and paste events are left on the reading thread.
#[derive(Debug)]
pub enum Input {
    Key(KeyEvent),
    Resize(u16, u16),
    /// Reading the terminal failed; the reader has stopped.
    Failed(io::Error),
}

/// How long the reader waits for the terminal before it looks at its stop flag: the most
/// stopping can take. Idle, it wakes this often and goes back to waiting (a few µs).
const POLL: Duration = Duration::from_millis(50);

/// The running reader: its channel, and how to stop it.
pub struct TerminalInput {
    rx: mpsc::Receiver<Input>,
    stop: Arc<AtomicBool>,
    /// Closed when the reading thread has ended.
    ended: oneshot::Receiver<()>,
}

impl TerminalInput {
    /// Starts reading the terminal (raw mode is the caller's).
    pub fn start() -> io::Result<TerminalInput> {
        TerminalInput::start_with(Crossterm)
    }

    /// Starts reading from `source` on a new thread.
    fn start_with(source: impl Source) -> io::Result<TerminalInput> {
        let (tx, rx) = mpsc::channel(64);
        let stop = Arc::new(AtomicBool::new(false));
        let (ended_tx, ended) = oneshot::channel::<()>();
        let flag = stop.clone();
        std::thread::Builder::new()
            .name("kubedrain-keys".into())
            .spawn(move || {
                read_until_stopped(&source, &flag, &tx);
                drop(ended_tx);
            })?;
        Ok(TerminalInput { rx, stop, ended })
    }

    /// The next key, resize or failure; `None` once the reader has stopped.
    pub async fn next(&mut self) -> Option<Input> {
        self.rx.recv().await
    }

    /// Stops the reader and waits until it has ended, so no key typed after this is taken
    /// from whatever reads the terminal next (the shell, or the next `:ctx` session).
    /// Whether it ended: it does within one `POLL`; the bound guards against a read that hangs.
    pub async fn stop(mut self) -> bool {
        self.stop.store(true, Ordering::Relaxed);
        self.rx.close();
        // The sender is dropped, never used: the wait ends with Err when the thread does.
        tokio::time::timeout(POLL * 10, &mut self.ended)
            .await
            .is_ok()
    }
}

/// Where events come from: the terminal, or a test's script.
trait Source: Send + 'static {
    /// Whether an event is ready within `timeout`.
    fn poll(&self, timeout: Duration) -> io::Result<bool>;
    /// The next event (one is ready).
    fn read(&self) -> io::Result<Event>;
}

/// crossterm's terminal reader.
struct Crossterm;

impl Source for Crossterm {
    fn poll(&self, timeout: Duration) -> io::Result<bool> {
        event::poll(timeout)
    }
    fn read(&self) -> io::Result<Event> {
        event::read()
    }
}

/// Reads until `stop` is set, the loop is gone, or reading fails (the failure is sent).
fn read_until_stopped(source: &impl Source, stop: &AtomicBool, tx: &mpsc::Sender<Input>) {
    while !stop.load(Ordering::Relaxed) {
        let ready = match source.poll(POLL) {
            Ok(ready) => ready,
            Err(e) => {
                let _ = tx.blocking_send(Input::Failed(e));
                return;
            }
        };
        // Stopped while waiting: a ready event is left to whoever reads next.
        if !ready || stop.load(Ordering::Relaxed) {
            continue;
        }
        let input = match source.read() {
            Ok(Event::Key(key)) => Input::Key(key),
            Ok(Event::Resize(w, h)) => Input::Resize(w, h),
            Ok(_) => continue,
            Err(e) => Input::Failed(e),
        };
        let failed = matches!(input, Input::Failed(_));
        if tx.blocking_send(input).is_err() || failed {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::crossterm::event::{KeyCode, KeyModifiers, MouseEvent, MouseEventKind};
    use std::collections::VecDeque;
    use std::sync::Mutex;
    use std::sync::atomic::AtomicUsize;

    /// Events handed out in order; with none left it waits out the poll like an idle
    /// terminal. `stop_on_poll` plays the loop asking the reader to stop while it waits.
    #[derive(Default)]
    struct Script {
        events: Mutex<VecDeque<io::Result<Event>>>,
        polls: Arc<AtomicUsize>,
        reads: Arc<AtomicUsize>,
        stop_on_poll: Option<Arc<AtomicBool>>,
    }

    impl Script {
        fn new(events: Vec<io::Result<Event>>) -> Script {
            Script {
                events: Mutex::new(events.into()),
                ..Script::default()
            }
        }
    }

    impl Source for Script {
        fn poll(&self, timeout: Duration) -> io::Result<bool> {
            self.polls.fetch_add(1, Ordering::Relaxed);
            if let Some(stop) = &self.stop_on_poll {
                stop.store(true, Ordering::Relaxed);
            }
            if self.events.lock().unwrap().is_empty() {
                std::thread::sleep(timeout);
                return Ok(false);
            }
            Ok(true)
        }
        fn read(&self) -> io::Result<Event> {
            self.reads.fetch_add(1, Ordering::Relaxed);
            self.events.lock().unwrap().pop_front().unwrap()
        }
    }

    fn key(c: char) -> Event {
        Event::Key(KeyEvent::from(KeyCode::Char(c)))
    }

    fn mouse() -> Event {
        Event::Mouse(MouseEvent {
            kind: MouseEventKind::Moved,
            column: 0,
            row: 0,
            modifiers: KeyModifiers::NONE,
        })
    }

    fn is_key(input: Option<Input>, c: char) -> bool {
        matches!(input, Some(Input::Key(k)) if k.code == KeyCode::Char(c))
    }

    #[tokio::test]
    async fn keys_and_resizes_arrive_in_order_and_other_events_stay_behind() {
        let mut input = TerminalInput::start_with(Script::new(vec![
            Ok(key('j')),
            Ok(mouse()),
            Ok(Event::FocusGained),
            Ok(Event::Paste("text".into())),
            Ok(Event::Resize(80, 24)),
            Ok(key('q')),
        ]))
        .unwrap();
        assert!(is_key(input.next().await, 'j'));
        assert!(matches!(input.next().await, Some(Input::Resize(80, 24))));
        assert!(is_key(input.next().await, 'q'));
        assert!(input.stop().await);
    }

    #[tokio::test]
    async fn a_read_failure_is_passed_on_and_ends_the_reader() {
        let mut input = TerminalInput::start_with(Script::new(vec![
            Ok(key('j')),
            Err(io::Error::other("the terminal went away")),
            Ok(key('k')),
        ]))
        .unwrap();
        assert!(is_key(input.next().await, 'j'));
        match input.next().await {
            Some(Input::Failed(e)) => assert_eq!(e.to_string(), "the terminal went away"),
            other => panic!("expected the failure, got {other:?}"),
        }
        // The key after the failure is never read: the channel ends instead.
        assert!(input.next().await.is_none());
    }

    #[tokio::test]
    async fn stopping_an_idle_reader_ends_its_thread() {
        let script = Script::default();
        let polls = script.polls.clone();
        let input = TerminalInput::start_with(script).unwrap();
        while polls.load(Ordering::Relaxed) == 0 {
            tokio::task::yield_now().await;
        }
        // True only once the thread has returned (its end of the `ended` channel dropped).
        assert!(input.stop().await);
    }

    #[test]
    fn a_key_ready_after_the_stop_is_left_unread() {
        let stop = Arc::new(AtomicBool::new(false));
        let script = Script {
            stop_on_poll: Some(stop.clone()),
            ..Script::new(vec![Ok(key('x'))])
        };
        let (polls, reads) = (script.polls.clone(), script.reads.clone());
        let (tx, mut rx) = mpsc::channel(4);
        read_until_stopped(&script, &stop, &tx);
        drop(tx);
        assert_eq!(polls.load(Ordering::Relaxed), 1);
        assert_eq!(
            reads.load(Ordering::Relaxed),
            0,
            "the key stays for the next reader"
        );
        assert!(rx.try_recv().is_err());
    }
}
