//! The one way every experiment runs: its replications' seeds (this
//! shard's, when the study is spread over machines), its jobs in parallel
//! over the threads with a tick per job done, its records summarised.
//! `run`, `compare`, `sweep`, `plan` and `optimise` all go through
//! [`execute`].

use clearsim_core::ParseError;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use crate::StudyError;
use crate::summary::Partial;

/// Most replications one study may have.
pub const MAX_REPLICATIONS: u32 = 10_000;

/// A controlled experiment: records over seeds, and a summary of them.
pub trait Experiment: Sync {
    /// What it keeps of its seeds (one seed's, or, for a search over all
    /// of them, the whole).
    type Record: Send;
    /// What it reports: a pure function of the records, so that shards
    /// merge into exactly what one machine would have written.
    type Summary;

    /// Jobs the experiment runs for `seeds` (for a progress bar; an
    /// adaptive search grows its bar as it goes).
    fn jobs(&self, seeds: usize) -> usize;

    /// Whether its seeds may be split over shards (`Ok`), or why not: a
    /// search that uses all of them at once may not, nor a report that
    /// `clearsim merge` cannot put together from its shards.
    fn shards(&self) -> Result<(), &'static str> {
        Ok(())
    }

    /// The records of `seeds`, its jobs run through `runner`.
    fn records(&self, seeds: &[u64], runner: &Runner<'_>) -> Result<Vec<Self::Record>, StudyError>;

    /// The summary of `records`; `partial` marks a shard's.
    fn summarise(
        &self,
        records: Vec<Self::Record>,
        partial: Option<Partial>,
    ) -> Result<Self::Summary, StudyError>;
}

/// Runs `experiment` over this process's seeds and summarises it.
pub fn execute<E: Experiment>(
    experiment: &E,
    seeds: &Seeds,
    runner: &Runner<'_>,
) -> Result<E::Summary, StudyError> {
    if seeds.shard.is_some()
        && let Err(why) = experiment.shards()
    {
        return Err(StudyError::Request(format!(
            "--shard: {why}; run its replications in one process"
        )));
    }
    let (mine, partial) = seeds.mine()?;
    let records = experiment.records(&mine, runner)?;
    experiment.summarise(records, partial)
}

/// The replications of a study: seeds `first … first+replications−1`, and
/// which slice of them this process runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Seeds {
    pub first: u64,
    pub replications: u32,
    pub shard: Option<Shard>,
}

impl Seeds {
    /// Every seed of the study ([`Seeds::mine`] refuses a study whose
    /// seeds would pass u64::MAX; saturating here keeps this total).
    pub fn all(&self) -> Vec<u64> {
        (0..u64::from(self.replications))
            .map(|i| self.first.saturating_add(i))
            .collect()
    }

    /// This process's seeds, and the partial marker of a shard.
    pub fn mine(&self) -> Result<(Vec<u64>, Option<Partial>), StudyError> {
        if !(1..=MAX_REPLICATIONS).contains(&self.replications) {
            return Err(StudyError::Request(format!(
                "{} replications: from 1 to {MAX_REPLICATIONS}",
                self.replications
            )));
        }
        // Seeds are first … first + N − 1: refused, never wrapped, past
        // the largest seed (a wrapped list is not in order).
        if self
            .first
            .checked_add(u64::from(self.replications) - 1)
            .is_none()
        {
            return Err(StudyError::Request(format!(
                "--seed {} with {} replications: the last seed would pass {} (use a smaller --seed)",
                self.first,
                self.replications,
                u64::MAX
            )));
        }
        let all = self.all();
        let Some(shard) = self.shard else {
            return Ok((all, None));
        };
        if shard.of > self.replications {
            return Err(StudyError::Request(format!(
                "--shard {shard}: more shards than the {} replications",
                self.replications
            )));
        }
        let mine = shard.of_seeds(&all).to_vec();
        let partial = Partial {
            shard: shard.to_string(),
            expected_seeds: all,
        };
        Ok((mine, Some(partial)))
    }
}

/// The `index`-th (1-based) of `of` contiguous slices of the replications.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub index: u32,
    pub of: u32,
}

impl Shard {
    /// Parses `K/N` with 1 ≤ K ≤ N.
    pub fn parse(text: &str) -> Result<Shard, ParseError> {
        let (k, n) = text
            .split_once('/')
            .ok_or_else(|| format!("`{text}` is not K/N"))?;
        let parse = |v: &str| v.trim().parse::<u32>().ok();
        match (parse(k), parse(n)) {
            (Some(index), Some(of)) if index >= 1 && index <= of && of <= MAX_REPLICATIONS => {
                Ok(Shard { index, of })
            }
            _ => Err(format!("`{text}` is not K/N with 1 ≤ K ≤ N ≤ {MAX_REPLICATIONS}").into()),
        }
    }

