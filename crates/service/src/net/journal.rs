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
//! only after that. So only the last frame can be torn by a crash, and a bad
//! frame followed by any good one is corruption of acknowledged data (the
//! journal is refused, never repaired). A frame's CRC covers its count,
//! first sequence number and records; sequence numbers run on without a gap
//! from 0.

use super::protocol::Submit;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
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
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: not a clearsim journal (bad magic or header)")]
    NotAJournal { path: String },
    #[error(
        "{path}: corrupt at byte {offset}: {reason}, and a good frame follows (acknowledged data is damaged; the journal is not repaired)"
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
    let mut bytes = Vec::new();
    File::open(&path)
        .and_then(|mut f| f.read_to_end(&mut bytes))
        .map_err(io_error(&path))?;
    let shown = || path.display().to_string();
    let (header, start) =
        decode_header(&bytes).ok_or_else(|| JournalError::NotAJournal { path: shown() })?;
    let mut records = Vec::new();
    let mut offset = start;
    let mut day_closed = false;
    while offset < bytes.len() {
        let frame = match decode_frame(&bytes[offset..], records.len() as u64) {
            Ok(_) if day_closed => Err(BadFrame::from("a frame after the day's end marker")),
            other => other,
        };
        match frame {
            Ok(FRAME_HEADER_BYTES) => {
                day_closed = true;
                offset += FRAME_HEADER_BYTES;
            }
            Ok(used) => {
                push_records(
                    &bytes[offset + FRAME_HEADER_BYTES..offset + used],
                    &mut records,
                );
                offset += used;
            }
            Err(reason) => {
                // After the day's end marker, a good frame right here is
                // already too much.
                let from = if day_closed { offset } else { offset + 1 };
                if let Some(later) = good_frame_after(&bytes, from) {
                    return Err(JournalError::Corrupt {
                        path: shown(),
                        offset: offset as u64,
                        reason: format!("{reason} (a good frame at byte {later})"),
                    });
                }
                break;
            }
        }
    }
    check_records(&shown(), &header, &records)?;
    Ok(Contents {
        header,
        records,
        day_closed,
        valid_bytes: offset as u64,
        file_bytes: bytes.len() as u64,
    })
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

/// Why a frame is not good (a torn write, or damage).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct BadFrame(String);

impl From<&str> for BadFrame {
    fn from(why: &str) -> BadFrame {
        BadFrame(why.to_string())
    }
}

impl From<String> for BadFrame {
    fn from(why: String) -> BadFrame {
        BadFrame(why)
    }
}

/// The frame at the start of `bytes`, expected to begin with `next_seq`:
/// its length, or why it is not good.
fn decode_frame(bytes: &[u8], next_seq: u64) -> Result<usize, BadFrame> {
    if bytes.len() < FRAME_HEADER_BYTES {
        return Err("a partial frame header".into());
    }
    if bytes[..4] != FRAME_MAGIC {
        return Err("no frame marker".into());
    }
    let count = u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]) as usize;
    let first_seq = u64::from_le_bytes(bytes[8..16].try_into().unwrap_or([0; 8]));
    let crc = u32::from_le_bytes([bytes[16], bytes[17], bytes[18], bytes[19]]);
    if count > MAX_FRAME_RECORDS {
        return Err(format!("a frame of {count} records").into());
    }
    let end = FRAME_HEADER_BYTES + count * RECORD_BYTES;
    if bytes.len() < end {
        return Err("a partial frame".into());
    }
    if frame_crc(&bytes[4..16], &bytes[FRAME_HEADER_BYTES..end]) != crc {
        return Err("a frame checksum mismatch".into());
    }
    if first_seq != next_seq {
        return Err(format!("a frame from seq {first_seq}, expected {next_seq}").into());
    }
    Ok(end)
}

fn frame_crc(count_and_seq: &[u8], records: &[u8]) -> u32 {
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(count_and_seq);
    hasher.update(records);
    hasher.finalize()
}

