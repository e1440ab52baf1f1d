//! `merge` of summaries: any two JSON documents (split at the first NUL)
//! that parse as run or compare summaries either merge, and the merge
//! renders its reports, or are refused with a message. Never a panic.
#![no_main]

use clearsim_report as report;
use clearsim_study::summary::{CompareSummary, RunSummary};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (a, b) = match data.iter().position(|&b| b == 0) {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, data),
    };
    if let (Ok(a), Ok(b)) = (
        clearsim_study::schema::from_json::<RunSummary>(a),
        clearsim_study::schema::from_json::<RunSummary>(b),
    ) && let Ok(merged) = RunSummary::merge(vec![a, b])
    {
        let _ = report::run::run_files(&merged);
    }
    if let (Ok(a), Ok(b)) = (
        clearsim_study::schema::from_json::<CompareSummary>(a),
        clearsim_study::schema::from_json::<CompareSummary>(b),
    ) && let Ok(merged) = CompareSummary::merge(vec![a, b])
    {
        let _ = report::compare::compare_files(&merged);
    }
});
