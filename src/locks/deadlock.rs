//! Deadlock: two threads take two locks in opposite orders. Locks with a time-out turn the hang
//! into an outcome; taking the locks in one global order fixes it.

use std::fmt;
use std::sync::{Barrier, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

use super::{DEFAULT_TIMEOUT, LockError, LockTimeout, join, lock_within, spawn};
use crate::display;
use crate::timeline::{Buffer, Kind, Timeline};

/// A bank account: an id and a balance behind a `Mutex` that is only taken with a time-out.
///
/// # Examples
/// ```
/// use parlab::locks::Account;
/// let alice = Account::new(0, 100);
/// *alice.lock()? -= 30;
/// assert_eq!(alice.balance()?, 70);
/// # Ok::<(), parlab::locks::LockTimeout>(())
/// ```
#[derive(Debug)]
pub struct Account {
    id: usize,
    pub(super) balance: Mutex<i64>,
    timeout: Duration,
    hold: Duration,
    /// A pause before each [`Account::lock`] asks for the lock (the transfer check's auditor
    /// slips in there when a transfer holds nothing between its two updates).
    pub(super) pause: Duration,
    /// How many times a [`lock`](Account::lock) gave up after its time-out.
    timeouts: std::sync::atomic::AtomicUsize,
    /// The transfer check's accounts stop a retry loop after this many time-outs (a panic).
    pub(super) max_timeouts: Option<usize>,
}

impl Account {
    /// An account with this id and starting balance; its lock gives up after 1 s.
    ///
    /// # Examples
    /// ```
    /// assert_eq!(parlab::locks::Account::new(3, 10).id(), 3);
    /// ```
    pub fn new(id: usize, balance: i64) -> Self {
        Account {
            id,
            balance: Mutex::new(balance),
            timeout: DEFAULT_TIMEOUT,
            hold: Duration::ZERO,
            pause: Duration::ZERO,
            timeouts: std::sync::atomic::AtomicUsize::new(0),
            max_timeouts: None,
        }
    }

    /// The same account, with [`Account::lock`] giving up after `timeout` instead.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// let a = parlab::locks::Account::new(0, 1).with_timeout(Duration::from_millis(50));
    /// assert_eq!(a.timeout(), Duration::from_millis(50));
    /// ```
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The same account, whose [`Account::lock`] pauses for `hold` once it has the lock, as if
    /// the holder were busy: it makes the unlucky interleaving of a deadlock certain.
    ///
    /// # Examples
    /// ```
    /// use std::time::{Duration, Instant};
    /// let a = parlab::locks::Account::new(0, 1).with_hold(Duration::from_millis(5));
    /// let start = Instant::now();
    /// drop(a.lock()?);
    /// assert!(start.elapsed() >= Duration::from_millis(5));
    /// # Ok::<(), parlab::locks::LockTimeout>(())
    /// ```
    #[must_use]
    pub fn with_hold(mut self, hold: Duration) -> Self {
        self.hold = hold;
        self
    }

    /// The account's id: lock accounts in order of id to avoid deadlock.
    ///
    /// # Examples
    /// ```
    /// assert_eq!(parlab::locks::Account::new(7, 0).id(), 7);
    /// ```
    pub fn id(&self) -> usize {
        self.id
    }

    /// How long [`Account::lock`] waits before giving up.
    ///
    /// # Examples
    /// ```
    /// assert_eq!(parlab::locks::Account::new(0, 0).timeout().as_secs(), 1);
    /// ```
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Locks the balance, waiting at most [`Account::timeout`]; the guard derefs to the balance.
    ///
    /// # Errors
    /// [`LockTimeout`] naming this account, if another thread holds it for longer than the time-out.
    ///
    /// # Examples
    /// ```
    /// let bob = parlab::locks::Account::new(1, 50);
    /// let mut balance = bob.lock()?;
    /// *balance += 5;
    /// assert_eq!(*balance, 55);
    /// # Ok::<(), parlab::locks::LockTimeout>(())
    /// ```
    pub fn lock(&self) -> Result<MutexGuard<'_, i64>, LockTimeout> {
        if !self.pause.is_zero() {
            thread::sleep(self.pause);
        }
        let guard = lock_within(&self.balance, self.timeout).map_err(|e| {
            let before = self
                .timeouts
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            if self.max_timeouts.is_some_and(|max| before + 1 >= max) {
                panic!(
                    "account {}'s lock timed out {} times: a retry loop that keeps deadlocking",
                    self.id,
                    before + 1
                );
            }
            LockTimeout {
                what: format!("account {}", self.id),
                waited: e.waited,
            }
        })?;
        if !self.hold.is_zero() {
            thread::sleep(self.hold);
        }
        Ok(guard)
    }

    /// [`Account::lock`], recording on `rec` the wait (labelled `waiting`) and the hold's busy
    /// pause; returns the guard and when it was got.
    fn lock_recorded(
        &self,
        rec: &mut Buffer,
        waiting: String,
    ) -> Result<(MutexGuard<'_, i64>, Instant), LockTimeout> {
        if !self.pause.is_zero() {
            thread::sleep(self.pause);
        }
        let asked = Instant::now();
        let got = lock_within(&self.balance, self.timeout);
        let now = Instant::now();
        let guard = match got {
            Ok(guard) => guard,
            Err(e) => {
                rec.record(
                    Kind::Waiting,
                    format!("{waiting}: gave up after {:.0?}", e.waited),
                    asked,
                    now,
                );
                return Err(LockTimeout {
                    what: format!("account {}", self.id),
                    waited: e.waited,
                });
            }
        };
        rec.record(Kind::Waiting, waiting, asked, now);
        if !self.hold.is_zero() {
            thread::sleep(self.hold);
        }
        Ok((guard, now))
    }

    /// The balance now (takes the lock briefly).
    ///
    /// # Errors
    /// [`LockTimeout`] as [`Account::lock`].
    ///
    /// # Examples
    /// ```
    /// assert_eq!(parlab::locks::Account::new(0, 42).balance()?, 42);
    /// # Ok::<(), parlab::locks::LockTimeout>(())
    /// ```
    pub fn balance(&self) -> Result<i64, LockTimeout> {
        lock_within(&self.balance, self.timeout)
            .map(|g| *g)
            .map_err(|e| LockTimeout {
                what: format!("account {}", self.id),
                waited: e.waited,
            })
    }

    /// How many times [`lock`](Account::lock) gave up after its time-out so far.
    pub(super) fn timeouts(&self) -> usize {
        self.timeouts.load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// The order in which [`deadlock_demo`]'s transfers take the two account locks.
///
/// # Examples
/// ```
/// assert_ne!(parlab::locks::LockOrder::Opposite, parlab::locks::LockOrder::ById);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LockOrder {
    /// Each transfer locks the account it pays from, then the one it pays to: two transfers in
    /// opposite directions take the locks in opposite orders.
    Opposite,
    /// Each transfer locks the account with the lower id first: one order for every thread.
    ById,
}

/// How [`deadlock_demo`] ended: both transfers done, or a deadlock seen and given up on.
///
/// # Examples
/// ```
/// use parlab::locks::{deadlock_demo, LockOrder};
/// let outcome = deadlock_demo(LockOrder::ById, std::time::Duration::from_millis(500))?;
/// assert!(!outcome.is_deadlock());
/// # Ok::<(), parlab::locks::LockError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeadlockOutcome {
    /// Both transfers went through.
    Completed {
        /// Time from the start to both transfers done.
        elapsed: Duration,
        /// The two balances afterwards.
        balances: [i64; 2],
    },
    /// At least one thread gave up waiting: each held one lock and waited for the other's.
    Deadlocked {
        /// Time from the start to both threads finished (after giving up).
        elapsed: Duration,
        /// What each thread that gave up was waiting for, and what it held.
        gave_up: Vec<String>,
        /// The two balances afterwards (a transfer that gave up changed nothing; once one thread
        /// gives up, the other may get through).
        balances: [i64; 2],
    },
}

