//! Parquet tables read as text columns, so that a Parquet file's rows go
//! through the same parser and checks as a CSV file's (one definition of
//! a valid row, as for the Python package's DataFrames): each value is
//! written as the text a CSV export would hold, and [`TextColumns`] hands
//! it to the parser.
//!
//! What each physical and logical type becomes:
//! - strings and byte arrays: their bytes (the parser checks UTF-8);
//! - integers: decimal (unsigned types as unsigned);
//! - `DATE`: `YYYY-MM-DD`; `TIME` in ms, µs or ns: `HH:MM:SS.mmm`, or
//!   finer digits when the value is not whole milliseconds (which the
//!   parser then refuses: engine time is whole milliseconds);
//! - booleans: `true` / `false`;
//! - a null: an empty field, as in a CSV file.
//!
//! Floating-point, decimal, timestamp and INT96 columns are refused: a
//! float cannot carry every amount of fen exactly, and a timestamp is not
//! a time of the business day. Nested and repeated columns are refused.

use bytes::Bytes;
use parquet::basic::{ConvertedType, LogicalType, Type as PhysicalType};
use parquet::column::page::{Page, PageMetadata, PageReader};
use parquet::column::reader::{ColumnReader, ColumnReaderImpl};
use parquet::data_type::DataType;
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::schema::types::ColumnDescriptor;

use super::{InputError, TextColumn, TextColumns};

/// The magic at both ends of a Parquet file.
const MAGIC: &[u8; 4] = b"PAR1";
/// Values read from a column chunk at a time.
const CHUNK: usize = 8192;
/// A table's rows at most: past it a file is refused before it is read.
const MAX_ROWS: u64 = 1 << 28;
/// Rows a file may claim per byte of its own: real files take a byte or
/// more per row (this day's: 18), and run-length encoding can otherwise
/// make a kilobyte claim millions of rows (a decompression bomb).
const ROWS_PER_BYTE: u64 = 1024;
/// Text the columns may expand to, per byte of the file, and at least:
/// the same defence for long dictionary values repeated.
const TEXT_PER_BYTE: u64 = 64;
const MIN_TEXT_BYTES: u64 = 1 << 28;

/// Whether `bytes` are a Parquet file (its magic at both ends).
pub fn is_parquet(bytes: &[u8]) -> bool {
    bytes.len() >= 12 && bytes.starts_with(MAGIC) && bytes.ends_with(MAGIC)
}

/// A Parquet table's columns as text, owned; [`ParquetText::columns`]
/// views them for the parser.
pub struct ParquetText {
    names: Vec<String>,
    offsets: Vec<Vec<i64>>,
    data: Vec<Vec<u8>>,
    rows: usize,
}

impl ParquetText {
    /// The columns as the parser reads them.
    pub fn columns(&self) -> TextColumns<'_> {
        TextColumns {
            names: self.names.clone(),
            columns: self
                .offsets
                .iter()
                .zip(&self.data)
                .map(|(offsets, data)| TextColumn { offsets, data })
                .collect(),
            rows: self.rows,
        }
    }
}

/// Reads the Parquet file `bytes` (named `name` in errors) as text
/// columns: each top-level column of its schema that `wanted` names (all
/// with `None`; the others are neither read nor checked), every row group
/// in order.
///
/// The Parquet reader is another crate's, and asserts some of what a file
/// claims instead of refusing it: the claims it asserts are checked here
/// first, and a panic it still raises on a malformed file is caught and
/// refused as that file's fault (the file is the only input).
pub fn read(name: &str, bytes: &[u8], wanted: Option<&[&str]>) -> Result<ParquetText, InputError> {
    let read = std::panic::catch_unwind(|| read_checked(name, bytes, wanted));
    read.unwrap_or_else(|_| {
        Err(InputError::file(
            name,
            "not a readable Parquet file: the reader failed on its metadata or pages",
        ))
    })
}

