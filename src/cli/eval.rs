//! `ponder eval`: grade a checkpoint on a task file, System 1 or System 2, one JSONL line per task.
//!
//! Tasks are answered in batches (every task of a batch in lockstep, one model call per step for
//! all of them), batches in parallel on rayon's pool. Each answer is graded by the environment's
//! ground truth ([`Env::grade`]), which the decoders and searches never see.
//!
//! Games have no answers to grade; for them a task is a position (a move history) and `eval`
//! grades the move the agent chooses there against the exact solver: `correct` when the move
//! keeps the game-theoretic value.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Result};
use ponder_env::{suite, with_env, Env, Kind, State, Task};
use serde::Serialize;

use super::{load_checkpoint, par_chunks, resolve_env, wilson, Algo, Mode};
use crate::eval::tasks::{self, TaskOutcome};
use crate::model::Policy;
use crate::search::{mcts, Compute, Decoder, Search, SearchConfig};

/// Flags of `ponder eval`.
#[derive(Debug, clap::Args)]
pub struct EvalArgs {
    /// The checkpoint directory (it names the environment it was trained on).
    #[arg(long, value_name = "DIR")]
    pub checkpoint: PathBuf,
    /// The environment, e.g. addition:digits=1-8 [default: the checkpoint's]. Must be the
    /// checkpoint's family; its parameters may differ (length generalisation).
    #[arg(long)]
    pub env: Option<String>,
    /// JSONL task file, one {"id": ..., "prompt": ...} per line [default: the held-out suite;
    /// for games, the positions graded against the solver].
    #[arg(long, value_name = "TASKS.jsonl")]
    pub tasks: Option<PathBuf>,
    /// system1: greedy decoding (the budget is ignored); system2: a search at every decision.
    #[arg(long, value_enum)]
    pub mode: Mode,
    /// System 2's simulations per decision.
    #[arg(long, default_value_t = 64)]
    pub budget: u32,
    /// System 2's search.
    #[arg(long, value_enum, default_value = "puct")]
    pub algorithm: Algo,
    /// Where to write the JSONL results [default: standard output].
    #[arg(long, value_name = "OUT.jsonl")]
    pub out: Option<PathBuf>,
    /// Seeds every random draw.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

/// One output line: the contract's fields first, in the contract's order, then extras.
#[derive(Debug, Clone, Serialize)]
pub struct Line {
    pub id: String,
    pub prompt: String,
    /// The final answer alone (games: the move chosen).
    pub answer: String,
    /// The ground truth's verdict (games: the solver's).
    pub correct: bool,
    pub forward_positions: u64,
    pub model_calls: u64,
    pub seconds: f64,
    /// Search-tree nodes created.
    pub nodes: u64,
    /// Why the answer is wrong, where the grader says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl Line {
    fn new(
        id: &str,
        prompt: &str,
        answer: String,
        correct: bool,
        reason: Option<String>,
        c: Compute,
    ) -> Self {
        Line {
            id: id.to_string(),
            prompt: prompt.to_string(),
            answer,
            correct,
            forward_positions: c.forward_positions,
            model_calls: c.model_calls,
            seconds: c.seconds,
            nodes: c.nodes,
            reason,
        }
    }
}

impl From<TaskOutcome> for Line {
    fn from(o: TaskOutcome) -> Self {
        Line::new(&o.id, &o.prompt, o.answer, o.correct, o.reason, o.compute)
    }
}

/// Tasks answered in lockstep per batch.
const BATCH: usize = 64;

/// Runs `eval`: writes the JSONL, prints the summary to standard error.
pub fn run(args: &EvalArgs) -> Result<()> {
    let (policy, meta) = load_checkpoint(&args.checkpoint)?;
    let env = resolve_env(args.env.as_deref(), &meta)?;
    if args.mode == Mode::System2 && args.budget == 0 {
        bail!("--budget 0: System 2 needs at least one simulation per decision (or use --mode system1)");
    }
    let t0 = std::time::Instant::now();
    let lines = with_env!(&env, e => evaluate(e, &policy, args))?;
    let mut text = String::new();
    for l in &lines {
        text.push_str(&serde_json::to_string(l)?);
        text.push('\n');
    }
    match &args.out {
        Some(path) => crate::experiment::run::write_atomic(path, text.as_bytes())
            .map_err(|e| anyhow!("--out {}: {e:#}", path.display()))?,
        None => std::io::stdout().lock().write_all(text.as_bytes())?,
    }
    let method = match args.mode {
        Mode::System1 => "System 1 (greedy)".to_string(),
        Mode::System2 => format!("System 2 ({}, {} simulations per decision)", args.algorithm, args.budget),
    };
    eprintln!("{}", summary(&env.spec(), &method, env.kind(), &lines, t0.elapsed().as_secs_f64()));
    Ok(())
}

/// The summary: accuracy (or optimal-move rate) with its Wilson 95% interval, compute per task.
pub fn summary(env: &str, method: &str, kind: Kind, lines: &[Line], seconds: f64) -> String {
    let n = lines.len();
    let k = lines.iter().filter(|l| l.correct).count();
    let (rate, lo, hi) = wilson(k, n);
    let d = n.max(1) as f64;
    let sum = |f: fn(&Line) -> f64| lines.iter().map(f).sum::<f64>() / d;
    let metric = if kind == Kind::Game { "optimal-move rate" } else { "accuracy" };
    format!(
        "{env}, {method}: {metric} {rate:.3} ({k}/{n}), 95% interval [{lo:.3}, {hi:.3}]\n\
         per task: {:.1} model calls, {:.1} forward positions, {:.1} nodes, {:.2} ms; {seconds:.1} s in all",
        sum(|l| l.model_calls as f64),
        sum(|l| l.forward_positions as f64),
        sum(|l| l.nodes as f64),
        1000.0 * sum(|l| l.seconds),
    )
}

/// Reads `--tasks` (bad lines reported with their numbers and skipped) or the default suite.
fn load_tasks<E: Env>(env: &E, path: Option<&Path>, seed: u64) -> Result<Vec<Task>> {
    let Some(path) = path else {
        if env.kind() == Kind::Game {
            return Ok(env
                .graded_positions(seed, 0)
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    let history = ponder_env::history_text(s.tokens());
                    env.task(&format!("pos-{i}"), &history, &serde_json::Value::Null)
                })
                .collect::<Result<_, _>>()?);
        }
        let suite = env.held_out();
        if suite.is_empty() {
            bail!("--tasks: {} has no held-out suite; give a task file", env.spec());
        }
        return Ok(suite);
    };
    let (tasks, errors) = suite::read_tasks(env, path).map_err(|e| anyhow!("--tasks {e}"))?;
    for e in &errors {
        eprintln!("--tasks {} line {}: {} (skipped)", path.display(), e.line, e.error);
    }
    if tasks.is_empty() {
        bail!("--tasks {}: no task could be read ({} bad lines)", path.display(), errors.len());
    }
    Ok(tasks)
}

