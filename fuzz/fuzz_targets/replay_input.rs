//! The replay input path: any bytes as participants.csv and payments.csv
//! (split at the first NUL) either parse into a valid day, which then
//! replays under `rtgs` with gridlock runs, or give an input error. Never a
//! panic, a hang or an unbounded allocation.
#![no_main]

use clearsim_core::strategy::parse_strategy;
use clearsim_core::time::SimTime;
use clearsim_model::input::Day;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (participants, payments) = match data.iter().position(|&b| b == 0) {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &b""[..]),
    };
    let day_end = SimTime::DEFAULT_DAY_END;
    let Ok(day) = Day::parse(
        "participants.csv",
        participants,
        "payments.csv",
        payments,
        day_end,
    ) else {
        return;
    };
    let spec = parse_strategy("rtgs+gridlock:5m", day_end)
        .expect("a valid strategy")
        .spec;
    let replay = clearsim_model::replay::replay(&day, &spec).expect("a parsed day replays");
    assert_eq!(replay.settle.len(), day.payments.len());
    assert_eq!(
        replay
            .closing_fen
            .iter()
            .map(|&b| i128::from(b))
            .sum::<i128>(),
        day.participants
            .opening_fen
            .iter()
            .map(|&b| i128::from(b))
            .sum::<i128>(),
        "gross settlement conserves money"
    );
});