/// Every column chunk lies inside the file (the reader asserts it).
fn check_chunks(
    metadata: &parquet::file::metadata::ParquetMetaData,
    file_bytes: usize,
) -> Result<(), String> {
    for (g, group) in metadata.row_groups().iter().enumerate() {
        for chunk in group.columns() {
            let start = chunk
                .dictionary_page_offset()
                .unwrap_or(chunk.data_page_offset());
            let inside = start >= 0
                && chunk.compressed_size() >= 0
                && start
                    .checked_add(chunk.compressed_size())
                    .is_some_and(|end| end as u64 <= file_bytes as u64);
            if !inside {
                return Err(format!(
                    "row group {g}: a column chunk claims bytes outside the file"
                ));
            }
        }
    }
    Ok(())
}

fn read_checked(
    name: &str,
    bytes: &[u8],
    wanted: Option<&[&str]>,
) -> Result<ParquetText, InputError> {
    let bad = |message: String| InputError::file(name, message);
    let reader = SerializedFileReader::new(Bytes::copy_from_slice(bytes))
        .map_err(|e| bad(format!("not a readable Parquet file: {e}")))?;
    let metadata = reader.metadata();
    check_chunks(metadata, bytes.len())
        .map_err(|why| bad(format!("not a readable Parquet file: {why}")))?;
    let schema = metadata.file_metadata().schema_descr();
    let file_bytes = bytes.len() as u64;
    let rows = u64::try_from(metadata.file_metadata().num_rows()).unwrap_or(u64::MAX);
    let most = MAX_ROWS.min(ROWS_PER_BYTE.saturating_mul(file_bytes).max(1 << 16));
    if rows > most {
        return Err(bad(format!(
            "claims {rows} rows: at most {most} are read from a Parquet file of {file_bytes} bytes ({MAX_ROWS} in all, {ROWS_PER_BYTE} a byte)"
        )));
    }
    let mut text = ParquetText {
        names: Vec::new(),
        offsets: Vec::new(),
        data: Vec::new(),
        rows: rows as usize,
    };
    let mut budget = TEXT_PER_BYTE.saturating_mul(file_bytes).max(MIN_TEXT_BYTES);
    // The leaf columns read: a nested column's leaves are named by its
    // path, so a wanted name is only ever a flat, top-level column.
    let read: Vec<usize> = (0..schema.num_columns())
        .filter(|&c| {
            let path = schema.column(c).path().string();
            wanted.is_none_or(|names| names.contains(&path.as_str()))
        })
        .collect();
    for &c in &read {
        let column = schema.column(c);
        check_column(&column).map_err(|why| bad(format!("column '{}': {why}", column.name())))?;
        text.names.push(column.name().to_string());
        text.offsets.push(vec![0]);
        text.data.push(Vec::new());
    }
    for group in 0..metadata.num_row_groups() {
        let row_group = reader
            .get_row_group(group)
            .map_err(|e| bad(format!("row group {group}: {e}")))?;
        // Each column reads the rows the group claims, no more: a page
        // holding more values than that is not read past them.
        let group_rows = u64::try_from(row_group.metadata().num_rows()).unwrap_or(u64::MAX);
        for (k, &c) in read.iter().enumerate() {
            let column = schema.column(c);
            let pages = row_group
                .get_column_page_reader(c)
                .map_err(|e| bad(format!("column '{}': {e}", column.name())))?;
            let pages = CheckedPages {
                inner: pages,
                rows: group_rows,
            };
            let reader =
                parquet::column::reader::get_column_reader(column.clone(), Box::new(pages));
            let out = &mut Out {
                offsets: &mut text.offsets[k],
                data: &mut text.data[k],
                budget: &mut budget,
            };
            read_column(reader, &column, out, group_rows)
                .map_err(|why| bad(format!("column '{}': {why}", column.name())))?;
        }
    }
    text.check_lengths().map_err(bad)?;
    Ok(text)
}

impl ParquetText {
    /// Every column holds one value a row.
    fn check_lengths(&self) -> Result<(), String> {
        for (c, offsets) in self.offsets.iter().enumerate() {
            if offsets.len() != self.rows + 1 {
                return Err(format!(
                    "column '{}' holds {} values for {} rows",
                    self.names[c],
                    offsets.len() - 1,
                    self.rows
                ));
            }
        }
        Ok(())
    }
}

