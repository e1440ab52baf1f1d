//! The per-payment outcomes of a run (`run --settlements`): every customer
//! payment of every day, numbered as `generate` numbers them (`P0`, `P1`, …
//! in stream order, each day afresh), so that a generated day replayed
//! through the scenario's channels can be checked against the run payment
//! by payment.

use super::parquet::{self, Value};
use clearsim_core::time::SimTime;
use clearsim_model::csvout::CsvOut;
use clearsim_model::metrics::UNSETTLED;
use clearsim_model::run::Observer;

/// One day's keys and settle times.
#[derive(Default)]
struct Day {
    /// The key of each customer payment, in stream order.
    keys: Vec<u64>,
    /// Settle time by key (`UNSETTLED` if none): follow-ups have keys too.
    settle: Vec<u32>,
}

/// Collects a run's outcomes; writes them as CSV and Parquet.
#[derive(Default)]
pub struct SettlementLog {
    days: Vec<Day>,
    /// Per day, the order (submit) time of each customer payment, ms.
    submits: Vec<Vec<u32>>,
}

impl SettlementLog {
    fn day(&mut self, day: u32) -> &mut Day {
        let index = day as usize;
        if self.days.len() <= index {
            self.days.resize_with(index + 1, Day::default);
            self.submits.resize_with(index + 1, Vec::new);
        }
        &mut self.days[index]
    }

    /// Rows: (day 1-based, number, submit, settle) in day and stream order.
    fn rows(&self) -> impl Iterator<Item = (u32, usize, u32)> + '_ {
        self.days.iter().enumerate().flat_map(|(d, day)| {
            day.keys.iter().enumerate().map(move |(n, &key)| {
                let at = day.settle.get(key as usize).copied().unwrap_or(UNSETTLED);
                (d as u32 + 1, n, at)
            })
        })
    }

    /// `settlements.csv`: `day,id,status,settle,delay_ms`, as a replay's
    /// with the day in front. A cheque carried to the next day's session
    /// shows as unsettled on its day (as a replay of that day has it).
    pub fn csv(&self) -> Vec<u8> {
        let mut out = CsvOut::new(Vec::new());
        let mut write = || -> std::io::Result<()> {
            out.row(["day", "id", "status", "settle", "delay_ms"])?;
            for (day, n, at) in self.rows() {
                out.int(day)?;
                out.text(format!("P{n}"))?;
                if at == UNSETTLED {
                    out.row(["unsettled", "", ""])?;
                    continue;
                }
                out.text("settled")?;
                out.time(SimTime(at))?;
                out.int(at - self.submits[day as usize - 1][n])?;
                out.end()?;
            }
            Ok(())
        };
        // Writing to a vector cannot fail.
        let _ = write();
        out.into_bytes()
    }

    /// `settlements.parquet` (see [`parquet::settlements`]), with `day`.
    pub fn parquet(&self) -> Result<Vec<u8>, super::ReportError> {
        let rows: Vec<(u32, usize, u32)> = self.rows().collect();
        let ids: Vec<String> = rows.iter().map(|(_, n, _)| format!("P{n}")).collect();
        let day = |r: usize| Value::Int(Some(i64::from(rows[r].0)));
        let id = |r: usize| Value::Text(ids[r].as_bytes());
        let submit_ms = |r: usize| self.submits[rows[r].0 as usize - 1][rows[r].1];
        let settle_ms = |r: usize| (rows[r].2 != UNSETTLED).then_some(rows[r].2);
        Ok(parquet::settlements(
            Vec::new(),
            rows.len(),
            Some(&day),
            &id,
            &submit_ms,
            &settle_ms,
        )?)
    }
}

impl Observer for SettlementLog {
    fn ordered(&mut self, day: u32, key: u64, submit: SimTime) {
        let index = day as usize;
        self.day(day).keys.push(key);
        self.submits[index].push(submit.ms());
    }

    fn settled(&mut self, day: u32, key: u64, at: SimTime) {
        let record = self.day(day);
        let k = key as usize;
        if record.settle.len() <= k {
            record.settle.resize(k + 1, UNSETTLED);
        }
        record.settle[k] = at.ms();
    }
}
