//! `parlab-mpi`: the MPI program of lesson 05, one process per rank, started by `mpirun`.
//!
//! `mpirun -n K parlab-mpi REQUEST` runs the task named in REQUEST (JSON: a
//! [`parlab::mpi::Request`]) on every rank; rank 0 prints one line, `PARLAB-MPI-REPLY` and a
//! [`parlab::mpi::Reply`] in JSON, which `parlab::mpi::Mpi::run` reads. The same binary runs on a
//! cluster under its launcher (`mpirun --hostfile hosts`, Slurm's `srun`). It is built with the
//! `mpi` feature: `cargo build --release --features mpi --bin parlab-mpi`.

use std::time::Instant;

use mpi::collective::SystemOperation;
use mpi::topology::SimpleCommunicator;
use mpi::traits::*;
use parlab::mpi::{
    MpiPi, MpiTask, PingPong, PingPongArgs, REPLY_PREFIX, RankInfo, RankPi, Reply, Request, tasks,
};
use parlab::pi;
use parlab::process::shape::UNTRACED;
use serde::Serialize;
use serde::de::DeserializeOwned;

fn main() -> std::process::ExitCode {
    let Some(universe) = mpi::initialize() else {
        eprintln!("parlab-mpi: MPI was already initialized");
        return std::process::ExitCode::FAILURE;
    };
    let world = universe.world();
    let request = std::env::args().nth(1).unwrap_or_default();
    let reply = match serde_json::from_str::<Request>(&request) {
        Err(e) => Reply::Err(format!(
            "parlab-mpi takes one argument, a JSON request: {e} (it is started by parlab::mpi, not by hand)"
        )),
        Ok(request) => dispatch(&world, &request),
    };
    if world.rank() == 0 {
        let line = serde_json::to_string(&reply)
            .unwrap_or_else(|e| format!("{{\"Err\":\"the reply does not serialize: {e}\"}}"));
        println!("{REPLY_PREFIX}{line}");
    }
    std::process::ExitCode::SUCCESS
}

fn dispatch(world: &SimpleCommunicator, request: &Request) -> Reply {
    match request.task.as_str() {
        "calc_pi" => serve(world, request, tasks::CALC_PI, calc_pi),
        "ping_pong" => serve(world, request, tasks::PING_PONG, ping_pong),
        "ranks" => serve(world, request, tasks::RANKS, ranks),
        "sleep" => serve(world, request, tasks::SLEEP, |_, ms| {
            std::thread::sleep(std::time::Duration::from_millis(ms));
            Ok(())
        }),
        "crash" => serve(world, request, tasks::CRASH, |w, rank| {
            if w.rank() as usize == rank {
                eprintln!("rank {rank}: aborting on purpose (the crash task)");
                std::process::abort();
            }
            w.barrier();
            Ok(())
        }),
        other => Reply::Err(format!(
            "parlab-mpi has no task {other:?}; it knows {}",
            tasks::NAMES.join(", ")
        )),
    }
}

/// Checks the request's signature against `task`'s, decodes the arguments and runs `f` on every
/// rank; rank 0's result becomes the reply.
fn serve<A: DeserializeOwned + 'static, R: Serialize + DeserializeOwned + 'static>(
    world: &SimpleCommunicator,
    request: &Request,
    task: MpiTask<A, R>,
    f: impl FnOnce(&SimpleCommunicator, A) -> Result<R, String>,
) -> Reply {
    let own = task.types();
    let mine = own.signature();
    if request.signature != mine || mine.args == UNTRACED || mine.result == UNTRACED {
        return Reply::WrongSignature {
            message: format!(
                "wrong signature: this parlab-mpi's {} is {}; rebuild it (`{}`) if it is older than the library",
                task.name(),
                own.text(),
                parlab::mpi::BUILD_PROGRAM
            ),
            shapes: own.shapes(),
        };
    }
    let args = match serde_json::from_value::<A>(request.args.clone()) {
        Ok(a) => a,
        Err(e) => return Reply::Err(format!("bad arguments for {}: {e}", task.name())),
    };
    match f(world, args).and_then(|r| serde_json::to_value(r).map_err(|e| e.to_string())) {
        Ok(value) => Reply::Ok(value),
        Err(e) => Reply::Err(e),
    }
}