impl DeadlockOutcome {
    /// True for [`DeadlockOutcome::Deadlocked`].
    ///
    /// # Examples
    /// ```
    /// use parlab::locks::{deadlock_demo, LockOrder};
    /// let d = deadlock_demo(LockOrder::Opposite, std::time::Duration::from_millis(100))?;
    /// assert!(d.is_deadlock());
    /// # Ok::<(), parlab::locks::LockError>(())
    /// ```
    pub fn is_deadlock(&self) -> bool {
        matches!(self, DeadlockOutcome::Deadlocked { .. })
    }

    /// Shows the outcome as a short HTML paragraph in evcxr.
    ///
    /// # Examples
    /// ```
    /// use parlab::locks::{deadlock_demo, LockOrder};
    /// deadlock_demo(LockOrder::ById, std::time::Duration::from_millis(500))?.evcxr_display();
    /// # Ok::<(), parlab::locks::LockError>(())
    /// ```
    pub fn evcxr_display(&self) {
        let (colour, text) = match self {
            DeadlockOutcome::Completed { .. } => ("#1a7f37", self.to_string()),
            DeadlockOutcome::Deadlocked { .. } => ("#b35900", self.to_string()),
        };
        let mut lines = text.lines();
        let head = display::escape_html(lines.next().unwrap_or_default());
        let rest: Vec<String> = lines
            .map(|l| {
                format!(
                    "<li>{}</li>",
                    display::escape_html(l.trim_start_matches("- "))
                )
            })
            .collect();
        let html = format!(
            "<div style=\"border-left:4px solid {colour};padding:4px 10px\"><b>{head}</b><ul>{}</ul></div>",
            rest.join("")
        );
        display::show("text/html", &html);
    }
}

