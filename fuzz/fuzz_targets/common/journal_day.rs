//! What the journal targets share: a service setup (chengdu-2005, built
//! once), and fuzz bytes read as journal records whose checksums hold, so
//! that the records themselves — amounts unclamped — reach recovery.

use std::sync::OnceLock;

use clearsim_service::net::ServeSetup;
use clearsim_service::net::journal::{self, Contents, Record};

/// The service's setup: chengdu-2005's accounts and gross channel, a queue
/// of 64 payments (16 a sender), so that the queue limits are reached too,
/// and gridlock runs once a minute (a day of 1 s runs is 86,400 runs an
/// execution, and the interval is not what is fuzzed here).
pub fn setup() -> &'static ServeSetup {
    static SETUP: OnceLock<ServeSetup> = OnceLock::new();
    SETUP.get_or_init(|| {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../configs/chengdu-2005.toml");
        let scenario = clearsim_model::config::Config::load(std::path::Path::new(path))
            .expect("the bundled config")
            .scenario;
        let limits = clearsim_service::net::Limits::default();
        ServeSetup::of_scenario(&scenario, limits, 60_000, 64).expect("its service")
    })
}

/// Each 16 bytes of `data` as one record, in order (seq 0, 1, …; times
/// never going back); the first byte, if odd, closes the day after them.
/// An amount is the raw i64 when its flag bit is set — the crafted
/// journals of issue 24 — and otherwise a small positive amount.
pub fn journal_of(data: &[u8]) -> (Vec<u8>, usize) {
    let setup = setup();
    let header = setup.journal_header().expect("a journal header");
    let n = setup.ids.len() as u32;
    let closed = data.first().is_some_and(|b| b & 1 == 1);
    let mut records = Vec::new();
    let mut at_ms = 0u32;
    for (seq, chunk) in data
        .get(1..)
        .unwrap_or_default()
        .chunks_exact(16)
        .take(512)
        .enumerate()
    {
        let raw = i64::from_le_bytes(chunk[4..12].try_into().expect("8 bytes"));
        let amount_fen = if chunk[2] & 0x80 != 0 {
            raw
        } else {
            1 + (raw.unsigned_abs() % 100_000_000_000) as i64
        };
        at_ms = at_ms.saturating_add(u32::from(u16::from_le_bytes([chunk[12], chunk[13]])));
        records.push(Record {
            seq: seq as u64,
            client_ref: seq as u64,
            amount_fen,
            sender: u32::from(chunk[0]) % n,
            receiver: u32::from(chunk[1]) % n,
            at_ms: at_ms.min(header.day_end_ms),
            instrument: u16::from(chunk[14]) % header.instruments.len() as u16,
            priority: chunk[15] % 3,
        });
    }
    let count = records.len();
    (journal::encode(&header, &records, closed), count)
}

/// The journal as recovery reads it, if its records pass the checks.
pub fn contents_of(bytes: &[u8]) -> Option<Contents> {
    journal::decode(bytes, "fuzz/journal.bin").ok()
}
