//! A fitted scenario as the config `run` takes: one TOML file, its
//! participants inline (docs/config.md), each fitted value commented.

use std::fmt::Write;

use super::{Crossing, Fitted, Instrument};
use crate::config::{MAX_AMOUNT_YUAN, Scenario};

/// Numbers as TOML floats with six significant digits.
fn float(v: f64) -> String {
    if !v.is_finite() {
        return "0.0".into();
    }
    if v == 0.0 {
        return "0.0".into();
    }
    let magnitude = v.abs().log10().floor();
    if !(-3.0..9.0).contains(&magnitude) {
        return format!("{v:.5e}");
    }
    let decimals = (5.0 - magnitude).max(1.0) as usize;
    let text = format!("{v:.decimals$}");
    let text = text.trim_end_matches('0');
    if text.ends_with('.') {
        format!("{text}0")
    } else {
        text.to_string()
    }
}

/// A TOML string, quoted and escaped.
fn quoted(text: &str) -> String {
    ::toml::Value::String(text.to_string()).to_string()
}

/// The scenario's text: `name`; the liquidity policy's `shares` (opening,
/// credit), from [`liquidity_shares`].
pub fn scenario_toml(fitted: &Fitted, name: &str, shares: (f64, f64)) -> String {
    let mut out = String::new();
    header(&mut out, fitted, name, shares);
    participants(&mut out, fitted);
    for instrument in &fitted.instruments {
        instrument_toml(&mut out, instrument, &fitted.banks);
    }
    let names: Vec<String> = fitted.instruments.iter().map(|i| quoted(&i.name)).collect();
    let _ = write!(
        out,
        "\n# Settled gross, as replay's default; edit the channels to compare designs.\n[[channel]]\nname = \"rtgs\"\nstrategy = \"rtgs\"\ninstruments = [{}]\n",
        names.join(", ")
    );
    out
}

fn header(out: &mut String, fitted: &Fitted, name: &str, shares: (f64, f64)) {
    let payments: u64 = fitted.instruments.iter().map(|i| i.payments).sum();
    let _ = write!(
        out,
        "# Fitted by `clearsim fit` to {payments} payments over {} business day(s):\n\
         # every value below is estimated from them (docs/model.md, \"A scenario\n\
         # fitted to data\"); fit.html shows each law against the data.\n\n\
         name = {}\nseed = 1\ndays = 1\nday_end = \"{}\"\n\n\
         # Openings and credit limits as shares of each bank's expected daily\n\
         # outflow: the observed totals over the fitted outflows.\n\
         [liquidity]\nopening_share = {}\ncredit_share = {}\n",
        fitted.days,
        quoted(name),
        fitted.day_end,
        float(shares.0),
        float(shares.1),
    );
}

fn participants(out: &mut String, fitted: &Fitted) {
    let _ = writeln!(out, "\n[participants]");
    let Some(exponent) = fitted.within_category_exponent else {
        let _ = writeln!(
            out,
            "# Each bank a category of its own, its share of the city's payments (sent and received).\nwithin_category_exponent = 1.0"
        );
        for (k, bank) in fitted.banks.iter().enumerate() {
            // A category id has room for "-<k>" after it: 56 bytes.
            let id = if bank.id.len() <= 56 {
                bank.id.clone()
            } else {
                format!("bank-{}", k + 1)
            };
            let _ = write!(
                out,
                "\n[[participants.category]]\nid = {}\nname = {}\ncount = 1\ndeposit_share = {}\nmembers = [{}]\n",
                quoted(&id),
                quoted(&bank.name),
                float(bank.size),
                quoted(&bank.id)
            );
        }
        return;
    };
    let _ = writeln!(
        out,
        "# The file's categories, each its share of the city's payments, split among\n# its members (largest first) ∝ 1/k^{}: the exponent fitted to their payments.\nwithin_category_exponent = {}",
        float(exponent),
        float(exponent)
    );
    for (g, (category, members)) in categories(fitted).into_iter().enumerate() {
        let share: f64 = members.iter().map(|&k| fitted.banks[k].size).sum();
        let ids: Vec<String> = members
            .iter()
            .map(|&k| quoted(&fitted.banks[k].id))
            .collect();
        let id = if category.len() <= 56 && crate::input::is_token(category.as_bytes()) {
            category.to_string()
        } else {
            format!("category-{}", g + 1)
        };
        let _ = write!(
            out,
            "\n[[participants.category]]\nid = {}\nname = {}\ncount = {}\ndeposit_share = {}\nmembers = [{}]\n",
            quoted(&id),
            quoted(category),
            members.len(),
            float(share),
            ids.join(", ")
        );
    }
}

