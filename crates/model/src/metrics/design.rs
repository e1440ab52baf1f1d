//! Liquidity bounds under a design's own channels: every payment settles
//! as its channel would with unlimited credit — a gross channel's on
//! arrival, a netting channel's at its next session (all pending at once),
//! and one that arrives after its channel's last session not today (it is
//! carried). The lowest position of each participant at an instant's end
//! gives the upper bound, the day's final position the lower bound.
//!
//! The contract's bounds (`lower_bound`, `upper_bound` of a replay's
//! summary.json) time every payment as gross settlement on arrival. Under
//! netting channels that is not a bound: a bank that pays gross while its
//! receipts wait for a session dips deeper than on arrival
//! (docs/decisions.md, "Bounds that bound").

use super::Positions;
use clearsim_core::time::SimTime;

/// One channel's sessions, and the net of its pending payments.
#[derive(Clone, Debug)]
struct Netting {
    sessions: Vec<SimTime>,
    /// The next session not yet applied.
    next: usize,
    pending_fen: Vec<i64>,
    /// Participants with a pending net, each once.
    touched: Vec<u32>,
    is_touched: Vec<bool>,
}

/// Positions as the design settles them with unlimited credit.
#[derive(Clone, Debug)]
pub struct DesignPositions {
    positions: Positions,
    /// Per channel: `None` for a gross one.
    netting: Vec<Option<Netting>>,
}

impl DesignPositions {
    /// `sessions[c]`: channel `c`'s session times (sorted), `None` if gross.
    /// The bounds count the first `banks` participants.
    pub fn new(participants: usize, sessions: &[Option<Vec<SimTime>>], banks: usize) -> Self {
        DesignPositions {
            positions: Positions::new(participants).counting(banks),
            netting: sessions
                .iter()
                .map(|s| {
                    s.as_ref().map(|sessions| Netting {
                        sessions: sessions.clone(),
                        next: 0,
                        pending_fen: vec![0; participants],
                        touched: Vec::new(),
                        is_touched: vec![false; participants],
                    })
                })
                .collect(),
        }
    }

    /// A payment of `channel` arrives at `at`.
    #[inline]
    pub fn arrived(
        &mut self,
        channel: usize,
        at: SimTime,
        sender: u32,
        receiver: u32,
        amount_fen: i64,
    ) {
        self.sessions_before(at);
        match self.netting.get_mut(channel) {
            Some(Some(net)) => {
                if net.next < net.sessions.len() {
                    net.add(sender, -amount_fen);
                    net.add(receiver, amount_fen);
                }
            }
            _ => self.positions.add(sender, receiver, amount_fen),
        }
    }

    /// The instant `at` is over: sessions due at `at` settle (after its
    /// arrivals, as the engine orders them), then its positions count.
    pub fn instant_closed(&mut self, at: SimTime) {
        self.sessions_before(at);
        self.sessions_at(at);
        self.positions.end_instant();
    }

    /// The day is over: any session not yet applied settles.
    pub fn close(&mut self) {
        self.sessions_at(SimTime(u32::MAX));
        self.positions.end_instant();
    }

    /// Sessions strictly before `at`, each an instant of its own.
    fn sessions_before(&mut self, at: SimTime) {
        while let Some(time) = self.next_session().filter(|&t| t < at) {
            self.sessions_at(time);
            self.positions.end_instant();
        }
    }

    /// Every channel's sessions at or before `at` settle, in channel order.
    fn sessions_at(&mut self, at: SimTime) {
        let positions = &mut self.positions;
        for net in self.netting.iter_mut().flatten() {
            while net.sessions.get(net.next).is_some_and(|&t| t <= at) {
                net.settle(positions);
                net.next += 1;
            }
        }
    }

    fn next_session(&self) -> Option<SimTime> {
        self.netting
            .iter()
            .flatten()
            .filter_map(|n| n.sessions.get(n.next).copied())
            .min()
    }

    /// Σ max(0, −final position): what settles today by one net.
    pub fn lower_bound_fen(&self) -> i64 {
        self.positions.lower_bound_fen()
    }

    /// Σ max(0, −lowest position at an instant's end).
    pub fn upper_bound_fen(&self) -> i64 {
        self.positions.upper_bound_fen()
    }

    /// Per participant: max(0, −final position).
    pub fn participant_lower_fen(&self) -> Vec<i64> {
        self.positions.participant_lower_fen()
    }

    /// Per participant: max(0, −lowest position at an instant's end).
    pub fn participant_upper_fen(&self) -> Vec<i64> {
        self.positions.participant_upper_fen()
    }
}

impl Netting {
    #[inline]
    fn add(&mut self, participant: u32, amount_fen: i64) {
        let i = participant as usize;
        self.pending_fen[i] += amount_fen;
        if !self.is_touched[i] {
            self.is_touched[i] = true;
            self.touched.push(participant);
        }
    }

    /// A session with unlimited credit: every pending payment settles.
    fn settle(&mut self, positions: &mut Positions) {
        for &p in &self.touched {
            let i = p as usize;
            positions.shift(p, std::mem::take(&mut self.pending_fen[i]));
            self.is_touched[i] = false;
        }
        self.touched.clear();
    }
}
