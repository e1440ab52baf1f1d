//! Schema `clearsim.optimise.v1`: the banks' game per design. Frozen: a
//! change is a new version.

use serde::{Deserialize, Serialize};

use super::v2::CostBreakdown;
use super::{Save, twins};

pub const SCHEMA: &str = "clearsim.optimise.v1";

/// One bank's choice: indices into its levels and the policy options.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Choice {
    pub level: u16,
    pub policy: u16,
}

/// How an iterated search ended.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ending {
    /// No bank moved in the last round: an equilibrium (or, for the
    /// planner, a profile no single bank's change improves).
    Converged,
    /// The last round's profile is that of round `from_round`: the rounds
    /// from there on repeat.
    Cycle { from_round: u32 },
    /// `max_rounds` rounds passed without either.
    RoundLimit,
}

/// One round of an iterated search: the profile after it, its outcome.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Round {
    pub round: u32,
    pub profile: Vec<Choice>,
    pub total_fen: f64,
    /// Banks whose choice changed in this round.
    pub moved: u32,
}

/// An iterated search from a start.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Search {
    pub ending: Ending,
    /// Round 0 is the start.
    pub rounds: Vec<Round>,
}

/// One bank at a profile.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BankChoice {
    pub id: String,
    pub opening_fen: i64,
    pub policy: String,
    pub cost: CostBreakdown,
    pub cost_fen: f64,
}

/// A profile, described.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProfileReport {
    pub banks: Vec<BankChoice>,
    pub opening_total_fen: i64,
    pub cost_total_fen: f64,
    pub delay_ms_mean: f64,
    pub settled_share: f64,
}

/// One design's game.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DesignReport {
    pub design: String,
    pub equilibrium: ProfileReport,
    pub search: Search,
    pub planner: ProfileReport,
    pub planner_search: Search,
    /// Equilibrium total cost / planner's (1 when equal; none when the
    /// planner's is 0 and the equilibrium's is not).
    pub price_of_anarchy: Option<f64>,
    /// For small games: every pure equilibrium and the exact optimum.
    pub enumeration: Option<EnumerationReport>,
    /// Profiles evaluated, each once per replication: by a run
    /// (`runs`), or priced from a run of another of one bank's levels on
    /// the same path (`priced_runs`; docs/PERFORMANCE.md).
    pub evaluations: u64,
    pub runs: u64,
    pub priced_runs: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EnumerationReport {
    pub profiles: u64,
    pub equilibria: Vec<ProfileReport>,
    pub optimum: ProfileReport,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OptimiseReport {
    pub schema: String,
    pub scenario: String,
    pub seeds: Vec<u64>,
    pub days: u32,
    pub levels: usize,
    pub policies: Vec<String>,
    pub designs: Vec<DesignReport>,
}

twins!(Choice <=> crate::optimise::Choice { level, policy });
twins!(Round <=> crate::optimise::Round { round, profile, total_fen, moved });
twins!(Search <=> crate::optimise::Search { ending, rounds });
twins!(BankChoice <=> crate::optimise::BankChoice { id, opening_fen, policy, cost, cost_fen });
twins!(ProfileReport <=> crate::optimise::ProfileReport { banks, opening_total_fen, cost_total_fen, delay_ms_mean, settled_share });
twins!(DesignReport <=> crate::optimise::DesignReport { design, equilibrium, search, planner, planner_search, price_of_anarchy, enumeration, evaluations, runs, priced_runs });
twins!(EnumerationReport <=> crate::optimise::EnumerationReport { profiles, equilibria, optimum });
twins!(OptimiseReport <=> crate::optimise::OptimiseReport { schema, scenario, seeds, days, levels, policies, designs });

impl Save for crate::optimise::Ending {
    type Saved = Ending;
    fn save(&self) -> Ending {
        match *self {
            crate::optimise::Ending::Converged => Ending::Converged,
            crate::optimise::Ending::Cycle { from_round } => Ending::Cycle { from_round },
            crate::optimise::Ending::RoundLimit => Ending::RoundLimit,
        }
    }
    fn load(saved: Ending) -> Self {
        match saved {
            Ending::Converged => crate::optimise::Ending::Converged,
            Ending::Cycle { from_round } => crate::optimise::Ending::Cycle { from_round },
            Ending::RoundLimit => crate::optimise::Ending::RoundLimit,
        }
    }
}
