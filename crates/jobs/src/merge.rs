//! `replay --merge A,B`: the day beside the same payments with `B`
//! merged into `A` (one account: the two's openings and credit limits
//! summed; payments between them internalised, the rest routed to `A`),
//! both settled the same way.

use clearsim_model::input::Day;
use clearsim_model::replay::{OUTSIDE_CATEGORY, Replay};
use clearsim_report::merger::{Merger, Side};

use crate::JobError;
use crate::replay::{Settlement, as_run, settle};

/// The two participants of `--merge A,B` (indexes): `B` merges into `A`.
pub fn pair(day: &Day, text: &str) -> Result<(usize, usize), JobError> {
    let people = &day.participants;
    let (a, b) = text.split_once(',').ok_or_else(|| {
        JobError::user(format!("--merge {text}: expected two participant ids, A,B"))
    })?;
    let index = |id: &str| {
        people
            .ids
            .iter()
            .position(|known| known == id)
            .ok_or_else(|| JobError::user(format!("--merge {text}: `{id}` is not a participant")))
    };
    let (into, from) = (index(a.trim())?, index(b.trim())?);
    if into == from {
        return Err(JobError::user(format!(
            "--merge {text}: two different participants"
        )));
    }
    for p in [into, from] {
        if people.categories[p] == OUTSIDE_CATEGORY {
            return Err(JobError::user(format!(
                "--merge {text}: `{}` stands for the banks outside the city, not a bank to merge",
                people.ids[p]
            )));
        }
    }
    Ok((into, from))
}

/// The day merged: `from`'s account empty and unused, `into` with both
/// openings and limits; the payments between the two left out (their
/// rows returned: internalised), the others with `from` replaced by
/// `into`.
fn merged_day(day: &Day, (into, from): (usize, usize)) -> Result<(Day, Vec<u32>), JobError> {
    let mut people = day.participants.clone();
    let sum = |a: i64, b: i64, what: &str| {
        a.checked_add(b)
            .ok_or_else(|| JobError::user(format!("--merge: the two's {what} sum past i64")))
    };
    people.opening_fen[into] = sum(
        people.opening_fen[into],
        people.opening_fen[from],
        "openings",
    )?;
    people.credit_limit_fen[into] = sum(
        people.credit_limit_fen[into],
        people.credit_limit_fen[from],
        "credit limits",
    )?;
    people.opening_fen[from] = 0;
    people.credit_limit_fen[from] = 0;
    let payments = &day.payments;
    let pair = |p: u32| p as usize == into || p as usize == from;
    let (internal, rows): (Vec<u32>, Vec<u32>) = (0..payments.len() as u32)
        .partition(|&r| pair(payments.sender[r as usize]) && pair(payments.receiver[r as usize]));
    let mut merged = day.one_day(&rows, 0, people);
    if day.is_dated() {
        // Each kept row keeps its business day.
        merged.payments.date = rows.iter().map(|&r| payments.date[r as usize]).collect();
        merged.payments.dates.clone_from(&payments.dates);
    }
    let to_into = |p: &mut u32| {
        if *p as usize == from {
            *p = into as u32;
        }
    };
    merged.payments.sender.iter_mut().for_each(to_into);
    merged.payments.receiver.iter_mut().for_each(to_into);
    Ok((merged, internal))
}

/// One side's figures from its replay.
fn side(replay: &Replay, figures: clearsim_model::replay::RunFigures) -> Side {
    let s = &replay.summary;
    Side {
        payments: s.payments,
        value_fen: s.value,
        run: figures,
        delay_ms: s.delay_ms.clone(),
        delay_indicator: s.delay_indicator,
        ..Side::default()
    }
}

/// `side` with the internalised payments counted in: `rows` of `day`.
fn with_internalised(mut side: Side, day: &Day, rows: &[u32]) -> Side {
    for &r in rows {
        side.internalised += 1;
        // Never saturates: a file's amounts sum within i64 (the parser's
        // check).
        let fen = day.payments.amount_fen[r as usize];
        side.internalised_value_fen = side.internalised_value_fen.saturating_add(fen);
    }
    side.payments += side.internalised;
    side.value_fen = side.value_fen.saturating_add(side.internalised_value_fen);
    side
}

/// The day as it settles (`replay`, `baseline`) beside the day merged,
/// settled the same way; the internalised payments are counted in the
/// merged side's payments, once.
pub fn merger(
    day: &Day,
    settlement: &Settlement,
    payments_file: &str,
    (into, from): (usize, usize),
    baseline: &Replay,
) -> Result<Merger, JobError> {
    let route = settlement.route(day, payments_file)?;
    let before = side(baseline, as_run(day, &route, baseline));
    let (merged_day, internal) = merged_day(day, (into, from))?;
    let merged_route = settlement.route(&merged_day, payments_file)?;
    let replay = settle(&merged_day, &merged_route)?;
    let after = side(&replay, as_run(&merged_day, &merged_route, &replay));
    let after = with_internalised(after, day, &internal);
    let people = &day.participants;
    Ok(Merger {
        pair: (people.ids[into].clone(), people.ids[from].clone()),
        baseline: before,
        merged: after,
    })
}

/// A dated file's merger, day by day: the days as they settled
/// (`baseline`, replayed with `carry`) beside the merged file's days,
/// replayed the same way; per date, (date, as settled, merged). Balances
/// may be carried; carried queues and openings.csv are refused (a
/// payment carried overnight, or an opening listed for the merged
/// participant, would be counted twice or lost).
pub fn merger_days(
    whole: &Day,
    settlement: &Settlement,
    carry: crate::days::Carry<'_>,
    files: (&str, &str),
    (into, from): (usize, usize),
    baseline: &crate::days::DaysReplayed,
) -> Result<Vec<(String, Side, Side)>, JobError> {
    if carry.queue || carry.openings.is_some() {
        return Err(JobError::user(
            "--merge of several business days: with --carry-balances or alone, not with --carry-queue or --openings",
        ));
    }
    let (merged_whole, internal) = merged_day(whole, (into, from))?;
    let merged = crate::days::DaysReplayed::replay(&merged_whole, settlement, carry, files, None)?;
    let same_days = merged.outcomes.len() == baseline.outcomes.len()
        && merged
            .outcomes
            .iter()
            .zip(&baseline.outcomes)
            .all(|(a, b)| a.date == b.date);
    if !same_days {
        return Err(JobError::user(
            "--merge: on some business day every payment is between the two merged participants; that day would be empty",
        ));
    }
    // The internalised rows of each date (by its index in the file).
    let mut by_date: Vec<Vec<u32>> = vec![Vec::new(); whole.payments.dates.len()];
    for &r in &internal {
        by_date[usize::from(whole.payments.date[r as usize])].push(r);
    }
    let figures =
        |o: &clearsim_report::days::DayOutcome| o.summary.as_run.clone().unwrap_or_default();
    let mut out = Vec::with_capacity(baseline.outcomes.len());
    for (before, after) in baseline.outcomes.iter().zip(&merged.outcomes) {
        let date = whole.payments.dates.iter().position(|d| *d == before.date);
        let today = date.map_or(&[][..], |d| by_date[d].as_slice());
        let merged_side = with_internalised(side(&after.replay, figures(after)), whole, today);
        out.push((
            before.date.clone(),
            side(&before.replay, figures(before)),
            merged_side,
        ));
    }
    Ok(out)
}