/// A flat column of a type that has a text form.
fn check_column(column: &ColumnDescriptor) -> Result<(), String> {
    if column.max_rep_level() > 0 || column.path().parts().len() > 1 {
        return Err("nested or repeated columns are not read: write a flat table".into());
    }
    let refused = match (column.physical_type(), column.converted_type()) {
        (PhysicalType::FLOAT | PhysicalType::DOUBLE, _) => Some(
            "floating-point values cannot hold every amount exactly: write integers (fen, ms) or text",
        ),
        (PhysicalType::INT96, _)
        | (_, ConvertedType::TIMESTAMP_MILLIS)
        | (_, ConvertedType::TIMESTAMP_MICROS) => {
            Some("a timestamp is not a time of the business day: write `at` as a time or as text")
        }
        (_, ConvertedType::DECIMAL | ConvertedType::INTERVAL) => {
            Some("decimal and interval values are not read: write integers or text")
        }
        _ => None,
    };
    let timestamp_ns = matches!(
        column.logical_type_ref(),
        Some(LogicalType::Timestamp { .. })
    );
    match refused {
        Some(why) => Err(why.into()),
        None if timestamp_ns => Err("a timestamp is not a time of the business day".into()),
        None => Ok(()),
    }
}

/// How one column's values are written as text.
#[derive(Clone, Copy)]
enum Form {
    Signed,
    Unsigned,
    Date,
    /// A time of day in units per second (1,000, 10⁶ or 10⁹).
    Time(i64),
}

fn form_of(column: &ColumnDescriptor) -> Form {
    match (column.converted_type(), column.logical_type_ref()) {
        (ConvertedType::DATE, _) => Form::Date,
        (ConvertedType::TIME_MILLIS, _) => Form::Time(1_000),
        (ConvertedType::TIME_MICROS, _) => Form::Time(1_000_000),
        (_, Some(LogicalType::Time { .. })) => Form::Time(1_000_000_000),
        (
            ConvertedType::UINT_8
            | ConvertedType::UINT_16
            | ConvertedType::UINT_32
            | ConvertedType::UINT_64,
            _,
        ) => Form::Unsigned,
        _ => Form::Signed,
    }
}

/// A column chunk's pages, each checked as the reader takes it and
/// before it decodes it: a page claims no more values than its bytes and
/// its row group's `rows` can hold. The reader sizes its buffers by those
/// claims (a 1.6 KB file claiming a dictionary of hundreds of millions of
/// values took 8.5 GB, found by the fuzz target). A flat column's data
/// page holds a value or a null per row; a dictionary's plain values take
/// at least a bit each.
struct CheckedPages {
    inner: Box<dyn PageReader>,
    rows: u64,
}

impl CheckedPages {
    fn check(&self, page: &Page) -> Result<(), String> {
        let (num_values, most) = match page {
            Page::DictionaryPage {
                buf, num_values, ..
            } => (*num_values, 8 * buf.len() as u64 + 8),
            Page::DataPage { num_values, .. } | Page::DataPageV2 { num_values, .. } => {
                (*num_values, self.rows)
            }
        };
        if u64::from(num_values) > most {
            return Err(format!(
                "a page claims {num_values} values where at most {most} fit"
            ));
        }
        Ok(())
    }
}

impl PageReader for CheckedPages {
    fn get_next_page(&mut self) -> parquet::errors::Result<Option<Page>> {
        let page = self.inner.get_next_page()?;
        if let Some(page) = &page {
            self.check(page)
                .map_err(parquet::errors::ParquetError::General)?;
        }
        Ok(page)
    }

    fn peek_next_page(&mut self) -> parquet::errors::Result<Option<PageMetadata>> {
        self.inner.peek_next_page()
    }

    fn skip_next_page(&mut self) -> parquet::errors::Result<()> {
        self.inner.skip_next_page()
    }
}

impl Iterator for CheckedPages {
    type Item = parquet::errors::Result<Page>;

    fn next(&mut self) -> Option<Self::Item> {
        self.get_next_page().transpose()
    }
}

