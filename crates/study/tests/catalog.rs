//! Adding a strategy touches its table and its algorithm, and nothing else.
//!
//! This file is the whole of a new strategy, `instant`: gross settlement
//! with no queue, as instant-payment schemes run (a payment that its sender
//! cannot cover on arrival fails at once). It registers its table in the
//! catalog, and every front end then takes it as it takes the built-in
//! ones: the compact form of `compare`, a scenario's TOML, `replay`'s
//! flags, the description in reports, a run over days and a compared
//! design — with no change to any file but this one.

use clearsim_core::ledger::{Ctx, Ledger, Payment, Sink};
use clearsim_core::strategy::{
    self, Channel, ChannelSpec, DynStrategy, Opt, Options, StrategyDef, StrategyError, Tail,
};
use clearsim_core::time::SimTime;

// ------------------------------------------------ the algorithm

/// Settles on arrival when covered; otherwise the payment fails at once.
struct Instant;

impl DynStrategy for Instant {
    fn arrive(&mut self, cx: &mut Ctx<'_, dyn Sink + '_>, payment: Payment) {
        if cx.ledger.affordable(payment.sender, payment.amount_fen) {
            cx.settle_gross(&payment);
        } else {
            cx.ledger.note_wait(payment.sender);
            cx.sink.unsettled(&payment);
        }
    }

    fn next_event(&self) -> Option<SimTime> {
        None
    }

    fn run_event(&mut self, _cx: &mut Ctx<'_, dyn Sink + '_>) {}

    fn close(&mut self, _cx: &mut Ctx<'_, dyn Sink + '_>) {}

    fn is_gross(&self) -> bool {
        true
    }

    fn settles_on_arrival(&self, ledger: &Ledger, payment: &Payment) -> bool {
        ledger.affordable(payment.sender, payment.amount_fen)
    }
}

// ------------------------------------------------ its table

static INSTANT: StrategyDef = StrategyDef {
    name: "instant",
    spellings: &["instant"],
    summary: "gross settlement without queues: a payment its sender cannot cover on arrival fails at once",
    gross: true,
    decides_by_checks: true,
    options: &[],
    tail: Tail::Nothing,
    complete: |options, _| Ok(options),
    describe: |_| "instant gross settlement, no queue".into(),
    channel: |_, _, _| Ok(Channel::Extension(Box::new(Instant))),
};

fn registered() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| strategy::register(&INSTANT).expect("a new name"));
}

// ------------------------------------------------ every front end takes it

const CITY: &str = r#"
name = "two-banks"
seed = 7
days = 2

[participants]
n = 2

[liquidity]
opening_share = 0.01
credit_share = 0.0

[[instrument]]
name = "transfer"
daily_count = 2000
profile = [{ from = "09:00", to = "17:00", weight = 1.0 }]
amount = { median_yuan = 1000, sigma = 1.0 }

[[channel]]
name = "instant-payments"
strategy = "instant"
instruments = ["transfer"]
"#;

#[test]
fn a_registered_strategy_is_in_the_catalog_under_every_form() {
    registered();
    let end = SimTime::DEFAULT_DAY_END;
    assert!(strategy::catalog().iter().any(|d| d.name == "instant"));
    // The compact form (`compare --strategies`), the flags' builder
    // (`replay --strategy`), and their refusals.
    let compact = strategy::parse_strategy("instant", end)
        .expect("compact")
        .spec;
    let flagged = strategy::build("instant", Options::default(), end).expect("flags");
    assert_eq!(compact, flagged);
    assert_eq!(compact.name(), "instant");
    assert_eq!(compact.describe(), "instant gross settlement, no queue");
    assert_eq!(
        compact.replay_flags(),
        Ok(vec!["--strategy".into(), "instant".into()])
    );
    let with_cycles = Options {
        cycles: Some(vec![end]),
        ..Options::default()
    };
    let refused = strategy::build("instant", with_cycles, end).unwrap_err();
    assert_eq!(refused.opt, Some(Opt::Cycles));
    assert!(strategy::parse_strategy("instant+bypass", end).is_err());
    assert!(
        strategy::register(&INSTANT).is_err(),
        "a name is taken once"
    );
    let _: Result<(), StrategyError> = Ok(());
}

