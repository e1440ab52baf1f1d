//! What a day costs each bank (`[costs]` in a scenario): the opportunity
//! cost of its opening liquidity, its intraday credit (priced or
//! collateralised), the delay of its customers' payments by priority, a
//! penalty on what stays unsettled at the day end, and the overnight
//! standing facility.
//!
//! A run measures each component's base exactly, in integers
//! ([`CostBases`]: fen, fen·ms); a rate turns it into a cost once, at the
//! end ([`CostModel::price`]). Costs are valuations, not money moved: they
//! are `f64` fen, summed in a fixed order, so they too are identical on
//! every run and machine.

use serde::{Deserialize, Serialize};

use crate::time::SimTime;

/// One basis point.
const BP: f64 = 1e-4;
const MS_PER_MINUTE: f64 = 60_000.0;

/// How intraday credit is paid for.
#[derive(Clone, Debug, PartialEq)]
pub enum Credit {
    /// Free (the default): the credit limits cost nothing.
    Free,
    /// A fee, in basis points, on the overdraft (−balance, when negative)
    /// at each pricing time; at the day end, on the closing balance.
    Priced { fee_bp: f64, at: Vec<SimTime> },
    /// Collateral covering the day's deepest overdraft (at an instant's
    /// end) after a haircut: posted = overdraft / (1 − haircut), costing
    /// `cost_bp_per_day` of its value.
    Collateral { haircut: f64, cost_bp_per_day: f64 },
}

/// The rates of a scenario's `[costs]`.
#[derive(Clone, Debug, PartialEq)]
pub struct CostModel {
    /// Opportunity cost of the opening balance, bp of it per day.
    pub liquidity_bp_per_day: f64,
    pub credit: Credit,
    /// Delay cost, bp of the amount per minute from order to settlement,
    /// by priority (index = priority; the last rate serves higher ones).
    pub delay_bp_per_minute: Vec<f64>,
    /// Bp of the value a bank's customers ordered that is unsettled at the
    /// day end.
    pub unsettled_bp: f64,
}

impl CostModel {
    /// How many delay classes a run keeps per bank.
    pub fn delay_classes(&self) -> usize {
        self.delay_bp_per_minute.len().max(1)
    }

    /// The delay class of a payment of `priority`.
    #[inline]
    pub fn delay_class(&self, priority: u8) -> usize {
        usize::from(priority).min(self.delay_classes() - 1)
    }

    /// The pricing times of priced credit strictly inside the day.
    pub fn pricing_times(&self, day_end: SimTime) -> Vec<SimTime> {
        match &self.credit {
            Credit::Priced { at, .. } => at.iter().copied().filter(|&t| t < day_end).collect(),
            _ => Vec::new(),
        }
    }

    /// One bank's day, priced.
    pub fn price(&self, bases: &CostBases, overnight_cost_fen: i64) -> CostBreakdown {
        let credit_fen = match &self.credit {
            Credit::Free => 0.0,
            Credit::Priced { fee_bp, .. } => bases.priced_overdraft_fen as f64 * fee_bp * BP,
            Credit::Collateral {
                haircut,
                cost_bp_per_day,
            } => bases.peak_overdraft_fen as f64 / (1.0 - haircut) * cost_bp_per_day * BP,
        };
        let delay_fen = bases
            .delay_fen_ms
            .iter()
            .enumerate()
            .map(|(class, &fen_ms)| {
                let rate = self.delay_bp_per_minute.get(class).copied().unwrap_or(0.0);
                fen_ms as f64 / MS_PER_MINUTE * rate * BP
            })
            .sum();
        CostBreakdown {
            liquidity_fen: bases.opening_fen as f64 * self.liquidity_bp_per_day * BP,
            credit_fen,
            delay_fen,
            unsettled_fen: bases.unsettled_fen as f64 * self.unsettled_bp * BP,
            overnight_fen: overnight_cost_fen as f64,
        }
    }
}

