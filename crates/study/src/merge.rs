//! `clearsim merge`: summaries of shards, or of separate runs of other
//! seeds, of one study pooled into exactly the summary one machine running
//! every seed would have written (a summary is a pure function of its
//! records).

use crate::schema::Summary;

use crate::summary::SummaryError;

impl Summary {
    /// What kind of summary it is, as messages name it.
    pub fn kind(&self) -> &'static str {
        match self {
            Summary::Replay(_) => "replay",
            Summary::Run(_) => "run",
            Summary::Compare(_) => "compare",
            Summary::Sweep(_) => "sweep",
        }
    }

    /// Its seeds, and its shard marker while some expected seed is missing
    /// (a replay has neither).
    pub fn seeds(&self) -> (&[u64], Option<&crate::summary::Partial>) {
        match self {
            Summary::Run(s) => (&s.seeds, s.partial.as_ref()),
            Summary::Compare(s) => (&s.seeds, s.partial.as_ref()),
            Summary::Sweep(s) => (&s.seeds, s.partial.as_ref()),
            Summary::Replay(_) => (&[], None),
        }
    }

    /// Its seeds (and shard, if any), in a phrase: `seeds 1, 2 (shard 1/2)`.
    pub fn sources(&self) -> String {
        let (seeds, partial) = self.seeds();
        if let Summary::Replay(_) = self {
            return String::new();
        }
        let shard = partial.map_or(String::new(), |p| format!(" (shard {})", p.shard));
        let seeds: Vec<String> = seeds.iter().map(u64::to_string).collect();
        format!("seeds {}{shard}", seeds.join(", "))
    }
}

/// Merges summaries of one kind (run, compare or sweep) of one study.
pub fn merge(summaries: Vec<Summary>) -> Result<Summary, SummaryError> {
    let first = summaries.first().map_or("run", Summary::kind);
    if first == "replay" {
        return Err(SummaryError::Records(
            "replays do not merge: each is one day of its own files".into(),
        ));
    }
    if let Some(other) = summaries.iter().find(|s| s.kind() != first) {
        return Err(SummaryError::Records(format!(
            "all inputs must be {first} summaries, not a {} one",
            other.kind()
        )));
    }
    let mut runs = Vec::new();
    let mut compares = Vec::new();
    let mut sweeps = Vec::new();
    for summary in summaries {
        match summary {
            Summary::Run(s) => runs.push(*s),
            Summary::Compare(s) => compares.push(*s),
            Summary::Sweep(s) => sweeps.push(*s),
            Summary::Replay(_) => {}
        }
    }
    let merged = match first {
        "run" => Summary::Run(Box::new(crate::summary::RunSummary::merge(runs)?)),
        "compare" => Summary::Compare(Box::new(crate::summary::CompareSummary::merge(compares)?)),
        _ => Summary::Sweep(Box::new(crate::summary::SweepSummary::merge(sweeps)?)),
    };
    Ok(merged)
}