/// Appends one column chunk's `rows` values to `out`.
fn read_column(
    reader: ColumnReader,
    column: &ColumnDescriptor,
    out: &mut Out<'_>,
    rows: u64,
) -> Result<(), String> {
    let form = form_of(column);
    let max_def = (column.max_def_level(), rows);
    match reader {
        ColumnReader::BoolColumnReader(r) => chunks(r, max_def, out, |out, v: &bool| {
            out.text(if *v { b"true" } else { b"false" });
        }),
        ColumnReader::Int32ColumnReader(r) => chunks(r, max_def, out, |out, v: &i32| match form {
            Form::Unsigned => out.number(i128::from(*v as u32)),
            _ => out.integer(i64::from(*v), form),
        }),
        ColumnReader::Int64ColumnReader(r) => chunks(r, max_def, out, |out, v: &i64| match form {
            Form::Unsigned => out.number(i128::from(*v as u64)),
            _ => out.integer(*v, form),
        }),
        ColumnReader::ByteArrayColumnReader(r) => {
            chunks(r, max_def, out, |out, v: &parquet::data_type::ByteArray| {
                out.text(v.data());
            })
        }
        ColumnReader::FixedLenByteArrayColumnReader(r) => chunks(
            r,
            max_def,
            out,
            |out, v: &parquet::data_type::FixedLenByteArray| out.text(v.data()),
        ),
        ColumnReader::Int96ColumnReader(_)
        | ColumnReader::FloatColumnReader(_)
        | ColumnReader::DoubleColumnReader(_) => Err("this type is not read".into()),
    }
}

/// Reads a column chunk's `rows` records [`CHUNK`] at a time (given with
/// the column's highest definition level): each value through `write`,
/// each null as an empty field (as in a CSV file).
fn chunks<T: DataType>(
    mut reader: ColumnReaderImpl<T>,
    (max_def, rows): (i16, u64),
    out: &mut Out<'_>,
    write: impl Fn(&mut Out<'_>, &T::T),
) -> Result<(), String> {
    let mut values: Vec<T::T> = Vec::with_capacity(CHUNK);
    let mut defs: Vec<i16> = Vec::with_capacity(CHUNK);
    let mut left = rows;
    // Bounded: each turn reads at least one of the `rows` records, or ends.
    while left > 0 {
        values.clear();
        defs.clear();
        let asked = CHUNK.min(usize::try_from(left).unwrap_or(CHUNK));
        let (records, _, _) = reader
            .read_records(asked, Some(&mut defs), None, &mut values)
            .map_err(|e| e.to_string())?;
        if records == 0 {
            return Err(format!("{left} fewer values than its row group's rows"));
        }
        left = left.saturating_sub(records as u64);
        let mut next = values.iter();
        for r in 0..records {
            if max_def > 0 && defs.get(r).is_none_or(|&d| d < max_def) {
                out.text(b"");
                continue;
            }
            let Some(value) = next.next() else {
                return Err("fewer values than its levels say".into());
            };
            write(out, value);
        }
        if *out.budget == 0 {
            return Err(format!(
                "its text passes {TEXT_PER_BYTE} bytes per byte of the file (at least {MIN_TEXT_BYTES} bytes): not a table the replay reads"
            ));
        }
    }
    Ok(())
}

/// The text being built for one column, and what every column together
/// may still take.
struct Out<'a> {
    offsets: &'a mut Vec<i64>,
    data: &'a mut Vec<u8>,
    budget: &'a mut u64,
}

impl Out<'_> {
    /// A cell; past the budget, an empty one (the chunk then refuses the
    /// file: the text never grows past the budget).
    fn text(&mut self, bytes: &[u8]) {
        let cost = bytes.len() as u64 + 8;
        if *self.budget > cost {
            *self.budget -= cost;
            self.data.extend_from_slice(bytes);
        } else {
            *self.budget = 0;
        }
        self.offsets.push(self.data.len() as i64);
    }

    fn number(&mut self, n: i128) {
        let mut buffer = itoa::Buffer::new();
        self.text(buffer.format(n).as_bytes());
    }

    fn integer(&mut self, v: i64, form: Form) {
        match form {
            Form::Signed | Form::Unsigned => self.number(i128::from(v)),
            Form::Date => self.text(date_text(v).as_bytes()),
            Form::Time(per_s) => self.text(time_text(v, per_s).as_bytes()),
        }
    }
}

