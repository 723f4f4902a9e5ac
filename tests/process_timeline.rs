//! Start-up against work on a timeline, from real threads, forked children and spawned workers.

use std::time::Duration;

use parlab::process::{self, Options, Output, ProcessError, START_METHODS_SEED, tasks};
use parlab::timeline::{Kind, Span, Timeline, monotonic_ns};

use common::SEC;

mod common;

/// Options pointing at the worker cargo built for this test run, output discarded, no warning.
fn opts() -> Options {
    Options {
        warn: false,
        name: None,
        ..common::worker_options(Output::Discard, "w")
    }
}

/// Where the tests leave their pictures (to look at).
fn out(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(name)
}

/// The spans of lane `name`, in order.
fn lane(tl: &Timeline, name: &str) -> Vec<Span> {
    let index = tl.lanes().iter().position(|l| l == name).expect(name);
    tl.spans()
        .into_iter()
        .filter(|s| s.lane.index() == index)
        .collect()
}

/// Each span ends at or after it starts, and the next one starts where it ended.
fn assert_contiguous(spans: &[Span]) {
    for s in spans {
        assert!(s.start_ns <= s.end_ns, "backwards: {s:?}");
    }
    for w in spans.windows(2) {
        assert_eq!(w[0].end_ns, w[1].start_ns, "a gap or an overlap: {w:?}");
    }
}

fn ms(s: &Span) -> f64 {
    s.duration_ns() as f64 / 1e6
}

#[test]
fn three_start_methods_line_up_on_their_lanes() {
    let samples = 5_000_000;
    let tl = Timeline::new();
    let runs = process::record_start_methods_with(&tl, samples, &opts()).unwrap();
    let expected = parlab::pi::calc_pi(samples, START_METHODS_SEED).unwrap();
    assert_eq!(
        (runs.thread, runs.fork, runs.spawn),
        (expected, expected, expected)
    );
    assert!(runs.agree());
    assert_eq!(tl.lanes(), ["thread", "fork", "spawn"]);
    let mut previous_end = 0;
    for name in ["thread", "fork", "spawn"] {
        let spans = lane(&tl, name);
        let kinds: Vec<Kind> = spans.iter().map(|s| s.kind).collect();
        assert_eq!(
            kinds,
            [Kind::Starting, Kind::Running, Kind::Sending],
            "{name}"
        );
        assert_contiguous(&spans);
        assert_eq!(spans[0].label, format!("{name} start-up"));
        assert_eq!(spans[1].label, "calc_pi");
        // One after the other: each starts after the one before was joined.
        assert!(
            spans[0].start_ns >= previous_end,
            "{name} overlaps the one before"
        );
        previous_end = spans[2].end_ns;
        eprintln!(
            "{name}: start-up {:.3} ms, calc_pi {:.3} ms, back + join {:.3} ms",
            ms(&spans[0]),
            ms(&spans[1]),
            ms(&spans[2])
        );
    }
    let c = parlab::chart::timeline("calc_pi(5e6): thread, fork, spawn", &tl).unwrap();
    assert!(c.description().contains("starting"), "{}", c.description());
    c.save(out("start_methods.svg")).unwrap();
}

#[test]
fn a_child_s_own_running_time_lies_inside_the_caller_s_call_to_join() {
    let mut forked =
        process::fork_with(|| parlab::pi::count_hits(3, 0, 2_000_000), &opts()).unwrap();
    let mut spawned = process::spawn_with(tasks::CALC_PI, &(2_000_000, 3), &opts()).unwrap();
    let fork_hits = forked.join(SEC).unwrap();
    let estimate = spawned.join(SEC).unwrap();
    assert_eq!(fork_hits, estimate.hits);
    for (what, called, ran, joined) in [
        (
            "fork",
            forked.called_ns(),
            forked.ran_ns(),
            forked.joined_ns(),
        ),
        (
            "spawn",
            spawned.called_ns(),
            spawned.ran_ns(),
            spawned.joined_ns(),
        ),
    ] {
        let (start, end) = ran.expect("the child's times came back");
        let joined = joined.expect("joined");
        assert!(
            called <= start && start <= end && end <= joined,
            "{what}: call {called}, ran {start}..{end}, joined {joined}"
        );
    }
    // On a timeline made after the calls, spans start at its origin (0), never before it.
    let tl = Timeline::new();
    spawned.record(&tl, tl.lane("spawn")).unwrap();
    assert_eq!(tl.spans()[0].start_ns, 0);
}

