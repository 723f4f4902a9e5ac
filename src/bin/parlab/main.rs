//! `parlab`: set up, open, render, check and benchmark the parlab lessons.
//!
//! ```text
//! parlab setup            install what the lessons need (idempotent)
//! parlab lab              setup where needed, then JupyterLab on notebooks/
//! parlab render           execute every notebook headlessly into rendered/
//! parlab check NOTEBOOK   which exercises a learner's notebook solves (DONE / PENDING / ERROR)
//! parlab test             setup where needed, then every test, notebooks included
//! parlab doctor           what is installed, what is missing and how to fix it
//! parlab bench GROUP      measurements outside Jupyter (pi, ...)
//! parlab two-hosts        lesson 05's calc_pi on two hosts (network namespaces, ssh), as root
//! parlab slurm start      a one-node Slurm cluster on this machine (as root; stop, status)
//! parlab kernel ...       the "Rust (parlab)" Jupyter kernel (Jupyter starts it)
//! parlab clean            remove the kernel's build slots
//! ```

mod bench;
mod check;
mod disk;
mod doctor;
mod echo_children;
mod evcxr_patch;
mod kernel;
mod lab_css;
mod nb_runner;
mod project;
mod render;
mod setup;
mod setup_mpi;
mod setup_python;
mod slot_keeper;
mod slot_seed;
mod slurm_daemons;
mod two_hosts;
mod warm_up;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Threads and processes, the Rust edition: lessons in Jupyter, backed by the parlab crate.
#[derive(Parser)]
#[command(name = "parlab", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Install what the lessons need where it is missing: rust-src, evcxr_jupyter, Jupyter in .venv, Chromium and Playwright (for the browser test), the `rust` kernel, the crate's binaries, the `parlab` kernel.
    Setup(SetupArgs),
    /// Run setup where needed, then open JupyterLab on notebooks/.
    Lab(LabArgs),
    /// Execute every notebook headlessly; write executed notebooks and HTML pages to rendered/.
    Render(render::RenderArgs),
    /// Run learners' notebooks with the shipped checks put back: DONE / PENDING / ERROR per exercise (exit 0 when all are solved).
    Check(check::CheckArgs),
    /// Run setup where needed, then every test: unit, doc, CLI and notebook tests (`cargo test --release`).
    Test,
    /// Show what is installed and its versions, the cores, what is missing and the command that fixes it.
    Doctor,
    /// Measure outside Jupyter: `parlab bench pi --threads 1,2 --json`.
    Bench(bench::BenchArgs),
    /// The "Rust (parlab)" Jupyter kernel: evcxr_jupyter on a persistent build slot (Jupyter starts it).
    Kernel(kernel::KernelArgs),
    /// Remove the kernel's build slots (target/parlab-kernel/slot-N) that no running kernel uses.
    Clean,
    /// Lesson 05's calc_pi on two hosts: two network namespaces joined by a veth, ranks started
    /// over ssh, compared with one host's run; everything is removed afterwards (needs root).
    TwoHosts(TwoHostsArgs),
    /// A one-node Slurm cluster on this machine (root; `setup --cluster` installs it): `start`
    /// its daemons and leave them running, `stop` them, or show its `status`.
    Slurm(SlurmArgs),
}

#[derive(clap::Args)]
struct SetupArgs {
    /// Also install and configure what the cluster tests need, as root: Slurm and munge as a
    /// one-node cluster, and sshd (always done where the `CI` variable is set).
    #[arg(long)]
    cluster: bool,
}

#[derive(clap::Args)]
struct TwoHostsArgs {
    /// Samples of calc_pi (seed 1), split over 2 + 2 ranks.
    #[arg(long, default_value_t = 100_000_000)]
    samples: u64,
}

#[derive(clap::Args)]
struct SlurmArgs {
    /// start, stop or status.
    #[arg(value_parser = ["start", "stop", "status"])]
    action: String,
}

