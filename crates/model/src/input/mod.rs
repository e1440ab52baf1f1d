//! Replay input: `participants.csv` and `payments.csv` parsed from bytes and
//! validated exactly as the contract lists. No file is opened here; the CLI
//! reads the bytes and passes a display name for error messages.

mod csvtable;
mod error;
pub use csvtable::{Input, TextColumn, TextColumns};
pub mod mapped;
pub mod parquet;

/// Refuses a path that is not a regular file — a FIFO (opening it would
/// wait for a writer for ever), a device (`/dev/zero` never ends), a
/// directory — before it is opened: every input clearsim reads is a file.
pub fn regular_file(path: &std::path::Path) -> std::io::Result<()> {
    let meta = std::fs::metadata(path)?;
    if meta.is_file() {
        Ok(())
    } else {
        Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a regular file (a directory, FIFO, socket or device); clearsim reads its inputs from files",
        ))
    }
}

/// A regular file, or a pipe: the one input that may stream from another
/// process (`--payments <(zcat day.csv.gz)`); devices and directories are
/// refused as by [`regular_file`]. A pipe with no writer waits for one, as
/// `cat` would.
pub fn file_or_pipe(path: &std::path::Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if std::fs::metadata(path)?.file_type().is_fifo() {
            return Ok(());
        }
    }
    regular_file(path)
}

/// The whole of a regular file ([`regular_file`]).
pub fn read_regular(path: &std::path::Path) -> std::io::Result<Vec<u8>> {
    regular_file(path)?;
    std::fs::read(path)
}

/// The whole of a regular file as text ([`regular_file`]).
pub fn read_regular_string(path: &std::path::Path) -> std::io::Result<String> {
    regular_file(path)?;
    std::fs::read_to_string(path)
}

pub use error::InputError;

use csvtable::{Table, parse_i64};
use hashbrown::HashMap;

use clearsim_core::time::SimTime;

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
    /// 32-bit ends: ids total at most [`MAX_ID_BYTES`].
    id_bytes: Vec<u8>,
    id_end: Vec<u32>,
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
    /// The optional `order_time` column (when the customer ordered the
    /// payment, ≤ `submit`); empty when the file has none.
    pub order_time: Vec<SimTime>,
    /// The optional `date` column, as an index into `dates`: a file of
    /// several business days (docs/semantics.md, "Several days"); empty
    /// when the file has none.
    pub date: Vec<u16>,
    /// Distinct dates (`YYYY-MM-DD`), in order of first appearance.
    pub dates: Vec<String>,
}

impl Payments {
    pub fn len(&self) -> usize {
        self.submit.len()
    }

