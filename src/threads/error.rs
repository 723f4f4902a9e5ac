//! [`ThreadsError`]: what went wrong in a threads helper.

/// What went wrong in a threads helper.
///
/// # Examples
/// ```
/// use parlab::threads::{random_vec, ThreadsError};
/// assert_eq!(random_vec(0, 1), Err(ThreadsError::Zero("the length")));
/// assert_eq!(ThreadsError::Zero("the length").to_string(), "the length must be at least 1");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ThreadsError {
    /// Asked for an empty vector or no work at all.
    #[error("{0} must be at least 1")]
    Zero(&'static str),
    /// A vector longer than [`MAX_LEN`](super::MAX_LEN).
    #[error("{len} numbers is more than the limit of {max}")]
    TooLong {
        /// The length asked for.
        len: usize,
        /// The limit, [`MAX_LEN`](super::MAX_LEN).
        max: usize,
    },
    /// The operating system refused to start a thread.
    #[error(transparent)]
    Spawn(#[from] crate::spawn_error::SpawnError),
    /// A thread panicked; the message of its panic.
    #[error("a thread panicked: {0}")]
    Panicked(String),
    /// A sort left a vector unsorted or changed its numbers.
    #[error("{0}")]
    WrongResult(String),
}
