//! The wire between a caller and a worker: requests, replies, why a task failed, and the encoding
//! of a chunk's outcomes.
//!
//! A request is a task id, the handle's [`Signature`] and a run of arguments, each
//! length-prefixed and encoded with postcard; the answer starts with a magic number and the
//! worker's own clock readings of when the task started and ended, then one encoded
//! `Result<R, TaskFailure>` per argument. A worker checks the signature before it decodes a byte,
//! and decodes each value strictly (bytes left over are an error); the caller refuses an answer
//! without the magic (a worker built from older sources) with an error that says to rebuild it.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::channel::decode;
use super::items;
use super::shape::{TaskShapes, UNTRACED};
use super::task::{Signature, TaskId, Types};
use super::type_names::short_type_name;

/// One request to a spawned worker: the task, its handle's signature and the encoded arguments.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Request {
    pub(crate) task: TaskId,
    pub(crate) signature: Signature,
    /// Sent as one block of bytes, not byte by byte (postcard writes both alike on the wire).
    #[serde(with = "serde_bytes")]
    pub(crate) args: Vec<u8>,
}

/// The outcome a worker sends back in its [`Reply`]: the encoded outcome of the task (see
/// [`run_chunk`](super::run::run_chunk)), or why it could not run at all.
pub(crate) type Response = Result<Vec<u8>, TaskFailure>;

/// The first bytes of every [`Reply`]. A worker built before replies carried their times sends a
/// bare [`Response`], whose first byte is 0 or 1 (its variant): never these.
/// `rpl3`: a refusal carries the worker's traced types.
pub(crate) const REPLY_MAGIC: [u8; 4] = *b"rpl3";

/// A one-shot worker's answer (a spawned `parlab-worker`, or a forked child): [`REPLY_MAGIC`],
/// when the task started and ended on the machine's monotonic clock as the worker read it
/// ([`monotonic_ns`](crate::timeline::monotonic_ns)), and its outcome.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Reply {
    /// [`REPLY_MAGIC`].
    pub(crate) magic: [u8; 4],
    /// The worker's clock just before the task ran.
    pub(crate) started_ns: u64,
    /// The worker's clock just after the task returned (or panicked).
    pub(crate) ended_ns: u64,
    /// What the task gave.
    #[serde(with = "response_bytes")]
    pub(crate) response: Response,
}

impl Reply {
    /// A reply for `response`, of a task that ran from `started_ns` to `ended_ns`.
    pub(crate) fn new(started_ns: u64, ended_ns: u64, response: Response) -> Self {
        Reply {
            magic: REPLY_MAGIC,
            started_ns,
            ended_ns,
            response,
        }
    }

    /// Decodes a reply; the answer of a worker built from older sources (a bare [`Response`],
    /// without the magic) is [`ProcessError::StaleWorker`](super::ProcessError::StaleWorker),
    /// never a value.
    pub(crate) fn decode(bytes: &[u8], pid: u32) -> Result<Reply, super::ProcessError> {
        if !bytes.starts_with(&REPLY_MAGIC) {
            return Err(super::ProcessError::StaleWorker { pid });
        }
        decode::<Reply>(bytes)
    }
}

/// Serializes a [`Response`]'s result bytes as one block, not byte by byte: a big result (80 MB
/// of `f64`s) is copied, not pushed one byte at a time. Postcard writes both alike on the wire.
mod response_bytes {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use serde_bytes::{ByteBuf, Bytes};

    use super::{Response, TaskFailure};

    pub(super) fn serialize<S: Serializer>(response: &Response, to: S) -> Result<S::Ok, S::Error> {
        response
            .as_ref()
            .map(|bytes| Bytes::new(bytes))
            .serialize(to)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(from: D) -> Result<Response, D::Error> {
        Ok(Result::<ByteBuf, TaskFailure>::deserialize(from)?.map(ByteBuf::into_vec))
    }

    #[cfg(test)]
    mod tests {
        use super::super::{Reply, Request, TaskFailure};
        use crate::process::{TaskId, task::Signature};

        /// The messages as they were before their bytes were sent as blocks: a byte sequence.
        #[derive(serde::Serialize)]
        struct SeqRequest<'a> {
            task: &'a TaskId,
            signature: &'a Signature,
            args: &'a Vec<u8>,
        }
        #[derive(serde::Serialize)]
        struct SeqReply<'a> {
            magic: [u8; 4],
            started_ns: u64,
            ended_ns: u64,
            response: &'a Result<Vec<u8>, TaskFailure>,
        }

