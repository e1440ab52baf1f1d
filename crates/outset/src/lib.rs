//! Publishing a result set: every file of a command's output appears at
//! once, or none does.
//!
//! An [`OutputSet`] is a fresh private directory next to the target,
//! created exclusively (mode 0700 on Unix) under a name no other run uses;
//! files are created inside it with `create_new` (so nothing there can be a
//! planted symlink), written, synced; the marker file `.clearsim` goes in
//! last; then the directory replaces the target in one rename (an atomic
//! exchange where the kernel offers one). Dropped uncommitted, it is
//! removed. Temporary directories left by a killed run are cleaned on the
//! next start. A target that exists must be a clearsim output directory
//! (it holds `.clearsim`) or empty: clearsim never replaces anything else.

use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// The marker of a clearsim output directory.
pub const MARKER: &str = ".clearsim";

/// Why an output directory cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("{0}: exists and is not a directory")]
    NotADirectory(PathBuf),
    #[error(
        "{0}: exists, is not empty and is not a clearsim output directory (no {MARKER}); choose another --out"
    )]
    NotOurs(PathBuf),
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("{target}: cannot create its folder {parent}: {source}")]
    Parent {
        target: PathBuf,
        parent: PathBuf,
        source: io::Error,
    },
}

fn io_at(path: &Path) -> impl FnOnce(io::Error) -> OutputError + '_ {
    move |source| OutputError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Whether `dir` may be replaced by a new result set.
pub fn check_target(dir: &Path) -> Result<(), OutputError> {
    match fs::symlink_metadata(dir) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_at(dir)(e)),
        Ok(meta) if !meta.is_dir() => Err(OutputError::NotADirectory(dir.to_path_buf())),
        Ok(_) => {
            let mut entries = fs::read_dir(dir).map_err(io_at(dir))?;
            let ours = dir.join(MARKER).is_file();
            if ours || entries.next().is_none() {
                Ok(())
            } else {
                Err(OutputError::NotOurs(dir.to_path_buf()))
            }
        }
    }
}

/// A result set being written; published by [`OutputSet::commit`].
pub struct OutputSet {
    target: PathBuf,
    staging: PathBuf,
    committed: bool,
}

static NONCE: AtomicU64 = AtomicU64::new(0);

/// A name no other live run can be using: the process id, the time and a
/// counter.
fn unique(prefix: &str, name: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!(
        ".{name}.{prefix}-{}-{nanos:x}-{}",
        std::process::id(),
        NONCE.fetch_add(1, Ordering::Relaxed)
    )
}

impl OutputSet {
    /// Checks the target and creates the private staging directory: call it
    /// before the work, so that a bad `--out` fails at once.
    pub fn create(target: &Path) -> Result<OutputSet, OutputError> {
        check_target(target)?;
        let parent = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = target
            .file_name()
            .map_or_else(|| "out".into(), |n| n.to_string_lossy().into_owned());
        fs::create_dir_all(&parent).map_err(|source| OutputError::Parent {
            target: target.to_path_buf(),
            parent: parent.clone(),
            source,
        })?;
        clean_stale(&parent, &name);
        // Bounded: a clash needs another run with our pid and clock.
        for _ in 0..16 {
            let staging = parent.join(unique("tmp", &name));
            match private_dir(&staging) {
                Ok(()) => {
                    return Ok(OutputSet {
                        target: target.to_path_buf(),
                        staging,
                        committed: false,
                    });
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                // Named as the user gave it: the staging name means nothing
                // to them.
                Err(e) => return Err(io_at(target)(e)),
            }
        }
        Err(io_at(&parent)(io::Error::other(
            "cannot create a private staging directory",
        )))
    }

    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Writes a whole file of the set.
    pub fn write(&self, name: &str, bytes: &[u8]) -> Result<(), OutputError> {
        let mut file = self.file(name)?;
        file.write_all(bytes)
            .map_err(io_at(&self.target.join(name)))?;
        file.finish()
    }

    /// A file of the set to stream into; [`SetFile::finish`] syncs it.
    /// Errors name it where it will be published, not where it is staged.
    pub fn file(&self, name: &str) -> Result<SetFile, OutputError> {
        let path = self.target.join(name);
        let file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(self.staging.join(name))
            .map_err(io_at(&path))?;
        Ok(SetFile {
            writer: BufWriter::with_capacity(1 << 20, file),
            path,
        })
    }

    /// Removes a file staged in the set (one begun, then not wanted).
    pub fn remove(&self, name: &str) -> Result<(), OutputError> {
        match fs::remove_file(self.staging.join(name)) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(io_at(&self.target.join(name))(e)),
            _ => Ok(()),
        }
    }

