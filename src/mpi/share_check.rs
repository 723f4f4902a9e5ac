//! The check of lesson 05's exercise `my_share(samples, rank, size)`.

use std::ops::Range;

/// Checks a learner's `my_share(samples, rank, size)`: for every size tried (remainders of 0, 1
/// and several samples, more ranks than samples, no samples) the shares are in rank order, cover
/// `0..samples` with no gap and no overlap, differ by at most one sample, and count the serial
/// run's hits exactly.
///
/// # Errors
/// A message naming the sizes tried and the shares given, for [`crate::exercise::check_within`].
///
/// # Examples
/// ```
/// use parlab::mpi::check_my_share;
/// let right = |samples: u64, rank: usize, size: usize| {
///     let (base, extra) = (samples / size as u64, samples % size as u64);
///     let rank = rank as u64;
///     let first = rank * base + rank.min(extra);
///     first..first + base + u64::from(rank < extra)
/// };
/// assert!(check_my_share(right).is_ok());
/// // The whole remainder on the last rank: 10 on 4 ranks gives 2, 2, 2, 4.
/// let last_takes_all = |samples: u64, rank: usize, size: usize| {
///     let base = samples / size as u64;
///     let first = rank as u64 * base;
///     first..if rank + 1 == size { samples } else { first + base }
/// };
/// assert!(check_my_share(last_takes_all).unwrap_err().contains("the last rank"));
/// ```
pub fn check_my_share<F>(my_share: F) -> Result<String, String>
where
    F: Fn(u64, usize, usize) -> Range<u64>,
{
    // The work is in a non-generic function, compiled once in the crate, not in every cell.
    check_dyn(&my_share)
}

