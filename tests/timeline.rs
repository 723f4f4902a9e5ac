//! Timelines recorded from real runs are true, and bad timelines draw or fail clearly.

use std::time::{Duration, Instant};

use parlab::chart::{self, ChartError};
use parlab::gil::{Gil, calc_pi_gil};
use parlab::timeline::{Kind, Timeline};

/// Where the tests leave their pictures (to look at).
fn out(name: &str) -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
    dir.join(name)
}

#[test]
fn gil_threads_take_turns_and_free_threads_overlap() {
    let gil = Gil::new();
    let tl = Timeline::new();
    gil.record_into(&tl);
    calc_pi_gil(&gil, 60_000_000, 2, 1, false).unwrap();
    let held: Vec<_> = tl
        .spans()
        .into_iter()
        .filter(|s| s.kind == Kind::HoldingGil)
        .collect();
    assert!(held.len() >= 4, "only {} GIL slices", held.len());
    // One holder at a time, on every lane together.
    assert_eq!(tl.overlaps_across_lanes(&[Kind::HoldingGil]), vec![]);
    // Both threads held it, each slice about the switch interval (5 ms) or less.
    assert_eq!(tl.lanes().len(), 2);
    for lane in 0..2 {
        assert!(held.iter().any(|s| s.lane.index() == lane));
    }
    for s in &held {
        assert!(s.start_ns <= s.end_ns);
    }
    chart::timeline("calc_pi on 2 threads under the GIL", &tl)
        .unwrap()
        .save(out("gil.svg"))
        .unwrap();

    // Released: the two threads run side by side.
    let tl = Timeline::new();
    gil.record_into(&tl);
    calc_pi_gil(&gil, 60_000_000, 2, 1, true).unwrap();
    let free: Vec<_> = tl
        .spans()
        .into_iter()
        .filter(|s| s.kind == Kind::NoGil)
        .collect();
    assert_eq!(free.len(), 2);
    // (Overlap in time is likely but not certain on a busy 2-core machine: not asserted.)
    let c = chart::timeline("calc_pi on 2 threads, GIL released", &tl).unwrap();
    assert!(c.description().contains("running, GIL released"));
}

#[test]
fn empty_and_backwards_timelines_are_errors() {
    let tl = Timeline::new();
    assert!(matches!(
        chart::timeline("t", &tl),
        Err(ChartError::EmptyTimeline)
    ));
    tl.lane("a");
    assert!(matches!(
        chart::timeline("t", &tl),
        Err(ChartError::EmptyTimeline)
    ));
    let l = tl.lane("a");
    tl.record_ns(l, Kind::Running, "backwards", 50, 10);
    let e = chart::timeline("t", &tl).unwrap_err();
    assert!(
        e.to_string()
            .contains("\"backwards\" on lane \"a\" ends (10 ns) before it starts (50 ns)"),
        "{e}"
    );
    let tl = Timeline::new();
    for i in 0..=chart::MAX_LANES {
        tl.record_ns(tl.lane(&format!("w{i}")), Kind::Task, "", 0, 10);
    }
    assert!(matches!(
        chart::timeline("t", &tl),
        Err(ChartError::TooManyLanes(17))
    ));
}

#[test]
fn a_million_spans_draw_quickly_with_a_note() {
    let tl = Timeline::new();
    let (a, b) = (tl.lane("alternating"), tl.lane("one kind"));
    for i in 0..500_000u64 {
        let kind = if i % 2 == 0 {
            Kind::HoldingGil
        } else {
            Kind::Waiting
        };
        tl.record_ns(a, kind, "", i * 100, i * 100 + 100);
        tl.record_ns(b, Kind::Running, "", i * 100, i * 100 + 90);
    }
    let start = Instant::now();
    let c = chart::timeline("a million spans", &tl).unwrap();
    assert!(
        start.elapsed() < Duration::from_secs(20),
        "{:?}",
        start.elapsed()
    );
    assert!(c.svg().len() < 2_000_000, "{} bytes", c.svg().len());
    assert!(c.description().contains("merged"), "{}", c.description());
    assert!(
        c.description().contains("each pixel shows"),
        "{}",
        c.description()
    );
    // A timeline keeps its first MAX_SPANS spans; the chart says how many it kept and dropped.
    let kept = parlab::timeline::MAX_SPANS;
    assert_eq!(tl.spans().len(), kept);
    assert!(
        c.description().contains(&format!("{kept} spans")),
        "{}",
        c.description()
    );
    assert!(
        c.description().contains(&format!(
            "{} recorded after them are not shown",
            1_000_000 - kept
        )),
        "{}",
        c.description()
    );
    c.save(out("million.svg")).unwrap();
}

