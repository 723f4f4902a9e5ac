//! The check of the exercise "a transfer that cannot deadlock" ([`check_transfer`]): the right
//! amounts move, opposite transfers never deadlock, and no thread sees a transfer half done.

use std::sync::Barrier;
use std::thread;
use std::time::{Duration, Instant};

use super::deadlock::Account;
use super::{LockTimeout, lock_within};

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
