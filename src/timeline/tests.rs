use super::*;

#[test]
fn this_thread_lanes_differ_per_thread() {
    let tl = Timeline::new();
    let a = tl.this_thread();
    let b = std::thread::scope(|s| s.spawn(|| tl.this_thread()).join().unwrap());
    assert_ne!(a, b);
    assert_eq!(tl.lanes().len(), 2);
}

#[test]
fn spans_are_monotonic_and_clocks_agree() {
    let tl = Timeline::new();
    let lane = tl.lane("main");
    for i in 0..100 {
        tl.span(lane, Kind::Running, format!("{i}"), || pi_work(1000));
    }
    let spans = tl.spans();
    for w in spans.windows(2) {
        assert!(w[0].start_ns <= w[0].end_ns);
        assert!(w[0].end_ns <= w[1].start_ns, "{w:?}");
    }
    // The monotonic clock and Instant agree to well under a millisecond.
    let a = tl.ns(Instant::now());
    let b = tl.from_monotonic(monotonic_ns());
    assert!(b.abs_diff(a) < 1_000_000, "{a} {b}");
}

/// A recording that never ends keeps at most MAX_SPANS spans, MAX_LANES lanes, and labels of
/// MAX_LABEL bytes, and counts what it did not keep.
#[test]
fn a_recording_without_end_stays_bounded() {
    let tl = Timeline::new();
    let lane = tl.lane("caller");
    let long = "é".repeat(MAX_LABEL); // 2 bytes a character: cut at a boundary
    for i in 0..MAX_SPANS as u64 + 1000 {
        tl.record_ns(lane, Kind::Sending, long.clone(), i, i + 1);
    }
    assert_eq!(tl.spans().len(), MAX_SPANS);
    assert_eq!(tl.dropped(), 1000);
    let label = &tl.spans()[0].label;
    assert!(
        label.len() <= MAX_LABEL + 3 && label.ends_with('…'),
        "{label}"
    );
    // A buffer flushed into a full timeline: its spans are counted too.
    {
        let mut buf = tl.buffer(lane);
        for i in 0..MAX_SPANS as u64 + 7 {
            buf.record_ns(Kind::Holding, "", i, i);
        }
        assert_eq!(buf.len(), MAX_SPANS);
    }
    assert_eq!(tl.spans().len(), MAX_SPANS);
    assert_eq!(tl.dropped(), 1000 + MAX_SPANS as u64 + 7);
    assert!(format!("{tl:?}").contains("dropped"));
    tl.clear();
    assert_eq!((tl.spans().len(), tl.dropped()), (0, 0));
    // Threads without end: lanes stop at MAX_LANES, the last one shared.
    for _ in 0..MAX_LANES + 10 {
        std::thread::scope(|s| {
            s.spawn(|| tl.this_thread());
        });
    }
    let lanes = tl.lanes();
    assert_eq!(lanes.len(), MAX_LANES);
    assert_eq!(lanes[MAX_LANES - 1], OTHER_LANES);
    assert_eq!(tl.lane("a new one"), Lane(MAX_LANES - 1));
    assert!(tl.locked().by_thread.len() < MAX_LANES);
}

fn pi_work(n: u64) -> u64 {
    crate::pi::count_hits(1, 0, n)
}
