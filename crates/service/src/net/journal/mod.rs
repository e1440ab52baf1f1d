//! The journal of `clearsim serve --journal DIR`: every accepted
//! instruction, durable before its ACCEPTED is sent.
//!
//! One file, `DIR/journal.bin`:
//!
//! ```text
//! "CLRSJNL1" | header length u32 | header (JSON) | header CRC-32 u32
//! frame*     : "JNLF" u32 | records u32 | first seq u64 | CRC-32 u32 | 0 u32
//!              | records × 40 bytes
//! record     : seq u64 | client ref u64 | amount fen i64 | sender u32
//!              | receiver u32 | at ms u32 | instrument u16 | priority u8 | 0 u8
//! ```
//!
//! All little-endian. A frame is one group commit: written whole, then
//! fsynced, and only then are its notices sent; the next frame is written
//! only after that. So only the last frame can be torn by a crash, and torn
//! means short: a partial frame header, a partial frame, or a tail of
//! zeros. Anything else that does not read — a complete frame whose
//! checksum fails, a count past the limit, a sequence gap, bytes after the
//! day's end marker, a partial frame followed by a good one — is damage to
//! acknowledged data: the journal is refused (exit 2, naming the byte and
//! the records the frame claims), never repaired. A frame's CRC covers its
//! count, first sequence number and records; sequence numbers run on
//! without a gap from 0. A torn tail cut off at recovery is kept in a side
//! file first, and the high-water mark ([`mark`]) catches the frames a
//! truncation removes whole.

pub mod mark;

use super::protocol::Submit;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use clearsim_core::money::AmountBudget;
use serde::{Deserialize, Serialize};

/// The journal's file in its directory.
pub const FILE: &str = "journal.bin";
const MAGIC: &[u8; 8] = b"CLRSJNL1";
const FRAME_MAGIC: [u8; 4] = *b"JNLF";
const FRAME_HEADER_BYTES: usize = 24;
pub const RECORD_BYTES: usize = 40;
/// Records in one frame at most (one group commit: 2.6 MB).
pub const MAX_FRAME_RECORDS: usize = 1 << 16;
/// The header's JSON at most (a city's ids and accounts).
const MAX_HEADER_BYTES: usize = 16 << 20;

/// What the journal was written for: recovery refuses another setup, and
/// an export states the replay that reproduces the service's day.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    pub participants: Vec<Account>,
    /// Instrument names by index (SUBMIT's `instrument`).
    pub instruments: Vec<String>,
    /// `clearsim replay` flags for the service's gross channel.
    pub replay_flags: Vec<String>,
    pub day_end_ms: u32,
    pub max_queued: u64,
    /// Of those, one sender's at most (0 in a journal written before the
    /// share existed: such a journal is refused as another setup).
    #[serde(default)]
    pub max_queued_per_sender: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub id: String,
    pub opening_fen: i64,
    pub credit_limit_fen: i64,
}

/// One accepted instruction, as the engine took it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Record {
    pub seq: u64,
    pub client_ref: u64,
    pub amount_fen: i64,
    pub sender: u32,
    pub receiver: u32,
    /// The engine's instant when it arrived (ms of the service's day).
    pub at_ms: u32,
    pub instrument: u16,
    pub priority: u8,
}

impl Record {
    /// `submit` from `sender`, accepted with sequence number `seq` at the
    /// engine's instant `at`.
    pub fn of(seq: u64, sender: u32, at: clearsim_core::time::SimTime, submit: &Submit) -> Record {
        Record {
            seq,
            client_ref: submit.client_ref,
            amount_fen: submit.amount_fen,
            sender,
            receiver: submit.receiver,
            at_ms: at.ms(),
            instrument: submit.instrument,
            priority: submit.priority,
        }
    }

