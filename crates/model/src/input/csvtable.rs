//! Reading a CSV table: header lookup by name, rows with their numbers, and
//! errors that name the file, row, line and field.
//!
//! Two readers give the same rows. Files with quotes or lone carriage
//! returns go through the `csv` crate, which handles every RFC 4180 corner.
//! Plain files (the common case, and every file clearsim writes) are split
//! on commas and newlines directly, several times faster.

use super::error::InputError;

pub struct Table<'a> {
    name: &'a str,
    reader: Reader<'a>,
    header: Vec<String>,
    rows_read: u64,
}

enum Reader<'a> {
    Csv {
        reader: csv::Reader<&'a [u8]>,
        record: csv::ByteRecord,
    },
    Plain(PlainReader<'a>),
    Columns {
        columns: &'a TextColumns<'a>,
        /// Rows read so far.
        next: usize,
    },
}

/// A table given as columns of text instead of a file: a DataFrame's
/// columns, each cast to text in Arrow's large-string layout (the Python
/// package). Its rows go through the same checks as a file's, so a value
/// means the same and is refused with the same message (without a line).
pub struct TextColumns<'a> {
    pub names: Vec<String>,
    pub columns: Vec<TextColumn<'a>>,
    pub rows: usize,
}

/// One text column: row `r` is `data[offsets[r]..offsets[r + 1]]`.
#[derive(Clone, Copy)]
pub struct TextColumn<'a> {
    pub offsets: &'a [i64],
    pub data: &'a [u8],
}

impl TextColumn<'_> {
    /// Offsets fit the rows and the data, in order: checked once, so that
    /// reading a cell cannot fail.
    fn fits(&self, rows: usize) -> bool {
        self.offsets.len() == rows + 1
            && self.offsets.first().is_some_and(|&o| o >= 0)
            && self.offsets.windows(2).all(|w| w[0] <= w[1])
            && self
                .offsets
                .last()
                .is_some_and(|&o| usize::try_from(o).is_ok_and(|o| o <= self.data.len()))
    }

    fn cell(&self, row: usize) -> &[u8] {
        let start = self.offsets.get(row).copied().unwrap_or(0) as usize;
        let end = self.offsets.get(row + 1).copied().unwrap_or(0) as usize;
        self.data.get(start..end).unwrap_or_default()
    }
}

/// Splits a file with no quotes and no lone `\r` into lines and fields.
struct PlainReader<'a> {
    bytes: &'a [u8],
    position: usize,
    line: u64,
    /// Current row: its line and the field bounds in it.
    row: &'a [u8],
    fields: Vec<(usize, usize)>,
    width: usize,
}

impl<'a> PlainReader<'a> {
    fn new(bytes: &'a [u8]) -> PlainReader<'a> {
        PlainReader {
            bytes,
            position: 0,
            line: 0,
            row: &[],
            fields: Vec::new(),
            width: 0,
        }
    }

    /// True when the plain reader reads `bytes` exactly as the csv crate would.
    /// Whether a file can be read plainly (no quotes, no bare `\r`), a
    /// mapping's pages released behind the scan (`release(n)`: the first
    /// `n` bytes), so that a file is never held whole by it.
    fn suits_releasing(bytes: &[u8], release: &dyn Fn(usize)) -> bool {
        let step = super::mapped::RELEASE_EVERY_BYTES;
        let mut start = 0;
        while start < bytes.len() {
            let end = (start + step).min(bytes.len());
            let chunk = &bytes[start..end];
            let plain = memchr::memchr(b'"', chunk).is_none()
                && memchr::memchr_iter(b'\r', chunk)
                    .all(|at| bytes.get(start + at + 1) == Some(&b'\n'));
            release(start);
            if !plain {
                return false;
            }
            start = end;
        }
        true
    }

    /// Advances to the next non-empty line; false at the end of the file.
    /// One plain pass over the line's bytes: rows are short, so a byte loop
    /// beats vectorised searches that pay a setup cost per call.
    fn next_line(&mut self) -> bool {
        while self.position < self.bytes.len() {
            let rest = &self.bytes[self.position..];
            self.fields.clear();
            let mut start = 0;
            let mut end = rest.len();
            for (at, &byte) in rest.iter().enumerate() {
                if byte == b',' {
                    self.fields.push((start, at));
                    start = at + 1;
                } else if byte == b'\n' {
                    end = at;
                    break;
                }
            }
            self.position += (end + 1).min(rest.len());
            self.line += 1;
            let line_end = if end > start && rest[end - 1] == b'\r' {
                end - 1
            } else {
                end
            };
            if line_end == 0 {
                continue;
            }
            self.fields.push((start, line_end));
            self.row = &rest[..line_end];
            return true;
        }
        false
    }

    fn field(&self, col: usize) -> &[u8] {
        self.fields
            .get(col)
            .map_or(&[], |&(start, end)| &self.row[start..end])
    }
}

/// One data row, borrowed from the table.
pub struct Row<'t> {
    name: &'t str,
    fields: Fields<'t>,
    number: u64,
    /// None for a row of columns.
    line: Option<u64>,
}

