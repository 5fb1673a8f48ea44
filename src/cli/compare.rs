//! `ponder compare`: fast versus deliberate at equal compute, as one command.
//!
//! For every budget B, each System 1 method (best-of-N sampling with N = B, beam search of width
//! B; greedy once) and each System 2 method (PUCT and Gumbel AlphaZero with B simulations per
//! decision; for tasks also Tree of Thoughts' step BFS with b = 5 and B proposals per kept state,
//! and best-first enumeration with B expansions, by the policy or by uniform priors) is scored on the same held-out tasks, or for games on the same solver-graded
//! positions (the optimal-move rate), or where a game has no solver by a match against rollout
//! MCTS. The x axis is the compute each method actually spent: model calls per task (or per
//! decision), with forward positions in the CSV too.
//!
//! Writes `compare.csv` (one row per method and budget), `compare.svg` (metric against model
//! calls on a log axis, one line per method) and `compare.md`, and prints the table.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{anyhow, bail, Result};
use ponder_env::{with_env, Env, Kind, Oracle, Task};

use super::players::{Beam, BestOfN, Counted};
use super::{load_checkpoint, par_chunks, parse_budgets, resolve_env, wilson};
use crate::eval::games::{self, Player, SearchPlayer};
use crate::eval::{task_search, tasks};
use crate::model::{Policy, PolicyEvaluator};
use crate::search::enumerate::EnumerateConfig;
use crate::search::steps::StepSearchConfig;
use crate::search::{Compute, Decoder, Rerank, SearchConfig, TaskSearch, Uniform};

/// Flags of `ponder compare`.
#[derive(Debug, clap::Args)]
pub struct CompareArgs {
    /// The checkpoint directory.
    #[arg(long, value_name = "DIR")]
    pub checkpoint: PathBuf,
    /// The environment [default: the checkpoint's]; the checkpoint's family, any parameters.
    #[arg(long)]
    pub env: Option<String>,
    /// Budgets, comma-separated: N of best-of-N, the beam width, simulations per decision; for
    /// `tot`, steps proposed per kept state (b = 5); for `enumerate`, expansions per task.
    #[arg(long, default_value = "1,4,16,64,256")]
    pub budgets: String,
    /// Output directory for compare.csv, compare.svg, compare.md [default: results/compare-<env>].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Held-out tasks (an even spread over the suite), or solver-graded positions for games.
    #[arg(long, default_value_t = 200)]
    pub tasks: usize,
    /// Methods to run, comma-separated; tasks also know `tot`, `enumerate`, `enumerate-uniform`.
    #[arg(long, default_value = "greedy,best-of-n,beam,puct,gumbel")]
    pub methods: String,
    /// Games without a solver: games per method and budget against rollout MCTS.
    #[arg(long, default_value_t = 20)]
    pub games: u32,
    /// Games without a solver: the rollout MCTS opponent's simulations.
    #[arg(long, default_value_t = 200)]
    pub opponent: u32,
    /// Games with a solver: instead of the optimal-move rate, Elo relative to perfect play, from
    /// `--games` games against the solver, from random openings of `--opening` moves each played
    /// with both colours (perfect play scores 0.5 against itself there: Elo 0).
    #[arg(long)]
    pub elo: bool,
    /// With `--elo`: uniformly random moves before the players take over.
    #[arg(long, default_value_t = 2)]
    pub opening: u32,
    /// Seeds every random draw.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

/// A way of spending compute on an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Greedy,
    BestOfN,
    Beam,
    Puct,
    Gumbel,
    /// Tree of Thoughts' step-level BFS (tasks).
    Tot,
    /// Best-first enumeration by the policy's priors (tasks).
    Enumerate,
    /// Best-first enumeration by uniform priors, no model (tasks): the baseline search.
    EnumerateUniform,
}

impl Method {
    pub const ALL: [Method; 8] = [
        Method::Greedy,
        Method::BestOfN,
        Method::Beam,
        Method::Puct,
        Method::Gumbel,
        Method::Tot,
        Method::Enumerate,
        Method::EnumerateUniform,
    ];