    /// The payment as its bank submitted it.
    pub fn submit(&self) -> Submit {
        Submit {
            client_ref: self.client_ref,
            receiver: self.receiver,
            amount_fen: self.amount_fen,
            priority: self.priority,
            instrument: self.instrument,
        }
    }

    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.seq.to_le_bytes());
        out.extend_from_slice(&self.client_ref.to_le_bytes());
        out.extend_from_slice(&self.amount_fen.to_le_bytes());
        out.extend_from_slice(&self.sender.to_le_bytes());
        out.extend_from_slice(&self.receiver.to_le_bytes());
        out.extend_from_slice(&self.at_ms.to_le_bytes());
        out.extend_from_slice(&self.instrument.to_le_bytes());
        out.push(self.priority);
        out.push(0);
    }

    fn decode(bytes: &[u8; RECORD_BYTES]) -> Record {
        let u64_at = |i: usize| u64::from_le_bytes(bytes[i..i + 8].try_into().unwrap_or([0; 8]));
        let u32_at = |i: usize| u32::from_le_bytes(bytes[i..i + 4].try_into().unwrap_or([0; 4]));
        Record {
            seq: u64_at(0),
            client_ref: u64_at(8),
            amount_fen: u64_at(16) as i64,
            sender: u32_at(24),
            receiver: u32_at(28),
            at_ms: u32_at(32),
            instrument: u16::from_le_bytes([bytes[36], bytes[37]]),
            priority: bytes[38],
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// The journal's path cannot be used (missing folder, permissions, a
    /// read-only disk): the user's to fix.
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    /// Writing failed while serving (a disk that fails under it).
    #[error("{path}: cannot be written: {source}")]
    Disk {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: not a clearsim journal (bad magic or header)")]
    NotAJournal { path: String },
    #[error(
        "{path}: damaged at byte {offset}: {reason} (acknowledged data is damaged; the journal is not repaired)"
    )]
    Corrupt {
        path: String,
        offset: u64,
        reason: String,
    },
    #[error(
        "{path}: written for another setup ({field} differs); serve the config it was written for, or start a new journal"
    )]
    Mismatch { path: String, field: &'static str },
    #[error("{path}: record {seq} is impossible: {reason}")]
    BadRecord {
        path: String,
        seq: u64,
        reason: String,
    },
    #[error(
        "{path}: holds {records} records ({bytes} bytes), but its high-water mark {mark_path} says {marked_records} records ({marked_bytes} bytes) were made durable: acknowledged frames are lost (truncated or overwritten); restore the journal from a copy, or move the mark aside to accept the loss"
    )]
    Lost {
        path: String,
        records: u64,
        bytes: u64,
        mark_path: String,
        marked_records: u64,
        marked_bytes: u64,
    },
    #[error("{path}: a damaged high-water mark: {reason} (move it aside to recover without it)")]
    BadMark { path: String, reason: String },
    #[error(
        "{path}: readable or writable by others (mode {mode:04o}): it holds every bank's payments; chmod 600 it"
    )]
    Exposed { path: String, mode: u32 },
}

/// A journal's contents: its valid prefix, and what follows it (a torn
/// tail, never read as data).
pub struct Contents {
    pub header: Header,
    pub records: Vec<Record>,
    /// The service closed the day: nothing more may be accepted.
    pub day_closed: bool,
    /// Where the valid prefix ends, and the file's length.
    pub valid_bytes: u64,
    pub file_bytes: u64,
    /// Whole records in the torn tail (never acknowledged).
    pub torn_records: u64,
}

fn disk_error(path: &Path) -> impl Fn(std::io::Error) -> JournalError + '_ {
    move |source| JournalError::Disk {
        path: path.display().to_string(),
        source,
    }
}

fn io_error(path: &Path) -> impl Fn(std::io::Error) -> JournalError + '_ {
    move |source| JournalError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Reads `dir`'s journal without changing it.
pub fn read(dir: &Path) -> Result<Contents, JournalError> {
    let path = dir.join(FILE);
    let shown = path.display().to_string();
    check_private(&path)?;
    let bytes = clearsim_model::input::read_regular(&path).map_err(io_error(&path))?;
    let contents = decode(&bytes, &shown)?;
    check_mark(dir, &contents)?;
    Ok(contents)
}

/// A journal's bytes (named `shown` in errors) as recovery reads them:
/// header, frames, torn tail or damage, and every record checked.
pub fn decode(bytes: &[u8], shown: &str) -> Result<Contents, JournalError> {
    let (header, start) = decode_header(bytes).ok_or_else(|| JournalError::NotAJournal {
        path: shown.to_string(),
    })?;
    let frames = read_frames(bytes, start).map_err(|(offset, reason)| JournalError::Corrupt {
        path: shown.to_string(),
        offset: offset as u64,
        reason,
    })?;
    check_records(shown, &header, &frames.records)?;
    Ok(Contents {
        header,
        records: frames.records,
        day_closed: frames.day_closed,
        valid_bytes: frames.valid_bytes as u64,
        file_bytes: bytes.len() as u64,
        torn_records: frames.torn_records,
    })
}

/// A journal's bytes: `header`, then one frame of `records` (numbered as
/// they are; at most a frame's worth), then the day's end marker if
/// `closed`. For tests and fuzz targets that need checksums that hold.
pub fn encode(header: &Header, records: &[Record], closed: bool) -> Vec<u8> {
    let mut out = encode_header(header);
    let mut frame = |count: usize, first_seq: u64, body: &[u8]| {
        let start = out.len();
        out.extend_from_slice(&FRAME_MAGIC);
        out.extend_from_slice(&(count as u32).to_le_bytes());
        out.extend_from_slice(&first_seq.to_le_bytes());
        let crc = frame_crc(&out[start + 4..start + 16], body);
        out.extend_from_slice(&crc.to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(body);
    };
    if !records.is_empty() {
        let mut body = Vec::with_capacity(records.len() * RECORD_BYTES);
        for record in records {
            record.encode(&mut body);
        }
        frame(records.len(), records[0].seq, &body);
    }
    if closed {
        frame(0, records.len() as u64, &[]);
    }
    out
}

/// The journal holds every bank's payments: refused if others may read it.
fn check_private(path: &Path) -> Result<(), JournalError> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(path).map_err(io_error(path))?;
    let mode = meta.permissions().mode() & 0o7777;
    if mode & 0o077 != 0 {
        return Err(JournalError::Exposed {
            path: path.display().to_string(),
            mode,
        });
    }
    Ok(())
}

