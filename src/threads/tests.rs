use std::thread;

use super::pi_check::{coverage_gaps, list};
use super::*;
use crate::pi::{self, PiError, PiEstimate};

#[test]
fn random_vec_is_seeded_and_checked() {
    assert_eq!(random_vec(100, 3).unwrap(), random_vec(100, 3).unwrap());
    assert_ne!(random_vec(100, 3).unwrap(), random_vec(100, 4).unwrap());
    assert_eq!(random_vec(0, 1), Err(ThreadsError::Zero("the length")));
    assert!(matches!(
        random_vec(MAX_LEN + 1, 1),
        Err(ThreadsError::TooLong { .. })
    ));
}

#[test]
fn all_pair_sorts_sort() {
    let a = random_vec(10_001, 1).unwrap();
    let b = random_vec(999, 2).unwrap();
    let mut want = (a.clone(), b.clone());
    want.0.sort();
    want.1.sort();
    let (mut x, mut y) = (a.clone(), b.clone());
    sort_pair_serial(&mut x, &mut y);
    assert_eq!((&x, &y), (&want.0, &want.1));
    let (mut x, mut y) = (a.clone(), b.clone());
    sort_pair_threads(&mut x, &mut y).unwrap();
    assert_eq!((&x, &y), (&want.0, &want.1));
    let (mut x, mut y) = (a, b);
    sort_pair_rayon(&mut x, &mut y);
    assert_eq!((&x, &y), (&want.0, &want.1));
}

#[test]
fn compare_sorts_checks_and_times() {
    let c = compare_sorts(20_000, 2, 5, sort_pair_threads).unwrap();
    assert_eq!(c.measurements.len(), 2);
    assert!(c.measurements.iter().all(|m| m.times.len() == 2));
    let wrong = compare_sorts(1000, 1, 5, |a, _b| a.sort());
    assert!(matches!(wrong, Err(ThreadsError::WrongResult(_))));
    assert!(compare_sorts(1000, 0, 5, |_, _| {}).is_err());
    assert!(compare_sorts(0, 1, 5, |_, _| {}).is_err());
}

#[test]
fn spawn_cost_is_small() {
    let m = spawn_cost(10).unwrap();
    assert_eq!(m.times.len(), 10);
    assert!(spawn_cost(0).is_err());
}

#[test]
fn sort_check_tells_cases_apart() {
    assert!(
        check_sort_pair(|a, b| {
            rayon::join(|| a.sort_unstable(), || b.sort_unstable());
        })
        .is_ok()
    );
    let library = check_sort_pair(sort_pair_rayon).unwrap_err();
    assert!(library.contains("`threads::sort_pair_rayon`"), "{library}");
    let own = |a: &mut [Spy], b: &mut [Spy]| {
        thread::scope(|s| {
            s.spawn(|| a.sort_unstable());
            b.sort_unstable();
        })
    };
    assert!(check_sort_pair(own).is_ok());
    let library = check_sort_pair(|a, b| sort_pair_threads(a, b).unwrap()).unwrap_err();
    assert!(
        library.contains("`threads::sort_pair_threads`"),
        "{library}"
    );
    let same = check_sort_pair(sort_pair_serial).unwrap_err();
    assert!(same.contains("same thread"), "{same}");
    // Two parallel sorts, one after the other: several threads, but not at the same time.
    let par_one_after = check_sort_pair(|a, b| {
        use rayon::slice::ParallelSliceMut;
        a.par_sort_unstable();
        b.par_sort_unstable();
    });
    if rayon::current_num_threads() > 1 {
        let msg = par_one_after.unwrap_err();
        assert!(msg.contains("one after the other"), "{msg}");
    }
    let one_after = check_sort_pair(|a, b| {
        thread::scope(|s| s.spawn(|| a.sort()).join().unwrap());
        thread::scope(|s| s.spawn(|| b.sort()).join().unwrap());
    })
    .unwrap_err();
    assert!(one_after.contains("one after the other"), "{one_after}");
    let unsorted = check_sort_pair(|a, _b| a.sort()).unwrap_err();
    assert!(unsorted.contains("not sorted"), "{unsorted}");
    // One new thread that sorts both, one after the other.
    let one_other = check_sort_pair(|a, b| {
        thread::scope(|s| {
            s.spawn(|| {
                a.sort();
                b.sort();
            });
        })
    })
    .unwrap_err();
    assert!(
        one_other.contains("sorted on one other thread, one after the other"),
        "{one_other}"
    );
    // Sorted the wrong way round.
    let descending = check_sort_pair(|a, b| {
        thread::scope(|s| {
            s.spawn(|| a.sort_by(|x, y| y.cmp(x)));
            b.sort_by(|x, y| y.cmp(x));
        })
    })
    .unwrap_err();
    assert!(
        descending.contains("vector a is not sorted"),
        "{descending}"
    );
}