enum Fields<'t> {
    Csv(&'t csv::ByteRecord),
    Plain(&'t PlainReader<'t>),
    Columns(&'t TextColumns<'t>, usize),
}

impl<'a> Table<'a> {
    /// Reads the header. An empty file (or one with only a byte-order mark or
    /// blank lines) is an error.
    pub fn open(name: &'a str, bytes: &'a [u8]) -> Result<Table<'a>, InputError> {
        Table::open_with(name, bytes, true, &|_| {})
    }

    /// A table of columns; `name` names it in messages, as a file's path.
    pub fn open_columns(
        name: &'a str,
        columns: &'a TextColumns<'a>,
    ) -> Result<Table<'a>, InputError> {
        if columns.names.len() != columns.columns.len() {
            return Err(InputError::file(
                name,
                "the column names and the columns differ in number",
            ));
        }
        if let Some(bad) =
            (0..columns.columns.len()).find(|&c| !columns.columns[c].fits(columns.rows))
        {
            return Err(InputError::file(
                name,
                format!(
                    "column `{}` is not a text column of {} rows",
                    columns.names[bad], columns.rows
                ),
            ));
        }
        let header = header(name, None, columns.names.iter().map(|n| n.as_bytes()))?;
        Ok(Table {
            name,
            reader: Reader::Columns { columns, next: 0 },
            header,
            rows_read: 0,
        })
    }

    /// A table from either form.
    pub fn open_input(name: &'a str, input: Input<'a>) -> Result<Table<'a>, InputError> {
        Table::open_input_releasing(name, input, &|_| {})
    }

    /// [`Table::open_input`], `release` told how far the first look at a
    /// file has gone (see [`super::mapped::Mapped::release`]).
    pub fn open_input_releasing(
        name: &'a str,
        input: Input<'a>,
        release: &dyn Fn(usize),
    ) -> Result<Table<'a>, InputError> {
        match input {
            Input::Csv(bytes) => Table::open_with(name, bytes, true, release),
            Input::Columns(columns) => Table::open_columns(name, columns),
        }
    }

    fn open_with(
        name: &'a str,
        bytes: &'a [u8],
        allow_plain: bool,
        release: &dyn Fn(usize),
    ) -> Result<Table<'a>, InputError> {
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let mut reader = if allow_plain && PlainReader::suits_releasing(bytes, release) {
            Reader::Plain(PlainReader::new(bytes))
        } else {
            let reader = csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(false)
                .from_reader(bytes);
            Reader::Csv {
                reader,
                record: csv::ByteRecord::new(),
            }
        };
        let header_fields: Vec<Vec<u8>> = match &mut reader {
            Reader::Csv { reader, record } => {
                if !reader
                    .read_byte_record(record)
                    .map_err(|e| csv_error(name, e))?
                {
                    return Err(InputError::file(name, "empty file: expected a header line"));
                }
                record.iter().map(<[u8]>::to_vec).collect()
            }
            Reader::Plain(plain) => {
                if !plain.next_line() {
                    return Err(InputError::file(name, "empty file: expected a header line"));
                }
                plain.width = plain.fields.len();
                (0..plain.fields.len())
                    .map(|col| plain.field(col).to_vec())
                    .collect()
            }
            // Only file readers are made here.
            Reader::Columns { .. } => Vec::new(),
        };
        let header = header(name, Some(1), header_fields.iter().map(Vec::as_slice))?;
        Ok(Table {
            name,
            reader,
            header,
            rows_read: 0,
        })
    }

    /// Column positions of the required columns, in the order asked.
    pub fn require<const N: usize>(&self, names: [&str; N]) -> Result<[usize; N], InputError> {
        let mut out = [0; N];
        for (slot, wanted) in out.iter_mut().zip(names) {
            *slot = self.optional(wanted).ok_or_else(|| {
                let line = match self.reader {
                    Reader::Columns { .. } => None,
                    _ => Some(1),
                };
                header_error(self.name, line, wanted, "missing column in the header")
            })?;
        }
        Ok(out)
    }

    pub fn optional(&self, wanted: &str) -> Option<usize> {
        self.header.iter().position(|h| h == wanted)
    }

    /// How far into the file the reader is, in bytes (what it has read so
    /// far; the current row's bytes are before it).
    pub fn consumed_bytes(&self) -> usize {
        match &self.reader {
            Reader::Csv { reader, .. } => {
                usize::try_from(reader.position().byte()).unwrap_or(usize::MAX)
            }
            Reader::Plain(plain) => plain.position,
            Reader::Columns { .. } => 0,
        }
    }

    /// The next data row, or `None` at the end of the file.
    pub fn next_row(&mut self) -> Result<Option<Row<'_>>, InputError> {
        let name = self.name;
        match &mut self.reader {
            Reader::Csv { reader, record } => {
                if !reader
                    .read_byte_record(record)
                    .map_err(|e| csv_error(name, e))?
                {
                    return Ok(None);
                }
                self.rows_read += 1;
                let line = Some(record.position().map_or(0, |p| p.line()));
                Ok(Some(Row {
                    name,
                    fields: Fields::Csv(record),
                    number: self.rows_read,
                    line,
                }))
            }
            Reader::Plain(plain) => {
                if !plain.next_line() {
                    return Ok(None);
                }
                self.rows_read += 1;
                if plain.fields.len() != plain.width {
                    return Err(InputError {
                        file: name.to_string(),
                        row: Some(self.rows_read),
                        line: Some(plain.line),
                        field: None,
                        message: format!(
                            "malformed CSV: {} fields where the header has {}",
                            plain.fields.len(),
                            plain.width
                        ),
                    });
                }
                let line = Some(plain.line);
                Ok(Some(Row {
                    name,
                    fields: Fields::Plain(plain),
                    number: self.rows_read,
                    line,
                }))
            }
            Reader::Columns { columns, next } => {
                if *next >= columns.rows {
                    return Ok(None);
                }
                let row = *next;
                *next += 1;
                self.rows_read += 1;
                Ok(Some(Row {
                    name,
                    fields: Fields::Columns(columns, row),
                    number: self.rows_read,
                    line: None,
                }))
            }
        }
    }
}