/// Refuses a journal shorter than its high-water mark says it was.
fn check_mark(dir: &Path, contents: &Contents) -> Result<(), JournalError> {
    let mark_path = dir.join(mark::FILE);
    let marked = mark::read(dir).map_err(|reason| JournalError::BadMark {
        path: mark_path.display().to_string(),
        reason,
    })?;
    let Some(marked) = marked else {
        return Ok(());
    };
    let records = contents.records.len() as u64;
    if records < marked.records || contents.valid_bytes < marked.bytes {
        return Err(JournalError::Lost {
            path: dir.join(FILE).display().to_string(),
            records,
            bytes: contents.valid_bytes,
            mark_path: mark_path.display().to_string(),
            marked_records: marked.records,
            marked_bytes: marked.bytes,
        });
    }
    Ok(())
}

/// The frames after the header: their records, and where the valid
/// prefix ends; or the offset of the damage and what it is.
struct Frames {
    records: Vec<Record>,
    day_closed: bool,
    valid_bytes: usize,
    torn_records: u64,
}

fn read_frames(bytes: &[u8], start: usize) -> Result<Frames, (usize, String)> {
    let mut frames = Frames {
        records: Vec::new(),
        day_closed: false,
        valid_bytes: start,
        torn_records: 0,
    };
    let mut offset = start;
    while offset < bytes.len() {
        if frames.day_closed {
            return Err((offset, "bytes after the day's end marker".into()));
        }
        match decode_frame(&bytes[offset..], frames.records.len() as u64) {
            Ok(FRAME_HEADER_BYTES) => {
                frames.day_closed = true;
                offset += FRAME_HEADER_BYTES;
            }
            Ok(used) => {
                push_records(
                    &bytes[offset + FRAME_HEADER_BYTES..offset + used],
                    &mut frames.records,
                );
                offset += used;
            }
            Err(fault) => {
                frames.torn_records = torn(bytes, offset, &fault).map_err(|why| (offset, why))?;
                break;
            }
        }
    }
    frames.valid_bytes = offset;
    Ok(frames)
}

/// Whether the bad frame at `offset` is a torn write — the file ends in
/// it, and what is there is the start of a frame or zeros, with no good
/// frame after — and then the whole records it holds; otherwise why it
/// is damage.
fn torn(bytes: &[u8], offset: usize, fault: &Fault) -> Result<u64, String> {
    let rest = &bytes[offset..];
    let whole = match *fault {
        Fault::PartialHeader if rest.iter().all(|&b| b == 0) => 0,
        Fault::PartialHeader if FRAME_MAGIC.starts_with(&rest[..rest.len().min(4)]) => 0,
        Fault::NoMarker if rest.iter().all(|&b| b == 0) => 0,
        Fault::Partial { .. } => {
            (rest.len().saturating_sub(FRAME_HEADER_BYTES) / RECORD_BYTES) as u64
        }
        _ => return Err(fault.to_string()),
    };
    if let Some(later) = good_frame_after(bytes, offset + 1) {
        return Err(format!("{fault}, and a good frame follows at byte {later}"));
    }
    Ok(whole)
}

fn decode_header(bytes: &[u8]) -> Option<(Header, usize)> {
    if bytes.len() < 12 || &bytes[..8] != MAGIC {
        return None;
    }
    let length = u32::from_le_bytes(bytes[8..12].try_into().ok()?) as usize;
    if length > MAX_HEADER_BYTES || bytes.len() < 16 + length {
        return None;
    }
    let json = &bytes[12..12 + length];
    let crc = u32::from_le_bytes(bytes[12 + length..16 + length].try_into().ok()?);
    if crc32fast::hash(json) != crc {
        return None;
    }
    Some((serde_json::from_slice(json).ok()?, 16 + length))
}

fn encode_header(header: &Header) -> Vec<u8> {
    let json = serde_json::to_vec(header).unwrap_or_default();
    let mut out = Vec::with_capacity(json.len() + 16);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&(json.len() as u32).to_le_bytes());
    out.extend_from_slice(&json);
    out.extend_from_slice(&crc32fast::hash(&json).to_le_bytes());
    out
}