    /// Publishes the set: the marker goes in last, then the staging
    /// directory replaces the target.
    pub fn commit(mut self) -> Result<(), OutputError> {
        self.write(MARKER, b"clearsim output set\n")?;
        sync_dir(&self.staging).map_err(io_at(&self.target))?;
        // Checked again: something may have appeared meanwhile.
        check_target(&self.target)?;
        replace(&self.staging, &self.target).map_err(io_at(&self.target))?;
        self.committed = true;
        Ok(())
    }
}

impl Drop for OutputSet {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_dir_all(&self.staging);
        }
    }
}

/// One file of an output set, written through a buffer.
pub struct SetFile {
    writer: BufWriter<fs::File>,
    /// Where it will be published (errors name it).
    path: PathBuf,
}

impl SetFile {
    pub fn writer(&mut self) -> &mut impl Write {
        &mut self.writer
    }

    pub fn finish(self) -> Result<(), OutputError> {
        let path = self.path;
        let file = self
            .writer
            .into_inner()
            .map_err(|e| io_at(&path)(e.into_error()))?;
        file.sync_all().map_err(io_at(&path))
    }
}

impl Write for SetFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.writer.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.writer.flush()
    }
}

/// Writes `bytes` to `path` through a temporary file of `mode` in the same
/// folder, synced and renamed over it, the folder then synced: the file is
/// whole or not there, and never more readable than `mode`.
pub fn write_file_whole(path: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temporary = path.with_file_name(format!(".{name}.partial"));
    let _ = fs::remove_file(&temporary);
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(&temporary)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    fs::rename(&temporary, path)?;
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => sync_dir(parent),
        _ => sync_dir(Path::new(".")),
    }
}

#[cfg(unix)]
fn private_dir(path: &Path) -> io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    fs::DirBuilder::new().mode(0o700).create(path)
}

#[cfg(not(unix))]
fn private_dir(path: &Path) -> io::Result<()> {
    fs::create_dir(path)
}

fn sync_dir(path: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        fs::File::open(path)?.sync_all()?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// Puts `staging` in the place of `target`: a plain rename when there is no
/// target; else an atomic exchange where the kernel offers one, or two
/// renames (the old set moved aside first, so a reader never sees a mix).
fn replace(staging: &Path, target: &Path) -> io::Result<()> {
    if fs::symlink_metadata(target).is_err() {
        return fs::rename(staging, target);
    }
    if exchange(staging, target).is_ok() {
        // `staging` now holds the old set.
        return fs::remove_dir_all(staging);
    }
    let parent = target.parent().unwrap_or(Path::new("."));
    let name = target
        .file_name()
        .map_or_else(|| "out".into(), |n| n.to_string_lossy().into_owned());
    let aside = parent.join(unique("old", &name));
    fs::rename(target, &aside)?;
    fs::rename(staging, target)?;
    fs::remove_dir_all(&aside)
}

#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let a = std::ffi::CString::new(a.as_os_str().as_bytes())?;
    let b = std::ffi::CString::new(b.as_os_str().as_bytes())?;
    // SAFETY: two valid NUL-terminated paths; renameat2 reads them only.
    #[allow(unsafe_code)]
    let rc = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(not(target_os = "linux"))]
fn exchange(_a: &Path, _b: &Path) -> io::Result<()> {
    Err(io::Error::other("no atomic exchange here"))
}

/// Removes staging and set-aside directories of `name` left by runs that
/// are no longer alive (killed, or failed before cleaning up). Where there
/// is no /proc to tell a live run from a dead one, nothing is removed.
#[cfg(not(target_os = "linux"))]
fn clean_stale(_parent: &Path, _name: &str) {}

#[cfg(target_os = "linux")]
fn clean_stale(parent: &Path, name: &str) {
    let Ok(entries) = fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let text = file_name.to_string_lossy();
        let Some(rest) = text
            .strip_prefix(&format!(".{name}.tmp-"))
            .or_else(|| text.strip_prefix(&format!(".{name}.old-")))
        else {
            continue;
        };
        let pid = rest.split('-').next().and_then(|p| p.parse::<u32>().ok());
        let alive = pid.is_some_and(|pid| {
            pid == std::process::id() || Path::new(&format!("/proc/{pid}")).exists()
        });
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        if !alive && is_dir {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}