    /// This shard's seeds: slice K of N, as even as can be.
    pub fn of_seeds<'a>(&self, seeds: &'a [u64]) -> &'a [u64] {
        let len = seeds.len() as u64;
        let from = (len * u64::from(self.index - 1) / u64::from(self.of)) as usize;
        let to = (len * u64::from(self.index) / u64::from(self.of)) as usize;
        &seeds[from..to]
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.of)
    }
}

/// Where an experiment's jobs run: on up to `threads` threads, `tick`ing
/// after each; no job starts once `stop` is set (Ctrl-C in Python).
#[derive(Clone, Copy)]
pub struct Runner<'a> {
    pub threads: usize,
    pub tick: &'a (dyn Fn() + Sync),
    pub stop: Option<&'a AtomicBool>,
}

impl Runner<'_> {
    /// `work` on every job, in parallel; results in job order. Stopped
    /// before every job ran: [`StudyError::Interrupted`].
    pub fn map<T, R, F>(&self, jobs: &[T], work: F) -> Result<Vec<R>, StudyError>
    where
        T: Sync,
        R: Send,
        F: Fn(&T) -> R + Sync,
    {
        let never = AtomicBool::new(false);
        let stop = self.stop.unwrap_or(&never);
        let slots = parallel_slots(jobs, self.threads, stop, |job| {
            let result = work(job);
            (self.tick)();
            result
        });
        slots
            .into_iter()
            .map(|slot| slot.ok_or(StudyError::Interrupted))
            .collect()
    }
}

/// Runs `jobs` on up to `threads` threads; results in job order. Each
/// result lands in its job's slot: the output never depends on thread
/// timing.
pub fn parallel_map<T, R, F>(jobs: &[T], threads: usize, work: F) -> Vec<R>
where
    T: Sync,
    R: Send,
    F: Fn(&T) -> R + Sync,
{
    parallel_slots(jobs, threads, &AtomicBool::new(false), work)
        .into_iter()
        .map(|slot| slot.unwrap_or_else(|| unreachable!("every job ran")))
        .collect()
}

/// [`parallel_map`], taking no new job once `stop` is set: the slots of
/// jobs never started are `None`.
fn parallel_slots<T, R, F>(jobs: &[T], threads: usize, stop: &AtomicBool, work: F) -> Vec<Option<R>>
where
    T: Sync,
    R: Send,
    F: Fn(&T) -> R + Sync,
{
    let next = AtomicUsize::new(0);
    let threads = threads.clamp(1, jobs.len().max(1));
    let mut slots: Vec<Option<R>> = (0..jobs.len()).map(|_| None).collect();
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    // Bounded: each turn takes a job or ends.
                    while !stop.load(Ordering::Relaxed) {
                        let index = next.fetch_add(1, Ordering::Relaxed);
                        let Some(job) = jobs.get(index) else { break };
                        done.push((index, work(job)));
                    }
                    done
                })
            })
            .collect();
        for handle in handles {
            // A worker panics only on a bug; propagate it.
            for (index, result) in handle
                .join()
                .unwrap_or_else(|e| std::panic::resume_unwind(e))
            {
                slots[index] = Some(result);
            }
        }
    });
    slots
}

/// The cores to use.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parallel_map_keeps_job_order() {
        let jobs: Vec<u64> = (0..50).collect();
        assert_eq!(
            parallel_map(&jobs, 4, |&j| j * j),
            jobs.iter().map(|j| j * j).collect::<Vec<_>>()
        );
    }

    #[test]
    fn shards_cover_the_seeds_once() {
        let seeds = Seeds {
            first: u64::MAX - 4,
            replications: 5,
            shard: None,
        };
        let all = seeds.all();
        assert_eq!(all, (u64::MAX - 4..=u64::MAX).collect::<Vec<_>>());
        // One more would pass u64::MAX: refused, never wrapped.
        let past = Seeds {
            first: u64::MAX - 3,
            ..seeds
        };
        assert!(past.mine().is_err());
        let mut joined = Vec::new();
        for index in 1..=3 {
            let shard = Some(Shard { index, of: 3 });
            let (mine, partial) = Seeds { shard, ..seeds }.mine().expect("a shard");
            assert_eq!(partial.map(|p| p.expected_seeds), Some(all.clone()));
            joined.extend(mine);
        }
        assert_eq!(joined, all);
        let too_many = Seeds {
            shard: Some(Shard { index: 1, of: 6 }),
            ..seeds
        };
        assert!(too_many.mine().is_err());
    }
}
