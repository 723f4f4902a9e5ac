//! Timelines: who ran when, on which thread or worker, as lanes of spans from one origin.
//!
//! A [`Timeline`] is a value the learner holds (cloning gives another handle to the same record;
//! nothing lives in a `static`). It has lanes (a thread, a worker process, the caller), and spans
//! on each lane: a start and end relative to the timeline's origin, a [`Kind`] (holding the GIL,
//! waiting for a lock, starting, running a chunk, ...) and a label. The GIL
//! ([`Gil::record_into`](crate::gil::Gil::record_into)), the locks
//! ([`count_shared_recorded`](crate::locks::count_shared_recorded),
//! [`deadlock_demo_recorded`](crate::locks::deadlock_demo_recorded)), processes
//! (`Process::record`, `process::record_start_methods`, on Unix), the pools
//! ([`PoolOptions::timeline`](crate::pool::PoolOptions::timeline)) and your own code
//! ([`Timeline::span`]) record into it; [`chart::timeline`](crate::chart::timeline) draws it.
//!
//! Recording is a mutex-protected push of a few words: a span per 5 ms GIL slice costs far less
//! than 1% (see `cargo bench --bench pi`, group `timeline`).
//!
//! A timeline is bounded: it keeps its first [`MAX_SPANS`] spans and [`MAX_LANES`] lanes, and
//! labels of at most [`MAX_LABEL`] bytes (about 30 MB at most; 10 MB with short labels). Code that
//! records without end (a loop that never stops calling a pool, say) cannot fill the memory: later
//! spans are only counted ([`Timeline::dropped`], and the chart says so), later lanes share the
//! last one ([`OTHER_LANES`]).
//!
//! Times come from the monotonic clock (`CLOCK_MONOTONIC`, what [`Instant`] reads on Linux), which
//! every process on a machine shares: a worker process's own measurements line up with the
//! caller's without any adjustment ([`monotonic_ns`]).
//!
//! # Examples
//! ```
//! use parlab::timeline::{Kind, Timeline};
//! let tl = Timeline::new();
//! let main = tl.lane("main");
//! tl.span(main, Kind::Running, "counting", || parlab::pi::count_hits(1, 0, 10_000));
//! let spans = tl.spans();
//! assert_eq!(spans.len(), 1);
//! assert!(spans[0].end_ns >= spans[0].start_ns);
//! ```

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

mod buffer;
mod record;

pub use buffer::Buffer;
pub use record::{MAX_LABEL, MAX_LANES, MAX_SPANS, OTHER_LANES};
use record::{Record, bounded};

/// What a span on a timeline shows; each kind has its own colour and legend entry.
///
/// # Examples
/// ```
/// assert_eq!(parlab::timeline::Kind::HoldingGil.name(), "holding the GIL");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// Running work (without any lock).
    Running,
    /// Holding the (simulated) GIL and running.
    HoldingGil,
    /// Running with the GIL released (`allow_threads`, numba's nogil).
    NoGil,
    /// Waiting for a lock or the GIL.
    Waiting,
    /// Holding a lock.
    Holding,
    /// Starting a thread or a process.
    Starting,
    /// Sending or receiving: a message in flight, the caller waiting for a worker's answer.
    Sending,
    /// A task or chunk running in a pool worker (as the worker measured it).
    Task,
    /// Cut off: the span never finished (its worker was killed, a lock timed out).
    Unfinished,
}

impl Kind {
    /// Every kind, in legend order.
    pub const ALL: [Kind; 9] = [
        Kind::Running,
        Kind::HoldingGil,
        Kind::NoGil,
        Kind::Waiting,
        Kind::Holding,
        Kind::Starting,
        Kind::Sending,
        Kind::Task,
        Kind::Unfinished,
    ];

    /// The legend's words for this kind.
    ///
    /// # Examples
    /// ```
    /// assert_eq!(parlab::timeline::Kind::Waiting.name(), "waiting");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Kind::Running => "running",
            Kind::HoldingGil => "holding the GIL",
            Kind::NoGil => "running, GIL released",
            Kind::Waiting => "waiting",
            Kind::Holding => "holding the lock",
            Kind::Starting => "starting",
            Kind::Sending => "sending / waiting for results",
            Kind::Task => "task (worker's own clock)",
            Kind::Unfinished => "cut off (never finished)",
        }
    }
}

