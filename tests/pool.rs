//! Process pools end to end with the real `parlab-worker` binary built by cargo for these tests,
//! and the thread pool as a drop-in replacement.

use std::time::{Duration, Instant};

use parlab::pi;
use parlab::pi::PiEstimate;
use parlab::pool::{Pool, PoolError, PoolOptions, ProcessPool, ThreadPool};
use parlab::process::{Output, ProcessError, Task, tasks};

use common::{SEC, pool_options as opts};

mod common;

fn pool(workers: usize) -> ProcessPool {
    ProcessPool::with_options(&opts(workers)).expect("a process pool")
}

fn alive(pid: u32) -> bool {
    // A zombie still has a /proc entry; its state is Z.
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        s.rsplit(')')
            .next()
            .is_some_and(|rest| !rest.trim_start().starts_with('Z'))
    })
}

fn kill(pid: u32, signal: nix::sys::signal::Signal) {
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid as i32), signal).expect("kill");
}

/// What a lesson cell does, written once for both pools.
fn tour(pool: &impl Pool) -> Result<(), PoolError> {
    let one: PiEstimate = pool.apply(tasks::CALC_PI, &(100_000, 1))?;
    assert_eq!(one, parlab::pi::calc_pi(100_000, 1).unwrap());
    let echoed: Vec<u32> = pool.map(tasks::echo(), 0..1000u32, None)?;
    assert_eq!(
        echoed,
        (0..1000).collect::<Vec<_>>(),
        "map keeps input order"
    );
    let four: Vec<PiEstimate> = pool.starmap(tasks::CALC_PI, pi::task_args(10_000, 4), None)?;
    assert_eq!(four.iter().map(|e| e.samples).sum::<u64>(), 40_000);
    let pending = pool.map_async(tasks::SUM, [vec![1.0, 2.0], vec![0.5]], Some(1))?;
    assert_eq!(pending.get(SEC)?, [3.0, 0.5]);
    let ordered: Vec<u64> = pool
        .imap(tasks::echo(), [5u64, 6, 7], Some(1))?
        .collect::<Result<_, _>>()?;
    assert_eq!(ordered, [5, 6, 7]);
    let mut any: Vec<u64> = pool
        .imap_unordered(tasks::echo(), [5u64, 6, 7], Some(1))?
        .collect::<Result<_, _>>()?;
    any.sort_unstable();
    assert_eq!(any, [5, 6, 7]);
    let sleepy = pool.apply_async(tasks::SLEEP, &300)?;
    assert!(matches!(
        sleepy.get(Duration::from_millis(10)),
        Err(PoolError::Timeout { .. })
    ));
    sleepy.get(SEC)?;
    Ok(())
}

#[test]
fn the_same_calls_on_a_process_pool_and_a_thread_pool() {
    let procs = pool(2);
    assert_eq!(procs.pids().len(), 2);
    tour(&procs).unwrap();
    tour(&ThreadPool::new(2).unwrap()).unwrap();
    procs.close();
    procs.join(SEC).unwrap();
    assert!(procs.pids().is_empty());
}

#[test]
fn a_panic_fails_only_its_task() {
    let pool = pool(2);
    let outcomes: Vec<Result<(), PoolError>> = pool
        .imap(tasks::PANIC, ["first", "second"].map(String::from), Some(1))
        .unwrap()
        .collect();
    let e = outcomes[1].as_ref().unwrap_err();
    assert!(matches!(e, PoolError::Panicked { index: 1, .. }), "{e}");
    assert!(e.to_string().contains("second (at "), "{e}");
    let e = pool
        .map(tasks::echo(), vec![1u64; 10], Some(3))
        .map(|_| ())
        .err();
    assert!(e.is_none());
    let e = pool
        .apply(Task::<(), ()>::named("calc_py"), &())
        .unwrap_err();
    assert!(e.to_string().contains("unknown task `calc_py`"), "{e}");
    // A handle with other types than the task's: refused, never a plausible wrong number.
    let as_i32: Task<(i32, i32), PiEstimate> = Task::named("calc_pi");
    let e = pool.apply(&as_i32, &(1_000_000, 1)).unwrap_err();
    assert!(
        e.to_string().contains(
            "takes (u64, u64) -> PiEstimate in the worker, but the handle used here says (i32, i32) -> PiEstimate"
        ),
        "{e}"
    );
    let e = pool.starmap(&as_i32, [(1, 1), (2, 2)], None).unwrap_err();
    assert_eq!(e.index(), Some(0), "{e}");
    let pid_as_text: Task<(), String> = Task::named("pid");
    let e = pool.apply(pid_as_text, &()).unwrap_err();
    assert!(
        e.to_string()
            .contains("but the handle used here says () -> String"),
        "{e}"
    );
}