/// The banks by category, in order of first appearance, largest first.
fn categories(fitted: &Fitted) -> Vec<(&str, Vec<usize>)> {
    let mut groups: Vec<(&str, Vec<usize>)> = Vec::new();
    for (k, bank) in fitted.banks.iter().enumerate() {
        match groups.iter_mut().find(|(c, _)| *c == bank.category) {
            Some((_, members)) => members.push(k),
            None => groups.push((&bank.category, vec![k])),
        }
    }
    for (_, members) in &mut groups {
        members.sort_by(|&a, &b| fitted.banks[b].size.total_cmp(&fitted.banks[a].size));
    }
    groups
}

fn instrument_toml(out: &mut String, instrument: &Instrument, banks: &[super::Bank]) {
    let law = &instrument.law;
    let yuan = |fen: f64| (fen / 100.0).clamp(0.01, MAX_AMOUNT_YUAN);
    let tail = if law.tail_share > 0.0 {
        let min = yuan(law.tail_min);
        // The config's bound truncates the law's tail and caps every amount
        // after its pair factor too: it is the larger of the largest draw
        // (without its factor) and the largest amount paid; an open tail
        // has none.
        let largest = instrument.observed_fen.last().copied().unwrap_or(0.0);
        let max = if law.tail_max.is_finite() {
            let max = yuan(law.tail_max.max(largest)).max(min * 1.001);
            format!(", tail_max_yuan = {}", float(max.min(MAX_AMOUNT_YUAN)))
        } else {
            String::new()
        };
        format!(
            ", tail_share = {}, tail_alpha = {}, tail_min_yuan = {}{max}",
            float(law.tail_share),
            float(law.alpha),
            float(min),
        )
    } else {
        String::new()
    };
    let crossing = match instrument.crossing {
        None => String::new(),
        Some(Crossing::Out) => "cross_city = \"out\"\n".into(),
        Some(Crossing::In) => "cross_city = \"in\"\n".into(),
    };
    let _ = write!(
        out,
        "\n[[instrument]]\nname = {}\n# {} payments observed; KS distance of the amount law {:.4}.\ndaily_count = {}\npriority = {}\n{}{crossing}amount = {{ median_yuan = {}, sigma = {}{tail}, size_elasticity = {} }}\nprofile = [\n",
        quoted(&instrument.name),
        instrument.payments,
        instrument.ks_law,
        float(instrument.daily_count),
        instrument.priority,
        counterparties(instrument),
        float(yuan(law.median())),
        float(law.sigma),
        float(instrument.size_elasticity),
    );
    for &(from, to, rate) in &instrument.profile {
        let _ = writeln!(
            out,
            "  {{ from = \"{}\", to = \"{}\", weight = {} }},",
            clearsim_core::time::SimTime(from),
            clearsim_core::time::SimTime(to),
            float(rate)
        );
    }
    out.push_str("]\n");
    if !instrument.pairs.is_empty() {
        pairs_toml(out, instrument, banks);
    }
}

/// The gravity exponent, or (observed pairs) a comment saying who pays
/// whom comes from `pairs`.
fn counterparties(instrument: &Instrument) -> String {
    if instrument.pairs.is_empty() {
        return format!("concentration = {}\n", float(instrument.concentration));
    }
    format!(
        "# Who pays whom: the {} observed pairs below (payments per day), not gravity\n# (its exponent would be {}).\n",
        instrument.pairs.len(),
        float(instrument.concentration)
    )
}

fn pairs_toml(out: &mut String, instrument: &Instrument, banks: &[super::Bank]) {
    out.push_str("pairs = [\n");
    for p in &instrument.pairs {
        let _ = writeln!(
            out,
            "  {{ from = {}, to = {}, weight = {} }},",
            quoted(&banks[p.sender as usize].id),
            quoted(&banks[p.receiver as usize].id),
            float(p.weight)
        );
    }
    out.push_str("]\n");
}

/// The liquidity policy's shares that give the city's banks, in all, the
/// openings and credit limits observed (per day): their totals over the
/// fitted scenario's expected daily outflow (the policy's base).
pub fn liquidity_shares(fitted: &Fitted, scenario: &Scenario) -> (f64, f64) {
    let city = crate::workload::city::build_city(scenario);
    let outflow: f64 = crate::workload::city::expected_daily_outflow_fen(scenario, &city.size)
        [..city.banks]
        .iter()
        .sum();
    let opening: f64 = fitted.banks.iter().map(|b| b.opening_fen as f64).sum();
    let credit: f64 = fitted.banks.iter().map(|b| b.credit_limit_fen as f64).sum();
    if outflow > 0.0 {
        (opening / outflow, credit / outflow)
    } else {
        (0.0, 0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::float;

    #[test]
    fn floats_are_toml_floats() {
        assert_eq!(float(1.0), "1.0");
        assert_eq!(float(0.123_456_789), "0.123457");
        assert_eq!(float(123_456.7), "123456.7");
        assert_eq!(float(2.5e-7), "2.50000e-7");
        assert_eq!(float(0.0), "0.0");
    }
}
