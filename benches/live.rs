//! The hot paths of live mode: moving instructions between threads (the
//! batched lock-free link against `std::sync::mpsc` per message), and the
//! engine thread's admit-and-settle step. The whole pipeline is measured by
//! `clearsim bench` (docs/PERFORMANCE.md).

use std::hint::black_box;
use std::sync::mpsc;
use std::time::Duration;

use clearsim_core::engine::Engine;
use clearsim_core::ledger::Ledger;
use clearsim_core::strategy::ChannelSpec;
use clearsim_core::time::SimTime;
use clearsim_service::live::link::Link;
use clearsim_service::live::{Event, Instruction, Settler};
use clearsim_service::suite::uniform_day;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const MESSAGES: u64 = 4_000_000;

fn instruction(i: u64) -> Instruction {
    Instruction {
        sender: (i % 1000) as u32,
        receiver: ((i + 1) % 1000) as u32,
        amount_fen: 100,
        priority: 0,
        instrument: 0,
        ticket: i,
    }
}

/// Writer thread sends MESSAGES in batches; the reader sums a field.
fn through_link() -> u64 {
    let link: Link<Instruction> = Link::new(16, 256);
    std::thread::scope(|scope| {
        scope.spawn(|| {
            let mut i = 0;
            while i < MESSAGES {
                let Some(mut buffer) = link.acquire(|| false) else {
                    return;
                };
                while buffer.len() < link.batch() && i < MESSAGES {
                    buffer.push(instruction(i));
                    i += 1;
                }
                link.send(buffer);
            }
            link.close();
        });
        link.register_reader();
        let backoff = crossbeam_utils::Backoff::new();
        let mut sum = 0u64;
        loop {
            match link.receive() {
                Some(batch) => {
                    sum += batch.iter().map(|m| m.ticket).sum::<u64>();
                    link.release(batch);
                    backoff.reset();
                }
                None if link.is_drained() => return sum,
                None => clearsim_service::live::link::idle(&backoff),
            }
        }
    })
}

fn through_mpsc() -> u64 {
    let (tx, rx) = mpsc::sync_channel(4096);
    std::thread::scope(|scope| {
        scope.spawn(move || {
            for i in 0..MESSAGES {
                if tx.send(instruction(i)).is_err() {
                    return;
                }
            }
        });
        rx.iter().map(|m| m.ticket).sum()
    })
}

fn links(c: &mut Criterion) {
    let mut group = c.benchmark_group("thread_handoff_4M_instructions");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(10))
        .throughput(Throughput::Elements(MESSAGES));
    group.bench_function("batched_lock_free_link", |b| {
        b.iter(|| black_box(through_link()))
    });
    group.bench_function("std_mpsc_per_message", |b| {
        b.iter(|| black_box(through_mpsc()))
    });
    group.finish();
}

/// The engine thread's work per instruction, without threads: admit,
/// settle (ample liquidity) and emit an event.
fn settler(c: &mut Criterion) {
    let participants = 1_000u32;
    let day = uniform_day(participants, 1_000_000);
    let instructions: Vec<Instruction> = day
        .iter()
        .map(|p| Instruction {
            sender: p.sender,
            receiver: p.receiver,
            amount_fen: p.amount_fen,
            priority: 0,
            instrument: 0,
            ticket: p.key,
        })
        .collect();
    let mut group = c.benchmark_group("settler_1M_instructions");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(10))
        .throughput(Throughput::Elements(instructions.len() as u64));
    group.bench_function("rtgs_ample", |b| {
        b.iter(|| {
            let opening = vec![i64::MAX / 4 / i64::from(participants); participants as usize];
            let engine = Engine::new(
                Ledger::new(&opening, &vec![0; participants as usize]),
                &[ChannelSpec::rtgs(Some(1_000))],
                SimTime(3_600_000),
                1 << 16,
            )
            .expect("valid");
            let mut settler = Settler::new(engine, 1 << 20).expect("no controls");
            let mut events = 0u64;
            for (index, batch) in instructions.chunks(256).enumerate() {
                settler
                    .advance(SimTime(index as u32 / 64), |_: Event| events += 1)
                    .expect("forward");
                for instruction in batch {
                    settler
                        .submit(*instruction, |_: Event| events += 1)
                        .expect("admitted");
                }
            }
            settler.close(|_: Event| events += 1).expect("closes");
            black_box(events)
        })
    });
    group.finish();
}

criterion_group!(benches, links, settler);
criterion_main!(benches);
