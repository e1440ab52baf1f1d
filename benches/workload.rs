//! Generation and whole-run throughput on the bundled configs.
//!
//! Targets (docs/PERFORMANCE.md): generation ≥ 30 M payments/s on one
//! thread; one day of chengdu-2005 ≤ 1 s; throughput.toml ≥ 10 M payments/s
//! end to end.

use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use clearsim_model::config::{Config, Scenario};
use clearsim_model::run::{NoObserver, Replication, run, stream_model};
use clearsim_model::workload::city::build_city;
use clearsim_study::{CompareExperiment, Experiment, Runner};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn load(name: &str) -> (Scenario, Replication) {
    Config::load(Path::new(&format!("configs/{name}.toml")))
        .expect("bundled config loads")
        .split()
}

fn generation(c: &mut Criterion) {
    let (scenario, replication) = load("throughput");
    let seed = replication.seed;
    let city = build_city(&scenario);
    let model = stream_model(&scenario, &city);
    let count = model.day(seed, 0, 1.0).count() as u64;
    let mut group = c.benchmark_group("generate");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(10))
        .throughput(Throughput::Elements(count));
    group.bench_function("throughput_toml_one_day", |b| {
        b.iter(|| {
            let mut value = 0i64;
            for payment in model.day(seed, 0, scenario.volume_of_day(0)) {
                value = value.wrapping_add(payment.amount_fen);
            }
            black_box(value)
        })
    });
    let (scenario, replication) = load("chengdu-2005");
    let seed = replication.seed;
    let city = build_city(&scenario);
    let model = stream_model(&scenario, &city);
    let count = model.day(seed, 0, 1.0).count() as u64;
    group.throughput(Throughput::Elements(count));
    group.bench_function("chengdu_2005_one_day", |b| {
        b.iter(|| black_box(model.day(seed, 0, 1.0).map(|p| p.amount_fen).sum::<i64>()))
    });
    group.finish();
}

fn whole_runs(c: &mut Criterion) {
    let mut group = c.benchmark_group("run");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(15));
    for name in ["chengdu-2005", "throughput", "large-city"] {
        let (scenario, replication) = load(name);
        let city = build_city(&scenario);
        let payments = run(&scenario, &city, replication, &mut NoObserver)
            .expect("runs")
            .payments;
        group.throughput(Throughput::Elements(payments));
        group.bench_function(name, |b| {
            b.iter(|| {
                black_box(
                    run(&scenario, &city, replication, &mut NoObserver)
                        .expect("runs")
                        .payments,
                )
            })
        });
    }
    group.finish();
}

/// `compare` of the default designs on netting-compare.toml: all cores
/// against one thread (the ratio is the parallel speed-up).
fn compare_parallel(c: &mut Criterion) {
    let (scenario, replication) = load("netting-compare");
    let city = build_city(&scenario);
    let designs: Vec<_> = clearsim_study::DEFAULT_DESIGNS
        .iter()
        .map(|s| clearsim_study::parse_design(s, scenario.day_end).expect("valid"))
        .collect();
    let seeds = [replication.seed];
    let experiment = CompareExperiment::new(&scenario, &city, replication.days, &designs);
    let mut group = c.benchmark_group("compare_default_designs");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(10));
    for threads in [1, clearsim_study::cores()] {
        let runner = Runner {
            threads,
            tick: &|| {},
            stop: None,
        };
        group.bench_function(format!("{threads}_threads"), |b| {
            b.iter(|| black_box(experiment.records(&seeds, &runner).expect("runs").len()))
        });
    }
    group.finish();
}

/// One bank's best response in `optimise` on chengdu-2005: its 20
/// liquidity levels, one replication of one day each, with the other 43
/// banks fixed — the unit of the equilibrium search's cost (a round is 44
/// of them; docs/PERFORMANCE.md, issue 13). `priced`: levels within a
/// run's margins priced from it (what `optimise` does); `every_level_run`:
/// the same reply with every level run, for the ratio.
fn best_response(c: &mut Criterion) {
    use clearsim_study::optimise::{Game, GameSpec, Objective};
    let (scenario, replication) = load("chengdu-2005");
    let city = build_city(&scenario);
    let mut group = c.benchmark_group("optimise/chengdu_2005_best_response_20_levels");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(20))
        .throughput(Throughput::Elements(20));
    for (name, shortcut) in [("priced", true), ("every_level_run", false)] {
        let spec = GameSpec {
            levels: 20,
            max_scale: 1.0,
            policies: Vec::new(),
            days: 1,
            max_rounds: 1,
            tolerance_levels: 0,
            shortcut,
        };
        group.bench_function(name, |b| {
            b.iter_batched(
                || {
                    let runner = Runner {
                        threads: clearsim_study::cores(),
                        tick: &|| {},
                        stop: None,
                    };
                    Game::new(&scenario, &city, &spec, &[replication.seed], runner).expect("costs")
                },
                |mut game| {
                    let start = game.start();
                    black_box(game.best_reply(0, &start, Objective::Own).expect("runs"))
                },
                criterion::BatchSize::PerIteration,
            )
        });
    }
    group.finish();
}

criterion_group!(
    benches,
    generation,
    whole_runs,
    compare_parallel,
    best_response
);
criterion_main!(benches);
