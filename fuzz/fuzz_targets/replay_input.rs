//! The replay input path: any bytes as participants.csv and payments.csv
//! (split at the first NUL) either parse into a valid day, which then
//! replays under `rtgs` with gridlock runs, or give an input error. Never a
//! panic, a hang or an unbounded allocation. Parsed by day (a dated
//! file's days cut as the parse reads past them), the result is the same,
//! and the days cut from a file in date order are its days.
#![no_main]

use clearsim_core::strategy::parse_strategy;
use clearsim_core::time::SimTime;
use clearsim_model::input::{Cut, Day, DayCut, Input};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (participants, payments) = match data.iter().position(|&b| b == 0) {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &b""[..]),
    };
    let day_end = SimTime::DEFAULT_DAY_END;
    let parsed = Day::parse(
        "participants.csv",
        participants,
        "payments.csv",
        payments,
        day_end,
    );
    let (mut cuts, mut unsorted) = (Vec::<DayCut>::new(), false);
    let by_day = Day::parse_inputs_by_day(
        ("participants.csv", Input::Csv(participants)),
        ("payments.csv", Input::Csv(payments)),
        day_end,
        &|_| {},
        Some(&mut |cut| match cut {
            Cut::Day(day) => cuts.push(*day),
            Cut::Unsorted => unsorted = true,
            Cut::Participants(_) => {}
        }),
    );
    match (&parsed, &by_day) {
        (Ok(a), Ok(b)) => assert!(a == b, "the same day, parsed by day"),
        (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
        _ => panic!("one parse failed, the other did not"),
    }
    let Ok(day) = parsed else {
        return;
    };
    if day.is_dated() && !unsorted {
        let days = day.date_rows();
        assert_eq!(cuts.len(), days.len(), "every day cut");
        for (cut, (date, rows)) in cuts.iter().zip(&days) {
            assert_eq!(&cut.date, date);
            let span: Vec<u32> = (cut.first_row as u32..).take(rows.len()).collect();
            assert_eq!(&span, rows, "a day of a file in date order is a span");
            let mut expected = day.one_day(rows, 0, day.participants.clone()).payments;
            assert!(expected.instruments.starts_with(&cut.payments.instruments));
            expected.instruments.clone_from(&cut.payments.instruments);
            assert!(cut.payments == expected, "the day cut is the day");
        }
    }
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
