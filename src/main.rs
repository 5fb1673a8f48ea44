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
        #[arg(long, conflicts_with = "fresh")]
        resume: bool,
        /// Start afresh, replacing what the results directory holds (the old run's checkpoints,
        /// snapshots, replay buffers and report are removed). Without it a run refuses to replace
        /// an unfinished run or one of another config (a finished run of the same config is rerun
        /// in place).
        #[arg(long)]
        fresh: bool,
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
    /// Grade a checkpoint on tasks: one JSONL line per task, and accuracy with a 95% interval.
    ///
    /// Each line: {"id", "prompt", "answer", "correct", "forward_positions", "model_calls",
    /// "seconds", "nodes"[, "reason"]}, where `answer` is the final answer alone and `correct`
    /// the ground truth's verdict; the summary goes to standard error. Unreadable task lines are
    /// reported with their numbers and skipped. For games a task is a position (a move history)
    /// and `correct` means the move chosen there is optimal by the exact solver.
    ///
    /// Example: ponder eval --checkpoint results/addition/checkpoints/latest --env addition:digits=1-8
    /// --tasks environments/suites/addition.test.jsonl --mode system2 --budget 64 --out eval.jsonl
    Eval(ponder::cli::eval::EvalArgs),
    /// Fast versus deliberate: System 1 and System 2 methods at each budget, against compute.
    ///
    /// System 1: greedy (once), best-of-N sampling (N = budget), beam search (width = budget);
    /// System 2: PUCT and Gumbel with `budget` simulations per decision. Tasks are scored by
    /// held-out accuracy, games by the optimal-move rate against the solver (or by a match
    /// against rollout MCTS where there is none). Writes compare.csv, compare.svg (log-x) and
    /// compare.md, and prints the table.
    ///
    /// Example: ponder compare --checkpoint results/quickstart/checkpoints/latest --budgets 1,4,16,64,256
    Compare(ponder::cli::compare::CompareArgs),
    /// A GTP version 2 engine on standard input and output (for GoGui, HexGui, OpenSpiel's GTPBot).
    ///
    /// Commands: protocol_version, name, version, known_command, list_commands, boardsize,
    /// clear_board, play, genmove, undo, showboard, quit. Colours b (first player) and w;
    /// vertices a1.. (column letter, row 1 at the top); connect four plays column letters
    /// (`play b d`). Moves must alternate: `play` of the colour not to move is an error.
    ///
    /// Example: printf 'play b b2\ngenmove w\nshowboard\nquit\n' | ponder gtp --game tictactoe
    Gtp(ponder::cli::gtp::GtpArgs),
    /// Play a game against the agent in the terminal.
    ///
    /// Type moves as GTP vertices (b2; connect four: a column letter); `hint` or `?` shows the
    /// search's top moves with visits, priors and Q; `undo`, `new b|w`, `quit`.
    ///
    /// Example: ponder play --game connect4 --colour w --budget 2000
    Play(ponder::cli::play::PlayArgs),
    /// Run one search from a prompt and write its tree as Graphviz DOT.
    ///
    /// Nodes show the move, visits N, prior P, mean value Q and the evaluator's value V;
    /// pruned to nodes with at least --min-visits visits, at most --max-nodes of them.
    /// Render with: dot -Tsvg tree.dot -o tree.svg
    ///
    /// Example: ponder tree --checkpoint results/quickstart/checkpoints/latest --prompt "b2 a1" --budget 200 --dot tree.dot
    Tree(ponder::cli::tree::TreeArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        None => run(PathBuf::from("experiments/quickstart.toml"), RunOptions::default(), None, Vec::new()),
        Some(Command::Run { experiment, out, resume, fresh, seed, quiet, set }) => {
            run(experiment, RunOptions { out, resume, fresh, quiet, command: None }, seed, set)
        }
        Some(Command::Envs) => {
            print!("{}", ponder::env::spec::describe_all());
            Ok(())
        }
        Some(Command::Eval(args)) => ponder::cli::eval::run(&args),
        Some(Command::Compare(args)) => ponder::cli::compare::run(&args),
        Some(Command::Gtp(args)) => ponder::cli::gtp::run(&args),
        Some(Command::Play(args)) => ponder::cli::play::run(&args),
        Some(Command::Tree(args)) => ponder::cli::tree::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// `ponder run`: `opts` as the flags gave them (the command line is filled in here).
fn run(path: PathBuf, opts: RunOptions, seed: Option<u64>, mut set: Vec<String>) -> anyhow::Result<()> {
    if let Some(s) = seed {
        set.push(format!("seed={s}"));
    }
    let cfg = ExperimentConfig::load(&path, &set)?;
    let t0 = std::time::Instant::now();
    let summary = experiment::run(&cfg, &RunOptions { command: Some(command_line()), ..opts })?;
    println!("\n{}", summary.table);
    println!(
        "{} iterations in {:.0} s. Results in {}: metrics.csv, report.md, plots (*.svg), checkpoints/latest.",
        summary.rows.len(),
        t0.elapsed().as_secs_f64(),
        summary.out.display()
    );
    Ok(())
}

/// The command line as typed (`ponder` with no arguments is the quickstart run).
fn command_line() -> String {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.is_empty() {
        "cargo run --release   (= ponder run experiments/quickstart.toml)".into()
    } else {
        format!("ponder {}", args.join(" "))
    }
}