#[derive(clap::Args)]
struct LabArgs {
    /// Do not open a browser (print the URL instead).
    #[arg(long)]
    no_browser: bool,
    /// The port JupyterLab listens on.
    #[arg(long, default_value_t = 8888)]
    port: u16,
    /// Do not run setup first; fail with the command to run if Jupyter is missing (used by the tests).
    #[arg(long)]
    no_setup: bool,
    /// Further options for `jupyter lab`, after `--` (`-- --expose-app-in-browser`).
    #[arg(last = true, value_name = "JUPYTER_OPTIONS")]
    jupyter_options: Vec<String>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Setup(args) => {
            setup_mpi::want_cluster(args.cluster);
            setup::run().map(|_| ())
        }
        Command::Lab(args) => lab(args),
        Command::Render(args) => render::run(args),
        Command::Check(args) => match check::run(args) {
            Ok(true) => Ok(()),
            Ok(false) => return ExitCode::FAILURE,
            Err(message) => {
                eprintln!("parlab: {message}");
                return ExitCode::from(2);
            }
        },
        Command::Test => test(),
        Command::Doctor => doctor::run(),
        Command::Bench(args) => bench::run(args),
        Command::Kernel(args) => kernel::run(args).map_err(|e| format!("kernel: {e}")),
        Command::Clean => kernel::clean(),
        Command::TwoHosts(args) => two_hosts::demo(args.samples),
        Command::Slurm(args) => slurm(&args.action),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("parlab: {message}");
            ExitCode::FAILURE
        }
    }
}

fn lab(args: LabArgs) -> Result<(), String> {
    let jupyter = if args.no_setup {
        let jupyter = project::venv().join("bin").join("jupyter");
        if !jupyter.is_file() {
            return Err("Jupyter is not set up: run `cargo run --release -- setup` first".into());
        }
        jupyter
    } else {
        setup::run()?.jupyter()
    };
    let notebooks = project::root().join("notebooks");
    println!(
        "Opening JupyterLab on {} (stop it with Ctrl-C)",
        notebooks.display()
    );
    let mut cmd = std::process::Command::new(jupyter);
    cmd.arg("lab")
        .arg(format!("--notebook-dir={}", notebooks.display()))
        // setup's stylesheet: compile errors readable on their pink background.
        .arg(lab_css::LAB_OPTION)
        .arg(format!("--port={}", args.port));
    if args.no_browser {
        cmd.arg("--no-browser");
    }
    // Safety: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } == 0 {
        // JupyterLab refuses to start as root without it (containers, cloud machines).
        cmd.arg("--allow-root");
    }
    cmd.args(&args.jupyter_options);
    project::run_inherit(&mut cmd, "JupyterLab")
}

fn slurm(action: &str) -> Result<(), String> {
    let limit = std::time::Duration::from_secs(60);
    match action {
        "start" => {
            let daemons = slurm_daemons::Daemons::start(true, limit)?;
            println!(
                "Slurm is running: node `{}` {}; `sbatch` submits to it, `cargo run --release -- slurm stop` stops it",
                slurm_daemons::NODE,
                daemons.status
            );
            Ok(())
        }
        "stop" => {
            let stopped = slurm_daemons::stop_all();
            if stopped.is_empty() {
                println!("no Slurm daemon that parlab started is running");
            } else {
                println!("stopped {}", stopped.join(", "));
            }
            Ok(())
        }
        _ => {
            let slurm = parlab::slurm::Slurm::find().map_err(|e| e.to_string())?;
            let status = slurm
                .status(std::time::Duration::from_secs(10))
                .map_err(|e| e.to_string())?;
            println!("Slurm answers: {status}");
            Ok(())
        }
    }
}

fn test() -> Result<(), String> {
    setup::run()?;
    println!("\nRunning every test (cargo test --release): unit, doc, CLI and notebooks");
    let mut cmd = std::process::Command::new(project::cargo());
    cmd.args(["test", "--release"]).current_dir(project::root());
    project::run_inherit(&mut cmd, "cargo test")
        .map_err(|e| format!("{e}: some tests failed, see above"))
}