    /// The name in flags and the CSV.
    pub fn id(self) -> &'static str {
        match self {
            Method::Greedy => "greedy",
            Method::BestOfN => "best-of-n",
            Method::Beam => "beam",
            Method::Puct => "puct",
            Method::Gumbel => "gumbel",
            Method::Tot => "tot",
            Method::Enumerate => "enumerate",
            Method::EnumerateUniform => "enumerate-uniform",
        }
    }

    /// Whether the method searches whole answers, so only tasks have it.
    pub fn tasks_only(self) -> bool {
        matches!(self, Method::Tot | Method::Enumerate | Method::EnumerateUniform)
    }

    /// 1 for the policy alone, 2 for a tree search.
    pub fn system(self) -> u8 {
        match self {
            Method::Greedy | Method::BestOfN | Method::Beam => 1,
            Method::Puct | Method::Gumbel | Method::Tot | Method::Enumerate | Method::EnumerateUniform => 2,
        }
    }

    fn parse_list(text: &str) -> Result<Vec<Method>> {
        let mut out = Vec::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let m = Method::ALL.into_iter().find(|m| m.id() == part).ok_or_else(|| {
                let names: Vec<&str> = Method::ALL.iter().map(|m| m.id()).collect();
                anyhow!("--methods {text:?}: unknown method {part:?}; known: {}", names.join(", "))
            })?;
            if !out.contains(&m) {
                out.push(m);
            }
        }
        if out.is_empty() {
            bail!("--methods {text:?}: name at least one method");
        }
        Ok(out)
    }
}

/// One method at one budget: its score and what it spent per task (or per decision).
#[derive(Debug, Clone)]
pub struct Point {
    pub method: Method,
    pub budget: u32,
    pub metric: f64,
    pub lo: f64,
    pub hi: f64,
    /// Tasks, positions or games scored.
    pub n: usize,
    /// Mean compute per task (tasks) or per decision (games).
    pub per_task: PerTask,
}

/// Mean compute per task (or per decision).
#[derive(Debug, Clone, Copy, Default)]
pub struct PerTask {
    pub model_calls: f64,
    pub forward_positions: f64,
    pub nodes: f64,
    pub seconds: f64,
}

/// Runs `compare`.
pub fn run(args: &CompareArgs) -> Result<()> {
    let (policy, meta) = load_checkpoint(&args.checkpoint)?;
    let env = resolve_env(args.env.as_deref(), &meta)?;
    let budgets = parse_budgets(&args.budgets)?;
    let methods = Method::parse_list(&args.methods)?;
    if args.tasks == 0 {
        bail!("--tasks 0: score at least one task");
    }
    if args.games == 0 {
        bail!("--games 0: play at least one game");
    }
    if let Some(m) = methods.iter().find(|m| m.tasks_only() && env.kind() == Kind::Game) {
        bail!("--methods: {} searches whole answers to tasks; {} is a game", m.id(), env.spec());
    }
    let out = args.out.clone().unwrap_or_else(|| {
        let name: String =
            env.spec().chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
        PathBuf::from("results").join(format!("compare-{name}"))
    });
    std::fs::create_dir_all(&out).map_err(|e| anyhow!("--out {}: {e}", out.display()))?;
    let (metric_name, points) = with_env!(&env, e => measure(e, &policy, args, &budgets, &methods))?;

    let spec = env.spec();
    let table = markdown_table(&metric_name, &points);
    let csv = csv_text(&metric_name, &points)?;
    crate::experiment::run::write_atomic(&out.join("compare.csv"), csv.as_bytes())?;
    let series: Vec<(String, Vec<(f64, f64)>)> = methods
        .iter()
        .map(|&m| {
            let pts =
                points.iter().filter(|p| p.method == m).map(|p| (p.per_task.model_calls, p.metric)).collect();
            (m.id().to_string(), pts)
        })
        .collect();
    let unit = if env.kind() == Kind::Game { "decision" } else { "task" };
    crate::experiment::plot::draw_log_x(
        &out.join("compare.svg"),
        &format!("{spec}: System 1 vs System 2"),
        &format!("model calls per {unit} (log scale)"),
        &metric_name,
        &series,
    )?;
    let mut md = format!("# compare: {spec}\n\n");
    let _ = writeln!(
        md,
        "Checkpoint `{}` (trained on `{}`, iteration {}, step {}).",
        args.checkpoint.display(),
        meta.env,
        meta.iteration,
        meta.step
    );
    let _ = writeln!(md, "Metric: {metric_name}. Budgets: {}.\n", args.budgets);
    md.push_str(&table);
    md.push_str("\n![metric against compute](compare.svg)\n");
    crate::experiment::run::write_atomic(&out.join("compare.md"), md.as_bytes())?;
    println!("{spec}: {metric_name} against compute\n\n{table}");
    println!("Wrote {0}/compare.csv, {0}/compare.svg, {0}/compare.md", out.display());
    Ok(())
}