        #[test]
        fn byte_blocks_are_the_same_bytes_on_the_wire_and_decode_back() {
            let args: Vec<u8> = (0..=255).chain(0..=255).collect(); // 512: a two-byte length
            let request = Request {
                task: TaskId::Named("echo".into()),
                signature: Signature { args: 1, result: 2 },
                args: args.clone(),
            };
            let seq = SeqRequest {
                task: &request.task,
                signature: &request.signature,
                args: &args,
            };
            let request_bytes = postcard::to_stdvec(&request).unwrap();
            assert_eq!(request_bytes, postcard::to_stdvec(&seq).unwrap());
            let back: Request = postcard::from_bytes(&request_bytes).unwrap();
            assert_eq!(back.args, args);
            // A length that promises more bytes than follow is an error, not a short value.
            assert!(postcard::from_bytes::<Request>(&request_bytes[..100]).is_err());

            for response in [Ok(args.clone()), Err(TaskFailure::BadResult("no".into()))] {
                let reply = Reply::new(5, 7, response.clone());
                let seq = SeqReply {
                    magic: reply.magic,
                    started_ns: 5,
                    ended_ns: 7,
                    response: &response,
                };
                let bytes = postcard::to_stdvec(&reply).unwrap();
                assert_eq!(bytes, postcard::to_stdvec(&seq).unwrap());
                let back: Reply = postcard::from_bytes(&bytes).unwrap();
                assert_eq!(back.response, response);
            }
        }
    }
}

/// Why a task gave no result.
///
/// # Examples
/// ```
/// use parlab::process::{Task, tasks::{self, TaskFailure}};
/// let e = tasks::run_here(&Task::<(), ()>::named("no_such_task"), &()).unwrap_err();
/// assert!(matches!(e, TaskFailure::UnknownTask { .. }));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum TaskFailure {
    /// No task of that name.
    UnknownTask {
        /// The name asked for.
        name: String,
        /// The known names.
        known: Vec<String>,
    },
    /// The arguments are not what the task takes.
    BadArgs {
        /// The task.
        task: String,
        /// What is wrong.
        message: String,
    },
    /// The task exists but cannot be run here: a cell task whose library cannot be loaded, whose
    /// entry point is missing, whose ABI differs from the worker's, or that was made outside evcxr.
    Unavailable {
        /// The task.
        task: String,
        /// Why, and what to do about it.
        message: String,
    },
    /// The task panicked (message and place).
    Panicked(String),
    /// The result did not serialize.
    BadResult(String),
    /// The handle's argument or result type is not the task's: the worker refused the request
    /// before decoding anything.
    WrongSignature {
        /// The task.
        task: String,
        /// The task's signature in the worker, e.g. `(u64, u64) -> PiEstimate`.
        worker: String,
        /// The worker's traced types, for the caller to name what differs (none for `echo`).
        shapes: Option<Box<TaskShapes>>,
    },
}

/// Refuses a request whose signature is not `own`'s, or whose types (either side's) could not be
/// traced: the refusal carries `own`'s shapes, for the caller to name what differs.
///
/// # Errors
/// [`TaskFailure::WrongSignature`].
pub(crate) fn check_signature(
    name: &str,
    signature: Signature,
    own: Types,
) -> Result<(), TaskFailure> {
    let mine = own.signature();
    if signature == mine && mine.args != UNTRACED && mine.result != UNTRACED {
        return Ok(());
    }
    Err(TaskFailure::WrongSignature {
        task: name.to_string(),
        worker: own.text(),
        shapes: Some(Box::new(own.shapes())),
    })
}

