//! Seeded synthetic workloads. Everything here is a pure function of its
//! parameters and seed: the PRNG is explicit (PCG), never the thread RNG.

pub mod amounts;
pub mod city;
pub mod sampling;
pub mod stream;

use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64Mcg;

use clearsim_core::ledger::Payment;
use clearsim_core::time::SimTime;

/// A uniform day for benchmarks and tests: Poisson arrivals over
/// `[0, day_end]`, uniformly random sender and receiver, amounts uniform in
/// `1..=2·mean_amount_fen`.
#[derive(Clone, Debug)]
pub struct UniformDay {
    pub participants: u32,
    pub payments: usize,
    pub day_end: SimTime,
    pub mean_amount_fen: i64,
    pub seed: u64,
}

impl UniformDay {
    /// The day's payments in processing order (keys 0, 1, 2, …).
    pub fn generate(&self) -> Vec<Payment> {
        assert!(self.participants >= 2, "a day needs two participants");
        let mut rng = Pcg64Mcg::seed_from_u64(self.seed);
        let mut out = Vec::with_capacity(self.payments);
        let span = u64::from(self.day_end.ms());
        let amount_span = (self.mean_amount_fen.max(1) as u64) * 2;
        for key in 0..self.payments as u64 {
            // Evenly spread arrival times, jittered: sorted by construction.
            let base = span * key / self.payments as u64;
            let step = (span / self.payments as u64).max(1);
            let submit = (base + below(&mut rng, step)).min(span) as u32;
            let sender = below(&mut rng, u64::from(self.participants)) as u32;
            let offset = 1 + below(&mut rng, u64::from(self.participants - 1)) as u32;
            let receiver = (sender + offset) % self.participants;
            out.push(Payment {
                key,
                ..Payment::new(
                    SimTime(submit),
                    sender,
                    receiver,
                    1 + below(&mut rng, amount_span) as i64,
                )
            });
        }
        out
    }
}

/// Uniform integer in `0..bound` by multiply-shift (Lemire), without the
/// rejection step: the bias is below 2^-32 for the bounds used here, and the
/// result is the same on every platform.
#[inline]
pub fn below<R: Rng>(rng: &mut R, bound: u64) -> u64 {
    ((u128::from(rng.next_u64()) * u128::from(bound)) >> 64) as u64
}
