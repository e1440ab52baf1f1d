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

use clearsim_core::time::SimTime;

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

    /// One bank's measured day, priced; its night at the standing
    /// facility at `overnight_rate_bp` (what `settle_night` charges it).
    pub fn price_day(&self, day: &BankDay, overnight_rate_bp: u32) -> CostBreakdown {
        let overdraft = |balance_fen: i64| i128::from(balance_fen.min(0)).unsigned_abs() as i128;
        let mut priced_overdraft_fen: i128 = day.priced_fen.iter().map(|&b| overdraft(b)).sum();
        if matches!(self.credit, Credit::Priced { .. }) {
            // The day end is a pricing time too.
            priced_overdraft_fen += overdraft(day.closing_fen);
        }
        let bases = CostBases {
            opening_fen: day.opening_fen,
            priced_overdraft_fen,
            peak_overdraft_fen: day.min_balance_fen.min(0).saturating_neg(),
            delay_fen_ms: day.delay_fen_ms.clone(),
            unsettled_fen: day.unsettled_fen,
        };
        let borrowed_fen = day.closing_fen.checked_neg().map_or(i64::MAX, |b| b.max(0));
        let night_fen = clearsim_core::money::interest_fen(borrowed_fen, overnight_rate_bp);
        self.price(&bases, night_fen)
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

/// One bank's day as a run measured it, in integers: enough to price it
/// ([`CostModel::price_day`]), and to price the day the bank would have
/// had on the same path with another opening balance ([`BankDay::shifted`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BankDay {
    pub opening_fen: i64,
    /// The lowest balance at an instant's end (the opening, at most).
    pub min_balance_fen: i64,
    pub closing_fen: i64,
    /// The balance at each pricing time of priced credit inside the day.
    pub priced_fen: Vec<i64>,
    /// Per delay class: Σ amount × (settlement − order) over the bank's
    /// customers' settled payments, fen·ms.
    pub delay_fen_ms: Vec<i128>,
    /// Value the bank's customers ordered that stayed unsettled.
    pub unsettled_fen: i64,
    /// The smallest margin of the day's liquidity checks on the bank
    /// (`Ledger::margins_fen`): negative when one failed.
    pub margin_fen: i64,
}

impl BankDay {
    /// The same day had the bank opened with `shift_fen` more (less, when
    /// negative): every balance moves by the shift, nothing else changes.
    /// Exact only where the run's path would be the same, which the margin
    /// certifies: `None` outside that range (a check would have turned).
    pub fn shifted(&self, shift_fen: i64) -> Option<BankDay> {
        if self.margin_fen < 0 || i128::from(shift_fen) < -i128::from(self.margin_fen) {
            return None;
        }
        let priced_fen: Option<Vec<i64>> = self
            .priced_fen
            .iter()
            .map(|b| b.checked_add(shift_fen))
            .collect();
        Some(BankDay {
            opening_fen: self.opening_fen.checked_add(shift_fen)?,
            min_balance_fen: self.min_balance_fen.checked_add(shift_fen)?,
            closing_fen: self.closing_fen.checked_add(shift_fen)?,
            priced_fen: priced_fen?,
            delay_fen_ms: self.delay_fen_ms.clone(),
            unsettled_fen: self.unsettled_fen,
            // No check at all stays none; otherwise each moved by the shift.
            margin_fen: if self.margin_fen == i64::MAX {
                i64::MAX
            } else {
                self.margin_fen.checked_add(shift_fen)?
            },
        })
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
#[derive(Clone, Copy, Debug, Default, PartialEq)]
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

    #[test]
    fn a_shifted_day_moves_every_balance_within_its_margin() {
        let day = BankDay {
            opening_fen: 500_000,
            min_balance_fen: -200_000,
            closing_fen: -50_000,
            priced_fen: vec![100_000, -120_000],
            delay_fen_ms: vec![7, 9],
            unsettled_fen: 3,
            margin_fen: 300_000,
        };
        // 300,000 less is the edge of the margin; 1 fen more is beyond it.
        let lower = day.shifted(-300_000).expect("within the margin");
        assert_eq!(
            (lower.opening_fen, lower.min_balance_fen, lower.closing_fen),
            (200_000, -500_000, -350_000)
        );
        assert_eq!(lower.priced_fen, vec![-200_000, -420_000]);
        assert_eq!(
            (lower.delay_fen_ms.clone(), lower.unsettled_fen),
            (vec![7, 9], 3)
        );
        assert_eq!(lower.margin_fen, 0);
        assert_eq!(day.shifted(-300_001), None);
        assert_eq!(day.shifted(1_000_000).map(|d| d.closing_fen), Some(950_000));
        let short = BankDay {
            margin_fen: -1,
            ..day.clone()
        };
        assert_eq!(short.shifted(1), None);
        let unchecked = BankDay {
            margin_fen: i64::MAX,
            ..day
        };
        assert_eq!(unchecked.shifted(-10).map(|d| d.margin_fen), Some(i64::MAX));
    }

    #[test]
    fn a_day_prices_its_overdrafts_and_night() {
        let model = CostModel {
            liquidity_bp_per_day: 0.0,
            credit: Credit::Priced {
                fee_bp: 10.0,
                at: vec![SimTime(36_000_000)],
            },
            delay_bp_per_minute: vec![0.0],
            unsettled_bp: 0.0,
        };
        let day = BankDay {
            opening_fen: 0,
            min_balance_fen: -90_000,
            closing_fen: -36_000_000,
            priced_fen: vec![-10_000, 5_000],
            delay_fen_ms: vec![0],
            unsettled_fen: 0,
            margin_fen: 0,
        };
        let cost = model.price_day(&day, 360);
        // Overdrafts 10,000 + 0 + 36,000,000 at 10 bp.
        assert_eq!(cost.credit_fen, 36_010_000.0 * 10e-4);
        // 36,000,000 overnight at 3.6 %/yr: one night of 360 is 3,600 fen.
        assert_eq!(cost.overnight_fen, 3_600.0);
    }
}
