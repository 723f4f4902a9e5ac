//! The check of lesson 00's exercise `estimate_from(hits, samples)`.

/// Checks a learner's `estimate_from(hits, samples)`: `Some(4 · hits / samples)` for every
/// possible count, including the edges (no hit at all, every sample a hit) and counts too big for
/// `4 * hits` in integers, and `None` for no samples and for more hits than samples.
///
/// # Errors
/// A message saying what the function returned and why that is wrong, for
/// [`crate::exercise::check_within`].
///
/// # Examples
/// ```
/// use parlab::pi::check_estimate_from;
/// let right = |hits: u64, samples: u64| (samples > 0 && hits <= samples).then(|| 4.0 * hits as f64 / samples as f64);
/// assert!(check_estimate_from(right).is_ok());
/// // Integer division: 4 * 785 / 1000 is 3, not 3.14.
/// let integer = |hits: u64, samples: u64| (samples > 0 && hits <= samples).then(|| (4 * hits / samples) as f64);
/// assert!(check_estimate_from(integer).unwrap_err().contains("in integers"));
/// ```
pub fn check_estimate_from<F>(estimate_from: F) -> Result<String, String>
where
    F: Fn(u64, u64) -> Option<f64>,
{
    // The work is in a non-generic function, compiled once in the crate, not in every cell.
    check_dyn(&estimate_from)
}

fn check_dyn(estimate_from: &dyn Fn(u64, u64) -> Option<f64>) -> Result<String, String> {
    use crate::exercise::{Solution, solution_message, take_solution};
    let _ = take_solution(&[]);
    let _ = estimate_from(3, 4);
    if let Some(name) = take_solution(&[Solution::FromHits]) {
        return Err(solution_message(name));
    }
    const BIG: u64 = 1 << 62; // 4 * BIG does not fit in a u64
    let good: [(u64, u64, &str); 8] = [
        (3, 4, ""),
        (785, 1000, ""),
        (314_159, 400_000, ""),
        (1, 3, ""),
        (
            7,
            7,
            "every sample a hit is possible (all points inside the circle): only more hits than samples is impossible",
        ),
        (
            0,
            5,
            "no hit at all is possible (every point outside): the estimate is 0.0, not None",
        ),
        (
            BIG,
            BIG,
            "4 * hits does not fit in a u64 here: convert to f64 before multiplying",
        ),
        (
            BIG - 1,
            BIG + 7,
            "4 * hits does not fit in a u64 here: convert to f64 before multiplying",
        ),
    ];
    for (hits, samples, why) in good {
        let want = 4.0 * hits as f64 / samples as f64;
        let call = format!("estimate_from({hits}, {samples})");
        // A multiplication that overflows panics where overflow checks are on (the kernel's
        // cells, debug builds) and wraps where they are off: both get the same hint.
        // Other panics (a `todo!()`) go on to the check's own handler, which names their place.
        let got = if why.is_empty() {
            estimate_from(hits, samples)
        } else {
            match crate::panics::catch_quietly(|| estimate_from(hits, samples)) {
                Ok(got) => got,
                Err(caught) => {
                    return Err(format!("{call} panicked ({}): {why}", caught.message));
                }
            }
        };
        match got {
            None => {
                let why = if why.is_empty() {
                    "this is good input".to_owned()
                } else {
                    why.to_owned()
                };
                return Err(format!("{call} gave None, expected Some({want}): {why}"));
            }
            Some(x) if x.is_nan() => {
                return Err(format!("{call} gave Some(NaN), expected Some({want})"));
            }
            Some(x) if (x - want).abs() > 1e-9 * want.abs().max(1.0) => {
                let integer = samples > 0
                    && hits
                        .checked_mul(4)
                        .is_some_and(|h4| x == (h4 / samples) as f64);
                let hint = if integer {
                    ": the division happened in integers (4 * 785 / 1000 is 3). Convert hits and \
                     samples to f64 before dividing"
                        .to_owned()
                } else if !why.is_empty() {
                    format!(": {why}")
                } else if (x * samples as f64 / 4.0 - samples as f64 / hits.max(1) as f64).abs()
                    < 1e-6
                {
                    ": is it samples / hits instead of hits / samples?".to_owned()
                } else {
                    String::new()
                };
                return Err(format!(
                    "{call} gave Some({x}), expected Some({want}){hint}"
                ));
            }
            Some(_) => {}
        }
    }
    let bad: [(u64, u64, &str); 4] = [
        (0, 0, "there are no samples (0 / 0 is NaN)"),
        (5, 4, "more hits than samples is impossible input"),
        (1, 0, "there are no samples"),
        (u64::MAX, 3, "more hits than samples is impossible input"),
    ];
    for (hits, samples, why) in bad {
        if let Some(x) = estimate_from(hits, samples) {
            return Err(format!(
                "estimate_from({hits}, {samples}) gave Some({x}), expected None: {why}"
            ));
        }
    }
    Ok(
        "right for good input (no hits, all hits, counts too big for 4 * hits in integers too), \
        and None for no samples and for more hits than samples"
            .into(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn right(hits: u64, samples: u64) -> Option<f64> {
        (samples > 0 && hits <= samples).then(|| 4.0 * hits as f64 / samples as f64)
    }

    #[test]
    fn the_right_answer_passes() {
        assert!(check_estimate_from(right).is_ok());
        // Dividing first, multiplying after rounds a little differently: still right.
        let divide_first = |h: u64, s: u64| (s > 0 && h <= s).then(|| h as f64 / s as f64 * 4.0);
        assert!(check_estimate_from(divide_first).is_ok());
    }

    /// Plausible wrong answers, each told what it did.
    #[test]
    fn wrong_answers_are_told_what_they_did() {
        type Answer = dyn Fn(u64, u64) -> Option<f64>;
        let cases: [(&Answer, &str); 9] = [
            // The library's own: PiEstimate::from_hits does the whole exercise.
            (
                &|h, s| {
                    crate::pi::PiEstimate::from_hits(h, s)
                        .ok()
                        .map(|e| e.estimate)
                },
                "the library's own solution, `pi::PiEstimate::from_hits`",
            ),
            (
                &|h, s| (s > 0 && h < s).then(|| 4.0 * h as f64 / s as f64),
                "every sample a hit is possible",
            ),
            (
                &|h, s| (s > 0 && h <= s && h > 0).then(|| 4.0 * h as f64 / s as f64),
                "no hit at all is possible",
            ),
            (
                &|h, s| (s > 0 && h <= s).then(|| (4 * h / s) as f64),
                "in integers",
            ),
            (
                &|h, s| (s > 0 && h <= s).then(|| (4 * h) as f64 / s as f64),
                "does not fit in a u64",
            ),
            (
                &|h, s| (h <= s).then(|| 4.0 * h as f64 / s as f64),
                "gave Some(NaN), expected None",
            ),
            (
                &|h, s| (s > 0).then(|| 4.0 * h as f64 / s as f64),
                "more hits than samples is impossible",
            ),
            (&|h, s| Some(4.0 * h as f64 / s as f64), "expected None"),
            (
                &|h, s| (s > 0 && h <= s).then(|| 4.0 * s as f64 / h as f64),
                "gave Some(",
            ),
        ];
        for (i, (answer, says)) in cases.into_iter().enumerate() {
            let msg = check_estimate_from(answer).expect_err(&format!("wrong answer {i} passed"));
            assert!(msg.contains(says), "wrong answer {i}: {msg}");
        }
    }
}
