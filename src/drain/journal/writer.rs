//! The one thread that appends journal lines, shared by every `Journal` of the process: one
//! queue keeps the lines of each file in the order they were recorded.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;
use std::sync::mpsc::{Sender, channel};

use tokio::sync::oneshot;

/// A line to append (`None`: only report that the lines before are written).
struct Job {
    path: PathBuf,
    line: Option<String>,
    done: Option<oneshot::Sender<std::io::Result<()>>>,
}

static QUEUE: LazyLock<Option<Sender<Job>>> = LazyLock::new(|| {
    let (tx, rx) = channel::<Job>();
    let spawned = std::thread::Builder::new()
        .name("kubedrain-journal".into())
        .spawn(move || {
            for job in rx {
                // A line someone waits for is a write-ahead record: on disk, not in a cache.
                let res = match &job.line {
                    Some(line) => append(&job.path, line, job.done.is_some()),
                    None => Ok(()),
                };
                if let Some(done) = job.done {
                    let _ = done.send(res);
                }
            }
        });
    spawned.ok().map(|_| tx)
});

/// Hands a line to the writer thread; written in place if there is none (no line lost).
pub(super) fn queue(
    path: PathBuf,
    line: Option<String>,
    done: Option<oneshot::Sender<std::io::Result<()>>>,
) {
    let job = Job { path, line, done };
    let job = match QUEUE.as_ref() {
        Some(q) => match q.send(job) {
            Ok(()) => return,
            Err(e) => e.0,
        },
        None => job,
    };
    let res = match &job.line {
        Some(line) => append(&job.path, line, job.done.is_some()),
        None => Ok(()),
    };
    if let Some(done) = job.done {
        let _ = done.send(res);
    }
}

/// Opens the journal for appending: created 0600 in a directory created 0700.
fn open(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
    }
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)
}

/// [`open`], and narrows a directory or file left readable by others (older versions
/// wrote them 0755/0644).
pub(super) fn prepare(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    rotate_if_larger(path, super::ROTATE_BYTES)?;
    let file = open(path)?;
    let private = |p: &Path, mode: u32| -> std::io::Result<()> {
        let m = std::fs::metadata(p)?;
        if m.permissions().mode() & 0o077 != 0 {
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode))?;
        }
        Ok(())
    };
    private(path, 0o600)?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        private(dir, 0o700)?;
    }
    drop(file);
    Ok(())
}

fn append(path: &Path, line: &str, sync: bool) -> std::io::Result<()> {
    // `--no-journal`.
    if path.as_os_str().is_empty() {
        return Ok(());
    }
    // One write per line with O_APPEND keeps concurrent writers' lines whole.
    let mut file = open(path)?;
    file.write_all(line.as_bytes())?;
    if sync {
        file.sync_data()?;
    }
    Ok(())
}

/// Past `limit` bytes, the journal moves to `<path>.1` (replacing an older one) and a new
/// file starts with what resuming needs: per cluster and node, the last line, and the
/// start of a drain that has no result yet. Returns whether it rotated.
pub(super) fn rotate_if_larger(path: &Path, limit: u64) -> std::io::Result<bool> {
    use std::io::BufRead;
    use std::os::unix::fs::OpenOptionsExt;
    if std::fs::metadata(path).map(|m| m.len()).unwrap_or(0) <= limit {
        return Ok(false);
    }
    let file = std::fs::File::open(path)?;
    // (server, node) → (index of the last line, index of an open drain start).
    let mut keep: std::collections::HashMap<(String, String), (usize, Option<usize>)> =
        Default::default();
    let mut lines = Vec::new();
    for line in std::io::BufReader::new(file).lines().map_while(Result::ok) {
        let Ok(e) = serde_json::from_str::<super::Entry>(&line) else {
            continue;
        };
        let i = lines.len();
        let slot = keep.entry((e.server, e.node)).or_insert((i, None));
        slot.0 = i;
        match e.action {
            super::Action::DrainStart => slot.1 = Some(i),
            super::Action::DrainResult => slot.1 = None,
            _ => {}
        }
        lines.push(line);
    }
    let mut kept: Vec<usize> = keep
        .values()
        .flat_map(|(last, start)| std::iter::once(*last).chain(*start))
        .collect();
    kept.sort_unstable();
    kept.dedup();
    let fresh = path.with_extension("jsonl.new");
    let mut out = std::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(true)
        .mode(0o600)
        .open(&fresh)?;
    for i in kept {
        out.write_all(lines[i].as_bytes())?;
        out.write_all(b"\n")?;
    }
    out.sync_data()?;
    std::fs::rename(path, path.with_extension("jsonl.1"))?;
    std::fs::rename(&fresh, path)?;
    Ok(true)
}
