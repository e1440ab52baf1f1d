//! `generate`: one day of a scenario as replay files, numbered `P0`, `P1`,
//! … in stream order as `run --settlements` numbers them.

use std::io::Write;

use clearsim_model::config::Scenario;
use clearsim_model::csvout::{self, CsvOut, ParticipantRow, PaymentRow};
use clearsim_model::workload::city::City;

/// participants.csv of the city.
pub fn participants_csv(city: &City) -> Vec<u8> {
    csvout::participants_csv((0..city.len()).map(|i| ParticipantRow {
        id: &city.ids[i],
        name: &city.names[i],
        category: &city.categories[i],
        opening_fen: city.opening_fen[i],
        credit_limit_fen: city.credit_limit_fen[i],
    }))
}

/// Writes payments.csv of `stream` to `to`; returns how many payments.
pub fn write_payments(
    to: impl Write,
    city: &City,
    scenario: &Scenario,
    stream: impl Iterator<Item = clearsim_core::ledger::Payment>,
) -> std::io::Result<u64> {
    let mut out = CsvOut::new(to);
    out.row(csvout::PAYMENTS_HEADER)?;
    let mut id = Vec::with_capacity(24);
    let mut number = itoa::Buffer::new();
    let mut count = 0u64;
    for payment in stream {
        id.clear();
        id.push(b'P');
        id.extend_from_slice(number.format(count).as_bytes());
        out.payment(&PaymentRow {
            id: &id,
            submit: payment.submit,
            sender: &city.ids[payment.sender as usize],
            receiver: &city.ids[payment.receiver as usize],
            amount_fen: payment.amount_fen,
            priority: i64::from(payment.priority),
            instrument: &scenario.instruments[usize::from(payment.instrument)].name,
        })?;
        count += 1;
    }
    out.finish()?;
    Ok(count)
}

/// payments.csv of day `day` (0-based) of `seed`'s customer stream, in
/// memory: the file `generate --day day+1 --seed seed` writes.
pub fn day_payments_csv(
    city: &City,
    scenario: &Scenario,
    model: &clearsim_model::workload::stream::StreamModel,
    seed: u64,
    day: u32,
) -> Result<Vec<u8>, crate::JobError> {
    let stream = model.day(seed, day, scenario.volume_of_day(day));
    let mut payments = Vec::new();
    write_payments(&mut payments, city, scenario, stream)
        // A Vec takes every write: an error here is a bug.
        .map_err(|e| crate::JobError::Bug(format!("a generated day in memory: {e}")))?;
    Ok(payments)
}

/// A generated day read as `replay` reads files (the one parser). The
/// files are ours: a refusal is a bug.
pub fn parse_day(
    participants_csv: &[u8],
    payments_csv: &[u8],
    day_end: clearsim_core::time::SimTime,
) -> Result<clearsim_model::input::Day, crate::JobError> {
    clearsim_model::input::Day::parse(
        "generated participants",
        participants_csv,
        "generated payments",
        payments_csv,
        day_end,
    )
    .map_err(|e| crate::JobError::Bug(format!("a generated day does not replay: {e}")))
}
