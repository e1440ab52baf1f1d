//! Amounts of money written by a person (flags, configs): one parser, with
//! an explicit unit. The ledger itself only ever sees whole fen (`i64`).
use crate::ParseError;

/// Fen per unit: `fen`, `yuan`, `万` (10⁴ yuan), `亿` (10⁸ yuan).
const UNITS: [(&str, f64); 4] = [("fen", 1.0), ("yuan", 100.0), ("万", 1e6), ("亿", 1e10)];

/// Parses an amount with its unit — `100000fen`, `5e7yuan`, `2.5亿`, `300万`
/// — into whole fen (rounded to the nearest fen; fen themselves must be
/// whole). Refuses negatives, a missing unit, and amounts beyond i64.
pub fn parse_amount_fen(text: &str) -> Result<i64, ParseError> {
    let text = text.trim();
    let Some((unit, scale)) = UNITS.iter().find(|(unit, _)| text.ends_with(unit)) else {
        return Err(format!(
            "`{text}` needs a unit: fen, yuan, 万 or 亿 (e.g. 5e7yuan, 100000fen)"
        )
        .into());
    };
    let number = &text[..text.len() - unit.len()];
    let value: f64 = number
        .parse()
        .map_err(|_| format!("`{text}`: `{number}` is not a number"))?;
    if *unit == "fen" && value.fract() != 0.0 {
        return Err(format!("`{text}`: fen are whole").into());
    }
    fen_of(value * scale).ok_or_else(|| {
        ParseError(format!(
            "`{text}` is not an amount ≥ 0 that fits in i64 fen"
        ))
    })
}

/// What a day of accepted payments may still add up to, per sender. The
/// ledger's sums (balances, queued values, nets) stay within `i64` as long
/// as Σ openings + Σ accepted amounts ≤ `i64::MAX` — the bound `replay`
/// checks on a whole file. A service takes payments one at a time from
/// banks it cannot trust, so the headroom is split evenly: each sender may
/// have at most (`i64::MAX` − Σ openings) / participants accepted in a day
/// (about 2 × 10¹⁵ yuan for 45 banks), and no one bank can use up the
/// others' share.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AmountBudget {
    share_fen: i64,
    used_fen: Vec<i64>,
}

impl AmountBudget {
    /// The budget of participants opening with `openings_fen`; `None` when
    /// the openings alone overflow or are negative.
    pub fn new(openings_fen: &[i64]) -> Option<AmountBudget> {
        let mut total: i64 = 0;
        for &o in openings_fen {
            if o < 0 {
                return None;
            }
            total = total.checked_add(o)?;
        }
        let participants = i64::try_from(openings_fen.len().max(1)).ok()?;
        Some(AmountBudget {
            share_fen: (i64::MAX - total) / participants,
            used_fen: vec![0; openings_fen.len()],
        })
    }

    /// Whether `sender` may still have `amount_fen` accepted today.
    #[inline]
    pub fn fits(&self, sender: u32, amount_fen: i64) -> bool {
        self.used_fen
            .get(sender as usize)
            .is_some_and(|&used| amount_fen > 0 && amount_fen <= self.share_fen - used)
    }

    /// `sender` had `amount_fen` accepted; false (and nothing taken) when
    /// it does not fit.
    #[inline]
    pub fn take(&mut self, sender: u32, amount_fen: i64) -> bool {
        if !self.fits(sender, amount_fen) {
            return false;
        }
        self.used_fen[sender as usize] += amount_fen;
        true
    }

    /// Each sender's share of the day, fen.
    pub fn share_fen(&self) -> i64 {
        self.share_fen
    }
}

/// Yuan (as written in configs) to whole fen, rounded; `None` when negative,
/// not finite or beyond i64.
pub fn yuan_to_fen(yuan: f64) -> Option<i64> {
    fen_of(yuan * 100.0)
}

fn fen_of(fen: f64) -> Option<i64> {
    let fen = fen.round();
    // 9.2e18 is just below i64::MAX; the cast is exact for such integers.
    (fen.is_finite() && (0.0..9.2e18).contains(&fen)).then_some(fen as i64)
}

/// One night's interest on `borrowed_fen` at `rate_bp` a year, actual/360,
/// rounded half up.
pub fn interest_fen(borrowed_fen: i64, rate_bp: u32) -> i64 {
    let numerator = i128::from(borrowed_fen) * i128::from(rate_bp);
    let denominator: i128 = 10_000 * 360;
    // Below i64::MAX: rate_bp < 2^32 and the quotient divides by 3.6e6.
    ((numerator + denominator / 2) / denominator) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_budget_keeps_every_sum_within_i64() {
        let mut budget = AmountBudget::new(&[100, 0, 0]).expect("fits");
        let share = (i64::MAX - 100) / 3;
        assert_eq!(budget.share_fen(), share);
        assert!(!budget.fits(0, i64::MAX));
        assert!(!budget.fits(0, 0) && !budget.fits(0, -5));
        assert!(!budget.fits(3, 1), "no such sender");
        assert!(budget.take(0, share - 1));
        assert!(!budget.take(0, 2), "past its share");
        assert!(budget.take(0, 1));
        // The others keep theirs: three full shares still fit in i64.
        assert!(budget.take(1, share) && budget.take(2, share));
        assert!(100i64.checked_add(3 * share).is_some());
        assert!(AmountBudget::new(&[i64::MAX, 1]).is_none());
        assert!(AmountBudget::new(&[-1]).is_none());
    }

    #[test]
    fn parses_amounts_with_their_unit() {
        assert_eq!(parse_amount_fen("100000fen"), Ok(100_000));
        assert_eq!(parse_amount_fen("5e7yuan"), Ok(5_000_000_000));
        assert_eq!(parse_amount_fen("1.25yuan"), Ok(125));
        assert_eq!(parse_amount_fen("2.5亿"), Ok(25_000_000_000));
        assert_eq!(parse_amount_fen("300万"), Ok(300_000_000));
        for bad in [
            "5e7", "1.5fen", "-1yuan", "lotsyuan", "1e30yuan", "yuan", "",
        ] {
            assert!(parse_amount_fen(bad).is_err(), "{bad}");
        }
    }
}
