//! [`ThreadsError`]: what went wrong in a threads helper.

use std::sync::Arc;

/// What went wrong in a threads helper.
///
/// # Examples
/// ```
/// use parlab::threads::{random_vec, ThreadsError};
/// assert_eq!(random_vec(0, 1), Err(ThreadsError::Zero("the length")));
/// assert_eq!(ThreadsError::Zero("the length").to_string(), "the length must be at least 1");
/// ```
#[derive(Debug, Clone, thiserror::Error)]
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
    #[error("could not start {thread}: {source}")]
    Spawn {
        /// The thread, e.g. ``thread `calc_pi` `` or `a thread`.
        thread: String,
        /// The operating system's error, kept as the [`source`](std::error::Error::source).
        #[source]
        source: Arc<std::io::Error>,
    },
    /// A thread panicked; the message of its panic.
    #[error("a thread panicked: {0}")]
    Panicked(String),
    /// A sort left a vector unsorted or changed its numbers.
    #[error("{0}")]
    WrongResult(String),
}

/// Two errors are equal when they are the same variant and say the same: the operating system's
/// error that [`ThreadsError::Spawn`] keeps as its source cannot be compared otherwise.
///
/// # Examples
/// ```
/// use parlab::threads::ThreadsError;
/// assert_eq!(ThreadsError::Zero("the length"), ThreadsError::Zero("the length"));
/// assert_ne!(ThreadsError::Zero("the length"), ThreadsError::Zero("repeats"));
/// ```
impl PartialEq for ThreadsError {
    fn eq(&self, other: &Self) -> bool {
        std::mem::discriminant(self) == std::mem::discriminant(other)
            && self.to_string() == other.to_string()
    }
}

impl Eq for ThreadsError {}

impl ThreadsError {
    /// A [`ThreadsError::Spawn`]: the system refused to start `thread` (``thread `name` `` or `a thread`).
    pub(crate) fn spawn(thread: impl Into<String>, source: std::io::Error) -> Self {
        ThreadsError::Spawn {
            thread: thread.into(),
            source: Arc::new(source),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;
    use std::io;
    use std::sync::Arc;

    use super::ThreadsError;

    #[test]
    fn a_refused_thread_keeps_the_os_error_as_its_source() {
        let os = io::Error::from(io::ErrorKind::WouldBlock);
        let said = os.to_string();
        let e = ThreadsError::spawn("thread `t`", os);
        assert_eq!(e.to_string(), format!("could not start thread `t`: {said}"));
        let source = e.source().expect("the OS error is kept");
        let io = source
            .downcast_ref::<Arc<io::Error>>()
            .expect("an io::Error");
        assert_eq!(io.kind(), io::ErrorKind::WouldBlock);
        assert_eq!(e.clone(), e);
        assert_ne!(
            e,
            ThreadsError::spawn("a thread", io::Error::from(io::ErrorKind::WouldBlock))
        );
    }
}
