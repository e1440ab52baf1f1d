//! Engine throughput on days generated here from a fixed seed.
//!
//! Targets (docs/PERFORMANCE.md): rtgs ≥ 50 M payments/s ample and ≥ 15 M/s
//! scarce; dns and bilateral ≥ 50 M/s; one gridlock run over 100,000 queued
//! payments ≤ 10 ms; CSV replay ≥ 5 M rows/s.

use std::hint::black_box;
use std::time::Duration;

use clearsim_core::engine::{Engine, Scheduler};
use clearsim_core::ledger::{Ledger, Payment};
use clearsim_core::strategy::{ChannelSpec, Unwind};
use clearsim_core::time::SimTime;
use clearsim_model::input::Day;
use clearsim_service::suite::{self, Counting, replay_once, uniform_day};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};

const MEAN_AMOUNT_FEN: i64 = 1_000_000;

/// Days are generated once, on first use, so that a filtered run only pays
/// for the days it measures.
fn day(participants: u32, payments: usize) -> &'static [Payment] {
    static DAYS: std::sync::Mutex<Vec<(u32, usize, &'static [Payment])>> =
        std::sync::Mutex::new(Vec::new());
    let mut days = DAYS.lock().expect("not poisoned");
    if let Some(&(_, _, found)) = days.iter().find(|d| d.0 == participants && d.1 == payments) {
        return found;
    }
    let generated: &'static [Payment] =
        Box::leak(uniform_day(participants, payments).into_boxed_slice());
    days.push((participants, payments, generated));
    generated
}

/// The suite's replay (the same code `clearsim bench` times), by criterion.
fn run(payments: &[Payment], participants: u32, opening_fen: i64, spec: &ChannelSpec) -> Counting {
    replay_once(payments, participants, opening_fen, spec)
        .expect("valid channel")
        .1
}

fn scarce_opening(payments: &[Payment], participants: u32) -> i64 {
    suite::scarce_opening(payments, participants).expect("valid channel")
}

fn strategies(c: &mut Criterion) {
    let participants = 1_000;
    let payments = day(participants, 10_000_000);
    let ample = i64::MAX / 4 / i64::from(participants);
    let mut group = c.benchmark_group("engine_1k_participants_10M_payments");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(20))
        .throughput(Throughput::Elements(payments.len() as u64));
    let cycles: Vec<SimTime> = (9..=17).map(|h| SimTime(h * 3_600_000)).collect();
    let specs = [
        ("rtgs_ample", ChannelSpec::rtgs(None)),
        (
            "dns_hourly",
            ChannelSpec::dns(cycles.clone(), Unwind::Participant, None),
        ),
        ("bilateral_hourly", ChannelSpec::bilateral(cycles.clone())),
    ];
    for (name, spec) in &specs {
        group.bench_function(*name, |b| {
            b.iter(|| black_box(run(payments, participants, ample, spec)))
        });
    }
    let scarce = std::sync::LazyLock::new(|| {
        let scarce = scarce_opening(payments, participants);
        let rtgs = ChannelSpec::rtgs(None);
        let outcome = run(payments, participants, scarce, &rtgs);
        eprintln!(
            "rtgs_scarce: opening {scarce} fen each; {:.1}% of payments queue, {:.1}% settle",
            100.0 * outcome.late as f64 / payments.len() as f64,
            100.0 * outcome.settled as f64 / payments.len() as f64
        );
        scarce
    });
    let spec = ChannelSpec::rtgs(None);
    group.bench_function("rtgs_scarce", |b| {
        b.iter(|| black_box(run(payments, participants, *scarce, &spec)))
    });
    let gridlock = ChannelSpec::rtgs(Some(60_000));
    group.bench_function("rtgs_scarce_gridlock_1m", |b| {
        b.iter(|| black_box(run(payments, participants, *scarce, &gridlock)))
    });
    let unwind = ChannelSpec::dns(cycles.clone(), Unwind::Latest, None);
    group.bench_function("dns_hourly_latest_scarce", |b| {
        b.iter(|| black_box(run(payments, participants, *scarce, &unwind)))
    });
    group.finish();

    let participants = 10_000;
    let payments = day(participants, 10_000_000);
    let ample = i64::MAX / 4 / i64::from(participants);
    let mut group = c.benchmark_group("engine_10k_participants_10M_payments");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(20))
        .throughput(Throughput::Elements(payments.len() as u64));
    let spec = ChannelSpec::rtgs(None);
    group.bench_function("rtgs_ample", |b| {
        b.iter(|| black_box(run(payments, participants, ample, &spec)))
    });
    let scarce = std::sync::LazyLock::new(|| scarce_opening(payments, participants));
    group.bench_function("rtgs_scarce", |b| {
        b.iter(|| black_box(run(payments, participants, *scarce, &spec)))
    });
    group.finish();
}