/// Scores every method at every budget; returns the metric's name and the points.
fn measure<E: Env>(
    env: &E,
    policy: &Policy,
    args: &CompareArgs,
    budgets: &[u32],
    methods: &[Method],
) -> Result<(String, Vec<Point>)> {
    enum Ground<E: Env> {
        Tasks(Vec<Task>),
        Solver(Box<dyn Oracle<E::State>>, Vec<E::State>),
        Match,
        Elo(Vec<E::State>),
    }
    let ground: Ground<E> = match env.kind() {
        Kind::Task => {
            let suite = env.held_out();
            if suite.is_empty() {
                bail!("--env {}: no held-out suite to compare on", env.spec());
            }
            Ground::Tasks(spread(suite, args.tasks))
        }
        Kind::Game if args.elo => {
            if env.oracle().is_none() {
                bail!(
                    "--elo plays against the exact solver; {} has none (drop --elo to play rollout MCTS)",
                    env.spec()
                );
            }
            Ground::Elo(games::random_openings(env, args.games.div_ceil(2) as usize, args.opening, args.seed))
        }
        Kind::Game => match env.oracle() {
            Some(o) => {
                let positions = env.graded_positions(args.seed, args.tasks);
                if positions.is_empty() {
                    bail!("--env {}: the solver grades no positions here", env.spec());
                }
                Ground::Solver(o, positions)
            }
            None => Ground::Match,
        },
    };
    let metric = match &ground {
        Ground::Tasks(t) => format!("held-out accuracy ({} tasks)", t.len()),
        Ground::Solver(_, p) => format!("optimal-move rate ({} positions)", p.len()),
        Ground::Match => format!("score vs rollout MCTS {} ({} games)", args.opponent, args.games),
        Ground::Elo(o) => {
            format!("Elo vs perfect play ({} games from {}-move random openings)", o.len(), args.opening)
        }
    };
    let mut points = Vec::new();
    for &m in methods {
        let bs: &[u32] = if m == Method::Greedy { &budgets[..1] } else { budgets };
        for &b in bs {
            let b = if m == Method::Greedy { 1 } else { b };
            let t0 = Instant::now();
            let p = match &ground {
                Ground::Tasks(tasks) => task_point(env, policy, tasks, m, b, args.seed),
                Ground::Solver(o, positions) => solver_point(o.as_ref(), policy, positions, m, b, args.seed),
                Ground::Match => match_point(env, policy, m, b, args),
                Ground::Elo(openings) => elo_point(env, policy, openings, m, b, args.seed),
            };
            eprintln!(
                "{:<10} budget {:>4}: {:.3} [{:.3}, {:.3}] at {:.1} model calls ({:.1} s)",
                m.id(),
                b,
                p.metric,
                p.lo,
                p.hi,
                p.per_task.model_calls,
                t0.elapsed().as_secs_f64()
            );
            points.push(p);
        }
    }
    Ok((metric, points))
}

/// An even spread of `n` items over `all` (suites are ordered by difficulty).
fn spread<T: Clone>(all: Vec<T>, n: usize) -> Vec<T> {
    if n >= all.len() {
        return all;
    }
    let step = all.len() as f64 / n as f64;
    (0..n).map(|i| all[(i as f64 * step) as usize].clone()).collect()
}

/// Mean compute over `n` tasks or decisions.
fn per(c: Compute, n: usize) -> PerTask {
    let d = n.max(1) as f64;
    PerTask {
        model_calls: c.model_calls as f64 / d,
        forward_positions: c.forward_positions as f64 / d,
        nodes: c.nodes as f64 / d,
        seconds: c.seconds / d,
    }
}

const BATCH: usize = 32;

