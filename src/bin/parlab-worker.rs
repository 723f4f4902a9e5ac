//! `parlab-worker`: the worker process that `parlab::process::spawn` starts.
//!
//! It runs tasks known by name (`parlab::process::tasks::TASKS`) on serialized arguments received
//! on a socket its parent hands it as stdin (it moves the socket off stdin and puts `/dev/null`
//! there first) and sends each result back there; stdout and stderr stay free for the tasks' own
//! output. It is not meant to be started by hand.

fn main() -> std::process::ExitCode {
    if std::env::args_os()
        .nth(1)
        .is_some_and(|a| a == parlab::pool::POOL_ARG)
    {
        return parlab::pool::serve_pool(); // a long-lived pool worker (parlab::pool::ProcessPool)
    }
    parlab::process::tasks::worker_main()
}
