//! The wire protocol between [`Mpi::run`](crate::mpi::Mpi::run) and `parlab-mpi`: the request
//! passed as the program's argument, and rank 0's one-line reply on stdout, read back as the
//! task's result type.

use std::sync::Arc;

use serde::{Deserialize, Serialize, de::DeserializeOwned};

use super::child::tail;
use super::error::MpiError;
use super::ssh;
use super::task::MpiTask;
use crate::process::Signature;
use crate::process::shape::TaskShapes;

/// The prefix of rank 0's reply line on stdout; every other line is the ranks' own output.
pub const REPLY_PREFIX: &str = "PARLAB-MPI-REPLY ";

// Wire protocol internals, public for parlab's own binaries: hidden from the docs.
#[doc(hidden)]
/// What the launcher passes to `parlab-mpi`: the task, its signature and its arguments as JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Request {
    /// The task's name.
    pub task: String,
    /// The caller's signature of it.
    pub signature: Signature,
    /// The arguments, JSON.
    pub args: serde_json::Value,
}

// Wire protocol internals, public for parlab's own binaries: hidden from the docs.
#[doc(hidden)]
/// Rank 0's reply, one JSON line after [`REPLY_PREFIX`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Reply {
    /// The result, JSON.
    Ok(serde_json::Value),
    /// What went wrong.
    Err(String),
    /// The request's signature is not the task's (or a type could not be traced): what the
    /// program says, and its traced types, for the caller to name what differs.
    WrongSignature {
        /// The program's message.
        message: String,
        /// The program's traced types of the task.
        shapes: TaskShapes,
    },
}

/// Rank 0's result, read as `R`: the only generic step of reading a reply, so a notebook cell
/// compiles this much for its task's type and no more.
pub(crate) fn decode_reply<R: DeserializeOwned>(
    task: &str,
    value: serde_json::Value,
) -> Result<R, MpiError> {
    serde_json::from_value(value).map_err(|e| unreadable(task, e))
}

/// The reply could not be read: serde_json's error, kept as the source.
fn unreadable(task: &str, e: serde_json::Error) -> MpiError {
    MpiError::BadReply {
        task: task.to_owned(),
        reason: e.to_string(),
        source: Arc::new(e),
    }
}

/// Rank 0's reply in a launcher's (or a batch job's) output, up to its result as JSON (read it
/// as the task's type with [`decode_reply`]); `ok` says whether the launcher succeeded, `status`
/// describes how it ended. Compiled once in parlab, not in every notebook cell.
#[inline(never)]
pub(crate) fn reply_value(
    task: &str,
    stdout: &str,
    stderr: &str,
    ok: bool,
    status: &dyn Fn() -> String,
) -> Result<serde_json::Value, MpiError> {
    let reply = stdout.lines().find_map(|l| l.strip_prefix(REPLY_PREFIX));
    let Some(reply) = reply else {
        if let Some((host, failure, said)) = ssh::recognize(stderr) {
            return Err(MpiError::Ssh {
                host: host.unwrap_or_else(|| "a host of the hostfile".to_owned()),
                failure,
                said,
            });
        }
        return Err(MpiError::RankFailed {
            status: status(),
            stderr: tail(stderr, 12),
        });
    };
    match serde_json::from_str::<Reply>(reply).map_err(|e| unreadable(task, e))? {
        Reply::Err(message) => Err(MpiError::Task {
            task: task.to_owned(),
            message,
        }),
        Reply::WrongSignature { message, shapes } => Err(MpiError::Task {
            task: task.to_owned(),
            message: format!(
                "{message}; there it takes {} and gives {}",
                shapes.args.describe(),
                shapes.result.describe()
            ),
        }),
        Reply::Ok(_) if !ok => Err(MpiError::RankFailed {
            status: status(),
            stderr: tail(stderr, 12),
        }),
        Reply::Ok(value) => Ok(value),
    }
}

/// The request `parlab-mpi` reads from its argument, as JSON.
pub(crate) fn request_json<
    A: Serialize + DeserializeOwned + 'static,
    R: DeserializeOwned + 'static,
>(
    task: MpiTask<A, R>,
    args: &A,
) -> Result<String, MpiError> {
    request_text(task.name(), task.signature(), serde_json::to_value(args))
}

/// [`request_json`] once the arguments are JSON, compiled once in parlab (not in every cell).
#[inline(never)]
fn request_text(
    task: &str,
    signature: Signature,
    args: Result<serde_json::Value, serde_json::Error>,
) -> Result<String, MpiError> {
    let unwritable = |what: &str, e: serde_json::Error| MpiError::BadReply {
        task: task.to_owned(),
        reason: format!("{what} do not serialize: {e}"),
        source: Arc::new(e),
    };
    let request = Request {
        task: task.to_owned(),
        signature,
        args: args.map_err(|e| unwritable("the arguments", e))?,
    };
    serde_json::to_string(&request).map_err(|e| unwritable("the request's fields", e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mpi::SshFailure;

    #[test]
    fn an_unreadable_reply_keeps_serde_json_s_error() {
        let out = format!("{REPLY_PREFIX}{{not json\n");
        let e = reply_value("sleep", &out, "", true, &String::new).unwrap_err();
        assert!(matches!(e, MpiError::BadReply { .. }), "{e}");
        let source = std::error::Error::source(&e).expect("serde_json's error is kept");
        assert!(source.downcast_ref::<Arc<serde_json::Error>>().is_some());
        assert!(
            e.to_string()
                .starts_with("the reply of sleep could not be read: ")
        );
        let out = format!("{REPLY_PREFIX}{{\"Ok\":\"not a number\"}}\n");
        let value = reply_value("sleep", &out, "", true, &String::new).expect("a reply");
        let e = decode_reply::<u64>("sleep", value).unwrap_err();
        assert!(matches!(e, MpiError::BadReply { .. }), "{e}");
        assert!(std::error::Error::source(&e).is_some());
    }

    #[test]
    fn no_reply_is_a_failed_rank_and_an_ssh_failure_is_named() {
        let said = "ssh: Could not resolve hostname nodex: Name or service not known";
        let e = reply_value("ranks", "", said, false, &|| "code 1".into()).unwrap_err();
        assert!(
            matches!(&e, MpiError::Ssh { host, failure: SshFailure::UnknownHost, .. } if host == "nodex"),
            "{e}"
        );
        let e = reply_value("ranks", "", "rank 1 died", false, &|| "code 1".into());
        assert!(matches!(e, Err(MpiError::RankFailed { .. })));
    }
}
