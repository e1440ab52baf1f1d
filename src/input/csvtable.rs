//! A thin layer over the `csv` crate: header lookup by name, rows with their
//! numbers, and errors that name the file, row, line and field.

use super::error::InputError;

pub struct Table<'a> {
    name: &'a str,
    reader: csv::Reader<&'a [u8]>,
    header: Vec<String>,
    record: csv::ByteRecord,
    rows_read: u64,
}

/// One data row, borrowed from the table.
pub struct Row<'t> {
    name: &'t str,
    record: &'t csv::ByteRecord,
    number: u64,
    line: u64,
}

impl<'a> Table<'a> {
    /// Reads the header. An empty file (or one with only a byte-order mark or
    /// blank lines) is an error.
    pub fn open(name: &'a str, bytes: &'a [u8]) -> Result<Table<'a>, InputError> {
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(false)
            .from_reader(bytes);
        let mut record = csv::ByteRecord::new();
        let has_header = reader
            .read_byte_record(&mut record)
            .map_err(|e| csv_error(name, e))?;
        if !has_header {
            return Err(InputError::file(name, "empty file: expected a header line"));
        }
        let mut header = Vec::with_capacity(record.len());
        for (col, field) in record.iter().enumerate() {
            let Ok(text) = std::str::from_utf8(field) else {
                return Err(header_error(
                    name,
                    &format!("column {}", col + 1),
                    "is not UTF-8",
                ));
            };
            if header.iter().any(|h: &String| h == text) {
                return Err(header_error(name, text, "appears twice in the header"));
            }
            header.push(text.to_string());
        }
        Ok(Table {
            name,
            reader,
            header,
            record,
            rows_read: 0,
        })
    }

    /// Column positions of the required columns, in the order asked.
    pub fn require<const N: usize>(&self, names: [&str; N]) -> Result<[usize; N], InputError> {
        let mut out = [0; N];
        for (slot, wanted) in out.iter_mut().zip(names) {
            *slot = self
                .optional(wanted)
                .ok_or_else(|| header_error(self.name, wanted, "missing column in the header"))?;
        }
        Ok(out)
    }

    pub fn optional(&self, wanted: &str) -> Option<usize> {
        self.header.iter().position(|h| h == wanted)
    }

    /// The next data row, or `None` at the end of the file.
    pub fn next_row(&mut self) -> Result<Option<Row<'_>>, InputError> {
        let more = self
            .reader
            .read_byte_record(&mut self.record)
            .map_err(|e| csv_error(self.name, e))?;
        if !more {
            return Ok(None);
        }
        self.rows_read += 1;
        let line = self.record.position().map_or(0, |p| p.line());
        Ok(Some(Row {
            name: self.name,
            record: &self.record,
            number: self.rows_read,
            line,
        }))
    }
}

impl Row<'_> {
    /// 1-based data row number (the header is not counted).
    pub fn number(&self) -> u64 {
        self.number
    }

    /// The raw bytes of a column (the header fixed the column count).
    pub fn field(&self, col: usize) -> &[u8] {
        self.record.get(col).unwrap_or_default()
    }

    pub fn error(&self, field: &str, message: String) -> InputError {
        InputError {
            file: self.name.to_string(),
            row: Some(self.number),
            line: Some(self.line),
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

/// Decimal integer with an optional sign; `None` if malformed or out of range.
pub fn parse_i64(text: &[u8]) -> Option<i64> {
    std::str::from_utf8(text).ok()?.parse().ok()
}

fn header_error(file: &str, field: &str, message: &str) -> InputError {
    InputError {
        file: file.to_string(),
        row: None,
        line: Some(1),
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