/// Decodes each argument as an `A`, runs `f` on it (a panic is that call's outcome, caught
/// quietly) and encodes each outcome, a `Result<R, TaskFailure>`, as one item.
///
/// # Errors
/// A chunk whose framing is corrupt, or that holds another number of arguments than `count`.
pub(crate) fn serve_items<A: DeserializeOwned, R: Serialize>(
    name: &str,
    args: &[u8],
    count: usize,
    f: impl Fn(A) -> R,
) -> Result<Vec<u8>, TaskFailure> {
    serve_each(name, args, count, &mut |item, out| {
        let arg = items::decode_exact::<A>(item)?;
        match crate::panics::catch_quietly(|| f(arg)) {
            Ok(value) => push_value(out, &value),
            Err(caught) => push_panic(out, caught),
        }
        Ok(())
    })
}

/// One argument served: decodes it from an item's bytes, runs the task and appends its outcome to
/// the vector; the decoder's message if it does not decode.
type ServeOne<'a> = dyn FnMut(&[u8], &mut Vec<u8>) -> Result<(), String> + 'a;

/// [`serve_items`] but for the one argument `serve_one` decodes and runs: the framing, the
/// outcomes of arguments that do not decode, the count. Non-generic, so that a notebook cell's
/// task compiles only its own types' part.
#[inline(never)]
fn serve_each(
    name: &str,
    args: &[u8],
    count: usize,
    serve_one: &mut ServeOne<'_>,
) -> Result<Vec<u8>, TaskFailure> {
    let mut out = Vec::with_capacity(count * 10);
    let mut n = 0;
    for item in items::split(args) {
        let item = item.map_err(|e| corrupt(name, &e))?;
        n += 1;
        if let Err(message) = serve_one(item, &mut out) {
            let failure = TaskFailure::BadArgs {
                task: name.to_string(),
                message,
            };
            push_failure(&mut out, &failure);
        }
    }
    check_count(name, n, count)?;
    Ok(out)
}

/// Appends the outcome of a task that panicked.
#[inline(never)]
fn push_panic(out: &mut Vec<u8>, caught: crate::panics::Caught) {
    push_failure(out, &TaskFailure::Panicked(caught.to_string()));
}

/// Appends the outcome `Ok(value)`: encoded as a `Result<R, TaskFailure>`'s `Ok` is (variant 0,
/// then the value), without the failure's type, whose encoding [`push_failure`] does once,
/// outside a notebook cell's generic code. A value that does not serialize becomes
/// [`TaskFailure::BadResult`].
pub(crate) fn push_value<R: Serialize + ?Sized>(out: &mut Vec<u8>, value: &R) {
    if let Err(e) = items::push_encoded(out, &Ok::<&R, ()>(value)) {
        push_unserializable(out, e);
    }
}

/// Appends the outcome `Err(failure)`, as a `Result<R, TaskFailure>`'s `Err` is encoded (variant 1,
/// then the failure), whatever `R` is.
#[inline(never)]
pub(crate) fn push_failure(out: &mut Vec<u8>, failure: &TaskFailure) {
    if let Err(e) = items::push_encoded(out, &Err::<(), &TaskFailure>(failure)) {
        push_unserializable(out, e);
    }
}

/// Appends the failure of a value that did not serialize (a `TaskFailure` is strings and vectors
/// of strings: it always serializes).
#[inline(never)]
fn push_unserializable(out: &mut Vec<u8>, e: postcard::Error) {
    let failure: Result<(), TaskFailure> = Err(TaskFailure::BadResult(e.to_string()));
    let _ = items::push_encoded(out, &failure);
}

/// A one-shot worker's run holding the one outcome `Ok(value)`, or why the value does not
/// serialize (see [`one_response`]).
pub(crate) fn value_run<R: Serialize + ?Sized>(value: &R) -> Result<Vec<u8>, postcard::Error> {
    let mut run = Vec::new();
    items::push_encoded(&mut run, &Ok::<&R, ()>(value)).map(|()| run)
}

