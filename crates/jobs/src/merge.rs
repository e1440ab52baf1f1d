//! `replay --merge A,B`: the day beside the same payments with `B`
//! merged into `A` (one account: the two's openings and credit limits
//! summed; payments between them internalised, the rest routed to `A`),
//! both settled the same way.

use clearsim_model::input::Day;
use clearsim_model::replay::{OUTSIDE_CATEGORY, Replay, Route};
use clearsim_report::merger::{Merger, MergerStudy, Side};

use crate::JobError;
use crate::replay::{Settlement, as_run, settle};

/// The two participants of `--merge A,B` (indexes): `B` merges into `A`.
pub fn pair(day: &Day, text: &str) -> Result<(usize, usize), JobError> {
    let people = &day.participants;
    pair_of(&people.ids, &people.categories, text)
}

/// [`pair`] among participants `ids` of `categories`.
fn pair_of(ids: &[String], categories: &[String], text: &str) -> Result<(usize, usize), JobError> {
    let (a, b) = text.split_once(',').ok_or_else(|| {
        JobError::user(format!("--merge {text}: expected two participant ids, A,B"))
    })?;
    let index = |id: &str| {
        ids.iter()
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
        if categories[p] == OUTSIDE_CATEGORY {
            return Err(JobError::user(format!(
                "--merge {text}: `{}` stands for the banks outside the city, not a bank to merge",
                ids[p]
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
/// settled the same way (`route` routes a day through the settlement); the internalised payments are counted in the
/// merged side's payments, once.
pub fn merger(
    day: &Day,
    route: &dyn Fn(&Day) -> Result<Route, JobError>,
    (into, from): (usize, usize),
    baseline: &Replay,
) -> Result<Merger, JobError> {
    let before = side(baseline, as_run(day, &route(day)?, baseline));
    let (merged_day, internal) = merged_day(day, (into, from))?;
    let merged_route = route(&merged_day)?;
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

/// `critical --merge A,B CONFIG`: over the study's replications, day 1 of
/// each seed's customer stream (the payments `generate` writes) as it
/// settles through the scenario's channels beside the same payments with
/// `B` merged into `A`: a paired comparison, the stream the same on both
/// sides.
pub fn merger_study(
    source: crate::study::Source<'_>,
    text: &str,
    replications: &crate::study::Replications<'_>,
) -> Result<MergerStudy, JobError> {
    let (config, city) =
        crate::scenario::load_with_city(source.path, source.text, source.overrides)?;
    let scenario = &config.scenario;
    if !scenario.shocks.is_empty() {
        return Err(JobError::user(
            "critical --merge: the merger is measured against the same payments without it; give no shock",
        ));
    }
    if !scenario.policies.is_empty() {
        return Err(JobError::user(format!(
            "critical --merge: {} has [[policy]] entries: banks deciding when their payments go is a run's behaviour, and a merger replays the customer stream through the channels",
            source.path.display()
        )));
    }
    let pair = pair_of(&city.ids, &city.categories, text)?;
    let experiment = MergerExperiment {
        scenario,
        city: &city,
        config: source.path.display().to_string(),
        participants_csv: crate::generate::participants_csv(&city),
        model: clearsim_model::run::stream_model(scenario, &city),
        pair,
    };
    crate::study::execute(&experiment, config.seed, replications)
}

struct MergerExperiment<'a> {
    scenario: &'a clearsim_model::config::Scenario,
    city: &'a clearsim_model::workload::city::City,
    /// The config's name in messages.
    config: String,
    participants_csv: Vec<u8>,
    model: clearsim_model::workload::stream::StreamModel,
    pair: (usize, usize),
}

impl MergerExperiment<'_> {
    /// Seed `seed`'s day 1, as it settles and merged.
    fn one(&self, seed: u64) -> Result<(u64, Side, Side), JobError> {
        let payments =
            crate::generate::day_payments_csv(self.city, self.scenario, &self.model, seed, 0)?;
        let day =
            crate::generate::parse_day(&self.participants_csv, &payments, self.scenario.day_end)?;
        let route = |d: &Day| {
            Route::channels(self.scenario, &self.config, d, "the generated day")
                .map_err(JobError::of)
        };
        let baseline = settle(&day, &route(&day)?)?;
        let merger = merger(&day, &route, self.pair, &baseline)?;
        Ok((seed, merger.baseline, merger.merged))
    }
}

impl clearsim_study::Experiment for MergerExperiment<'_> {
    type Record = (u64, Side, Side);
    type Summary = MergerStudy;

    fn jobs(&self, seeds: usize) -> usize {
        seeds
    }

    fn shards(&self) -> Result<(), &'static str> {
        Err(
            "a merger study's intervals are drawn from all its seeds at once, and `clearsim merge` does not combine merger studies",
        )
    }

    fn records(
        &self,
        seeds: &[u64],
        runner: &clearsim_study::Runner<'_>,
    ) -> Result<Vec<Self::Record>, clearsim_study::StudyError> {
        use clearsim_study::StudyError;
        let done = runner.map(seeds, |&seed| self.one(seed))?;
        done.into_iter()
            .map(|record| {
                record.map_err(|e| match e {
                    JobError::User(message) => StudyError::Request(message),
                    JobError::Bug(message) => StudyError::Bug(message),
                    JobError::Interrupted => StudyError::Interrupted,
                })
            })
            .collect()
    }

    fn summarise(
        &self,
        records: Vec<Self::Record>,
        _partial: Option<clearsim_study::summary::Partial>,
    ) -> Result<MergerStudy, clearsim_study::StudyError> {
        let people = &self.city.ids;
        Ok(MergerStudy {
            scenario: self.scenario.name.clone(),
            pair: (people[self.pair.0].clone(), people[self.pair.1].clone()),
            replications: records,
        })
    }
}
