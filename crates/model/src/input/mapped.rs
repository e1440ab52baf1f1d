//! Input files mapped into memory instead of read: a 2.5 GB payments file
//! is parsed in one pass over the mapping, and the pages already parsed are
//! handed back to the kernel as the pass goes ([`Mapped::release`]), so the
//! file never sits in memory whole (the 64-bytes-per-row budget of a
//! replay, issue 11).
//!
//! The one condition of a mapping: the file must not shrink while clearsim
//! reads it (another process truncating it would end the read with SIGBUS).
//! `docs/decisions.md` records it; the common case, a file written once
//! and replayed, is unaffected.

use std::fs::File;
use std::io;
use std::path::Path;

/// A read-only file mapping; or, for what cannot be mapped (a pipe such as
/// `<(zcat day.csv.gz)`, an empty file), the bytes read whole.
pub struct Mapped {
    map: Option<memmap2::Mmap>,
    read: Vec<u8>,
}

/// How many bytes the parser moves on between two releases.
pub const RELEASE_EVERY_BYTES: usize = 64 << 20;

impl Mapped {
    pub fn open(path: &Path) -> io::Result<Mapped> {
        super::file_or_pipe(path)?;
        let file = File::open(path)?;
        let meta = file.metadata()?;
        if meta.is_file() && meta.len() > 0 {
            // SAFETY: the mapping is read-only; its contents change only if
            // another process rewrites the file during the run, which the
            // module documentation excludes.
            #[allow(unsafe_code)]
            if let Ok(map) = unsafe { memmap2::Mmap::map(&file) } {
                #[cfg(unix)]
                let _ = map.advise(memmap2::Advice::Sequential);
                return Ok(Mapped {
                    map: Some(map),
                    read: Vec::new(),
                });
            }
        }
        let mut read = Vec::new();
        io::Read::read_to_end(&mut &file, &mut read)?;
        Ok(Mapped { map: None, read })
    }

    pub fn bytes(&self) -> &[u8] {
        self.map.as_deref().unwrap_or(&self.read)
    }

    /// Drops the pages wholly before byte `upto` from this process's memory:
    /// the parser is past them. Reading them again (an error message that
    /// quotes a line) faults them back in from the file. A hint: failure
    /// changes nothing but memory.
    pub fn release(&self, upto: usize) {
        #[cfg(unix)]
        if let Some(map) = &self.map {
            let upto = upto.min(map.len());
            // SAFETY: MADV_DONTNEED on a read-only file mapping discards no
            // data: the pages were never written, and the next read of them
            // loads the file's bytes again.
            #[allow(unsafe_code)]
            let _ =
                unsafe { map.unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, 0, upto) };
        }
        #[cfg(not(unix))]
        let _ = upto;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Released pages read back as the file's bytes; an empty file gives
    /// none; a directory is an error.
    #[test]
    fn released_pages_read_back() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("payments.csv");
        let text: Vec<u8> = (0..200_000u32)
            .flat_map(|i| format!("P{i},08:00:00,A,B,{}\n", i + 1).into_bytes())
            .collect();
        std::fs::write(&path, &text).expect("write");
        let mapped = Mapped::open(&path).expect("maps");
        assert_eq!(mapped.bytes(), &text[..]);
        mapped.release(text.len() / 2);
        mapped.release(usize::MAX);
        assert_eq!(mapped.bytes(), &text[..]);

        let empty = dir.path().join("empty.csv");
        std::fs::write(&empty, b"").expect("write");
        assert_eq!(Mapped::open(&empty).expect("opens").bytes(), b"");
        // A directory cannot be mapped, and reading it fails: an error.
        assert!(Mapped::open(dir.path()).is_err());
    }
}
