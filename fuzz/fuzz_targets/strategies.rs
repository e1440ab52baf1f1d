//! Every strategy on small days: the bytes describe up to 8 participants
//! and 64 payments (so that queues, gridlock and unwinding are reached
//! quickly), and each strategy of the grammar replays the day. Each must
//! settle every payment at most once, conserve money (plus what a guarantee
//! fund put in) and keep every balance above its credit floor; the engine's
//! own invariants are checked too (the `invariants` feature).
#![no_main]

use clearsim_core::strategy::parse_strategy;
use clearsim_core::time::SimTime;
use clearsim_model::input::Day;
use libfuzzer_sys::fuzz_target;

const STRATEGIES: [&str; 12] = [
    "rtgs",
    "rtgs+gridlock:1m",
    "rtgs+bypass+gridlock:10m",
    "rtgs+offset",
    "chips:1m",
    "chips+max=150:30m",
    "dns:hourly",
    "dns+latest:10:00,13:00",
    "dns+fund=5yuan:hourly",
    "bilateral:12:00",
    "bilateral",
    "dns",
];

/// participants.csv and payments.csv from the bytes.
fn day_files(data: &[u8]) -> Option<(String, String)> {
    let (&first, rest) = data.split_first()?;
    let n = usize::from(first % 7) + 2;
    let (balances, rest) = rest.split_at_checked(2 * n)?;
    let mut participants = String::from("id,name,category,opening_balance,credit_limit\n");
    for (i, pair) in balances.chunks(2).enumerate() {
        participants += &format!("P{i},,,{},{}\n", pair[0], pair[1] % 16);
    }
    let mut payments = String::from("id,submit,sender,receiver,amount,priority\n");
    for (k, p) in rest.chunks_exact(5).take(64).enumerate() {
        let sender = usize::from(p[0]) % n;
        let receiver = (sender + 1 + usize::from(p[1]) % (n - 1)) % n;
        // 08:00 to about 16:30, in steps of two minutes.
        let minutes = 480 + u32::from(p[2]) * 2;
        let amount = u32::from(p[3]) + 1;
        payments += &format!(
            "x{k},{:02}:{:02}:00,P{sender},P{receiver},{amount},{}\n",
            minutes / 60,
            minutes % 60,
            p[4] % 3
        );
    }
    Some((participants, payments))
}

fuzz_target!(|data: &[u8]| {
    let Some((participants, payments)) = day_files(data) else {
        return;
    };
    let day_end = SimTime::DEFAULT_DAY_END;
    let Ok(day) = Day::parse(
        "p.csv",
        participants.as_bytes(),
        "x.csv",
        payments.as_bytes(),
        day_end,
    ) else {
        return;
    };
    let opening: i128 = day
        .participants
        .opening_fen
        .iter()
        .map(|&b| i128::from(b))
        .sum();
    for name in STRATEGIES {
        let spec = parse_strategy(name, day_end)
            .expect("a valid strategy")
            .spec;
        let replay = clearsim_model::replay::replay(&day, &spec).expect("a parsed day replays");
        assert_eq!(replay.settle.len(), day.payments.len());
        let closing: i128 = replay.closing_fen.iter().map(|&b| i128::from(b)).sum();
        assert!(closing >= opening, "{name}: money lost");
        for (i, &balance) in replay.closing_fen.iter().enumerate() {
            assert!(
                balance >= -day.participants.credit_limit_fen[i],
                "{name}: P{i} below its credit floor"
            );
        }
    }
});
