use super::estimate::group_digits;
use super::*;

fn close_to_pi(e: &PiEstimate) {
    assert!(
        e.abs_error() < 5.0 * e.std_error(),
        "{e} is more than 5 standard errors off"
    );
    assert!(!e.estimate.is_nan());
}

#[test]
fn every_variant_estimates_pi() {
    close_to_pi(&calc_pi_learner(200_000).unwrap());
    close_to_pi(&calc_pi_small_rng(200_000, 3).unwrap());
    close_to_pi(&calc_pi(2_000_000, 3).unwrap());
    close_to_pi(&calc_pi_threads(2_000_000, 2, 3).unwrap());
    close_to_pi(&calc_pi_rayon(2_000_000, 3).unwrap());
}

#[test]
fn many_seeds_stay_within_five_standard_errors() {
    for seed in 0..50 {
        close_to_pi(&calc_pi(100_000, seed).unwrap());
    }
}

#[test]
fn seeded_results_equal_across_thread_counts() {
    let odd = 3 * BLOCK_SAMPLES + 12_345; // not a multiple of the block size
    for samples in [7, 1000, 999_983, odd] {
        let serial = calc_pi(samples, 11).unwrap();
        for threads in [1, 2, 3, 7] {
            assert_eq!(
                calc_pi_threads(samples, threads, 11).unwrap(),
                serial,
                "{threads} threads"
            );
        }
        assert_eq!(calc_pi_rayon(samples, 11).unwrap(), serial);
    }
}

#[test]
fn different_seeds_differ() {
    assert_ne!(
        calc_pi(100_000, 1).unwrap().hits,
        calc_pi(100_000, 2).unwrap().hits
    );
}

#[test]
fn split_is_exact() {
    for (samples, parts) in [(10, 3), (7, 7), (1_000_003, 4), (u64::MAX, 5)] {
        let ranges = split(samples, parts).unwrap();
        assert_eq!(ranges.len(), parts);
        assert_eq!(ranges[0].start, 0);
        assert_eq!(ranges.last().unwrap().end, samples);
        for w in ranges.windows(2) {
            assert_eq!(w[0].end, w[1].start);
        }
        let lens: Vec<u64> = ranges.iter().map(|r| r.end - r.start).collect();
        assert!(lens.iter().max().unwrap() - lens.iter().min().unwrap() <= 1);
    }
}

#[test]
fn bad_input_is_an_error() {
    assert_eq!(calc_pi_learner(0), Err(PiError::ZeroSamples));
    assert_eq!(calc_pi_small_rng(0, 1), Err(PiError::ZeroSamples));
    assert_eq!(calc_pi(0, 1), Err(PiError::ZeroSamples));
    assert_eq!(calc_pi_rayon(0, 1), Err(PiError::ZeroSamples));
    assert_eq!(calc_pi_threads(0, 2, 1), Err(PiError::ZeroSamples));
    assert_eq!(calc_pi_threads(10, 0, 1), Err(PiError::ZeroThreads));
    assert_eq!(
        calc_pi_threads(3, 4, 1),
        Err(PiError::MoreThreadsThanSamples {
            threads: 4,
            samples: 3
        })
    );
    assert!(matches!(
        calc_pi_threads(1_000_000, MAX_THREADS + 1, 1),
        Err(PiError::TooManyThreads { .. })
    ));
    assert_eq!(
        PiEstimate::from_hits(5, 4),
        Err(PiError::MoreHitsThanSamples {
            hits: 5,
            samples: 4
        })
    );
    let msg = PiError::ZeroSamples.to_string();
    assert!(msg.starts_with(char::is_lowercase), "{msg}");
}

#[test]
fn std_error_and_display() {
    let e = PiEstimate::from_hits(785_000, 1_000_000).unwrap();
    let expected = 4.0 * (0.785f64 * (1.0 - 0.785) / 1e6).sqrt();
    assert!((e.std_error() - expected).abs() < 1e-12);
    assert_eq!(
        e.to_string(),
        "pi ≈ 3.140000 ± 0.001643 (785_000 hits of 1_000_000 samples)"
    );
    let zero = PiEstimate {
        estimate: 0.0,
        samples: 0,
        hits: 0,
    };
    assert!(zero.std_error().is_infinite());
    assert!((PiEstimate::from_hits(1, 1).unwrap().estimate - 4.0).abs() < 1e-12);
}

#[test]
fn group_digits_groups() {
    assert_eq!(group_digits(0), "0");
    assert_eq!(group_digits(999), "999");
    assert_eq!(group_digits(1000), "1_000");
    assert_eq!(group_digits(1_234_567), "1_234_567");
}
