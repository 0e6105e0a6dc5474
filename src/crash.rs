//! What a panic leaves behind: the full report in a private crash log, and one line for the
//! user. A panic in the foreground (the TUI's session task, or a command on the main thread)
//! restores the terminal first and ends the process; one in a background task is reported
//! where it is caught (a drain ends `failed`), shown in the TUI's status line, and makes the
//! process exit non-zero.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

/// Renders the full report of a panic (color-eyre's, without colours).
pub type Report = Box<dyn Fn(&std::panic::PanicHookInfo<'_>) -> String + Send + Sync>;

/// The one-line summary of the first background panic.
static BACKGROUND: OnceLock<String> = OnceLock::new();
/// Whether the first background panic has been shown in the TUI yet.
static SHOWN: AtomicBool = AtomicBool::new(false);
/// Puts the terminal back (set while the TUI owns it).
static RESTORE: OnceLock<fn()> = OnceLock::new();
static TUI_ACTIVE: AtomicBool = AtomicBool::new(false);

/// Installs the panic hook for the whole process; `verbose` also prints the full report.
pub fn install(report: Report, verbose: bool) {
    std::panic::set_hook(Box::new(move |info| {
        let full = without_colours(&report(info));
        let log = write_log(&full);
        let line = one_line(info, log.as_deref());
        let foreground = std::thread::current().name() == Some("main") || in_foreground();
        let tui = TUI_ACTIVE.load(Ordering::SeqCst);
        if foreground && tui {
            TUI_ACTIVE.store(false, Ordering::SeqCst);
            if let Some(restore) = RESTORE.get() {
                restore();
            }
        }
        if !foreground {
            let _ = BACKGROUND.set(line.clone());
        }
        // Over a running TUI, the status line says it (see `background_news`).
        if foreground || !tui {
            if verbose {
                eprintln!("{full}");
            }
            eprintln!("kubedrain: {line}");
        }
    }));
}

tokio::task_local! {
    /// Set while the TUI's session task runs: a panic there is the UI's, on whichever worker.
    static FOREGROUND: ();
}

/// Runs `session` as the foreground: a panic in it is reported as the main thread's would be
/// (the terminal restored first, one line printed), not as a background task's.
pub async fn foreground<F: std::future::Future>(session: F) -> F::Output {
    FOREGROUND.scope((), session).await
}

/// Whether this code runs inside [`foreground`].
fn in_foreground() -> bool {
    FOREGROUND.try_with(|_| ()).is_ok()
}

/// A panic injected for the tests (debug builds only): `KUBEDRAIN_FAULT_PANIC=<point>`
/// panics where `injected(point)` is called (`after-cordon` in a drain, `key` in the TUI).
pub fn injected(point: &str) {
    if cfg!(debug_assertions) && std::env::var("KUBEDRAIN_FAULT_PANIC").is_ok_and(|p| p == point) {
        panic!("injected by KUBEDRAIN_FAULT_PANIC={point}");
    }
}

/// The TUI took the terminal: a panic in the foreground calls `restore` before printing.
pub fn tui_started(restore: fn()) {
    let _ = RESTORE.set(restore);
    TUI_ACTIVE.store(true, Ordering::SeqCst);
}

/// The TUI gave the terminal back.
pub fn tui_ended() {
    TUI_ACTIVE.store(false, Ordering::SeqCst);
}

/// The first background panic's summary, once (for the TUI's status line).
pub fn background_news() -> Option<String> {
    let line = BACKGROUND.get()?;
    (!SHOWN.swap(true, Ordering::SeqCst)).then(|| line.clone())
}

/// The first background panic's summary, if there was one (the process then exits non-zero).
pub fn background_panic() -> Option<&'static str> {
    BACKGROUND.get().map(String::as_str)
}

/// The report without its SGR colour sequences (a log file is read with `less`, not a TTY).
fn without_colours(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\x1b' && chars.peek() == Some(&'[') {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn one_line(info: &std::panic::PanicHookInfo<'_>, log: Option<&Path>) -> String {
    let what = info
        .payload()
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| info.payload().downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic".into());
    let at = info
        .location()
        .map(|l| format!(" at {}:{}", l.file(), l.line()))
        .unwrap_or_default();
    match log {
        Some(p) => format!("internal error: {what}{at}; report: {}", p.display()),
        None => format!("internal error: {what}{at} (no crash log could be written)"),
    }
}

/// Writes the report to `crash-<time>-<pid>.log` in the state directory (else the temp
/// directory), 0600 and never through an existing file or symlink.
fn write_log(full: &str) -> Option<PathBuf> {
    let name = format!(
        "crash-{}-{}.log",
        jiff::Timestamp::now().strftime("%Y%m%dT%H%M%SZ"),
        std::process::id()
    );
    let dirs = [crate::drain::journal::state_dir(), std::env::temp_dir()];
    dirs.iter().find_map(|dir| {
        let path = dir.join(&name);
        write_private(dir, &path, full).ok().map(|()| path)
    })
}

fn write_private(dir: &Path, path: &Path, text: &str) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(text.as_bytes())?;
    f.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_session_is_foreground_and_what_it_spawns_is_not() {
        assert!(!in_foreground());
        let (inside, spawned) = foreground(async {
            let spawned = tokio::spawn(async { in_foreground() }).await.unwrap();
            (in_foreground(), spawned)
        })
        .await;
        assert!(inside, "the session's own code is the foreground");
        assert!(!spawned, "a task it spawns (a drain) is background");
    }

    #[test]
    fn colours_are_dropped_and_the_text_kept() {
        let coloured = "\x1b[31mThe application panicked\x1b[0m: boom\n\x1b[1;2mat\x1b[0m x.rs";
        assert_eq!(
            without_colours(coloured),
            "The application panicked: boom\nat x.rs"
        );
    }

    #[test]
    fn the_crash_log_is_private_and_never_follows_a_planted_file() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state");
        let path = state.join("crash.log");
        write_private(&state, &path, "report").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "report\n");
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(&state), 0o700);
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "keep").unwrap();
        let planted = state.join("planted.log");
        std::os::unix::fs::symlink(&victim, &planted).unwrap();
        assert!(write_private(&state, &planted, "report").is_err());
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");
    }
}