/// One bank's day, measured exactly: what each cost is a rate of.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CostBases {
    pub opening_fen: i64,
    /// Σ over the pricing times (and the day end) of max(0, −balance).
    pub priced_overdraft_fen: i128,
    /// max(0, −the lowest balance at an instant's end).
    pub peak_overdraft_fen: i64,
    /// Per delay class: Σ amount × (settlement − order) over the bank's
    /// customers' settled payments, fen·ms.
    pub delay_fen_ms: Vec<i128>,
    /// Value the bank's customers ordered that stayed unsettled.
    pub unsettled_fen: i64,
}

/// One bank's costs, by component (fen).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CostBreakdown {
    pub liquidity_fen: f64,
    pub credit_fen: f64,
    pub delay_fen: f64,
    pub unsettled_fen: f64,
    pub overnight_fen: f64,
}

impl CostBreakdown {
    pub fn total_fen(&self) -> f64 {
        self.liquidity_fen
            + self.credit_fen
            + self.delay_fen
            + self.unsettled_fen
            + self.overnight_fen
    }

    /// Adds another, component by component.
    pub fn add(&mut self, other: &CostBreakdown) {
        self.liquidity_fen += other.liquidity_fen;
        self.credit_fen += other.credit_fen;
        self.delay_fen += other.delay_fen;
        self.unsettled_fen += other.unsettled_fen;
        self.overnight_fen += other.overnight_fen;
    }

    /// Each component divided by `n` (a mean over days or replications).
    pub fn scaled(&self, factor: f64) -> CostBreakdown {
        CostBreakdown {
            liquidity_fen: self.liquidity_fen * factor,
            credit_fen: self.credit_fen * factor,
            delay_fen: self.delay_fen * factor,
            unsettled_fen: self.unsettled_fen * factor,
            overnight_fen: self.overnight_fen * factor,
        }
    }

    /// The components' names and values, in report order.
    pub fn components(&self) -> [(&'static str, f64); 5] {
        [
            ("liquidity", self.liquidity_fen),
            ("credit", self.credit_fen),
            ("delay", self.delay_fen),
            ("unsettled", self.unsettled_fen),
            ("overnight", self.overnight_fen),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_each_component_from_its_base() {
        let model = CostModel {
            liquidity_bp_per_day: 2.0,
            credit: Credit::Priced {
                fee_bp: 10.0,
                at: vec![SimTime(43_200_000)],
            },
            delay_bp_per_minute: vec![1.0, 5.0],
            unsettled_bp: 100.0,
        };
        let bases = CostBases {
            opening_fen: 1_000_000,
            priced_overdraft_fen: 50_000,
            peak_overdraft_fen: 0,
            // 10,000 fen late 30 minutes at priority 0; 2,000 fen 6 minutes at 1.
            delay_fen_ms: vec![10_000 * 1_800_000, 2_000 * 360_000],
            unsettled_fen: 7_000,
        };
        let cost = model.price(&bases, 12);
        assert_eq!(cost.liquidity_fen, 1_000_000.0 * 2e-4);
        assert_eq!(cost.credit_fen, 50_000.0 * 10e-4);
        let delay = 10_000.0 * 30.0 * 1e-4 + 2_000.0 * 6.0 * 5e-4;
        assert!((cost.delay_fen - delay).abs() < 1e-9, "{}", cost.delay_fen);
        assert_eq!(cost.unsettled_fen, 7_000.0 * 100e-4);
        assert_eq!(cost.overnight_fen, 12.0);
        assert_eq!(model.delay_class(7), 1);
        let collateral = CostModel {
            credit: Credit::Collateral {
                haircut: 0.2,
                cost_bp_per_day: 4.0,
            },
            ..model
        };
        let bases = CostBases {
            peak_overdraft_fen: 80_000,
            ..bases
        };
        // 80,000 / 0.8 = 100,000 of collateral at 4 bp.
        assert!((collateral.price(&bases, 0).credit_fen - 40.0).abs() < 1e-9);
    }
}
