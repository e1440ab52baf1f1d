use std::fmt;

/// A problem with an input file, located as precisely as possible: the file,
/// the data row (1-based, header excluded) and its line, and the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    pub file: String,
    pub row: Option<u64>,
    pub line: Option<u64>,
    pub field: Option<String>,
    pub message: String,
}

impl InputError {
    /// An error about the file as a whole (empty, unreadable, no data rows).
    pub fn file(file: &str, message: impl Into<String>) -> InputError {
        InputError {
            file: file.to_string(),
            row: None,
            line: None,
            field: None,
            message: message.into(),
        }
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        match (self.row, self.line) {
            (Some(row), Some(line)) => write!(f, ": row {row} (line {line})")?,
            (Some(row), None) => write!(f, ": row {row}")?,
            (None, Some(line)) => write!(f, ": line {line}")?,
            (None, None) => {}
        }
        if let Some(field) = &self.field {
            write!(f, ", field `{field}`")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for InputError {}

impl clearsim_core::Blamed for InputError {
    /// An input file the user gave.
    fn blame(&self) -> clearsim_core::Blame {
        clearsim_core::Blame::User
    }
}
