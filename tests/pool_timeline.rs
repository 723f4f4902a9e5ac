//! Timelines of both pools tell the truth: a worker runs one chunk at a time, every task of a
//! call appears exactly once, a worker's own times lie inside the caller's span for the call, a
//! killed worker's chunk shows as cut off and its replacement's start follows.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use parlab::chart;
use parlab::pool::{Pool, PoolError, PoolOptions, ProcessPool, ThreadPool};
use parlab::process::{Output, tasks};
use parlab::timeline::{Kind, Span, Timeline};

fn opts(workers: usize, tl: &Timeline) -> PoolOptions {
    PoolOptions::new(workers)
        .timeline(tl)
        .output(Output::Discard)
        .timeout(Duration::from_secs(60))
}

fn of_kind(tl: &Timeline, kind: Kind) -> Vec<Span> {
    tl.spans().into_iter().filter(|s| s.kind == kind).collect()
}

/// The timeline's cut-off spans, checked to be one: task 0 of `sleep`, lost with its worker.
fn one_cut_off_sleep(tl: &Timeline) -> Vec<Span> {
    let cut = of_kind(tl, Kind::Unfinished);
    assert_eq!(cut.len(), 1, "{cut:?}");
    assert!(
        cut[0].label.starts_with("task 0 (sleep): cut off"),
        "{}",
        cut[0].label
    );
    cut
}

/// Checks one call's record: the caller's span, and the chunks inside it covering each task once.
fn check_call(tl: &Timeline, tasks: usize, chunks: usize) {
    let calls = of_kind(tl, Kind::Sending);
    assert_eq!(calls.len(), 1, "{calls:?}");
    let call = &calls[0];
    assert_eq!(tl.lanes()[call.lane.index()], "caller");
    let ran = of_kind(tl, Kind::Task);
    assert_eq!(ran.len(), chunks, "{ran:?}");
    // Every task exactly once.
    let mut seen = vec![0usize; tasks];
    for s in &ran {
        for i in s.tasks.clone().expect("a chunk's span names its tasks") {
            seen[i] += 1;
        }
        // The worker's own times lie inside the caller's span, and run forwards.
        assert!(s.start_ns <= s.end_ns, "{s:?}");
        assert!(
            call.start_ns <= s.start_ns && s.end_ns <= call.end_ns,
            "chunk {s:?} outside the call {call:?}"
        );
        assert_ne!(tl.lanes()[s.lane.index()], "caller");
    }
    assert!(seen.iter().all(|&n| n == 1), "tasks seen {seen:?}");
    // One chunk at a time on each worker.
    assert_eq!(tl.overlaps(&[Kind::Task]), vec![]);
}

#[test]
fn process_pool_chunks_are_each_once_inside_the_call() {
    let tl = Timeline::new();
    let pool = ProcessPool::with_options(&opts(2, &tl)).unwrap();
    assert_eq!(tl.lanes(), ["caller", "worker 1", "worker 2"]);
    // Each worker's start is on its own lane.
    let starts = of_kind(&tl, Kind::Starting);
    assert_eq!(starts.len(), 2, "{starts:?}");
    assert!(starts.iter().all(|s| s.label.starts_with("start pid ")));

    for (chunksize, chunks) in [(None, 8), (Some(1), 16), (Some(5), 4)] {
        tl.clear();
        let args: Vec<(u64, u64)> = (0..16).map(|seed| (200_000, seed)).collect();
        let got = pool.map(tasks::CALC_PI, args, chunksize).unwrap();
        assert_eq!(got.len(), 16);
        check_call(&tl, 16, chunks);
    }
    chart::timeline("16 tasks in chunks of 5 on 2 worker processes", &tl).unwrap();
}

#[test]
fn thread_pool_chunks_are_each_once_inside_the_call() {
    let tl = Timeline::new();
    let pool = ThreadPool::with_options(&opts(2, &tl)).unwrap();
    assert_eq!(tl.lanes(), ["caller", "thread 1", "thread 2"]);
    tl.clear();
    pool.map(tasks::CALC_PI, (0..10).map(|s| (100_000, s)), Some(3))
        .unwrap();
    check_call(&tl, 10, 4);
    tl.clear();
    pool.map_fn(|n: u64| n * 2, 0..7u64, Some(2)).unwrap();
    check_call(&tl, 7, 4);
}

#[test]
fn a_killed_worker_is_cut_off_and_its_replacement_starts_after() {
    let tl = Timeline::new();
    let pool = ProcessPool::with_options(&opts(1, &tl)).unwrap();
    let pid = pool.pids()[0];
    let slow = pool.apply_async(tasks::SLEEP, &20_000).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let killed_at = Instant::now();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    let e = slow.get(Duration::from_secs(10)).unwrap_err();
    assert!(matches!(e, PoolError::WorkerDied { .. }), "{e}");
    assert!(killed_at.elapsed() < Duration::from_secs(5));

    let cut = one_cut_off_sleep(&tl);
    assert!(cut[0].label.contains("SIGKILL"), "{}", cut[0].label);
    assert!(cut[0].duration_ns() >= 250_000_000, "{:?}", cut[0]);
    // No finished span for the lost task; the replacement starts once the loss is seen.
    assert!(of_kind(&tl, Kind::Task).is_empty());
    let starts = of_kind(&tl, Kind::Starting);
    assert_eq!(starts.len(), 2, "{starts:?}");
    assert!(starts[1].start_ns >= cut[0].end_ns, "{starts:?} {cut:?}");
    assert_ne!(starts[0].label, starts[1].label); // another pid
    // The call itself is on the caller's lane, ending no earlier than the loss.
    let calls = of_kind(&tl, Kind::Sending);
    assert_eq!(calls.len(), 1);
    assert!(calls[0].end_ns >= cut[0].end_ns);
    let c = chart::timeline("a worker killed mid-task", &tl).unwrap();
    assert!(c.description().contains("cut off"), "{}", c.description());
}

