//! Task types are checked by their shape, not their name: two structs of one name with other
//! fields never pass for each other, on a process pool, a thread pool and a spawned worker; a
//! type that cannot be traced is refused with the reason, never sent on a guess.

use parlab::pool::{Pool, PoolError, PoolOptions, ProcessPool, ThreadPool};
use parlab::process::{self, Options, Output, ProcessError, Task, tasks};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use common::{SEC, pool_options, worker_options};

mod common;

fn pool() -> ProcessPool {
    ProcessPool::with_options(&pool_options(1)).expect("a process pool")
}

fn spawn_opts() -> Options {
    worker_options(Output::Discard, "w")
}

/// A call whose argument is this side's `Job` and whose result is the "worker's" `Job`: the
/// `echo` task sends the bytes back as they came, so they decode as the other struct unless the
/// signature tells the two apart.
trait EchoAs {
    fn on_pool<A: Serialize + DeserializeOwned + 'static>(
        &self,
        pool: &impl Pool,
        arg: &A,
    ) -> Result<String, PoolError>;
    fn spawned<A: Serialize + DeserializeOwned + 'static>(
        &self,
        arg: &A,
    ) -> Result<String, ProcessError>;
}

#[test]
fn two_structs_of_one_name_never_pass_for_each_other() {
    // Two block-local structs `Job` in one function: std::any::type_name is the same for both.
    let (worker_side, worker_name) = {
        #[derive(Serialize, Deserialize, Debug)]
        struct Job {
            n: u64,
            seed: u64,
        }
        struct View;
        impl EchoAs for View {
            fn on_pool<A: Serialize + DeserializeOwned + 'static>(
                &self,
                pool: &impl Pool,
                arg: &A,
            ) -> Result<String, PoolError> {
                pool.apply(Task::<A, Job>::named("echo"), arg)
                    .map(|j| format!("n: {}, seed: {}", j.n, j.seed))
            }
            fn spawned<A: Serialize + DeserializeOwned + 'static>(
                &self,
                arg: &A,
            ) -> Result<String, ProcessError> {
                let mut w = process::spawn_with(Task::<A, Job>::named("echo"), arg, &spawn_opts())?;
                w.join(SEC).map(|j| format!("n: {}, seed: {}", j.n, j.seed))
            }
        }
        (View, std::any::type_name::<Job>())
    };
    #[derive(Serialize, Deserialize, Debug)]
    struct Job {
        n: i64,
        seed: u64,
    }
    assert_eq!(
        std::any::type_name::<Job>(),
        worker_name,
        "the two structs have one name"
    );
    let sent = Job { n: -1, seed: 7 };
    let threads = ThreadPool::with_options(&PoolOptions::new(1).timeout(SEC)).unwrap();
    let processes = pool();
    for (who, outcome) in [
        ("thread pool", worker_side.on_pool(&threads, &sent)),
        ("process pool", worker_side.on_pool(&processes, &sent)),
    ] {
        // Before shapes were fingerprinted: Ok("n: 1, seed: 7"), -1 read as 1.
        let e = outcome.expect_err(who);
        assert!(matches!(e, PoolError::Failed { .. }), "{who}: {e}");
        let said = e.to_string();
        assert!(
            said.contains("the argument and result types must be the same"),
            "{who}: {said}"
        );
    }
    let e = worker_side.spawned(&sent).unwrap_err();
    assert!(matches!(e, ProcessError::WrongSignature { .. }), "{e}");
    // The same struct on both sides still runs.
    assert_eq!(
        threads.apply(tasks::echo::<Job>(), &sent).unwrap().n,
        -1,
        "echo of one type"
    );
}

/// `Job` as the worker binary could have it, beside this side's edit of it.
mod worker_job {
    #[derive(serde::Serialize, serde::Deserialize)]
    pub(crate) struct Job {
        pub(crate) n: u64,
        pub(crate) seed: u64,
    }
}

#[test]
fn a_refusal_names_the_field_that_differs() {
    // A handle named by hand with the wrong types for `sum` (which takes Vec<f64>).
    let as_u64s: Task<Vec<u64>, f64> = Task::named("sum");
    let e = pool().apply(&as_u64s, &vec![1, 2]).unwrap_err();
    assert!(
        e.to_string().contains(
            "takes Vec<f64> -> f64 in the worker, but the handle used here says Vec<u64> -> f64 \
             (field []: f64 in the worker, u64 here)"
        ),
        "{e}"
    );
    let mut w = process::spawn_with(&as_u64s, &vec![1, 2], &spawn_opts()).unwrap();
    match w.join(SEC).unwrap_err() {
        ProcessError::WrongSignature { differences, .. } => {
            assert_eq!(differences, " (field []: f64 in the worker, u64 here)")
        }
        other => panic!("{other}"),
    }
    // What a learner sees for an edited struct, named field by field.
    let worker = parlab::process::Types::of::<worker_job::Job, u64>().shapes();
    #[derive(Serialize, Deserialize)]
    struct Job {
        seed: u64,
        n: i64,
        extra: bool,
    }
    let here = parlab::process::Types::of::<Job, u64>();
    assert_eq!(
        here.differences(Some(&worker)),
        [
            "field extra: only in Job here",
            "Job's fields in another order: n, seed in the worker, seed, n here",
            "field n: u64 in the worker, i64 here"
        ]
    );
}

#[test]
fn a_type_that_cannot_be_traced_is_refused_with_the_reason() {
    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    #[serde(untagged)]
    enum Loose {
        Number(u64),
        Text(String),
    }
    let threads = ThreadPool::with_options(&PoolOptions::new(1).timeout(SEC)).unwrap();
    for (who, e) in [
        (
            "thread pool",
            threads
                .apply(tasks::echo::<Loose>(), &Loose::Number(1))
                .unwrap_err(),
        ),
        (
            "process pool",
            pool()
                .apply(tasks::echo::<Loose>(), &Loose::Text("x".into()))
                .unwrap_err(),
        ),
    ] {
        let said = e.to_string();
        assert!(
            said.contains("cannot see the shape of Loose"),
            "{who}: {said}"
        );
        assert!(said.contains("#[serde(untagged)]"), "{who}: {said}");
    }
    // A named task whose handle says an untraceable type: refused by the worker, reason given.
    let as_loose: Task<Loose, f64> = Task::named("sum");
    let e = pool().apply(&as_loose, &Loose::Number(1)).unwrap_err();
    assert!(
        e.to_string().contains("cannot see the shape of Loose"),
        "{e}"
    );
}

#[test]
fn an_initializer_with_the_wrong_types_names_both_signatures() {
    let wrong: Task<i32, ()> = Task::named("sleep");
    let opts = PoolOptions::new(1)
        .worker_binary(env!("CARGO_BIN_EXE_parlab-worker"))
        .output(Output::Discard)
        .initializer(&wrong, &1)
        .timeout(SEC);
    for (who, e) in [
        (
            "process pool",
            ProcessPool::with_options(&opts).unwrap_err(),
        ),
        ("thread pool", ThreadPool::with_options(&opts).unwrap_err()),
    ] {
        let said = e.to_string();
        assert!(!said.contains("says ?"), "{who}: {said}");
        assert!(
            said.contains("takes u64 -> () in the worker, but the handle used here says i32 -> ()"),
            "{who}: {said}"
        );
        assert!(
            said.contains("(the argument: u64 in the worker, i32 here)"),
            "{who}: {said}"
        );
        assert_eq!(
            said.matches("could not start a pool worker").count(),
            1,
            "{who}: {said}"
        );
    }
}
