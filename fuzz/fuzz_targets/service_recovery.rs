//! The service's engine path: journal records that pass the journal's
//! own checks (amounts unclamped) are recovered and the day closed, as a
//! restart would. Never a panic (issue 24's crash on every restart came
//! from records like these); a record the engine refuses is refused as
//! the user's; money is conserved.
#![no_main]

#[path = "common/journal_day.rs"]
mod journal_day;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (bytes, _) = journal_day::journal_of(data);
    let Some(contents) = journal_day::contents_of(&bytes) else {
        return;
    };
    let setup = journal_day::setup();
    match clearsim_service::net::recover_and_close(setup, &contents) {
        Ok(served) => {
            let openings: i64 = setup.opening_fen.iter().sum();
            assert_eq!(served.total_fen, openings, "money is conserved");
            // Counts start after recovery: what is queued at the close is
            // of the journal's records.
            assert!(served.queued <= contents.records.len() as u64);
        }
        Err(e) => assert_eq!(
            clearsim_core::Blamed::blame(&e),
            clearsim_core::Blame::User,
            "a journal the engine refuses is the user's, not a bug: {e}"
        ),
    }
});
