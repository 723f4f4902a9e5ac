//! How busy this process's own threads keep the cores: CPU time per thread, read twice.
//!
//! On Linux every thread's user and system time is in `/proc/self/task/<tid>/stat`, with its name
//! in `comm`. Sampling them before and after a wait says how many cores' worth of work the
//! process did meanwhile, and which threads did it: an exercise check uses it to tell a learner's
//! code still spinning after its time limit from code that only waits, and
//! [`timing::available_parallelism`](crate::timing::available_parallelism) to tell this kernel's
//! own busy threads from other programs. Elsewhere nothing is known (`None`).
//!
//! # Examples
//! ```
//! use std::time::Duration;
//! let busy = parlab::cpu::own_busy_cores(Duration::from_millis(50), |_tid, _name| true);
//! if cfg!(target_os = "linux") {
//!     assert!(busy.is_some_and(|cores| cores >= 0.0));
//! }
//! ```

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// CPU time (user + system) used so far by each thread of this process, by thread id, with the
/// thread's name; `None` where the system does not say (not Linux).
///
/// # Examples
/// ```
/// if cfg!(target_os = "linux") {
///     let threads = parlab::cpu::thread_times().unwrap();
///     assert!(!threads.is_empty());
/// }
/// ```
pub fn thread_times() -> Option<HashMap<u32, (String, Duration)>> {
    if !cfg!(target_os = "linux") {
        return None;
    }
    let tick = clock_tick()?;
    let mut out = HashMap::new();
    for thread in own_threads()? {
        let fields: Vec<&str> = thread.after_name.split_whitespace().collect();
        // After ")": state is field 3 of stat(5), so utime (14) and stime (15) are at 11 and 12.
        let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok());
        let (Some(user), Some(system)) = (ticks(11), ticks(12)) else {
            continue;
        };
        out.insert(
            thread.tid,
            (
                thread.name,
                Duration::from_nanos((tick.as_nanos() as u64).saturating_mul(user + system)),
            ),
        );
    }
    Some(out)
}

/// One thread of this process as `/proc/self/task/<tid>/stat` shows it.
struct ThreadStat {
    /// Its thread id.
    tid: u32,
    /// Its name (`comm`).
    name: String,
    /// The stat fields after the name's closing parenthesis, starting with the state.
    after_name: String,
}

/// This process's threads, read from `/proc/self/task` (Linux); a thread that ends between the
/// listing and the read is skipped.
fn own_threads() -> Option<impl Iterator<Item = ThreadStat>> {
    let dir = std::fs::read_dir("/proc/self/task").ok()?;
    Some(dir.flatten().filter_map(|entry| {
        let tid = entry.file_name().to_str()?.parse::<u32>().ok()?;
        let stat = std::fs::read_to_string(entry.path().join("stat")).ok()?;
        // The name, in parentheses, may hold spaces: the fields after it are counted from the ")".
        let (name_part, after_name) = stat.rsplit_once(')')?;
        let name = name_part.split_once('(').map_or("", |(_, n)| n).to_owned();
        Some(ThreadStat {
            tid,
            name,
            after_name: after_name.to_owned(),
        })
    }))
}

/// One clock tick of `/proc`'s CPU times.
fn clock_tick() -> Option<Duration> {
    #[cfg(unix)]
    {
        // Safety: sysconf only reads a system constant.
        let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
        (per_second > 0).then(|| Duration::from_secs(1) / per_second as u32)
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// How many of this process's threads that `counts` (by id and name) are running or ready to run
/// right now (state `R` in `/proc`), other than the calling thread; `None` where unknown.
///
/// A thread that wants a core counts even while a busy machine keeps it waiting for one, which
/// its CPU time alone would not show.
///
/// # Examples
/// ```
/// if cfg!(target_os = "linux") {
///     assert!(parlab::cpu::runnable_threads(|_, _| true).is_some());
/// }
/// ```
pub fn runnable_threads(counts: impl Fn(u32, &str) -> bool) -> Option<usize> {
    if !cfg!(target_os = "linux") {
        return None;
    }
    let me = current_tid();
    let mut n = 0;
    for thread in own_threads()? {
        if Some(thread.tid) != me
            && thread.after_name.trim_start().starts_with('R')
            && counts(thread.tid, &thread.name)
        {
            n += 1;
        }
    }
    Some(n)
}

/// The calling thread's id as `/proc` names it (Linux), to leave it out of a measurement.
///
/// # Examples
/// ```
/// if cfg!(target_os = "linux") {
///     let me = parlab::cpu::current_tid().unwrap();
///     assert!(parlab::cpu::thread_times().unwrap().contains_key(&me));
/// }
/// ```
pub fn current_tid() -> Option<u32> {
    let link = std::fs::read_link("/proc/thread-self").ok()?;
    link.file_name()?.to_str()?.parse().ok()
}

/// CPU time of this process's threads that `counts` (given each thread's id and name), summed over two samples of
/// [`thread_times`]: what they did between `before` and now (threads that ended meanwhile are
/// missed; threads started meanwhile count from zero).
///
/// # Examples
/// ```
/// let before = parlab::cpu::thread_times();
/// let spent = parlab::cpu::spent_since(before.as_ref(), |_tid, _name| true);
/// if cfg!(target_os = "linux") { assert!(spent.is_some()); }
/// ```
pub fn spent_since(
    before: Option<&HashMap<u32, (String, Duration)>>,
    counts: impl Fn(u32, &str) -> bool,
) -> Option<Duration> {
    let before = before?;
    let now = thread_times()?;
    Some(
        now.iter()
            .filter(|(tid, (name, _))| counts(**tid, name))
            .map(|(tid, (_, t))| {
                let was = before.get(tid).map_or(Duration::ZERO, |(_, b)| *b);
                t.saturating_sub(was)
            })
            .sum(),
    )
}

/// How many cores' worth of CPU this process's threads that `counts` (by id and name) use, measured over
/// `window` (the calling thread sleeps meanwhile); `None` where it cannot be measured.
///
/// # Examples
/// ```
/// use std::time::Duration;
/// // Nothing of ours spins while we sleep here: well under one core.
/// if let Some(cores) = parlab::cpu::own_busy_cores(Duration::from_millis(100), |_, _| true) {
///     assert!(cores < 0.9, "{cores}");
/// }
/// ```
pub fn own_busy_cores(window: Duration, counts: impl Fn(u32, &str) -> bool) -> Option<f64> {
    let before = thread_times()?;
    let start = Instant::now();
    std::thread::sleep(window);
    let spent = spent_since(Some(&before), counts)?;
    Some(spent.as_secs_f64() / start.elapsed().as_secs_f64().max(1e-3))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};

    #[test]
    #[cfg(target_os = "linux")]
    fn a_spinning_thread_is_seen_and_named() {
        let stop = AtomicBool::new(false);
        let busy = std::thread::scope(|s| {
            std::thread::Builder::new()
                .name("cpu-test-spin".into())
                .spawn_scoped(s, || {
                    while !stop.load(Ordering::Relaxed) {
                        std::hint::black_box(crate::pi::count_hits_unwatched(1, 0, 1000));
                    }
                })
                .unwrap();
            let busy = own_busy_cores(Duration::from_millis(300), |_, n| n == "cpu-test-spin");
            stop.store(true, Ordering::Relaxed);
            busy
        });
        // A busy machine may give the thread less than a core, but never nothing for 300 ms.
        let busy = busy.unwrap();
        assert!(busy > 0.05 && busy < 1.5, "{busy}");
    }
}
