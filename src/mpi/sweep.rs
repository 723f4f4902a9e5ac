//! calc_pi timed on each rank count ([`Mpi::sweep_calc_pi`]), to chart beside lesson 01's threads.

use std::time::{Duration, Instant};

use super::error::MpiError;
use super::launcher::Mpi;
use super::tasks;
use crate::timing::{Measurement, Sweep};

/// calc_pi timed on each rank count, from [`Mpi::sweep_calc_pi`].
#[derive(Debug, Clone, PartialEq)]
pub struct RankSweep {
    /// Timed inside the ranks: from a barrier before counting to the end of the `reduce`.
    pub counting: Sweep,
    /// Timed from outside: the launcher's start and end included.
    pub launched: Sweep,
}

impl Mpi {
    /// Times [`tasks::CALC_PI`] of `samples` with `seed` on each count of `ranks`, `repeats`
    /// runs each (every run starts the ranks anew): a sweep like [`crate::timing::sweep`]'s, to
    /// chart beside threads.
    ///
    /// # Errors
    /// As [`run`](Mpi::run); [`MpiError::BadRanks`] when `ranks` is empty or `repeats` is 0.
    ///
    /// # Examples
    /// ```no_run
    /// use parlab::{mpi::Mpi, timing::Metric};
    /// let s = Mpi::find()?.sweep_calc_pi(100_000_000, 1, &[1, 2], 1, std::time::Duration::from_secs(60))?;
    /// println!("{:?}", s.counting.to_series(Metric::Speedup).points);
    /// # Ok::<(), parlab::mpi::MpiError>(())
    /// ```
    pub fn sweep_calc_pi(
        &self,
        samples: u64,
        seed: u64,
        ranks: &[usize],
        repeats: usize,
        timeout: Duration,
    ) -> Result<RankSweep, MpiError> {
        if ranks.is_empty() || repeats == 0 {
            return Err(MpiError::BadRanks {
                task: tasks::CALC_PI.name().to_owned(),
                ranks: 0,
                reason: "the sweep needs some rank counts and at least one run each".into(),
            });
        }
        let (mut counting, mut launched) = (Vec::new(), Vec::new());
        for &k in ranks {
            let (mut inside, mut outside) = (Vec::new(), Vec::new());
            for _ in 0..repeats {
                let started = Instant::now();
                let run = self.run(tasks::CALC_PI, k, &(samples, seed), timeout)?;
                outside.push(started.elapsed());
                inside.push(Duration::from_secs_f64(run.seconds));
            }
            let label = format!("ranks = {k}");
            counting.push((
                k as f64,
                Measurement::new(&label, inside).with_work(samples),
            ));
            launched.push((
                k as f64,
                Measurement::new(label, outside).with_work(samples),
            ));
        }
        let sweep = |name: &str, points| Sweep {
            name: name.to_owned(),
            param: "ranks".into(),
            points,
            skipped: Vec::new(),
            budget: None,
        };
        Ok(RankSweep {
            counting: sweep("MPI ranks (counting + reduce)", counting),
            launched: sweep("MPI ranks (with mpirun's start)", launched),
        })
    }
}