/// One gridlock run over 100,000 queued payments among 1,000 participants.
fn gridlock_run(c: &mut Criterion) {
    let participants = 1_000u32;
    let payments = day(participants, 100_000);
    // Each participant holds ten mean payments: far too little for its ~100
    // queued ones one by one, enough for much of its net.
    let opening = vec![10 * MEAN_AMOUNT_FEN; participants as usize];
    let credit = vec![0; participants as usize];
    let end = SimTime::DEFAULT_DAY_END;
    // One run, at 16:00 (the interval is 16 hours), before the day end.
    let run_at = SimTime(16 * 3_600_000);
    let spec = ChannelSpec::rtgs(Some(run_at.ms()));
    let setup = || {
        let engine = Engine::new(
            Ledger::new(&opening, &credit),
            std::slice::from_ref(&spec),
            end,
            payments.len(),
        )
        .expect("valid channel");
        let mut scheduler = Scheduler::new(engine, Vec::new()).expect("no controls");
        let mut sink = Counting::default();
        // All payments arrive at one instant, queued behind a blocked head.
        scheduler
            .advance_to(SimTime(0), &mut sink)
            .expect("forward");
        for &payment in payments {
            let mut p = payment;
            p.submit = SimTime(0);
            p.amount_fen += 100 * MEAN_AMOUNT_FEN; // none affordable alone
            scheduler.arrive(0, p, &mut sink).expect("arrives");
        }
        // Closes the arrivals' instant; opens the run's.
        scheduler.advance_to(run_at, &mut sink).expect("forward");
        assert_eq!(scheduler.engine().held(), payments.len());
        (scheduler, sink)
    };
    let after = SimTime(run_at.ms() + 1);
    let (mut scheduler, mut sink) = setup();
    scheduler.advance_to(after, &mut sink).expect("runs");
    eprintln!(
        "gridlock run: {} of {} queued payments settle",
        sink.settled,
        payments.len()
    );
    let mut group = c.benchmark_group("gridlock");
    group.throughput(Throughput::Elements(payments.len() as u64));
    group.bench_function("one_run_100k_queued", |b| {
        b.iter_batched(
            setup,
            |(mut scheduler, mut sink)| {
                // Closing the run's instant is the gridlock run.
                scheduler.advance_to(after, &mut sink).expect("runs");
                black_box(sink.settled)
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

/// `replay` end to end in memory: parse both CSV files, settle, format the
/// three outputs.
fn csv_replay(c: &mut Criterion) {
    let participants = 1_000u32;
    let payments = day(participants, 1_000_000);
    let mut participants_csv = String::from("id,name,category,opening_balance,credit_limit\n");
    for i in 0..participants {
        participants_csv += &format!(
            "BANK{i:04},Bank {i},synthetic,{},0\n",
            1_000_000 * MEAN_AMOUNT_FEN
        );
    }
    let mut payments_csv = String::from("id,submit,sender,receiver,amount\n");
    for p in payments {
        payments_csv += &format!(
            "P{:07},{},BANK{:04},BANK{:04},{}\n",
            p.key, p.submit, p.sender, p.receiver, p.amount_fen
        );
    }
    let spec = ChannelSpec::rtgs(Some(300_000));
    let mut group = c.benchmark_group("replay_csv");
    group
        .sample_size(10)
        .throughput(Throughput::Elements(payments.len() as u64));
    group.bench_function("1M_rows_end_to_end", |b| {
        b.iter(|| {
            let day = Day::parse(
                "p.csv",
                participants_csv.as_bytes(),
                "x.csv",
                payments_csv.as_bytes(),
                SimTime::DEFAULT_DAY_END,
            )
            .expect("valid");
            let replay = clearsim_model::replay::replay(&day, &spec).expect("runs");
            let settlements = clearsim_report::settlements_csv(&day, &replay.settle);
            let balances = clearsim_report::balances_csv(&day, &replay);
            black_box((settlements.len(), balances.len(), replay.summary.settled))
        })
    });
    group.bench_function("1M_rows_parse_only", |b| {
        b.iter(|| {
            black_box(
                Day::parse(
                    "p.csv",
                    participants_csv.as_bytes(),
                    "x.csv",
                    payments_csv.as_bytes(),
                    SimTime::DEFAULT_DAY_END,
                )
                .expect("valid")
                .payments
                .len(),
            )
        })
    });
    group.finish();
}

/// The strategies beyond the contract (and every one `clearsim bench`
/// times), on a smaller scarce day: `clearsim bench` reports the same.
fn suite_strategies(c: &mut Criterion) {
    let participants = 1_000;
    let payments = day(participants, 1_000_000);
    let scarce = scarce_opening(payments, participants);
    let mut group = c.benchmark_group("engine_1k_participants_1M_payments_scarce");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(10))
        .throughput(Throughput::Elements(payments.len() as u64));
    for name in suite::STRATEGIES {
        let spec = clearsim_core::strategy::parse_strategy(name, SimTime::DEFAULT_DAY_END)
            .expect("a suite strategy parses")
            .spec;
        group.bench_function(name, |b| {
            b.iter(|| black_box(run(payments, participants, scarce, &spec)))
        });
    }
    group.finish();
}

criterion_group!(
    benches,
    gridlock_run,
    csv_replay,
    strategies,
    suite_strategies
);
criterion_main!(benches);