/// The exercise's solution, as the lesson shows it.
fn solution(samples: u64, k: usize, seed: u64) -> Result<PiEstimate, PiError> {
    let ranges = pi::split(samples, k)?;
    let hits = thread::scope(|s| {
        let handles: Vec<_> = ranges
            .into_iter()
            .map(|r| s.spawn(move || pi::count_hits(seed, r.start, r.end - r.start)))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    PiEstimate::from_hits(hits, samples)
}

fn wrong(answer: impl Fn(u64, usize, u64) -> Result<PiEstimate, PiError>, says: &str) {
    // The check sees which threads called count_hits: in a forked copy, no other test's do.
    let msg = crate::isolated::isolated(|| check_calc_pi_k(answer)).unwrap_err();
    assert!(msg.contains(says), "expected {says:?} in: {msg}");
}

#[test]
fn pi_check_passes_real_threads() {
    use crate::isolated::isolated;
    isolated(|| check_calc_pi_k(solution)).unwrap();
    let library = isolated(|| check_calc_pi_k(pi::calc_pi_threads)).unwrap_err();
    assert!(library.contains("`pi::calc_pi_threads`"), "{library}");
    let rayon = isolated(|| check_calc_pi_k(|samples, _k, seed| pi::calc_pi_rayon(samples, seed)))
        .unwrap_err();
    assert!(
        rayon.contains("the library's own solution, `pi::calc_pi_rayon`"),
        "{rayon}"
    );
}

#[test]
fn pi_check_catches_answers_without_threads() {
    // A serial loop over the ranges.
    wrong(
        |samples, k, seed| {
            let hits = pi::split(samples, k)?
                .into_iter()
                .map(|r| pi::count_hits(seed, r.start, r.end - r.start))
                .sum();
            PiEstimate::from_hits(hits, samples)
        },
        "one after the other on the thread that called calc_pi_k: no thread was started",
    );
    // Ignoring k after checking it.
    wrong(
        |samples, k, seed| {
            pi::split(samples, k)?;
            pi::calc_pi(samples, seed)
        },
        "in one piece on the thread that called calc_pi_k, so k = 2 was ignored",
    );
    // A lazy iterator: each thread is joined before the next starts.
    wrong(
        |samples, k, seed| {
            let ranges = pi::split(samples, k)?;
            let hits = thread::scope(|s| {
                ranges
                    .into_iter()
                    .map(|r| s.spawn(move || pi::count_hits(seed, r.start, r.end - r.start)))
                    .map(|h| h.join().unwrap())
                    .sum()
            });
            PiEstimate::from_hits(hits, samples)
        },
        "but one after the other",
    );
    // Fewer threads than ranges.
    wrong(
        |samples, k, seed| {
            let ranges = pi::split(samples, k)?;
            let (first, rest) = ranges.split_at(1);
            let hits = thread::scope(|s| {
                let other = s.spawn(|| {
                    rest.iter()
                        .map(|r| pi::count_hits(seed, r.start, r.end - r.start))
                        .sum::<u64>()
                });
                pi::count_hits(seed, first[0].start, first[0].end - first[0].start)
                    + other.join().unwrap()
            });
            PiEstimate::from_hits(hits, samples)
        },
        "counted on 2 threads for k = 3",
    );
}

#[test]
fn pi_check_says_what_went_wrong_with_the_samples() {
    // The same range on every thread: counted twice, not "not counted".
    wrong(
        |samples, k, seed| {
            let ranges = pi::split(samples, k)?;
            let first = ranges[0].clone();
            let hits: u64 = thread::scope(|s| {
                let handles: Vec<_> = ranges
                    .iter()
                    .map(|_| {
                        let r = first.clone();
                        s.spawn(move || pi::count_hits(seed, r.start, r.end - r.start))
                    })
                    .collect();
                handles.into_iter().map(|h| h.join().unwrap()).sum()
            });
            PiEstimate::from_hits(hits.min(samples), samples)
        },
        "every thread counted the same samples 0..500002, so they were counted 2 times, and samples 500002..1000003 never",
    );
    // A different seed per thread: say so, not "more hits than there are".
    wrong(
        |samples, k, seed| {
            let ranges = pi::split(samples, k)?;
            let hits = thread::scope(|s| {
                let handles: Vec<_> = ranges
                    .into_iter()
                    .enumerate()
                    .map(|(i, r)| {
                        s.spawn(move || pi::count_hits(seed + i as u64, r.start, r.end - r.start))
                    })
                    .collect();
                handles.into_iter().map(|h| h.join().unwrap()).sum()
            });
            PiEstimate::from_hits(hits, samples)
        },
        "were counted with seed 2025 instead of 2024",
    );
    // The remainder of samples / k dropped.
    wrong(
        |samples: u64, k: usize, seed: u64| {
            let per = samples / k.max(1) as u64;
            pi::calc_pi(per * k as u64, seed).map(|e| PiEstimate { samples, ..e })
        },
        "the last samples were dropped",
    );
    // Hits added up wrongly although every sample was counted once.
    wrong(
        |samples, k, seed| {
            solution(samples, k, seed).map(|e| PiEstimate {
                hits: e.hits / 2,
                ..e
            })
        },
        "although every sample was counted once",
    );
    // No errors for bad input.
    wrong(
        |samples: u64, k: usize, seed: u64| solution(samples.max(8), k.clamp(1, 8), seed),
        "should be an error",
    );
    // Its own kernel, not pi::count_hits.
    wrong(
        |samples, _k, _seed| PiEstimate::from_hits(samples * 3 / 4, samples),
        "never called pi::count_hits",
    );
}

#[test]
fn coverage_gaps_finds_repeats_and_holes() {
    assert_eq!(coverage_gaps(&[(0, 5), (5, 10)], 10), (None, None));
    assert_eq!(
        coverage_gaps(&[(0, 5), (0, 5)], 10),
        (Some((0, 5, 2)), Some((5, 10)))
    );
    assert_eq!(
        coverage_gaps(&[(0, 6), (4, 10)], 10),
        (Some((4, 6, 2)), None)
    );
    assert_eq!(coverage_gaps(&[(0, 3), (7, 10)], 10), (None, Some((3, 7))));
    assert_eq!(coverage_gaps(&[], 10), (None, Some((0, 10))));
    assert_eq!(list(&[3, 1, 3, 2]), "1, 2 and 3");
    assert_eq!(list(&[7]), "7");
}

#[test]
fn after_the_check_gave_up_on_a_waiting_answer_later_cells_and_checks_run_as_usual() {
    // A calc_pi_k that keeps its own sender: `rx.iter()` waits forever, and the check gives up.
    fn waits_forever(samples: u64, k: usize, seed: u64) -> Result<PiEstimate, PiError> {
        let (tx, rx) = std::sync::mpsc::channel();
        for r in pi::split(samples, k)? {
            let tx = tx.clone();
            thread::spawn(move || tx.send(pi::count_hits(seed, r.start, r.end - r.start)));
        }
        PiEstimate::from_hits(rx.iter().sum(), samples)
    }
    // In a forked copy: the waiting answer stays behind there, and its threads are the only ones.
    let (message, later, fixed_solved, fixed) = crate::isolated::isolated(|| {
        let verdict = crate::exercise::check_within(
            "calc_pi_k",
            std::time::Duration::from_millis(300),
            || check_calc_pi_k(waits_forever),
        );
        // The next cell counts hits while the answer still waits: not the answer's code.
        let later = std::panic::catch_unwind(|| pi::count_hits(1, 0, 1000))
            .map_err(|e| crate::panics::message(&*e));
        // The learner fixes the answer and checks again, within the lesson's 20 s limit: the
        // waiting answer's watch must not hold up the new one (it did, 2 s per watch, ~18 s).
        let fixed =
            crate::exercise::check_within("calc_pi_k", std::time::Duration::from_secs(20), || {
                check_calc_pi_k(solution)
            });
        (
            verdict.message().to_owned(),
            later,
            fixed.is_solved(),
            fixed.to_string(),
        )
    });
    assert!(message.contains("waiting (it uses no CPU)"), "{message}");
    assert_eq!(later, Ok(pi::count_hits_unwatched(1, 0, 1000)));
    assert!(fixed_solved, "{fixed}");
}
