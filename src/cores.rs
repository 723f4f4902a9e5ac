//! How many of the machine's cores this process can use right now: [`available_parallelism`]
//! spins one thread, then one per core, and compares the work they got done. A speed-up measured
//! meanwhile cannot beat it, so the lessons measure it before timing and say when the machine is
//! busy ([`Parallelism::busy_note`]); the kernel's own busy threads are told apart from other
//! programs ([`crate::cpu`]).

use std::fmt;
use std::hint::black_box;
use std::time::{Duration, Instant};

use crate::display;
use crate::units::format_duration;

/// Why the free cores could not be measured.
#[derive(Debug, thiserror::Error)]
pub enum CoresError {
    /// No threads to spin, or no time to spin them.
    #[error(
        "measuring free cores needs at least 1 thread and a window above 0, not {threads} threads for {window:?}"
    )]
    Nothing {
        /// The threads asked for.
        threads: usize,
        /// How long each was to spin.
        window: Duration,
    },
    /// A spinning thread could not start.
    #[error("measuring free cores: could not start a thread")]
    ThreadStart(#[source] std::io::Error),
}

/// How much parallel work the machine offers this process right now: `cores` spinning threads
/// against one, from [`available_parallelism`].
///
/// On an idle machine `available` is close to `cores`; when other programs keep cores busy it is
/// lower, and no speed-up measured meanwhile can beat it.
///
/// # Examples
/// ```
/// let now = parlab::cores::Parallelism { cores: 2, available: 1.2, window: std::time::Duration::from_millis(100), own_busy: 0.0 };
/// assert!(now.is_busy());
/// assert!(now.to_string().contains("1.2 of 2 cores"));
/// ```
/// Not `Copy`: lesson 00 drops it before a rebuild of parlab, where a value of its types is lost.
#[derive(Debug, Clone, PartialEq)]
pub struct Parallelism {
    /// The cores the operating system offers this process (`std::thread::available_parallelism`).
    pub cores: usize,
    /// How many cores' worth of work `cores` threads got done at once, against one thread alone.
    pub available: f64,
    /// How long each spinning run lasted.
    pub window: Duration,
    /// How many cores' worth of CPU this process's own other threads used meanwhile (code still
    /// running from an earlier cell, such as an answer a check gave up on): 0 when none, or when
    /// it cannot be measured (only Linux says).
    pub own_busy: f64,
}

/// Below this share of the cores, [`Parallelism::is_busy`] says the machine is busy.
const BUSY_SHARE: f64 = 0.8;

/// From this many cores' worth of this process's own threads, the busy note blames them.
const OWN_BUSY: f64 = 0.3;

impl Parallelism {
    /// True when well under the cores are free: less than 80% of them (1.6 of 2, say).
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// let quiet = parlab::cores::Parallelism { cores: 2, available: 1.95, window: Duration::ZERO, own_busy: 0.0 };
    /// assert!(!quiet.is_busy());
    /// ```
    pub fn is_busy(&self) -> bool {
        self.available < BUSY_SHARE * self.cores as f64
    }

    /// The best speed-up `threads` threads can get now: `min(threads, available)`, at least 1.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// let now = parlab::cores::Parallelism { cores: 2, available: 1.3, window: Duration::ZERO, own_busy: 0.0 };
    /// assert_eq!(now.best_speedup(4.0), 1.3);
    /// assert_eq!(now.best_speedup(1.0), 1.0);
    /// ```
    pub fn best_speedup(&self, threads: f64) -> f64 {
        threads.min(self.available).max(1.0_f64.min(threads))
    }

    /// A note for the learner when the machine is busy ([`Parallelism::is_busy`]), else `None`.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// let busy = parlab::cores::Parallelism { cores: 2, available: 1.1, window: Duration::ZERO, own_busy: 0.0 };
    /// assert!(busy.busy_note().unwrap().contains("only about 1.1 of its 2 cores"));
    /// ```
    pub fn busy_note(&self) -> Option<String> {
        self.is_busy().then(|| {
            if self.own_busy >= OWN_BUSY {
                let others = (self.cores as f64 - self.available - self.own_busy).max(0.0);
                let also = if others >= 0.3 {
                    format!(" (other programs use about {others:.1} more)")
                } else {
                    String::new()
                };
                return format!(
                    "This machine is busy, but not only with other programs: this kernel's own \
                     threads keep about {:.1} of its {} cores busy{also}, with code still running \
                     from an earlier cell (an answer that a check gave up on, a thread that never \
                     ends). Only about {:.1} cores are free for new work. Interrupt the kernel (the \
                     ■ button, or Kernel > Interrupt) to stop that code, run the cells above again, \
                     then this one.",
                    self.own_busy, self.cores, self.available
                );
            }
            let limit = if self.available < 1.2 {
                "threads cannot speed anything up now: with no second core free, they stay near 1x"
                    .to_owned()
            } else {
                format!(
                    "speed-ups measured now stop near {:.1}x instead of {}x",
                    self.available, self.cores
                )
            };
            format!(
                "This machine is busy: only about {:.1} of its {} cores are free for this kernel \
                 right now (other programs use the rest), so {limit}. The dotted \"available \
                 now\" line on the speed-up charts shows that limit. To see what the cores can do, \
                 close other programs (or wait until the machine is quiet) and run the timing \
                 cells again.",
                self.available, self.cores
            )
        })
    }

