//! The check of the exercise "calc_pi on k threads" ([`check_calc_pi_k`]): which thread counted
//! which samples, with which seed, and when.

use std::thread::{self, ThreadId};

use crate::pi::{self, PiError, PiEstimate};

/// Checks a learner's `calc_pi` on `k` threads: the samples split exactly, every range counted
/// once with the seed given, on `k` different threads that count at the same time.
///
/// `calc_pi_k(samples, k, seed)` must count with [`pi::count_hits`] over ranges that cover
/// `0..samples` exactly once, so its result equals [`pi::calc_pi`]`(samples, seed)`. The check
/// records every call of `pi::count_hits` (which thread, which samples, which seed, when), so it
/// can say what happened: samples counted twice or never, another seed, no threads at all, or
/// threads that ran one after the other. A busy machine can delay a thread, so the "at the same
/// time" part is tried three times before it fails.
///
/// # Errors
/// A message saying what is wrong, for [`crate::exercise::check_within`].
///
/// # Examples
/// ```
/// use parlab::{pi, threads};
/// let own = |samples: u64, k: usize, seed: u64| {
///     let ranges = pi::split(samples, k)?;
///     let hits = std::thread::scope(|s| {
///         let handles: Vec<_> = ranges.into_iter()
///             .map(|r| s.spawn(move || pi::count_hits(seed, r.start, r.end - r.start)))
///             .collect();
///         handles.into_iter().map(|h| h.join().unwrap()).sum()
///     });
///     pi::PiEstimate::from_hits(hits, samples)
/// };
/// assert!(threads::check_calc_pi_k(own).is_ok());
/// // The library's own version is recognised: the exercise asks for yours.
/// assert!(threads::check_calc_pi_k(pi::calc_pi_threads).unwrap_err().contains("library's own"));
/// // Ignoring k is caught: one call of pi::count_hits on the calling thread.
/// let serial = |samples: u64, k: usize, seed: u64| {
///     pi::split(samples, k)?;
///     pi::calc_pi(samples, seed)
/// };
/// assert!(threads::check_calc_pi_k(serial).unwrap_err().contains("no thread"));
/// ```
pub fn check_calc_pi_k<F>(calc_pi_k: F) -> Result<String, String>
where
    F: Fn(u64, usize, u64) -> Result<PiEstimate, PiError>,
{
    // The work is in a non-generic function, compiled once in the crate, not in every cell.
    check_calc_pi_k_dyn(&calc_pi_k)
}

/// The seed the calc_pi_k check passes.
const CHECK_SEED: u64 = 2024;

