//! Catching panics quietly: the one place where parlab touches the process's panic hook.
//!
//! A learner's `todo!()` in a check, a task that panics in a pool thread or a worker process: each
//! is reported as a value (its message, and where it happened), never printed to stderr, where
//! evcxr would show it in red as if the kernel had failed.
//!
//! One hook is installed per copy of this crate (evcxr links a fresh copy into every cell): it is
//! silent while a [`catch_quietly`] runs on the panicking thread (or, for a [`quiet_everywhere`]
//! section, on any thread), and hands every other panic to the hook that was there before. Hooks of
//! several copies chain, each deciding only for its own sections, so no section can unsilence
//! another (swapping the hook in and out, as a naive version would, races with other threads).
//!
//! # Examples
//! ```
//! use parlab::panics;
//! let caught = panics::catch_quietly(|| -> u32 { panic!("bad input {}", 7) }).unwrap_err();
//! assert_eq!(caught.message, "bad input 7");
//! assert!(caught.place.as_deref().is_some_and(|p| p.contains(".rs:")));
//! assert_eq!(panics::catch_quietly(|| 6 * 7).unwrap(), 42);
//! ```

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;
use std::sync::atomic::{AtomicUsize, Ordering};

thread_local! {
    /// How many [`catch_quietly`] sections are running on this thread.
    static QUIET_HERE: Cell<usize> = const { Cell::new(0) };
    /// Where the last quiet panic on this thread happened.
    static PLACE: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// How many [`quiet_everywhere`] sections are running in this process (for this copy of the crate).
static QUIET_EVERYWHERE: AtomicUsize = AtomicUsize::new(0);

/// A panic that was caught: its message and, when known, where it happened (`file:line`).
///
/// # Examples
/// ```
/// let c = parlab::panics::Caught { message: "boom".into(), place: Some("src/x.rs:3".into()) };
/// assert_eq!(c.to_string(), "boom (at src/x.rs:3)");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caught {
    /// The panic's message.
    pub message: String,
    /// Where it happened, `file:line`, if the hook saw it (not for code in a notebook cell: evcxr
    /// compiles it into a generated file the learner never sees).
    pub place: Option<String>,
}

impl fmt::Display for Caught {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.place {
            Some(place) => write!(f, "{} (at {place})", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// Runs `f`; a panic on this thread is caught without being printed and returned as [`Caught`].
///
/// # Errors
/// The panic, when `f` panics.
///
/// # Examples
/// ```
/// let e = parlab::panics::catch_quietly(|| -> () { todo!() }).unwrap_err();
/// assert!(e.message.starts_with("not yet implemented"));
/// ```
pub fn catch_quietly<T>(f: impl FnOnce() -> T) -> Result<T, Caught> {
    let _quiet = QuietHere::enter();
    panic::catch_unwind(AssertUnwindSafe(f)).map_err(caught)
}

/// A [`catch_quietly`] section on this thread, closed when dropped (also while unwinding).
/// Its steps are non-generic, so that a notebook cell compiles only the `catch_unwind` of its
/// closure.
struct QuietHere;

impl QuietHere {
    /// Opens a section.
    #[inline(never)]
    fn enter() -> Self {
        install();
        QUIET_HERE.with(|q| q.set(q.get() + 1));
        QuietHere
    }
}

impl Drop for QuietHere {
    #[inline(never)]
    fn drop(&mut self) {
        QUIET_HERE.with(|q| q.set(q.get() - 1));
    }
}

/// The caught panic of `payload`, where the hook saw it happen.
#[inline(never)]
fn caught(payload: Box<dyn Any + Send>) -> Caught {
    Caught {
        message: message(payload.as_ref()),
        place: PLACE.with(|p| p.borrow_mut().take()),
    }
}

/// Runs `f` with every panic in this process kept quiet, on any thread, until it returns; a panic
/// of `f` itself is caught as with [`catch_quietly`].
///
/// For checks of a learner's code, which may start threads of its own whose panics are part of
/// the answer, not noise for the notebook.
///
/// # Errors
/// The panic, when `f` panics.
///
/// # Examples
/// ```
/// let joined = parlab::panics::quiet_everywhere(|| std::thread::spawn(|| -> () { panic!("in a thread") }).join().is_err());
/// assert_eq!(joined, Ok(true)); // and nothing was printed
/// ```
pub fn quiet_everywhere<T>(f: impl FnOnce() -> T) -> Result<T, Caught> {
    let _quiet = QuietEverywhere::enter();
    catch_quietly(f)
}

/// A [`quiet_everywhere`] section, closed when dropped (also while unwinding); non-generic, as
/// [`QuietHere`].
struct QuietEverywhere;

impl QuietEverywhere {
    /// Opens a section.
    #[inline(never)]
    fn enter() -> Self {
        install();
        QUIET_EVERYWHERE.fetch_add(1, Ordering::SeqCst);
        QuietEverywhere
    }
}

impl Drop for QuietEverywhere {
    #[inline(never)]
    fn drop(&mut self) {
        QUIET_EVERYWHERE.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Keeps every panic on the calling thread quiet from now on (a pool's worker thread, a worker
/// process's main thread): their panics are caught and reported by the code that runs the tasks.
///
/// # Examples
/// ```
/// std::thread::spawn(|| {
///     parlab::panics::quiet_this_thread();
///     assert!(std::panic::catch_unwind(|| panic!("not printed")).is_err());
/// }).join().unwrap();
/// ```
pub fn quiet_this_thread() {
    install();
    QUIET_HERE.with(|q| q.set(q.get() + 1));
}

/// The text of a panic payload (`&str` or `String`), or a placeholder for other payloads.
///
/// # Examples
/// ```
/// let payload = std::panic::catch_unwind(|| panic!("bad {}", 1)).unwrap_err();
/// assert_eq!(parlab::panics::message(payload.as_ref()), "bad 1");
/// ```
pub fn message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic with a non-text payload".to_owned()
    }
}

/// True for the file evcxr compiles a notebook cell into (`src/lib.rs` of its generated crate): a
/// file the learner never sees, whose line numbers are not the cell's, so not worth naming.
fn in_a_cell(file: &str) -> bool {
    file == "src/lib.rs"
}

/// Installs this copy's hook, once.
fn install() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            let quiet = QUIET_HERE.try_with(Cell::get).unwrap_or(0) > 0
                || QUIET_EVERYWHERE.load(Ordering::SeqCst) > 0;
            if quiet {
                let place = info
                    .location()
                    .filter(|l| !in_a_cell(l.file()))
                    .map(|l| format!("{}:{}", l.file(), l.line()));
                let _ = PLACE.try_with(|p| *p.borrow_mut() = place);
            } else {
                previous(info);
            }
        }));
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_sections_and_places() {
        let outer = catch_quietly(|| {
            let inner = catch_quietly(|| -> u8 { panic!("inner") }).unwrap_err();
            assert_eq!(inner.message, "inner");
            assert!(inner.place.unwrap().contains("panics.rs"));
            panic!("outer")
        })
        .unwrap_err();
        assert_eq!(outer.message, "outer");
        assert_eq!(QUIET_HERE.with(Cell::get), 0, "sections are closed again");
    }

    #[test]
    fn non_text_payloads_have_a_placeholder() {
        let e = catch_quietly(|| std::panic::panic_any(17u32)).unwrap_err();
        assert_eq!(e.message, "a panic with a non-text payload");
    }
}