/// A forked child's [`Response`] from what its closure did: its run of one outcome (made by
/// [`value_run`]), or its panic as the outcome `Err(TaskFailure::Panicked)`; a value that does
/// not serialize is the response's own `Err(TaskFailure::BadResult)`. `None` (the closure was
/// not run) is a `BadResult` too.
#[inline(never)]
pub(crate) fn one_response(
    ran: Option<Result<Result<Vec<u8>, postcard::Error>, crate::panics::Caught>>,
) -> Response {
    let encoded = match ran {
        Some(Ok(run)) => run,
        Some(Err(caught)) => {
            let mut run = Vec::new();
            let outcome: Result<(), TaskFailure> = Err(TaskFailure::Panicked(caught.to_string()));
            items::push_encoded(&mut run, &outcome).map(|()| run)
        }
        None => return Err(TaskFailure::BadResult("the closure did not run".into())),
    };
    encoded.map_err(|e| TaskFailure::BadResult(e.to_string()))
}

/// A [`TaskFailure::BadArgs`] that says the request of `task` is corrupt, and why.
pub(crate) fn corrupt(task: &str, why: &str) -> TaskFailure {
    TaskFailure::BadArgs {
        task: task.to_string(),
        message: format!("the request is corrupt: {why}"),
    }
}

/// Fails a chunk of `task` that held `found` arguments where it said `count`.
pub(crate) fn check_count(task: &str, found: usize, count: usize) -> Result<(), TaskFailure> {
    if found == count {
        Ok(())
    } else {
        Err(corrupt(
            task,
            &format!("it holds {found} arguments where it says {count}"),
        ))
    }
}

/// The failure of the first outcome in a run, if it failed, whatever its value's type: an
/// initializer's, whose value is thrown away.
pub(crate) fn first_failure(run: &[u8]) -> Option<TaskFailure> {
    match items::split(run).next() {
        Some(Ok([0, ..])) => None,
        Some(Ok([1, failure @ ..])) => Some(
            items::decode_exact::<TaskFailure>(failure)
                .unwrap_or_else(|e| TaskFailure::BadResult(format!("the failure is corrupt: {e}"))),
        ),
        Some(Ok(_)) => Some(TaskFailure::BadResult("the outcome is corrupt".into())),
        Some(Err(e)) => Some(TaskFailure::BadResult(format!(
            "the outcome is corrupt: {e}"
        ))),
        None => Some(TaskFailure::BadResult("no outcome came back".into())),
    }
}

/// Decodes `count` outcomes, each a `Result<R, TaskFailure>`, sent by a worker.
///
/// An outcome that does not decode strictly as one fails that call; a run with another number of
/// outcomes (or broken framing) fails the calls it does not answer.
pub(crate) fn decode_outcomes<R: DeserializeOwned>(
    bytes: &[u8],
    count: usize,
) -> Vec<Result<R, TaskFailure>> {
    let mut outcomes = Outcomes::<R>(Vec::with_capacity(count));
    decode_outcomes_into(bytes, count, std::any::type_name::<R>(), &mut outcomes);
    outcomes.0
}

/// What a run's outcomes are decoded into: the one part of decoding that knows the value's type.
pub(crate) trait DecodeInto {
    /// Decodes one task's value from all of `bytes` and keeps it; the decoder's message when it
    /// does not decode.
    fn value(&mut self, bytes: &[u8]) -> Result<(), String>;
    /// Keeps one task's failure.
    fn failure(&mut self, failure: TaskFailure);
}

/// The outcomes of [`decode_outcomes`], in order.
struct Outcomes<R>(Vec<Result<R, TaskFailure>>);

impl<R: DeserializeOwned> DecodeInto for Outcomes<R> {
    fn value(&mut self, bytes: &[u8]) -> Result<(), String> {
        self.0.push(Ok(items::decode_exact::<R>(bytes)?));
        Ok(())
    }

    fn failure(&mut self, failure: TaskFailure) {
        self.0.push(Err(failure));
    }
}