fn evaluate<E: Env>(env: &E, policy: &Policy, args: &EvalArgs) -> Result<Vec<Line>> {
    let tasks = load_tasks(env, args.tasks.as_deref(), args.seed)?;
    if env.kind() == Kind::Game {
        return grade_moves(env, policy, args, &tasks);
    }
    let cfg = args.algorithm.config(args.budget);
    let outcomes = par_chunks(&tasks, BATCH, |offset, ts| {
        let mut ev = policy.evaluator();
        let seed = args.seed.wrapping_add(offset as u64);
        match args.mode {
            Mode::System1 => tasks::system1(env, &mut ev, &Decoder::Greedy, ts, seed),
            Mode::System2 => tasks::system2(env, &mut ev, &cfg, ts, seed),
        }
    });
    Ok(outcomes.into_iter().map(Line::from).collect())
}

/// Games: the agent's move in each position, graded by the solver. Positions that are over or
/// beyond the solver's reach are reported and skipped.
fn grade_moves<E: Env>(env: &E, policy: &Policy, args: &EvalArgs, tasks: &[Task]) -> Result<Vec<Line>> {
    let oracle = env.oracle().ok_or_else(|| {
        anyhow!("--env {}: no exact solver to grade moves against (try `compare`)", env.spec())
    })?;
    let mut graded: Vec<(&Task, E::State, Vec<ponder_env::Token>)> = Vec::new();
    for t in tasks {
        let s = env.start(&t.prompt).map_err(|e| anyhow!("task {}: {e}", t.id))?;
        if s.is_terminal() {
            eprintln!("task {}: the game is over in this position (skipped)", t.id);
            continue;
        }
        match oracle.optimal_actions(&s) {
            Some(opt) => graded.push((t, s, opt)),
            None => eprintln!("task {}: beyond the solver's reach (skipped)", t.id),
        }
    }
    let cfg = match args.mode {
        Mode::System1 => SearchConfig::puct(0),
        Mode::System2 => args.algorithm.config(args.budget),
    };
    Ok(par_chunks(&graded, BATCH, |offset, part| {
        let mut ev = policy.evaluator();
        let mut searches: Vec<Search<E::State>> = part
            .iter()
            .enumerate()
            .map(|(i, (_, s, _))| Search::new(s.clone(), true, args.seed.wrapping_add((offset + i) as u64)))
            .collect();
        mcts::run(&mut searches, &mut ev, &cfg);
        mcts::release_all(&mut searches, &mut ev);
        part.iter()
            .zip(&mut searches)
            .map(|((t, _, opt), search)| {
                let r = search.result(&cfg, 0.0);
                let good = opt.contains(&r.action);
                let reason = (!good).then(|| {
                    let names: Vec<&str> = opt.iter().map(|&a| ponder_env::vocab::symbol(a)).collect();
                    format!("not optimal; the solver's moves: {}", names.join(" "))
                });
                let mv = ponder_env::vocab::symbol(r.action).to_string();
                Line::new(&t.id, &t.prompt, mv, good, reason, r.compute)
            })
            .collect()
    }))
}