fn task_point<E: Env>(env: &E, policy: &Policy, suite: &[Task], m: Method, b: u32, seed: u64) -> Point {
    let outcomes = par_chunks(suite, BATCH, |offset, ts| {
        let mut ev = policy.evaluator();
        let seed = seed.wrapping_add(offset as u64);
        let s1 = |d: Decoder, ev: &mut PolicyEvaluator| tasks::system1(env, ev, &d, ts, seed);
        match m {
            Method::Greedy => s1(Decoder::Greedy, &mut ev),
            Method::BestOfN => {
                s1(Decoder::BestOfN { n: b, temperature: 1.0, rerank: Rerank::Rules }, &mut ev)
            }
            Method::Beam => s1(Decoder::Beam { width: b }, &mut ev),
            Method::Puct => tasks::system2(env, &mut ev, &SearchConfig::puct(b), ts, seed),
            Method::Gumbel => tasks::system2(env, &mut ev, &SearchConfig::gumbel(b, 0.0), ts, seed),
            Method::Tot => {
                let tot = TaskSearch::Steps(StepSearchConfig { beam: 5, samples: b, temperature: 1.0 });
                task_search::system2(env, &mut ev, &tot, ts, seed)
            }
            Method::Enumerate | Method::EnumerateUniform => {
                let search = TaskSearch::Enumerate(EnumerateConfig { expansions: b, per_call: 1 });
                if m == Method::Enumerate {
                    task_search::system2(env, &mut ev, &search, ts, seed)
                } else {
                    task_search::system2(env, &mut Uniform { value: 0.5 }, &search, ts, seed)
                }
            }
        }
    });
    let k = outcomes.iter().filter(|o| o.correct).count();
    let (metric, lo, hi) = wilson(k, outcomes.len());
    let spent: Compute = outcomes.iter().map(|o| o.compute).sum();
    Point { method: m, budget: b, metric, lo, hi, n: outcomes.len(), per_task: per(spent, outcomes.len()) }
}

/// A player for a game: the policy through method `m` at budget `b`.
fn player<'a, S: ponder_env::State>(policy: &Policy, m: Method, b: u32) -> Box<dyn Player<S> + 'a> {
    let ev = policy.evaluator();
    match m {
        Method::Greedy => Box::new(SearchPlayer::new(ev, SearchConfig::puct(0), true)),
        Method::BestOfN => Box::new(BestOfN::new(ev, b)),
        Method::Beam => Box::new(Beam::new(ev, b)),
        Method::Puct => Box::new(SearchPlayer::new(ev, SearchConfig::puct(b), true)),
        Method::Gumbel => Box::new(SearchPlayer::new(ev, SearchConfig::gumbel(b, 0.0), true)),
        Method::Tot | Method::Enumerate | Method::EnumerateUniform => {
            unreachable!("run() refuses task-only methods for games")
        }
    }
}

fn solver_point<S: ponder_env::State>(
    oracle: &dyn Oracle<S>,
    policy: &Policy,
    positions: &[S],
    m: Method,
    b: u32,
    seed: u64,
) -> Point {
    let parts = par_chunks(positions, BATCH, |offset, ps| {
        let mut p = player::<S>(policy, m, b);
        let (rate, n) = games::optimal_move_rate(oracle, ps, p.as_mut(), seed.wrapping_add(offset as u64));
        vec![((rate * n as f64).round() as usize, n, p.compute())]
    });
    let k: usize = parts.iter().map(|p| p.0).sum();
    let n: usize = parts.iter().map(|p| p.1).sum();
    let spent: Compute = parts.iter().map(|p| p.2).sum();
    let (metric, lo, hi) = wilson(k, n);
    Point { method: m, budget: b, metric, lo, hi, n, per_task: per(spent, n) }
}

fn match_point<E: Env>(env: &E, policy: &Policy, m: Method, b: u32, args: &CompareArgs) -> Point {
    // Games split into an even number per thread, so colours stay balanced.
    let threads = rayon::current_num_threads().max(1) as u32;
    let per_thread = args.games.div_ceil(threads).div_ceil(2) * 2;
    let chunks: Vec<u32> = (0..args.games.div_ceil(per_thread.max(1)))
        .map(|i| per_thread.min(args.games - i * per_thread))
        .collect();
    let parts = par_chunks(&chunks, 1, |offset, g| {
        let mut inner = player::<E::State>(policy, m, b);
        let mut me = Counted { inner: inner.as_mut(), decisions: 0 };
        let seed = args.seed.wrapping_add(offset as u64 * 7919);
        let mut opp = games::rollout_mcts(args.opponent, true, seed ^ 0x0dd0);
        let r = games::play_match(env, &mut me, &mut opp, g[0], seed);
        vec![(r, me.decisions, me.compute())]
    });
    let t = Tally::of(&parts);
    Point {
        method: m,
        budget: b,
        metric: t.score,
        lo: t.lo,
        hi: t.hi,
        n: t.games as usize,
        per_task: t.per_decision,
    }
}

