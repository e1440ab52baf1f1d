//! The journal reader: any bytes as `journal.bin` — header and frames —
//! read as recovery reads them, in time linear in their length: a journal
//! (whose export then writes), or a journal error. Never a panic.
#![no_main]

use clearsim_service::net::journal;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(contents) = journal::decode(data, "fuzz/journal.bin") {
        assert!(contents.valid_bytes <= contents.file_bytes);
        let (_, payments) = contents.replay_files();
        // A header line and a line a record.
        let lines = payments.iter().filter(|&&b| b == b'\n').count();
        assert_eq!(lines, contents.records.len() + 1);
    }
});
