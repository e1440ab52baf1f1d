//! Tables: [`Table`] holds display strings for terminals, markdown and HTML;
//! [`Frame`] holds plain numbers for CSV, the unit in each column's name.

use clearsim_model::csvout::CsvOut;

/// Rows of display cells: the one table behind the markdown, the terminal
/// and the HTML output, so every figure is formatted once.
pub struct Table {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(header: &[&str]) -> Table {
        Table {
            header: header.iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    pub fn markdown(&self) -> String {
        let mut out = format!("| {} |\n", self.header.join(" | "));
        out += &format!("|{}\n", " --- |".repeat(self.header.len()));
        for row in &self.rows {
            out += &format!("| {} |\n", row.join(" | "));
        }
        out
    }

    pub fn text(&self) -> String {
        let widths: Vec<usize> = (0..self.header.len())
            .map(|c| {
                self.rows
                    .iter()
                    .filter_map(|r| r.get(c))
                    .map(|cell| cell.chars().count())
                    .chain([self.header[c].chars().count()])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let line = |cells: &[String]| {
            cells
                .iter()
                .zip(&widths)
                .enumerate()
                .map(|(i, (c, w))| {
                    if i == 0 {
                        format!("{c:<w$}")
                    } else {
                        format!("{c:>w$}")
                    }
                })
                .collect::<Vec<_>>()
                .join("  ")
        };
        let mut out = line(&self.header) + "\n";
        for row in &self.rows {
            out += &(line(row) + "\n");
        }
        out
    }
}

/// A CSV cell: a plain number or a text.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Text(String),
    Int(i128),
    Float(f64),
    Empty,
}

impl From<&str> for Cell {
    fn from(text: &str) -> Cell {
        Cell::Text(text.to_string())
    }
}
impl From<String> for Cell {
    fn from(text: String) -> Cell {
        Cell::Text(text)
    }
}
impl From<i64> for Cell {
    fn from(v: i64) -> Cell {
        Cell::Int(i128::from(v))
    }
}
impl From<u64> for Cell {
    fn from(v: u64) -> Cell {
        Cell::Int(i128::from(v))
    }
}
impl From<u32> for Cell {
    fn from(v: u32) -> Cell {
        Cell::Int(i128::from(v))
    }
}
impl From<i128> for Cell {
    fn from(v: i128) -> Cell {
        Cell::Int(v)
    }
}
impl From<f64> for Cell {
    fn from(v: f64) -> Cell {
        Cell::Float(v)
    }
}
impl<T: Into<Cell>> From<Option<T>> for Cell {
    fn from(v: Option<T>) -> Cell {
        v.map_or(Cell::Empty, Into::into)
    }
}

/// Columns of plain numbers (and ids): what CSV files hold. Column names
/// carry their unit last (`value_fen`, `p99_ms`).
pub struct Frame {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

impl Frame {
    pub fn new(columns: &[&str]) -> Frame {
        Frame {
            columns: columns.iter().map(|c| c.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    pub fn push(&mut self, row: Vec<Cell>) {
        clearsim_core::invariant_eq!(row.len(), self.columns.len());
        self.rows.push(row);
    }

    /// RFC 4180 CSV through the one writer ([`CsvOut`]): texts quoted
    /// when they need it, numbers as written by Rust (shortest round-trip
    /// form for floats), an infinite or missing value empty.
    pub fn csv(&self) -> String {
        let mut out = CsvOut::new(Vec::new());
        let write = |out: &mut CsvOut<Vec<u8>>| -> std::io::Result<()> {
            out.row(&self.columns)?;
            for row in &self.rows {
                for cell in row {
                    match cell {
                        Cell::Text(t) => out.text(t)?,
                        Cell::Int(v) => out.int(*v)?,
                        Cell::Float(v) if v.is_finite() => out.text(v.to_string())?,
                        Cell::Float(_) | Cell::Empty => out.empty()?,
                    }
                }
                out.end()?;
            }
            Ok(())
        };
        // Writing to a vector cannot fail.
        let _ = write(&mut out);
        String::from_utf8(out.into_bytes()).unwrap_or_default()
    }
}
