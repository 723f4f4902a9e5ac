//! The checks of the process and pool exercises (lessons 03 and 04), with real processes, and
//! what a check says about an answer that runs away, against plausible wrong answers.
//!
//! Each check must refuse every wrong answer with a message that says what the code did.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use parlab::exercise::{self, Outcome};
use parlab::pi::{self, PiError, PiEstimate};
use parlab::pool::{self, Pool, PoolError, ThreadPool};
use parlab::process::{self, ProcessError, Queue};

const T: Duration = Duration::from_secs(10);

fn quiet() -> process::Options {
    process::Options {
        warn: false,
        ..Default::default()
    }
}

/// Forks one child per size; child `i` puts `calc_pi(sizes[i], seed(i))` on the queue.
fn fork_children(
    queue: &Queue<(f64, u64)>,
    sizes: [u64; 2],
    seed: impl Fn(usize) -> u64,
) -> Result<Vec<process::Process<bool>>, ProcessError> {
    let mut children = Vec::new();
    for (i, n) in sizes.into_iter().enumerate() {
        let q = queue.clone();
        let s = seed(i);
        children.push(process::fork_with(
            move || {
                let est = pi::calc_pi(n, s).expect("n > 0");
                q.put(&(est.estimate, est.samples), T).is_ok()
            },
            &quiet(),
        )?);
    }
    Ok(children)
}

fn solution(queue: &Queue<(f64, u64)>, sizes: [u64; 2]) -> Result<Vec<(f64, u64)>, ProcessError> {
    let children = fork_children(queue, sizes, |i| i as u64)?;
    let results = vec![queue.get(T)?, queue.get(T)?];
    for mut child in children {
        child.join(T)?;
    }
    Ok(results)
}

fn refused(
    answer: impl Fn(&Queue<(f64, u64)>, [u64; 2]) -> Result<Vec<(f64, u64)>, ProcessError>,
    says: &str,
) {
    let msg = process::check_pi_with_queue(answer).expect_err("a wrong answer passed");
    assert!(msg.contains(says), "expected {says:?} in: {msg}");
}

#[test]
fn pi_with_queue_passes_the_solution() {
    let said = process::check_pi_with_queue(solution).unwrap();
    assert!(said.contains("two child processes"), "{said}");
}

#[test]
fn pi_with_queue_refuses_wrong_answers() {
    // No processes: both estimates computed here, the queue never used.
    refused(
        |_q, sizes| {
            Ok(sizes
                .iter()
                .enumerate()
                .rev()
                .map(|(i, &n)| (pi::calc_pi(n, i as u64).unwrap().estimate, n))
                .collect())
        },
        "nothing was put on the queue",
    );
    // Threads instead of fork.
    refused(
        |q, sizes| {
            std::thread::scope(|s| {
                for (i, n) in sizes.into_iter().enumerate() {
                    let q = q.clone();
                    s.spawn(move || {
                        let e = pi::calc_pi(n, i as u64).unwrap();
                        q.put(&(e.estimate, e.samples), T)
                    });
                }
                Ok(vec![q.get(T)?, q.get(T)?])
            })
        },
        "by this process itself",
    );
    // The same seed in both children.
    refused(
        |q, sizes| {
            let children = fork_children(q, sizes, |_| 0)?;
            let r = vec![q.get(T)?, q.get(T)?];
            for mut c in children {
                c.join(T)?;
            }
            Ok(r)
        },
        "with seed 0: child 1 must use seed 1",
    );
    // Sorted by size instead of arrival order.
    refused(
        |q, sizes| {
            let mut r = solution(q, sizes)?;
            r.sort_by_key(|x| x.1);
            Ok(r)
        },
        "sorted by size",
    );
    // In the children's order.
    refused(
        |q, sizes| {
            let mut r = solution(q, sizes)?;
            r.sort_by_key(|x| sizes.iter().position(|&n| n == x.1));
            Ok(r)
        },
        "another order",
    );
    // Joined before reading the queue (room for one result): the second child cannot put.
    refused(
        |q, sizes| {
            let children = fork_children(q, sizes, |i| i as u64)?;
            for mut c in children {
                c.join(Duration::from_secs(2))?;
            }
            Ok(vec![q.get(T)?, q.get(T)?])
        },
        "joining it before reading the queue waits forever",
    );
    // One result too many.
    refused(
        |q, sizes| {
            let children = fork_children(q, sizes, |i| i as u64)?;
            let mut r = vec![q.get(T)?, q.get(T)?];
            r.push(q.get(Duration::from_millis(500))?);
            for mut c in children {
                c.join(T)?;
            }
            Ok(r)
        },
        "waited for a result that never comes",
    );
}

