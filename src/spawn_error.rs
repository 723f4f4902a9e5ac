//! [`SpawnError`]: a thread the operating system refused to start, the one error every module that
//! starts threads returns for it (inside its own error type, as its `Spawn` variant).

use std::sync::Arc;

/// The operating system refused to start a thread (too many threads, no memory for its stack).
///
/// It keeps the system's error as its [`source`](std::error::Error::source), shared (`Arc`) so that
/// the errors holding it stay `Clone`; two are equal when they name the same thread and say the
/// same.
///
/// # Examples
/// ```
/// use std::error::Error as _;
/// use parlab::pi::PiError;
/// use parlab::spawn_error::SpawnError;
/// let refused = std::io::Error::from(std::io::ErrorKind::WouldBlock);
/// let e = PiError::from(SpawnError::new("thread `calc_pi`", refused));
/// assert!(e.to_string().starts_with("could not start thread `calc_pi`: "));
/// let io = e.source().and_then(|s| s.downcast_ref::<std::io::Error>());
/// assert_eq!(io.map(|io| io.kind()), Some(std::io::ErrorKind::WouldBlock));
/// ```
#[derive(Debug, Clone)]
pub struct SpawnError {
    /// The thread, e.g. ``thread `calc_pi` `` or `a thread`.
    pub thread: String,
    /// The operating system's error.
    source: Arc<std::io::Error>,
}

impl SpawnError {
    /// The system refused to start `thread` with the error `source`.
    pub fn new(thread: impl Into<String>, source: std::io::Error) -> Self {
        SpawnError {
            thread: thread.into(),
            source: Arc::new(source),
        }
    }

    /// The operating system's error.
    pub fn io_error(&self) -> &std::io::Error {
        &self.source
    }
}

impl std::fmt::Display for SpawnError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "could not start {}: {}", self.thread, self.source)
    }
}

/// The source is the `io::Error` itself (not the `Arc` that shares it), so callers can downcast it.
impl std::error::Error for SpawnError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(self.source.as_ref())
    }
}

impl PartialEq for SpawnError {
    fn eq(&self, other: &Self) -> bool {
        self.thread == other.thread && self.source.to_string() == other.source.to_string()
    }
}

impl Eq for SpawnError {}