/// A lane of a timeline (its index, in the order lanes were made).
///
/// # Examples
/// ```
/// let tl = parlab::timeline::Timeline::new();
/// assert_eq!(tl.lane("caller").index(), 0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Lane(usize);

impl Lane {
    /// The lane's index: its row on the chart, from the top.
    ///
    /// # Examples
    /// ```
    /// let tl = parlab::timeline::Timeline::new();
    /// tl.lane("a");
    /// assert_eq!(tl.lane("b").index(), 1);
    /// ```
    pub fn index(self) -> usize {
        self.0
    }
}

/// One span: on `lane`, from `start_ns` to `end_ns` after the timeline's origin.
///
/// # Examples
/// ```
/// use parlab::timeline::{Kind, Timeline};
/// let tl = Timeline::new();
/// let lane = tl.lane("main");
/// tl.record_ns(lane, Kind::Running, "work", 1_000, 3_000);
/// assert_eq!(tl.spans()[0].duration_ns(), 2_000);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    /// The lane it is on.
    pub lane: Lane,
    /// What it shows.
    pub kind: Kind,
    /// Its label ("task 3", "chunk 1: tasks 4 to 7", ...).
    pub label: String,
    /// Start, in nanoseconds after the origin.
    pub start_ns: u64,
    /// End, in nanoseconds after the origin (at or after the start when recorded properly).
    pub end_ns: u64,
    /// The tasks it ran, for a pool's chunk: indexes into the call's input (`first..first + n`).
    pub tasks: Option<std::ops::Range<usize>>,
}

impl Span {
    /// How long it lasted, in nanoseconds (0 if it ends before it starts).
    ///
    /// # Examples
    /// ```
    /// let s = parlab::timeline::Span { lane: parlab::timeline::Timeline::new().lane("a"),
    ///     kind: parlab::timeline::Kind::Running, label: String::new(), start_ns: 5, end_ns: 2,
    ///     tasks: None };
    /// assert_eq!(s.duration_ns(), 0);
    /// ```
    pub fn duration_ns(&self) -> u64 {
        self.end_ns.saturating_sub(self.start_ns)
    }
}

#[derive(Debug)]
struct Inner {
    origin: Instant,
    origin_mono_ns: u64,
    record: Mutex<Record>,
}

/// A record of who ran when: lanes, and spans on them from one origin.
///
/// Cloning gives another handle to the same record (share it with threads and pools).
///
/// # Examples
/// ```
/// use parlab::timeline::{Kind, Timeline};
/// let tl = Timeline::new();
/// std::thread::scope(|s| {
///     for t in 0..2 {
///         let tl = tl.clone();
///         s.spawn(move || {
///             let lane = tl.lane(&format!("thread {t}"));
///             tl.span(lane, Kind::Running, "count", || parlab::pi::count_hits(t, 0, 1000));
///         });
///     }
/// });
/// assert_eq!(tl.lanes().len(), 2);
/// assert_eq!(tl.spans().len(), 2);
/// ```
#[derive(Clone)]
pub struct Timeline {
    inner: Arc<Inner>,
}

impl Default for Timeline {
    fn default() -> Self {
        Timeline::new()
    }
}

impl fmt::Debug for Timeline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = self.locked();
        f.debug_struct("Timeline")
            .field("lanes", &r.lanes)
            .field("spans", &r.spans.len())
            .field("dropped", &r.dropped)
            .finish()
    }
}

/// Now on the machine's monotonic clock (`CLOCK_MONOTONIC`), in nanoseconds: the clock every
/// process here shares, so a worker's times and the caller's can be compared.
///
/// # Examples
/// ```
/// let a = parlab::timeline::monotonic_ns();
/// assert!(parlab::timeline::monotonic_ns() >= a);
/// ```
pub fn monotonic_ns() -> u64 {
    #[cfg(unix)]
    {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // Safety: clock_gettime writes one timespec into the valid, owned `ts`; CLOCK_MONOTONIC
        // always exists on Linux and macOS.
        unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
        (ts.tv_sec as u64).saturating_mul(1_000_000_000) + ts.tv_nsec as u64
    }
    // Elsewhere (Windows, where parlab runs no worker processes) the wall clock stands in.
    #[cfg(not(unix))]
    {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
    }
}