fn arrival_solution(any_pool: &impl Pool, sizes: &[u64]) -> Result<Vec<u64>, PoolError> {
    let args = sizes.iter().map(|&n| (n, 1));
    any_pool
        .imap_unordered(process::tasks::CALC_PI, args, Some(1))?
        .map(|outcome| outcome.map(|est| est.samples))
        .collect()
}

fn arrival_refused(
    answer: impl Fn(&pool::ProcessPool, &[u64]) -> Result<Vec<u64>, PoolError>,
    says: &str,
) {
    let msg = pool::check_arrival_order(answer).expect_err("a wrong answer passed");
    assert!(msg.contains(says), "expected {says:?} in: {msg}");
}

#[test]
fn arrival_order_passes_the_solution() {
    let said = pool::check_arrival_order(arrival_solution).unwrap();
    assert!(said.contains("chunks of one"), "{said}");
}

#[test]
fn arrival_order_refuses_wrong_answers() {
    // Sorted, with no pool at all.
    arrival_refused(
        |_p, sizes| {
            let mut v = sizes.to_vec();
            v.sort_unstable();
            Ok(v)
        },
        "ran no task",
    );
    // A new ThreadPool instead of the one given.
    arrival_refused(
        |_p, sizes| arrival_solution(&ThreadPool::new(2)?, sizes),
        "ran no task",
    );
    // imap, then a sort.
    arrival_refused(
        |p, sizes| {
            let args = sizes.iter().map(|&n| (n, 1));
            let mut v: Vec<u64> = p
                .imap(process::tasks::CALC_PI, args, Some(1))?
                .map(|o| o.map(|e| e.samples))
                .collect::<Result<_, _>>()?;
            v.sort_unstable();
            Ok(v)
        },
        "used imap",
    );
    // imap_unordered, then a sort.
    arrival_refused(
        |p, sizes| {
            let mut v = arrival_solution(p, sizes)?;
            v.sort_unstable();
            Ok(v)
        },
        "sorted them by size",
    );
    // The default chunks: the first small task travels with the big one.
    arrival_refused(
        |p, sizes| {
            let args = sizes.iter().map(|&n| (n, 1));
            p.imap_unordered(process::tasks::CALC_PI, args, None)?
                .map(|o| o.map(|e| e.samples))
                .collect()
        },
        "the big task in a chunk with 1 small ones",
    );
    // One chunk of all twelve.
    arrival_refused(
        |p, sizes| {
            let args = sizes.iter().map(|&n| (n, 1));
            p.imap_unordered(process::tasks::CALC_PI, args, Some(12))?
                .map(|o| o.map(|e| e.samples))
                .collect()
        },
        "all 12 tasks in one chunk",
    );
    // map: all results at once, in input order.
    arrival_refused(
        |p, sizes| {
            let args = sizes.iter().map(|&n| (n, 1));
            Ok(p.map(process::tasks::CALC_PI, args, Some(1))?
                .iter()
                .map(|e| e.samples)
                .collect())
        },
        "did not take their results from imap_unordered",
    );
}

/// A calc_pi_k that forgets to advance its loop: it calls pi::count_hits forever.
fn runaway(samples: u64, k: usize, seed: u64) -> Result<PiEstimate, PiError> {
    let ranges = pi::split(samples, k)?;
    let mut hits = 0;
    let i = 0;
    while i < ranges.len() {
        hits += pi::count_hits(seed, ranges[i].start, 1000);
    }
    PiEstimate::from_hits(hits, samples)
}

/// The runaway answer is stopped after the limit, its call log stays bounded, and the verdict
/// says so; nothing keeps a core busy after it.
#[test]
fn a_runaway_answer_is_stopped_and_its_record_bounded() {
    let start = Instant::now();
    let v = exercise::check_within("calc_pi_k", Duration::from_secs(2), || {
        parlab::threads::check_calc_pi_k(runaway)
    });
    assert_eq!(v.outcome(), Outcome::TimedOut, "{v}");
    assert!(v.message().contains("parlab stopped it"), "{v}");
    assert!(start.elapsed() < Duration::from_secs(10));
    // Within 2 s a loop of 1000-sample calls makes far more calls than the record keeps: if the
    // record were unbounded the process would have grown by hundreds of MB.
    let rss = pool::resident_memory(std::process::id()).unwrap_or(0);
    assert!(rss < 200 << 20, "resident memory {} MB", rss >> 20);
    let busy = parlab::cpu::own_busy_cores(Duration::from_millis(300), |_, n| {
        n.starts_with("check calc_pi")
    });
    assert!(busy.is_none_or(|c| c < 0.2), "still busy: {busy:?}");
}