#[test]
fn a_dying_worker_is_replaced_and_its_call_gets_an_error() {
    let pool = pool(2);
    let before = pool.pids();
    let start = Instant::now();
    let e = pool.apply(tasks::ABORT, &()).unwrap_err();
    assert!(start.elapsed() < Duration::from_secs(2), "no hang");
    assert!(matches!(e, PoolError::WorkerDied { index: 0, .. }), "{e}");
    assert!(e.to_string().contains("SIGABRT"), "{e}");
    let after = pool.pids();
    assert_eq!(after.len(), 2);
    assert_ne!(before, after, "a new worker took the dead one's place");

    let e = pool.apply(tasks::EXIT, &7).unwrap_err();
    assert!(e.to_string().contains("exited with code 7"), "{e}");

    // SIGKILL a worker in the middle of a long task.
    let busy = pool.apply_async(tasks::SLEEP, &30_000).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    let pids = pool.pids();
    for pid in &pids {
        kill(*pid, nix::sys::signal::Signal::SIGKILL);
    }
    let e = busy.get(SEC).unwrap_err();
    assert!(e.to_string().contains("SIGKILL"), "{e}");
    // The pool works on, with fresh workers (the idle one is replaced within moments).
    let r: Vec<u64> = pool.map(tasks::echo(), [1u64, 2, 3], None).unwrap();
    assert_eq!(r, [1, 2, 3]);
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        pool.pids().iter().all(|p| !pids.contains(p) && alive(*p)),
        "{:?}",
        pool.pids()
    );
}

#[test]
fn a_chunk_lost_with_its_worker_names_every_task_in_it() {
    let pool = pool(1);
    let e = pool.map(tasks::EXIT, [0, 0, 0], Some(3)).unwrap_err();
    assert!(matches!(e, PoolError::WorkerDied { index: 0, .. }), "{e}");
    assert!(e.to_string().contains("tasks 0 to 2 as one chunk"), "{e}");
}

/// Runs 100 tiny `sleep` tasks on `pool`: its workers' managers then queue chunks of `sleep`
/// behind running ones.
fn warm_up(pool: &ProcessPool) {
    pool.map(tasks::SLEEP, [0u64; 100], Some(1)).unwrap();
}

#[test]
fn the_chunks_queued_behind_a_dying_worker_s_chunk_run_on_its_replacement() {
    let pool = pool(1);
    warm_up(&pool);
    let pid = pool.pids()[0];
    // The window of 4 chunks is queued at once: the worker has task 1 waiting behind task 0 (the
    // tasks of `sleep` it ran were tiny).
    let it = pool.imap(tasks::SLEEP, [400u64, 1, 1, 1], Some(1)).unwrap();
    std::thread::sleep(Duration::from_millis(150));
    kill(pid, nix::sys::signal::Signal::SIGKILL);
    let outcomes: Vec<Result<(), PoolError>> = it.collect();
    let e = outcomes[0].as_ref().unwrap_err();
    assert!(matches!(e, PoolError::WorkerDied { index: 0, .. }), "{e}");
    assert!(e.to_string().contains("SIGKILL"), "{e}");
    assert!(
        outcomes[1..].iter().all(Result::is_ok),
        "the tasks that never started run on the replacement: {outcomes:?}"
    );
    assert_ne!(pool.pids(), [pid]);
}

#[test]
fn long_chunks_after_tiny_ones_are_shared_out_not_queued_on_one_worker() {
    let pool = pool(2);
    warm_up(&pool);
    // 8 chunks of 150 ms: 600 ms on 2 workers; queued behind each other on one, up to 1.05 s.
    let start = Instant::now();
    pool.map(tasks::SLEEP, [150u64; 8], Some(1)).unwrap();
    let took = start.elapsed();
    assert!(took < Duration::from_millis(900), "{took:?}");
}

#[test]
fn a_worker_that_ran_its_quota_gets_no_chunk_queued_behind_it() {
    let pool = ProcessPool::with_options(&opts(1).max_tasks_per_child(2)).unwrap();
    pool.map(tasks::PID, vec![(); 20], Some(1)).unwrap(); // tiny: queued behind each other
    let pids: Vec<u32> = pool.map(tasks::PID, vec![(); 6], Some(1)).unwrap();
    for pair in pids.chunks(2) {
        assert_eq!(pair[0], pair[1], "two chunks per worker: {pids:?}");
    }
    assert!(
        pids[1] != pids[2] && pids[3] != pids[4],
        "a fresh worker after 2 chunks: {pids:?}"
    );
}

