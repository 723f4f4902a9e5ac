//! The tasks `parlab-mpi` knows, as typed handles.

use super::ping_pong::{PingPong, PingPongArgs};
use super::results::{MpiPi, RankInfo};
use super::task::MpiTask;

/// `(samples, seed)`: every rank counts its equal share of the seed's samples
/// ([`split`](crate::pi::split)), `reduce` sums the hits on rank 0: the same estimate as
/// [`calc_pi`](crate::pi::calc_pi)`(samples, seed)` on one thread.
pub const CALC_PI: MpiTask<(u64, u64), MpiPi> = MpiTask::named("calc_pi");
/// Messages of each size between ranks 0 and 1, there and back; the other ranks wait.
pub const PING_PONG: MpiTask<PingPongArgs, Vec<PingPong>> = MpiTask::named("ping_pong");
/// Every rank's host and process id, gathered to rank 0.
pub const RANKS: MpiTask<(), Vec<RankInfo>> = MpiTask::named("ranks");
/// Every rank sleeps this many milliseconds (to show a timeout).
pub const SLEEP: MpiTask<u64, ()> = MpiTask::named("sleep");
/// The rank given aborts (to show a crashed rank); the others wait at a barrier.
pub const CRASH: MpiTask<usize, ()> = MpiTask::named("crash");
/// The names of the tasks above, as `parlab-mpi` dispatches them.
pub const NAMES: [&str; 5] = ["calc_pi", "ping_pong", "ranks", "sleep", "crash"];
