//! What a run adds up over its days, and the headroom that keeps every
//! sum it takes within i64.

use clearsim_core::engine::{EngineError, EventCounts};

use super::DayReport;
use crate::bank::costs::{BankDay, CostBreakdown};

pub(super) struct Totals {
    pub days: Vec<DayReport>,
    pub closing_fen: Vec<i64>,
    pub payments: u64,
    pub moved_fen: i128,
    pub liquidity_used_fen: Vec<i64>,
    pub overnight_borrowed_fen: Vec<i64>,
    pub overnight_cost_fen: Vec<i64>,
    pub events: Vec<EventCounts>,
    pub injected_fen: i64,
    pub withdrawn_fen: i64,
    pub day1_lower_fen: Vec<i64>,
    pub day1_need_fen: Vec<i64>,
    pub costs: Vec<Vec<CostBreakdown>>,
    pub bank_days: Vec<Vec<BankDay>>,
    /// i64::MAX less what could still reach any balance or sum: every
    /// day's opening and funds, and twice every amount (a cheque may come
    /// back). While it stays ≥ 0 no figure of the run can overflow.
    headroom_fen: i64,
}

impl Totals {
    pub fn new(participants: usize, channels: usize) -> Totals {
        Totals {
            days: Vec::new(),
            closing_fen: Vec::new(),
            payments: 0,
            moved_fen: 0,
            liquidity_used_fen: vec![0; participants],
            overnight_borrowed_fen: vec![0; participants],
            overnight_cost_fen: vec![0; participants],
            events: vec![EventCounts::default(); channels],
            injected_fen: 0,
            withdrawn_fen: 0,
            day1_lower_fen: Vec::new(),
            day1_need_fen: Vec::new(),
            costs: Vec::new(),
            bank_days: Vec::new(),
            headroom_fen: i64::MAX,
        }
    }

    /// Takes `fen` of the headroom: refused (the amounts cannot be settled
    /// exactly) once it would run out.
    pub fn take_headroom(&mut self, fen: i64) -> Result<(), EngineError> {
        self.headroom_fen = self
            .headroom_fen
            .checked_sub(fen)
            .filter(|h| *h >= 0)
            .ok_or(EngineError::AmountsOverflow)?;
        Ok(())
    }
}
