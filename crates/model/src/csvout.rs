//! The one CSV writer: every CSV file clearsim writes — the replay's input
//! files that `generate` and `journal export` produce, settlements,
//! balances and every report table — goes through the `csv` crate here,
//! so quoting (RFC 4180: a field is quoted when it holds a comma, a quote
//! or a line break) and line ends (`\n`) are the same everywhere, and
//! what clearsim writes its own reader reads back.

use std::io::{self, Write};

use clearsim_core::time::SimTime;

/// Writes CSV rows field by field to `W`, buffered.
pub struct CsvOut<W: Write> {
    inner: csv::Writer<W>,
    number: itoa::Buffer,
    scratch: Vec<u8>,
}

fn io_error(error: csv::Error) -> io::Error {
    match error.into_kind() {
        csv::ErrorKind::Io(e) => e,
        other => io::Error::other(format!("{other:?}")),
    }
}

impl<W: Write> CsvOut<W> {
    pub fn new(out: W) -> CsvOut<W> {
        CsvOut {
            inner: csv::WriterBuilder::new()
                .buffer_capacity(1 << 16)
                .from_writer(out),
            number: itoa::Buffer::new(),
            scratch: Vec::with_capacity(16),
        }
    }

    /// A text field, quoted when it needs to be.
    pub fn text(&mut self, field: impl AsRef<[u8]>) -> io::Result<()> {
        self.inner.write_field(field).map_err(io_error)
    }

    /// An integer field.
    pub fn int(&mut self, value: impl itoa::Integer) -> io::Result<()> {
        let text = self.number.format(value);
        self.inner.write_field(text).map_err(io_error)
    }

    /// A time of day, `HH:MM:SS.mmm`.
    pub fn time(&mut self, at: SimTime) -> io::Result<()> {
        self.scratch.clear();
        at.write_text(&mut self.scratch);
        self.inner.write_field(&self.scratch).map_err(io_error)
    }

    /// An empty field.
    pub fn empty(&mut self) -> io::Result<()> {
        self.inner.write_field([]).map_err(io_error)
    }

    /// A whole row of text fields.
    pub fn row<I, T>(&mut self, fields: I) -> io::Result<()>
    where
        I: IntoIterator<Item = T>,
        T: AsRef<[u8]>,
    {
        self.inner.write_record(fields).map_err(io_error)
    }

    /// Ends the row the fields before it make.
    pub fn end(&mut self) -> io::Result<()> {
        self.inner.write_record(None::<&[u8]>).map_err(io_error)
    }

    /// Flushes and hands back the destination.
    pub fn finish(self) -> io::Result<W> {
        self.inner
            .into_inner()
            .map_err(|e| io::Error::other(e.to_string()))
    }
}

impl CsvOut<Vec<u8>> {
    /// The bytes written, for a file built in memory (writing to a vector
    /// cannot fail).
    pub fn into_bytes(self) -> Vec<u8> {
        self.finish().unwrap_or_default()
    }
}

/// One row of the replay's `participants.csv`.
pub struct ParticipantRow<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub category: &'a str,
    pub opening_fen: i64,
    pub credit_limit_fen: i64,
}

/// The replay's `participants.csv` (docs/semantics.md): names are free
/// text and quoted when they need it.
pub fn participants_csv<'a>(rows: impl IntoIterator<Item = ParticipantRow<'a>>) -> Vec<u8> {
    let mut out = CsvOut::new(Vec::new());
    let write = |out: &mut CsvOut<Vec<u8>>| -> io::Result<()> {
        out.row(["id", "name", "category", "opening_balance", "credit_limit"])?;
        for p in rows {
            out.text(p.id)?;
            out.text(p.name)?;
            out.text(p.category)?;
            out.int(p.opening_fen)?;
            out.int(p.credit_limit_fen)?;
            out.end()?;
        }
        Ok(())
    };
    // Writing to a vector cannot fail.
    let _ = write(&mut out);
    out.into_bytes()
}

/// One row of the replay's `payments.csv`.
pub struct PaymentRow<'a> {
    pub id: &'a [u8],
    pub submit: SimTime,
    pub sender: &'a str,
    pub receiver: &'a str,
    pub amount_fen: i64,
    pub priority: i64,
    pub instrument: &'a str,
}

/// The header of the replay's `payments.csv`.
pub const PAYMENTS_HEADER: [&str; 7] = [
    "id",
    "submit",
    "sender",
    "receiver",
    "amount",
    "priority",
    "instrument",
];

impl<W: Write> CsvOut<W> {
    /// One row of the replay's `payments.csv`.
    pub fn payment(&mut self, p: &PaymentRow<'_>) -> io::Result<()> {
        self.text(p.id)?;
        self.time(p.submit)?;
        self.text(p.sender)?;
        self.text(p.receiver)?;
        self.int(p.amount_fen)?;
        self.int(p.priority)?;
        self.text(p.instrument)?;
        self.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_only_what_needs_quotes() {
        let mut out = CsvOut::new(Vec::new());
        out.row(["a", "b,c", "d\"e", "f\ng", ""]).expect("row");
        out.int(-42i64).expect("int");
        out.time(SimTime(3_723_004)).expect("time");
        out.empty().expect("empty");
        out.text("x y").expect("text");
        out.int(7u32).expect("int");
        out.end().expect("end");
        assert_eq!(
            String::from_utf8(out.into_bytes()).expect("utf-8"),
            "a,\"b,c\",\"d\"\"e\",\"f\ng\",\n-42,01:02:03.004,,x y,7\n"
        );
    }

    #[test]
    fn participants_read_back_as_written() {
        let bytes = participants_csv([ParticipantRow {
            id: "B1",
            name: "Bank, \"one\"",
            category: "city",
            opening_fen: 100,
            credit_limit_fen: 0,
        }]);
        let mut reader = csv::Reader::from_reader(bytes.as_slice());
        let row = reader.records().next().expect("a row").expect("valid");
        assert_eq!(&row[1], "Bank, \"one\"");
        assert_eq!(&row[3], "100");
    }
}
