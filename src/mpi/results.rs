//! What the tasks give back: [`MpiPi`] (every rank's [`RankPi`]) from
//! [`tasks::CALC_PI`](crate::mpi::tasks::CALC_PI), [`RankInfo`] from
//! [`tasks::RANKS`](crate::mpi::tasks::RANKS).

use serde::{Deserialize, Serialize};

use crate::pi::PiEstimate;
use crate::timing::{Table, format_seconds};

/// One rank's part of a [`tasks::CALC_PI`](crate::mpi::tasks::CALC_PI) run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RankPi {
    /// The rank.
    pub rank: usize,
    /// The host it ran on (`MPI_Get_processor_name`).
    pub host: String,
    /// Its first sample of the seed's stream.
    pub first: u64,
    /// Its samples (all ranks' counts differ by at most one).
    pub samples: u64,
    /// Its hits.
    pub hits: u64,
    /// Seconds it spent counting.
    pub seconds: f64,
}

/// The result of [`tasks::CALC_PI`](crate::mpi::tasks::CALC_PI): the reduced estimate and every
/// rank's part.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MpiPi {
    /// The estimate from the hits summed by `reduce` on rank 0.
    pub estimate: PiEstimate,
    /// Seconds from a barrier before counting to the end of the reduce, on rank 0.
    pub seconds: f64,
    /// Every rank's part, in rank order (gathered to rank 0).
    pub ranks: Vec<RankPi>,
}

impl MpiPi {
    /// Every rank's part as a table: rank, host, first sample, samples, hits, counting time.
    ///
    /// # Examples
    /// ```
    /// use parlab::mpi::{MpiPi, RankPi};
    /// let part = RankPi { rank: 0, host: "node01".into(), first: 0, samples: 4, hits: 3, seconds: 1e-6 };
    /// let run = MpiPi { estimate: parlab::pi::PiEstimate::from_hits(3, 4)?, seconds: 1e-5, ranks: vec![part] };
    /// assert!(run.table().to_string().contains("node01"));
    /// # Ok::<(), parlab::pi::PiError>(())
    /// ```
    pub fn table(&self) -> Table {
        let mut table = Table::new([
            "rank",
            "host",
            "first sample",
            "samples",
            "hits",
            "counting",
        ]);
        for r in &self.ranks {
            table.push([
                r.rank.to_string(),
                r.host.clone(),
                r.first.to_string(),
                r.samples.to_string(),
                r.hits.to_string(),
                format_seconds(r.seconds),
            ]);
        }
        table
    }

    /// Shows [`table`](MpiPi::table) in evcxr.
    ///
    /// # Examples
    /// ```
    /// # let run = parlab::mpi::MpiPi { estimate: parlab::pi::PiEstimate::from_hits(3, 4)?, seconds: 0.0, ranks: vec![] };
    /// run.evcxr_display(); // prints the table as HTML for Jupyter
    /// # Ok::<(), parlab::pi::PiError>(())
    /// ```
    pub fn evcxr_display(&self) {
        self.table().evcxr_display();
    }
}

/// Where a rank runs, from [`tasks::RANKS`](crate::mpi::tasks::RANKS).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RankInfo {
    /// The rank.
    pub rank: usize,
    /// Ranks in the world.
    pub size: usize,
    /// The host (`MPI_Get_processor_name`).
    pub host: String,
    /// The process id on that host.
    pub pid: u32,
}
