//! Bank gateways: producer threads that turn the scenario's stream (or
//! pre-generated instructions) into payment instructions and send them in
//! batches over their own link, closed loop or open loop.

use std::sync::atomic::{AtomicBool, Ordering};

use super::link::Link;
use super::{Clock, Instruction};
use clearsim_model::workload::stream::{DayStream, StreamModel};

/// Consecutive days without a payment after which a gateway gives up.
pub const MAX_EMPTY_DAYS: u32 = 64;

/// One bank gateway's share of the stream: day after day of the config's
/// stream, under its own seed, counterparties and amounts only — or, to
/// measure the pipeline without the cost of generating, instructions
/// generated before the run, over and over.
pub struct Gateway<'m> {
    model: &'m StreamModel,
    seed: u64,
    day: u32,
    stream: DayStream<'m>,
    /// Pre-generated instructions and the position in them.
    replay: Option<(&'m [Instruction], usize)>,
    /// Every other pass over the pre-generated instructions goes the other
    /// way (sender and receiver swapped): repeating one sample would repeat
    /// its net positions pass after pass until some bank runs dry, whereas
    /// two passes net to zero.
    reversed: bool,
}

impl<'m> Gateway<'m> {
    pub fn new(model: &'m StreamModel, seed: u64, gateway: usize) -> Gateway<'m> {
        let seed = seed ^ (gateway as u64 + 1).wrapping_mul(0xD1B5_4A32_D192_ED03);
        Gateway {
            model,
            seed,
            day: 0,
            stream: model.day(seed, 0, 1.0),
            replay: None,
            reversed: false,
        }
    }

    /// Cycles through `instructions` (non-empty) from `start` instead.
    pub fn replaying(mut self, instructions: &'m [Instruction], start: usize) -> Gateway<'m> {
        if !instructions.is_empty() {
            self.replay = Some((instructions, start % instructions.len()));
        }
        self
    }

    /// The next instruction, created at `created_ns`; `None` when the
    /// stream has given nothing for [`MAX_EMPTY_DAYS`] days in a row (the
    /// gateway then stops: live refuses streams expecting under one payment
    /// a day, so this is a guard, not a path).
    #[inline]
    pub fn next(&mut self, created_ns: u64) -> Option<Instruction> {
        if let Some((instructions, at)) = self.replay.as_mut() {
            let instruction = instructions[*at];
            *at += 1;
            let reversed = self.reversed;
            if *at == instructions.len() {
                *at = 0;
                self.reversed = !reversed;
            }
            let (sender, receiver) = if reversed {
                (instruction.receiver, instruction.sender)
            } else {
                (instruction.sender, instruction.receiver)
            };
            return Some(Instruction {
                sender,
                receiver,
                amount_fen: instruction.amount_fen,
                priority: 0,
                instrument: instruction.instrument,
                ticket: created_ns,
            });
        }
        let mut empty_days = 0;
        let generated = loop {
            if let Some(generated) = self.stream.next() {
                break generated;
            }
            empty_days += 1;
            if empty_days > MAX_EMPTY_DAYS {
                return None;
            }
            self.day = self.day.wrapping_add(1);
            self.stream = self.model.day(self.seed, self.day, 1.0);
        };
        Some(Instruction {
            sender: generated.sender,
            receiver: generated.receiver,
            amount_fen: generated.amount_fen,
            priority: 0,
            instrument: generated.instrument,
            ticket: created_ns,
        })
    }
}

/// Closed loop: full batches as fast as buffers come back. Returns the
/// number of instructions sent.
pub(super) fn produce_closed(
    link: &Link<Instruction>,
    gateway: &mut Gateway<'_>,
    clock: &Clock,
    stop: &AtomicBool,
    end_ns: u64,
) -> u64 {
    let mut sent = 0u64;
    // Bounded by the run's duration: the clock is checked every batch.
    loop {
        let now_ns = clock.now_ns();
        if now_ns >= end_ns || stop.load(Ordering::Relaxed) {
            return sent;
        }
        let Some(mut buffer) = link.acquire(|| stop.load(Ordering::Relaxed)) else {
            return sent;
        };
        // One clock read stamps the batch: its first payment waited least.
        let mut dry = false;
        while buffer.len() < link.batch() {
            let Some(instruction) = gateway.next(now_ns) else {
                dry = true;
                break;
            };
            buffer.push(instruction);
        }
        sent += buffer.len() as u64;
        link.send(buffer);
        if dry {
            return sent;
        }
    }
}

/// Open-loop timing of one gateway: its payments are due every
/// `interval_ns`, offset so that the gateways interleave.
#[derive(Clone, Copy, Debug)]
pub struct OpenSchedule {
    first_ns: f64,
    interval_ns: f64,
}

impl OpenSchedule {
    pub fn new(rate_per_s: u64, producers: usize, gateway: usize) -> OpenSchedule {
        let total_interval_ns = 1e9 / rate_per_s.max(1) as f64;
        OpenSchedule {
            first_ns: total_interval_ns * gateway as f64,
            interval_ns: total_interval_ns * producers as f64,
        }
    }

    /// When payment `index` of this gateway is due, ns since the start.
    #[inline]
    pub fn due_ns(&self, index: u64) -> u64 {
        (self.first_ns + self.interval_ns * index as f64) as u64
    }

    /// How many of this gateway's payments are due by `now_ns`.
    #[inline]
    pub fn due_by(&self, now_ns: u64) -> u64 {
        let elapsed = now_ns as f64 - self.first_ns;
        if elapsed < 0.0 {
            0
        } else {
            (elapsed / self.interval_ns) as u64 + 1
        }
    }
}

/// An open-loop gateway sends what is due once a batch's worth is due or
/// the oldest due payment has waited this long: sending every payment alone
/// would spend the engine's time on per-batch overhead at high rates.
const SEND_WINDOW_NS: u64 = 4_000;
/// ... or this many are due.
const SEND_AT_LEAST: u64 = 64;

/// Open loop: each payment is stamped with the time it was due, not the time
/// it could be sent, so a stalled pipeline shows in the latency (no
/// coordinated omission). Sends what is due as soon as it is due.
pub(super) fn produce_open(
    link: &Link<Instruction>,
    gateway: &mut Gateway<'_>,
    clock: &Clock,
    end_ns: u64,
    schedule: OpenSchedule,
) -> u64 {
    let mut next = 0u64;
    let backoff = crossbeam_utils::Backoff::new();
    // Bounded by the run's duration.
    loop {
        let now_ns = clock.now_ns();
        if now_ns >= end_ns {
            return next;
        }
        let oldest_due_ns = schedule.due_ns(next);
        if oldest_due_ns > now_ns {
            backoff.snooze();
            continue;
        }
        let due = schedule.due_by(now_ns).saturating_sub(next);
        if due < SEND_AT_LEAST && now_ns - oldest_due_ns < SEND_WINDOW_NS {
            // The reporter shares this core: let it run meanwhile.
            std::thread::yield_now();
            continue;
        }
        backoff.reset();
        let Some(mut buffer) = link.acquire(|| false) else {
            return next;
        };
        let mut dry = false;
        while buffer.len() < link.batch() && schedule.due_ns(next) <= now_ns.min(end_ns) {
            let Some(instruction) = gateway.next(schedule.due_ns(next)) else {
                dry = true;
                break;
            };
            buffer.push(instruction);
            next += 1;
        }
        link.send(buffer);
        if dry {
            return next;
        }
    }
}