#[test]
fn a_chunk_queued_behind_a_killed_worker_s_is_not_cut_off() {
    let tl = Timeline::new();
    let pool = ProcessPool::with_options(&opts(1, &tl)).unwrap();
    // Tiny tasks of `sleep` first: the manager then queues a chunk behind the running one.
    pool.map(tasks::SLEEP, [0u64; 100], Some(1)).unwrap();
    tl.clear();
    let pid = pool.pids()[0];
    let it = pool.imap(tasks::SLEEP, [400u64, 1, 1, 1], Some(1)).unwrap();
    std::thread::sleep(Duration::from_millis(150));
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    let outcomes: Vec<_> = it.collect();
    assert!(outcomes[0].is_err() && outcomes[1..].iter().all(Result::is_ok));
    let cut = one_cut_off_sleep(&tl);
    assert!(cut[0].duration_ns() >= 100_000_000, "{:?}", cut[0]);
    let ran: Vec<usize> = of_kind(&tl, Kind::Task)
        .iter()
        .flat_map(|s| s.tasks.clone().unwrap())
        .collect();
    assert_eq!(
        ran,
        [1, 2, 3],
        "each task that never started ran once, on the replacement"
    );
    assert_eq!(tl.overlaps(&[Kind::Task, Kind::Starting]), vec![]);
}

#[test]
fn max_tasks_per_child_shows_a_start_between_chunks() {
    let tl = Timeline::new();
    let pool = ProcessPool::with_options(&opts(1, &tl).max_tasks_per_child(1)).unwrap();
    pool.map(tasks::echo(), 0..4u64, Some(1)).unwrap();
    let mut on_lane: Vec<Span> = tl
        .spans()
        .into_iter()
        .filter(|s| matches!(s.kind, Kind::Starting | Kind::Task))
        .collect();
    on_lane.sort_by_key(|s| s.start_ns);
    // start, task, start, task, ...: a fresh worker for every chunk.
    let kinds: Vec<Kind> = on_lane.iter().map(|s| s.kind).take(8).collect();
    assert_eq!(
        kinds,
        [Kind::Starting, Kind::Task].repeat(4),
        "{:?}",
        on_lane.iter().map(|s| &s.label).collect::<Vec<_>>()
    );
    let pids: std::collections::BTreeSet<&str> = on_lane
        .iter()
        .filter(|s| s.kind == Kind::Starting)
        .map(|s| s.label.as_str())
        .collect();
    assert!(pids.len() >= 4, "{pids:?}");
    assert_eq!(tl.overlaps(&[Kind::Task, Kind::Starting]), vec![]);
}

#[test]
fn imap_unordered_waits_are_on_the_caller_lane() {
    let tl = Timeline::new();
    let pool = ThreadPool::with_options(&opts(2, &tl)).unwrap();
    let sizes = [30_000_000u64, 100_000, 100_000, 100_000];
    let args = sizes.iter().map(|&n| (n, 1));
    let got: Vec<u64> = pool
        .imap_unordered(tasks::CALC_PI, args, Some(1))
        .unwrap()
        .map(|r| r.map(|e| e.samples))
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(got.len(), 4);
    let waits = of_kind(&tl, Kind::Waiting);
    assert_eq!(waits.len(), 4, "{waits:?}");
    assert!(waits.iter().all(|w| tl.lanes()[w.lane.index()] == "caller"));
    assert!(
        waits[0]
            .label
            .starts_with("imap_unordered: waited for task")
    );
    // Each chunk ran once; the waits do not overlap each other.
    let ran: BTreeMap<usize, usize> = of_kind(&tl, Kind::Task)
        .iter()
        .map(|s| (s.tasks.clone().unwrap().start, 1))
        .collect();
    assert_eq!(ran.len(), 4);
    assert_eq!(tl.overlaps(&[Kind::Waiting]), vec![]);
}

#[test]
fn a_terminated_pool_labels_its_running_chunks_as_terminated_not_as_a_death() {
    let tl = Timeline::new();
    let pool = ProcessPool::with_options(&opts(2, &tl)).unwrap();
    let running: Vec<_> = (0..2)
        .map(|_| pool.apply_async(tasks::SLEEP, &20_000).unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    pool.terminate();
    for call in running {
        assert!(call.get(Duration::from_secs(10)).is_err());
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    let cut = loop {
        let cut = of_kind(&tl, Kind::Unfinished);
        if cut.len() >= 2 || Instant::now() > deadline {
            break cut;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(cut.len(), 2, "{cut:?}");
    for span in &cut {
        assert!(
            span.label.ends_with("cut off, the pool was terminated"),
            "{}",
            span.label
        );
    }
}
