//! The simulator's kubeconfig on disk. The simulator has no authentication, so the file is
//! the key to a cluster: written 0600, created exclusively (`O_EXCL`: never through a symlink
//! or over a file someone planted), in a private 0700 directory (the user's runtime dir, else
//! the temp dir) with an unpredictable name, and removed when dropped.

use std::fs::{DirBuilder, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use color_eyre::eyre::{Result, WrapErr, eyre};

/// A kubeconfig kubedrain wrote; removed (with its private directory) on drop.
#[derive(Debug)]
pub struct KubeconfigFile {
    path: PathBuf,
    /// The private directory made for it, removed with it.
    dir: PathBuf,
}

impl KubeconfigFile {
    /// Writes `contents` as `name` in a new private directory.
    pub fn private(name: &str, contents: &str) -> Result<Self> {
        let dir = private_dir()?;
        let path = dir.join(name);
        let made = create_exclusive(&path, contents);
        if let Err(e) = made {
            let _ = std::fs::remove_dir(&dir);
            return Err(e);
        }
        Ok(KubeconfigFile { path, dir })
    }

    /// Where it is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Removes it and its directory now (also done on drop). The directory is ours alone:
    /// whatever else went there (the demo's journals) goes with it.
    pub fn remove(&self) {
        let _ = std::fs::remove_file(&self.path);
        let _ = std::fs::remove_dir_all(&self.dir);
    }

    /// Removes it on SIGHUP (the terminal is gone: nothing to restore), then exits 129. A
    /// SIGTERM ends the TUI normally, and a panic unwinds, so the drop removes it then.
    pub fn remove_on_hangup(&self) -> std::io::Result<()> {
        use tokio::signal::unix::{SignalKind, signal};
        let mut hup = signal(SignalKind::hangup())?;
        let (path, dir) = (self.path.clone(), self.dir.clone());
        tokio::spawn(async move {
            if hup.recv().await.is_some() {
                let _ = std::fs::remove_file(&path);
                let _ = std::fs::remove_dir_all(&dir);
                std::process::exit(129);
            }
        });
        Ok(())
    }
}

impl Drop for KubeconfigFile {
    fn drop(&mut self) {
        self.remove();
    }
}

/// The base for private directories: `$XDG_RUNTIME_DIR` when it is a private directory
/// (not a symlink), else the temp dir.
fn base_dir() -> PathBuf {
    let runtime = std::env::var_os("XDG_RUNTIME_DIR")
        .map(PathBuf::from)
        .filter(|d| {
            std::fs::symlink_metadata(d)
                .is_ok_and(|m| m.is_dir() && m.permissions().mode() & 0o077 == 0)
        });
    runtime.unwrap_or_else(std::env::temp_dir)
}

/// A new 0700 directory with an unpredictable name (`mkdir` fails on anything already there,
/// a symlink included, so nobody can make us use their directory).
fn private_dir() -> Result<PathBuf> {
    let base = base_dir();
    for _ in 0..16 {
        // Short (the TUI shows the path); `mkdir`'s exclusivity, not the name, is the guard.
        let dir = base.join(format!("kubedrain-{:08x}", rand::random::<u32>()));
        match DirBuilder::new().mode(0o700).create(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => {
                return Err(e).wrap_err_with(|| format!("creating {}", dir.display()));
            }
        }
    }
    Err(eyre!(
        "could not create a private directory in {}",
        base.display()
    ))
}

/// Creates `path` with mode 0600 and writes `contents`; refuses an existing file or symlink
/// (`O_CREAT|O_EXCL` never follows a symlink, dangling or not).
pub fn create_exclusive(path: &Path, contents: &str) -> Result<()> {
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .wrap_err_with(|| format!("creating {} (it must not exist yet)", path.display()))?;
    f.write_all(contents.as_bytes())
        .and_then(|()| f.sync_all())
        .wrap_err_with(|| format!("writing {}", path.display()))
}

/// Writes `contents` to a path the user chose: a new 0600 file beside it, renamed over it. A
/// symlink at `path` is replaced, never followed.
pub fn replace_private(path: &Path, contents: &str) -> Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).wrap_err_with(|| format!("creating {}", dir.display()))?;
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("kubeconfig");
    let tmp = dir.join(format!(".{name}.{:016x}.tmp", rand::random::<u64>()));
    create_exclusive(&tmp, contents)?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        eyre!("writing {}: {e}", path.display())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_files_are_0600_in_a_0700_dir_and_go_away() {
        let f = KubeconfigFile::private("kc", "secret").unwrap();
        let p = f.path().to_path_buf();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&p), 0o600);
        assert_eq!(mode(p.parent().unwrap()), 0o700);
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "secret");
        let dir = p.parent().unwrap().to_path_buf();
        drop(f);
        assert!(!p.exists() && !dir.exists());
    }

    #[test]
    fn a_planted_symlink_is_refused_or_replaced_never_followed() {
        let d = tempfile::tempdir().unwrap();
        let victim = d.path().join("victim");
        std::fs::write(&victim, "precious").unwrap();
        let link = d.path().join("kc");
        std::os::unix::fs::symlink(&victim, &link).unwrap();
        let err = create_exclusive(&link, "x").unwrap_err();
        assert!(format!("{err:#}").contains("must not exist"), "{err:#}");
        replace_private(&link, "cfg").unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
        let m = std::fs::symlink_metadata(&link).unwrap();
        assert!(m.is_file(), "the link itself was replaced by a file");
        assert_eq!(m.permissions().mode() & 0o777, 0o600);
    }
}