#[test]
fn an_unfinished_span_is_drawn_and_named() {
    let tl = Timeline::new();
    let w = tl.lane("worker 1");
    tl.record_ns(w, Kind::Task, "task 0", 0, 3_000_000);
    tl.record_ns(
        w,
        Kind::Unfinished,
        "task 1 (worker killed)",
        3_000_000,
        9_000_000,
    );
    let c = chart::timeline("killed", &tl).unwrap();
    assert!(c.description().contains("cut off (never finished)"));
    assert!(c.svg().contains("task 1 (worker killed)"));
}

/// Every span ends at or after it starts, and on each lane one span ends before the next starts.
fn assert_monotonic(tl: &Timeline) {
    let spans = tl.spans();
    for s in &spans {
        assert!(s.start_ns <= s.end_ns, "{s:?}");
    }
    for w in spans.windows(2) {
        if w[0].lane == w[1].lane {
            assert!(w[0].end_ns <= w[1].start_ns, "overlap on one lane: {w:?}");
        }
    }
}

#[test]
fn gil_lanes_are_monotonic_and_named() {
    let gil = Gil::new();
    let tl = Timeline::new();
    gil.record_into(&tl);
    calc_pi_gil(&gil, 20_000_000, 2, 1, false).unwrap();
    calc_pi_gil(&gil, 20_000_000, 2, 1, true).unwrap();
    assert_monotonic(&tl);
    assert_eq!(
        tl.lanes(),
        [
            "GIL thread 1",
            "GIL thread 2",
            "free thread 1",
            "free thread 2"
        ]
    );
    // A slice is followed on its lane by the wait for the next, with no gap between them.
    let spans = tl.spans();
    for w in spans.windows(2) {
        if w[0].lane == w[1].lane && w[0].kind == Kind::HoldingGil && w[1].kind == Kind::Waiting {
            assert_eq!(w[0].end_ns, w[1].start_ns, "{w:?}");
        }
    }
    let c = chart::timeline("lanes", &tl).unwrap();
    for name in tl.lanes() {
        assert!(
            c.svg().contains(&format!(">\n{name}\n<")),
            "{name} not drawn whole"
        );
    }
}

#[test]
fn mutex_per_sample_waits_and_local_counts_do_not() {
    use parlab::locks::{self, Sharing};
    let tl = Timeline::new();
    let est = locks::count_shared_recorded(Sharing::MutexPerSample, 400_000, 2, 3, &tl).unwrap();
    assert_eq!(est, parlab::pi::calc_pi(400_000, 3).unwrap());
    locks::count_shared_recorded(Sharing::LocalThenAdd, 400_000, 2, 3, &tl).unwrap();
    assert_monotonic(&tl);
    let spans = tl.spans();
    let time = |lane: usize, kind: Kind| -> u64 {
        spans
            .iter()
            .filter(|s| s.lane.index() == lane && s.kind == kind)
            .map(|s| s.duration_ns())
            .sum()
    };
    // The Mutex threads spend time holding the lock; the local counters almost none.
    for lane in 0..2 {
        assert!(time(lane, Kind::Holding) > 0);
        assert_eq!(spans.iter().filter(|s| s.lane.index() == lane).count(), 36);
    }
    for lane in 2..4 {
        assert!(time(lane, Kind::Holding) < time(lane, Kind::Running));
        assert_eq!(time(lane, Kind::Waiting), 0);
    }
    chart::timeline("Mutex per sample, then local counts", &tl)
        .unwrap()
        .save(out("mutex.svg"))
        .unwrap();
}

#[test]
fn deadlocked_threads_each_hold_one_lock_while_waiting_until_the_timeout() {
    use parlab::locks::{LockOrder, deadlock_demo_recorded};
    let timeout = Duration::from_millis(100);
    let tl = Timeline::new();
    let outcome = deadlock_demo_recorded(LockOrder::Opposite, timeout, &tl).unwrap();
    assert!(outcome.is_deadlock());
    assert_monotonic(&tl);
    let spans = tl.spans();
    // Both threads held their first lock and then waited for the other's.
    let waits: Vec<_> = spans
        .iter()
        .filter(|s| s.kind == Kind::Waiting && s.label.starts_with("holds"))
        .collect();
    assert_eq!(waits.len(), 2, "{spans:?}");
    assert_ne!(waits[0].lane, waits[1].lane);
    // They waited at the same time (that is the deadlock), and one gave up after the time-out.
    assert!(waits[0].start_ns < waits[1].end_ns && waits[1].start_ns < waits[0].end_ns);
    let gave_up: Vec<_> = waits
        .iter()
        .filter(|s| s.label.contains("gave up"))
        .collect();
    assert!(!gave_up.is_empty());
    for s in gave_up {
        assert!(s.duration_ns() >= timeout.as_nanos() as u64, "{s:?}");
    }
    // Ordered by id, nobody gives up.
    let tl = Timeline::new();
    deadlock_demo_recorded(LockOrder::ById, timeout * 5, &tl).unwrap();
    assert!(tl.spans().iter().all(|s| !s.label.contains("gave up")));
    assert_eq!(
        tl.spans()
            .iter()
            .filter(|s| s.label.starts_with("holds both"))
            .count(),
        2
    );
}
