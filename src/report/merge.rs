//! `clearsim merge`: pools runs of the same study (e.g. the same scenario
//! under several seeds). Counts, values and sums add; in-transit histograms
//! add, so percentiles are those of the pooled payments; peaks and
//! liquidity figures take the largest; days are listed one after another.
//! Every derived figure is then recomputed by the same code as for one run.

use hdrhistogram::Histogram;

use super::run::{NamedFlow, RunSummary};
use super::study::{
    CompareRow, CompareSummary, Liquidity, decode_histogram, encode_histogram, row_from,
};
use crate::run::{FlowCounts, FlowReport, FlowSums, KnockOn};

fn add_counts(a: FlowCounts, b: FlowCounts) -> Result<FlowCounts, String> {
    let sum = |x: i64, y: i64| x.checked_add(y).ok_or("merged values overflow i64");
    Ok(FlowCounts {
        payments: a.payments + b.payments,
        value: sum(a.value, b.value)?,
        settled: a.settled + b.settled,
        settled_value: sum(a.settled_value, b.settled_value)?,
        unsettled: a.unsettled + b.unsettled,
        unsettled_value: sum(a.unsettled_value, b.unsettled_value)?,
        dishonoured: a.dishonoured + b.dishonoured,
        peak_queued_value: a.peak_queued_value.max(b.peak_queued_value),
    })
}

fn add_sums(a: FlowSums, b: FlowSums) -> FlowSums {
    FlowSums {
        delay_weighted: a.delay_weighted + b.delay_weighted,
        delay_weight: a.delay_weight + b.delay_weight,
        transit_weighted: a.transit_weighted + b.transit_weighted,
        transit_value: a.transit_value + b.transit_value,
        transit_total_ms: a.transit_total_ms + b.transit_total_ms,
        transit_max_ms: a.transit_max_ms.max(b.transit_max_ms),
    }
}

fn add_histograms(a: &str, b: &str) -> Result<Histogram<u64>, String> {
    let mut a = decode_histogram(a).ok_or("a summary holds an unreadable histogram")?;
    let b = decode_histogram(b).ok_or("a summary holds an unreadable histogram")?;
    a.add(&b)
        .map_err(|e| format!("histograms do not merge: {e:?}"))?;
    Ok(a)
}

/// Two flow reports and their histograms pooled: counts, sums, timelines
/// and histograms add; every derived figure is recomputed.
fn merge_reports(
    a: &FlowReport,
    a_histogram: &str,
    b: &FlowReport,
    b_histogram: &str,
) -> Result<(FlowReport, String), String> {
    let histogram = add_histograms(a_histogram, b_histogram)?;
    let mut timeline = a.timeline.clone();
    timeline.add(&b.timeline);
    let flow = FlowReport::derive(
        add_counts(a.counts(), b.counts())?,
        add_sums(a.sums, b.sums),
        &histogram,
        timeline,
    );
    Ok((flow, encode_histogram(&histogram)))
}

fn merge_flow(a: &NamedFlow, b: &NamedFlow) -> Result<NamedFlow, String> {
    if (&a.name, &a.route) != (&b.name, &b.route) {
        return Err(format!(
            "flows differ: {} ({}) vs {} ({})",
            a.name, a.route, b.name, b.route
        ));
    }
    let (flow, in_transit_histogram) = merge_reports(
        &a.flow,
        &a.in_transit_histogram,
        &b.flow,
        &b.in_transit_histogram,
    )?;
    Ok(NamedFlow {
        name: a.name.clone(),
        route: a.route.clone(),
        flow,
        in_transit_histogram,
    })
}

/// Flows matched by name; a flow only one side has (e.g. returned cheques
/// on one seed only) is kept as it is.
fn merge_flows(a: &[NamedFlow], b: &[NamedFlow]) -> Result<Vec<NamedFlow>, String> {
    let mut out = a.to_vec();
    for flow in b {
        match out.iter_mut().find(|f| f.name == flow.name) {
            Some(existing) => *existing = merge_flow(existing, flow)?,
            None => out.push(flow.clone()),
        }
    }
    Ok(out)
}