impl Row<'_> {
    /// 1-based data row number (the header is not counted).
    pub fn number(&self) -> u64 {
        self.number
    }

    /// 1-based line number of the row in the file (none for columns).
    pub fn line(&self) -> Option<u64> {
        self.line
    }

    /// A text column, which must be UTF-8 (every output that carries it —
    /// CSV, Parquet, JSON — is): the error names the row and `name`.
    #[inline]
    pub fn text(&self, col: usize, name: &str) -> Result<&[u8], InputError> {
        let bytes = self.field(col);
        // ASCII, the common case, is UTF-8 without a full check.
        if bytes.is_ascii() || std::str::from_utf8(bytes).is_ok() {
            Ok(bytes)
        } else {
            Err(self.error(name, "is not valid UTF-8 text".into()))
        }
    }

    /// The raw bytes of a column (the header fixed the column count).
    #[inline]
    pub fn field(&self, col: usize) -> &[u8] {
        match &self.fields {
            Fields::Csv(record) => record.get(col).unwrap_or_default(),
            Fields::Plain(plain) => plain.field(col),
            Fields::Columns(columns, row) => columns
                .columns
                .get(col)
                .map_or(&[][..], |column| column.cell(*row)),
        }
    }

    pub fn error(&self, field: &str, message: String) -> InputError {
        InputError {
            file: self.name.to_string(),
            row: Some(self.number),
            line: self.line,
            field: Some(field.to_string()),
            message,
        }
    }

    /// An integer ≥ 0.
    pub fn non_negative(&self, col: usize, field: &str) -> Result<i64, InputError> {
        let text = self.field(col);
        match parse_i64(text) {
            Some(v) if v >= 0 => Ok(v),
            _ => Err(self.error(
                field,
                format!(
                    "must be an integer ≥ 0 (fen), got {:?}",
                    String::from_utf8_lossy(text)
                ),
            )),
        }
    }
}

/// The header's names, each UTF-8 and given once.
fn header<'h>(
    name: &str,
    line: Option<u64>,
    fields: impl ExactSizeIterator<Item = &'h [u8]>,
) -> Result<Vec<String>, InputError> {
    let mut header = Vec::with_capacity(fields.len());
    // A set, not a scan of the names so far: a header of 100,000
    // columns would otherwise take quadratic time.
    let mut seen = hashbrown::HashSet::with_capacity(fields.len());
    for (col, field) in fields.enumerate() {
        let Ok(text) = std::str::from_utf8(field) else {
            return Err(header_error(
                name,
                line,
                &format!("column {}", col + 1),
                "is not UTF-8",
            ));
        };
        if !seen.insert(text) {
            return Err(header_error(
                name,
                line,
                text,
                "appears twice in the header",
            ));
        }
        header.push(text.to_string());
    }
    Ok(header)
}

/// Where a table's bytes come from.
#[derive(Clone, Copy)]
pub enum Input<'a> {
    Csv(&'a [u8]),
    Columns(&'a TextColumns<'a>),
}