impl fmt::Display for DeadlockOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeadlockOutcome::Completed { elapsed, balances } => write!(
                f,
                "Completed: both transfers went through in {elapsed:.0?}.\n- balances now {} and {} (total {})",
                balances[0],
                balances[1],
                balances[0] + balances[1]
            ),
            DeadlockOutcome::Deadlocked {
                elapsed,
                gave_up,
                balances,
            } => {
                write!(
                    f,
                    "Deadlock: detected by time-out, both threads finished after {elapsed:.0?}."
                )?;
                for g in gave_up {
                    write!(f, "\n- {g}")?;
                }
                write!(
                    f,
                    "\n- balances now {} and {}, total {}: a transfer that gave up changed nothing",
                    balances[0],
                    balances[1],
                    balances[0] + balances[1]
                )
            }
        }
    }
}

/// [`transfer`], recording on `rec`: waiting for each lock, holding the first (and waiting for the
/// second while holding it), holding both.
fn transfer_recorded(
    order: LockOrder,
    from: &Account,
    to: &Account,
    amount: i64,
    rec: &mut Buffer,
) -> Result<(), String> {
    let from_first = match order {
        LockOrder::Opposite => true,
        LockOrder::ById => from.id() < to.id(),
    };
    let (first, second) = if from_first { (from, to) } else { (to, from) };
    let (mut first_guard, got_first) = first
        .lock_recorded(rec, format!("waits for account {}", first.id()))
        .map_err(|e| e.to_string())?;
    let held_alone = Instant::now();
    rec.record(
        Kind::Holding,
        format!("holds account {}", first.id()),
        got_first,
        held_alone,
    );
    let (mut second_guard, got_both) = second
        .lock_recorded(
            rec,
            format!("holds {}, waits for {}", first.id(), second.id()),
        )
        .map_err(|e| format!("held account {} and {e}", first.id()))?;
    let (from_balance, to_balance) = if from_first {
        (&mut *first_guard, &mut *second_guard)
    } else {
        (&mut *second_guard, &mut *first_guard)
    };
    *from_balance -= amount;
    *to_balance += amount;
    drop((first_guard, second_guard));
    rec.record(
        Kind::Holding,
        format!("holds both: moves {amount}"),
        got_both,
        Instant::now(),
    );
    Ok(())
}

/// Moves `amount` from `from` to `to`, taking the two locks in `order`; changes nothing unless it
/// gets both.
fn transfer(order: LockOrder, from: &Account, to: &Account, amount: i64) -> Result<(), String> {
    let from_first = match order {
        LockOrder::Opposite => true,
        LockOrder::ById => from.id() < to.id(),
    };
    let (first, second) = if from_first { (from, to) } else { (to, from) };
    let mut first_guard = first.lock().map_err(|e| e.to_string())?;
    let mut second_guard = second
        .lock()
        .map_err(|e| format!("held account {} and {e}", first.id()))?;
    let (from_balance, to_balance) = if from_first {
        (&mut *first_guard, &mut *second_guard)
    } else {
        (&mut *second_guard, &mut *first_guard)
    };
    *from_balance -= amount;
    *to_balance += amount;
    Ok(())
}

