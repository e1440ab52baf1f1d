//! Which core each pipeline thread runs on.

use super::Load;

/// Where the pipeline's threads run. In open loop (latency matters), with at
/// least two cores, the engine has the last core to itself and polls its
/// links (it never parks, so no gateway ever has to wake it); gateways run
/// on the other cores, the reporter beside gateway 0, parked when idle. Left
/// to the scheduler, three threads on two cores migrate, and every migration
/// or remote wake-up shows in the latency tail. In closed loop (throughput
/// matters) nothing is pinned and idle threads park, so that whichever
/// thread has work gets the cores (measured: docs/PERFORMANCE.md).
pub(super) struct Placement {
    pub(super) cores: Vec<core_affinity::CoreId>,
}

impl Placement {
    pub(super) fn new(producers: usize, load: Load) -> Placement {
        let cores = core_affinity::get_core_ids().unwrap_or_default();
        let latency_bound = matches!(load, Load::OpenLoop { .. });
        let cores = if latency_bound && cores.len() >= 2 && producers < cores.len() * 4 {
            cores
        } else {
            Vec::new()
        };
        Placement { cores }
    }

    pub(super) fn pin_gateway(&self, gateway: usize) {
        if let Some((_, gateway_cores)) = self.cores.split_last() {
            let _ = core_affinity::set_for_current(gateway_cores[gateway % gateway_cores.len()]);
        }
    }

    pub(super) fn pin_reporter(&self) {
        self.pin_gateway(0);
    }

    pub(super) fn pin_engine(&self) {
        if let Some(&last) = self.cores.last() {
            let _ = core_affinity::set_for_current(last);
        }
    }
}
