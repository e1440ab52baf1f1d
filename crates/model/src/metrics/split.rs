//! The time of settled payments split at their submission: customer order
//! → submission (bank delay), submission → settlement (system delay).

/// One flow's settled payments, their time split at submission: customer
/// order → submission (bank delay), submission → settlement (system delay).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SplitDelay {
    pub settled_value_fen: i128,
    /// Σ amount × delay, fen·ms.
    pub bank_weighted_fen_ms: i128,
    pub system_weighted_fen_ms: i128,
    pub bank_delay_ms_max: u32,
    pub system_delay_ms_max: u32,
    /// Payments its bank held before submitting (all of them settled or not).
    pub held: u64,
}

impl SplitDelay {
    /// Value-weighted mean bank delay and system delay, ms.
    pub fn means_ms(&self) -> (f64, f64) {
        if self.settled_value_fen == 0 {
            return (0.0, 0.0);
        }
        let v = self.settled_value_fen as f64;
        (
            self.bank_weighted_fen_ms as f64 / v,
            self.system_weighted_fen_ms as f64 / v,
        )
    }

    /// The flows' splits added together.
    pub fn total(splits: &[SplitDelay]) -> SplitDelay {
        let mut sum = SplitDelay::default();
        for split in splits {
            sum.add(split);
        }
        sum
    }

    pub fn add(&mut self, other: &SplitDelay) {
        self.settled_value_fen += other.settled_value_fen;
        self.bank_weighted_fen_ms += other.bank_weighted_fen_ms;
        self.system_weighted_fen_ms += other.system_weighted_fen_ms;
        self.bank_delay_ms_max = self.bank_delay_ms_max.max(other.bank_delay_ms_max);
        self.system_delay_ms_max = self.system_delay_ms_max.max(other.system_delay_ms_max);
        self.held += other.held;
    }

    /// One settled payment of `amount_fen`: ordered, submitted, settled.
    pub fn record(&mut self, amount_fen: i64, bank_ms: u32, system_ms: u32) {
        let amount = i128::from(amount_fen);
        self.settled_value_fen += amount;
        self.bank_weighted_fen_ms += amount * i128::from(bank_ms);
        self.system_weighted_fen_ms += amount * i128::from(system_ms);
        self.bank_delay_ms_max = self.bank_delay_ms_max.max(bank_ms);
        self.system_delay_ms_max = self.system_delay_ms_max.max(system_ms);
    }
}