/// Why a frame does not read.
#[derive(Debug, thiserror::Error)]
enum Fault {
    #[error("a partial frame header")]
    PartialHeader,
    #[error("no frame marker")]
    NoMarker,
    #[error("a frame claiming {count} records (at most {MAX_FRAME_RECORDS})")]
    TooMany { count: usize },
    #[error("a partial frame claiming {count} records from seq {first_seq}")]
    Partial { count: usize, first_seq: u64 },
    #[error("a complete frame of {count} records from seq {first_seq} fails its checksum")]
    Checksum { count: usize, first_seq: u64 },
    #[error("a frame of {count} records from seq {first_seq}, where seq {expected} was next")]
    Sequence {
        count: usize,
        first_seq: u64,
        expected: u64,
    },
}

/// The frame at the start of `bytes`, expected to begin with `next_seq`:
/// its length, or why it does not read. Its checksum is computed only
/// when the file holds all of it.
fn decode_frame(bytes: &[u8], next_seq: u64) -> Result<usize, Fault> {
    if bytes.len() < FRAME_HEADER_BYTES {
        return Err(Fault::PartialHeader);
    }
    if bytes[..4] != FRAME_MAGIC {
        return Err(Fault::NoMarker);
    }
    let count = u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]) as usize;
    let first_seq = u64::from_le_bytes(bytes[8..16].try_into().unwrap_or([0; 8]));
    let crc = u32::from_le_bytes([bytes[16], bytes[17], bytes[18], bytes[19]]);
    if count > MAX_FRAME_RECORDS {
        return Err(Fault::TooMany { count });
    }
    let end = FRAME_HEADER_BYTES + count * RECORD_BYTES;
    if bytes.len() < end {
        return Err(Fault::Partial { count, first_seq });
    }
    if frame_crc(&bytes[4..16], &bytes[FRAME_HEADER_BYTES..end]) != crc {
        return Err(Fault::Checksum { count, first_seq });
    }
    if first_seq != next_seq {
        return Err(Fault::Sequence {
            count,
            first_seq,
            expected: next_seq,
        });
    }
    Ok(end)
}

fn frame_crc(count_and_seq: &[u8], records: &[u8]) -> u32 {
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(count_and_seq);
    hasher.update(records);
    hasher.finalize()
}

/// A good frame (any sequence number) at or after `from`, if there is
/// one. Linear in the bytes after `from` whatever they hold: a candidate
/// is checksummed only if the file holds all of it, and all candidates
/// together may checksum at most twice those bytes — past that (crafted
/// frame headers one after another), the answer is "yes, at `from`": the
/// caller then refuses the journal rather than cutting it.
fn good_frame_after(bytes: &[u8], from: usize) -> Option<usize> {
    let mut budget = 2 * bytes.len().saturating_sub(from) + FRAME_HEADER_BYTES;
    let mut at = from;
    while let Some(found) = memchr::memmem::find(bytes.get(at..)?, &FRAME_MAGIC) {
        let offset = at + found;
        let candidate = &bytes[offset..];
        if candidate.len() >= FRAME_HEADER_BYTES {
            let count =
                u32::from_le_bytes([candidate[4], candidate[5], candidate[6], candidate[7]]);
            let first_seq = u64::from_le_bytes(candidate[8..16].try_into().unwrap_or([0; 8]));
            let cost = (count as usize).saturating_mul(RECORD_BYTES);
            if cost <= candidate.len() {
                if cost > budget {
                    return Some(from);
                }
                budget -= cost;
                if decode_frame(candidate, first_seq).is_ok() {
                    return Some(offset);
                }
            }
        }
        at = offset + 1;
    }
    None
}

fn push_records(bytes: &[u8], records: &mut Vec<Record>) {
    for chunk in bytes.chunks_exact(RECORD_BYTES) {
        if let Ok(chunk) = chunk.try_into() {
            records.push(Record::decode(chunk));
        }
    }
}

/// Records the engine could not have accepted are refused: a checksum
/// guards against damage, not against a wrong writer.
fn check_records(path: &str, header: &Header, records: &[Record]) -> Result<(), JournalError> {
    let n = header.participants.len() as u32;
    let openings: Vec<i64> = header.participants.iter().map(|a| a.opening_fen).collect();
    // The service's own bound (`AmountBudget`): a record past it was never
    // accepted, and replayed it would overflow the ledger's sums.
    let mut budget = AmountBudget::new(&openings).ok_or_else(|| JournalError::BadRecord {
        path: path.into(),
        seq: 0,
        reason: "the header's openings: they overflow i64".into(),
    })?;
    let mut last_ms = 0;
    for (i, r) in records.iter().enumerate() {
        let reason = if r.seq != i as u64 {
            Some(format!("out of order at position {i}"))
        } else if r.sender >= n || r.receiver >= n || r.sender == r.receiver {
            Some("its sender or receiver".into())
        } else if !budget.take(r.sender, r.amount_fen) {
            Some(format!(
                "its amount {} fen: not positive, or past the sender's share of the day ({} fen; Σ openings + Σ amounts must stay within i64)",
                r.amount_fen,
                budget.share_fen()
            ))
        } else if usize::from(r.instrument) >= header.instruments.len() {
            Some("its instrument".into())
        } else if r.at_ms < last_ms || r.at_ms > header.day_end_ms {
            Some("its time".into())
        } else {
            None
        };
        if let Some(reason) = reason {
            return Err(JournalError::BadRecord {
                path: path.into(),
                seq: r.seq,
                reason,
            });
        }
        last_ms = r.at_ms;
    }
    Ok(())
}