/// A good frame (any sequence number) at or after `from`, if there is one.
fn good_frame_after(bytes: &[u8], from: usize) -> Option<usize> {
    let mut at = from;
    while let Some(found) = memchr::memmem::find(bytes.get(at..)?, &FRAME_MAGIC) {
        let offset = at + found;
        let first_seq = bytes
            .get(offset + 8..offset + 16)
            .and_then(|b| b.try_into().ok())
            .map_or(0, u64::from_le_bytes);
        if decode_frame(&bytes[offset..], first_seq).is_ok() {
            return Some(offset);
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
}

/// What opening a journal found.
pub struct Opened {
    pub writer: Writer,
    /// The records to recover from, in order.
    pub records: Vec<Record>,
    pub day_closed: bool,
    /// Bytes of a torn tail cut off (0 when the file ended cleanly).
    pub truncated_bytes: u64,
}

/// Opens `dir`'s journal for `header`'s setup, creating it (and `dir`) if
/// there is none; a torn tail is cut off (and that made durable) first.
pub fn open(dir: &Path, header: &Header) -> Result<Opened, JournalError> {
    let path = dir.join(FILE);
    std::fs::create_dir_all(dir).map_err(io_error(dir))?;
    if !path.exists() {
        create(dir, header)?;
    }
    let contents = read(dir)?;
    let shown = path.display().to_string();
    if let Some(field) = first_difference(&contents.header, header) {
        return Err(JournalError::Mismatch { path: shown, field });
    }
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)
        .map_err(io_error(&path))?;
    let truncated_bytes = contents.file_bytes - contents.valid_bytes;
    if truncated_bytes > 0 {
        file.set_len(contents.valid_bytes)
            .and_then(|()| file.sync_all())
            .map_err(io_error(&path))?;
    }
    let mut file = file;
    std::io::Seek::seek(&mut file, std::io::SeekFrom::End(0)).map_err(io_error(&path))?;
    Ok(Opened {
        writer: Writer {
            file,
            path,
            frame: Vec::with_capacity(FRAME_HEADER_BYTES + 4096 * RECORD_BYTES),
        },
        records: contents.records,
        day_closed: contents.day_closed,
        truncated_bytes,
    })
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
            .map_err(io_error(&self.path));
        self.frame.clear();
        written
    }
}

impl clearsim_core::Blamed for JournalError {
    /// A journal the user pointed at that is damaged, foreign or of another
    /// setup is theirs to deal with; a disk that fails under it is not.
    fn blame(&self) -> clearsim_core::Blame {
        match self {
            JournalError::Io { .. } => clearsim_core::Blame::Bug,
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
        assert_eq!(opened.truncated_bytes, 0);
        assert_eq!(opened.records, (0..4).map(record).collect::<Vec<_>>());
    }

    #[test]
    fn a_torn_tail_is_cut_at_the_last_good_frame() {
        let dir = tempfile::tempdir().unwrap();
        let mut writer = written(dir.path());
        let path = dir.path().join(FILE);
        let good = std::fs::metadata(&path).unwrap().len();
        writer.append(&frame(4..9));
        writer.commit(4).unwrap();
        drop(writer);
        // Every cut inside the last frame leaves the first four records.
        let whole = std::fs::read(&path).unwrap();
        for cut in good as usize + 1..whole.len() {
            std::fs::write(&path, &whole[..cut]).unwrap();
            let opened = open(dir.path(), &header()).unwrap();
            assert_eq!(opened.records.len(), 4, "cut at {cut}");
            assert_eq!(opened.truncated_bytes, cut as u64 - good);
            assert_eq!(std::fs::metadata(&path).unwrap().len(), good);
        }
        // A flipped byte in the last frame: the same.
        let mut flipped = whole.clone();
        flipped[whole.len() - 3] ^= 0x40;
        std::fs::write(&path, &flipped).unwrap();
        assert_eq!(open(dir.path(), &header()).unwrap().records.len(), 4);
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