#[test]
fn a_registered_strategy_runs_from_a_scenario_and_in_a_comparison() {
    registered();
    let path = std::path::Path::new("two-banks.toml");
    let (scenario, replication) =
        clearsim_model::config::Config::parse(path, CITY, std::path::Path::new("."))
            .expect("the config names the new strategy")
            .split();
    assert_eq!(scenario.channels[0].spec.name(), "instant");
    let city = clearsim_model::workload::city::build_city(&scenario);
    let run = clearsim_model::run::run(
        &scenario,
        &city,
        replication,
        &mut clearsim_model::run::NoObserver,
    )
    .expect("a run over two days");
    let flow = &run.channels[0];
    let counts = &flow.counts;
    assert!(counts.payments > 3000, "two days of payments");
    assert!(
        counts.settled > 0 && counts.settled < counts.payments,
        "scarce: some fail"
    );
    // Nothing waits under `instant`: a payment settles the instant it is
    // ordered or never (the delay indicator counts failures as waiting to
    // the day end).
    assert!(flow.delay_indicator > 0.0);
    assert_eq!(flow.in_transit_ms.stats.max, 0);
    // As a design of `compare`, paired with rtgs on the same stream.
    let designs = ["instant", "rtgs"]
        .map(|d| clearsim_study::parse_design(d, scenario.day_end).expect("a design"));
    let experiment = clearsim_study::CompareExperiment::new(&scenario, &city, 2, &designs);
    let runner = clearsim_study::Runner {
        threads: 2,
        tick: &|| {},
        stop: None,
    };
    let records =
        clearsim_study::Experiment::records(&experiment, &[1, 2], &runner).expect("compared");
    for record in &records {
        let [instant, rtgs] = [&record.designs[0], &record.designs[1]].map(|r| &r.channels[0]);
        assert_eq!(
            instant.counts.payments, rtgs.counts.payments,
            "the same stream"
        );
        assert_eq!(instant.counts.value_fen, rtgs.counts.value_fen);
        assert_eq!(instant.in_transit_ms.stats.max, 0, "nothing waits");
        assert!(rtgs.in_transit_ms.stats.max > 0, "rtgs queues");
    }
}

#[test]
fn a_registered_strategy_replays_a_day() {
    registered();
    let participants = "id,name,category,opening_balance,credit_limit\nA,,,100,0\nB,,,0,0\n";
    let payments = "id,submit,sender,receiver,amount\n1,09:00:00,A,B,60\n2,09:00:01,A,B,60\n3,09:00:02,B,A,30\n";
    let day = clearsim_model::input::Day::parse(
        "participants.csv",
        participants.as_bytes(),
        "payments.csv",
        payments.as_bytes(),
        SimTime::DEFAULT_DAY_END,
    )
    .expect("a day");
    let spec: ChannelSpec =
        strategy::build("instant", Options::default(), day.day_end).expect("spec");
    let route = clearsim_model::replay::Route::one(spec, None, &day).expect("route");
    assert_eq!(route.described, "instant gross settlement, no queue");
    let replay = clearsim_model::replay::replay_channels(&day, &route.specs, &route.channel_of)
        .expect("replayed");
    // A pays 60 (40 left), cannot pay 60 more: it fails at once; B pays 30.
    assert_eq!(replay.settle[0], SimTime(32_400_000).ms());
    assert_eq!(replay.settle[1], clearsim_model::metrics::UNSETTLED);
    assert_eq!(replay.settle[2], SimTime(32_402_000).ms());
    assert_eq!(replay.closing_fen, vec![70, 30]);
}
