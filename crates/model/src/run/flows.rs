//! The flows a run measures: each channel, and each instrument's payments
//! and returned cheques, with what each payment did (arrived, settled,
//! became available, failed, was carried past the run's end).

use clearsim_core::time::SimTime;

use crate::metrics::flow::FlowStats;

/// Per channel and per flow (instruments, then the returned cheques of
/// each), their statistics.
pub struct Flows {
    pub channels: Vec<FlowStats>,
    pub flows: Vec<FlowStats>,
    touched: Touched,
}

/// (payments, value, settled value, unsettled value) over all channels.
pub type DayCounts = (u64, i64, i64, i64);

impl Flows {
    pub fn new(channels: usize, flows: usize) -> Flows {
        Flows {
            channels: (0..channels).map(|_| FlowStats::new()).collect(),
            flows: (0..flows).map(|_| FlowStats::new()).collect(),
            touched: Touched::new(channels, flows),
        }
    }

    #[inline]
    pub fn arrived(&mut self, channel: usize, flow: usize, amount_fen: i64) {
        self.channels[channel].arrived(amount_fen);
        self.flows[flow].arrived(amount_fen);
        self.touched.mark(channel, flow);
    }

    #[inline]
    pub fn settled(
        &mut self,
        (channel, flow): (usize, usize),
        amount_fen: i64,
        at: SimTime,
        delay_ms: u32,
        worst_ms: u32,
    ) {
        self.channels[channel].settled(amount_fen, at, delay_ms, worst_ms);
        self.flows[flow].settled(amount_fen, at, delay_ms, worst_ms);
        self.touched.mark(channel, flow);
    }

    /// The payee can use the funds, `transit_ms` after the order.
    #[inline]
    pub fn available(&mut self, (channel, flow): (usize, usize), amount_fen: i64, transit_ms: u32) {
        self.channels[channel].available(amount_fen, transit_ms);
        self.flows[flow].available(amount_fen, transit_ms);
    }

    pub fn dishonoured(&mut self, (channel, flow): (usize, usize)) {
        self.flows[flow].dishonoured();
        self.channels[channel].dishonoured();
    }

    pub fn unsettled(&mut self, (channel, flow): (usize, usize), amount_fen: i64, worst_ms: u32) {
        self.channels[channel].unsettled(amount_fen, worst_ms);
        self.flows[flow].unsettled(amount_fen, worst_ms);
        self.touched.mark(channel, flow);
    }

    pub fn carried_past_the_end(&mut self, (channel, flow): (usize, usize), amount_fen: i64) {
        self.channels[channel].carried_past_the_end(amount_fen);
        self.flows[flow].carried_past_the_end(amount_fen);
        self.touched.mark(channel, flow);
    }

    /// The instant `at` is over. Within the timeline bucket of the last
    /// instant closed, only the flows whose held value changed are closed
    /// (closing the others would change nothing).
    pub fn instant_closed(&mut self, at: SimTime) {
        let bucket = FlowStats::bucket_of(at);
        let touched = &mut self.touched;
        if touched.bucket == Some(bucket) {
            for (is_channel, index) in touched.list.drain(..) {
                let index = index as usize;
                if is_channel {
                    touched.channel[index] = false;
                    self.channels[index].instant_closed(at);
                } else {
                    touched.flow[index] = false;
                    self.flows[index].instant_closed(at);
                }
            }
            return;
        }
        touched.clear();
        touched.bucket = Some(bucket);
        for flow in self.channels.iter_mut().chain(self.flows.iter_mut()) {
            flow.instant_closed(at);
        }
    }

    /// The business day is over.
    pub fn new_day(&mut self) {
        for flow in self.channels.iter_mut().chain(self.flows.iter_mut()) {
            flow.new_day();
        }
        self.touched.bucket = None;
    }

    /// Over all channels so far: (payments, value, settled value,
    /// unsettled value).
    pub fn counts(&self) -> DayCounts {
        self.channels.iter().fold((0, 0, 0, 0), |acc, flow| {
            let c = flow.counts();
            (
                acc.0 + c.payments,
                acc.1 + c.value_fen,
                acc.2 + c.settled_value_fen,
                acc.3 + c.unsettled_value_fen,
            )
        })
    }
}

/// The channels and flows whose held value changed since the last instant
/// closed, and the timeline bucket of that instant.
#[derive(Clone, Debug, Default)]
struct Touched {
    channel: Vec<bool>,
    flow: Vec<bool>,
    list: Vec<(bool, u32)>,
    /// The bucket of the last instant closed today (`None`: none yet).
    bucket: Option<usize>,
}

impl Touched {
    fn new(channels: usize, flows: usize) -> Touched {
        Touched {
            channel: vec![false; channels],
            flow: vec![false; flows],
            list: Vec::with_capacity(channels + flows),
            bucket: None,
        }
    }

    #[inline]
    fn mark(&mut self, channel: usize, flow: usize) {
        if !std::mem::replace(&mut self.channel[channel], true) {
            self.list.push((true, channel as u32));
        }
        if !std::mem::replace(&mut self.flow[flow], true) {
            self.list.push((false, flow as u32));
        }
    }

    fn clear(&mut self) {
        for (is_channel, index) in self.list.drain(..) {
            if is_channel {
                self.channel[index as usize] = false;
            } else {
                self.flow[index as usize] = false;
            }
        }
    }
}
