//! Between two business days, at the central bank.
//!
//! At the day end intraday credit is repaid out of the closing balance. A
//! bank that closes below zero cannot repay it and borrows the shortfall
//! overnight at the standing facility, at the scenario's rate (actual/360:
//! one night costs `borrowed × rate / 360`). The next morning it repays the
//! facility, and the interbank market or the central bank's operations
//! bring every balance to the liquidity policy's opening for the new day.
//! Both flows are recorded, so the audit of Σ balances closes across days:
//! Σ opening(d+1) = Σ closing(d) + restored in − restored out.

/// What happened overnight after one day, over all participants (fen).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Overnight {
    /// Σ closing balances of the day.
    pub closing_total_fen: i64,
    /// Borrowed at the standing facility by banks that closed below zero.
    pub borrowed_fen: i64,
    /// Its interest for the night, rounded half up to the fen.
    pub cost_fen: i64,
    /// Brought into the accounts, and taken out of them, to reach the next
    /// day's policy openings.
    pub restored_in_fen: i64,
    pub restored_out_fen: i64,
}

pub use clearsim_core::money::interest_fen;

/// Per participant: what it borrows overnight (max(0, −closing)) and its
/// cost; and the day's totals, with the flows that open the next day at
/// `next_opening_fen`. Only the city's banks (participants `0..banks`)
/// borrow: the banks outside the city settle their net with the city
/// through the national market, which the restoring flows record.
pub fn settle_night(
    closing_fen: &[i64],
    next_opening_fen: &[i64],
    rate_bp: u32,
    banks: usize,
    borrowed_fen: &mut [i64],
    cost_fen: &mut [i64],
) -> Option<Overnight> {
    clearsim_core::invariant_eq!(closing_fen.len(), next_opening_fen.len());
    let mut night = Overnight::default();
    for (i, (&closing, &next)) in closing_fen.iter().zip(next_opening_fen).enumerate() {
        let borrowed = if i < banks {
            closing.checked_neg()?.max(0)
        } else {
            0
        };
        let cost = interest_fen(borrowed, rate_bp);
        borrowed_fen[i] = borrowed_fen[i].checked_add(borrowed)?;
        cost_fen[i] = cost_fen[i].checked_add(cost)?;
        night.closing_total_fen = night.closing_total_fen.checked_add(closing)?;
        night.borrowed_fen = night.borrowed_fen.checked_add(borrowed)?;
        night.cost_fen = night.cost_fen.checked_add(cost)?;
        let flow = next.checked_sub(closing)?;
        if flow > 0 {
            night.restored_in_fen = night.restored_in_fen.checked_add(flow)?;
        } else {
            night.restored_out_fen = night.restored_out_fen.checked_add(-flow)?;
        }
    }
    let next_total = next_opening_fen
        .iter()
        .try_fold(0i64, |sum, &x| sum.checked_add(x))?;
    // The audit: the flows account for every fen between the two days.
    let audited = night
        .closing_total_fen
        .checked_add(night.restored_in_fen)?
        .checked_sub(night.restored_out_fen)?;
    clearsim_core::invariant_eq!(audited, next_total);
    (audited == next_total).then_some(night)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_night_by_hand() {
        // 3.60 % a year on 1,000,000 fen for one night: 100 fen.
        assert_eq!(interest_fen(1_000_000, 360), 100);
        // Half a fen rounds up.
        assert_eq!(interest_fen(5_000, 360), 1);
        assert_eq!(interest_fen(4_999, 360), 0);
        let (mut borrowed, mut cost) = (vec![0; 3], vec![0; 3]);
        let night = settle_night(
            &[-1_000_000, 500, 2_000],
            &[100, 100, 100],
            360,
            3,
            &mut borrowed,
            &mut cost,
        )
        .expect("fits");
        assert_eq!(borrowed, vec![1_000_000, 0, 0]);
        assert_eq!(cost, vec![100, 0, 0]);
        assert_eq!(
            night,
            Overnight {
                closing_total_fen: -997_500,
                borrowed_fen: 1_000_000,
                cost_fen: 100,
                restored_in_fen: 1_000_100,
                restored_out_fen: 400 + 1_900,
            }
        );
    }
}
