//! The tasks a spawned worker knows by name, typed; how a worker runs them; its main loop.
//!
//! A spawned worker is a fresh process: it cannot run a closure from the parent, only code it was
//! built with. Each task here is a typed constant ([`CALC_PI`] is a `Task<(u64, u64), PiEstimate>`),
//! so a call with arguments of another type does not compile; [`TASKS`] lists them. A function
//! written in a notebook cell runs too, through [`cell_task!`](crate::cell_task): the worker loads
//! the library evcxr compiled for that cell (see [`cell`](super::cell)).
//!
//! On the wire a request is a task id, the handle's [`Signature`](super::Signature) and a run of arguments, each
//! length-prefixed and encoded with postcard; the answer starts with a magic number and the
//! worker's own clock readings of when the task started and ended, then one encoded
//! `Result<R, TaskFailure>` per argument. A worker checks the signature before it decodes a byte,
//! and decodes each value strictly (bytes left over are an error); the caller refuses an answer
//! without the magic (a worker built from older sources) with an error that says to rebuild it.
//!
//! This module is the public face of four files, each one idea: the catalogue of tasks
//! (`catalogue.rs`), the wire and the outcome codec (`wire.rs`), running a task by its id in this
//! process (`run.rs`) and the worker's `main` (`worker_main.rs`).
//!
//! # Examples
//! ```
//! use parlab::process::tasks;
//! assert!(tasks::names().contains(&"calc_pi"));
//! // A task runs in this process too, which is what the worker does with each request:
//! assert_eq!(tasks::run_here(&tasks::SUM, &vec![1.0, 2.5]), Ok(3.5));
//! ```

pub use super::catalogue::{
    ABORT, CALC_PI, ENDS_THE_PROCESS, ENV, EXIT, PANIC, PID, PRINT, RUN_CHILD, SLEEP, STDIN, SUM,
    TASKS, TaskInfo, echo, names,
};
pub use super::run::run_here;
pub(crate) use super::run::{run_chunk, run_chunk_here};
pub use super::wire::TaskFailure;
pub(crate) use super::wire::{DecodeInto, decode_outcomes_into, first_failure};
#[cfg(unix)]
pub(crate) use super::worker_main::open_protocol_channel;
pub use super::worker_main::worker_main;

#[cfg(test)]
mod tests {
    use super::super::channel::{decode, encode};
    use super::super::items;
    use super::super::task::{Task, Types};
    use super::super::wire::{Reply, Response, decode_outcomes};
    use super::*;
    use crate::pi::PiEstimate;

    #[test]
    fn registry_runs_typed_tasks() {
        let est = run_here(&CALC_PI, &(10_000, 1)).unwrap();
        assert_eq!(est.samples, 10_000);
        assert_eq!(
            run_here(&echo::<Vec<u8>>(), &vec![1, 2, 3]).unwrap(),
            [1, 2, 3]
        );
        match run_here(&Task::<(), ()>::named("nope"), &()).unwrap_err() {
            TaskFailure::UnknownTask { name, known } => {
                assert_eq!(name, "nope");
                assert!(known.iter().any(|k| k == "calc_pi"));
            }
            other => panic!("{other:?}"),
        }
        let mut sorted = names();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), TASKS.len(), "task names are unique");
    }

    #[test]
    fn a_handle_with_other_types_is_refused_before_decoding() {
        // i32 literals where calc_pi takes u64: postcard would read zig-zag 1_000_000 as 2_000_000.
        let wrong: Task<(i32, i32), PiEstimate> = Task::named("calc_pi");
        match run_here(&wrong, &(1_000_000, 1)).unwrap_err() {
            TaskFailure::WrongSignature {
                task,
                worker,
                shapes,
            } => {
                assert_eq!(task, "calc_pi");
                assert_eq!(worker, "(u64, u64) -> PiEstimate");
                let here = Types::of::<(i32, i32), PiEstimate>();
                assert_eq!(
                    here.differences(shapes.as_deref()),
                    [
                        "field 0: u64 in the worker, i32 here",
                        "field 1: u64 in the worker, i32 here"
                    ]
                );
            }
            other => panic!("{other:?}"),
        }
        let pid_as_i64: Task<(), i64> = Task::named("pid");
        assert!(matches!(
            run_here(&pid_as_i64, &()),
            Err(TaskFailure::WrongSignature { .. })
        ));
        let echo_changing_type: Task<u64, i64> = Task::named("echo");
        assert!(matches!(
            run_here(&echo_changing_type, &1),
            Err(TaskFailure::WrongSignature { .. })
        ));
    }

    #[test]
    fn an_old_reply_is_a_stale_worker_never_a_value() {
        // What a worker built before replies carried times sends: a bare Response.
        let mut run = Vec::new();
        items::push_encoded(&mut run, &Ok::<u32, TaskFailure>(42)).unwrap();
        let old: [Response; 2] = [Ok(run), Err(TaskFailure::Panicked("x".into()))];
        for old in old {
            let bytes = encode(&old).unwrap();
            match Reply::decode(&bytes, 7) {
                Err(e @ super::super::ProcessError::StaleWorker { pid: 7 }) => {
                    assert!(e.to_string().contains(super::super::BUILD_WORKER), "{e}");
                }
                other => panic!("{other:?}"),
            }
        }
        let bytes = encode(&Reply::new(1, 2, Ok(vec![3]))).unwrap();
        let back = Reply::decode(&bytes, 7).unwrap();
        assert_eq!(
            (back.started_ns, back.ended_ns, back.response),
            (1, 2, Ok(vec![3]))
        );
        // A new reply cut short is corrupt, not stale.
        assert!(matches!(
            Reply::decode(&bytes[..bytes.len() - 1], 7),
            Err(super::super::ProcessError::Serde { .. })
        ));
        // And a new reply does not pass for an old one (an old caller refuses it).
        assert!(decode::<Response>(&bytes).is_err());
    }

    #[test]
    fn chunks_give_one_outcome_per_argument() {
        let mut args = Vec::new();
        for ms in ["a", "b"] {
            items::push_encoded(&mut args, ms).unwrap();
        }
        let out = run_chunk(PANIC.id(), PANIC.signature(), &args, 2).unwrap();
        let outcomes = decode_outcomes::<()>(&out, 2);
        assert!(matches!(&outcomes[1], Err(TaskFailure::Panicked(m)) if m.starts_with("b (at ")));
        // A count that does not match, and a corrupt frame, fail the chunk.
        assert!(run_chunk(PANIC.id(), PANIC.signature(), &args, 3).is_err());
        assert!(run_chunk(PANIC.id(), PANIC.signature(), &[0x05, 1], 1).is_err());
        // Results that are not the type asked for are an error, never a value.
        let out = run_chunk(
            SUM.id(),
            SUM.signature(),
            &{
                let mut a = Vec::new();
                items::push_encoded(&mut a, &vec![1.0f64]).unwrap();
                a
            },
            1,
        )
        .unwrap();
        assert!(matches!(
            decode_outcomes::<u8>(&out, 1)[0],
            Err(TaskFailure::BadResult(_))
        ));
        assert!(matches!(
            decode_outcomes::<f64>(&out, 2)[1],
            Err(TaskFailure::BadResult(_))
        ));
    }
}
