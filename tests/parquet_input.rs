//! `replay` of Parquet files (`--participants P.parquet --payments
//! X.parquet`): read as text columns through the CSV files' parser, so a
//! Parquet day replays to exactly the CSV day's files; typed columns
//! (times, dates, nulls) mean what their CSV text means; what cannot be
//! read exactly is refused with exit 2, naming the file and the column or
//! row.

// A test reads as one story, setup to assertions: the 70-line limit is
// for the product's code.
#![allow(clippy::too_many_lines)]

use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;

use parquet::data_type::{ByteArray, ByteArrayType, DoubleType, Int32Type, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;

/// One column's values (`None`: null), in the schema's order.
enum Values {
    Text(Vec<Option<&'static str>>),
    I32(Vec<Option<i32>>),
    I64(Vec<Option<i64>>),
    F64(Vec<f64>),
}

/// Writes a one-row-group Parquet file with `schema` (a message type).
fn write_parquet(path: &Path, schema: &str, columns: &[Values]) {
    let schema = Arc::new(parse_message_type(schema).expect("schema"));
    let file = std::fs::File::create(path).expect("create");
    let props = Arc::new(WriterProperties::builder().build());
    let mut writer = SerializedFileWriter::new(file, schema, props).expect("writer");
    let mut group = writer.next_row_group().expect("row group");
    for values in columns {
        let mut column = group.next_column().expect("column").expect("one more");
        let defs =
            |present: Vec<bool>| -> Vec<i16> { present.into_iter().map(i16::from).collect() };
        match values {
            Values::Text(v) => {
                let data: Vec<ByteArray> =
                    v.iter().flatten().map(|s| ByteArray::from(*s)).collect();
                let d = defs(v.iter().map(Option::is_some).collect());
                column
                    .typed::<ByteArrayType>()
                    .write_batch(&data, Some(&d), None)
                    .expect("write");
            }
            Values::I32(v) => {
                let data: Vec<i32> = v.iter().flatten().copied().collect();
                let d = defs(v.iter().map(Option::is_some).collect());
                column
                    .typed::<Int32Type>()
                    .write_batch(&data, Some(&d), None)
                    .expect("write");
            }
            Values::I64(v) => {
                let data: Vec<i64> = v.iter().flatten().copied().collect();
                let d = defs(v.iter().map(Option::is_some).collect());
                column
                    .typed::<Int64Type>()
                    .write_batch(&data, Some(&d), None)
                    .expect("write");
            }
            Values::F64(v) => {
                column
                    .typed::<DoubleType>()
                    .write_batch(v, Some(&vec![1; v.len()]), None)
                    .expect("write");
            }
        }
        column.close().expect("close column");
    }
    group.close().expect("close group");
    writer.close().expect("close file");
}

fn replay(dir: &Path, participants: &str, payments: &str, out: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_clearsim"))
        .current_dir(dir)
        .args([
            "replay",
            "--participants",
            participants,
            "--payments",
            payments,
        ])
        .args(["--out", out, "-q"])
        .output()
        .expect("runs")
}

fn ok(output: &Output) {
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn refused(output: &Output, fragments: &[&str]) {
    let said = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{said}");
    for fragment in fragments {
        assert!(said.contains(fragment), "`{fragment}` not in: {said}");
    }
}

fn read(path: impl AsRef<Path>) -> String {
    std::fs::read_to_string(path).expect("read")
}

const PARTICIPANTS_SCHEMA: &str = "message participants {
    REQUIRED BYTE_ARRAY id (UTF8);
    REQUIRED BYTE_ARRAY name (UTF8);
    REQUIRED BYTE_ARRAY category (UTF8);
    REQUIRED INT64 opening_balance;
    OPTIONAL INT64 credit_limit;
}";

/// Participants A (100, no credit), B (0, credit 20).
fn participants() -> [Values; 5] {
    [
        Values::Text(vec![Some("A"), Some("B")]),
        Values::Text(vec![Some("Bank A"), Some("Bank B")]),
        Values::Text(vec![Some("state"), Some("city")]),
        Values::I64(vec![Some(100), Some(0)]),
        Values::I64(vec![Some(0), Some(20)]),
    ]
}

/// A day typed as a Parquet writer would type it: `submit` a TIME_MILLIS,
/// `amount` an INT64, `priority` an optional INT32 with a null. By hand:
/// p1 A→B 70 at 09:00 settles (A 30); p2 A→B 40 at 09:30 waits; p3 B→A
/// 25 at 10:00:00.500 settles (B 70 − 25 = 45, A 55), which releases p2
/// at once (A 15, B 85).
#[test]
fn a_typed_parquet_day_replays_to_exactly_its_csv_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    write_parquet(&d.join("p.parquet"), PARTICIPANTS_SCHEMA, &participants());
    write_parquet(
        &d.join("x.parquet"),
        "message payments {
            REQUIRED BYTE_ARRAY id (UTF8);
            REQUIRED INT32 submit (TIME_MILLIS);
            REQUIRED BYTE_ARRAY sender (UTF8);
            REQUIRED BYTE_ARRAY receiver (UTF8);
            REQUIRED INT64 amount;
            OPTIONAL INT32 priority;
        }",
        &[
            Values::Text(vec![Some("p1"), Some("p2"), Some("p3")]),
            Values::I32(vec![Some(32_400_000), Some(34_200_000), Some(36_000_500)]),
            Values::Text(vec![Some("A"), Some("A"), Some("B")]),
            Values::Text(vec![Some("B"), Some("B"), Some("A")]),
            Values::I64(vec![Some(70), Some(40), Some(25)]),
            Values::I32(vec![Some(1), None, Some(0)]),
        ],
    );
    std::fs::write(
        d.join("p.csv"),
        "id,name,category,opening_balance,credit_limit\nA,Bank A,state,100,0\nB,Bank B,city,0,20\n",
    )
    .expect("write");
    std::fs::write(
        d.join("x.csv"),
        "id,submit,sender,receiver,amount,priority\n\
         p1,09:00:00.000,A,B,70,1\n\
         p2,09:30:00.000,A,B,40,\n\
         p3,10:00:00.500,B,A,25,0\n",
    )
    .expect("write");
    ok(&replay(d, "p.parquet", "x.parquet", "from-parquet"));
    ok(&replay(d, "p.csv", "x.csv", "from-csv"));
    let settlements = read(d.join("from-parquet/settlements.csv"));
    assert_eq!(
        settlements,
        "id,status,settle,delay_ms\n\
         p1,settled,09:00:00.000,0\n\
         p2,settled,10:00:00.500,1800500\n\
         p3,settled,10:00:00.500,0\n"
    );
    for file in ["settlements.csv", "balances.csv", "settlements.parquet"] {
        assert_eq!(
            std::fs::read(d.join("from-parquet").join(file)).expect("read"),
            std::fs::read(d.join("from-csv").join(file)).expect("read"),
            "{file}"
        );
    }
    let summary = read(d.join("from-parquet/summary.json"));
    assert!(
        summary.contains("\"payments_file\": \"x.parquet\""),
        "{summary}"
    );
}