/// Pools run summaries of the same scenario.
pub fn merge_runs(summaries: Vec<RunSummary>) -> Result<RunSummary, String> {
    let mut iter = summaries.into_iter();
    let mut merged = iter.next().ok_or("nothing to merge")?;
    for next in iter {
        if next.scenario != merged.scenario || next.participants != merged.participants {
            return Err(format!(
                "cannot merge runs of {} and {}",
                merged.scenario, next.scenario
            ));
        }
        merged.channels = merge_flows(&merged.channels, &next.channels)?;
        merged.instruments = merge_flows(&merged.instruments, &next.instruments)?;
        let offset = merged.per_day.len() as u32;
        merged.per_day.extend(next.per_day.into_iter().map(|mut d| {
            d.day += offset;
            d
        }));
        merged.days += next.days;
        merged.payments += next.payments;
        for (row, other) in merged.per_participant.iter_mut().zip(&next.per_participant) {
            row.liquidity_used = row.liquidity_used.max(other.liquidity_used);
            row.closing = other.closing;
        }
        merged.merged_seeds.push(next.seed);
        merged.guarantee_fund_used = merged
            .guarantee_fund_used
            .saturating_add(next.guarantee_fund_used);
        merged.default = match (merged.default.take(), next.default) {
            (Some(mut a), Some(b)) => {
                a.knock_on = add_knock_on(a.knock_on, b.knock_on);
                Some(a)
            }
            (a, b) => a.or(b),
        };
    }
    Ok(merged)
}

fn add_knock_on(a: KnockOn, b: KnockOn) -> KnockOn {
    KnockOn {
        unsettled_at_others: a.unsettled_at_others + b.unsettled_at_others,
        unsettled_value_at_others: a
            .unsettled_value_at_others
            .saturating_add(b.unsettled_value_at_others),
        guarantee_fund_used: a.guarantee_fund_used.saturating_add(b.guarantee_fund_used),
    }
}

fn merge_row(a: &CompareRow, b: &CompareRow) -> Result<CompareRow, String> {
    if a.strategy != b.strategy {
        return Err(format!(
            "strategies differ: {} vs {}",
            a.strategy, b.strategy
        ));
    }
    let (flow, histogram) = merge_reports(
        &a.flow,
        &a.in_transit_histogram,
        &b.flow,
        &b.in_transit_histogram,
    )?;
    let mut row = row_from(
        a.strategy.clone(),
        &flow,
        Liquidity {
            used: a.liquidity_used.max(b.liquidity_used),
            lower_bound: a.lower_bound.max(b.lower_bound),
            upper_bound: a.upper_bound.max(b.upper_bound),
        },
        a.moved_value + b.moved_value,
        add_knock_on(a.knock_on, b.knock_on),
        histogram,
    );
    row.liquidity_used_by_participant = larger_each(
        &a.liquidity_used_by_participant,
        &b.liquidity_used_by_participant,
    );
    Ok(row)
}

/// Element-wise maximum (the longer list's extra entries are kept).
fn larger_each(a: &[i64], b: &[i64]) -> Vec<i64> {
    (0..a.len().max(b.len()))
        .map(|i| {
            a.get(i)
                .copied()
                .unwrap_or(0)
                .max(b.get(i).copied().unwrap_or(0))
        })
        .collect()
}

/// Pools compare summaries with the same strategies.
pub fn merge_compares(summaries: Vec<CompareSummary>) -> Result<CompareSummary, String> {
    let mut iter = summaries.into_iter();
    let mut merged = iter.next().ok_or("nothing to merge")?;
    for next in iter {
        if next.strategies.len() != merged.strategies.len() {
            return Err("the summaries compare different strategies".into());
        }
        merged.strategies = merged
            .strategies
            .iter()
            .zip(&next.strategies)
            .map(|(a, b)| merge_row(a, b))
            .collect::<Result<_, _>>()?;
        merged.days += next.days;
        merged.merged_seeds.push(next.seed);
    }
    Ok(merged)
}
