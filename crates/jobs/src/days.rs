//! `replay` of a dated file: its business days in date order, each
//! replayed as a file of that day alone would be (docs/semantics.md,
//! "Several days"); openings from the participants file, `openings.csv`
//! for the dates it lists, or the previous day's closing balances.

use clearsim_model::input::{Cut, Day, DayCut, Openings};
use clearsim_model::replay::Replay;
use clearsim_outset::OutputSet;
use clearsim_report::days::{self, DayOutcome, DayRows, DaysRun};

use crate::JobError;
use crate::replay::{Settlement, as_run, publish_files, settle, summary};

/// Where each day's openings come from besides the participants file.
#[derive(Clone, Copy, Default)]
pub struct Carry<'a> {
    pub openings: Option<&'a Openings>,
    /// Open each day after the first with the previous day's closing
    /// balances (openings.csv still wins for the dates it lists).
    pub balances: bool,
    /// Payments unsettled at a day's end stay queued into the next day
    /// (docs/semantics.md §11) instead of being rejected.
    pub queue: bool,
}

/// Replays every business day of `whole` in date order.
pub fn replay_days(
    whole: &Day,
    settlement: &Settlement,
    carry: Carry<'_>,
    files: (&str, &str),
) -> Result<Vec<DayOutcome>, JobError> {
    let mut outcomes: Vec<DayOutcome> = Vec::new();
    let mut overnight: Vec<u32> = Vec::new();
    for (date, own) in whole.date_rows() {
        let carried = overnight.len();
        let rows: Vec<u32> = overnight.drain(..).chain(own).collect();
        let mut participants = whole.participants.clone();
        if carry.balances
            && let Some(previous) = outcomes.last()
        {
            participants
                .opening_fen
                .clone_from(&previous.replay.closing_fen);
        }
        let listed = carry.openings.and_then(|o| o.by_date.get(&date));
        for &(p, opening_fen, credit_fen) in listed.into_iter().flatten() {
            participants.opening_fen[p as usize] = opening_fen;
            participants.credit_limit_fen[p as usize] = credit_fen;
        }
        check_sums(
            &date,
            rows.iter().map(|&r| whole.payments.amount_fen[r as usize]),
            &participants.opening_fen,
        )?;
        let (opening_fen, credit_limit_fen) = (
            participants.opening_fen.clone(),
            participants.credit_limit_fen.clone(),
        );
        let day = whole.one_day(&rows, carried, participants);
        let route = settlement.route(&day, files.1)?;
        let replay = settle(&day, &route)?;
        if carry.queue {
            overnight = still_queued(&day, &rows, &replay.settle);
        }
        let figures = as_run(&day, &route, &replay);
        let summary = summary(&day, &route, &replay, files, figures);
        outcomes.push(DayOutcome {
            date,
            carried,
            overnight: overnight.len(),
            rows: DayRows::Listed(rows),
            opening_fen,
            credit_limit_fen,
            replay,
            summary,
        });
    }
    // After the last day there is no next one: what is still queued is
    // unsettled.
    if let Some(last) = outcomes.last_mut() {
        last.overnight = 0;
    }
    Ok(outcomes)
}

/// The day's payments unsettled at its end, in processing order (the
/// carried ones first: they arrived at 00:00): the next day's first.
fn still_queued(day: &Day, rows: &[u32], settle: &[u32]) -> Vec<u32> {
    day.payments
        .order
        .iter()
        .filter(|&&i| settle[i as usize] == clearsim_model::metrics::UNSETTLED)
        .map(|&i| rows[i as usize])
        .collect()
}

/// Σ openings + Σ the day's amounts must fit in i64, as a file of the
/// day alone is checked: it bounds every balance and sum of the day.
fn check_sums(
    date: &str,
    mut amounts_fen: impl Iterator<Item = i64>,
    opening_fen: &[i64],
) -> Result<(), JobError> {
    let total = opening_fen
        .iter()
        .try_fold(0i64, |sum, &o| sum.checked_add(o))
        .and_then(|sum| amounts_fen.try_fold(sum, i64::checked_add));
    match total {
        Some(_) => Ok(()),
        None => Err(JobError::user(format!(
            "{date}: the day's opening balances and amounts sum past i64 (the bound every replay has)"
        ))),
    }
}

/// A dated file replayed: its days' outcomes and what produced them,
/// for the output set (the command line) or in-memory tables (Python).
pub struct DaysReplayed {
    pub outcomes: Vec<DayOutcome>,
    pub strategy: String,
    pub participants_file: String,
    pub payments_file: String,
    pub openings_file: Option<String>,
    pub carry_balances: bool,
    pub carry_queue: bool,
    /// settlements.csv was written as the days were settled ([`stream`]).
    pub settlements_streamed: bool,
}