/// Decodes `count` outcomes of a run into `into`, the value of each (of the type named
/// `type_name`) by [`DecodeInto::value`]: an outcome is a `Result<R, TaskFailure>` as postcard
/// encodes it, its variant (0: `Ok`, 1: `Err`) then its payload, so the variant and the failure
/// are decoded here, and only the value by the caller's type.
///
/// Non-generic so that a notebook cell, which compiles every generic function it calls again,
/// does not compile this one (nor the decoding of a `TaskFailure`) with each result type.
#[inline(never)]
pub(crate) fn decode_outcomes_into(
    bytes: &[u8],
    count: usize,
    type_name: &'static str,
    into: &mut dyn DecodeInto,
) {
    let undecodable = |e: &str| {
        TaskFailure::BadResult(format!(
            "the answer does not decode as a {}: {e}",
            short_type_name(type_name)
        ))
    };
    let mut n = 0;
    for item in items::split(bytes).take(count) {
        n += 1;
        let item = match item {
            Ok(item) => item,
            Err(e) => {
                into.failure(TaskFailure::BadResult(format!(
                    "the answer is corrupt: {e}"
                )));
                continue;
            }
        };
        match postcard::take_from_bytes::<Variant>(item) {
            Ok((Variant::Ok, value)) => {
                if let Err(e) = into.value(value) {
                    into.failure(undecodable(&e));
                }
            }
            Ok((Variant::Err, failure)) => into.failure(
                items::decode_exact::<TaskFailure>(failure).unwrap_or_else(|e| undecodable(&e)),
            ),
            Err(e) => into.failure(undecodable(&e.to_string())),
        }
    }
    for _ in n..count {
        into.failure(TaskFailure::BadResult(
            "the worker's answer holds fewer results than tasks".into(),
        ));
    }
}

/// The variant of an encoded `Result`, decoded as postcard decodes a `Result`'s (the same
/// number, the same errors), its payload left to decode.
#[derive(Deserialize)]
enum Variant {
    Ok,
    Err,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pi::PiEstimate;

    /// How outcomes were decoded before the variant and the failure were decoded apart from the
    /// value: each item as a whole `Result<R, TaskFailure>`.
    fn decode_whole<R: DeserializeOwned>(
        bytes: &[u8],
        count: usize,
    ) -> Vec<Result<R, TaskFailure>> {
        let mut outcomes: Vec<Result<R, TaskFailure>> = items::split(bytes)
            .take(count)
            .map(|item| match item {
                Ok(item) => {
                    items::decode_exact::<Result<R, TaskFailure>>(item).unwrap_or_else(|e| {
                        Err(TaskFailure::BadResult(format!(
                            "the answer does not decode as a {}: {e}",
                            short_type_name(std::any::type_name::<R>())
                        )))
                    })
                }
                Err(e) => Err(TaskFailure::BadResult(format!(
                    "the answer is corrupt: {e}"
                ))),
            })
            .collect();
        while outcomes.len() < count {
            outcomes.push(Err(TaskFailure::BadResult(
                "the worker's answer holds fewer results than tasks".into(),
            )));
        }
        outcomes
    }

    /// A run of the given items.
    fn run(items_: &[Vec<u8>]) -> Vec<u8> {
        let mut out = Vec::new();
        for item in items_ {
            items::push(&mut out, item);
        }
        out
    }