#[test]
fn a_killed_or_timed_out_child_records_one_unfinished_span() {
    // SIGKILL while it sleeps: no times come back.
    let tl = Timeline::new();
    let mut w = process::spawn_with(tasks::SLEEP, &60_000, &opts()).unwrap();
    std::thread::sleep(Duration::from_millis(50));
    let pid = nix::unistd::Pid::from_raw(w.pid() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL).unwrap();
    let e = w.join(SEC).unwrap_err();
    assert!(matches!(e, ProcessError::Killed { .. }), "{e}");
    assert_eq!(w.ran_ns(), None);
    let before = monotonic_ns();
    w.record(&tl, tl.lane("killed")).unwrap();
    let spans = tl.spans();
    assert_eq!(spans.len(), 1, "{spans:?}");
    assert_eq!(spans[0].kind, Kind::Unfinished);
    assert!(spans[0].label.contains("SIGKILL"), "{}", spans[0].label);
    assert_eq!(spans[0].start_ns, tl.from_monotonic(w.called_ns()));
    assert_eq!(spans[0].end_ns, tl.from_monotonic(w.joined_ns().unwrap()));
    assert!(spans[0].end_ns <= tl.from_monotonic(before));
    assert!(spans[0].duration_ns() >= 50_000_000, "{:?}", spans[0]);

    // A join that times out kills the child: the span says so.
    let mut slow =
        process::fork_with(|| std::thread::sleep(Duration::from_secs(30)), &opts()).unwrap();
    assert!(slow.join(Duration::from_millis(100)).is_err());
    slow.record(&tl, tl.lane("timed out")).unwrap();
    let spans = lane(&tl, "timed out");
    assert_eq!(spans.len(), 1, "{spans:?}");
    assert_eq!(spans[0].kind, Kind::Unfinished);
    assert!(
        spans[0].label.contains("nothing within 0.100 s"),
        "{}",
        spans[0].label
    );
    parlab::chart::timeline("killed and timed out", &tl).unwrap();
}

#[test]
fn a_task_that_panics_ran_and_is_cut_off() {
    let tl = Timeline::new();
    let mut w = process::spawn_with(tasks::PANIC, &"no".to_string(), &opts()).unwrap();
    assert!(w.join(SEC).is_err());
    w.record(&tl, tl.lane("panic")).unwrap();
    let spans = tl.spans();
    let kinds: Vec<Kind> = spans.iter().map(|s| s.kind).collect();
    assert_eq!(kinds, [Kind::Starting, Kind::Unfinished, Kind::Sending]);
    assert!(
        spans[1].label.contains("panicked: no"),
        "{}",
        spans[1].label
    );
    assert_contiguous(&spans);
}

#[test]
fn an_unjoined_process_records_nothing_and_says_why() {
    let tl = Timeline::new();
    let w = process::fork_with(|| 1u8, &opts()).unwrap();
    let e = w.record(&tl, tl.lane("fork")).unwrap_err();
    assert!(matches!(e, ProcessError::NotJoined { .. }), "{e}");
    assert!(e.to_string().contains("join it first"), "{e}");
    assert!(tl.spans().is_empty());
}

/// A stand-in for a `parlab-worker` built from older sources: it answers a `pid` request the old
/// way, a bare `Ok(run)` holding `Ok(42u32)`, which the old protocol decodes as pid 42, on the
/// socket it gets as stdin (a real worker that old looks for it on descriptor 3, finds nothing
/// and exits with code 2 after saying it is not meant to be started by hand).
#[test]
fn a_worker_built_from_older_sources_says_to_rebuild_it() {
    use std::os::unix::fs::PermissionsExt;
    let script = out("old-parlab-worker");
    // Frame: length 5 (u32 LE), then Ok (0), a run of 3 bytes: an item of 2 bytes, Ok (0), 42.
    std::fs::write(
        &script,
        "#!/bin/sh\nprintf '\\005\\000\\000\\000\\000\\003\\002\\000\\052' >&0\n",
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let old = Options {
        worker: Some(script),
        ..opts()
    };
    let mut w = process::spawn_with(tasks::PID, &(), &old).unwrap();
    let e = w.join(SEC).unwrap_err();
    assert!(matches!(e, ProcessError::StaleWorker { .. }), "{e}");
    assert!(e.to_string().contains(process::BUILD_WORKER), "{e}");
    assert_eq!(w.ran_ns(), None);
    let tl = Timeline::new();
    w.record(&tl, tl.lane("old worker")).unwrap();
    assert_eq!(tl.spans()[0].kind, Kind::Unfinished);
    assert!(tl.spans()[0].label.contains("older protocol"));
}

#[test]
fn zero_samples_is_refused_before_anything_runs() {
    let tl = Timeline::new();
    let e = process::record_start_methods_with(&tl, 0, &opts()).unwrap_err();
    assert!(matches!(e, ProcessError::Invalid(_)), "{e}");
    assert!(tl.spans().is_empty());
}