#[test]
fn bad_input_is_a_clear_error() {
    let e = ProcessPool::with_options(&opts(0)).unwrap_err();
    assert!(e.to_string().contains("1 to 1024 workers, not 0"), "{e}");
    let e =
        ProcessPool::with_options(&PoolOptions::new(1).worker_binary("/nonexistent/parlab-worker"))
            .unwrap_err();
    assert!(
        e.to_string().contains("cargo build --release --bins"),
        "{e}"
    );
    // The error keeps its cause: the process error of the missing binary.
    let cause = std::error::Error::source(&e).and_then(|c| c.downcast_ref::<ProcessError>());
    assert!(
        matches!(cause, Some(ProcessError::WorkerMissing { .. })),
        "{cause:?}"
    );
    let pool = pool(1);
    let e = pool.map(tasks::echo(), [1u8], Some(0)).unwrap_err();
    assert!(matches!(e, PoolError::Invalid(_)), "{e}");
    assert!(
        matches!(pool.join(SEC), Err(PoolError::Invalid(_))),
        "join before close"
    );
    pool.close();
    assert!(matches!(
        pool.apply(tasks::echo(), &1u8),
        Err(PoolError::Closed)
    ));
    pool.join(SEC).unwrap();
    // A binary that is not a pool worker (the test harness itself ignores the socket and exits).
    let e = ProcessPool::with_options(&PoolOptions::new(1).worker_binary("/bin/true")).unwrap_err();
    assert!(matches!(e, PoolError::Start { .. }), "{e}");
}

#[test]
fn terminate_and_drop_kill_the_workers() {
    let pool = pool(2);
    let pids = pool.pids();
    let running: Vec<_> = (0..4)
        .map(|_| pool.apply_async(tasks::SLEEP, &30_000).unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(100));
    let start = Instant::now();
    pool.terminate();
    pool.join(SEC).unwrap();
    assert!(
        start.elapsed() < Duration::from_secs(1),
        "{:?}",
        start.elapsed()
    );
    for r in &running {
        assert!(matches!(r.get(SEC), Err(PoolError::Terminated { .. })));
    }
    assert!(pids.iter().all(|p| !alive(*p)));

    let pool = self::pool(2);
    let pids = pool.pids();
    let pending = pool.apply_async(tasks::SLEEP, &30_000).unwrap();
    drop(pool);
    assert!(
        pids.iter().all(|p| !alive(*p)),
        "dropping the pool kills its workers"
    );
    assert!(pending.get(SEC).is_err());
}

#[test]
fn initializer_and_max_tasks_per_child() {
    let o = opts(1).initializer(tasks::SLEEP, &1).max_tasks_per_child(2);
    let pool = ProcessPool::with_options(&o).unwrap();
    let pids: Vec<u32> = (0..5)
        .map(|_| pool.apply(tasks::PID, &()).unwrap())
        .collect();
    assert_eq!(pids[0], pids[1]);
    assert_ne!(pids[1], pids[2], "a fresh worker after 2 tasks: {pids:?}");
    assert_eq!(pids[2], pids[3]);
    let e = ProcessPool::with_options(&opts(2).initializer(tasks::PANIC, &"setup broke".into()))
        .unwrap_err();
    assert!(e.to_string().contains("setup broke"), "{e}");
}

#[test]
fn create_close_apply_and_a_large_map_give_every_answer() {
    // What these cost is measured by `parlab bench pool` (and `cargo bench --bench pool`), not
    // here: a test checks answers, and only guards against a hang.
    for _ in 0..5 {
        let p = pool(2);
        assert_eq!(p.pids().len(), 2, "a pool of 2 starts 2 workers");
        p.close();
        p.join(SEC).unwrap();
    }

    let pool = pool(2);
    for i in 0..200u64 {
        let got: u64 = pool.apply(tasks::echo(), &i).unwrap();
        assert_eq!(got, i, "apply #{i} answered another task");
    }

    let r: Vec<u64> = pool.map(tasks::echo(), 0..100_000u64, None).unwrap();
    assert!(
        r.iter().copied().eq(0..100_000u64),
        "a map of 100,000 tiny tasks gave {} answers, not each in its place",
        r.len()
    );
}

