//! Summaries written by an earlier clearsim (one of each kind, in
//! `tests/fixtures/`, written before the saved schema had types of its own)
//! still read, and write back to the very same bytes.

use std::path::Path;

use clearsim_study::optimise::OptimiseReport;
use clearsim_study::plan::PlanReport;
use clearsim_study::schema::{self, Summary};

fn fixture(kind: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/{kind}.json"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn every_summary_kind_reads_and_writes_back_its_bytes() {
    for (kind, expected) in [
        ("run", "run"),
        ("compare", "compare"),
        ("sweep", "sweep"),
        ("replay", "replay"),
    ] {
        let bytes = fixture(kind);
        let summary = schema::read(&bytes).unwrap_or_else(|e| panic!("{kind}: {e}"));
        assert_eq!(summary.kind(), expected);
        let written = match &summary {
            Summary::Replay(s) => schema::to_json(s.as_ref()),
            Summary::Run(s) => schema::to_json(s.as_ref()),
            Summary::Compare(s) => schema::to_json(s.as_ref()),
            Summary::Sweep(s) => schema::to_json(s.as_ref()),
        }
        .expect("writes");
        assert!(written == bytes, "{kind}: written back differently");
    }
}

#[test]
fn plan_and_optimise_reports_read_and_write_back_their_bytes() {
    let plan = fixture("plan");
    let report: PlanReport = schema::from_json(&plan).expect("a plan report");
    assert_eq!(report.schema, schema::plan_v1::SCHEMA);
    assert!(schema::to_json(&report).expect("writes") == plan);
    let optimise = fixture("optimise");
    let report: OptimiseReport = schema::from_json(&optimise).expect("an optimise report");
    assert_eq!(report.schema, schema::optimise_v1::SCHEMA);
    assert!(schema::to_json(&report).expect("writes") == optimise);
}

#[test]
fn a_merged_fixture_is_its_own_summary_again() {
    // A summary is a pure function of its records: merging a run with
    // nothing new changes nothing, and a summary of another kind or an
    // unknown schema is refused with a message.
    let Summary::Run(run) = schema::read(&fixture("run")).expect("reads") else {
        panic!("a run");
    };
    let merge = |r: clearsim_study::summary::RunSummary| {
        clearsim_study::summary::RunSummary::merge(vec![r]).expect("merges")
    };
    let again = merge(*run.clone());
    // The records come through untouched; the figures are recomputed from
    // them by this clearsim (the fixture's were by an earlier one, whose
    // `unsettled_value_fen` was a replication's sum, now a mean day), and
    // a second merge changes nothing.
    assert_eq!(again.replications, run.replications);
    let once = schema::to_json(&again).expect("writes");
    assert!(schema::to_json(&merge(again)).expect("writes") == once);
    let mixed = vec![
        Summary::Run(run),
        schema::read(&fixture("compare")).expect("reads"),
    ];
    let refused = clearsim_study::merge::merge(mixed).err().expect("refused");
    assert!(
        refused.to_string().contains("not a compare one"),
        "{refused}"
    );
    let unknown = schema::read(br#"{"schema": "clearsim.plan.v1"}"#)
        .err()
        .expect("refused");
    assert!(
        unknown
            .to_string()
            .contains("is not a summary of this clearsim")
    );
}