impl Contents {
    /// The day as replay files: `participants.csv` and `payments.csv`
    /// (a payment's id is its sequence number; its submit time the
    /// instant the engine took it).
    pub fn replay_files(&self) -> (Vec<u8>, Vec<u8>) {
        use clearsim_model::csvout::{self, CsvOut, ParticipantRow, PaymentRow};
        let participants =
            csvout::participants_csv(self.header.participants.iter().map(|a| ParticipantRow {
                id: &a.id,
                name: "",
                category: "",
                opening_fen: a.opening_fen,
                credit_limit_fen: a.credit_limit_fen,
            }));
        let id = |p: u32| self.header.participants[p as usize].id.as_str();
        let mut payments = CsvOut::new(Vec::new());
        let mut write = || -> std::io::Result<()> {
            payments.row(csvout::PAYMENTS_HEADER)?;
            let mut seq = itoa::Buffer::new();
            for r in &self.records {
                payments.payment(&PaymentRow {
                    id: seq.format(r.seq).as_bytes(),
                    submit: clearsim_core::time::SimTime(r.at_ms),
                    sender: id(r.sender),
                    receiver: id(r.receiver),
                    amount_fen: r.amount_fen,
                    priority: i64::from(r.priority),
                    instrument: &self.header.instruments[usize::from(r.instrument)],
                })?;
            }
            Ok(())
        };
        // Writing to a vector cannot fail.
        let _ = write();
        (participants, payments.into_bytes())
    }
}

/// The appending side, owned by the journal thread.
pub struct Writer {
    file: File,
    path: PathBuf,
    frame: Vec<u8>,
    /// How far the journal has got, rewritten after every frame.
    marker: mark::Marker,
}

/// A torn tail recovery cut off: kept in a side file first.
#[derive(Clone, Debug)]
pub struct Cut {
    pub bytes: u64,
    /// Whole records in it (never acknowledged: their frame never was).
    pub whole_records: u64,
    /// Where its bytes are kept.
    pub kept: PathBuf,
}

/// What opening a journal found.
pub struct Opened {
    pub writer: Writer,
    /// The records to recover from, in order.
    pub records: Vec<Record>,
    pub day_closed: bool,
    /// The torn tail cut off, if the file did not end cleanly.
    pub cut: Option<Cut>,
}

/// Opens `dir`'s journal for `header`'s setup, creating it (and `dir`) if
/// there is none; a torn tail is kept in a side file and cut off (and
/// that made durable) first.
pub fn open(dir: &Path, header: &Header) -> Result<Opened, JournalError> {
    let path = dir.join(FILE);
    std::fs::create_dir_all(dir).map_err(io_error(dir))?;
    if std::fs::symlink_metadata(&path).is_err() {
        create(dir, header)?;
    }
    let contents = read(dir)?;
    let shown = path.display().to_string();
    if let Some(field) = first_difference(&contents.header, header) {
        return Err(JournalError::Mismatch { path: shown, field });
    }
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)
        .map_err(io_error(&path))?;
    let cut = cut_torn_tail(dir, &file, &contents)?;
    std::io::Seek::seek(&mut file, std::io::SeekFrom::End(0)).map_err(io_error(&path))?;
    let mark = mark::Mark {
        records: contents.records.len() as u64,
        bytes: contents.valid_bytes,
    };
    let marker = mark::Marker::open(dir, mark).map_err(io_error(&dir.join(mark::FILE)))?;
    Ok(Opened {
        writer: Writer {
            file,
            path,
            frame: Vec::with_capacity(FRAME_HEADER_BYTES + 4096 * RECORD_BYTES),
            marker,
        },
        records: contents.records,
        day_closed: contents.day_closed,
        cut,
    })
}

