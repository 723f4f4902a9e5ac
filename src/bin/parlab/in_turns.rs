//! A case and the limit it is held to, timed in turns: on a machine whose speed drifts (a
//! virtual machine whose idle cores wake slowly, a neighbour that comes and goes), timing one
//! after the other measures the drift; in turns, each round's ratio compares like with like.

use std::time::{Duration, Instant};

use parlab::timing::{self, Measurement};

use crate::bench::median;

/// A case and its limit, timed in turns: one time of each per round.
pub struct InTurns {
    /// The case held to the limit (parlab's pipe, say).
    pub case: Measurement,
    /// The limit (a bare socketpair, say).
    pub limit: Measurement,
}

impl InTurns {
    /// Times `case` and `limit` in turns, `rounds` times each, after one warm-up call of each;
    /// which of the two goes first alternates from round to round.
    pub fn measure<E>(
        (case_label, limit_label): (&str, &str),
        rounds: usize,
        mut case: impl FnMut() -> Result<(), E>,
        mut limit: impl FnMut() -> Result<(), E>,
    ) -> Result<InTurns, E> {
        let rounds = rounds.max(1);
        case()?;
        limit()?;
        let timed = |f: &mut dyn FnMut() -> Result<(), E>| -> Result<Duration, E> {
            let start = Instant::now();
            f()?;
            Ok(start.elapsed())
        };
        let (mut case_times, mut limit_times) = (Vec::new(), Vec::new());
        for round in 0..rounds {
            if round % 2 == 0 {
                case_times.push(timed(&mut case)?);
                limit_times.push(timed(&mut limit)?);
            } else {
                limit_times.push(timed(&mut limit)?);
                case_times.push(timed(&mut case)?);
            }
        }
        Ok(InTurns {
            case: Measurement::new(case_label, case_times),
            limit: Measurement::new(limit_label, limit_times),
        })
    }

    /// Each round's time of the case over the limit's.
    pub fn ratios(&self) -> Vec<f64> {
        self.case
            .times
            .iter()
            .zip(&self.limit.times)
            .map(|(c, l)| c.as_secs_f64() / l.as_secs_f64().max(1e-12))
            .collect()
    }

    /// The median of the rounds' ratios: how many times the limit the case takes.
    pub fn ratio(&self) -> f64 {
        median(&self.ratios())
    }

    /// One line for stderr, e.g. `pipe round trip: 1.21x raw round trip (median of 21 rounds in
    /// turns; rounds 1.05x to 1.60x; medians 16.2 µs and 13.4 µs per run)`.
    pub fn summary(&self) -> String {
        let ratios = self.ratios();
        let low = ratios.iter().copied().fold(f64::INFINITY, f64::min);
        let high = ratios.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        format!(
            "{}: {:.2}x {} (median of {} rounds in turns; rounds {low:.2}x to {high:.2}x; medians \
             {} and {} per run)",
            self.case.label,
            self.ratio(),
            self.limit.label,
            ratios.len(),
            timing::format_duration(self.case.median()),
            timing::format_duration(self.limit.median()),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_alternate_and_each_round_is_its_own_ratio() {
        let order = std::cell::RefCell::new(String::new());
        let turns = InTurns::measure(
            ("slow", "fast"),
            4,
            || {
                order.borrow_mut().push('c');
                std::thread::sleep(Duration::from_millis(4));
                Ok::<(), ()>(())
            },
            || {
                order.borrow_mut().push('l');
                std::thread::sleep(Duration::from_millis(1));
                Ok(())
            },
        )
        .unwrap();
        assert_eq!(
            *order.borrow(),
            "cl" /* warm-up */
                .to_owned()
                + "cllccllc"
        );
        assert_eq!((turns.case.times.len(), turns.limit.times.len()), (4, 4));
        assert!(
            turns.ratios().iter().all(|&r| r > 1.0),
            "{:?}",
            turns.ratios()
        );
        assert!(turns.summary().starts_with("slow: "), "{}", turns.summary());
        assert!(
            turns
                .summary()
                .contains("x fast (median of 4 rounds in turns")
        );
    }

    #[test]
    fn an_error_in_either_case_stops_the_timing() {
        let failed = InTurns::measure(("a", "b"), 3, || Ok(()), || Err("the limit broke"));
        assert_eq!(failed.err(), Some("the limit broke"));
    }
}