/// An arrival_order whose loop never ends calls the pool it was given forever: the pool stops
/// it at its next call after the limit, its timeline stays bounded, and no core stays busy.
#[test]
fn a_runaway_pool_answer_is_stopped_and_its_timeline_bounded() {
    let before = pool::resident_memory(std::process::id()).unwrap_or(0);
    let start = Instant::now();
    let v = exercise::check_within("arrival_order", Duration::from_secs(3), || {
        pool::check_arrival_order(|p, sizes| {
            let mut got = Vec::new();
            loop {
                // Forgets to stop once every size has its result.
                let est = p.apply(process::tasks::CALC_PI, &(1000, 1))?;
                got.push(est.samples);
                if got.len() == usize::MAX {
                    return Ok(sizes.to_vec());
                }
            }
        })
    });
    assert_eq!(v.outcome(), Outcome::TimedOut, "{v}");
    assert!(v.message().contains("parlab stopped it"), "{v}");
    assert!(start.elapsed() < Duration::from_secs(15));
    let after = pool::resident_memory(std::process::id()).unwrap_or(0);
    assert!(
        after.saturating_sub(before) < 100 << 20,
        "resident memory grew by {} MB",
        after.saturating_sub(before) >> 20
    );
    let busy = parlab::cpu::own_busy_cores(Duration::from_millis(300), |_, n| {
        n.starts_with("check arrival")
    });
    assert!(busy.is_none_or(|c| c < 0.2), "still busy: {busy:?}");
}

static SPIN: AtomicBool = AtomicBool::new(true);

/// An answer that spins without calling anything the check watches cannot be stopped: the
/// verdict says a core is still busy and to interrupt the kernel.
#[test]
fn a_spinning_answer_is_reported_busy() {
    let v = exercise::check_within("spin", Duration::from_millis(500), || {
        let mut x = 0u64;
        while SPIN.load(Ordering::Relaxed) {
            x = std::hint::black_box(x.wrapping_add(1));
        }
        Ok("stopped".into())
    });
    SPIN.store(false, Ordering::Relaxed);
    assert_eq!(v.outcome(), Outcome::TimedOut, "{v}");
    if cfg!(target_os = "linux") {
        assert!(v.message().contains("still running"), "{v}");
        assert!(v.message().contains("interrupt the kernel"), "{v}");
    }
}

/// An answer that only waits is told so, not told that a core is busy.
#[test]
fn a_waiting_answer_is_reported_waiting() {
    // In a forked copy of this process: the check reads the CPU its answer's threads use, and the
    // other tests' spinning threads, running beside this one, do not exist there.
    let mut copy = process::fork_with(
        || {
            let v = exercise::check_within("wait", Duration::from_millis(300), || {
                let (_tx, rx) = std::sync::mpsc::channel::<u8>();
                let _ = rx.recv_timeout(Duration::from_secs(5));
                Ok("woke".into())
            });
            (v.outcome() == Outcome::TimedOut, v.to_string())
        },
        &quiet(),
    )
    .unwrap();
    let (timed_out, v) = copy.join(Duration::from_secs(30)).unwrap();
    assert!(timed_out, "{v}");
    if cfg!(target_os = "linux") {
        assert!(v.contains("waiting (it uses no CPU)"), "{v}");
    }
}

static BACKGROUND: AtomicBool = AtomicBool::new(true);

/// A thread of this process left spinning (as by an answer a check gave up on) is named as the
/// kernel's own, not blamed on other programs.
#[test]
#[cfg(target_os = "linux")]
fn available_parallelism_names_the_kernels_own_busy_threads() {
    let spinner = std::thread::spawn(|| {
        let mut x = 0u64;
        while BACKGROUND.load(Ordering::Relaxed) {
            x = std::hint::black_box(x.wrapping_add(1));
        }
    });
    let now = parlab::timing::available_parallelism_with(2, Duration::from_millis(100)).unwrap();
    BACKGROUND.store(false, Ordering::Relaxed);
    spinner.join().unwrap();
    // A busy machine may starve the spinner, but it gets some CPU in 400 ms.
    assert!(now.own_busy > 0.1, "{now:?}");
    if now.is_busy() && now.own_busy >= 0.3 {
        let note = now.busy_note().unwrap();
        assert!(note.contains("this kernel's own threads"), "{note}");
        assert!(note.contains("Interrupt the kernel"), "{note}");
    }
}

/// A sort that never ends (it keeps comparing) is stopped at its next comparison after the limit.
#[test]
fn a_sort_that_never_ends_is_stopped() {
    let v = exercise::check_within("sort_in_two_threads", Duration::from_secs(1), || {
        parlab::threads::check_sort_pair(|a, b| {
            loop {
                a.sort_unstable();
                b.sort_unstable();
                a.reverse();
            }
        })
    });
    assert_eq!(v.outcome(), Outcome::TimedOut, "{v}");
    assert!(v.message().contains("parlab stopped it"), "{v}");
}