impl Timeline {
    /// An empty timeline whose origin is now.
    ///
    /// # Examples
    /// ```
    /// assert!(parlab::timeline::Timeline::new().spans().is_empty());
    /// ```
    pub fn new() -> Self {
        let origin = Instant::now();
        let origin_mono_ns = monotonic_ns();
        Timeline {
            inner: Arc::new(Inner {
                origin,
                origin_mono_ns,
                record: Mutex::new(Record::default()),
            }),
        }
    }

    fn locked(&self) -> MutexGuard<'_, Record> {
        // Pushes of plain values: a panic cannot leave the record half-changed.
        self.inner
            .record
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The lane called `name`, made if there is none yet.
    ///
    /// # Examples
    /// ```
    /// let tl = parlab::timeline::Timeline::new();
    /// assert_eq!(tl.lane("main"), tl.lane("main"));
    /// ```
    pub fn lane(&self, name: &str) -> Lane {
        let name = bounded(name.to_string());
        let mut r = self.locked();
        if let Some(i) = r.lanes.iter().position(|l| *l == name) {
            return Lane(i);
        }
        r.new_lane(name)
    }

    /// The lane of the current thread, made on first use: the thread's name and a number
    /// counted per name (`GIL thread 1`, `GIL thread 2`, `free thread 1`), or `thread N`.
    ///
    /// # Examples
    /// ```
    /// let tl = parlab::timeline::Timeline::new();
    /// assert_eq!(tl.this_thread(), tl.this_thread());
    /// let lane = std::thread::Builder::new().name("GIL thread".into())
    ///     .spawn({ let tl = tl.clone(); move || tl.this_thread() }).unwrap().join().unwrap();
    /// assert_eq!(tl.lanes()[lane.index()], "GIL thread 1");
    /// ```
    pub fn this_thread(&self) -> Lane {
        let id = std::thread::current().id();
        let mut r = self.locked();
        if let Some(&lane) = r.by_thread.get(&id) {
            return lane;
        }
        if r.lanes_full() {
            // Not remembered per thread: a program that starts threads without end must not grow it.
            return r.new_lane(String::new());
        }
        let base = match std::thread::current().name() {
            Some(name) if name != "main" => name.to_string(),
            _ => "thread".to_string(),
        };
        // Thread names repeat (every worker of a call may have the same): number them.
        let n = {
            let n = r.per_name.entry(base.clone()).or_insert(0);
            *n += 1;
            *n
        };
        let lane = r.new_lane(format!("{base} {n}"));
        r.by_thread.insert(id, lane);
        lane
    }

    /// Nanoseconds from the origin to `at` (0 for a moment before the origin).
    ///
    /// # Examples
    /// ```
    /// let tl = parlab::timeline::Timeline::new();
    /// assert!(tl.ns(std::time::Instant::now()) < 1_000_000_000);
    /// ```
    pub fn ns(&self, at: Instant) -> u64 {
        u64::try_from(at.saturating_duration_since(self.inner.origin).as_nanos())
            .unwrap_or(u64::MAX)
    }

    /// Nanoseconds from the origin to a reading of [`monotonic_ns`] (taken in any process).
    ///
    /// # Examples
    /// ```
    /// let tl = parlab::timeline::Timeline::new();
    /// assert!(tl.from_monotonic(parlab::timeline::monotonic_ns()) < 1_000_000_000);
    /// ```
    pub fn from_monotonic(&self, mono_ns: u64) -> u64 {
        mono_ns.saturating_sub(self.inner.origin_mono_ns)
    }

    /// Records a span on `lane` from `start` to `end`.
    ///
    /// # Examples
    /// ```
    /// use std::time::Instant;
    /// use parlab::timeline::{Kind, Timeline};
    /// let tl = Timeline::new();
    /// let start = Instant::now();
    /// tl.record(tl.lane("main"), Kind::Running, "nothing", start, Instant::now());
    /// assert_eq!(tl.spans().len(), 1);
    /// ```
    pub fn record(
        &self,
        lane: Lane,
        kind: Kind,
        label: impl Into<String>,
        start: Instant,
        end: Instant,
    ) {
        let (s, e) = (self.ns(start), self.ns(end));
        self.record_ns(lane, kind, label, s, e);
    }