fn check_calc_pi_k_dyn(
    calc_pi_k: &dyn Fn(u64, usize, u64) -> Result<PiEstimate, PiError>,
) -> Result<String, String> {
    let seed = CHECK_SEED;
    // Awkward counts (remainders), then one big enough that threads surely overlap in time.
    const BIG: (u64, usize) = (90_000_001, 3);
    for (samples, k) in [
        (1_000_000, 1),
        (1_000_003, 2),
        (1_000_003, 3),
        (999_999, 4),
        (10, 7),
        BIG,
    ] {
        // Counted unwatched: the check's own counting is not the learner's.
        let want_hits = pi::count_hits_unwatched(seed, 0, samples);
        let mut attempts_left = if (samples, k) == BIG { 3 } else { 1 };
        loop {
            attempts_left -= 1;
            let caller = thread::current().id();
            let _ = crate::exercise::take_solution(&[]);
            let (got, calls) = pi::probe::watch(|| calc_pi_k(samples, k, seed));
            let call = format!("calc_pi_k({samples}, {k}, {seed})");
            if let Some(name) = crate::exercise::take_solution(&[
                crate::exercise::Solution::CalcPiThreads,
                crate::exercise::Solution::CalcPiRayon,
            ]) {
                return Err(crate::exercise::solution_message(name));
            }
            let calls = calls.map_err(|dropped| {
                format!(
                    "{call} called pi::count_hits more than {} times (at least {dropped} more \
                     calls were not recorded): k = {k} needs {k} calls, one per range. Is there \
                     a loop that never ends, or one call per sample?",
                    pi::probe::MAX_CALLS
                )
            })?;
            let got = got.map_err(|e| format!("{call} returned the error \"{e}\""))?;
            let run = Run {
                samples,
                k,
                seed,
                caller,
                calls,
            };
            run.coverage(&call)?;
            if got.samples != samples {
                return Err(format!(
                    "{call} reports {} samples, expected {samples}",
                    got.samples
                ));
            }
            if got.hits != want_hits {
                return Err(format!(
                    "{call} counted {} hits, expected {want_hits}, although every sample was \
                     counted once: add up the hits that the threads' join() hands back, and pass \
                     their sum to pi::PiEstimate::from_hits",
                    got.hits
                ));
            }
            run.threads(&call)?;
            if (samples, k) != BIG {
                break; // ranges this small take less time than starting a thread
            }
            match run.overlap(&call) {
                Ok(()) => break,
                Err(e) if attempts_left == 0 => return Err(e),
                Err(_) => {} // a busy machine may have delayed a thread: try again
            }
        }
    }
    for (samples, k, what) in [
        (1000, 0, "0 threads"),
        (0, 2, "0 samples"),
        (3, 4, "4 threads for 3 samples"),
    ] {
        // Watched, though the calls are not looked at: they are the learner's, not other code's.
        if let (Ok(e), _) = pi::probe::watch(|| calc_pi_k(samples, k, seed)) {
            return Err(format!(
                "{what} should be an error (pi::split gives one), but calc_pi_k gave {e}"
            ));
        }
    }
    Ok(format!(
        "the same hits as pi::calc_pi for 1 to 7 threads and odd sample counts, every range \
         counted once on its own thread, {} threads counting at the same time; bad input is an error",
        BIG.1
    ))
}

/// One call of a learner's calc_pi_k, with the calls of `pi::count_hits` it made.
struct Run {
    samples: u64,
    k: usize,
    seed: u64,
    caller: ThreadId,
    calls: Vec<pi::probe::Call>,
}

impl Run {
    /// The calls with the seed given (others may come from unrelated code running meanwhile).
    fn seeded(&self) -> impl Iterator<Item = &pi::probe::Call> {
        self.calls.iter().filter(move |c| c.seed == self.seed)
    }

    /// Every sample of `0..samples` counted exactly once, with the seed given.
    fn coverage(&self, call: &str) -> Result<(), String> {
        let seeded: Vec<(u64, u64)> = self
            .seeded()
            .map(|c| (c.first, c.first.saturating_add(c.samples)))
            .collect();
        let (twice, never) = coverage_gaps(&seeded, self.samples);
        if seeded.is_empty() {
            return Err(format!(
                "{call} never called pi::count_hits with the seed it was given ({}): count each \
                 range with pi::count_hits(seed, range.start, range.end - range.start)",
                self.seed
            ));
        }
        if let Some((lo, hi)) = never {
            let other: Vec<u64> = self
                .calls
                .iter()
                .filter(|c| c.seed != self.seed && c.first >= lo && c.first + c.samples <= hi)
                .map(|c| c.seed)
                .collect();
            if !other.is_empty() {
                return Err(format!(
                    "{call}: samples {lo}..{hi} were counted with seed {} instead of {}: give every \
                     thread the same seed. Sample i of a seed's stream is the same point whichever \
                     thread counts it, so the threads' hits add up to calc_pi's only for one seed",
                    list(&other),
                    self.seed
                ));
            }
        }
        if let Some((lo, hi, times)) = twice {
            let same_range = seeded.len() > 1 && seeded.iter().all(|r| *r == seeded[0]);
            let what = if same_range {
                format!(
                    "every thread counted the same samples {lo}..{hi}, so they were counted {times} times"
                )
            } else {
                format!("samples {lo}..{hi} were counted {times} times")
            };
            let missing = never.map_or(String::new(), |(a, b)| {
                format!(", and samples {a}..{b} never")
            });
            return Err(format!(
                "{call}: {what}{missing}: give each thread its own range, from pi::split(samples, k)"
            ));
        }
        if let Some((lo, hi)) = never {
            let hint = if hi == self.samples {
                "the last samples were dropped (the remainder of samples / k?): pi::split gives ranges that cover every sample"
            } else {
                "the ranges from pi::split(samples, k) cover every sample once: count each of them"
            };
            return Err(format!(
                "{call}: samples {lo}..{hi} were never counted: {hint}"
            ));
        }
        Ok(())
    }

