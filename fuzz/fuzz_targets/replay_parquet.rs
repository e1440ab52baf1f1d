//! Parquet input: any bytes as a Parquet payments file are read as text
//! columns or refused with an input error, and columns read go through
//! the replay parser beside a fixed participants file. Never a panic, a
//! hang or an unbounded allocation, whatever the footer, pages or codecs
//! claim.
#![no_main]

use clearsim_core::time::SimTime;
use clearsim_model::input::{Day, Input, parquet};
use libfuzzer_sys::fuzz_target;

const PARTICIPANTS: &[u8] =
    b"id,name,category,opening_balance,credit_limit\nA,Bank A,state,100,0\nB,Bank B,city,0,20\n";

fuzz_target!(|data: &[u8]| {
    // `parquet::read` catches a panic of the Parquet crate on a malformed
    // file and refuses the file; libFuzzer's hook would abort first. A
    // quiet hook lets that catch work; a panic anywhere else still
    // unwinds out of this closure, and libFuzzer reports it as a crash.
    static QUIET: std::sync::Once = std::sync::Once::new();
    QUIET.call_once(|| std::panic::set_hook(Box::new(|_| {})));
    let Ok(text) = parquet::read("payments.parquet", data, None) else {
        return;
    };
    let columns = text.columns();
    for column in &columns.columns {
        assert_eq!(column.offsets.len(), columns.rows + 1);
    }
    let parsed = Day::parse_inputs(
        "participants.csv",
        Input::Csv(PARTICIPANTS),
        "payments.parquet",
        Input::Columns(&columns),
        SimTime::DEFAULT_DAY_END,
        &|_| {},
    );
    if let Ok(day) = parsed {
        assert_eq!(day.payments.len(), columns.rows);
    }
});