    /// Records a span on `lane` given in nanoseconds after the origin (taken as given: a span
    /// that ends before it starts is kept, and the chart reports it).
    ///
    /// # Examples
    /// ```
    /// use parlab::timeline::{Kind, Timeline};
    /// let tl = Timeline::new();
    /// tl.record_ns(tl.lane("w"), Kind::Task, "task 0", 10, 20);
    /// assert_eq!(tl.spans()[0].label, "task 0");
    /// ```
    pub fn record_ns(
        &self,
        lane: Lane,
        kind: Kind,
        label: impl Into<String>,
        start_ns: u64,
        end_ns: u64,
    ) {
        let span = Span {
            lane,
            kind,
            label: bounded(label.into()),
            start_ns,
            end_ns,
            tasks: None,
        };
        self.locked().push(span);
    }

    /// Records a pool chunk's span: tasks `tasks` of a call, from `start_ns` to `end_ns`.
    ///
    /// # Examples
    /// ```
    /// use parlab::timeline::{Kind, Timeline};
    /// let tl = Timeline::new();
    /// tl.record_tasks_ns(tl.lane("worker 1"), Kind::Task, 4..8, 100, 200);
    /// assert_eq!(tl.spans()[0].label, "tasks 4-7");
    /// assert_eq!(tl.spans()[0].tasks, Some(4..8));
    /// ```
    pub fn record_tasks_ns(
        &self,
        lane: Lane,
        kind: Kind,
        tasks: std::ops::Range<usize>,
        start_ns: u64,
        end_ns: u64,
    ) {
        let span = Span {
            lane,
            kind,
            label: tasks_label(&tasks),
            start_ns,
            end_ns,
            tasks: Some(tasks),
        };
        self.locked().push(span);
    }

    /// [`Timeline::record_tasks_ns`], labelled with the task's name too: `task 0 (sleep)`.
    ///
    /// # Examples
    /// ```
    /// use parlab::timeline::{Kind, Timeline};
    /// let tl = Timeline::new();
    /// tl.record_named_tasks_ns(tl.lane("w"), Kind::Task, 0..1, "sleep", 0, 10);
    /// assert_eq!(tl.spans()[0].label, "task 0 (sleep)");
    /// ```
    pub fn record_named_tasks_ns(
        &self,
        lane: Lane,
        kind: Kind,
        tasks: std::ops::Range<usize>,
        name: &str,
        start_ns: u64,
        end_ns: u64,
    ) {
        let span = Span {
            lane,
            kind,
            label: bounded(format!("{} ({name})", tasks_label(&tasks))),
            start_ns,
            end_ns,
            tasks: Some(tasks),
        };
        self.locked().push(span);
    }

    /// Adds spans recorded elsewhere (a [`Buffer`]) in one step, and the count of those it could
    /// not keep.
    fn extend(&self, spans: Vec<Span>, dropped: u64) {
        let mut r = self.locked();
        let room = MAX_SPANS.saturating_sub(r.spans.len());
        let kept = spans.len().min(room);
        r.dropped += dropped + (spans.len() - kept) as u64;
        r.spans.extend(spans.into_iter().take(kept));
    }

    /// Runs `f`, recording it as a span on `lane`; returns what `f` returns.
    ///
    /// # Examples
    /// ```
    /// use parlab::timeline::{Kind, Timeline};
    /// let tl = Timeline::new();
    /// let x = tl.span(tl.lane("main"), Kind::Running, "six times seven", || 6 * 7);
    /// assert_eq!(x, 42);
    /// ```
    pub fn span<R>(
        &self,
        lane: Lane,
        kind: Kind,
        label: impl Into<String>,
        f: impl FnOnce() -> R,
    ) -> R {
        let start = Instant::now();
        let r = f();
        self.record(lane, kind, label, start, Instant::now());
        r
    }

    /// The lanes' names, in order.
    ///
    /// # Examples
    /// ```
    /// let tl = parlab::timeline::Timeline::new();
    /// tl.lane("caller");
    /// assert_eq!(tl.lanes(), ["caller"]);
    /// ```
    pub fn lanes(&self) -> Vec<String> {
        self.locked().lanes.clone()
    }

