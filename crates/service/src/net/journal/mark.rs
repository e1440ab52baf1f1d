//! The journal's high-water mark, `DIR/journal.mark`: how many records,
//! and how many bytes, the journal had made durable.
//!
//! ```text
//! "CLRSMRK1" | records u64 | bytes u64 | CRC-32 u32 of the two
//! ```
//!
//! A frame that a truncation or a zeroed sector removes leaves no trace in
//! the journal itself: what is left reads as a clean, shorter day. The mark
//! is kept apart so that such a loss is seen. The journal thread rewrites
//! it in place (one 28-byte write) after every frame is durable, and makes
//! the mark itself durable at least once a second and at the day's end —
//! not after every frame, which would double the fsyncs a payment waits
//! for. So a crash of the process (kill -9) leaves the exact mark; a power
//! loss leaves a mark at most a second old, never ahead of the journal.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The mark's file in the journal's directory.
pub const FILE: &str = "journal.mark";
const MAGIC: &[u8; 8] = b"CLRSMRK1";
const BYTES: usize = 28;
/// The mark is made durable at least this often while frames are written.
const SYNC_EVERY: Duration = Duration::from_secs(1);

/// How far the journal had got.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Mark {
    pub records: u64,
    pub bytes: u64,
}

impl Mark {
    fn encode(self) -> [u8; BYTES] {
        let mut out = [0u8; BYTES];
        out[..8].copy_from_slice(MAGIC);
        out[8..16].copy_from_slice(&self.records.to_le_bytes());
        out[16..24].copy_from_slice(&self.bytes.to_le_bytes());
        let crc = crc32fast::hash(&out[8..24]);
        out[24..].copy_from_slice(&crc.to_le_bytes());
        out
    }

    fn decode(bytes: &[u8]) -> Option<Mark> {
        if bytes.len() != BYTES || &bytes[..8] != MAGIC {
            return None;
        }
        let crc = u32::from_le_bytes(bytes[24..28].try_into().ok()?);
        if crc32fast::hash(&bytes[8..24]) != crc {
            return None;
        }
        Some(Mark {
            records: u64::from_le_bytes(bytes[8..16].try_into().ok()?),
            bytes: u64::from_le_bytes(bytes[16..24].try_into().ok()?),
        })
    }
}

/// The mark in `dir`: `Ok(None)` if there is none (a journal written
/// before marks existed, or a new one), `Err` with why it cannot be read.
pub fn read(dir: &Path) -> Result<Option<Mark>, String> {
    let path = dir.join(FILE);
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.to_string()),
    };
    Mark::decode(&bytes)
        .map(Some)
        .ok_or_else(|| format!("{BYTES} bytes with a good checksum expected"))
}

/// The journal thread's side: rewrites the mark after every frame.
pub struct Marker {
    file: File,
    path: PathBuf,
    mark: Mark,
    synced: Instant,
}

impl Marker {
    /// Opens (creating, mode 0600) `dir`'s mark and sets it to `mark`,
    /// durably.
    pub fn open(dir: &Path, mark: Mark) -> std::io::Result<Marker> {
        use std::os::unix::fs::OpenOptionsExt;
        let path = dir.join(FILE);
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&path)?;
        file.set_len(BYTES as u64)?;
        let mut marker = Marker {
            file,
            path,
            mark,
            synced: Instant::now(),
        };
        marker.write(mark, true)?;
        Ok(marker)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Records that the journal now durably holds `mark`; the mark itself
    /// is made durable when `sync`, or when the last sync is a second old.
    pub fn write(&mut self, mark: Mark, sync: bool) -> std::io::Result<()> {
        self.mark = mark;
        self.file.write_all_at(&mark.encode(), 0)?;
        if sync || self.synced.elapsed() >= SYNC_EVERY {
            self.file.sync_data()?;
            self.synced = Instant::now();
        }
        Ok(())
    }

    pub fn mark(&self) -> Mark {
        self.mark
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mark_reads_back_and_damage_is_seen() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(read(dir.path()), Ok(None));
        let mark = Mark {
            records: 12,
            bytes: 345,
        };
        let mut marker = Marker::open(dir.path(), Mark::default()).unwrap();
        marker.write(mark, false).unwrap();
        assert_eq!(read(dir.path()), Ok(Some(mark)));
        let mut bytes = std::fs::read(dir.path().join(FILE)).unwrap();
        bytes[10] ^= 1;
        std::fs::write(dir.path().join(FILE), &bytes).unwrap();
        assert!(read(dir.path()).is_err());
    }
}
