//! A scenario's channels: each one's strategy through the catalog, and the
//! instruments routed to it.

use std::path::Path;

use clearsim_core::strategy::ChannelSpec;
use clearsim_core::strategy::options::{Options, parse_unwind};
use clearsim_core::time::{SimTime, parse_duration_ms};

use super::file::ChannelFile;
use super::{Channel, ConfigError, Instrument, error, time};

/// A channel's strategy and options through the strategy catalog;
/// errors name the config field at fault.
fn channel_spec(
    path: &Path,
    file: &ChannelFile,
    cycles: Option<Vec<SimTime>>,
    day_end: SimTime,
    at: &dyn Fn(&str) -> String,
) -> Result<ChannelSpec, ConfigError> {
    let gridlock_every_ms = match &file.gridlock_every {
        None => None,
        Some(text) => Some(parse_duration_ms(text).ok_or_else(|| {
            error(
                path,
                format!(
                    "{}: `{text}` is not a duration such as 90s or 5m",
                    at("gridlock_every")
                ),
            )
        })?),
    };
    let unwind = match file.unwind.as_deref() {
        None => None,
        Some(text) => {
            Some(parse_unwind(text).map_err(|e| error(path, format!("{}: {e}", at("unwind"))))?)
        }
    };
    let guarantee_fund_fen = match file.guarantee_fund_yuan {
        None => None,
        Some(yuan) => Some(clearsim_core::money::yuan_to_fen(yuan).ok_or_else(|| {
            error(
                path,
                format!(
                    "{}: {yuan} is not an amount of yuan ≥ 0",
                    at("guarantee_fund_yuan")
                ),
            )
        })?),
    };
    let options = Options {
        gridlock_every_ms,
        cycles,
        unwind,
        guarantee_fund_fen,
        max_position_pct: file.max_position_pct,
        ..Options::default()
    };
    clearsim_core::strategy::build(&file.strategy, options, day_end).map_err(|e| {
        let field = e.opt.map_or("strategy", |opt| opt.forms().toml);
        error(path, format!("{}: {}", at(field), e.message))
    })
}

pub(super) fn channels(
    path: &Path,
    files: &[ChannelFile],
    instruments: &[Instrument],
    day_end: SimTime,
) -> Result<(Vec<Channel>, Vec<usize>), ConfigError> {
    let mut channel_of = vec![usize::MAX; instruments.len()];
    let mut out = Vec::with_capacity(files.len());
    for (index, file) in files.iter().enumerate() {
        let at = |field: &str| format!("channel[{index}] ({}).{field}", file.name);
        let cycles = match &file.cycles {
            None => None,
            Some(list) => Some(
                list.iter()
                    .map(|t| time(path, &at("cycles"), t))
                    .collect::<Result<Vec<_>, _>>()?,
            ),
        };
        let spec = channel_spec(path, file, cycles, day_end, &at)?;
        let mut members = Vec::new();
        for name in &file.instruments {
            let Some(i) = instruments.iter().position(|x| &x.name == name) else {
                return Err(error(
                    path,
                    format!("{}: unknown instrument `{name}`", at("instruments")),
                ));
            };
            if channel_of[i] != usize::MAX {
                return Err(error(
                    path,
                    format!(
                        "{}: instrument `{name}` is already routed",
                        at("instruments")
                    ),
                ));
            }
            channel_of[i] = index;
            members.push(i);
        }
        out.push(Channel {
            name: file.name.clone(),
            spec,
            instruments: members,
        });
    }
    if out.iter().filter(|c| c.spec.is_gross()).count() > 1 {
        return Err(error(path, "at most one channel may be rtgs"));
    }
    for (i, instrument) in instruments.iter().enumerate() {
        if instrument.cheque && channel_of[i] != usize::MAX && out[channel_of[i]].spec.is_gross() {
            return Err(error(
                path,
                format!(
                    "instrument `{}`: cheques are exchanged at sessions; route them to a dns or bilateral channel",
                    instrument.name
                ),
            ));
        }
    }
    if let Some(i) = channel_of.iter().position(|&c| c == usize::MAX) {
        return Err(error(
            path,
            format!(
                "instrument `{}` is routed to no channel",
                instruments[i].name
            ),
        ));
    }
    Ok((out, channel_of))
}
