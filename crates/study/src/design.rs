//! The designs an experiment puts side by side: the scenario's own
//! channels, or one strategy of the catalog for every instrument.

use clearsim_core::strategy::{ChannelSpec, parse_strategy};
use clearsim_core::time::SimTime;
use clearsim_model::config::{Channel, Scenario};

use crate::StudyError;

/// The name of the scenario's own multi-channel design among contenders.
pub const DESIGN: &str = "design";

/// Designs compared when neither the config nor the command line names any.
pub const DEFAULT_DESIGNS: [&str; 6] = [
    DESIGN,
    "rtgs",
    "rtgs+gridlock:5m",
    "dns:hourly",
    "dns",
    "bilateral:hourly",
];

/// A design under test: the scenario's own channels, or one strategy for
/// every instrument.
#[derive(Clone, Debug, PartialEq)]
pub struct Design {
    /// As written: `design`, `rtgs+gridlock:5m`, …
    pub label: String,
    /// `None`: the scenario's own channels.
    pub single: Option<ChannelSpec>,
}

/// `design`, or a strategy in the compact form of the catalog
/// ([`parse_strategy`]).
pub fn parse_design(text: &str, day_end: SimTime) -> Result<Design, StudyError> {
    let text = text.trim();
    if text == DESIGN {
        return Ok(Design {
            label: DESIGN.into(),
            single: None,
        });
    }
    let choice = parse_strategy(text, day_end).map_err(|e| StudyError::Request(e.to_string()))?;
    Ok(Design {
        label: choice.label,
        single: Some(choice.spec),
    })
}

/// The scenario as run under `design`: unchanged for `design`, else with
/// every instrument routed to one channel of the strategy. The stream does
/// not change (common random numbers); the cheque life cycle follows the
/// channel (an exchange's sessions, or gross settlement's return window).
pub fn variant(scenario: &Scenario, design: &Design) -> Scenario {
    let Some(spec) = &design.single else {
        return scenario.clone();
    };
    let mut out = scenario.clone();
    out.channels = vec![Channel {
        name: design.label.clone(),
        spec: spec.clone(),
        instruments: (0..scenario.instruments.len()).collect(),
    }];
    out.channel_of = vec![0; scenario.instruments.len()];
    out
}
