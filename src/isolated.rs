//! Tests only: runs a test's body in a forked copy of the test process.
//!
//! A check that reads what the threads of its process did (which thread called `count_hits`,
//! how much CPU a stuck answer's threads use) sees the threads of every test that runs beside it,
//! as `cargo test` runs tests in parallel. A forked copy has only the thread that forked: there the
//! check sees the answer's threads alone, as it does in a notebook, where one cell runs at a time.

use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::process::{self, Options};

/// Runs `body` in a forked copy of this process and returns what it returned (at most 60 s).
pub(crate) fn isolated<R: Serialize + DeserializeOwned>(body: impl FnOnce() -> R) -> R {
    let quiet = Options {
        warn: false,
        ..Default::default()
    };
    let mut child = process::fork_with(body, &quiet).expect("forking a copy of the test process");
    child
        .join(Duration::from_secs(60))
        .expect("the test's forked copy gave no result")
}