    #[test]
    fn outcomes_decode_as_whole_results_did() {
        let est = PiEstimate {
            samples: 10,
            hits: 8,
            estimate: 3.2,
        };
        let ok = postcard::to_allocvec(&Ok::<PiEstimate, TaskFailure>(est)).unwrap();
        let failure = TaskFailure::WrongSignature {
            task: "calc_pi".into(),
            worker: "(u64, u64) -> PiEstimate".into(),
            shapes: Some(Box::new(Types::of::<(u64, u64), PiEstimate>().shapes())),
        };
        let err = postcard::to_allocvec(&Err::<PiEstimate, TaskFailure>(failure.clone())).unwrap();
        assert_eq!(ok[0], 0, "Ok is variant 0");
        assert_eq!(err[0], 1, "Err is variant 1");
        let mut trailing = ok.clone();
        trailing.push(7);
        let mut err_trailing = err.clone();
        err_trailing.push(7);
        let mut unknown = ok.clone();
        unknown[0] = 2;
        let cut = ok[..ok.len() - 1].to_vec();
        let cases = [
            run(&[ok.clone(), err.clone()]),
            run(&[trailing, err_trailing]),
            run(&[unknown, vec![], vec![0x80], cut]),
            run(std::slice::from_ref(&ok)), // fewer than asked
            [run(std::slice::from_ref(&ok)), vec![0x85, 1]].concat(), // framing cut off
            run(&[postcard::to_allocvec(&Ok::<u8, TaskFailure>(3)).unwrap()]), // another type
        ];
        for bytes in &cases {
            for count in [1, 2, 4] {
                let now = decode_outcomes::<PiEstimate>(bytes, count);
                assert_eq!(now, decode_whole::<PiEstimate>(bytes, count), "{bytes:?}");
                assert_eq!(now.len(), count);
            }
        }
        let both = decode_outcomes::<PiEstimate>(&cases[0], 2);
        assert_eq!(both, [Ok(est), Err(failure)]);
        let odd = decode_outcomes::<PiEstimate>(&cases[2], 4);
        for outcome in &odd {
            let Err(TaskFailure::BadResult(message)) = outcome else {
                panic!("{outcome:?}")
            };
            assert!(
                message.starts_with("the answer does not decode as a PiEstimate: "),
                "{message}"
            );
        }
        let Err(TaskFailure::BadResult(left)) = &decode_outcomes::<PiEstimate>(&cases[1], 1)[0]
        else {
            panic!("trailing bytes decoded")
        };
        assert!(
            left.ends_with("1 bytes left over after the value: it was of another type"),
            "{left}"
        );
    }

    /// A value whose serialization fails.
    struct Unserializable;

    impl Serialize for Unserializable {
        fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
            Err(serde::ser::Error::custom("no"))
        }
    }

    #[test]
    fn outcomes_encode_as_whole_results_did() {
        let est = PiEstimate {
            samples: 10,
            hits: 8,
            estimate: 3.2,
        };
        let failure = TaskFailure::WrongSignature {
            task: "calc_pi".into(),
            worker: "(u64, u64) -> PiEstimate".into(),
            shapes: Some(Box::new(Types::of::<(u64, u64), PiEstimate>().shapes())),
        };
        // Before: each outcome encoded as a whole `Result<R, TaskFailure>`.
        let whole = |outcome: Result<&PiEstimate, &TaskFailure>| {
            let mut out = Vec::new();
            items::push_encoded(&mut out, &outcome).unwrap();
            out
        };
        let mut out = Vec::new();
        push_value(&mut out, &est);
        assert_eq!(out, whole(Ok(&est)));
        let mut out = Vec::new();
        push_failure(&mut out, &failure);
        assert_eq!(out, whole(Err(&failure)));
        // A value that does not serialize is a BadResult outcome, as before.
        let mut out = Vec::new();
        push_value(&mut out, &Unserializable);
        let e = postcard::to_stdvec(&Unserializable).unwrap_err();
        let bad = TaskFailure::BadResult(e.to_string());
        assert_eq!(out, whole(Err(&bad)));
        let mut out = Vec::new();
        let caught = crate::panics::Caught {
            message: "boom".into(),
            place: Some("src/x.rs:3".into()),
        };
        push_panic(&mut out, caught.clone());
        assert_eq!(out, whole(Err(&TaskFailure::Panicked(caught.to_string()))));
        // A forked child's response: a run of one outcome, a panic as its Err, or a BadResult.
        let mut one = Vec::new();
        items::push_encoded(&mut one, &Ok::<PiEstimate, TaskFailure>(est)).unwrap();
        let run = value_run(&est);
        assert_eq!(one_response(Some(Ok(run))).unwrap(), one);
        let caught = crate::panics::Caught {
            message: "boom".into(),
            place: None,
        };
        let mut panicked = Vec::new();
        let whole_panic = Err::<PiEstimate, TaskFailure>(TaskFailure::Panicked("boom".into()));
        items::push_encoded(&mut panicked, &whole_panic).unwrap();
        assert_eq!(one_response(Some(Err(caught))).unwrap(), panicked);
        let unserializable = one_response(Some(Ok(value_run(&Unserializable))));
        assert_eq!(
            unserializable.unwrap_err(),
            TaskFailure::BadResult(e.to_string())
        );
    }
}