    /// Columns for `rows` rows and `id_bytes` bytes of ids, allocated
    /// once: a reserve the ids never outgrow costs no memory until used,
    /// where regrowth would hold two copies at once.
    fn with_capacity(rows: usize, id_bytes: usize) -> Payments {
        Payments {
            id_bytes: Vec::with_capacity(id_bytes),
            id_end: Vec::with_capacity(rows),
            submit: Vec::with_capacity(rows),
            sender: Vec::with_capacity(rows),
            receiver: Vec::with_capacity(rows),
            amount_fen: Vec::with_capacity(rows),
            priority: Vec::with_capacity(rows),
            instrument: Vec::with_capacity(rows),
            instruments: Vec::new(),
            order: Vec::new(),
            order_time: Vec::new(),
            date: Vec::new(),
            dates: Vec::new(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.submit.is_empty()
    }

    pub fn id(&self, row: usize) -> &[u8] {
        let start = if row == 0 { 0 } else { self.id_end[row - 1] };
        &self.id_bytes[start as usize..self.id_end[row] as usize]
    }

    /// Appends a row's id; false (nothing appended) past [`MAX_ID_BYTES`].
    fn push_id(&mut self, id: &[u8]) -> bool {
        let Some(end) = u32::try_from(self.id_bytes.len() + id.len())
            .ok()
            .filter(|&end| end as usize <= MAX_ID_BYTES)
        else {
            return false;
        };
        self.id_bytes.extend_from_slice(id);
        self.id_end.push(end);
        true
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
        Day::parse_releasing(
            participants_name,
            participants_csv,
            payments_name,
            payments_csv,
            day_end,
            &|_| {},
        )
    }

    /// [`Day::parse`], calling `release(n)` as the payments pass moves on:
    /// the first `n` bytes of the payments file will not be read again
    /// (unless for an error message), so a mapping may drop them (see
    /// [`mapped::Mapped::release`]).
    pub fn parse_releasing(
        participants_name: &str,
        participants_csv: &[u8],
        payments_name: &str,
        payments_csv: &[u8],
        day_end: SimTime,
        release: &dyn Fn(usize),
    ) -> Result<Day, InputError> {
        Day::parse_inputs(
            participants_name,
            Input::Csv(participants_csv),
            payments_name,
            Input::Csv(payments_csv),
            day_end,
            release,
        )
    }

    /// [`Day::parse_releasing`] from files or columns: one parser and one
    /// set of checks for both.
    pub fn parse_inputs(
        participants_name: &str,
        participants_input: Input<'_>,
        payments_name: &str,
        payments_input: Input<'_>,
        day_end: SimTime,
        release: &dyn Fn(usize),
    ) -> Result<Day, InputError> {
        Day::parse_inputs_by_day(
            (participants_name, participants_input),
            (payments_name, payments_input),
            day_end,
            release,
            None,
        )
    }

    /// [`Day::parse_inputs`], handing on (`on_cut`) the participants, then
    /// each business day of a dated file as soon as its last row is read,
    /// while the dates come in increasing order ([`Cut`]). The parse and
    /// its result are the same with or without `on_cut`: a day handed on
    /// is only final if the whole parse succeeds.
    pub fn parse_inputs_by_day(
        (participants_name, participants_input): (&str, Input<'_>),
        (payments_name, payments_input): (&str, Input<'_>),
        day_end: SimTime,
        release: &dyn Fn(usize),
        on_cut: Option<&mut dyn FnMut(Cut)>,
    ) -> Result<Day, InputError> {
        // A Parquet file is read as text columns: the same parser after.
        let participants_parquet =
            parquet_text(participants_name, &participants_input, &PARTICIPANT_COLUMNS)?;
        let payment_columns = [&PAYMENT_COLUMNS[..], &PAYMENT_OPTIONAL_COLUMNS[..]].concat();
        let payments_parquet = parquet_text(payments_name, &payments_input, &payment_columns)?;
        let participants_columns = participants_parquet
            .as_ref()
            .map(parquet::ParquetText::columns);
        let payments_columns = payments_parquet.as_ref().map(parquet::ParquetText::columns);
        let participants_input = participants_columns
            .as_ref()
            .map_or(participants_input, Input::Columns);
        let payments_input = payments_columns
            .as_ref()
            .map_or(payments_input, Input::Columns);
        let participants = parse_participants_input(participants_name, participants_input)?;
        let opening_total_fen: i64 = participants.opening_fen.iter().sum();
        let mut cuts = DayCuts {
            on_cut,
            start: 0,
            last: None,
        };
        if let Some(on_cut) = &mut cuts.on_cut {
            on_cut(Cut::Participants(participants.clone()));
        }
        let payments = parse_payments(
            payments_name,
            payments_input,
            (&participants, opening_total_fen),
            day_end,
            release,
            &mut cuts,
        )?;
        Ok(Day {
            participants,
            payments,
            day_end,
        })
    }
}

impl Day {
    /// Whether the file holds several business days (a `date` column).
    pub fn is_dated(&self) -> bool {
        !self.payments.date.is_empty()
    }

    /// The business days of a dated file in date order, each with its
    /// rows in file order (0-based).
    pub fn date_rows(&self) -> Vec<(String, Vec<u32>)> {
        let dates = &self.payments.dates;
        let mut by_date: Vec<Vec<u32>> = vec![Vec::new(); dates.len()];
        for (row, &date) in self.payments.date.iter().enumerate() {
            by_date[usize::from(date)].push(row as u32);
        }
        let mut days: Vec<(String, Vec<u32>)> = dates.iter().cloned().zip(by_date).collect();
        // YYYY-MM-DD sorts as text in date order.
        days.sort_by(|a, b| a.0.cmp(&b.0));
        days
    }

    /// One business day of a dated file: its `rows` (file order) with
    /// `participants`' openings and limits, as a file of that day alone
    /// would parse. The first `carried` rows are earlier days' payments
    /// still queued (`--carry-queue`): they arrive at 00:00:00.000, before
    /// the day's own, in the order given. The instruments keep the whole
    /// file's numbering, so that a route of the whole file fits every day.
    pub fn one_day(&self, rows: &[u32], carried: usize, participants: Participants) -> Day {
        Day {
            participants,
            payments: self
                .payments
                .copied(rows.iter().map(|&r| r as usize), carried),
            day_end: self.day_end,
        }
    }
}

impl Payments {
    /// `rows` (in the order given) as a day's own payments, undated (see
    /// [`Day::one_day`]): the first `carried` arrive at 00:00:00.000.
    fn copied(&self, rows: impl Iterator<Item = usize> + Clone, carried: usize) -> Payments {
        let all = self;
        let id_bytes: usize = rows.clone().map(|r| all.id(r).len()).sum();
        let mut payments = Payments::with_capacity(rows.clone().count(), id_bytes);
        for (at, r) in rows.enumerate() {
            let overnight = at < carried;
            // Within the whole file's id bytes, so within the limit.
            let pushed = payments.push_id(all.id(r));
            clearsim_core::invariant!(pushed, "a day's ids fit within its file's");
            payments
                .submit
                .push(if overnight { SimTime(0) } else { all.submit[r] });
            payments.sender.push(all.sender[r]);
            payments.receiver.push(all.receiver[r]);
            payments.amount_fen.push(all.amount_fen[r]);
            payments.priority.push(all.priority[r]);
            payments.instrument.push(all.instrument[r]);
            if !all.order_time.is_empty() {
                let ordered = if overnight {
                    SimTime(0)
                } else {
                    all.order_time[r]
                };
                payments.order_time.push(ordered);
            }
        }
        payments.instruments = all.instruments.clone();
        if payments.instruments.is_empty() {
            // Cut from a file still being read: as the parse ends it.
            payments.instruments.push(String::new());
        }
        payments.order = processing_order(&payments.submit);
        payments
    }
}

/// `openings.csv` of a dated replay: per date it lists, the opening
/// balance and credit limit of the participants it names (the others keep
/// theirs).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Openings {
    /// Per date, (participant index, opening fen, credit limit fen), in
    /// file order.
    pub by_date: HashMap<String, Vec<(u32, i64, i64)>>,
}

/// Parses `openings.csv` (`date,id,opening_balance,credit_limit`) against
/// the participants and the dates of the payments file: a date with no
/// payments, an unknown id or a (date, id) given twice is an error.
pub fn parse_openings(
    name: &str,
    bytes: &[u8],
    participants: &Participants,
    dates: &[String],
) -> Result<Openings, InputError> {
    let mut table = Table::open(name, bytes)?;
    let [date_col, id_col, opening_col, credit_col] =
        table.require(["date", "id", "opening_balance", "credit_limit"])?;
    let index = participants.index();
    let mut seen: hashbrown::HashSet<(Vec<u8>, u32)> = hashbrown::HashSet::new();
    let mut out = Openings::default();
    while let Some(row) = table.next_row()? {
        let date = row.field(date_col);
        if !is_date(date) {
            return Err(row.error(
                "date",
                format!("must be a date YYYY-MM-DD, got {}", shown(date)),
            ));
        }
        if !dates.iter().any(|d| d.as_bytes() == date) {
            return Err(row.error(
                "date",
                format!("{} is not a date of the payments file", shown(date)),
            ));
        }
        let participant = lookup(&index, &row, id_col, "id")?;
        if !seen.insert((date.to_vec(), participant)) {
            return Err(row.error(
                "id",
                format!(
                    "{} is given twice for {}",
                    shown(row.field(id_col)),
                    shown(date)
                ),
            ));
        }
        let opening_fen = row.non_negative(opening_col, "opening_balance")?;
        let credit_fen = row.non_negative(credit_col, "credit_limit")?;
        out.by_date
            .entry(String::from_utf8_lossy(date).into_owned())
            .or_default()
            .push((participant, opening_fen, credit_fen));
    }
    Ok(out)
}

/// The most bytes all payment ids of a file may total (4 GiB − 1): ids are
/// kept with 32-bit offsets. 50 M payments with 20-byte ids take 1 GB.
pub const MAX_ID_BYTES: usize = u32::MAX as usize;

/// The shortest payment row: `i,08:00:00,A,B,1` and its line end.
const MIN_ROW_BYTES: usize = 17;

/// True for `[A-Za-z0-9_.-]{1,64}`: the participant id rule, which
/// generated rosters follow too.
pub fn is_token(id: &[u8]) -> bool {
    (1..=64).contains(&id.len())
        && id
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

pub fn parse_participants(name: &str, bytes: &[u8]) -> Result<Participants, InputError> {
    parse_participants_input(name, Input::Csv(bytes))
}

fn parse_participants_input(name: &str, input: Input<'_>) -> Result<Participants, InputError> {
    let mut table = Table::open_input(name, input)?;
    let [id_col, name_col, category_col, opening_col, credit_col] =
        table.require(PARTICIPANT_COLUMNS)?;
    let mut out = Participants::default();
    // Ids seen so far, as indices into `out.ids` (no copy of each id).
    let mut seen: hashbrown::HashTable<u32> = hashbrown::HashTable::new();
    let hasher = foldhash::fast::FixedState::with_seed(0);
    let hash = |id: &[u8]| std::hash::BuildHasher::hash_one(&hasher, id);
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
        let ids = &out.ids;
        let found = seen.find(hash(id), |&i| ids[i as usize].as_bytes() == id);
        if let Some(&first) = found {
            return Err(row.error(
                "id",
                format!("duplicate id {} (first at row {})", shown(id), first + 1),
            ));
        }
        seen.insert_unique(hash(id), out.ids.len() as u32, |&i| {
            hash(out.ids[i as usize].as_bytes())
        });
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
            .push(String::from_utf8_lossy(row.text(name_col, "name")?).into_owned());
        out.categories
            .push(String::from_utf8_lossy(row.text(category_col, "category")?).into_owned());
        out.opening_fen.push(opening_fen);
        out.credit_limit_fen.push(credit_fen);
    }
    if out.is_empty() {
        return Err(InputError::file(
            name,
            match input {
                Input::Csv(_) => "no participants: the file has only a header",
                Input::Columns(_) => "no participants: the table has no rows",
            },
        ));
    }
    Ok(out)
}

fn parse_payments(
    name: &str,
    input: Input<'_>,
    (participants, opening_total_fen): (&Participants, i64),
    day_end: SimTime,
    release: &dyn Fn(usize),
    cuts: &mut DayCuts<'_>,
) -> Result<Payments, InputError> {
    let mut table = Table::open_input_releasing(name, input, release)?;
    let [id_col, submit_col, sender_col, receiver_col, amount_col] =
        table.require(PAYMENT_COLUMNS)?;
    let [priority, instrument, order_time, date] = PAYMENT_OPTIONAL_COLUMNS;
    let priority_col = table.optional(priority);
    let instrument_col = table.optional(instrument);
    let order_time_col = table.optional(order_time);
    let date_col = table.optional(date);
    let index = participants.index();
    let mut out = match input {
        // A file's ids are some of its bytes.
        Input::Csv(bytes) => Payments::with_capacity(row_bound(bytes, release), bytes.len()),
        Input::Columns(columns) => Payments::with_capacity(columns.rows, id_bytes(columns)),
    };
    if date_col.is_some() {
        // Sized once, as the other columns: no regrowth of a month's column.
        out.date.reserve_exact(out.submit.capacity());
    }
    let columns = PaymentColumns {
        id_col,
        submit_col,
        sender_col,
        receiver_col,
        amount_col,
        priority_col,
        instrument_col,
        order_time_col,
        date_col,
    };
    let read = read_payment_rows(
        &mut table,
        &columns,
        &index,
        (opening_total_fen, day_end),
        &mut out,
        (release, cuts),
    );
    release(usize::MAX);
    // Ids are checked for duplicates after the pass, over the rows it read,
    // so that the error reported is still the first one in row order.
    if let Some((first, duplicate)) = first_duplicate_id(&out) {
        return Err(duplicate_id_error(name, input, &out, first, duplicate));
    }
    read?;
    if out.is_empty() {
        return Err(InputError::file(
            name,
            match input {
                Input::Csv(_) => "no payments: the file has only a header",
                Input::Columns(_) => "no payments: the table has no rows",
            },
        ));
    }
    if out.instruments.is_empty() {
        // A file without an instrument column: one unnamed instrument.
        out.instruments.push(String::new());
    }
    // A dated file's days each have their own order (`Day::one_day`);
    // one over the whole file would sort its days' times together.
    if out.date.is_empty() {
        out.order = processing_order(&out.submit);
    }
    Ok(out)
}

/// What a parse by day hands on ([`Day::parse_inputs_by_day`]).
pub enum Cut {
    /// The participants file, parsed: first, before any day.
    Participants(Participants),
    /// A business day whose last row has been read.
    Day(Box<DayCut>),
    /// A date came that is not after the day before it: no day follows
    /// (the file is replayed in date order only once whole).
    Unsorted,
}

/// One business day of a dated file, cut as the parse reads past it.
pub struct DayCut {
    pub date: String,
    /// Its first row in the file (0-based): its rows are the next
    /// `payments.len()`.
    pub first_row: usize,
    /// Its rows as a day's own payments ([`Day::one_day`] of them, with
    /// the instruments seen so far).
    pub payments: Payments,
}

/// Cuts a dated file into its days while its dates increase.
struct DayCuts<'a> {
    on_cut: Option<&'a mut dyn FnMut(Cut)>,
    /// The first row of the day being read.
    start: usize,
    /// Its date, once a dated row has been read.
    last: Option<u16>,
}

impl DayCuts<'_> {
    /// Before the row of `date` is added at `out.date.len()`: the day
    /// before it, if it has ended.
    fn row(&mut self, out: &Payments, date: u16) {
        let Some(on_cut) = &mut self.on_cut else {
            return;
        };
        match self.last {
            Some(last) if last == date => return,
            // Dates are YYYY-MM-DD: text order is date order.
            Some(last) if out.dates[usize::from(date)] <= out.dates[usize::from(last)] => {
                on_cut(Cut::Unsorted);
                self.on_cut = None;
                return;
            }
            Some(_) => self.cut(out, out.date.len()),
            None => {}
        }
        self.last = Some(date);
    }

    /// After the last row: the last day.
    fn finish(&mut self, out: &Payments) {
        if self.last.is_some() {
            self.cut(out, out.date.len());
        }
    }

    /// Hands on the day of rows `start..end`.
    fn cut(&mut self, out: &Payments, end: usize) {
        let (Some(on_cut), Some(last)) = (&mut self.on_cut, self.last) else {
            return;
        };
        on_cut(Cut::Day(Box::new(DayCut {
            date: out.dates[usize::from(last)].clone(),
            first_row: self.start,
            payments: out.copied(self.start..end, 0),
        })));
        self.start = end;
    }
}

/// The most rows a file can hold: one pass to count lines sizes every
/// column once, with no regrowth. A payment row takes at least
/// MIN_ROW_BYTES, so blank lines (skipped) cannot make the columns larger
/// than the file could fill.
fn row_bound(bytes: &[u8], release: &dyn Fn(usize)) -> usize {
    let mut lines = 1;
    for (chunk, start) in bytes.chunks(mapped::RELEASE_EVERY_BYTES).zip(0..) {
        lines += memchr::memchr_iter(b'\n', chunk).count();
        release((start + 1) * mapped::RELEASE_EVERY_BYTES);
    }
    lines.min(bytes.len() / MIN_ROW_BYTES + 1)
}

/// The bytes of a table's `id` column (0 without one).
fn id_bytes(columns: &TextColumns<'_>) -> usize {
    columns
        .names
        .iter()
        .position(|name| name == "id")
        .map_or(0, |col| columns.columns[col].data.len())
}

struct PaymentColumns {
    id_col: usize,
    submit_col: usize,
    sender_col: usize,
    receiver_col: usize,
    amount_col: usize,
    priority_col: Option<usize>,
    instrument_col: Option<usize>,
    order_time_col: Option<usize>,
    date_col: Option<usize>,
}

/// Reads and checks every row (all but the uniqueness of ids) into `out`,
/// stopping at the first bad row.
fn read_payment_rows(
    table: &mut Table<'_>,
    columns: &PaymentColumns,
    index: &HashMap<&[u8], u32>,
    (opening_total_fen, day_end): (i64, SimTime),
    out: &mut Payments,
    (release, cuts): (&dyn Fn(usize), &mut DayCuts<'_>),
) -> Result<(), InputError> {
    let PaymentColumns {
        id_col,
        submit_col,
        sender_col,
        receiver_col,
        amount_col,
        priority_col,
        instrument_col,
        order_time_col,
        date_col,
    } = *columns;
    // Σ opening balances + Σ amounts bounds every balance, net and sum the
    // engine and the metrics compute: if it fits, nothing downstream overflows.
    let mut total_fen = opening_total_fen;
    let mut instrument_index: HashMap<Vec<u8>, u16> = HashMap::new();
    let mut date_index: HashMap<Vec<u8>, u16> = HashMap::new();
    let mut released = 0;
    loop {
        released = release_behind(table.consumed_bytes(), released, release);
        let Some(row) = table.next_row()? else {
            cuts.finish(out);
            break;
        };
        let id = row.text(id_col, "id")?;
        if id.is_empty() {
            return Err(row.error("id", "must not be empty".into()));
        }
        let submit = submit_time(&row, submit_col, day_end)?;
        let sender = lookup(index, &row, sender_col, "sender")?;
        let receiver = lookup(index, &row, receiver_col, "receiver")?;
        if sender == receiver {
            return Err(row.error("receiver", "must differ from the sender".into()));
        }
        let amount_fen = amount(&row, amount_col)?;
        total_fen = total_fen.checked_add(amount_fen).ok_or_else(|| {
            row.error(
                "amount",
                "the sum of amounts and opening balances overflows i64".into(),
            )
        })?;
        let priority = priority_col.map_or(Ok(0), |col| priority(&row, col))?;
        let instrument = match instrument_col {
            None => 0,
            Some(col) => row_instrument(&row, col, &mut instrument_index, &mut out.instruments)?,
        };
        if !out.push_id(id) {
            return Err(row.error(
                "id",
                format!("the payment ids total more than {MAX_ID_BYTES} bytes"),
            ));
        }
        out.submit.push(submit);
        out.sender.push(sender);
        out.receiver.push(receiver);
        out.amount_fen.push(amount_fen);
        out.priority.push(priority);
        out.instrument.push(instrument);
        if let Some(col) = order_time_col {
            out.order_time.push(order_time(&row, col, submit)?);
        }
        if let Some(col) = date_col {
            let date = row_date(&row, col, &mut date_index, &mut out.dates)?;
            cuts.row(out, date);
            out.date.push(date);
        }
    }
    Ok(())
}

/// A row's `submit`: a time of the day, not after its end.
#[inline]
fn submit_time(
    row: &csvtable::Row<'_>,
    col: usize,
    day_end: SimTime,
) -> Result<SimTime, InputError> {
    let text = row.field(col);
    let submit = SimTime::parse(text).ok_or_else(|| {
        row.error(
            "submit",
            format!("must be HH:MM:SS or HH:MM:SS.mmm, got {}", shown(text)),
        )
    })?;
    if submit > day_end {
        return Err(row.error("submit", format!("{submit} is after the day end {day_end}")));
    }
    Ok(submit)
}

/// A row's `amount`: whole fen, more than zero.
#[inline]
fn amount(row: &csvtable::Row<'_>, col: usize) -> Result<i64, InputError> {
    let text = row.field(col);
    match parse_i64(text) {
        Some(v) if v > 0 => Ok(v),
        _ => Err(row.error(
            "amount",
            format!("must be an integer > 0 (fen), got {}", shown(text)),
        )),
    }
}

/// A row's `priority`: 0 to 255.
#[inline]
fn priority(row: &csvtable::Row<'_>, col: usize) -> Result<u8, InputError> {
    parse_priority(row.field(col)).ok_or_else(|| {
        row.error(
            "priority",
            format!("must be an integer 0..=255, got {}", shown(row.field(col))),
        )
    })
}

/// A row's `instrument`, as an index into `instruments`.
fn row_instrument(
    row: &csvtable::Row<'_>,
    col: usize,
    index: &mut HashMap<Vec<u8>, u16>,
    instruments: &mut Vec<String>,
) -> Result<u16, InputError> {
    intern(index, instruments, row.text(col, "instrument")?)
        .ok_or_else(|| row.error("instrument", "more than 65,535 distinct instruments".into()))
}

/// A row's `date`: a calendar date, as an index into `dates`.
fn row_date(
    row: &csvtable::Row<'_>,
    col: usize,
    index: &mut HashMap<Vec<u8>, u16>,
    dates: &mut Vec<String>,
) -> Result<u16, InputError> {
    let text = row.field(col);
    if !is_date(text) {
        return Err(row.error(
            "date",
            format!("must be a date YYYY-MM-DD, got {}", shown(text)),
        ));
    }
    intern(index, dates, text)
        .ok_or_else(|| row.error("date", "more than 65,535 distinct dates".into()))
}

/// A row's `order_time`: a time of the same form as `submit`, not after it.
fn order_time(row: &csvtable::Row<'_>, col: usize, submit: SimTime) -> Result<SimTime, InputError> {
    let text = row.field(col);
    let at = SimTime::parse(text).ok_or_else(|| {
        row.error(
            "order_time",
            format!("must be HH:MM:SS or HH:MM:SS.mmm, got {}", shown(text)),
        )
    })?;
    if at > submit {
        return Err(row.error(
            "order_time",
            format!("{at} is after the payment's submit {submit}"),
        ));
    }
    Ok(at)
}

/// Releases the file behind the reader every RELEASE_EVERY_BYTES; returns
/// how far it has released.
fn release_behind(consumed: usize, released: usize, release: &dyn Fn(usize)) -> usize {
    if consumed < released + mapped::RELEASE_EVERY_BYTES {
        return released;
    }
    release(consumed);
    consumed
}

/// The first row (in file order) whose id an earlier row already has, with
/// that earlier row: `(first, duplicate)`, 0-based.
///
/// Hashing a million ids into a table costs a cache miss per row; instead
/// the 32-bit hashes are radix-sorted with their rows (three linear passes)
/// and only rows with equal hashes have their bytes compared.
fn first_duplicate_id(payments: &Payments) -> Option<(usize, usize)> {
    use std::hash::BuildHasher;
    let hasher = foldhash::quality::FixedState::default();
    let hash = |row: usize| (hasher.hash_one(payments.id(row)) >> 32) as u32;
    // The hashes alone first (4 bytes a row, not 8: a month's file stays
    // within its memory bound): those more than one row has.
    let shared = {
        let mut hashes: Vec<u32> = (0..payments.len()).map(hash).collect();
        radix_sort_by(&mut hashes, |&h| h);
        let mut shared: Vec<u32> = hashes
            .windows(2)
            .filter(|pair| pair[0] == pair[1])
            .map(|pair| pair[0])
            .collect();
        shared.dedup();
        shared
    };
    if shared.is_empty() {
        return None;
    }
    // Then the rows of those hashes, found again; a bitmap of their top
    // bits passes over most rows without a search.
    let mut top = vec![0u64; 1 << (SHARED_BITS - 6)];
    let slot = |h: u32| {
        let index = (h >> (32 - SHARED_BITS)) as usize;
        (index >> 6, 1u64 << (index & 63))
    };
    for &h in &shared {
        let (word, bit) = slot(h);
        top[word] |= bit;
    }
    let mut entries: Vec<(u32, u32)> = (0..payments.len())
        .filter_map(|row| {
            let h = hash(row);
            let (word, bit) = slot(h);
            (top[word] & bit != 0 && shared.binary_search(&h).is_ok()).then_some((h, row as u32))
        })
        .collect();
    radix_sort_by(&mut entries, |e| e.0);
    first_in_groups(payments, &entries)
}

/// Bits of a hash in the bitmap of shared hashes (2^22 bits: 512 KiB).
const SHARED_BITS: u32 = 22;

/// The first duplicate among `entries` (hash, row), sorted by hash with
/// rows ascending within a hash: `(first, duplicate)`.
fn first_in_groups(payments: &Payments, entries: &[(u32, u32)]) -> Option<(usize, usize)> {
    let mut found: Option<(usize, usize)> = None;
    let mut group: Vec<u32> = Vec::new();
    let mut start = 0;
    while start < entries.len() {
        let end = start
            + entries[start..]
                .iter()
                .take_while(|e| e.0 == entries[start].0)
                .count();
        if end - start > 1 {
            // Equal hashes: compare bytes; a stable sort keeps rows ascending
            // among equal ids.
            group.clear();
            group.extend(entries[start..end].iter().map(|e| e.1));
            group.sort_by(|&a, &b| payments.id(a as usize).cmp(payments.id(b as usize)));
            for pair in group.windows(2) {
                let (a, b) = (pair[0] as usize, pair[1] as usize);
                if payments.id(a) == payments.id(b) && found.is_none_or(|(_, d)| b < d) {
                    // `a` may not be the first of its id: find the earliest.
                    let first = group
                        .iter()
                        .map(|&r| r as usize)
                        .find(|&r| payments.id(r) == payments.id(b))
                        .unwrap_or(a);
                    found = Some((first, b));
                }
            }
        }
        start = end;
    }
    found
}

/// Stable LSD radix sort by a 32-bit key: three passes of 11 bits.
fn radix_sort_by<T: Copy + Default>(items: &mut Vec<T>, key: impl Fn(&T) -> u32) {
    const BITS: u32 = 11;
    let mut scratch = vec![T::default(); items.len()];
    let mut counts = vec![0usize; 1 << BITS];
    for pass in 0..32u32.div_ceil(BITS) {
        let shift = pass * BITS;
        let digit = |item: &T| ((key(item) >> shift) & ((1 << BITS) - 1)) as usize;
        counts.fill(0);
        for item in items.iter() {
            counts[digit(item)] += 1;
        }
        let mut offset = 0;
        for count in counts.iter_mut() {
            let here = *count;
            *count = offset;
            offset += here;
        }
        for item in items.iter() {
            let slot = &mut counts[digit(item)];
            scratch[*slot] = *item;
            *slot += 1;
        }
        std::mem::swap(items, &mut scratch);
    }
}

/// The error for a duplicate id, with the line of the duplicate row found by
/// reading the file again up to it (only ever done once, on failure).
fn duplicate_id_error(
    name: &str,
    input: Input<'_>,
    payments: &Payments,
    first: usize,
    duplicate: usize,
) -> InputError {
    let id = payments.id(duplicate);
    let message = format!("duplicate id {} (first at row {})", shown(id), first + 1);
    let mut line = None;
    if let Ok(mut table) = Table::open_input(name, input) {
        while let Ok(Some(row)) = table.next_row() {
            if row.number() == duplicate as u64 + 1 {
                line = row.line();
                break;
            }
        }
    }
    InputError {
        file: name.to_string(),
        row: Some(duplicate as u64 + 1),
        line,
        field: Some("id".into()),
        message,
    }
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

/// The columns of participants.csv, all required.
const PARTICIPANT_COLUMNS: [&str; 5] =
    ["id", "name", "category", "opening_balance", "credit_limit"];
/// The required columns of payments.csv, and the optional ones; others
/// are ignored.
const PAYMENT_COLUMNS: [&str; 5] = ["id", "submit", "sender", "receiver", "amount"];
const PAYMENT_OPTIONAL_COLUMNS: [&str; 4] = ["priority", "instrument", "order_time", "date"];

/// The text columns of a file that is Parquet (by its magic), else
/// `None`: it is read as CSV. Only the columns the table's parser reads
/// are converted (`columns`): the others are ignored, as in a CSV file,
/// whatever their type.
fn parquet_text(
    name: &str,
    input: &Input<'_>,
    columns: &[&str],
) -> Result<Option<parquet::ParquetText>, InputError> {
    match input {
        Input::Csv(bytes) if parquet::is_parquet(bytes) => {
            parquet::read(name, bytes, Some(columns)).map(Some)
        }
        _ => Ok(None),
    }
}

/// True for a calendar date `YYYY-MM-DD` (years 1000–9999, leap years
/// counted): the form sorts as text in date order.
pub fn is_date(text: &[u8]) -> bool {
    let [y0, y1, y2, y3, b'-', m0, m1, b'-', d0, d1] = *text else {
        return false;
    };
    let digits = [y0, y1, y2, y3, m0, m1, d0, d1];
    if !digits.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let number = |ds: &[u8]| ds.iter().fold(0u32, |n, d| n * 10 + u32::from(d - b'0'));
    let (year, month, day) = (
        number(&digits[..4]),
        number(&digits[4..6]),
        number(&digits[6..]),
    );
    let leap = year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400));
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    year >= 1000 && (1..=days).contains(&day)
}

/// The day number of a date `YYYY-MM-DD` (days since 1970-01-01, by the
/// proleptic Gregorian calendar); `None` if it is not a date.
pub fn day_number(date: &str) -> Option<i64> {
    if !is_date(date.as_bytes()) {
        return None;
    }
    let part = |range: std::ops::Range<usize>| date[range].parse::<i64>().ok();
    let (year, month, day) = (part(0..4)?, part(5..7)?, part(8..10)?);
    // Days from civil (H. Hinnant's algorithm): March-based years, so that
    // the leap day ends a year.
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    Some(era * 146_097 + day_of_era - 719_468)
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

#[cfg(test)]
mod date_tests {
    use super::{day_number, is_date};

    #[test]
    fn dates_are_calendar_dates_and_count_days() {
        assert!(is_date(b"2024-02-29") && !is_date(b"2023-02-29") && !is_date(b"1900-02-29"));
        assert!(is_date(b"2000-02-29") && !is_date(b"2026-13-01") && !is_date(b"2026-1-01"));
        assert_eq!(day_number("1970-01-01"), Some(0));
        assert_eq!(day_number("2000-03-01"), Some(11_017));
        assert_eq!(
            day_number("2026-01-05")
                .zip(day_number("2025-12-31"))
                .map(|(a, b)| a - b),
            Some(5)
        );
        assert_eq!(
            day_number("2024-03-01")
                .zip(day_number("2024-02-28"))
                .map(|(a, b)| a - b),
            Some(2)
        );
        assert_eq!(day_number("2026-02-30"), None);
    }
}