/// Whether child `pid` of this process has ended as the kernel tells its parent: it can be
/// waited for (without reaping it: its pool still does that), or it was reaped already.
///
/// Not the `Z` state of `/proc/PID/stat`: a killed process's main thread becomes a zombie while
/// its other threads still end and hold its descriptors (its socket) open, and only once all have
/// ended may the parent wait for it.
fn ended(pid: u32) -> bool {
    // Safety: siginfo_t is plain data, for which all zero bytes is a valid value.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    let flags = libc::WEXITED | libc::WNOHANG | libc::WNOWAIT;
    // Safety: waitid writes only into `info`, which lives across the call.
    let r = unsafe { libc::waitid(libc::P_PID, pid as libc::id_t, &mut info, flags) };
    // Safety: waitid filled `info` (si_pid stays 0 when no child has ended, under WNOHANG).
    r < 0 || unsafe { info.si_pid() } != 0
}

/// Waits (at most 2 s) until worker `pid` has ended.
fn wait_dead(pid: u32) {
    let start = Instant::now();
    while !ended(pid) && start.elapsed() < Duration::from_secs(2) {
        std::thread::sleep(Duration::from_millis(1));
    }
    assert!(ended(pid), "worker {pid} still runs 2 s after SIGKILL");
}

#[test]
fn a_worker_killed_mid_map_fails_the_call_within_a_second() {
    for starmap in [false, true] {
        let pool = pool(2); // fresh: the first round's other tasks still run
        let pids = pool.pids();
        let (outcome, killed_at, returned_at) = std::thread::scope(|s| {
            let call = s.spawn(|| {
                let r = if starmap {
                    pool.starmap(tasks::SLEEP, [5_000; 4], Some(1))
                } else {
                    pool.map(tasks::SLEEP, [5_000; 4], Some(1))
                };
                (r, Instant::now())
            });
            std::thread::sleep(Duration::from_millis(300));
            let killed_at = Instant::now();
            kill(pids[0], nix::sys::signal::Signal::SIGKILL);
            let (r, at) = call.join().unwrap();
            (r, killed_at, at)
        });
        let took = returned_at - killed_at;
        let e = outcome.unwrap_err();
        assert!(matches!(e, PoolError::WorkerDied { .. }), "{e}");
        assert!(e.to_string().contains("SIGKILL"), "{e}");
        assert!(
            took < Duration::from_secs(1),
            "the error came {took:?} after the kill"
        );
        eprintln!("map (starmap: {starmap}): SIGKILL to error in {took:?}");
    }
}

#[test]
fn a_task_that_starts_a_program_does_not_hide_its_worker_s_death() {
    let pool = pool(1);
    let pid = pool.pids()[0];
    // The task runs `sleep` (which inherits the worker's descriptors but for the protocol socket).
    let pending = pool.apply_async(tasks::RUN_CHILD, &3_000).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    kill(pid, nix::sys::signal::Signal::SIGKILL);
    let killed_at = Instant::now();
    let e = pending.get(SEC).unwrap_err();
    let took = killed_at.elapsed();
    assert!(e.to_string().contains("SIGKILL"), "{e}");
    assert!(
        took < Duration::from_secs(1),
        "noticed {took:?} after the kill"
    );
    eprintln!("pool worker with a child process: SIGKILL to error in {took:?}");
}