/// The totals of a match played in parts: `(result, decisions, compute)` per part.
struct Tally {
    games: u32,
    /// Wins plus half the draws, over games.
    score: f64,
    /// The score's Wilson interval (draws count half: it treats the score as a rate of wins;
    /// Hex never draws).
    lo: f64,
    hi: f64,
    per_decision: PerTask,
}

impl Tally {
    fn of(parts: &[(games::MatchResult, u64, Compute)]) -> Tally {
        let games: u32 = parts.iter().map(|p| p.0.games()).sum();
        let points: f64 = parts.iter().map(|p| p.0.score() * p.0.games() as f64).sum();
        let decisions: u64 = parts.iter().map(|p| p.1).sum();
        let spent: Compute = parts.iter().map(|p| p.2).sum();
        let (_, lo, hi) = wilson(points.round() as usize, games as usize);
        let score = if games > 0 { points / games as f64 } else { 0.0 };
        Tally { games, score, lo, hi, per_decision: per(spent, decisions as usize) }
    }
}

/// Elo relative to perfect play: games against the solver from `openings` (consecutive pairs,
/// one per colour). The interval is the Wilson interval of the score, mapped to Elo.
fn elo_point<E: Env>(env: &E, policy: &Policy, openings: &[E::State], m: Method, b: u32, seed: u64) -> Point {
    let threads = rayon::current_num_threads().max(1);
    let per_thread = openings.len().div_ceil(threads).div_ceil(2) * 2;
    let parts = par_chunks(openings, per_thread, |offset, starts| {
        let mut inner = player::<E::State>(policy, m, b);
        let mut me = Counted { inner: inner.as_mut(), decisions: 0 };
        let oracle = env.oracle().expect("measure() checked that the game has a solver");
        let mut perfect = games::PerfectPlayer { oracle };
        let r = games::play_match_from(
            env,
            &mut me,
            &mut perfect,
            starts.to_vec(),
            seed.wrapping_add(offset as u64),
        );
        vec![(r, me.decisions, me.compute())]
    });
    let t = Tally::of(&parts);
    let half = 0.5 / t.games.max(1) as f64;
    Point {
        method: m,
        budget: b,
        metric: games::elo_from_score(t.score, half),
        lo: games::elo_from_score(t.lo, half),
        hi: games::elo_from_score(t.hi, half),
        n: t.games as usize,
        per_task: t.per_decision,
    }
}

/// The points as a markdown table, one row per method and budget.
pub fn markdown_table(metric: &str, points: &[Point]) -> String {
    let mut s = format!(
        "| method | system | budget | {metric} | 95% interval | model calls | forward positions | seconds |\n\
         | --- | --- | ---: | ---: | --- | ---: | ---: | ---: |\n"
    );
    for p in points {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {:.3} | [{:.3}, {:.3}] | {:.1} | {:.1} | {:.4} |",
            p.method.id(),
            p.method.system(),
            p.budget,
            p.metric,
            p.lo,
            p.hi,
            p.per_task.model_calls,
            p.per_task.forward_positions,
            p.per_task.seconds
        );
    }
    s
}

/// The CSV: one row per method and budget; compute columns are per task (games: per decision).
fn csv_text(metric: &str, points: &[Point]) -> Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "method",
        "system",
        "budget",
        "metric",
        "lo",
        "hi",
        "n",
        "model_calls",
        "forward_positions",
        "nodes",
        "seconds",
        "metric_name",
    ])?;
    for p in points {
        w.write_record([
            p.method.id().to_string(),
            p.method.system().to_string(),
            p.budget.to_string(),
            format!("{:.6}", p.metric),
            format!("{:.6}", p.lo),
            format!("{:.6}", p.hi),
            p.n.to_string(),
            format!("{:.3}", p.per_task.model_calls),
            format!("{:.3}", p.per_task.forward_positions),
            format!("{:.3}", p.per_task.nodes),
            format!("{:.6}", p.per_task.seconds),
            metric.to_string(),
        ])?;
    }
    Ok(String::from_utf8(w.into_inner().map_err(|e| anyhow!("{e}"))?)?)
}
