//! Settlement-level outputs as Parquet files, so that pandas, polars and
//! DuckDB read them directly: plain typed columns (UTF-8 text, 64-bit
//! integers, nullable where a value may be missing), uncompressed, in row
//! groups of at most [`ROW_GROUP`] rows.

use std::sync::Arc;

use parquet::data_type::{ByteArray, ByteArrayType, Int64Type};
use parquet::errors::ParquetError;
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;

/// Rows per row group: bounds the memory a file takes to write.
pub const ROW_GROUP: usize = 1 << 20;

/// One value of a row.
pub enum Value<'a> {
    Text(&'a [u8]),
    /// `None` is a missing value (a null).
    Int(Option<i64>),
}

/// What a column holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Text,
    Int,
    NullableInt,
}

/// A column: its name (unit last), its kind, and its value at a row (the
/// values may borrow data that outlives the column).
pub struct Column<'c, 'v> {
    pub name: &'c str,
    pub kind: Kind,
    pub value: &'c dyn Fn(usize) -> Value<'v>,
}

/// The one settlements schema, for replays and runs alike: `day` (when
/// given), `id`, `status` (`settled`/`unsettled`), `submit_ms`, and
/// `settle_ms` and `delay_ms` (nulls when unsettled).
pub fn settlements<'a, W: std::io::Write + Send>(
    out: W,
    rows: usize,
    day: Option<&'a dyn Fn(usize) -> Value<'a>>,
    id: &'a dyn Fn(usize) -> Value<'a>,
    submit_ms: &'a dyn Fn(usize) -> u32,
    settle_ms: &'a dyn Fn(usize) -> Option<u32>,
) -> Result<W, ParquetError> {
    let status = |r: usize| {
        Value::Text(if settle_ms(r).is_some() {
            b"settled"
        } else {
            b"unsettled"
        })
    };
    let submit = |r: usize| Value::Int(Some(i64::from(submit_ms(r))));
    let settle = |r: usize| Value::Int(settle_ms(r).map(i64::from));
    let delay =
        |r: usize| Value::Int(settle_ms(r).map(|at| i64::from(at) - i64::from(submit_ms(r))));
    let mut columns = Vec::with_capacity(6);
    if let Some(day) = day {
        columns.push(Column {
            name: "day",
            kind: Kind::Int,
            value: day,
        });
    }
    for (name, kind, value) in [
        ("id", Kind::Text, id),
        ("status", Kind::Text, &status as &dyn Fn(usize) -> Value<'a>),
        ("submit_ms", Kind::Int, &submit),
        ("settle_ms", Kind::NullableInt, &settle),
        ("delay_ms", Kind::NullableInt, &delay),
    ] {
        columns.push(Column { name, kind, value });
    }
    table_into(out, rows, &columns)
}

/// A row group's text cells: one buffer for all of them, each cell a
/// slice of it (one allocation a row group, not one a row).
fn text_values<'a>(
    rows: std::ops::Range<usize>,
    value: &dyn Fn(usize) -> Value<'a>,
) -> Vec<ByteArray> {
    let mut all = Vec::new();
    let mut ends = Vec::with_capacity(rows.len());
    for r in rows {
        if let Value::Text(t) = value(r) {
            all.extend_from_slice(t);
        }
        ends.push(all.len());
    }
    let all = bytes::Bytes::from(all);
    let mut start = 0;
    ends.into_iter()
        .map(|end| {
            let cell = ByteArray::from(all.slice(start..end));
            start = end;
            cell
        })
        .collect()
}

/// The Parquet file of `rows` rows of `columns`.
pub fn table(rows: usize, columns: &[Column<'_, '_>]) -> Result<Vec<u8>, ParquetError> {
    table_into(Vec::new(), rows, columns)
}

/// Writes the Parquet file of `rows` rows of `columns` to `out`, one row
/// group at a time (so a large file never sits in memory whole).
pub fn table_into<W: std::io::Write + Send>(
    out: W,
    rows: usize,
    columns: &[Column<'_, '_>],
) -> Result<W, ParquetError> {
    let fields: Vec<String> = columns
        .iter()
        .map(|c| match c.kind {
            Kind::Text => format!("REQUIRED BYTE_ARRAY {} (UTF8);", c.name),
            Kind::Int => format!("REQUIRED INT64 {};", c.name),
            Kind::NullableInt => format!("OPTIONAL INT64 {};", c.name),
        })
        .collect();
    let schema = parse_message_type(&format!("message table {{ {} }}", fields.join(" ")))?;
    let properties = Arc::new(WriterProperties::builder().build());
    let mut writer = SerializedFileWriter::new(out, Arc::new(schema), properties)?;
    let mut start = 0;
    // Bounded: each turn writes up to ROW_GROUP more rows.
    while start < rows || (rows == 0 && start == 0) {
        let end = (start + ROW_GROUP).min(rows);
        let mut group = writer.next_row_group()?;
        for column in columns {
            let mut out = group
                .next_column()?
                .ok_or_else(|| ParquetError::General("fewer columns than the schema".into()))?;
            match column.kind {
                Kind::Text => {
                    let values = text_values(start..end, column.value);
                    out.typed::<ByteArrayType>()
                        .write_batch(&values, None, None)?;
                }
                Kind::Int | Kind::NullableInt => {
                    let cells: Vec<Option<i64>> = (start..end)
                        .map(|r| match (column.value)(r) {
                            Value::Int(v) => v,
                            Value::Text(_) => None,
                        })
                        .collect();
                    let values: Vec<i64> = cells.iter().flatten().copied().collect();
                    let levels: Vec<i16> = cells.iter().map(|c| i16::from(c.is_some())).collect();
                    let definition = (column.kind == Kind::NullableInt).then_some(&levels[..]);
                    out.typed::<Int64Type>()
                        .write_batch(&values, definition, None)?;
                }
            }
            out.close()?;
        }
        group.close()?;
        start = end;
        if rows == 0 {
            break;
        }
    }
    writer.into_inner()
}
