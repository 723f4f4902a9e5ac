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
    balance: Mutex<i64>,
    timeout: Duration,
    hold: Duration,
    /// A pause before each [`Account::lock`] asks for the lock (the transfer check's auditor
    /// slips in there when a transfer holds nothing between its two updates).
    pause: Duration,
    /// How many times a [`lock`](Account::lock) gave up after its time-out.
    timeouts: std::sync::atomic::AtomicUsize,
    /// The transfer check's accounts stop a retry loop after this many time-outs (a panic).
    max_timeouts: Option<usize>,
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
    fn timeouts(&self) -> usize {
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

/// Checks a learner's `transfer(from, to, amount)`: the right amounts move, two threads
/// transferring in opposite directions never deadlock, and no other thread ever sees a transfer
/// half done.
///
/// It runs the transfer once each way on one thread, then on two threads at once with accounts
/// whose locks are held 20 ms (a deadlock would be certain if the order were wrong; locks give up
/// after 300 ms), then 2 × 500 quick transfers in opposite directions, then 10 transfers while an
/// auditor thread adds up both balances holding both locks (a transfer that updates one account,
/// releases it and only then locks the other shows money in neither account). Nothing can hang:
/// every lock has a time-out.
///
/// # Errors
/// A message saying what is wrong, for [`crate::exercise::check`].
///
/// # Examples
/// ```
/// use parlab::locks::{check_transfer, Account, LockTimeout};
/// fn by_id(from: &Account, to: &Account, amount: i64) -> Result<(), LockTimeout> {
///     let (first, second) = if from.id() < to.id() { (from, to) } else { (to, from) };
///     let (mut a, mut b) = (first.lock()?, second.lock()?);
///     let sign = if from.id() < to.id() { 1 } else { -1 };
///     *a -= sign * amount;
///     *b += sign * amount;
///     Ok(())
/// }
/// assert!(check_transfer(by_id).is_ok());
/// ```
pub fn check_transfer<F>(transfer: F) -> Result<String, String>
where
    F: Fn(&Account, &Account, i64) -> Result<(), LockTimeout> + Sync,
{
    // The work is in a non-generic function, compiled once in the crate, not in every cell.
    check_transfer_dyn(&transfer)
}

fn check_transfer_dyn(
    transfer: &(dyn Fn(&Account, &Account, i64) -> Result<(), LockTimeout> + Sync),
) -> Result<String, String> {
    let (a, b) = (Account::new(0, 100), Account::new(1, 100));
    let step = |from: &Account, to: &Account, amount, want: [i64; 2]| -> Result<(), String> {
        let call = format!(
            "transfer(account {}, account {}, {amount})",
            from.id(),
            to.id()
        );
        transfer(from, to, amount).map_err(|e| {
            format!(
                "{call} on one thread, with no other thread running, failed: it {e}. Nothing \
                 else held that account, so your code was waiting for a lock it held itself: did \
                 it lock the same account twice, or keep a guard from an earlier transfer?"
            )
        })?;
        let mut got = [0; 2];
        for (g, account) in got.iter_mut().zip([&a, &b]) {
            *g = account.balance().map_err(|e| {
                format!(
                    "after {call} returned, {} is still locked (reading its balance {e}): your \
                     transfer kept a guard of it (stored it somewhere, or leaked it with \
                     mem::forget). Let both guards drop when the transfer ends",
                    e.what
                )
            })?;
        }
        if got != want {
            return Err(format!("{call} left balances {got:?}, expected {want:?}"));
        }
        Ok(())
    };
    step(&a, &b, 30, [70, 130])?;
    step(&b, &a, 50, [120, 80])?;

    let timeout = Duration::from_millis(300);
    let hold = Duration::from_millis(20);
    let slow = [0, 1].map(|id| {
        let mut a = Account::new(id, 100).with_timeout(timeout).with_hold(hold);
        a.max_timeouts = Some(6); // a retry loop that keeps deadlocking stops after ~2 s
        a
    });
    let start_line = Barrier::new(2);
    let started = Instant::now();
    let results = thread::scope(|s| {
        let (slow, start_line, transfer) = (&slow, &start_line, &transfer);
        let handles = [(0, 1, 10), (1, 0, 20)].map(|(from, to, amount)| {
            s.spawn(move || {
                start_line.wait();
                transfer(&slow[from], &slow[to], amount)
            })
        });
        handles.map(|h| h.join().map_err(|p| crate::panics::message(p.as_ref())))
    });
    let took = started.elapsed();
    let gave_up = slow[0].timeouts() + slow[1].timeouts();
    let mut failed = None;
    for r in results {
        match r {
            Err(panic) if gave_up == 0 => return Err(format!("a transfer panicked: {panic}")),
            Err(panic) => failed = failed.or(Some(panic)),
            Ok(Err(e)) => failed = failed.or(Some(e.to_string())),
            Ok(Ok(())) => {}
        }
    }
    if gave_up > 0 {
        let then = match &failed {
            None => "then your code retried and got through. A retry hides the deadlock, it does \
                     not prevent it (and two retrying threads can keep colliding)"
                .to_owned(),
            Some(e) => format!("and in the end your transfer failed: {e}"),
        };
        return Err(format!(
            "deadlock{}: two transfers in opposite directions each held one account and waited \
             for the other, until a lock gave up after {timeout:?} ({gave_up} time-out{} in \
             {took:.0?}); {then}. Take the two locks in the same order in every thread (lower id \
             first): then they never wait for each other in a circle",
            if failed.is_none() {
                ", recovered only through the time-out"
            } else {
                ""
            },
            if gave_up == 1 { "" } else { "s" }
        ));
    }
    if let Some(e) = failed {
        return Err(format!(
            "two transfers in opposite directions at the same time: one failed although no lock \
             timed out: {e}"
        ));
    }
    let got = [slow[0].balance(), slow[1].balance()];
    if got != [Ok(110), Ok(90)] {
        return Err(format!(
            "after 10 went 0 → 1 and 20 went 1 → 0 at the same time the balances are {got:?}, expected 110 and 90"
        ));
    }

    let quick = [Account::new(0, 1_000_000), Account::new(1, 1_000_000)];
    let failures = thread::scope(|s| {
        let (quick, transfer) = (&quick, &transfer);
        let handles = [(0, 1), (1, 0)].map(|(from, to)| {
            s.spawn(move || {
                (0..500)
                    .filter(|_| transfer(&quick[from], &quick[to], 1).is_err())
                    .count()
            })
        });
        handles.map(|h| h.join().unwrap_or(usize::MAX))
    });
    if failures.iter().any(|&f| f > 0) {
        return Err(format!(
            "{failures:?} of 2 × 500 quick transfers in opposite directions failed or panicked"
        ));
    }
    let gave_up = quick[0].timeouts() + quick[1].timeouts();
    if gave_up > 0 {
        return Err(format!(
            "deadlock, recovered only through the time-out: during 2 × 500 quick transfers in \
             opposite directions a lock gave up waiting {gave_up} time(s), and your code retried. \
             Take the two locks in the same order in every thread (lower id first)"
        ));
    }
    let total = quick[0].balance().unwrap_or(0) + quick[1].balance().unwrap_or(0);
    if total != 2_000_000 {
        return Err(format!(
            "money was created or lost: the total is {total}, expected 2000000"
        ));
    }
    audit(transfer)?;
    Ok(
        "the right amounts move, transfers in opposite directions never deadlock, and an auditor \
        adding up both balances meanwhile never saw money in flight"
            .into(),
    )
}

/// Transfers back and forth on one thread while an auditor on another adds up both balances,
/// holding both locks: with an atomic transfer the total is always 200.
///
/// Every [`Account::lock`] first pauses 3 ms, so a transfer that releases one account before it
/// locks the other leaves the money in no account for 3 ms, long enough for the auditor to see.
fn audit(
    transfer: &(dyn Fn(&Account, &Account, i64) -> Result<(), LockTimeout> + Sync),
) -> Result<(), String> {
    let pause = Duration::from_millis(3);
    let accounts = [0, 1].map(|id| {
        let mut a = Account::new(id, 100);
        a.pause = pause;
        a
    });
    let done = std::sync::atomic::AtomicBool::new(false);
    let (failed, seen) = thread::scope(|s| {
        let (accounts, done) = (&accounts, &done);
        let auditor = s.spawn(move || {
            let mut audits = 0u32;
            let mut wrong = None;
            while !done.load(std::sync::atomic::Ordering::SeqCst) {
                // Both locks, lower id first; never wait for the second while holding the first.
                if let Ok(first) = lock_within(&accounts[0].balance, Duration::from_millis(50)) {
                    if let Ok(second) = accounts[1].balance.try_lock() {
                        audits += 1;
                        let total = *first + *second;
                        if total != 200 && wrong.is_none() {
                            wrong = Some((*first, *second));
                        }
                    }
                }
                thread::sleep(Duration::from_micros(200));
            }
            (audits, wrong)
        });
        let mut failed = None;
        for i in 0..10 {
            let (from, to) = if i % 2 == 0 { (0, 1) } else { (1, 0) };
            if let Err(e) = transfer(&accounts[from], &accounts[to], 10) {
                failed = Some(e);
                break;
            }
        }
        done.store(true, std::sync::atomic::Ordering::SeqCst);
        (
            failed,
            auditor
                .join()
                .map_err(|p| crate::panics::message(p.as_ref())),
        )
    });
    if let Some(e) = failed {
        return Err(format!(
            "a transfer failed while nothing else held the accounts: {e}"
        ));
    }
    match seen {
        Err(panic) => Err(format!("the auditor thread panicked: {panic}")),
        Ok((_, Some((a, b)))) => Err(format!(
            "another thread adding up both balances during your transfers saw {a} + {b} = {}, \
             not 200: between your two updates the money was in neither account. Hold both locks \
             while you change both balances (take both guards first, lower id first, then \
             change them), so that no thread ever sees a transfer half done",
            a + b
        )),
        Ok((0, None)) => Err(
            "the auditor never got both locks during 10 transfers: is a lock kept after a \
             transfer returns?"
                .into(),
        ),
        Ok(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opposite_order_deadlocks_and_recovers() {
        let start = Instant::now();
        let outcome = deadlock_demo(LockOrder::Opposite, Duration::from_millis(100)).unwrap();
        let DeadlockOutcome::Deadlocked {
            gave_up, balances, ..
        } = &outcome
        else {
            panic!("expected a deadlock, got {outcome}");
        };
        assert!(!gave_up.is_empty());
        assert_eq!(balances[0] + balances[1], 200);
        assert!(start.elapsed() < Duration::from_secs(2));
        assert!(outcome.to_string().starts_with("Deadlock"));
    }

    #[test]
    fn ordered_locks_complete() {
        let outcome = deadlock_demo(LockOrder::ById, Duration::from_millis(300)).unwrap();
        assert!(
            matches!(
                outcome,
                DeadlockOutcome::Completed {
                    balances: [90, 110],
                    ..
                }
            ),
            "{outcome}"
        );
        assert!(deadlock_demo(LockOrder::ById, Duration::ZERO).is_err());
    }

    #[test]
    fn check_transfer_tells_cases_apart() {
        let ordered = |from: &Account, to: &Account, amount: i64| {
            transfer(LockOrder::ById, from, to, amount).map_err(|what| LockTimeout {
                what,
                waited: Duration::ZERO,
            })
        };
        assert!(check_transfer(ordered).is_ok());
        let opposite = |from: &Account, to: &Account, amount: i64| {
            transfer(LockOrder::Opposite, from, to, amount).map_err(|what| LockTimeout {
                what,
                waited: Duration::ZERO,
            })
        };
        let msg = check_transfer(opposite).unwrap_err();
        assert!(msg.starts_with("deadlock"), "{msg}");
        let backwards = |from: &Account, to: &Account, amount: i64| ordered(to, from, amount);
        assert!(check_transfer(backwards).unwrap_err().contains("expected"));
        // Never deadlocks, because it never holds both locks: but not atomic.
        let one_at_a_time = |from: &Account, to: &Account, amount: i64| {
            *from.lock()? -= amount;
            *to.lock()? += amount;
            Ok(())
        };
        let msg = check_transfer(one_at_a_time).unwrap_err();
        assert!(msg.contains("the money was in neither account"), "{msg}");
        assert!(msg.contains("= 190, not 200"), "{msg}");
    }

    /// Lock `from`, then try `to`; on a time-out let go of both and start again: no lock order.
    fn retry_after_timeout(from: &Account, to: &Account, amount: i64) -> Result<(), LockTimeout> {
        loop {
            let mut a = from.lock()?;
            if let Ok(mut b) = to.lock() {
                *a -= amount;
                *b += amount;
                return Ok(());
            }
        }
    }

    /// More plausible wrong answers, each told what it did.
    #[test]
    fn check_transfer_tells_what_wrong_answers_did() {
        let msg = check_transfer(retry_after_timeout).unwrap_err();
        // Two retrying threads may collide again and again: either way, the time-outs are named.
        assert!(
            msg.starts_with("deadlock") && msg.contains("time-out"),
            "{msg}"
        );
        // A guard leaked: the account stays locked after the transfer returns.
        let leaky = |from: &Account, to: &Account, amount: i64| {
            let (first, second) = if from.id() < to.id() {
                (from, to)
            } else {
                (to, from)
            };
            let mut a = first.lock()?;
            let mut b = second.lock()?;
            let sign = if from.id() < to.id() { 1 } else { -1 };
            *a -= sign * amount;
            *b += sign * amount;
            std::mem::forget(b);
            Ok(())
        };
        let msg = check_transfer(leaky).unwrap_err();
        assert!(msg.contains("account 1 is still locked"), "{msg}");
        assert!(msg.contains("mem::forget"), "{msg}");
        // The same account locked twice.
        let twice = |from: &Account, _to: &Account, _amount: i64| {
            let _a = from.lock()?;
            let _b = from.lock()?;
            Ok(())
        };
        let msg = check_transfer(twice).unwrap_err();
        assert!(msg.contains("a lock it held itself"), "{msg}");
        // Nothing moves.
        let nothing = |_: &Account, _: &Account, _: i64| Ok(());
        let msg = check_transfer(nothing).unwrap_err();
        assert!(
            msg.contains("left balances [100, 100], expected [70, 130]"),
            "{msg}"
        );
    }
}
