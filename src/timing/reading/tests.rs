use super::*;
use std::time::Duration;

fn m(label: &str, ms: f64) -> Measurement {
    Measurement::new(label, vec![Duration::from_secs_f64(ms / 1e3)])
}

/// What the notebook runner checks of every printed reading, here for figure sets from quiet
/// and busy machines: the ratio is the figures' own, the relation is the ratio's, and the
/// words say that number.
fn consistent(r: &Reading) {
    for c in &r.claims {
        assert!(r.text.contains(&c.said), "{r}: does not say {:?}", c.said);
        assert!((c.ratio - c.b_seconds / c.a_seconds).abs() < 1e-9, "{c:?}");
        assert_eq!(c.relation, Relation::of(c.ratio), "{c:?}");
        let shown = match c.relation {
            Relation::Slower if c.said.contains("slower than") => 1.0 / c.ratio,
            _ if c.said.contains("about as fast") => 1.0,
            _ => c.ratio,
        };
        if !c.said.contains("about as fast") {
            assert!(c.said.contains(&format!("{shown:.2}x")), "{c:?}");
        }
        match c.relation {
            Relation::Faster => assert!(!c.said.contains("slower"), "{c:?}"),
            Relation::Slower => assert!(!c.said.contains("faster than"), "{c:?}"),
            Relation::Same => {}
        }
    }
}

#[test]
fn comparisons_read_quiet_and_busy_figures_as_they_are() {
    // 02's RwLock with short reads: faster in one run, the same in another, slower in a third.
    for (rw, mutex, want) in [
        (10.0, 14.0, Relation::Faster),
        (10.0, 10.5, Relation::Same),
        (14.0, 10.0, Relation::Slower),
    ] {
        let c = Comparison::from(vec![m("Mutex, short", mutex), m("RwLock, short", rw)]);
        let r = c.reading("RwLock, short", "Mutex, short");
        assert_eq!(r.claims[0].relation, want, "{r}");
        consistent(&r);
    }
    let ways = Comparison::from(vec![m("Mutex", 120.0), m("atomic", 40.0), m("local", 2.0)]);
    consistent(&ways.ranking());
}

#[test]
fn speedups_are_read_against_the_free_cores() {
    let sweep = |ms: [f64; 3]| Sweep {
        name: "threads under the GIL".into(),
        param: "threads".into(),
        points: [1.0, 2.0, 4.0]
            .into_iter()
            .zip(ms)
            .map(|(k, t)| (k, m("", t)))
            .collect(),
        ..Sweep::default()
    };
    let quiet = Parallelism {
        cores: 2,
        available: 2.0,
        window: Duration::ZERO,
        own_busy: 0.0,
    };
    let busy = Parallelism {
        cores: 2,
        available: 1.1,
        window: Duration::ZERO,
        own_busy: 0.0,
    };
    // A GIL sweep at 1.70x on a quiet machine (its first run was slow): below the line, said.
    let r = sweep([170.0, 100.0, 101.0]).speedup_reading(&quiet);
    assert!(r.text.contains("1.70x at 2 threads"), "{r}");
    consistent(&r);
    // Free threads at 1.00x with 2 cores free: why it may be, said.
    let r = sweep([100.0, 100.0, 100.0]).speedup_reading(&quiet);
    assert!(
        r.text.contains("Well below what the free cores allowed"),
        "{r}"
    );
    // Rust threads at 0.66x on a busy machine: said as 0.66x, with the busy note.
    let r = sweep([100.0, 151.0, 150.0])
        .speedup_reading(&busy)
        .given(&busy);
    assert!(r.text.contains("0.66x at 2 threads"), "{r}");
    assert!(r.text.contains("busy"), "{r}");
    consistent(&r);
    // Above what the cores allowed: explained.
    let r = sweep([200.0, 80.0, 80.0]).speedup_reading(&busy);
    assert!(r.text.contains("Above that line"), "{r}");
}

#[test]
fn a_crossover_says_never_when_it_never_happened() {
    let sweep = |name: &str, ms: [f64; 3]| Sweep {
        name: name.into(),
        param: "samples per task".into(),
        points: [1e3, 1e6, 1e9]
            .into_iter()
            .zip(ms)
            .map(|(n, t)| (n, m(name, t)))
            .collect(),
        ..Sweep::default()
    };
    let serial = sweep("serial", [0.01, 6.0, 4000.0]);
    // The busy run of 04: the reused pool never beat serial.
    let r = sweep("reused process pool", [0.3, 6.5, 4100.0]).crossover_reading(&serial);
    assert!(r.text.contains("was never clearly faster"), "{r}");
    assert_eq!(r.claims.last().unwrap().relation, Relation::Same);
    consistent(&r);
    let r = sweep("thread pool", [0.05, 3.5, 2050.0]).crossover_reading(&serial);
    assert!(r.text.contains("from 10⁶ samples per task on"), "{r}");
    consistent(&r);
    assert_eq!(power_of_ten(2_500_000.0), "2.50 M");
}

#[test]
fn a_spread_is_read_from_the_best_run_and_the_median() {
    let us = |v: &[u64]| {
        v.iter()
            .map(|&u| Duration::from_micros(u))
            .collect::<Vec<_>>()
    };
    let agree = Reading::spread(&Measurement::new("spawn", us(&[21, 22, 23])));
    assert!(
        agree
            .text
            .contains("21.0 µs at best, 22.0 µs in the median: the runs agree"),
        "{agree}"
    );
    let some = Reading::spread(&Measurement::new("spawn", us(&[20, 50, 60])));
    assert!(
        some.text.contains("(2.5x the best): some runs waited"),
        "{some}"
    );
    let most = Reading::spread(&Measurement::new("spawn", us(&[26, 3_970, 4_000])));
    assert!(
        most.text.contains("(153x the best): most runs waited"),
        "{most}"
    );
    let none = Reading::spread(&Measurement::new("spawn", Vec::new()));
    assert!(none.text.contains("no run took measurable time"), "{none}");
}