impl DaysReplayed {
    /// The days' outcomes and how they were replayed: `(openings file,
    /// carried balances, carried queues)`.
    fn of(
        outcomes: Vec<DayOutcome>,
        files: (&str, &str),
        (openings_file, carry_balances, carry_queue): (Option<&str>, bool, bool),
        settlements_streamed: bool,
    ) -> DaysReplayed {
        let strategy = outcomes
            .first()
            .map(|d| d.summary.strategy.clone())
            .unwrap_or_default();
        DaysReplayed {
            outcomes,
            strategy,
            participants_file: files.0.to_string(),
            payments_file: files.1.to_string(),
            openings_file: openings_file.map(str::to_string),
            carry_balances,
            carry_queue,
            settlements_streamed,
        }
    }

    /// Replays every day of `whole` ([`replay_days`]), named by `files`
    /// and the openings file, if any, in its outputs.
    pub fn replay(
        whole: &Day,
        settlement: &Settlement,
        carry: Carry<'_>,
        files: (&str, &str),
        openings_file: Option<&str>,
    ) -> Result<DaysReplayed, JobError> {
        let outcomes = replay_days(whole, settlement, carry, files)?;
        Ok(DaysReplayed::of(
            outcomes,
            files,
            (openings_file, carry.balances, carry.queue),
            false,
        ))
    }

    /// How the days were replayed, as the report says it.
    pub fn run(&self) -> DaysRun<'_> {
        DaysRun {
            strategy: &self.strategy,
            participants_file: &self.participants_file,
            payments_file: &self.payments_file,
            openings_file: self.openings_file.as_deref(),
            carry_balances: self.carry_balances,
            carry_queue: self.carry_queue,
        }
    }

    /// summary.json (schema `clearsim.replay-days.v1`).
    pub fn summary_json(&self, whole: &Day) -> Result<Vec<u8>, JobError> {
        days::summary_json(whole, &self.run(), &self.outcomes).map_err(JobError::of)
    }

    /// The report: report.md and report.html with the per-day charts.
    pub fn document(&self) -> clearsim_report::document::Document {
        days::document(&self.run(), &self.outcomes)
    }

    /// settlements.csv, balances.csv and days.csv, in memory.
    pub fn tables(&self, whole: &Day) -> Result<Vec<(&'static str, Vec<u8>)>, JobError> {
        let settlements =
            days::write_settlements_csv(Vec::new(), whole, &self.run(), &self.outcomes)
                // A Vec takes every write: an error here is a bug.
                .map_err(|e| JobError::Bug(format!("settlements.csv in memory: {e}")))?;
        Ok(vec![
            ("settlements.csv", settlements),
            ("balances.csv", days::balances_csv(whole, &self.outcomes)),
            ("days.csv", days::days_csv(&self.outcomes)),
        ])
    }

    /// Publishes the output set: settlements.csv (streamed),
    /// balances.csv, days.csv, summary.json, the report, and `extra`
    /// files (the network of the file's flows, when asked).
    pub fn publish(
        &self,
        set: OutputSet,
        whole: &Day,
        extra: clearsim_report::ReportFiles,
    ) -> Result<(), JobError> {
        let json = self.summary_json(whole)?;
        let run = self.run();
        if !self.settlements_streamed {
            crate::replay::stream_file(&set, "settlements.csv", |file| {
                Ok(days::write_settlements_csv(
                    file,
                    whole,
                    &run,
                    &self.outcomes,
                )?)
            })?;
        }
        let mut files = vec![
            ("balances.csv", days::balances_csv(whole, &self.outcomes)),
            ("days.csv", days::days_csv(&self.outcomes)),
        ];
        files.extend(self.document().files());
        files.extend(extra);
        publish_files(set, &json, &files)
    }
}

/// A dated file replayed while it is read: each business day settled and
/// its settlements.csv rows written as soon as the parse has read past
/// it, on a second thread, so that reading, settling and writing overlap.
pub struct Streaming<'a> {
    pub settlement: &'a Settlement,
    /// The day end the file is parsed with.
    pub day_end: clearsim_core::time::SimTime,
    /// Openings carried from the day before, or not (carried queues and
    /// openings.csv take the whole file: [`replay_days`]).
    pub carry_balances: bool,
    pub files: (&'a str, &'a str),
    /// The output set settlements.csv is written into.
    pub set: &'a OutputSet,
}

/// What a streamed replay leaves: the file, and its days replayed when it
/// came in date order (else `None`: [`replay_days`] replays it whole).
pub struct Streamed {
    pub whole: Day,
    pub days: Option<DaysReplayed>,
}

/// What the settling thread has made of the days handed on.
#[derive(Default)]
struct Consumed {
    participants: Option<clearsim_model::input::Participants>,
    outcomes: Vec<DayOutcome>,
    settlements: Option<clearsim_model::csvout::CsvOut<clearsim_outset::SetFile>>,
    unsorted: bool,
    failed: Option<JobError>,
}

