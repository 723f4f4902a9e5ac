use super::*;
use crate::locks::check_transfer;

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
