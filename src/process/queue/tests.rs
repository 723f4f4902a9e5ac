use super::*;
use crate::process::{Options, Output, fork_with};

const SEC: Duration = Duration::from_secs(5);

#[test]
fn fifo_bounded_and_get_times_out() {
    let q = Queue::<u32>::new(3).unwrap();
    for i in 0..3 {
        q.put(&i, SEC).unwrap();
    }
    let start = Instant::now();
    let e = q.put(&9, Duration::from_millis(50)).unwrap_err();
    assert!(matches!(e, ProcessError::Timeout { .. }), "{e}");
    assert!(start.elapsed() >= Duration::from_millis(45));
    assert_eq!(
        (0..3).map(|_| q.get(SEC).unwrap()).collect::<Vec<_>>(),
        [0, 1, 2]
    );
    let e = q.get(Duration::from_millis(20)).unwrap_err();
    assert!(e.to_string().contains("queue get"), "{e}");
    assert!(Queue::<u8>::new(0).is_err());
    let big = Queue::<Vec<u8>>::new(1).unwrap();
    assert!(matches!(
        big.put(&vec![0; MAX_MESSAGE + 10], SEC),
        Err(ProcessError::TooLarge { .. })
    ));
}

#[test]
fn several_producer_processes() {
    let q = Queue::<(u32, u32)>::new(4).unwrap();
    let quiet = Options {
        output: Output::Discard,
        warn: false,
        ..Options::default()
    };
    let mut children = Vec::new();
    for p in 0..3u32 {
        let q = q.clone();
        let child = fork_with(
            move || {
                for i in 0..50 {
                    q.put(&(p, i), SEC).expect("put");
                }
            },
            &quiet,
        )
        .unwrap();
        children.push(child);
    }
    // Capacity 4 < 150 messages: the producers must wait for this consumer.
    let mut next = [0u32; 3];
    for _ in 0..150 {
        let (p, i) = q.get(SEC).unwrap();
        assert_eq!(
            i, next[p as usize],
            "messages of one producer arrive in order"
        );
        next[p as usize] += 1;
    }
    for mut c in children {
        c.join(SEC).unwrap();
    }
    assert!(q.get(Duration::from_millis(20)).is_err());
}

#[test]
fn holds_exactly_its_capacity_up_to_65536() {
    for capacity in [1, 513, 65_536] {
        let q = Queue::<u32>::new(capacity).unwrap();
        let start = Instant::now();
        for i in 0..capacity as u32 {
            q.put(&i, Duration::from_millis(100))
                .unwrap_or_else(|e| panic!("message {i} of {capacity}: {e}"));
        }
        let filled = start.elapsed();
        assert_eq!(q.len(), capacity);
        let e = q.put(&0, Duration::from_millis(20)).unwrap_err();
        assert!(matches!(e, ProcessError::Timeout { .. }), "{e}");
        assert!(
            e.to_string().contains("messages of its capacity are taken"),
            "{e}"
        );
        for i in 0..capacity as u32 {
            assert_eq!(q.get(SEC).unwrap(), i);
        }
        assert!(q.is_empty());
        eprintln!("capacity {capacity}: filled in {filled:?}");
    }
    assert!(Queue::<u8>::new(MAX_CAPACITY + 1).is_err());
}

#[test]
fn a_queue_of_100_holds_100_of_the_largest_messages_and_names_the_byte_limit_past_it() {
    let big = vec![7u8; MAX_MESSAGE - 8];
    let q = Queue::<Vec<u8>>::new(100).unwrap();
    for i in 0..100 {
        q.put(&big, SEC)
            .unwrap_or_else(|e| panic!("message {i}: {e}"));
    }
    let e = q.put(&big, Duration::from_millis(20)).unwrap_err();
    assert!(e.to_string().contains("all 100 messages"), "{e}");
    // A queue whose capacity in messages is past its byte limit says so.
    let q = Queue::<Vec<u8>>::new(1000).unwrap();
    let mut held = 0;
    let e = loop {
        match q.put(&big, Duration::from_millis(20)) {
            Ok(()) => held += 1,
            Err(e) => break e,
        }
    };
    assert!((200..1000).contains(&held), "{held}");
    let said = e.to_string();
    assert!(
        said.contains(&format!("it holds {held} of 1000 messages")),
        "{said}"
    );
    assert!(
        said.contains("capacity_bytes()") && said.contains("the byte limit"),
        "{said}"
    );
}

#[test]
fn large_messages_wrap_around_the_ring() {
    let q = Queue::<Vec<u8>>::new(4).unwrap();
    for round in 0..40u8 {
        let msg = vec![round; MAX_MESSAGE - 16];
        q.put(&msg, SEC).unwrap();
        assert_eq!(q.get(SEC).unwrap(), msg);
    }
}

#[test]
fn producers_killed_inside_put_lose_no_slot() {
    let capacity = 256;
    let q = Queue::<u64>::new(capacity).unwrap();
    let quiet = Options {
        output: Output::Discard,
        warn: false,
        ..Options::default()
    };
    // A producer puts as fast as it can into a queue with room, so that most of its time is
    // spent inside put (holding the lock, or between writing a message and committing it),
    // and is killed at some point of that.
    for round in 0..40u64 {
        let producer = q.clone();
        let mut child = fork_with(
            move || {
                for i in 0.. {
                    let _ = producer.put(&(round << 32 | i), Duration::from_millis(50));
                }
            },
            &quiet,
        )
        .unwrap();
        q.get(SEC).unwrap(); // it runs
        std::thread::sleep(Duration::from_micros(round * 7 % 150));
        child.kill(); // SIGKILL, and reaped
        while q.get(Duration::from_millis(5)).is_ok() {}
    }
    // Every slot is still there, and the lock was taken over.
    for i in 0..capacity as u64 {
        q.put(&i, Duration::from_millis(200))
            .unwrap_or_else(|e| panic!("slot {i} of {capacity} was lost: {e}"));
    }
    assert!(q.put(&99, Duration::from_millis(20)).is_err());
    for i in 0..capacity as u64 {
        assert_eq!(q.get(SEC).unwrap(), i);
    }
}
