//! `clearsim bench`: the reproducible performance suite.

use std::path::PathBuf;

use anyhow::{Context, anyhow};
use clap::Args;

use super::Failure;
use clearsim_model::config::Config;
use clearsim_report::table::Table;
use clearsim_service::suite::{self, Row, SuiteReport};

/// The bundled throughput scenario, built in so that `bench` runs anywhere.
const THROUGHPUT_TOML: &str = include_str!("../../configs/throughput.toml");

#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Scenario whose stream feeds generation and live runs (default: the
    /// bundled configs/throughput.toml).
    config: Option<PathBuf>,
    /// Smaller sizes and 1 s live runs (about ten seconds in all).
    #[arg(long)]
    quick: bool,
    /// Also measure how cost grows with payments, participants and queued
    /// payments in a gridlock run.
    #[arg(long)]
    scaling: bool,
    /// Directory for bench.json (created).
    #[arg(long, value_name = "DIR", default_value = "out/bench")]
    out: PathBuf,
}

fn table(rows: &[Row]) -> Table {
    Table {
        header: ["group", "benchmark", "figure", "unit", "detail"]
            .map(String::from)
            .to_vec(),
        rows: rows
            .iter()
            .map(|row| {
                let figure = match row.unit {
                    "payments/s" => format!("{:.2} M", row.value / 1e6),
                    _ => format!("{:.2}", row.value),
                };
                vec![
                    row.group.to_string(),
                    row.name.clone(),
                    figure,
                    row.unit.to_string(),
                    row.detail.clone(),
                ]
            })
            .collect(),
    }
}

pub fn bench_command(args: &BenchArgs) -> Result<(), Failure> {
    let set = super::args::output_set(&args.out)?;
    let config = match &args.config {
        Some(path) => super::args::load(path, None, None, None)?,
        None => Config::parse(
            std::path::Path::new("configs/throughput.toml"),
            THROUGHPUT_TOML,
            std::path::Path::new("."),
        )
        .map_err(|e| Failure::Internal(anyhow!(e)))?,
    };
    let (scenario, seed) = (&config.scenario, config.seed);
    let say = |what: &str| eprintln!("clearsim bench: {what}…");
    let mut report: SuiteReport = suite::run_suite(scenario, seed, args.quick, say)
        .map_err(|e| Failure::Internal(anyhow!(e)))?;
    if args.scaling {
        let rows = suite::scaling_rows(scenario, seed, args.quick, say)
            .map_err(|e| Failure::Internal(anyhow!(e)))?;
        report.rows.extend(rows);
    }
    println!(
        "clearsim bench — {} cores, {} build{}",
        report.cores,
        report.profile,
        if report.quick { ", quick" } else { "" }
    );
    print!("{}", table(&report.rows).markdown());
    let json = serde_json::to_vec_pretty(&report)
        .context("cannot encode bench.json")
        .map_err(Failure::Internal)?;
    set.write("bench.json", &json)
        .and_then(|()| set.commit())
        .map_err(|e| super::output_failure(e, "cannot write bench.json: "))?;
    println!("wrote {}", args.out.join("bench.json").display());
    Ok(())
}
