//! Human-readable numbers for terminals and reports. Integer arithmetic only.

/// `1234567` → `1,234,567`.
pub fn grouped(value: i128) -> String {
    let digits = value.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if value < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Fen as yuan with two decimals: `123456` → `1,234.56`.
pub fn yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let abs = i128::from(fen).abs();
    format!("{sign}{}.{:02}", grouped(abs / 100), abs % 100)
}

/// A duration in ms, in the largest unit that keeps it readable.
pub fn millis(ms: u64) -> String {
    match ms {
        0..1_000 => format!("{ms} ms"),
        1_000..60_000 => format!("{}.{:03} s", ms / 1000, ms % 1000),
        60_000..3_600_000 => format!("{}m{:02}s", ms / 60_000, ms / 1000 % 60),
        _ => format!("{}h{:02}m", ms / 3_600_000, ms / 60_000 % 60),
    }
}

/// A signed duration given in hours, in the unit that fits it: `36 s`,
/// `12.5 min`, `1.88 h`, `−0.42 h`, `0` (three significant digits under an
/// hour; hours to two decimals). A minus sign, never "−0".
pub fn duration_h(hours: f64) -> String {
    let ms = hours.abs() * 3_600_000.0;
    let text = if ms < 0.5 {
        return "0".into();
    } else if ms < 1_000.0 {
        format!("{ms:.0} ms")
    } else if ms < 60_000.0 {
        format!("{} s", significant(ms / 1_000.0))
    } else if ms < 3_600_000.0 {
        format!("{} min", significant(ms / 60_000.0))
    } else {
        format!("{:.2} h", hours.abs())
    };
    if hours < 0.0 {
        format!("−{text}")
    } else {
        text
    }
}

/// Three significant digits, trailing zeros dropped: 36, 12.5, 1.23.
fn significant(value: f64) -> String {
    let decimals = if value >= 100.0 {
        0
    } else if value >= 10.0 {
        1
    } else {
        2
    };
    let text = format!("{value:.decimals$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

/// An amount in fen for a chart tick or a headline, in yuan: `2.5 bn`,
/// `300 M`, `15,000`, trimmed to three significant digits. (Latin units:
/// 亿 and 万 need a CJK font that a reader's browser may lack.)
pub fn money_short(fen: f64) -> String {
    let yuan = fen / 100.0;
    let (value, unit) = if yuan.abs() >= 1e9 {
        (yuan / 1e9, " bn")
    } else if yuan.abs() >= 1e6 {
        (yuan / 1e6, " M")
    } else if yuan.abs() >= 1e4 {
        (yuan / 1e3, " k")
    } else {
        (yuan, "")
    };
    if value == 0.0 {
        return "0".into();
    }
    let decimals = if value.abs() >= 100.0 {
        0
    } else if value.abs() >= 10.0 {
        1
    } else {
        2
    };
    let text = format!("{value:.decimals$}");
    let text = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    };
    format!("{text}{unit}")
}

/// A rate of payments per second, in the unit that fits its size:
/// `850 payments/s`, `12.3 k payments/s`, `4.56 M payments/s`.
pub fn per_second(rate: f64) -> String {
    if !rate.is_finite() || rate < 0.0 {
        return "— payments/s".into();
    }
    if rate >= 1e6 {
        format!("{:.2} M payments/s", rate / 1e6)
    } else if rate >= 1e3 {
        format!("{:.1} k payments/s", rate / 1e3)
    } else {
        format!("{rate:.0} payments/s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_take_the_unit_that_fits() {
        assert_eq!(duration_h(0.01), "36 s");
        assert_eq!(duration_h(-0.01), "−36 s");
        assert_eq!(duration_h(0.0), "0");
        assert_eq!(duration_h(-1e-12), "0");
        assert_eq!(duration_h(12.5 / 60.0), "12.5 min");
        assert_eq!(duration_h(1.876), "1.88 h");
        assert_eq!(duration_h(-48.0), "−48.00 h");
        assert_eq!(duration_h(0.1 / 3_600_000.0 * 4000.0), "400 ms");
    }

    #[test]
    fn formats_numbers() {
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1000), "1,000");
        assert_eq!(grouped(-1234567), "-1,234,567");
        assert_eq!(yuan(123456), "1,234.56");
        assert_eq!(yuan(-5), "-0.05");
        assert_eq!(millis(1500), "1.500 s");
        assert_eq!(millis(3_723_000), "1h02m");
        assert_eq!(money_short(2.5e11), "2.5 bn");
        assert_eq!(money_short(3e10), "300 M");
        assert_eq!(money_short(2_500_000.0), "25 k");
        assert_eq!(money_short(150_000.0), "1500");
        assert_eq!(money_short(0.0), "0");
        assert_eq!(per_second(4_990.0), "5.0 k payments/s");
        assert_eq!(per_second(850.0), "850 payments/s");
        assert_eq!(per_second(4.56e6), "4.56 M payments/s");
    }
}