/// Keeps the torn tail's bytes in `DIR/journal.tail-<offset>.bin`
/// (durably), then cuts the journal at its valid prefix (durably).
fn cut_torn_tail(
    dir: &Path,
    file: &File,
    contents: &Contents,
) -> Result<Option<Cut>, JournalError> {
    let bytes = contents.file_bytes - contents.valid_bytes;
    if bytes == 0 {
        return Ok(None);
    }
    let path = dir.join(FILE);
    let whole = clearsim_model::input::read_regular(&path).map_err(io_error(&path))?;
    let tail = whole
        .get(contents.valid_bytes as usize..)
        .ok_or_else(|| JournalError::Io {
            path: path.display().to_string(),
            source: std::io::Error::other("the journal changed while it was read"),
        })?;
    let kept = dir.join(format!("journal.tail-{}.bin", contents.valid_bytes));
    clearsim_outset::write_file_whole(&kept, tail, 0o600).map_err(io_error(&kept))?;
    file.set_len(contents.valid_bytes)
        .and_then(|()| file.sync_all())
        .map_err(io_error(&path))?;
    Ok(Some(Cut {
        bytes,
        whole_records: contents.torn_records,
        kept,
    }))
}

/// A new journal with only its header, made durable (file and folder).
fn create(dir: &Path, header: &Header) -> Result<(), JournalError> {
    let path = dir.join(FILE);
    clearsim_outset::write_file_whole(&path, &encode_header(header), 0o600).map_err(io_error(&path))
}

fn first_difference(a: &Header, b: &Header) -> Option<&'static str> {
    if a.participants != b.participants {
        Some("the participants or their accounts")
    } else if a.instruments != b.instruments {
        Some("the instruments")
    } else if a.replay_flags != b.replay_flags {
        Some("the settlement strategy")
    } else if a.day_end_ms != b.day_end_ms {
        Some("the day end")
    } else if a.max_queued != b.max_queued {
        Some("the queue limit")
    } else if a.max_queued_per_sender != b.max_queued_per_sender {
        Some("the queue limit per sender")
    } else {
        None
    }
}

impl Writer {
    /// Adds encoded records to the frame being built.
    pub fn append(&mut self, records: &[u8]) {
        if self.frame.is_empty() {
            self.frame.resize(FRAME_HEADER_BYTES, 0);
        }
        self.frame.extend_from_slice(records);
    }

    /// Writes the frame built since the last commit, its records numbered
    /// from `first_seq`, and makes it durable before returning.
    pub fn commit(&mut self, first_seq: u64) -> Result<(), JournalError> {
        let records = self.frame.len().saturating_sub(FRAME_HEADER_BYTES);
        let count = records / RECORD_BYTES;
        clearsim_core::invariant!(
            count > 0 && count <= MAX_FRAME_RECORDS && records.is_multiple_of(RECORD_BYTES),
            "a frame holds 1 to MAX_FRAME_RECORDS whole records"
        );
        self.write_frame(count as u32, first_seq)
    }

    /// Writes the day's end marker (a frame of no records) after record
    /// `next_seq - 1`, durable on return: nothing may follow it.
    pub fn close_day(&mut self, next_seq: u64) -> Result<(), JournalError> {
        self.frame.clear();
        self.frame.resize(FRAME_HEADER_BYTES, 0);
        self.write_frame(0, next_seq)
    }

    fn write_frame(&mut self, count: u32, first_seq: u64) -> Result<(), JournalError> {
        self.frame[..4].copy_from_slice(&FRAME_MAGIC);
        self.frame[4..8].copy_from_slice(&count.to_le_bytes());
        self.frame[8..16].copy_from_slice(&first_seq.to_le_bytes());
        let crc = frame_crc(&self.frame[4..16], &self.frame[FRAME_HEADER_BYTES..]);
        self.frame[16..20].copy_from_slice(&crc.to_le_bytes());
        self.frame[20..24].copy_from_slice(&0u32.to_le_bytes());
        let written = self
            .file
            .write_all(&self.frame)
            .and_then(|()| self.file.sync_data())
            .map_err(disk_error(&self.path));
        let bytes = self.frame.len() as u64;
        self.frame.clear();
        written?;
        let before = self.marker.mark();
        let mark = mark::Mark {
            records: before.records + u64::from(count),
            bytes: before.bytes + bytes,
        };
        // The day's end is the last write: its mark is made durable too.
        self.marker
            .write(mark, count == 0)
            .map_err(disk_error(self.marker.path()))
    }
}