    /// Shows the measurement in evcxr: one line, and a visible note when the machine is busy.
    ///
    /// # Examples
    /// ```
    /// parlab::cores::available_parallelism()?.evcxr_display();
    /// # Ok::<(), parlab::cores::CoresError>(())
    /// ```
    pub fn evcxr_display(&self) {
        let mut html = format!(
            "<p data-parlab-parallelism=\"{:.2}\">Available now: <b>{:.1} of {} cores</b> \
             <small>({} spinning threads did {:.2}x the work of one, in {} each)</small></p>",
            self.available,
            self.available,
            self.cores,
            self.cores,
            self.available,
            format_duration(self.window)
        );
        if let Some(note) = self.busy_note() {
            html += &busy_note_html(&note);
        }
        display::show("text/html", &html);
    }
}

/// A busy-machine note as a visible HTML box.
pub(crate) fn busy_note_html(note: &str) -> String {
    format!(
        "<div data-parlab-note=\"busy\" style=\"border-left:4px solid #b35900;background:#fff4e5;\
         padding:4px 8px;margin:4px 0\"><b>Note:</b> {}</div>",
        display::escape_html(note)
    )
}

impl fmt::Display for Parallelism {
    /// `available now: 1.9 of 2 cores`, and the note when busy.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "available now: {:.1} of {} cores ({} spinning threads did {:.2}x the work of one)",
            self.available, self.cores, self.cores, self.available
        )?;
        if let Some(note) = self.busy_note() {
            write!(f, "\nNote: {note}")?;
        }
        Ok(())
    }
}

/// Measures how much parallelism the machine offers right now: one thread spinning for 100 ms,
/// then one thread per core for 100 ms (twice each, alternating); `available` is how many times
/// the work of one thread they got done together.
///
/// Run it just before a timing section: a speed-up measured while other programs keep cores busy
/// cannot beat it, and [`Parallelism::busy_note`] says so.
///
/// # Errors
/// [`CoresError::ThreadStart`] if a thread cannot start.
///
/// # Examples
/// ```
/// let now = parlab::cores::available_parallelism()?;
/// assert!(now.available > 0.0 && now.cores >= 1);
/// println!("{now}");
/// # Ok::<(), parlab::cores::CoresError>(())
/// ```
pub fn available_parallelism() -> Result<Parallelism, CoresError> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    available_parallelism_with(cores, Duration::from_millis(100))
}

/// [`available_parallelism`] with `threads` spinning threads and runs of `window` each.
///
/// # Errors
/// [`CoresError::Nothing`] for 0 threads or a zero window, [`CoresError::ThreadStart`] if a
/// thread cannot start.
///
/// # Examples
/// ```
/// use std::time::Duration;
/// let now = parlab::cores::available_parallelism_with(1, Duration::from_millis(20))?;
/// // One thread against one: about 1.0 (less, or a little more, while other programs run).
/// assert_eq!((now.cores, now.window), (1, Duration::from_millis(20)));
/// assert!(now.available > 0.0 && now.available.is_finite());
/// # Ok::<(), parlab::cores::CoresError>(())
/// ```
pub fn available_parallelism_with(
    threads: usize,
    window: Duration,
) -> Result<Parallelism, CoresError> {
    if threads == 0 || window.is_zero() {
        return Err(CoresError::Nothing { threads, window });
    }
    let mut one = 0u64;
    let mut many = 0u64;
    // This process's other threads' CPU meanwhile: not the spinning ones, not this one (waiting).
    let me = crate::cpu::current_tid();
    let before = crate::cpu::thread_times();
    let started = Instant::now();
    for _ in 0..2 {
        one += spin(1, window)?;
        many += spin(threads, window)?;
    }
    let own = crate::cpu::spent_since(before.as_ref(), |tid, name| {
        name != "spin" && Some(tid) != me
    })
    .map_or(0.0, |t| {
        t.as_secs_f64() / started.elapsed().as_secs_f64().max(1e-3)
    });
    Ok(Parallelism {
        cores: threads,
        available: if one == 0 {
            0.0
        } else {
            many as f64 / one as f64
        },
        window,
        own_busy: own,
    })
}

/// Blocks of work that `threads` threads, started together, get done in `window`.
fn spin(threads: usize, window: Duration) -> Result<u64, CoresError> {
    use std::sync::atomic::{AtomicU8, Ordering};
    const BLOCK: u64 = 1 << 14; // about 16 µs of counting
    const WAIT: u8 = 0;
    const GO: u8 = 1;
    // Not a Barrier: if a thread cannot start, the others must not wait for it forever.
    let start = AtomicU8::new(WAIT);
    std::thread::scope(|s| {
        let handles = (0..threads)
            .map(|i| {
                let start = &start;
                std::thread::Builder::new()
                    .name("spin".into())
                    .spawn_scoped(s, move || {
                        while start.load(Ordering::Acquire) == WAIT {
                            std::thread::yield_now();
                        }
                        if start.load(Ordering::Acquire) != GO {
                            return 0;
                        }
                        let deadline = Instant::now() + window;
                        let mut blocks = 0u64;
                        while Instant::now() < deadline {
                            black_box(crate::pi::count_hits_unwatched(
                                i as u64,
                                blocks * BLOCK,
                                BLOCK,
                            ));
                            blocks += 1;
                        }
                        blocks
                    })
                    .map_err(CoresError::ThreadStart)
            })
            .collect::<Result<Vec<_>, _>>();
        start.store(if handles.is_ok() { GO } else { GO + 1 }, Ordering::Release);
        Ok(handles?.into_iter().map(|h| h.join().unwrap_or(0)).sum())
    })
}
