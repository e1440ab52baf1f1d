//! Writing results: the replay's CSV and JSON files, written atomically.

pub mod html;
pub mod merge;
pub mod run;
pub mod study;

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::input::Day;

/// Named files of a report, ready to be written together.
pub type ReportFiles = Vec<(&'static str, Vec<u8>)>;
use crate::metrics::{Summary, UNSETTLED};
use crate::replay::Replay;
use crate::time::SimTime;

/// `summary.json` of a replay: the contract's keys plus what was run.
#[derive(Serialize)]
pub struct ReplaySummaryFile<'a> {
    pub schema: &'static str,
    pub strategy: &'a str,
    pub day_end: String,
    #[serde(flatten)]
    pub summary: &'a Summary,
}

/// Formats `settlements.csv`: one row per payment in input row order.
pub fn settlements_csv(day: &Day, settle: &[u32]) -> Vec<u8> {
    let payments = &day.payments;
    let mut out = Vec::with_capacity(payments.len() * 40 + 32);
    out.extend_from_slice(b"id,status,settle,delay_ms\n");
    let mut number = itoa::Buffer::new();
    for (row, &at) in settle.iter().enumerate() {
        write_csv_field(&mut out, payments.id(row));
        if at == UNSETTLED {
            out.extend_from_slice(b",unsettled,,\n");
        } else {
            out.extend_from_slice(b",settled,");
            SimTime(at).write_text(&mut out);
            out.push(b',');
            out.extend_from_slice(number.format(at - payments.submit[row].ms()).as_bytes());
            out.push(b'\n');
        }
    }
    out
}

/// Formats `balances.csv`: one row per participant in index order.
pub fn balances_csv(day: &Day, replay: &Replay) -> Vec<u8> {
    let participants = &day.participants;
    let mut out = Vec::with_capacity(participants.len() * 48 + 48);
    out.extend_from_slice(b"id,opening_balance,closing_balance,min_balance\n");
    let mut number = itoa::Buffer::new();
    for i in 0..participants.len() {
        out.extend_from_slice(participants.ids[i].as_bytes());
        for value in [
            participants.opening_fen[i],
            replay.closing_fen[i],
            replay.min_balance_fen[i],
        ] {
            out.push(b',');
            out.extend_from_slice(number.format(value).as_bytes());
        }
        out.push(b'\n');
    }
    out
}

/// Writes a field, quoting it when CSV requires (ids are free text).
fn write_csv_field(out: &mut Vec<u8>, field: &[u8]) {
    let needs_quotes = field
        .iter()
        .any(|&b| matches!(b, b',' | b'"' | b'\n' | b'\r'));
    if !needs_quotes {
        out.extend_from_slice(field);
        return;
    }
    out.push(b'"');
    for &b in field {
        if b == b'"' {
            out.push(b'"');
        }
        out.push(b);
    }
    out.push(b'"');
}

pub fn to_json<T: Serialize>(value: &T) -> Result<Vec<u8>, std::io::Error> {
    let mut bytes = serde_json::to_vec_pretty(value).map_err(std::io::Error::other)?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// Writes several files into `dir` so that none is ever seen half-written:
/// each goes to a temporary name first, and all are renamed only once all
/// were written and synced. On error the temporaries are removed.
pub fn write_all_atomic(dir: &Path, files: &[(&str, &[u8])]) -> std::io::Result<()> {
    fs::create_dir_all(dir)?;
    let mut temporaries: Vec<(PathBuf, PathBuf)> = Vec::with_capacity(files.len());
    let result = (|| {
        for (name, bytes) in files {
            let temporary = dir.join(format!(".{name}.tmp-{}", std::process::id()));
            temporaries.push((temporary.clone(), dir.join(name)));
            let mut file = fs::File::create(&temporary)?;
            file.write_all(bytes)?;
            file.sync_all()?;
        }
        for (temporary, target) in &temporaries {
            fs::rename(temporary, target)?;
        }
        Ok(())
    })();
    if result.is_err() {
        for (temporary, _) in &temporaries {
            let _ = fs::remove_file(temporary);
        }
    }
    result
}

/// A file written through a temporary name and renamed into place on
/// [`commit`](AtomicFile::commit); dropped uncommitted, it is removed.
pub struct AtomicFile {
    temporary: PathBuf,
    target: PathBuf,
    writer: Option<std::io::BufWriter<fs::File>>,
}

impl AtomicFile {
    pub fn create(dir: &Path, name: &str) -> std::io::Result<AtomicFile> {
        fs::create_dir_all(dir)?;
        let temporary = dir.join(format!(".{name}.tmp-{}", std::process::id()));
        let file = fs::File::create(&temporary)?;
        Ok(AtomicFile {
            temporary,
            target: dir.join(name),
            writer: Some(std::io::BufWriter::with_capacity(1 << 20, file)),
        })
    }

    pub fn writer(&mut self) -> &mut impl Write {
        self.writer.as_mut().expect("open until committed")
    }

    pub fn commit(mut self) -> std::io::Result<()> {
        if let Some(writer) = self.writer.take() {
            let file = writer.into_inner().map_err(|e| e.into_error())?;
            file.sync_all()?;
        }
        fs::rename(&self.temporary, &self.target)
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if self.writer.is_some() {
            let _ = fs::remove_file(&self.temporary);
        }
    }
}
