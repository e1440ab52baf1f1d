//! Replay input: `participants.csv` and `payments.csv` parsed from bytes and
//! validated exactly as the contract lists. No file is opened here; the CLI
//! reads the bytes and passes a display name for error messages.

mod csvtable;
mod error;

pub use error::InputError;

use csvtable::{Table, parse_i64};
use hashbrown::HashMap;

use crate::time::SimTime;

/// The accounts of a replay, indexed by row order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Participants {
    pub ids: Vec<String>,
    pub names: Vec<String>,
    pub categories: Vec<String>,
    pub opening_fen: Vec<i64>,
    pub credit_limit_fen: Vec<i64>,
}

impl Participants {
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Index of each id, for resolving senders and receivers.
    fn index(&self) -> HashMap<&[u8], u32> {
        self.ids
            .iter()
            .enumerate()
            .map(|(i, id)| (id.as_bytes(), i as u32))
            .collect()
    }
}

/// Payments as columns indexed by file row (0-based, header excluded), plus
/// the processing order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Payments {
    /// Payment ids, concatenated; id of row `r` is `id_bytes[id_end[r-1]..id_end[r]]`.
    id_bytes: Vec<u8>,
    id_end: Vec<usize>,
    pub submit: Vec<SimTime>,
    pub sender: Vec<u32>,
    pub receiver: Vec<u32>,
    pub amount_fen: Vec<i64>,
    pub priority: Vec<u8>,
    pub instrument: Vec<u16>,
    /// Distinct instrument names; `instrument[r]` indexes it.
    pub instruments: Vec<String>,
    /// Rows in processing order: by `(submit, row)`.
    pub order: Vec<u32>,
}

impl Payments {
    pub fn len(&self) -> usize {
        self.submit.len()
    }