/// A `date` column typed DATE: the days replay as the CSV file's do.
#[test]
fn a_dated_parquet_file_replays_day_by_day() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    write_parquet(&d.join("p.parquet"), PARTICIPANTS_SCHEMA, &participants());
    // 2026-01-05 is day 20,458 since 1970-01-01.
    write_parquet(
        &d.join("x.parquet"),
        "message payments {
            REQUIRED INT32 date (DATE);
            REQUIRED BYTE_ARRAY id (UTF8);
            REQUIRED BYTE_ARRAY submit (UTF8);
            REQUIRED BYTE_ARRAY sender (UTF8);
            REQUIRED BYTE_ARRAY receiver (UTF8);
            REQUIRED INT64 amount;
        }",
        &[
            Values::I32(vec![Some(20_459), Some(20_458)]),
            Values::Text(vec![Some("p2"), Some("p1")]),
            Values::Text(vec![Some("09:00:00"), Some("09:00:00")]),
            Values::Text(vec![Some("B"), Some("A")]),
            Values::Text(vec![Some("A"), Some("B")]),
            Values::I64(vec![Some(50), Some(70)]),
        ],
    );
    std::fs::write(
        d.join("x.csv"),
        "date,id,submit,sender,receiver,amount\n\
         2026-01-06,p2,09:00:00,B,A,50\n\
         2026-01-05,p1,09:00:00,A,B,70\n",
    )
    .expect("write");
    std::fs::write(
        d.join("p.csv"),
        "id,name,category,opening_balance,credit_limit\nA,Bank A,state,100,0\nB,Bank B,city,0,20\n",
    )
    .expect("write");
    ok(&replay(d, "p.parquet", "x.parquet", "pq"));
    ok(&replay(d, "p.csv", "x.csv", "csv"));
    for file in ["settlements.csv", "balances.csv", "days.csv"] {
        assert_eq!(
            read(d.join("pq").join(file)),
            read(d.join("csv").join(file)),
            "{file}"
        );
    }
    assert!(read(d.join("pq/settlements.csv")).contains("2026-01-05,p1,settled"));
}

