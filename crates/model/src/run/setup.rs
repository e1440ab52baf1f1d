//! What a run fixes from its scenario and city before the first day: its
//! channels (sender limits resolved), the engine's controls of each day,
//! the participants its shocks strike, the openings of each day, the
//! banks' queues.

use clearsim_core::engine::{Control, EngineError, Timed};
use clearsim_core::strategy::ChannelSpec;
use clearsim_core::time::SimTime;

use crate::config::{Direction, Instrument, LimitAmount, LimitEntry, PolicyEntry, Scenario, Shock};
use crate::workload::city::{City, expected_outflow_of};
use crate::workload::stream::StreamModel;

/// The scenario's stream model for a city: a function of the scenario and
/// the city only (never of the channels: common random numbers).
pub fn stream_model(scenario: &Scenario, city: &City) -> StreamModel {
    StreamModel::new(scenario, &city.size)
}

/// The liquidity policy's amounts for a day: day 1's, grown with volumes.
pub(super) fn policy_fen(base_fen: &[i64], volume: f64) -> Vec<i64> {
    base_fen.iter().map(|&b| grown_fen(b, volume)).collect()
}

/// One amount of day 1 on a day of `volume` (day 1's is 1).
fn grown_fen(base_fen: i64, volume: f64) -> i64 {
    (base_fen as f64 * volume).round().clamp(0.0, 9.2e18) as i64
}

/// A bank's opening balance on `day` (0-based) when day 1's is
/// `base_fen`, as a run opens it.
pub fn opening_of_day_fen(scenario: &Scenario, base_fen: i64, day: u32) -> i64 {
    if day == 0 {
        base_fen
    } else {
        grown_fen(base_fen, scenario.volume_of_day(day))
    }
}

/// Whether a shockless run of the scenario reads a bank's opening balance
/// only through the liquidity checks of its balance, so that its measured
/// days ([`crate::bank::costs::BankDay::shifted`]) price other openings
/// exactly: every channel decides by checks, and no sender limit is a
/// share of the opening.
pub fn openings_shift_exactly(scenario: &Scenario) -> bool {
    scenario.channels.iter().all(|c| c.spec.decides_by_checks())
        && scenario
            .limits
            .iter()
            .all(|l| !matches!(l.amount, LimitAmount::ShareOfOpening(_)))
}

/// The channel specs of the scenario, with the `[[limit]]` entries resolved
/// into any channel that enforces sender limits.
pub fn channel_specs(scenario: &Scenario, city: &City) -> Result<Vec<ChannelSpec>, EngineError> {
    let mut specs: Vec<ChannelSpec> = scenario.channels.iter().map(|c| c.spec.clone()).collect();
    for limits in specs.iter_mut().filter_map(ChannelSpec::limits_mut) {
        if scenario.limits.is_empty() {
            return Err(EngineError::Design(
                "sender limits need [[limit]] entries in the config".into(),
            ));
        }
        *limits = LimitEntry::resolve(&scenario.limits, &city.ids, &city.opening_fen)
            .map_err(|e| EngineError::Design(e.to_string()))?;
    }
    Ok(specs)
}

/// The engine's controls for day `day` (0-based): every shock happens on
/// day 1; a defaulted participant stays failed from midnight on later days.
pub fn controls(
    shocks: &[Shock],
    ids: &[String],
    day: u32,
) -> Result<Vec<Timed<Control>>, EngineError> {
    let index = |id: &str| -> Result<u32, EngineError> {
        ids.iter()
            .position(|known| known == id)
            .map(|i| i as u32)
            .ok_or_else(|| EngineError::UnknownParticipant(id.to_string()))
    };
    let mut out = Vec::new();
    let timed = |at: SimTime, item: Control| Timed { at, item };
    for shock in shocks {
        match shock {
            Shock::Default { participant, at } => {
                let at = if day == 0 { *at } else { SimTime::MIDNIGHT };
                let participant = index(participant)?;
                out.push(timed(at, Control::Default { participant }));
            }
            _ if day > 0 => {}
            Shock::Outage {
                participant,
                from,
                to,
            } => {
                let participant = index(participant)?;
                out.push(timed(*from, Control::OutageStart { participant }));
                out.push(timed(*to, Control::OutageEnd { participant }));
            }
            Shock::SystemOutage { from, to } => {
                out.push(timed(*from, Control::SystemDown));
                out.push(timed(*to, Control::SystemUp));
            }
            Shock::Liquidity {
                participant,
                at,
                amount_fen,
            } => {
                let (participant, amount_fen) = (index(participant)?, *amount_fen);
                out.push(timed(
                    *at,
                    Control::Withdraw {
                        participant,
                        amount_fen,
                    },
                ));
            }
        }
    }
    Ok(out)
}

/// The participants some shock strikes.
pub fn struck(shocks: &[Shock], ids: &[String]) -> Vec<bool> {
    ids.iter()
        .map(|id| shocks.iter().any(|s| s.participant() == Some(id)))
        .collect()
}

/// The banks' queues of a scenario with `[[policy]]` entries (none without).
pub(super) fn desk(scenario: &Scenario, city: &City) -> Option<crate::bank::desk::Desk> {
    let policies = PolicyEntry::resolve(&scenario.policies, &city.ids, &city.categories);
    crate::bank::desk::Desk::new(
        &policies,
        scenario.instruments.iter().map(held_by_bank).collect(),
        scenario.day_end,
    )
}

/// Whether a bank's policy decides when payments of `instrument` go: its
/// own credit transfers, not cheques (the payee's bank presents them) nor
/// payments from the banks outside the city.
pub fn held_by_bank(instrument: &Instrument) -> bool {
    !instrument.cheque
        && instrument
            .cross_city
            .is_none_or(|c| c.direction != Direction::In)
}

/// Each participant's expected value of payments its policy decides, on
/// day 1 (the throughput guideline's denominator).
pub(super) fn expected_held_fen(scenario: &Scenario, city: &City) -> Vec<i64> {
    expected_outflow_of(scenario, &city.size, held_by_bank)
        .into_iter()
        .map(|v| v.clamp(0.0, 9e18).round() as i64)
        .collect()
}