impl clearsim_core::Blamed for JournalError {
    /// A journal the user pointed at that cannot be opened, is damaged,
    /// exposed, foreign or of another setup is theirs to deal with; a disk
    /// that fails under it while serving is the machine's.
    fn blame(&self) -> clearsim_core::Blame {
        match self {
            JournalError::Disk { .. } => clearsim_core::Blame::System,
            _ => clearsim_core::Blame::User,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> Header {
        Header {
            participants: ["A", "B", "C"]
                .iter()
                .map(|id| Account {
                    id: (*id).into(),
                    opening_fen: 1000,
                    credit_limit_fen: 0,
                })
                .collect(),
            instruments: vec!["transfer".into()],
            replay_flags: vec!["--strategy".into(), "rtgs".into()],
            day_end_ms: 86_399_999,
            max_queued: 100,
            max_queued_per_sender: 25,
        }
    }

    fn record(seq: u64) -> Record {
        Record {
            seq,
            client_ref: seq * 10,
            amount_fen: 5 + seq as i64,
            sender: (seq % 3) as u32,
            receiver: ((seq + 1) % 3) as u32,
            at_ms: seq as u32 * 7,
            instrument: 0,
            priority: (seq % 2) as u8,
        }
    }

    fn frame(seqs: std::ops::Range<u64>) -> Vec<u8> {
        let mut out = Vec::new();
        for seq in seqs {
            record(seq).encode(&mut out);
        }
        out
    }

    fn written(dir: &Path) -> Writer {
        let mut writer = open(dir, &header()).unwrap().writer;
        writer.append(&frame(0..2));
        writer.append(&frame(2..3));
        writer.commit(0).unwrap();
        writer.append(&frame(3..4));
        writer.commit(3).unwrap();
        writer
    }

    #[test]
    fn a_record_past_the_senders_share_is_refused_not_replayed() {
        // Two frames of i64::MAX / 2 from one bank would overflow the
        // ledger's sums on replay (issue 24's crash on every restart).
        for amounts in [vec![i64::MAX], vec![1 << 62, 1 << 62], vec![0]] {
            let dir = tempfile::tempdir().unwrap();
            let mut writer = open(dir.path(), &header()).unwrap().writer;
            let mut bytes = Vec::new();
            for (seq, &amount_fen) in amounts.iter().enumerate() {
                Record {
                    amount_fen,
                    sender: 0,
                    receiver: 1,
                    ..record(seq as u64)
                }
                .encode(&mut bytes);
            }
            writer.append(&bytes);
            writer.commit(0).unwrap();
            drop(writer);
            let Err(error) = open(dir.path(), &header()) else {
                panic!("{amounts:?} accepted");
            };
            let text = error.to_string();
            assert!(matches!(error, JournalError::BadRecord { .. }), "{text}");
            assert!(
                text.contains("its amount") && text.contains("share"),
                "{text}"
            );
            assert_eq!(
                clearsim_core::Blamed::blame(&error),
                clearsim_core::Blame::User
            );
        }
    }

    #[test]
    fn records_come_back_as_written() {
        let dir = tempfile::tempdir().unwrap();
        drop(written(dir.path()));
        let opened = open(dir.path(), &header()).unwrap();
        assert!(opened.cut.is_none());
        assert_eq!(opened.records, (0..4).map(record).collect::<Vec<_>>());
    }

    #[test]
    fn a_torn_tail_is_kept_aside_and_cut_at_the_last_good_frame() {
        let dir = tempfile::tempdir().unwrap();
        let mut writer = written(dir.path());
        let path = dir.path().join(FILE);
        let good = std::fs::metadata(&path).unwrap().len();
        // A torn write happens before its frame is durable, so before the
        // mark moves past it: the mark as it was then.
        let mark_then = std::fs::read(dir.path().join(mark::FILE)).unwrap();
        writer.append(&frame(4..9));
        writer.commit(4).unwrap();
        drop(writer);
        // Every cut inside the last frame leaves the first four records,
        // and keeps what it cut.
        let whole = std::fs::read(&path).unwrap();
        for cut in good as usize + 1..whole.len() {
            std::fs::write(&path, &whole[..cut]).unwrap();
            std::fs::write(dir.path().join(mark::FILE), &mark_then).unwrap();
            let opened = open(dir.path(), &header()).unwrap();
            assert_eq!(opened.records.len(), 4, "cut at {cut}");
            let torn = opened.cut.expect("a cut");
            assert_eq!(torn.bytes, cut as u64 - good);
            let whole_records = (cut as u64 - good).saturating_sub(FRAME_HEADER_BYTES as u64) / 40;
            assert_eq!(torn.whole_records, whole_records, "cut at {cut}");
            assert_eq!(
                std::fs::read(&torn.kept).unwrap(),
                &whole[good as usize..cut]
            );
            assert_eq!(std::fs::metadata(&path).unwrap().len(), good);
        }
    }

    #[test]
    fn a_complete_frame_that_fails_its_checksum_is_damage_not_a_torn_write() {
        let dir = tempfile::tempdir().unwrap();
        let mut writer = written(dir.path());
        let path = dir.path().join(FILE);
        let good = std::fs::metadata(&path).unwrap().len();
        writer.append(&frame(4..9));
        writer.commit(4).unwrap();
        drop(writer);
        let whole = std::fs::read(&path).unwrap();
        // A flipped bit, and a zeroed sector's worth, in the last frame.
        let mut flipped = whole.clone();
        flipped[whole.len() - 3] ^= 0x40;
        let mut zeroed = whole.clone();
        zeroed[good as usize + FRAME_HEADER_BYTES..].fill(0);
        for damaged in [flipped, zeroed] {
            std::fs::write(&path, &damaged).unwrap();
            let error = open(dir.path(), &header()).err().expect("refused");
            let text = error.to_string();
            assert!(matches!(error, JournalError::Corrupt { .. }), "{text}");
            assert!(text.contains(&format!("byte {good}")), "{text}");
            assert!(text.contains("5 records from seq 4"), "{text}");
            assert_eq!(std::fs::read(&path).unwrap(), damaged, "nothing cut");
        }
    }

    #[test]
    fn a_truncation_that_loses_acknowledged_frames_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        drop(written(dir.path()));
        let path = dir.path().join(FILE);
        let whole = std::fs::read(&path).unwrap();
        // The last frame (one record) gone whole: the rest reads cleanly.
        let cut = whole.len() - FRAME_HEADER_BYTES - RECORD_BYTES;
        std::fs::write(&path, &whole[..cut]).unwrap();
        let error = open(dir.path(), &header()).err().expect("refused");
        let text = error.to_string();
        assert!(matches!(error, JournalError::Lost { .. }), "{text}");
        assert!(
            text.contains("holds 3 records") && text.contains("says 4 records"),
            "{text}"
        );
        // Moving the mark aside accepts the loss.
        std::fs::remove_file(dir.path().join(mark::FILE)).unwrap();
        assert_eq!(open(dir.path(), &header()).unwrap().records.len(), 3);
    }

    #[test]
    fn a_journal_others_can_read_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        drop(written(dir.path()));
        let path = dir.path().join(FILE);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let error = open(dir.path(), &header()).err().expect("refused");
        assert!(
            matches!(error, JournalError::Exposed { mode: 0o644, .. }),
            "{error}"
        );
        assert!(error.to_string().contains("chmod 600"));
        assert_eq!(
            clearsim_core::Blamed::blame(&error),
            clearsim_core::Blame::User
        );
    }