#[test]
fn a_worker_that_cannot_be_replaced_leaves_the_tasks_to_the_healthy_ones() {
    let dir = std::env::temp_dir().join(format!("parlab-unreplaceable-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let binary = dir.join("parlab-worker");
    std::fs::copy(env!("CARGO_BIN_EXE_parlab-worker"), &binary).unwrap();
    let pool = ProcessPool::with_options(&opts(2).worker_binary(&binary)).unwrap();
    std::fs::remove_dir_all(&dir).unwrap(); // running workers live on; no new one can start
    let pids = pool.pids();
    let busy: Vec<_> = (0..2)
        .map(|_| pool.apply_async(tasks::SLEEP, &1_000).unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(200));
    kill(pids[0], nix::sys::signal::Signal::SIGKILL);
    wait_dead(pids[0]);
    assert_eq!(pool.pids(), [pids[1]], "a dead pid is never listed");
    let outcomes: Vec<_> = busy.iter().map(|r| r.get(SEC)).collect();
    let e = outcomes
        .iter()
        .find_map(|o| o.as_ref().err())
        .expect("the killed worker's task failed");
    let text = e.to_string();
    assert!(
        text.contains("SIGKILL") && text.contains("could not be replaced"),
        "{text}"
    );
    assert!(text.contains("worker binary is missing"), "{text}");
    // The healthy worker runs every task now, and the dead one is never listed again.
    for _ in 0..3 {
        let r: Vec<u32> = pool.map(tasks::PID, vec![(); 20], Some(1)).unwrap();
        assert!(r.iter().all(|&p| p == pids[1]), "{r:?}");
        assert_eq!(pool.pids(), [pids[1]]);
    }
    // With no healthy worker left, tasks fail at once with the reason, never hang.
    kill(pids[1], nix::sys::signal::Signal::SIGKILL);
    wait_dead(pids[1]);
    std::thread::sleep(Duration::from_millis(200));
    assert!(pool.pids().is_empty());
    let start = Instant::now();
    let e = pool.apply(tasks::PID, &()).unwrap_err();
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "{:?}",
        start.elapsed()
    );
    assert!(e.to_string().contains("could not be restarted"), "{e}");
    assert!(e.to_string().contains("worker binary is missing"), "{e}");
}

#[test]
fn a_forked_child_that_ends_its_copy_of_a_pool_leaves_the_parent_s_alone() {
    let pool = pool(2);
    let pids = pool.pids();
    let quiet = parlab::process::Options {
        output: Output::Discard,
        warn: false,
        ..Default::default()
    };
    let mut child = parlab::process::fork_with(
        || {
            let used = pool.map(tasks::echo(), [1u8], None).map(|_| ());
            pool.close();
            pool.terminate();
            // Safety: the child's copy of the pool is dropped once, here in the child, which ends
            // right after without touching `pool` again.
            drop(unsafe { std::ptr::read(&pool) });
            used.map_err(|e| e.to_string())
        },
        &quiet,
    )
    .unwrap();
    let used = child.join(SEC).unwrap();
    assert!(
        used.unwrap_err()
            .contains("a forked child has a copy without workers")
    );
    assert_eq!(pool.pids(), pids, "the parent's workers live on");
    let r: Vec<u64> = pool.map(tasks::echo(), 0..100u64, Some(7)).unwrap();
    assert_eq!(r, (0..100).collect::<Vec<_>>());
}

/// How far `imap` (or `imap_unordered`) of `echo` in chunks of `chunksize` pulls an endless input:
/// `[when the call returns, when the first result arrives, after 200 results]`.
fn pulled_from_an_endless_input(pool: &impl Pool, unordered: bool, chunksize: usize) -> [usize; 3] {
    let pulled = std::cell::Cell::new(0usize);
    let endless = (0u64..).inspect(|_| {
        pulled.set(pulled.get() + 1);
        assert!(
            pulled.get() < 100_000,
            "imap pulled 100,000 items: not lazy"
        );
    });
    let mut it = if unordered {
        pool.imap_unordered(tasks::echo(), endless, Some(chunksize))
    } else {
        pool.imap(tasks::echo(), endless, Some(chunksize))
    }
    .unwrap();
    let at_start = pulled.get();
    let first = it.next().unwrap().unwrap();
    let at_first = pulled.get();
    let rest: Vec<u64> = it.by_ref().take(199).collect::<Result<_, _>>().unwrap();
    drop(it);
    let at_end = pulled.get();
    let mut got = [vec![first], rest].concat();
    if unordered {
        got.sort_unstable();
        got.dedup();
        assert_eq!(got.len(), 200, "200 different tasks");
        assert!(
            got.iter().all(|&i| (i as usize) < at_end),
            "only tasks that were read"
        );
    } else {
        assert_eq!(got, (0..200).collect::<Vec<_>>(), "imap keeps input order");
    }
    let window = parlab::pool::IMAP_WINDOW * pool.workers() * chunksize;
    assert_eq!(
        at_start, window,
        "the call reads a window of chunks, no more"
    );
    assert!(
        at_first <= window + chunksize,
        "pulled {at_first} by the first result"
    );
    assert!(at_end <= 200 + window, "pulled {at_end} for 200 results");
    [at_start, at_first, at_end]
}

/// Waits at most 5 s for the pool's captured output to hold lines containing each of `last` (the
/// worker's stdout and stderr are read by two threads: their lines interleave).
fn captured_until(pool: &ProcessPool, last: &[&str]) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let lines = pool.output();
        let all = last
            .iter()
            .all(|part| lines.iter().any(|l| l.contains(part)));
        if all || Instant::now() > deadline {
            return lines;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn captured_worker_output_is_bounded_and_can_be_read_and_taken() {
    let pool = ProcessPool::with_options(&opts(1).output(Output::Capture)).unwrap();
    // 20 lines of 1 MB: each cut, and counted.
    let huge: Vec<String> = (0..20)
        .map(|i| format!("{i}{}", "x".repeat(1 << 20)))
        .collect();
    pool.apply(tasks::PRINT, &huge).unwrap();
    let lines = captured_until(&pool, &["] done", "] 19x"]);
    assert_eq!(lines.len(), 21, "20 lines and `done`");
    let lines: Vec<_> = lines.into_iter().filter(|l| !l.ends_with("done")).collect();
    assert!(lines[0].starts_with("[pool-1] 0xxx"), "{:.40}", lines[0]);
    assert!(
        lines[0].ends_with("more bytes of this line not shown)"),
        "{}",
        &lines[0][lines[0].len() - 60..]
    );
    assert!(lines[0].len() < parlab::process::MAX_LINE + 100);
    assert_eq!(pool.take_output().len(), 21);
    assert!(pool.output().is_empty(), "taken");

    // 3 MB of short lines: the newest MAX_CAPTURED bytes are kept, the rest counted.
    let many: Vec<String> = (0..3000).map(|i| format!("{i:>1000}")).collect();
    pool.apply(tasks::PRINT, &many).unwrap();
    let lines = captured_until(&pool, &["] done", " 2999"]);
    let kept: usize = lines.iter().map(String::len).sum();
    assert!(
        kept <= parlab::process::MAX_CAPTURED + 1000,
        "{kept} bytes kept"
    );
    assert!(
        lines[0].contains("earlier lines") && lines[0].contains("were let go"),
        "{}",
        lines[0]
    );
    assert!(
        lines.iter().any(|l| l.ends_with(" 2999")),
        "the newest lines are kept"
    );
    assert!(
        !lines.iter().any(|l| l.ends_with("    0")),
        "the oldest ones are let go"
    );
}

/// `imap` (or `imap_unordered`) of 100 inputs, 7 outcomes taken, then `close()`: the rest.
fn outcomes_after_close(pool: &impl Pool, unordered: bool) -> Vec<Result<u64, PoolError>> {
    let mut it = if unordered {
        pool.imap_unordered(tasks::echo(), 0..100u64, Some(1))
    } else {
        pool.imap(tasks::echo(), 0..100u64, Some(1))
    }
    .unwrap();
    let mut outcomes: Vec<_> = it.by_ref().take(7).collect();
    pool.close();
    outcomes.extend(it);
    outcomes
}

#[test]
fn every_input_an_imap_took_gets_one_outcome_when_the_pool_closes_midway() {
    for unordered in [false, true] {
        let procs = pool(2);
        let threads = ThreadPool::new(2).unwrap();
        for (kind, outcomes) in [
            ("process pool", outcomes_after_close(&procs, unordered)),
            ("thread pool", outcomes_after_close(&threads, unordered)),
        ] {
            assert_eq!(outcomes.len(), 100, "{kind}: one outcome per input");
            let mut seen = vec![0; 100];
            for outcome in &outcomes {
                match outcome {
                    Ok(v) => seen[*v as usize] += 1,
                    Err(e) => {
                        let i = e.index().expect("a task's error names its task");
                        seen[i] += 1;
                        assert!(e.to_string().contains("closed"), "{kind}: {e}");
                    }
                }
            }
            assert!(
                seen.iter().all(|&n| n == 1),
                "{kind}: each task once: {seen:?}"
            );
            let ran = outcomes.iter().filter(|o| o.is_ok()).count();
            assert!(
                ran >= 7,
                "{kind}: the outcomes taken before close ran ({ran})"
            );
        }
    }
}

#[test]
fn imap_pulls_an_endless_input_a_bounded_window_ahead_on_both_pools() {
    let procs = pool(2);
    let threads = ThreadPool::new(2).unwrap();
    for unordered in [false, true] {
        for chunksize in [1, 5] {
            let p = pulled_from_an_endless_input(&procs, unordered, chunksize);
            let t = pulled_from_an_endless_input(&threads, unordered, chunksize);
            eprintln!(
                "imap (unordered: {unordered}, chunks of {chunksize}), 2 workers: items pulled at \
                 the call / first result / 200 results: process pool {p:?}, thread pool {t:?}"
            );
        }
    }
    // Without a chunk size, an endless input goes one task per chunk, and a long range in chunks
    // of at most IMAP_MAX_DEFAULT_CHUNKSIZE.
    let first: Vec<u64> = procs
        .imap(tasks::echo(), 0u64.., None)
        .unwrap()
        .take(3)
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(first, [0, 1, 2]);
    let first: Vec<u64> = procs
        .imap(tasks::echo(), 0..u64::MAX, None)
        .unwrap()
        .take(3)
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(first, [0, 1, 2]);
    // Order and completeness over a finite input, chunks not dividing it evenly.
    for pool in [&procs as &dyn PoolRef, &threads] {
        let ordered = pool.echo_imap(false);
        assert_eq!(ordered, (0..1000).collect::<Vec<_>>());
        let mut any = pool.echo_imap(true);
        any.sort_unstable();
        assert_eq!(any, (0..1000).collect::<Vec<_>>(), "every task once");
    }
}

/// Both pools behind one reference, for a loop over them.
trait PoolRef {
    /// `imap` (or `imap_unordered`) of `echo` over `0..1000` in chunks of 7.
    fn echo_imap(&self, unordered: bool) -> Vec<u64>;
}

impl<P: Pool> PoolRef for P {
    fn echo_imap(&self, unordered: bool) -> Vec<u64> {
        let it = if unordered {
            self.imap_unordered(tasks::echo(), 0..1000u64, Some(7))
        } else {
            self.imap(tasks::echo(), 0..1000u64, Some(7))
        };
        it.unwrap().collect::<Result<_, _>>().unwrap()
    }
}

#[test]
fn a_worker_killed_mid_imap_fails_its_task_within_a_second_and_the_pool_serves_on() {
    for unordered in [false, true] {
        let pool = pool(2);
        let pids = pool.pids();
        let tasks_in = std::iter::repeat(1_500u64); // endless: only a window is ever read
        let mut it = if unordered {
            pool.imap_unordered(tasks::SLEEP, tasks_in, Some(1))
        } else {
            pool.imap(tasks::SLEEP, tasks_in, Some(1))
        }
        .unwrap();
        std::thread::sleep(Duration::from_millis(300));
        // Unordered, the first outcome is the killed worker's task; in order, it is task 0's, so
        // kill both workers to be sure to hit it.
        let killed = if unordered { &pids[..1] } else { &pids[..] };
        let killed_at = Instant::now();
        for pid in killed {
            kill(*pid, nix::sys::signal::Signal::SIGKILL);
        }
        let e = it.next().unwrap().unwrap_err();
        let took = killed_at.elapsed();
        assert!(matches!(e, PoolError::WorkerDied { .. }), "{e}");
        assert!(e.to_string().contains("SIGKILL"), "{e}");
        assert!(
            took < Duration::from_secs(1),
            "the error came {took:?} after the kill"
        );
        // Dropped early: its queued tasks are skipped, so the pool is free once the running ones
        // (1.5 s each) end, not after the whole window of 8.
        drop(it);
        let start = Instant::now();
        let r: Vec<u64> = pool.map(tasks::echo(), [1u64, 2, 3], None).unwrap();
        let free_after = start.elapsed();
        assert_eq!(r, [1, 2, 3]);
        assert!(
            free_after < Duration::from_secs(4),
            "the pool was busy for {free_after:?}"
        );
        // Both workers are replaced (the second replacement may still be starting when the map,
        // run by the first, is done): wait for it, within a limit.
        let replaced = Instant::now() + Duration::from_secs(3);
        while pool.pids().len() < 2 && Instant::now() < replaced {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(pool.pids().len(), 2, "a killed worker was not replaced");
        eprintln!(
            "imap (unordered: {unordered}): SIGKILL to error in {took:?}; after dropping it, a map \
             ran in {free_after:?}"
        );
    }
}

#[test]
fn an_imap_result_that_takes_too_long_is_a_timeout() {
    let pool = ProcessPool::with_options(&opts(1).timeout(Duration::from_millis(200))).unwrap();
    let mut it = pool.imap(tasks::SLEEP, [2_000, 1], Some(1)).unwrap();
    let start = Instant::now();
    let e = it.next().unwrap().unwrap_err();
    let took = start.elapsed();
    assert!(matches!(e, PoolError::Timeout { .. }), "{e}");
    assert!(e.to_string().contains("task 0"), "{e}");
    assert!(took < Duration::from_secs(1), "{took:?}");
    assert!(it.next().is_none(), "the iterator ends after a timeout");
    drop(it);
    let mut it = pool
        .imap_unordered(tasks::SLEEP, [300, 1], Some(1))
        .unwrap();
    let e = it
        .next_timeout(Duration::from_millis(10))
        .unwrap()
        .unwrap_err();
    assert!(matches!(e, PoolError::Timeout { .. }), "{e}");
    // next_timeout can wait again (the 2 s task still runs, so give it time).
    let outcomes: Vec<_> = (0..2).map(|_| it.next_timeout(SEC).unwrap()).collect();
    assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");
    assert!(it.next_timeout(SEC).is_none());
}

// `apply` on an idle worker runs its task from the calling thread (the worker lent by its
// manager): every way that call can end keeps its meaning.

#[test]
fn an_apply_that_times_out_leaves_its_answer_to_the_pool_and_the_next_calls_get_theirs() {
    let pool = ProcessPool::with_options(&opts(1).timeout(Duration::from_millis(200))).unwrap();
    assert_eq!(pool.apply(tasks::echo(), &1u64).unwrap(), 1);
    let start = Instant::now();
    let e = pool.apply(tasks::SLEEP, &600).unwrap_err();
    let took = start.elapsed();
    assert!(matches!(e, PoolError::Timeout { .. }), "{e}");
    assert!(
        took < Duration::from_millis(500),
        "the pool's timeout, not more: {took:?}"
    );
    // The sleep's answer is still to come: this one waits behind it, and gets its own.
    let queued = pool.apply_async(tasks::echo(), &2u64).unwrap();
    assert_eq!(queued.get(SEC).unwrap(), 2);
    assert_eq!(pool.apply(tasks::echo(), &3u64).unwrap(), 3);
}

/// Runs a 30 s `sleep` with `apply` on a thread of its own, on the one worker of `pool`, does
/// `act` to the pool while it runs, and returns how the call ended and how long after `act`.
fn a_long_apply_when(pool: &ProcessPool, act: impl FnOnce()) -> (PoolError, Duration) {
    std::thread::scope(|s| {
        let call = s.spawn(|| pool.apply(tasks::SLEEP, &30_000));
        std::thread::sleep(Duration::from_millis(300));
        let start = Instant::now();
        act();
        let e = call.join().unwrap().unwrap_err();
        (e, start.elapsed())
    })
}

#[test]
fn a_worker_killed_during_an_apply_is_replaced_and_the_call_says_it_died() {
    let pool = pool(1);
    let pids = pool.pids();
    let (e, took) = a_long_apply_when(&pool, || kill(pids[0], nix::sys::signal::Signal::SIGKILL));
    assert!(matches!(e, PoolError::WorkerDied { index: 0, .. }), "{e}");
    assert!(e.to_string().contains("SIGKILL"), "{e}");
    assert!(took < Duration::from_secs(2), "{took:?}");
    let now = pool.pids();
    assert!(
        now.len() == 1 && now != pids,
        "a new worker took its place: {now:?}"
    );
    assert_eq!(pool.apply(tasks::echo(), &5u64).unwrap(), 5);
}

#[test]
fn terminate_during_an_apply_fails_it_as_terminated_at_once() {
    let pool = pool(1);
    let pids = pool.pids();
    let (e, took) = a_long_apply_when(&pool, || pool.terminate());
    assert!(matches!(e, PoolError::Terminated { index: 0, .. }), "{e}");
    assert!(took < Duration::from_secs(2), "{took:?}");
    pool.join(SEC).unwrap();
    assert!(pids.iter().all(|p| !alive(*p)));
    assert!(matches!(
        pool.apply(tasks::echo(), &1u64),
        Err(PoolError::Closed)
    ));
}

#[test]
fn an_apply_after_its_idle_worker_died_runs_on_the_replacement() {
    let pool = pool(1);
    let first = pool.apply(tasks::PID, &()).unwrap();
    kill(first, nix::sys::signal::Signal::SIGKILL);
    wait_dead(first);
    // Most often before its manager notices: the call finds the worker gone, and it is replaced.
    let second = pool.apply(tasks::PID, &()).unwrap();
    assert_ne!(first, second);
    assert_eq!(pool.pids(), [second]);
}

#[test]
fn applies_from_many_threads_beside_maps_each_get_their_own_answer() {
    let pool = pool(2);
    std::thread::scope(|s| {
        for t in 0..3u64 {
            let pool = &pool;
            s.spawn(move || {
                for i in 0..300 {
                    let x = t * 1_000 + i;
                    assert_eq!(pool.apply(tasks::echo(), &x).unwrap(), x);
                }
            });
        }
        for _ in 0..20 {
            let r: Vec<u32> = pool.map(tasks::echo(), 0..200u32, Some(7)).unwrap();
            assert_eq!(r, (0..200).collect::<Vec<_>>());
        }
    });
}
