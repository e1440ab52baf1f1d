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
/// openings and limits; the payments between the two left out (and
/// counted: internalised), the others with `from` replaced by `into`.
fn merged_day(day: &Day, (into, from): (usize, usize)) -> Result<(Day, u64, i64), JobError> {
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
    let (mut internal, mut internal_fen) = (0u64, 0i64);
    let mut rows = Vec::with_capacity(payments.len());
    for r in 0..payments.len() {
        if pair(payments.sender[r]) && pair(payments.receiver[r]) {
            internal += 1;
            // Never saturates: a day's amounts sum within i64 (the
            // parser's check).
            internal_fen = internal_fen.saturating_add(payments.amount_fen[r]);
        } else {
            rows.push(r as u32);
        }
    }
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
    Ok((merged, internal, internal_fen))
}

/// One side's figures from its replay.
fn side(replay: &Replay, figures: &clearsim_model::replay::RunFigures) -> Side {
    let s = &replay.summary;
    Side {
        payments: s.payments,
        value_fen: s.value,
        settled: figures.settled,
        settled_value_fen: figures.settled_value_fen,
        unsettled: figures.unsettled,
        unsettled_value_fen: figures.unsettled_value_fen,
        carried: figures.carried,
        carried_value_fen: figures.carried_value_fen,
        internalised: 0,
        internalised_value_fen: 0,
        lower_bound_fen: figures.lower_bound_fen,
        upper_bound_fen: figures.upper_bound_fen,
        liquidity_used_fen: figures.liquidity_used_fen,
        delay_ms_mean: s.delay_ms.mean,
        delay_ms_p99: s.delay_ms.p99,
        delay_ms_max: s.delay_ms.max,
        delay_indicator: s.delay_indicator,
    }
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
    let before = side(baseline, &as_run(day, &route, baseline));
    let (merged_day, internal, internal_fen) = merged_day(day, (into, from))?;
    let merged_route = settlement.route(&merged_day, payments_file)?;
    let replay = settle(&merged_day, &merged_route)?;
    let mut after = side(&replay, &as_run(&merged_day, &merged_route, &replay));
    after.payments += internal;
    after.value_fen += internal_fen;
    after.internalised = internal;
    after.internalised_value_fen = internal_fen;
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
    let (merged_whole, _, _) = merged_day(whole, (into, from))?;
    let merged = crate::days::DaysReplayed::replay(&merged_whole, settlement, carry, files, None)?;
    let internal = internalised_by_date(whole, (into, from));
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
    let mut out = Vec::with_capacity(baseline.outcomes.len());
    for (before, after) in baseline.outcomes.iter().zip(&merged.outcomes) {
        let figures =
            |o: &clearsim_report::days::DayOutcome| o.summary.as_run.clone().unwrap_or_default();
        let mut merged_side = side(&after.replay, &figures(after));
        let (count, value) = internal.get(&before.date).copied().unwrap_or((0, 0));
        merged_side.payments += count;
        merged_side.value_fen += value;
        merged_side.internalised = count;
        merged_side.internalised_value_fen = value;
        out.push((
            before.date.clone(),
            side(&before.replay, &figures(before)),
            merged_side,
        ));
    }
    Ok(out)
}

/// Per date, the payments between the two (count, value).
fn internalised_by_date(
    whole: &Day,
    (into, from): (usize, usize),
) -> std::collections::HashMap<String, (u64, i64)> {
    let payments = &whole.payments;
    let pair = |p: u32| p as usize == into || p as usize == from;
    let mut by_date = std::collections::HashMap::new();
    for r in 0..payments.len() {
        if pair(payments.sender[r]) && pair(payments.receiver[r]) {
            let date = payments.dates[usize::from(payments.date[r])].clone();
            let entry: &mut (u64, i64) = by_date.entry(date).or_default();
            entry.0 += 1;
            // Never saturates: the file's amounts sum within i64.
            entry.1 = entry.1.saturating_add(payments.amount_fen[r]);
        }
    }
    by_date
}