    #[test]
    fn crafted_frame_headers_after_the_prefix_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        drop(written(dir.path()));
        let path = dir.path().join(FILE);
        let mut bytes = std::fs::read(&path).unwrap();
        // Frame headers one after another, each claiming a frame to the
        // end of the file: the scan that looks for a good frame after
        // them stays within its budget and refuses.
        let headers = 20_000;
        for k in 0..headers {
            let left = (headers - k) * FRAME_HEADER_BYTES;
            bytes.extend_from_slice(&FRAME_MAGIC);
            bytes.extend_from_slice(&((left / RECORD_BYTES) as u32).to_le_bytes());
            bytes.extend_from_slice(&[0; 16]);
        }
        std::fs::write(&path, &bytes).unwrap();
        assert!(matches!(
            read(dir.path()),
            Err(JournalError::Corrupt { .. })
        ));
    }

    #[test]
    fn the_day_end_marker_is_read_and_nothing_may_follow_it() {
        let dir = tempfile::tempdir().unwrap();
        let mut writer = written(dir.path());
        writer.close_day(4).unwrap();
        drop(writer);
        let contents = read(dir.path()).unwrap();
        assert!(contents.day_closed);
        assert_eq!(contents.records.len(), 4);
        assert!(open(dir.path(), &header()).unwrap().day_closed);
        let mut writer = open(dir.path(), &header()).unwrap().writer;
        writer.append(&frame(4..5));
        writer.commit(4).unwrap();
        drop(writer);
        // A good frame after the marker is not a torn tail.
        assert!(matches!(
            read(dir.path()),
            Err(JournalError::Corrupt { .. })
        ));
    }

    #[test]
    fn damage_before_a_good_frame_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        drop(written(dir.path()));
        let path = dir.path().join(FILE);
        let mut bytes = std::fs::read(&path).unwrap();
        let first_frame = bytes.len() - 2 * FRAME_HEADER_BYTES - 4 * RECORD_BYTES;
        bytes[first_frame + FRAME_HEADER_BYTES + 5] ^= 1;
        std::fs::write(&path, &bytes).unwrap();
        let err = open(dir.path(), &header()).err().unwrap();
        assert!(matches!(err, JournalError::Corrupt { .. }), "{err}");
        assert_eq!(std::fs::read(&path).unwrap(), bytes, "nothing repaired");
    }

    #[test]
    fn another_setup_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        drop(written(dir.path()));
        let mut other = header();
        other.participants[1].opening_fen += 1;
        let err = open(dir.path(), &other).err().unwrap();
        assert!(err.to_string().contains("participants"), "{err}");
        std::fs::write(dir.path().join(FILE), b"not a journal").unwrap();
        let err = read(dir.path()).err().unwrap();
        assert!(matches!(err, JournalError::NotAJournal { .. }), "{err}");
    }
}