fn host() -> String {
    mpi::environment::processor_name().unwrap_or_else(|_| "?".into())
}

/// Each rank counts its equal share of the seed's stream; `reduce` sums the hits on rank 0.
fn calc_pi(world: &SimpleCommunicator, (samples, seed): (u64, u64)) -> Result<MpiPi, String> {
    let size = world.size() as usize;
    let rank = world.rank() as usize;
    // Every rank computes the same split, so every rank gets the same verdict on bad arguments.
    let ranges = pi::split(samples, size).map_err(|e| e.to_string())?;
    let mine = ranges[rank].clone();
    world.barrier();
    let started = Instant::now();
    let hits = pi::count_hits(seed, mine.start, mine.end - mine.start);
    let counted = started.elapsed().as_secs_f64();
    let root = world.process_at_rank(0);
    let mut total = 0u64;
    if rank == 0 {
        root.reduce_into_root(&hits, &mut total, SystemOperation::sum());
    } else {
        root.reduce_into(&hits, SystemOperation::sum());
    }
    let seconds = started.elapsed().as_secs_f64();
    // Each rank's part, to show that the work was equal: small JSON messages to rank 0.
    let part = RankPi {
        rank,
        host: host(),
        first: mine.start,
        samples: mine.end - mine.start,
        hits,
        seconds: counted,
    };
    let part = serde_json::to_vec(&part).map_err(|e| e.to_string())?;
    if rank != 0 {
        root.send(&part[..]);
        return Err("only rank 0 replies".into());
    }
    let mut parts = vec![serde_json::from_slice::<RankPi>(&part).map_err(|e| e.to_string())?];
    for r in 1..size {
        let (bytes, _) = world.process_at_rank(r as i32).receive_vec::<u8>();
        parts.push(serde_json::from_slice(&bytes).map_err(|e| e.to_string())?);
    }
    Ok(MpiPi {
        estimate: pi::PiEstimate::from_hits(total, samples).map_err(|e| e.to_string())?,
        seconds,
        ranks: parts,
    })
}

/// Ranks 0 and 1 send each size there and back; the mean round trip per size.
fn ping_pong(world: &SimpleCommunicator, args: PingPongArgs) -> Result<Vec<PingPong>, String> {
    if world.size() < 2 {
        return Err("ping_pong needs 2 ranks".into());
    }
    let rank = world.rank();
    let repeats = args.repeats.max(1);
    let warm = repeats.min(10);
    let mut out = Vec::new();
    for &bytes in &args.sizes {
        let mut buf = vec![1u8; bytes.max(1)];
        world.barrier();
        let mut started = Instant::now();
        for i in 0..repeats + warm {
            if i == warm {
                started = Instant::now();
            }
            match rank {
                0 => {
                    world.process_at_rank(1).send(&buf[..]);
                    world.process_at_rank(1).receive_into(&mut buf[..]);
                }
                1 => {
                    world.process_at_rank(0).receive_into(&mut buf[..]);
                    world.process_at_rank(0).send(&buf[..]);
                }
                _ => {}
            }
        }
        out.push(PingPong {
            bytes,
            round_trip: started.elapsed().as_secs_f64() / f64::from(repeats),
        });
    }
    world.barrier();
    Ok(out)
}

/// Every rank's host and pid, sent to rank 0.
fn ranks(world: &SimpleCommunicator, (): ()) -> Result<Vec<RankInfo>, String> {
    let me = RankInfo {
        rank: world.rank() as usize,
        size: world.size() as usize,
        host: host(),
        pid: std::process::id(),
    };
    let bytes = serde_json::to_vec(&me).map_err(|e| e.to_string())?;
    if world.rank() != 0 {
        world.process_at_rank(0).send(&bytes[..]);
        return Err("only rank 0 replies".into());
    }
    let mut all = vec![me];
    for r in 1..world.size() {
        let (bytes, _) = world.process_at_rank(r).receive_vec::<u8>();
        all.push(serde_json::from_slice(&bytes).map_err(|e| e.to_string())?);
    }
    Ok(all)
}
