//! The last faults of the process and pool core (issue 24), each tried as a careful learner and a
//! hostile user would: every one is now an outcome with a clear message, never a dead kernel, a
//! lost input, a hang or a silent wrong value.

use std::time::Duration;

use parlab::pool::{Pool, PoolError, PoolOptions, ProcessPool, ThreadPool};
use parlab::process::tasks;
use parlab::timing::Measurement;

use common::{SEC, pool_options as process_opts};

mod common;

#[test]
fn a_thread_pool_refuses_the_tasks_that_end_the_process() {
    let threads = ThreadPool::with_options(&PoolOptions::new(2).timeout(SEC)).unwrap();
    // Before: the test process itself ended here, with no message.
    let exit = threads.apply(tasks::EXIT, &3).unwrap_err();
    let abort = threads.map(tasks::ABORT, [(), ()], None).unwrap_err();
    for e in [exit, abort] {
        assert!(matches!(e, PoolError::Failed { .. }), "{e}");
        let said = e.to_string();
        assert!(said.contains("ends the process that runs it"), "{said}");
        assert!(said.contains("a ProcessPool"), "{said}");
    }
    let e = tasks::run_here(&tasks::EXIT, &3).unwrap_err();
    assert!(format!("{e:?}").contains("ends the process"), "{e:?}");
    // As an initializer too.
    let e =
        ThreadPool::with_options(&PoolOptions::new(1).initializer(tasks::ABORT, &())).unwrap_err();
    assert!(
        e.to_string().contains("ends the process that runs it"),
        "{e}"
    );
    // The thread pool serves on; a process pool runs them safely.
    assert_eq!(threads.apply(tasks::echo::<u8>(), &7).unwrap(), 7);
    let processes = ProcessPool::with_options(&process_opts(1)).unwrap();
    let e = processes.apply(tasks::EXIT, &3).unwrap_err();
    assert!(matches!(e, PoolError::WorkerDied { .. }), "{e}");
    assert_eq!(processes.apply(tasks::echo::<u8>(), &8).unwrap(), 8);
}

#[test]
fn the_median_of_the_longest_times_does_not_overflow() {
    let m = Measurement::new("x", vec![Duration::MAX, Duration::MAX]);
    assert_eq!(m.median(), Duration::MAX);
    let near = Duration::MAX - Duration::from_nanos(1);
    let m = Measurement::new(
        "x",
        vec![Duration::MAX, near, Duration::ZERO, Duration::MAX],
    );
    assert_eq!(m.median(), near, "the mean of the middle two, rounded down");
    let m = Measurement::new("x", vec![Duration::from_nanos(1), Duration::from_nanos(2)]);
    assert_eq!(m.median(), Duration::from_nanos(1));
}

#[test]
fn a_zero_timeout_is_refused_and_a_tiny_one_still_starts_the_pool() {
    for _ in 0..50 {
        let e = ThreadPool::with_options(&PoolOptions::new(2).timeout(Duration::ZERO)).unwrap_err();
        assert!(matches!(e, PoolError::Invalid(_)), "{e}");
        assert!(e.to_string().contains("a timeout of 0"), "{e}");
    }
    let e = ProcessPool::with_options(&process_opts(1).timeout(Duration::ZERO)).unwrap_err();
    assert!(e.to_string().contains("a timeout of 0"), "{e}");
    // Before: a 1 ns timeout made starting the threads a race, lost almost every time.
    for _ in 0..200 {
        let threads =
            ThreadPool::with_options(&PoolOptions::new(2).timeout(Duration::from_nanos(1)))
                .expect("starting is not bounded by the call timeout");
        drop(threads);
    }
    let procs = ProcessPool::with_options(&process_opts(2).timeout(Duration::from_nanos(1)))
        .expect("a process pool starts too");
    // The calls themselves keep the tiny timeout: an honest Timeout, not a hang.
    let e = procs.apply(tasks::SLEEP, &200).unwrap_err();
    assert!(matches!(e, PoolError::Timeout { .. }), "{e}");
}

#[test]
fn a_wrong_initializer_handle_names_both_sides_once() {
    let wrong: parlab::process::Task<String, u8> = parlab::process::Task::named("calc_pi");
    let from_threads =
        ThreadPool::with_options(&PoolOptions::new(1).initializer(wrong.clone(), &"x".into()))
            .unwrap_err();
    let from_processes =
        ProcessPool::with_options(&process_opts(1).initializer(wrong, &"x".into())).unwrap_err();
    for e in [from_threads, from_processes] {
        let said = e.to_string();
        assert_eq!(
            said.matches("could not start a pool worker").count(),
            1,
            "{said}"
        );
        assert!(
            said.contains("the handle used here says String -> u8"),
            "{said}"
        );
        assert!(
            said.contains("(u64, u64) in the worker, String here"),
            "{said}"
        );
    }
}
