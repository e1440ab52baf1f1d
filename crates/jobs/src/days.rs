//! `replay` of a dated file: its business days in date order, each
//! replayed as a file of that day alone would be (docs/semantics.md,
//! "Several days"); openings from the participants file, `openings.csv`
//! for the dates it lists, or the previous day's closing balances.

use clearsim_model::input::{Day, Openings};
use clearsim_outset::OutputSet;
use clearsim_report::days::{self, DayOutcome, DaysRun};

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
        check_sums(whole, &date, &rows, &participants.opening_fen)?;
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
            rows,
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
fn check_sums(whole: &Day, date: &str, rows: &[u32], opening_fen: &[i64]) -> Result<(), JobError> {
    let total = opening_fen
        .iter()
        .try_fold(0i64, |sum, &o| sum.checked_add(o))
        .and_then(|sum| {
            rows.iter().try_fold(sum, |sum, &r| {
                sum.checked_add(whole.payments.amount_fen[r as usize])
            })
        });
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
}

impl DaysReplayed {
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
        let strategy = outcomes
            .first()
            .map(|d| d.summary.strategy.clone())
            .unwrap_or_default();
        Ok(DaysReplayed {
            outcomes,
            strategy,
            participants_file: files.0.to_string(),
            payments_file: files.1.to_string(),
            openings_file: openings_file.map(str::to_string),
            carry_balances: carry.balances,
            carry_queue: carry.queue,
        })
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
        crate::replay::stream_file(&set, "settlements.csv", |file| {
            Ok(days::write_settlements_csv(
                file,
                whole,
                &run,
                &self.outcomes,
            )?)
        })?;
        let mut files = vec![
            ("balances.csv", days::balances_csv(whole, &self.outcomes)),
            ("days.csv", days::days_csv(&self.outcomes)),
        ];
        files.extend(self.document().files());
        files.extend(extra);
        publish_files(set, &json, &files)
    }
}