    /// The ranges were counted on `k` different threads.
    fn threads(&self, call: &str) -> Result<(), String> {
        let mut threads: Vec<ThreadId> = self.seeded().map(|c| c.thread).collect();
        threads.sort_by_key(|t| format!("{t:?}"));
        threads.dedup();
        if self.k < 2 || threads.len() >= self.k {
            return Ok(());
        }
        let pieces = self.seeded().count();
        if threads == [self.caller] {
            return Err(if pieces == 1 {
                format!(
                    "{call}: all {} samples were counted in one piece on the thread that called \
                     calc_pi_k, so k = {} was ignored and no thread was started: count each range \
                     of pi::split(samples, k) on its own thread",
                    self.samples, self.k
                )
            } else {
                format!(
                    "{call}: the {pieces} ranges were counted one after the other on the thread \
                     that called calc_pi_k: no thread was started. Count each range on its own \
                     thread (std::thread::scope, then s.spawn for each range)"
                )
            });
        }
        Err(format!(
            "{call}: the samples were counted on {} thread{} for k = {}: start one thread per range",
            threads.len(),
            if threads.len() == 1 { "" } else { "s" },
            self.k
        ))
    }

    /// The `k` threads were all counting at one moment.
    fn overlap(&self, call: &str) -> Result<(), String> {
        if self.k < 2 {
            return Ok(());
        }
        let latest_start = self.seeded().map(|c| c.start).max();
        let earliest_end = self.seeded().map(|c| c.end).min();
        match (latest_start, earliest_end) {
            (Some(start), Some(end)) if start < end => Ok(()),
            _ => Err(format!(
                "{call}: the {} ranges were counted on {} threads, but one after the other: no \
                 moment had them all counting (tried 3 times). Each thread was joined before the \
                 next one started; a lazy iterator does that: in `.map(spawn).map(join)` each \
                 item is spawned and joined before the next. Collect the handles into a Vec \
                 first, then join them",
                self.seeded().count(),
                self.k
            )),
        }
    }
}

/// Samples `lo..hi` counted `times` times: `(lo, hi, times)`.
type Repeated = (u64, u64, usize);

/// Where ranges `[lo, hi)` miss or repeat samples of `0..samples`: the first stretch counted more
/// than once (with how often), and the first stretch never counted.
pub(super) fn coverage_gaps(
    ranges: &[(u64, u64)],
    samples: u64,
) -> (Option<Repeated>, Option<(u64, u64)>) {
    let mut edges: Vec<u64> = ranges
        .iter()
        .flat_map(|&(a, b)| [a.min(samples), b.min(samples)])
        .chain([0, samples])
        .collect();
    edges.sort_unstable();
    edges.dedup();
    let (mut twice, mut never) = (None, None);
    for w in edges.windows(2) {
        let (lo, hi) = (w[0], w[1]);
        let times = ranges.iter().filter(|&&(a, b)| a <= lo && hi <= b).count();
        if times == 0 {
            never = never.or(Some((lo, hi)));
            if let Some((a, b)) = never {
                if b == lo {
                    never = Some((a, hi));
                }
            }
        } else if times > 1 {
            twice = twice.or(Some((lo, hi, times)));
            if let Some((a, b, t)) = twice {
                if b == lo && t == times {
                    twice = Some((a, hi, t));
                }
            }
        }
    }
    (twice, never)
}

/// `1, 2 and 3`, without repeats.
pub(super) fn list(values: &[u64]) -> String {
    let mut v = values.to_vec();
    v.sort_unstable();
    v.dedup();
    let words: Vec<String> = v.iter().map(u64::to_string).collect();
    match words.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => words.join(""),
    }
}
