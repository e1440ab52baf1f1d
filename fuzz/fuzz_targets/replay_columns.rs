//! The replay input path from columns (a DataFrame in Python): any bytes as
//! two tables. For a plain CSV (no quotes, no carriage returns, every line
//! as wide as its header) the same tables given as text columns must give
//! the same day, or the same error at the same row and field, as the file.
//! Any other bytes become columns with arbitrary offsets, which must be
//! refused or read, never a panic.
#![no_main]

use clearsim_core::time::SimTime;
use clearsim_model::input::{Day, Input, InputError, TextColumn, TextColumns};
use libfuzzer_sys::fuzz_target;

/// A plain CSV as columns: (names, per column (offsets, data), rows).
type Owned = (Vec<String>, Vec<(Vec<i64>, Vec<u8>)>, usize);

fn columns_of(csv: &[u8]) -> Option<Owned> {
    if csv.contains(&b'"') || csv.contains(&b'\r') || csv.starts_with(b"\xEF\xBB\xBF") {
        return None;
    }
    let mut lines = csv.split(|&b| b == b'\n').filter(|l| !l.is_empty());
    let header: Vec<String> = lines
        .next()?
        .split(|&b| b == b',')
        .map(|f| String::from_utf8(f.to_vec()).ok())
        .collect::<Option<_>>()?;
    let mut columns: Vec<(Vec<i64>, Vec<u8>)> = vec![(vec![0], Vec::new()); header.len()];
    let mut rows = 0;
    for line in lines {
        let fields: Vec<&[u8]> = line.split(|&b| b == b',').collect();
        if fields.len() != header.len() {
            return None;
        }
        for ((offsets, data), field) in columns.iter_mut().zip(fields) {
            data.extend_from_slice(field);
            offsets.push(data.len() as i64);
        }
        rows += 1;
    }
    Some((header, columns, rows))
}

fn view(owned: &Owned) -> TextColumns<'_> {
    TextColumns {
        names: owned.0.clone(),
        columns: owned
            .1
            .iter()
            .map(|(offsets, data)| TextColumn { offsets, data })
            .collect(),
        rows: owned.2,
    }
}

/// Arbitrary columns: offsets read from the bytes, unchecked.
fn raw(data: &[u8]) -> Owned {
    let rows = data.first().map_or(0, |&b| usize::from(b % 8));
    let offsets: Vec<i64> = data
        .chunks(2)
        .take(rows + 1)
        .map(|c| i64::from(c[0]) - 8)
        .collect();
    let names = vec![
        "id".into(),
        "submit".into(),
        "sender".into(),
        "receiver".into(),
        "amount".into(),
    ];
    let columns = (0..5).map(|_| (offsets.clone(), data.to_vec())).collect();
    (names, columns, rows)
}

/// Where an error is and what it says; a whole table's error names the
/// form ("the file has only a header", "the table has no rows"), so only
/// what it is about is compared.
fn located(error: &InputError) -> (Option<u64>, Option<String>, String) {
    let message = match error.row {
        Some(_) => error.message.clone(),
        None => error
            .message
            .split(':')
            .next()
            .unwrap_or_default()
            .to_string(),
    };
    (error.row, error.field.clone(), message)
}

fuzz_target!(|data: &[u8]| {
    let day_end = SimTime::DEFAULT_DAY_END;
    let (participants, payments) = match data.iter().position(|&b| b == 0) {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &b""[..]),
    };
    let (Some(p), Some(x)) = (columns_of(participants), columns_of(payments)) else {
        let owned = raw(payments);
        let columns = view(&owned);
        let _ = Day::parse_inputs(
            "p",
            Input::Csv(participants),
            "x",
            Input::Columns(&columns),
            day_end,
            &|_| {},
        );
        return;
    };
    let (pc, xc) = (view(&p), view(&x));
    let from_file = Day::parse("p", participants, "x", payments, day_end);
    let from_columns = Day::parse_inputs(
        "p",
        Input::Columns(&pc),
        "x",
        Input::Columns(&xc),
        day_end,
        &|_| {},
    );
    match (from_file, from_columns) {
        (Ok(file), Ok(columns)) => assert_eq!(file, columns, "the same day from both forms"),
        (Err(file), Err(columns)) => {
            assert_eq!(
                located(&file),
                located(&columns),
                "the same error from both forms"
            )
        }
        (file, columns) => panic!(
            "the forms disagree: {:?} against {:?}",
            file.err(),
            columns.err()
        ),
    }
});
