//! Simulated time: milliseconds since midnight of the business day.
//!
//! `SimTime` is a newtype so that a time can never be mixed up with an amount
//! or an index. Text forms follow the contract: `HH:MM:SS` or `HH:MM:SS.mmm`.

use std::fmt;

/// Milliseconds in one calendar day; every valid `SimTime` is below it.
pub const DAY_MS: u32 = 86_400_000;

/// A point of the business day, in milliseconds since midnight.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct SimTime(pub u32);

impl SimTime {
    pub const MIDNIGHT: SimTime = SimTime(0);
    /// Default end of the business day, 17:00:00.
    pub const DEFAULT_DAY_END: SimTime = SimTime(17 * 3_600_000);

    pub fn ms(self) -> u32 {
        self.0
    }

    /// Parses `HH:MM:SS` or `HH:MM:SS.mmm` (24-hour clock, two digits each,
    /// exactly three digits of milliseconds). Returns `None` for anything else.
    pub fn parse(text: &[u8]) -> Option<SimTime> {
        let (hms, millis) = match text.len() {
            8 => (text, 0),
            12 if text[8] == b'.' => (&text[..8], digits(&text[9..12])?),
            _ => return None,
        };
        if hms[2] != b':' || hms[5] != b':' {
            return None;
        }
        let hours = digits(&hms[0..2])?;
        let minutes = digits(&hms[3..5])?;
        let seconds = digits(&hms[6..8])?;
        if hours > 23 || minutes > 59 || seconds > 59 {
            return None;
        }
        Some(SimTime(
            ((hours * 60 + minutes) * 60 + seconds) * 1000 + millis,
        ))
    }

    /// Writes `HH:MM:SS.mmm` into `out` (always 12 bytes).
    pub fn write_text(self, out: &mut Vec<u8>) {
        let ms = self.0;
        let hours = ms / 3_600_000;
        let minutes = ms / 60_000 % 60;
        let seconds = ms / 1000 % 60;
        let millis = ms % 1000;
        let two = |v: u32| [b'0' + (v / 10) as u8, b'0' + (v % 10) as u8];
        out.extend_from_slice(&two(hours));
        out.push(b':');
        out.extend_from_slice(&two(minutes));
        out.push(b':');
        out.extend_from_slice(&two(seconds));
        out.push(b'.');
        out.extend_from_slice(&[
            b'0' + (millis / 100) as u8,
            b'0' + (millis / 10 % 10) as u8,
            b'0' + (millis % 10) as u8,
        ]);
    }
}

impl fmt::Display for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = Vec::with_capacity(12);
        self.write_text(&mut buf);
        f.write_str(std::str::from_utf8(&buf).map_err(|_| fmt::Error)?)
    }
}

/// Parses a clock time written by a person, in a config or on the command
/// line: `HH:MM`, `HH:MM:SS` or `HH:MM:SS.mmm`. The one time parser of every
/// flag and config field (replay files keep the contract's stricter form,
/// [`SimTime::parse`]).
pub fn parse_clock(text: &str) -> Option<SimTime> {
    let text = text.trim();
    if text.len() == 5 {
        let mut full = [0u8; 8];
        full[..5].copy_from_slice(text.as_bytes());
        full[5..].copy_from_slice(b":00");
        return SimTime::parse(&full);
    }
    SimTime::parse(text.as_bytes())
}

/// Parses a run of ASCII digits (no sign) into a `u32`; `None` if any byte is
/// not a digit or the slice is empty. Only used for short fixed-width fields.
fn digits(text: &[u8]) -> Option<u32> {
    if text.is_empty() {
        return None;
    }
    text.iter().try_fold(0u32, |acc, &b| {
        b.is_ascii_digit().then(|| acc * 10 + u32::from(b - b'0'))
    })
}

/// Parses a duration such as `1500ms`, `90s`, `5m` or `1h` into milliseconds.
/// The value must be a positive integer and fit within one day.
pub fn parse_duration_ms(text: &str) -> Option<u32> {
    let split = text.find(|c: char| !c.is_ascii_digit())?;
    let (number, unit) = text.split_at(split);
    let scale: u64 = match unit {
        "ms" => 1,
        "s" => 1000,
        "m" | "min" => 60_000,
        "h" => 3_600_000,
        _ => return None,
    };
    if number.is_empty() || number.len() > 9 {
        return None;
    }
    let value: u64 = number.parse().ok()?;
    let ms = value.checked_mul(scale)?;
    (ms > 0 && ms <= u64::from(DAY_MS)).then_some(ms as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_formats_times() {
        assert_eq!(SimTime::parse(b"00:00:00"), Some(SimTime(0)));
        assert_eq!(SimTime::parse(b"09:30:15.250"), Some(SimTime(34_215_250)));
        assert_eq!(SimTime::parse(b"23:59:59.999"), Some(SimTime(DAY_MS - 1)));
        assert_eq!(SimTime(34_215_250).to_string(), "09:30:15.250");
        for bad in [
            &b"24:00:00"[..],
            b"9:30:15",
            b"09:60:00",
            b"09:30:60",
            b"09:30:15.25",
            b"09:30:15,250",
            b"09-30-15",
            b"",
            b"+9:30:15",
        ] {
            assert_eq!(
                SimTime::parse(bad),
                None,
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn parses_clock_times_in_every_written_form() {
        assert_eq!(parse_clock("11:00"), Some(SimTime(39_600_000)));
        assert_eq!(parse_clock("11:00:30"), Some(SimTime(39_630_000)));
        assert_eq!(parse_clock("11:00:30.250"), Some(SimTime(39_630_250)));
        for bad in [
            "11",
            "11:0",
            "1100",
            "25:00",
            "11:00:",
            "noon",
            "11:00:30.2",
        ] {
            assert_eq!(parse_clock(bad), None, "{bad}");
        }
    }

    #[test]
    fn parses_durations() {
        assert_eq!(parse_duration_ms("1500ms"), Some(1500));
        assert_eq!(parse_duration_ms("90s"), Some(90_000));
        assert_eq!(parse_duration_ms("5m"), Some(300_000));
        assert_eq!(parse_duration_ms("1h"), Some(3_600_000));
        for bad in ["0s", "5", "m", "-5m", "5 m", "5d", "99999999999h", "25h"] {
            assert_eq!(parse_duration_ms(bad), None, "{bad}");
        }
    }
}