/// Two threads transfer money between two accounts in opposite directions, taking the locks in
/// `order`; each lock gives up after `timeout`.
///
/// Each lock is held a little (a fifth of the time-out, at most 20 ms) before the next is taken,
/// so with [`LockOrder::Opposite`] both threads surely hold one lock and wait for the other: a
/// deadlock. The time-out detects it: a thread gives up and releases what it holds (the other
/// may then get through, or give up too), and the demo returns [`DeadlockOutcome::Deadlocked`]; no thread is left stuck. With
/// [`LockOrder::ById`] one thread waits for the other and both transfers complete.
///
/// # Errors
/// [`LockError::Zero`] for a zero time-out; [`LockError::Spawn`], [`LockError::Panicked`].
///
/// # Examples
/// ```
/// use std::time::Duration;
/// use parlab::locks::{deadlock_demo, DeadlockOutcome, LockOrder};
/// let stuck = deadlock_demo(LockOrder::Opposite, Duration::from_millis(100))?;
/// assert!(stuck.is_deadlock());
/// let fixed = deadlock_demo(LockOrder::ById, Duration::from_millis(500))?;
/// assert!(matches!(fixed, DeadlockOutcome::Completed { balances: [90, 110], .. }));
/// # Ok::<(), parlab::locks::LockError>(())
/// ```
pub fn deadlock_demo(order: LockOrder, timeout: Duration) -> Result<DeadlockOutcome, LockError> {
    run_demo(order, timeout, None)
}

/// [`deadlock_demo`], recording each thread on `timeline` (lanes `transfer 0 → 1` and
/// `transfer 1 → 0`): waiting for a lock, holding it, and (deadlocked) holding one lock while
/// waiting for the other until the time-out, labelled `gave up`.
///
/// # Errors
/// As [`deadlock_demo`].
///
/// # Examples
/// ```
/// use std::time::Duration;
/// use parlab::{locks::{deadlock_demo_recorded, LockOrder}, timeline::{Kind, Timeline}};
/// let tl = Timeline::new();
/// let stuck = deadlock_demo_recorded(LockOrder::Opposite, Duration::from_millis(100), &tl)?;
/// assert!(stuck.is_deadlock());
/// assert!(tl.spans().iter().any(|s| s.kind == Kind::Waiting && s.label.contains("gave up")));
/// # Ok::<(), parlab::locks::LockError>(())
/// ```
pub fn deadlock_demo_recorded(
    order: LockOrder,
    timeout: Duration,
    timeline: &Timeline,
) -> Result<DeadlockOutcome, LockError> {
    run_demo(order, timeout, Some(timeline))
}

/// The demo, recorded on `timeline` if given.
fn run_demo(
    order: LockOrder,
    timeout: Duration,
    timeline: Option<&Timeline>,
) -> Result<DeadlockOutcome, LockError> {
    if timeout.is_zero() {
        return Err(LockError::Zero("the time-out"));
    }
    let hold = (timeout / 5).min(Duration::from_millis(20));
    let accounts = [0, 1].map(|id| Account::new(id, 100).with_timeout(timeout).with_hold(hold));
    let start_line = Barrier::new(2);
    let start = Instant::now();
    let results = thread::scope(|s| {
        let jobs = [(0usize, 1usize, 30i64), (1, 0, 20)];
        let mut handles = Vec::with_capacity(2);
        for (from, to, amount) in jobs {
            let (accounts, start_line) = (&accounts, &start_line);
            let mut rec = timeline.map(|tl| tl.buffer(tl.lane(&format!("transfer {from} → {to}"))));
            handles.push(spawn(s, "transfer", move || {
                start_line.wait();
                let (a, b) = (&accounts[from], &accounts[to]);
                match rec.as_mut() {
                    Some(rec) => transfer_recorded(order, a, b, amount, rec),
                    None => transfer(order, a, b, amount),
                }
                .map_err(|e| format!("the transfer {from} → {to} {e}"))
            })?);
        }
        handles.into_iter().map(join).collect::<Result<Vec<_>, _>>()
    })?;
    let elapsed = start.elapsed();
    let mut balances = [0; 2];
    for (b, a) in balances.iter_mut().zip(&accounts) {
        *b = a.balance()?;
    }
    let gave_up: Vec<String> = results.into_iter().filter_map(Result::err).collect();
    Ok(if gave_up.is_empty() {
        DeadlockOutcome::Completed { elapsed, balances }
    } else {
        DeadlockOutcome::Deadlocked {
            elapsed,
            gave_up,
            balances,
        }
    })
}

#[cfg(test)]
mod tests;