/// `YYYY-MM-DD` of a day number (days since 1970-01-01, proleptic
/// Gregorian; H. Hinnant's algorithm); a date outside years 0–9999 is
/// written as its number, which the parser refuses as not a date.
fn date_text(days: i64) -> String {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    if (0..=9999).contains(&year) {
        format!("{year:04}-{month:02}-{day:02}")
    } else {
        days.to_string()
    }
}

/// `HH:MM:SS.mmm` of a time of day in `per_s` units per second, with more
/// digits when it is not whole milliseconds; a negative time as its
/// number (refused by the parser).
fn time_text(units: i64, per_s: i64) -> String {
    if units < 0 {
        return units.to_string();
    }
    let (seconds, fraction) = (units / per_s, units % per_s);
    let (h, m, s) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
    let per_ms = per_s / 1000;
    if fraction % per_ms == 0 {
        format!("{h:02}:{m:02}:{s:02}.{:03}", fraction / per_ms)
    } else {
        let digits = per_s.ilog10() as usize;
        format!("{h:02}:{m:02}:{s:02}.{fraction:0digits$}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_times_are_written_as_a_csv_would_hold_them() {
        assert_eq!(date_text(0), "1970-01-01");
        assert_eq!(date_text(20_454), "2026-01-01");
        assert_eq!(date_text(11_016), "2000-02-29");
        assert_eq!(date_text(-719_528), "0000-01-01");
        for days in [-1000, 0, 59, 60, 11_016, 20_454, 2_932_896] {
            let text = date_text(days);
            assert_eq!(super::super::day_number(&text), Some(days), "{text}");
        }
        assert_eq!(time_text(34_200_000, 1_000), "09:30:00.000");
        assert_eq!(time_text(34_200_000_000, 1_000_000), "09:30:00.000");
        assert_eq!(time_text(34_200_000_500, 1_000_000), "09:30:00.000500");
        assert_eq!(time_text(86_399_999_000_000, 1_000_000_000), "23:59:59.999");
        assert_eq!(time_text(-1, 1_000), "-1");
    }

    /// Found by the `replay_parquet` fuzz target: a column chunk with a
    /// negative offset made the reader panic (an assertion of its own).
    #[test]
    fn a_chunk_outside_the_file_is_refused_not_a_panic() {
        let bytes = include_bytes!("testdata/chunk-outside-file.parquet");
        let error = read("fuzzed.parquet", bytes, None).err().expect("refused");
        let said = error.to_string();
        assert!(said.contains("fuzzed.parquet"), "{said}");
        assert!(said.contains("not a readable Parquet file"), "{said}");
    }

    /// Found by the fuzz target: a page the reader's bit unpacking
    /// indexes past (a panic inside the reader, caught and refused; now
    /// refused before, by the pages' check).
    #[test]
    fn a_page_the_reader_fails_on_is_refused_not_a_panic() {
        let bytes = include_bytes!("testdata/bad-page.parquet");
        let error = read("fuzzed.parquet", bytes, None).err().expect("refused");
        // Refused by the pages' check now, before the reader decodes it.
        assert!(error.to_string().contains("fuzzed.parquet"), "{error}");
    }

    /// Found by the fuzz target in CI: a file claiming two rows whose
    /// pages run-length encode millions of values (8.5 GB read before the
    /// reader failed). Only the rows a row group claims are read.
    #[test]
    fn pages_with_more_values_than_rows_are_not_read_past_them() {
        let bytes = include_bytes!("testdata/more-values-than-rows.parquet");
        let error = read("bomb.parquet", bytes, None).err().expect("refused");
        assert!(error.to_string().contains("bomb.parquet"), "{error}");
    }

    #[test]
    fn only_parquet_files_are_taken_for_parquet() {
        assert!(!is_parquet(b"id,opening_balance\n"));
        assert!(!is_parquet(b"PAR1"));
        assert!(is_parquet(b"PAR1 whatever PAR1"));
        let error = read("x.parquet", b"PAR1 not really PAR1", None)
            .err()
            .expect("refused");
        assert!(error.to_string().contains("x.parquet"), "{error}");
    }
}