/// Decimal integer with an optional sign (`+` or `-`); `None` if malformed or
/// out of `i64` range.
pub fn parse_i64(text: &[u8]) -> Option<i64> {
    let (negative, digits) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, text),
    };
    if digits.is_empty() {
        return None;
    }
    // Accumulate negatively so that i64::MIN parses too.
    let mut value: i64 = 0;
    for &b in digits {
        if !b.is_ascii_digit() {
            return None;
        }
        value = value.checked_mul(10)?.checked_sub(i64::from(b - b'0'))?;
    }
    if negative {
        Some(value)
    } else {
        value.checked_neg()
    }
}

fn header_error(file: &str, line: Option<u64>, field: &str, message: &str) -> InputError {
    InputError {
        file: file.to_string(),
        row: None,
        line,
        field: Some(field.to_string()),
        message: message.to_string(),
    }
}

/// Converts a CSV syntax error into one that names the row and line.
fn csv_error(file: &str, error: csv::Error) -> InputError {
    let line = error.position().map(|p| p.line());
    let row = error.position().map(|p| p.record());
    let message = match error.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => {
            format!("malformed CSV: {len} fields where the header has {expected_len}")
        }
        csv::ErrorKind::Utf8 { err, .. } => format!("malformed CSV: invalid UTF-8 ({err})"),
        _ => format!("malformed CSV: {error}"),
    };
    InputError {
        file: file.to_string(),
        row,
        line,
        field: None,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_integers_like_std() {
        for text in [
            "0",
            "-0",
            "+7",
            "42",
            "-42",
            "9223372036854775807",
            "-9223372036854775808",
            "9223372036854775808",
            "",
            "-",
            "+",
            "1.5",
            " 1",
            "1 ",
            "0x10",
            "--1",
            "١",
        ] {
            let expected = text.parse::<i64>().ok();
            assert_eq!(parse_i64(text.as_bytes()), expected, "{text:?}");
        }
    }

    fn rows(bytes: &[u8]) -> Result<Vec<Vec<Vec<u8>>>, InputError> {
        rows_with(bytes, true)
    }

    fn rows_with(bytes: &[u8], allow_plain: bool) -> Result<Vec<Vec<Vec<u8>>>, InputError> {
        let mut table = Table::open_with("t.csv", bytes, allow_plain, &|_| {})?;
        let width = table.header.len();
        let mut out = vec![table.header.iter().map(|h| h.as_bytes().to_vec()).collect()];
        while let Some(row) = table.next_row()? {
            out.push((0..width).map(|c| row.field(c).to_vec()).collect());
        }
        Ok(out)
    }

    proptest::proptest! {
        #[test]
        fn plain_reader_reads_what_the_csv_crate_reads(
            pieces in proptest::collection::vec(proptest::sample::select(vec!["a", "1", ",", "\n", "\r\n", "é"]), 0..40)
        ) {
            let bytes = pieces.concat();
            let plain = rows_with(bytes.as_bytes(), true);
            let csv = rows_with(bytes.as_bytes(), false);
            match (plain, csv) {
                (Ok(a), Ok(b)) => proptest::prop_assert_eq!(a, b),
                // Rows agree. Lines may not: the csv crate does not count blank
                // lines, nor the `\n` of a CRLF-ended record, in its position.
                (Err(a), Err(b)) => proptest::prop_assert_eq!(a.row, b.row),
                (a, b) => proptest::prop_assert!(false, "plain {:?} vs csv {:?}", a, b),
            }
        }
    }

    #[test]
    fn plain_and_csv_readers_agree() {
        let plain = b"a,b\n1,2\n\n3,\r\n,4\n".as_slice();
        assert!(PlainReader::suits_releasing(plain, &|_| {}));
        let expected = vec![
            vec![b"a".to_vec(), b"b".to_vec()],
            vec![b"1".to_vec(), b"2".to_vec()],
            vec![b"3".to_vec(), b"".to_vec()],
            vec![b"".to_vec(), b"4".to_vec()],
        ];
        assert_eq!(rows(plain).expect("plain"), expected);
        let quoted = b"a,b\n\"1\",2\n\n3,\r\n,\"4\"\n".as_slice();
        assert!(!PlainReader::suits_releasing(quoted, &|_| {}));
        assert_eq!(rows(quoted).expect("csv"), expected);
        let short = rows(b"a,b\n1\n").expect_err("short row");
        assert_eq!((short.row, short.line), (Some(1), Some(2)));
        let short_csv = rows(b"a,b\n\"1\"\n").expect_err("short row");
        assert_eq!((short_csv.row, short_csv.line), (Some(1), Some(2)));
    }
}