fn check_dyn(my_share: &dyn Fn(u64, usize, usize) -> Range<u64>) -> Result<String, String> {
    use crate::exercise::{Solution, solution_message, take_solution};
    let _ = take_solution(&[]);
    let _ = my_share(10, 1, 3);
    if let Some(name) = take_solution(&[Solution::Split]) {
        return Err(solution_message(name));
    }
    // Remainders of 0, 1, 2, 3 and 6; as many ranks as samples; more ranks than samples; none.
    let sizes: [(u64, usize); 10] = [
        (10, 3),
        (10, 4),
        (11, 4),
        (12, 4),
        (7, 7),
        (3, 5),
        (10_000_001, 2),
        (1_000_005, 7),
        (1_000_003, 6),
        (0, 3),
    ];
    for (samples, size) in sizes {
        let shares: Vec<Range<u64>> = (0..size)
            .map(|rank| my_share(samples, rank, size))
            .collect();
        let on = format!("{samples} samples on {size} ranks");
        let mut next = 0;
        for (rank, s) in shares.iter().enumerate() {
            if s.start > s.end {
                return Err(format!(
                    "{on}: rank {rank} got {s:?}, which ends before it starts (shares {shares:?})"
                ));
            }
            if s.start != next {
                let what = if s.start < next {
                    "overlaps the share before it"
                } else {
                    "leaves a gap after the share before it"
                };
                return Err(format!(
                    "{on}: rank {rank} starts at {}, not {next}: it {what} (shares {shares:?})",
                    s.start
                ));
            }
            next = s.end;
        }
        if next != samples {
            let what = if next < samples {
                format!("samples {next}..{samples} are counted by no rank")
            } else {
                format!(
                    "they go past the last sample ({})",
                    samples.saturating_sub(1)
                )
            };
            return Err(format!(
                "{on}: the shares end at {next}, not {samples}: {what} (shares {shares:?})"
            ));
        }
        let lens: Vec<u64> = shares.iter().map(|s| s.end - s.start).collect();
        let (min, max) = (
            lens.iter().copied().min().unwrap_or(0),
            lens.iter().copied().max().unwrap_or(0),
        );
        if max - min > 1 {
            let extra = samples % size as u64;
            let hint = if lens.last() == Some(&max)
                && lens[..lens.len() - 1].iter().all(|&l| l == min)
            {
                format!(
                    "the last rank got the whole remainder ({extra} samples): give one extra sample \
                     to each of the first {extra} ranks instead"
                )
            } else if lens.first() == Some(&max) && lens[1..].iter().all(|&l| l == min) {
                format!(
                    "the first rank got the whole remainder ({extra} samples): give one extra sample \
                     to each of the first {extra} ranks instead"
                )
            } else {
                "shares may differ by one sample at most".to_owned()
            };
            return Err(format!(
                "{on}: shares of {lens:?} samples are not equal work: {hint}"
            ));
        }
    }
    let (samples, size, seed) = (1_000_003, 3, 1);
    let hits: u64 = (0..size)
        .map(|r| my_share(samples, r, size))
        .map(|s| crate::pi::count_hits_unwatched(seed, s.start, s.end - s.start))
        .sum();
    let serial = crate::pi::count_hits_unwatched(seed, 0, samples);
    if hits != serial {
        return Err(format!(
            "the shares' hits add up to {hits}, the serial run has {serial}"
        ));
    }
    Ok(format!(
        "equal, contiguous shares in rank order for {} sizes (remainders of 0 to 6, more ranks \
         than samples, no samples); on 3 ranks they count the serial run's {hits} hits exactly",
        sizes.len()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn right(samples: u64, rank: usize, size: usize) -> Range<u64> {
        let (base, extra) = (samples / size as u64, samples % size as u64);
        let rank = rank as u64;
        let first = rank * base + rank.min(extra);
        first..first + base + u64::from(rank < extra)
    }

    #[test]
    fn the_right_answer_passes() {
        assert!(check_my_share(right).is_ok());
    }

    /// Plausible wrong answers, each told what it did.
    #[test]
    fn wrong_answers_are_told_what_they_did() {
        type Share = dyn Fn(u64, usize, usize) -> Range<u64>;
        let cases: [(&Share, &str); 8] = [
            // The library's own: pi::split, indexed by rank.
            (
                &|n, r, k| crate::pi::split(n, k).map_or(0..0, |v| v[r].clone()),
                "the library's own solution, `pi::split`",
            ),
            // The whole remainder to the last rank.
            (
                &|n, r, k| {
                    let b = n / k as u64;
                    let f = r as u64 * b;
                    f..if r + 1 == k { n } else { f + b }
                },
                "the last rank got the whole remainder",
            ),
            // The whole remainder to the first rank.
            (
                &|n, r, k| {
                    let (b, e) = (n / k as u64, n % k as u64);
                    if r == 0 {
                        0..b + e
                    } else {
                        e + r as u64 * b..e + (r as u64 + 1) * b
                    }
                },
                "the first rank got the whole remainder",
            ),
            // The remainder dropped.
            (
                &|n, r, k| {
                    let b = n / k as u64;
                    r as u64 * b..(r as u64 + 1) * b
                },
                "are counted by no rank",
            ),
            // Rounded up for every rank.
            (
                &|n, r, k| {
                    let b = n.div_ceil(k as u64);
                    r as u64 * b..(r as u64 + 1) * b
                },
                "go past the last sample",
            ),
            // Inclusive end: each share one too long.
            (
                &|n, r, k| {
                    let s = right(n, r, k);
                    s.start..s.end + 1
                },
                "overlaps the share before it",
            ),
            // The extras at the end, but the start not shifted.
            (
                &|n, r, k| {
                    let (b, e) = (n / k as u64, n % k as u64);
                    let r = r as u64;
                    r * b..r * b + b + u64::from(r < e)
                },
                "rank 1 starts at",
            ),
            // Shares in reverse rank order.
            (&|n, r, k| right(n, k - 1 - r, k), "starts at"),
        ];
        for (i, (answer, says)) in cases.into_iter().enumerate() {
            let msg = check_my_share(answer).expect_err(&format!("wrong answer {i} passed"));
            assert!(msg.contains(says), "wrong answer {i}: {msg}");
        }
    }
}
