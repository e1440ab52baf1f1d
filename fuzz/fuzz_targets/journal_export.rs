//! `journal export` ⇄ `replay`: every journal recovery accepts exports to
//! files that `replay` parses and replays, and the replay settles as many
//! payments as the recovered service (the same engine on the same
//! instants). Never a panic.
#![no_main]

#[path = "common/journal_day.rs"]
mod journal_day;

use clearsim_core::time::SimTime;
use clearsim_model::input::Day;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (bytes, _) = journal_day::journal_of(data);
    // `journal export` refuses a journal with no instructions.
    let Some(contents) = journal_day::contents_of(&bytes).filter(|c| !c.records.is_empty()) else {
        return;
    };
    let setup = journal_day::setup();
    let (participants, payments) = contents.replay_files();
    let day_end = SimTime(contents.header.day_end_ms);
    let day = Day::parse(
        "participants.csv",
        &participants,
        "payments.csv",
        &payments,
        day_end,
    )
    .expect("an exported journal replays");
    assert_eq!(day.payments.len(), contents.records.len());
    let replay = clearsim_model::replay::replay(&day, &setup.spec).expect("and replays");
    let Ok(served) = clearsim_service::net::recover_and_close(setup, &contents) else {
        return;
    };
    // Every recovered record settled but those queued at the close.
    let settled = contents.records.len() as u64 - served.queued;
    assert_eq!(
        replay.summary.settled, settled,
        "the replay settles what the service did"
    );
});