/// What cannot be read exactly is refused, naming file and column; a bad
/// value is refused as in a CSV file, naming the row and field.
#[test]
fn floats_and_bad_rows_in_parquet_are_refused_with_exit_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    write_parquet(&d.join("p.parquet"), PARTICIPANTS_SCHEMA, &participants());
    let schema = "message payments {
        REQUIRED BYTE_ARRAY id (UTF8);
        REQUIRED BYTE_ARRAY submit (UTF8);
        REQUIRED BYTE_ARRAY sender (UTF8);
        REQUIRED BYTE_ARRAY receiver (UTF8);
        REQUIRED DOUBLE amount;
    }";
    let text = |v: &[&'static str]| Values::Text(v.iter().map(|s| Some(*s)).collect());
    write_parquet(
        &d.join("floats.parquet"),
        schema,
        &[
            text(&["p1"]),
            text(&["09:00:00"]),
            text(&["A"]),
            text(&["B"]),
            Values::F64(vec![70.0]),
        ],
    );
    refused(
        &replay(d, "p.parquet", "floats.parquet", "o1"),
        &["floats.parquet", "column 'amount'", "floating-point"],
    );
    // A column the replay does not read is ignored, whatever its type, as
    // in a CSV file.
    write_parquet(
        &d.join("extra.parquet"),
        &schema.replace(
            "REQUIRED DOUBLE amount;",
            "REQUIRED INT64 amount; REQUIRED DOUBLE fx_rate;",
        ),
        &[
            text(&["p1"]),
            text(&["09:00:00"]),
            text(&["A"]),
            text(&["B"]),
            Values::I64(vec![Some(70)]),
            Values::F64(vec![6.9]),
        ],
    );
    ok(&replay(d, "p.parquet", "extra.parquet", "extra"));
    assert_eq!(
        read(d.join("extra/settlements.csv")),
        "id,status,settle,delay_ms\np1,settled,09:00:00.000,0\n"
    );
    write_parquet(
        &d.join("negative.parquet"),
        &schema.replace("REQUIRED DOUBLE amount", "REQUIRED INT64 amount"),
        &[
            text(&["p1", "p2"]),
            text(&["09:00:00", "09:01:00"]),
            text(&["A", "A"]),
            text(&["B", "B"]),
            Values::I64(vec![Some(70), Some(-3)]),
        ],
    );
    refused(
        &replay(d, "p.parquet", "negative.parquet", "o2"),
        &["negative.parquet", "row 2", "field `amount`", "-3"],
    );
    std::fs::write(d.join("torn.parquet"), b"PAR1 not a real file PAR1").expect("write");
    refused(
        &replay(d, "p.parquet", "torn.parquet", "o3"),
        &["torn.parquet", "not a readable Parquet file"],
    );
    assert!(!d.join("o1").exists() && !d.join("o2").exists() && !d.join("o3").exists());
}