    /// A copy of the spans, sorted by lane, then start.
    ///
    /// # Examples
    /// ```
    /// use parlab::timeline::{Kind, Timeline};
    /// let tl = Timeline::new();
    /// let l = tl.lane("a");
    /// tl.record_ns(l, Kind::Running, "late", 50, 60);
    /// tl.record_ns(l, Kind::Running, "early", 10, 20);
    /// assert_eq!(tl.spans()[0].label, "early");
    /// ```
    pub fn spans(&self) -> Vec<Span> {
        let mut spans = self.locked().spans.clone();
        spans.sort_by_key(|s| (s.lane, s.start_ns, s.end_ns));
        spans
    }

    /// How many spans were recorded after the timeline held [`MAX_SPANS`]: counted, not kept.
    ///
    /// # Examples
    /// ```
    /// assert_eq!(parlab::timeline::Timeline::new().dropped(), 0);
    /// ```
    pub fn dropped(&self) -> u64 {
        self.locked().dropped
    }

    /// Forgets every span, and the count of those not kept (the lanes and the origin stay).
    ///
    /// # Examples
    /// ```
    /// use parlab::timeline::{Kind, Timeline};
    /// let tl = Timeline::new();
    /// tl.record_ns(tl.lane("a"), Kind::Running, "x", 0, 1);
    /// tl.clear();
    /// assert!(tl.spans().is_empty());
    /// ```
    pub fn clear(&self) {
        let mut r = self.locked();
        r.spans.clear();
        r.dropped = 0;
    }

    /// Pairs of spans on one lane that overlap in time, among those of `kinds` (a GIL lane
    /// never holds twice at once; a worker runs one chunk at a time).
    ///
    /// # Examples
    /// ```
    /// use parlab::timeline::{Kind, Timeline};
    /// let tl = Timeline::new();
    /// let l = tl.lane("w");
    /// tl.record_ns(l, Kind::Task, "a", 0, 10);
    /// tl.record_ns(l, Kind::Task, "b", 5, 15);
    /// assert_eq!(tl.overlaps(&[Kind::Task]).len(), 1);
    /// ```
    pub fn overlaps(&self, kinds: &[Kind]) -> Vec<(Span, Span)> {
        let spans: Vec<Span> = self
            .spans()
            .into_iter()
            .filter(|s| kinds.contains(&s.kind))
            .collect();
        spans
            .windows(2)
            .filter(|w| w[0].lane == w[1].lane && w[1].start_ns < w[0].end_ns)
            .map(|w| (w[0].clone(), w[1].clone()))
            .collect()
    }

    /// Spans of `kinds` on any lane that overlap in time (at most one GIL holder at once).
    ///
    /// # Examples
    /// ```
    /// use parlab::timeline::{Kind, Timeline};
    /// let tl = Timeline::new();
    /// tl.record_ns(tl.lane("a"), Kind::HoldingGil, "", 0, 10);
    /// tl.record_ns(tl.lane("b"), Kind::HoldingGil, "", 10, 20);
    /// assert!(tl.overlaps_across_lanes(&[Kind::HoldingGil]).is_empty());
    /// ```
    pub fn overlaps_across_lanes(&self, kinds: &[Kind]) -> Vec<(Span, Span)> {
        let mut spans: Vec<Span> = self
            .spans()
            .into_iter()
            .filter(|s| kinds.contains(&s.kind))
            .collect();
        spans.sort_by_key(|s| (s.start_ns, s.end_ns));
        let mut out = Vec::new();
        let mut latest: Option<Span> = None;
        for s in spans {
            if let Some(l) = &latest {
                if s.start_ns < l.end_ns {
                    out.push((l.clone(), s.clone()));
                }
                if s.end_ns > l.end_ns {
                    latest = Some(s);
                }
            } else {
                latest = Some(s);
            }
        }
        out
    }
}

/// "task 3" or "tasks 4-7".
///
/// # Examples
/// ```
/// assert_eq!(parlab::timeline::tasks_label(&(3..4)), "task 3");
/// assert_eq!(parlab::timeline::tasks_label(&(4..8)), "tasks 4-7");
/// ```
pub fn tasks_label(tasks: &std::ops::Range<usize>) -> String {
    match tasks.len() {
        0 => "no tasks".to_string(),
        1 => format!("task {}", tasks.start),
        _ => format!("tasks {}-{}", tasks.start, tasks.end - 1),
    }
}

#[cfg(test)]
mod tests;