/// Parses the inputs (`parse` runs the parse, handing each day on to its
/// argument) while the days are settled and written ([`Streaming`]).
pub fn stream(
    parse: impl FnOnce(&mut dyn FnMut(Cut)) -> Result<Day, clearsim_model::input::InputError>,
    how: &Streaming<'_>,
) -> Result<Streamed, JobError> {
    // A rendezvous: at most two days copied out at once (the one settling,
    // the one waiting), within the memory bound per row.
    let (to_settle, cuts) = std::sync::mpsc::sync_channel::<Cut>(0);
    let (parsed, consumed) = std::thread::scope(|scope| {
        let settling = scope.spawn(|| {
            let mut consumed = Consumed::default();
            // Every cut is received, so the parse never waits for ever.
            for cut in cuts {
                consumed.take(cut, how);
            }
            consumed
        });
        let parsed = parse(&mut |cut| {
            // The settling thread ends only when this side has hung up.
            let _ = to_settle.send(cut);
        });
        drop(to_settle);
        let consumed = settling
            .join()
            .unwrap_or_else(|e| std::panic::resume_unwind(e));
        (parsed, consumed)
    });
    let whole = parsed.map_err(JobError::of)?;
    consumed.finish(whole, how)
}

impl Consumed {
    fn take(&mut self, cut: Cut, how: &Streaming<'_>) {
        if self.unsorted || self.failed.is_some() {
            return;
        }
        match cut {
            Cut::Participants(participants) => self.participants = Some(participants),
            Cut::Unsorted => self.unsorted = true,
            Cut::Day(day) => {
                if let Err(e) = self.settle(*day, how) {
                    self.failed = Some(e);
                }
            }
        }
    }

    /// Settles one day, writes its settlements, keeps its outcome.
    fn settle(&mut self, cut: DayCut, how: &Streaming<'_>) -> Result<(), JobError> {
        let mut participants = self
            .participants
            .clone()
            .ok_or_else(|| JobError::Bug("a day before the participants".into()))?;
        if how.carry_balances
            && let Some(previous) = self.outcomes.last()
        {
            participants
                .opening_fen
                .clone_from(&previous.replay.closing_fen);
        }
        check_sums(
            &cut.date,
            cut.payments.amount_fen.iter().copied(),
            &participants.opening_fen,
        )?;
        let (opening_fen, credit_limit_fen) = (
            participants.opening_fen.clone(),
            participants.credit_limit_fen.clone(),
        );
        let day = Day {
            participants,
            payments: cut.payments,
            day_end: how.day_end,
        };
        let route = how.settlement.route(&day, how.files.1)?;
        let replay = settle(&day, &route)?;
        self.write(&cut.date, &day, &replay.settle, how)?;
        let figures = as_run(&day, &route, &replay);
        let summary = summary(&day, &route, &replay, how.files, figures);
        // Row numbers fit u32: the parser's bound on rows.
        let rows = DayRows::Span(cut.first_row as u32..(cut.first_row + day.payments.len()) as u32);
        // Written: the settle times are not kept (within the memory bound
        // per row).
        let replay = Replay {
            settle: Vec::new(),
            ..replay
        };
        self.outcomes.push(DayOutcome {
            date: cut.date,
            carried: 0,
            overnight: 0,
            rows,
            opening_fen,
            credit_limit_fen,
            replay,
            summary,
        });
        Ok(())
    }

    fn write(
        &mut self,
        date: &str,
        day: &Day,
        settle: &[u32],
        how: &Streaming<'_>,
    ) -> Result<(), JobError> {
        let cannot = |e: &dyn std::fmt::Display| {
            JobError::user(format!("cannot write results: settlements.csv: {e}"))
        };
        if self.settlements.is_none() {
            let file = how.set.file("settlements.csv").map_err(|e| cannot(&e))?;
            let mut out = clearsim_model::csvout::CsvOut::new(file);
            days::write_settlements_header(&mut out).map_err(|e| cannot(&e))?;
            self.settlements = Some(out);
        }
        if let Some(out) = &mut self.settlements {
            days::write_day_settlements(out, date, day, settle).map_err(|e| cannot(&e))?;
        }
        Ok(())
    }

    /// The days replayed, once the parse has succeeded, settlements.csv
    /// finished. (A day cut early knows only the instruments seen so far;
    /// no figure depends on the ones it lacks, which it has no payment of.)
    fn finish(mut self, whole: Day, how: &Streaming<'_>) -> Result<Streamed, JobError> {
        if let Some(e) = self.failed {
            return Err(e);
        }
        let streamed = self.settlements.take();
        if self.unsorted || self.outcomes.is_empty() {
            if let Some(begun) = streamed {
                drop(begun);
                how.set
                    .remove("settlements.csv")
                    .map_err(|e| JobError::user(format!("cannot write results: {e}")))?;
            }
            return Ok(Streamed { whole, days: None });
        }
        if let Some(out) = streamed {
            let cannot = |e: &dyn std::fmt::Display| {
                JobError::user(format!("cannot write results: settlements.csv: {e}"))
            };
            out.finish()
                .map_err(|e| cannot(&e))?
                .finish()
                .map_err(|e| cannot(&e))?;
        }
        let days = DaysReplayed::of(
            self.outcomes,
            how.files,
            (None, how.carry_balances, false),
            true,
        );
        Ok(Streamed {
            whole,
            days: Some(days),
        })
    }
}
