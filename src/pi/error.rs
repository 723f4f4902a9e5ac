//! [`PiError`]: what went wrong with the arguments of a pi calculation (or its threads).

use std::sync::Arc;

/// What went wrong with the arguments of a pi calculation.
#[derive(Debug, Clone, thiserror::Error)]
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
    #[error("could not start {thread}: {source}")]
    Spawn {
        /// The thread, e.g. ``thread `calc_pi` `` or `a thread`.
        thread: String,
        /// The operating system's error, kept as the [`source`](std::error::Error::source).
        #[source]
        source: Arc<std::io::Error>,
    },
    /// A counting thread panicked; the message of its panic.
    #[error("a counting thread panicked: {0}")]
    Panicked(String),
}

/// Two errors are equal when they are the same variant and say the same: the operating system's
/// error that [`PiError::Spawn`] keeps as its source cannot be compared otherwise.
///
/// # Examples
/// ```
/// use parlab::pi::PiError;
/// assert_eq!(PiError::ZeroSamples, PiError::ZeroSamples);
/// assert_ne!(PiError::ZeroSamples, PiError::ZeroThreads);
/// ```
impl PartialEq for PiError {
    fn eq(&self, other: &Self) -> bool {
        std::mem::discriminant(self) == std::mem::discriminant(other)
            && self.to_string() == other.to_string()
    }
}

impl Eq for PiError {}

impl PiError {
    /// A [`PiError::Spawn`]: the system refused to start `thread` (``thread `name` `` or `a thread`).
    pub(crate) fn spawn(thread: impl Into<String>, source: std::io::Error) -> Self {
        PiError::Spawn {
            thread: thread.into(),
            source: Arc::new(source),
        }
    }
}

/// [`PiError::ZeroSamples`] for 0 samples.
pub(super) fn check_samples(samples: u64) -> Result<(), PiError> {
    if samples == 0 {
        Err(PiError::ZeroSamples)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;
    use std::io;
    use std::sync::Arc;

    use super::PiError;

    #[test]
    fn a_refused_thread_keeps_the_os_error_as_its_source() {
        let os = io::Error::from(io::ErrorKind::WouldBlock);
        let said = os.to_string();
        let e = PiError::spawn("thread `t`", os);
        assert_eq!(e.to_string(), format!("could not start thread `t`: {said}"));
        let source = e.source().expect("the OS error is kept");
        let io = source
            .downcast_ref::<Arc<io::Error>>()
            .expect("an io::Error");
        assert_eq!(io.kind(), io::ErrorKind::WouldBlock);
        assert_eq!(e.clone(), e);
        assert_ne!(
            e,
            PiError::spawn("a thread", io::Error::from(io::ErrorKind::WouldBlock))
        );
    }
}