    fn with_capacity(rows: usize, id_bytes: usize) -> Payments {
        Payments {
            id_bytes: Vec::with_capacity(id_bytes / 4),
            id_end: Vec::with_capacity(rows),
            submit: Vec::with_capacity(rows),
            sender: Vec::with_capacity(rows),
            receiver: Vec::with_capacity(rows),
            amount_fen: Vec::with_capacity(rows),
            priority: Vec::with_capacity(rows),
            instrument: Vec::with_capacity(rows),
            instruments: Vec::new(),
            order: Vec::new(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.submit.is_empty()
    }

    pub fn id(&self, row: usize) -> &[u8] {
        let start = if row == 0 { 0 } else { self.id_end[row - 1] };
        &self.id_bytes[start..self.id_end[row]]
    }

    fn push_id(&mut self, id: &[u8]) {
        self.id_bytes.extend_from_slice(id);
        self.id_end.push(self.id_bytes.len());
    }

    /// Σ amounts; fits in `i64` (checked at parse time).
    pub fn total_value_fen(&self) -> i64 {
        self.amount_fen.iter().sum()
    }
}

/// One business day to replay.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Day {
    pub participants: Participants,
    pub payments: Payments,
    pub day_end: SimTime,
}

impl Day {
    /// Parses and validates both files. `*_name` is how each file is named in
    /// error messages (usually its path).
    pub fn parse(
        participants_name: &str,
        participants_csv: &[u8],
        payments_name: &str,
        payments_csv: &[u8],
        day_end: SimTime,
    ) -> Result<Day, InputError> {
        let participants = parse_participants(participants_name, participants_csv)?;
        let opening_total_fen: i64 = participants.opening_fen.iter().sum();
        let payments = parse_payments(
            payments_name,
            payments_csv,
            &participants,
            opening_total_fen,
            day_end,
        )?;
        Ok(Day {
            participants,
            payments,
            day_end,
        })
    }
}

/// True for `[A-Za-z0-9_.-]{1,64}`.
fn is_token(id: &[u8]) -> bool {
    (1..=64).contains(&id.len())
        && id
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

pub fn parse_participants(name: &str, bytes: &[u8]) -> Result<Participants, InputError> {
    let mut table = Table::open(name, bytes)?;
    let [id_col, name_col, category_col, opening_col, credit_col] =
        table.require(["id", "name", "category", "opening_balance", "credit_limit"])?;
    let mut out = Participants::default();
    let mut seen: HashMap<Vec<u8>, u64> = HashMap::new();
    let mut total_fen: i64 = 0;
    while let Some(row) = table.next_row()? {
        let id = row.field(id_col);
        if !is_token(id) {
            return Err(row.error(
                "id",
                format!(
                    "must be 1 to 64 characters of [A-Za-z0-9_.-], got {}",
                    shown(id)
                ),
            ));
        }
        if let Some(first) = seen.insert(id.to_vec(), row.number()) {
            return Err(row.error(
                "id",
                format!("duplicate id {} (first at row {first})", shown(id)),
            ));
        }
        let opening_fen = row.non_negative(opening_col, "opening_balance")?;
        let credit_fen = row.non_negative(credit_col, "credit_limit")?;
        total_fen = total_fen.checked_add(opening_fen).ok_or_else(|| {
            row.error(
                "opening_balance",
                "the sum of opening balances overflows i64".into(),
            )
        })?;
        out.ids.push(String::from_utf8_lossy(id).into_owned());
        out.names
            .push(String::from_utf8_lossy(row.field(name_col)).into_owned());
        out.categories
            .push(String::from_utf8_lossy(row.field(category_col)).into_owned());
        out.opening_fen.push(opening_fen);
        out.credit_limit_fen.push(credit_fen);
    }
    if out.is_empty() {
        return Err(InputError::file(
            name,
            "no participants: the file has only a header",
        ));
    }
    Ok(out)
}

fn parse_payments(
    name: &str,
    bytes: &[u8],
    participants: &Participants,
    opening_total_fen: i64,
    day_end: SimTime,
) -> Result<Payments, InputError> {
    let mut table = Table::open(name, bytes)?;
    let [id_col, submit_col, sender_col, receiver_col, amount_col] =
        table.require(["id", "submit", "sender", "receiver", "amount"])?;
    let priority_col = table.optional("priority");
    let instrument_col = table.optional("instrument");
    let index = participants.index();
    // One pass to count lines sizes every column once: no regrowth.
    let rows = bytes.iter().filter(|&&b| b == b'\n').count() + 1;
    let mut out = Payments::with_capacity(rows, bytes.len());
    // Σ opening balances + Σ amounts bounds every balance, net and sum the
    // engine and the metrics compute: if it fits, nothing downstream overflows.
    let mut total_fen = opening_total_fen;
    let mut instrument_index: HashMap<Vec<u8>, u16> = HashMap::new();
    let mut seen_ids = IdSet::with_capacity(rows);
    while let Some(row) = table.next_row()? {
        let id = row.field(id_col);
        if id.is_empty() {
            return Err(row.error("id", "must not be empty".into()));
        }
        let position = out.len() as u32;
        if let Some(first) = seen_ids.insert(&out, id, position) {
            return Err(row.error(
                "id",
                format!("duplicate id {} (first at row {})", shown(id), first + 1),
            ));
        }
        let submit_text = row.field(submit_col);
        let submit = SimTime::parse(submit_text).ok_or_else(|| {
            row.error(
                "submit",
                format!(
                    "must be HH:MM:SS or HH:MM:SS.mmm, got {}",
                    shown(submit_text)
                ),
            )
        })?;
        if submit > day_end {
            return Err(row.error("submit", format!("{submit} is after the day end {day_end}")));
        }
        let sender = lookup(&index, &row, sender_col, "sender")?;
        let receiver = lookup(&index, &row, receiver_col, "receiver")?;
        if sender == receiver {
            return Err(row.error("receiver", "must differ from the sender".into()));
        }
        let amount_text = row.field(amount_col);
        let amount_fen = match parse_i64(amount_text) {
            Some(v) if v > 0 => v,
            _ => {
                return Err(row.error(
                    "amount",
                    format!("must be an integer > 0 (fen), got {}", shown(amount_text)),
                ));
            }
        };
        total_fen = total_fen.checked_add(amount_fen).ok_or_else(|| {
            row.error(
                "amount",
                "the sum of amounts and opening balances overflows i64".into(),
            )
        })?;
        let priority = match priority_col {
            None => 0,
            Some(col) => parse_priority(row.field(col)).ok_or_else(|| {
                row.error(
                    "priority",
                    format!("must be an integer 0..=255, got {}", shown(row.field(col))),
                )
            })?,
        };
        let instrument = match instrument_col {
            None => 0,
            Some(col) => intern(&mut instrument_index, &mut out.instruments, row.field(col))
                .ok_or_else(|| {
                    row.error("instrument", "more than 65,535 distinct instruments".into())
                })?,
        };
        out.push_id(id);
        out.submit.push(submit);
        out.sender.push(sender);
        out.receiver.push(receiver);
        out.amount_fen.push(amount_fen);
        out.priority.push(priority);
        out.instrument.push(instrument);
    }
    if out.is_empty() {
        return Err(InputError::file(
            name,
            "no payments: the file has only a header",
        ));
    }
    if out.instruments.is_empty() {
        out.instruments.push(String::new());
    }
    out.order = processing_order(&out.submit);
    Ok(out)
}

/// Rows sorted by `(submit, row)`: a stable sort by submit time.
fn processing_order(submit: &[SimTime]) -> Vec<u32> {
    let mut order: Vec<u32> = (0..submit.len() as u32).collect();
    if !submit.is_sorted() {
        order.sort_by_key(|&row| submit[row as usize]);
    }
    order
}

fn lookup(
    index: &HashMap<&[u8], u32>,
    row: &csvtable::Row<'_>,
    col: usize,
    field: &str,
) -> Result<u32, InputError> {
    let id = row.field(col);
    index
        .get(id)
        .copied()
        .ok_or_else(|| row.error(field, format!("unknown participant {}", shown(id))))
}

fn parse_priority(text: &[u8]) -> Option<u8> {
    if text.is_empty() {
        return Some(0);
    }
    parse_i64(text).and_then(|v| u8::try_from(v).ok())
}

fn intern(index: &mut HashMap<Vec<u8>, u16>, names: &mut Vec<String>, name: &[u8]) -> Option<u16> {
    if let Some(&i) = index.get(name) {
        return Some(i);
    }
    let i = u16::try_from(names.len()).ok()?;
    index.insert(name.to_vec(), i);
    names.push(String::from_utf8_lossy(name).into_owned());
    Some(i)
}

/// A field as quoted in an error message (bounded in length).
fn shown(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    if text.chars().count() > 40 {
        format!("{:?}…", text.chars().take(40).collect::<String>())
    } else {
        format!("{text:?}")
    }
}

/// Set of payment ids seen so far, without one allocation per id: the table
/// stores row positions and compares against the ids already pushed.
#[derive(Default)]
struct IdSet {
    table: hashbrown::HashTable<u32>,
    hasher: foldhash::quality::FixedState,
}

impl IdSet {
    fn with_capacity(capacity: usize) -> IdSet {
        IdSet {
            table: hashbrown::HashTable::with_capacity(capacity),
            hasher: Default::default(),
        }
    }

    /// Inserts `id` (about to become row `position`); returns the earlier row
    /// holding the same id, if any.
    fn insert(&mut self, payments: &Payments, id: &[u8], position: u32) -> Option<u32> {
        use std::hash::BuildHasher;
        let hash = self.hasher.hash_one(id);
        if let Some(&first) = self
            .table
            .find(hash, |&row| payments.id(row as usize) == id)
        {
            return Some(first);
        }
        let hasher = &self.hasher;
        self.table.insert_unique(hash, position, |&row| {
            hasher.hash_one(payments.id(row as usize))
        });
        None
    }
}
