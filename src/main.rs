//! The `ponder` command line. See `ponder --help`, and DESIGN.md for the contract.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use ponder::experiment::{self, ExperimentConfig, RunOptions};

#[derive(Parser)]
#[command(
    name = "ponder",
    version,
    about = "Self-improving reasoning: tree search (System 2) over a small language-model policy (System 1), on games, math and code.",
    long_about = "Self-improving reasoning: tree search (System 2) over a small language-model policy \
(System 1), on environments whose outcomes a program checks exactly. With no command, runs \
experiments/quickstart.toml (tic-tac-toe from a random policy, about 5 minutes on 2 cores).\n\n\
Example:\n  ponder run experiments/quickstart.toml --quiet"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run an experiment: iterations of self-play with search, training and evaluation.
    ///
    /// Writes results/<name>/: metrics.csv, plots (SVG), report.md, checkpoints/, the replay
    /// buffer and config.resolved.toml.
    ///
    /// Example: ponder run experiments/quickstart.toml --set selfplay.episodes=128 --quiet
    Run {
        /// The experiment file (TOML; a diff over the defaults).
        experiment: PathBuf,
        /// Results directory [default: results/<name>].
        #[arg(long)]
        out: Option<PathBuf>,
        /// Continue an interrupted run from its last checkpoint.
        #[arg(long)]
        resume: bool,
        /// Override the experiment's seed.
        #[arg(long)]
        seed: Option<u64>,
        /// One line per iteration instead of progress bars (for logs).
        #[arg(long)]
        quiet: bool,
        /// Override any field by its dotted path, e.g. --set train.lr=3e-4 (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
    },
    /// List the environments, their parameters and defaults.
    ///
    /// Example: ponder envs
    Envs,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        None => run(PathBuf::from("experiments/quickstart.toml"), None, false, None, false, Vec::new()),
        Some(Command::Run { experiment, out, resume, seed, quiet, set }) => run(experiment, out, resume, seed, quiet, set),
        Some(Command::Envs) => {
            print!("{}", ponder::env::spec::describe_all());
            Ok(())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(path: PathBuf, out: Option<PathBuf>, resume: bool, seed: Option<u64>, quiet: bool, mut set: Vec<String>) -> anyhow::Result<()> {
    if let Some(s) = seed {
        set.push(format!("seed={s}"));
    }
    let cfg = ExperimentConfig::load(&path, &set)?;
    let t0 = std::time::Instant::now();
    let summary = experiment::run(&cfg, &RunOptions { out, resume, quiet })?;
    println!("\n{}", summary.table);
    println!(
        "{} iterations in {:.0} s. Results in {}: metrics.csv, report.md, plots (*.svg), checkpoints/latest.",
        summary.rows.len(),
        t0.elapsed().as_secs_f64(),
        summary.out.display()
    );
    Ok(())
}
