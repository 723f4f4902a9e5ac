//! [`PiError`]: what went wrong with the arguments of a pi calculation (or its threads).

/// What went wrong with the arguments of a pi calculation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PiError {
    /// Asked for zero samples: there is no estimate without a sample.
    #[error("cannot estimate pi from 0 samples")]
    ZeroSamples,
    /// Asked for zero threads (or parts).
    #[error("need at least 1 thread, got 0")]
    ZeroThreads,
    /// More threads (or parts) than samples: some would have nothing to do.
    #[error("{threads} threads for only {samples} samples: use at most one thread per sample")]
    MoreThreadsThanSamples {
        /// The threads asked for.
        threads: usize,
        /// The samples asked for.
        samples: u64,
    },
    /// More threads than [`MAX_THREADS`](super::MAX_THREADS).
    #[error("{threads} threads is more than the limit of {max}")]
    TooManyThreads {
        /// The threads asked for.
        threads: usize,
        /// The limit, [`MAX_THREADS`](super::MAX_THREADS).
        max: usize,
    },
    /// More hits than samples in [`PiEstimate::from_hits`](super::PiEstimate::from_hits).
    #[error("{hits} hits out of only {samples} samples")]
    MoreHitsThanSamples {
        /// The hits given.
        hits: u64,
        /// The samples given.
        samples: u64,
    },
    /// The operating system refused to start a thread.
    #[error(transparent)]
    Spawn(#[from] crate::spawn_error::SpawnError),
    /// A counting thread panicked; the message of its panic.
    #[error("a counting thread panicked: {0}")]
    Panicked(String),
}

/// [`PiError::ZeroSamples`] for 0 samples.
pub(super) fn check_samples(samples: u64) -> Result<(), PiError> {
    if samples == 0 {
        Err(PiError::ZeroSamples)
    } else {
        Ok(())
    }
}
