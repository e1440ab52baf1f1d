//! `replay --critical`: each city participant of a replayed day — or of
//! each business day of a dated file — defaulting in turn at an instant,
//! against the same day as it settled without the default: the knock-on,
//! as `critical` measures it on a scenario's runs.

use clearsim_core::engine::{Control, Timed};
use clearsim_core::time::SimTime;
use clearsim_model::input::Day;
use clearsim_model::metrics::UNSETTLED;
use clearsim_model::metrics::estimate::estimate;
use clearsim_model::replay::{OUTSIDE_CATEGORY, Route};
use clearsim_report::critical::Ranked;

use crate::JobError;

/// One default's knock-on on one day: what it left unsettled between the
/// others, and how many others it touched.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct KnockOn {
    value_fen: i64,
    payments: i64,
    touched: u32,
}

/// What stays unsettled between participants other than `struck`: the
/// count, the value, and per participant the value it was to pay or be
/// paid.
fn untouched(day: &Day, settle: &[u32], struck: usize) -> (i64, i64, Vec<i64>) {
    let payments = &day.payments;
    let (mut count, mut value_fen) = (0i64, 0i64);
    let mut by_participant_fen = vec![0i64; day.participants.len()];
    for (row, &at) in settle.iter().enumerate() {
        let (sender, receiver) = (
            payments.sender[row] as usize,
            payments.receiver[row] as usize,
        );
        if at != UNSETTLED || sender == struck || receiver == struck {
            continue;
        }
        // Within the day's Σ amounts, which the parser bounds by i64.
        let fen = payments.amount_fen[row];
        count += 1;
        value_fen += fen;
        by_participant_fen[sender] += fen;
        by_participant_fen[receiver] += fen;
    }
    (count, value_fen, by_participant_fen)
}

/// The knock-on of `struck` defaulting at `at` on `day`, against the
/// day's own settle times `baseline`.
fn knock_on(
    day: &Day,
    route: &Route,
    baseline: &[u32],
    (struck, at): (usize, SimTime),
) -> Result<KnockOn, JobError> {
    let controls = vec![Timed {
        at,
        item: Control::Default {
            participant: struck as u32,
        },
    }];
    let (settle, _) =
        clearsim_model::replay::settle_struck(day, (&route.specs, &route.channel_of), controls)
            .map_err(JobError::of)?;
    let (count, value_fen, by) = untouched(day, &settle, struck);
    let (base_count, base_value_fen, base_by) = untouched(day, baseline, struck);
    let more = by.iter().zip(&base_by).filter(|(s, b)| s > b).count();
    Ok(KnockOn {
        value_fen: value_fen - base_value_fen,
        payments: count - base_count,
        touched: u32::try_from(more).unwrap_or(u32::MAX),
    })
}

/// Each city participant defaulting at `at` on each of `days` (each with
/// its route and its settle times as it settled), ranked by the mean
/// knock-on over the days, most harmful first (ties by id); replays in
/// parallel on `threads`.
pub fn critical_days(
    days: &[(&Day, &Route, &[u32])],
    at: SimTime,
    threads: usize,
) -> Result<Vec<Ranked>, JobError> {
    let Some((first, ..)) = days.first() else {
        return Ok(Vec::new());
    };
    let people = &first.participants;
    if at > first.day_end {
        return Err(JobError::user(format!(
            "--critical-at {at}: after the day end {}",
            first.day_end
        )));
    }
    let struck: Vec<usize> = (0..people.len())
        .filter(|&p| people.categories[p] != OUTSIDE_CATEGORY)
        .collect();
    let jobs: Vec<(usize, usize)> = struck
        .iter()
        .flat_map(|&p| (0..days.len()).map(move |d| (p, d)))
        .collect();
    let done = clearsim_study::runner::parallel_map(&jobs, threads, |&(p, d)| {
        let (day, route, baseline) = days[d];
        knock_on(day, route, baseline, (p, at))
    });
    let done: Vec<KnockOn> = done.into_iter().collect::<Result<_, _>>()?;
    let mut ranked: Vec<Ranked> = struck
        .iter()
        .zip(done.chunks(days.len()))
        .map(|(&p, per_day)| {
            let of = |f: fn(&KnockOn) -> f64| estimate(&per_day.iter().map(f).collect::<Vec<_>>());
            Ranked {
                id: people.ids[p].clone(),
                value_fen: of(|k| k.value_fen as f64),
                payments: of(|k| k.payments as f64),
                touched: of(|k| f64::from(k.touched)),
            }
        })
        .collect();
    clearsim_report::critical::rank(&mut ranked);
    Ok(ranked)
}

/// [`critical_days`] of a dated file's business days, each as it was
/// replayed (its rows, carried ones first, its openings and limits),
/// through `settlement` (`payments_file` names the file in messages).
pub fn critical_of_days(
    whole: &Day,
    (settlement, payments_file): (&crate::replay::Settlement, &str),
    outcomes: &[clearsim_report::days::DayOutcome],
    at: SimTime,
    threads: usize,
) -> Result<Vec<Ranked>, JobError> {
    let mut days = Vec::with_capacity(outcomes.len());
    for outcome in outcomes {
        let mut participants = whole.participants.clone();
        participants.opening_fen.clone_from(&outcome.opening_fen);
        participants
            .credit_limit_fen
            .clone_from(&outcome.credit_limit_fen);
        let rows: Vec<u32> = outcome.rows.iter().collect();
        let day = whole.one_day(&rows, outcome.carried, participants);
        let route = settlement.route(&day, payments_file)?;
        // A streamed day keeps no settle times: settled again.
        let settled = crate::replay::settle(&day, &route)?;
        days.push((day, route, settled.settle));
    }
    let borrowed: Vec<_> = days.iter().map(|(d, r, s)| (d, r, s.as_slice())).collect();
    critical_days(&borrowed, at, threads)
}
