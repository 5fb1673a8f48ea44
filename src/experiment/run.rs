//! The self-improvement loop: generate (System 2 self-play), store, learn, evaluate; with
//! metrics, plots, report, checkpoints and resume.
//!
//! ## Determinism
//! Every random draw is a function of the run's seed and the iteration (episode seeds, task
//! indices, batch sampling), and work is split into fixed-size chunks (`selfplay.batch`), so the
//! same seed gives the same `metrics.csv` (but for its wall-time columns) on any thread count,
//! and a resumed run reaches the same metrics as an uninterrupted one.
//!
//! ## Resume
//! After each iteration the loop writes, in order: the replay buffer (`replay-<iter>.jsonl`),
//! then the checkpoint `checkpoints/latest` (atomically: written aside, then renamed), whose
//! `meta.json` names that replay file and holds every metrics row so far. `--resume` loads the
//! checkpoint, rewrites `metrics.csv` from its rows (no row lost or duplicated), and goes on.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use ponder_env::{with_env, AnyEnv, Env, Kind, Task};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::config::{ExperimentConfig, Targets};
use super::math_loops;
use super::metrics::{write_csv, Row};
use super::report;
use crate::eval::games::{self, PerfectPlayer, RandomPlayer, SearchPlayer};
use crate::eval::{by_length, tasks};
use crate::model::checkpoint::{self, CheckpointMeta};
use crate::model::{ModelConfig, Policy, PolicyEvaluator, ValueKind};
use crate::search::{Compute, Mixed, SearchConfig};
use crate::selfplay::actor::{episode_seed, policy_sampling, sampled_episodes, search_episodes, Assignment};
use crate::selfplay::propose::proposed_episodes;
use crate::selfplay::{Episode, ReplayBuffer};
use crate::train::{Example, Learner};

/// How to run an experiment (from the command line).
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Results directory (default `results/<name>`).
    pub out: Option<PathBuf>,
    /// Continue from `out/checkpoints/latest`.
    pub resume: bool,
    /// Start afresh even where `out` holds an unfinished run or one of another config (without
    /// it such a run is refused, so that nothing is lost by accident).
    pub fresh: bool,
    /// One line per iteration instead of progress bars.
    pub quiet: bool,
    /// The command line that started the run, for the report.
    pub command: Option<String>,
}

/// What a finished run reports.
#[derive(Debug, Clone)]
pub struct Summary {
    pub out: PathBuf,
    pub rows: Vec<Row>,
    /// The final System 1 / System 2 table, as printed.
    pub table: String,
}

/// The loop's state kept in every checkpoint.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct LoopState {
    /// Iterations completed.
    iterations_done: u32,
    /// The curriculum level reached.
    level: u32,
    /// Episodes generated so far (task indices continue from here).
    episodes_done: u64,
    /// Every metrics row so far.
    rows: Vec<Row>,
    /// The replay file this checkpoint goes with.
    replay_file: String,
    /// Wall seconds spent before this (resumed) run.
    seconds: f64,
    /// With gating: the iteration whose policy is the best so far.
    best_iteration: u32,
}

/// Runs `cfg`; the environment type is chosen here and everything below is generic over it.
// Some environments are `Copy`; the macro clones them all alike.
#[allow(clippy::clone_on_copy)]
pub fn run(cfg: &ExperimentConfig, opts: &RunOptions) -> Result<Summary> {
    let env: AnyEnv = cfg.env.parse().map_err(|e| anyhow::anyhow!("field `env`: {e}"))?;
    with_env!(&env, e => Runner::new(e.clone(), cfg.clone(), opts)?.run())
}

struct Runner<E: Env> {
    env: E,
    cfg: ExperimentConfig,
    opts: RunOptions,
    out: PathBuf,
    learner: Learner,
    replay: ReplayBuffer,
    state: LoopState,
    /// With gating, the policy that plays self-play games.
    best: Option<Policy>,
    pool: rayon::ThreadPool,
    started: Instant,
}

impl<E: Env> Runner<E> {
    fn new(env: E, cfg: ExperimentConfig, opts: &RunOptions) -> Result<Self> {
        let out = opts.out.clone().unwrap_or_else(|| PathBuf::from("results").join(&cfg.name));
        if !opts.resume && !opts.fresh {
            refuse_to_replace(&out, &cfg)?;
        }
        std::fs::create_dir_all(out.join("checkpoints"))
            .with_context(|| format!("cannot create {}", out.display()))?;
        let pool = rayon::ThreadPoolBuilder::new().num_threads(cfg.threads).build()?;
        let latest = out.join("checkpoints").join("latest");
        let (learner, replay, state) = if opts.resume && checkpoint_exists(&latest) {
            let (learner, meta) = checkpoint::load_learner(&latest)?;
            if meta.env != env.spec() {
                bail!(
                    "{}: the checkpoint was trained on {}, the config says {}",
                    latest.display(),
                    meta.env,
                    env.spec()
                );
            }
            let state: LoopState = serde_json::from_value(meta.extra.clone())
                .with_context(|| format!("{}: meta.json has no loop state", latest.display()))?;
            let replay = ReplayBuffer::load(&out.join(&state.replay_file), cfg.replay.window)?;
            (learner, replay, state)
        } else {
            if opts.resume {
                eprintln!("no checkpoint in {}: starting afresh", latest.display());
            }
            let total = cfg.iterations as u64 * cfg.learn.steps as u64;
            let learner = math_loops::learner(&cfg, model_config(&cfg, &env), total.max(1))?;
            let state = LoopState { level: cfg.curriculum.start_level, ..LoopState::default() };
            // After the learner (its `model.init` may lie in this folder): a killed fresh run
            // must not leave the old run's checkpoint for `--resume` to pick up.
            clear_previous_run(&out)?;
            (learner, ReplayBuffer::new(cfg.replay.window), state)
        };
        write_atomic(&out.join("config.resolved.toml"), cfg.to_toml().as_bytes())?;
        let best = if cfg.eval.gating.is_some() {
            let best_dir = out.join("checkpoints").join("best");
            if opts.resume && checkpoint_exists(&best_dir) {
                Some(checkpoint::load_policy(&best_dir)?.0)
            } else {
                Some(learner.policy())
            }
        } else {
            None
        };
        Ok(Runner {
            env,
            cfg,
            opts: opts.clone(),
            out,
            learner,
            replay,
            state,
            best,
            pool,
            started: Instant::now(),
        })
    }

    fn run(mut self) -> Result<Summary> {
        // Rewrite metrics.csv from the checkpoint's rows: an interrupted iteration's row is gone.
        write_csv(&self.out.join("metrics.csv"), &self.state.rows)?;
        for iter in self.state.iterations_done..self.cfg.iterations {
            let row = self.iteration(iter)?;
            self.state.rows.push(row);
            self.state.iterations_done = iter + 1;
            self.persist(iter)?;
            if self.opts.quiet {
                println!("{}", one_line(self.state.rows.last().expect("just pushed")));
            }
        }
        let table = report::final_table(&self.state.rows, self.env.kind());
        Ok(Summary { out: self.out.clone(), rows: self.state.rows.clone(), table })
    }

    fn iteration(&mut self, iter: u32) -> Result<Row> {
        let t0 = Instant::now();
        let mut row = Row::default();
        row.push("iteration", iter as f64 + 1.0);

        // Generate.
        let acting = self.best.clone().unwrap_or_else(|| self.learner.policy());
        let work = self.assignments(iter);
        let bar = self.bar(work.len() as u64, &format!("iter {} self-play", iter + 1));
        let generated = if self.cfg.selfplay.task_search.is_some() {
            let episodes = self.generate(&acting, &work, &bar);
            crate::selfplay::propose::generated(episodes, self.cfg.selfplay.keep_failed, work.len())
        } else if math_loops::owns_generation(&self.cfg) {
            math_loops::generate(&self.env, &acting, &self.pool, &self.cfg, &work, &bar)
        } else {
            math_loops::Generated::plain(self.generate(&acting, &work, &bar))
        };
        let episodes = generated.attempts;
        bar.finish_and_clear();
        row.push("selfplay_seconds", t0.elapsed().as_secs_f64());
        let spent: Compute = episodes.iter().map(|e| e.compute).sum();
        let n = episodes.len().max(1) as f64;
        let correct = episodes.iter().filter(|e| e.correct).count() as f64 / n;
        self.update_level(&episodes, iter);
        self.state.episodes_done += work.len() as u64;
        self.replay.extend(generated.training);
        row.push("episodes", episodes.len() as f64);
        row.push("replay_episodes", self.replay.len() as f64);
        row.push("level", self.state.level as f64);
        row.push(
            if self.env.kind() == Kind::Game { "selfplay_first_player_wins" } else { "selfplay_correct" },
            correct,
        );
        row.push("selfplay_model_calls", spent.model_calls as f64);
        row.push("selfplay_forward_positions", spent.forward_positions as f64);
        row.0.extend(generated.stats.0);

        // Learn.
        let t1 = Instant::now();
        let (losses, examples) = self.learn(iter);
        row.push("learn_seconds", t1.elapsed().as_secs_f64());
        for (k, v) in losses {
            row.push(k, v);
        }
        row.push("train_examples", examples as f64);

        // Evaluate.
        let last = iter + 1 == self.cfg.iterations;
        if (iter + 1) % self.cfg.eval.every == 0 || last {
            let t2 = Instant::now();
            let policy = self.learner.policy();
            let eval_row = match self.env.kind() {
                Kind::Game => self.eval_game(&policy, iter)?,
                Kind::Task => self.eval_tasks(&policy, iter),
            };
            row.0.extend(eval_row.0);
            row.push("eval_seconds", t2.elapsed().as_secs_f64());
            if let (Some(threshold), Kind::Game) = (self.cfg.eval.gating, self.env.kind()) {
                let score = self.gate(&policy, iter);
                row.push("gating_score", score);
                let promoted = score >= threshold;
                row.push("gating_promoted", promoted as u8 as f64);
                if promoted {
                    self.best = Some(policy);
                    self.state.best_iteration = iter + 1;
                    let meta = CheckpointMeta::new(self.env.spec(), iter as u64 + 1);
                    checkpoint::save(&self.out.join("checkpoints").join("best"), &self.learner, &meta)?;
                }
            }
        }
        let seconds = t0.elapsed().as_secs_f64();
        row.push("iteration_seconds", seconds);
        row.push("wall_seconds", self.state.seconds + self.started.elapsed().as_secs_f64());
        Ok(row)
    }

    /// This iteration's tasks: for games, the start position; for tasks, draws from the
    /// generator at the curriculum level (and some from easier levels).
    fn assignments(&self, iter: u32) -> Vec<Assignment> {
        let n = self.cfg.selfplay.episodes as u64;
        let levels = self.env.curriculum_levels();
        let use_curriculum = self.cfg.curriculum.enabled && levels > 1 && self.env.kind() == Kind::Task;
        (0..n)
            .map(|i| {
                let index = self.state.episodes_done + i;
                let seed = episode_seed(self.cfg.seed, iter as u64, i);
                let level = if !use_curriculum {
                    levels - 1
                } else if self.state.level > 0
                    && (seed % 1000) as f64 / 1000.0 < self.cfg.curriculum.replay_easier
                {
                    (seed >> 20) as u32 % self.state.level
                } else {
                    self.state.level
                };
                Assignment { task: self.env.generate(self.cfg.seed, index, level), level, seed }
            })
            .collect()
    }

    fn generate(&self, policy: &Policy, work: &[Assignment], bar: &ProgressBar) -> Vec<Episode> {
        let sp = &self.cfg.selfplay;
        let chunks: Vec<&[Assignment]> = work.chunks(sp.batch as usize).collect();
        let env = &self.env;
        let results: Vec<Vec<Episode>> = self.pool.install(|| {
            chunks
                .par_iter()
                .map(|chunk| {
                    let mut ev = policy.evaluator();
                    let eps = match (sp.targets, &sp.task_search) {
                        (Targets::Verified, Some(ts)) => proposed_episodes(env, &mut ev, ts, chunk),
                        (Targets::Verified, None) => {
                            sampled_episodes(env, &mut ev, &sp.sampler, sp.samples_per_task, chunk)
                        }
                        (Targets::Search | Targets::ChosenAction, _) if sp.rollout_mix > 0.0 => {
                            let seed = chunk.first().map_or(0, |a| a.seed) ^ 0x3c6e_f372;
                            let mut mixed = Mixed::new(&mut ev, sp.rollout_mix, seed);
                            mixed.rollout.rollouts = sp.rollouts;
                            search_episodes(env, &mut mixed, sp, chunk)
                        }
                        (Targets::Search | Targets::ChosenAction, _) => {
                            search_episodes(env, &mut ev, sp, chunk)
                        }
                        (Targets::PolicyGradient, _) => {
                            search_episodes(env, &mut ev, &policy_sampling(sp), chunk)
                        }
                        (Targets::SelfLabel, _) => unreachable!("math_loops::generate labels tasks"),
                    };
                    bar.inc(chunk.len() as u64);
                    eps
                })
                .collect()
        });
        results.into_iter().flatten().collect()
    }

    fn update_level(&mut self, episodes: &[Episode], iter: u32) {
        let levels = self.env.curriculum_levels();
        if !self.cfg.curriculum.enabled || self.state.level + 1 >= levels {
            return;
        }
        if self.cfg.curriculum.promote_every > 0 {
            // A fixed schedule: no accuracy, so no ground truth, decides.
            if (iter + 1) % self.cfg.curriculum.promote_every == 0 {
                self.state.level += 1;
            }
            return;
        }
        let at_level: Vec<&Episode> = episodes.iter().filter(|e| e.level == self.state.level).collect();
        if at_level.is_empty() {
            return;
        }
        let acc = at_level.iter().filter(|e| e.correct).count() as f64 / at_level.len() as f64;
        if acc >= self.cfg.curriculum.promote_at {
            self.state.level += 1;
        }
    }

    /// Optimizer steps on batches drawn from the replay buffer; returns the mean losses.
    fn learn(&mut self, iter: u32) -> (Vec<(&'static str, f64)>, usize) {
        let mut rng = ChaCha8Rng::seed_from_u64(self.cfg.seed ^ 0x1ea2_u64.wrapping_mul(iter as u64 + 1));
        let steps = self.cfg.learn.steps;
        let bar = self.bar(steps as u64, &format!("iter {} learn", iter + 1));
        let mix = self.cfg.learn.value_target_mix as f32;
        let targets = self.cfg.selfplay.targets;
        let verified = self.cfg.selfplay.targets == Targets::Verified;
        let mut sums = [0.0f64; 5];
        let mut examples = 0;
        for _ in 0..steps {
            let batch: Vec<Example> = self
                .replay
                .sample(self.cfg.train.batch_size, &mut rng)
                .into_iter()
                .map(|e| {
                    let mut ex = e.to_example(mix, targets);
                    if verified && !e.correct {
                        // STaR/ReST: only verified answers teach the policy; failures still teach
                        // the value head what a wrong answer looks like.
                        ex.policy.clear();
                    }
                    ex
                })
                .collect();
            examples += batch.len();
            let l = self.learner.step(&batch);
            for (s, v) in sums.iter_mut().zip([
                l.policy as f64,
                l.value as f64,
                l.total as f64,
                l.grad_norm as f64,
                l.lr,
            ]) {
                *s += v;
            }
            bar.inc(1);
        }
        bar.finish_and_clear();
        let d = steps.max(1) as f64;
        let names = ["loss_policy", "loss_value", "loss_total", "grad_norm", "lr"];
        (names.into_iter().zip(sums.map(|s| s / d)).collect(), examples)
    }

    fn eval_game(&self, policy: &Policy, iter: u32) -> Result<Row> {
        let e = &self.cfg.eval;
        let seed = self.cfg.seed ^ 0xe7a1;
        let mut row = Row::default();
        let s2 = e.search.clone();
        let s1 = SearchConfig { simulations: 0, ..e.search.clone() };
        let bar = self.bar(0, &format!("iter {} evaluate", iter + 1));
        if let Some(oracle) = self.env.oracle() {
            let positions = self.env.graded_positions(self.cfg.seed, e.positions as usize);
            for (name, cfg, mix) in [("s1", &s1, 0.0), ("s2", &s2, e.rollout_mix)] {
                let (rate, _) = self.parallel_rate(policy, oracle.as_ref(), &positions, cfg, mix);
                row.push(format!("{name}_optimal_move_rate"), rate);
            }
            row.push("graded_positions", positions.len() as f64);
        }
        let g = e.games;
        for (name, cfg, mix) in [("s1", &s1, 0.0), ("s2", &s2, e.rollout_mix)] {
            let mut me = SearchPlayer::new(self.leaf_evaluator(policy, mix, seed), cfg.clone(), true);
            let r = games::play_match(&self.env, &mut me, &mut RandomPlayer, g, seed);
            row.push(format!("{name}_vs_random_score"), r.score());
            if let Some(oracle) = self.env.oracle() {
                let mut perfect = PerfectPlayer { oracle };
                let r = games::play_match(&self.env, &mut me, &mut perfect, g, seed + 1);
                row.push(format!("{name}_vs_perfect_score"), r.score());
                row.push(format!("{name}_vs_perfect_losses"), r.losses as f64);
            }
            for &sims in &e.mcts_opponents {
                let mut opp = games::rollout_mcts(sims, true, seed + sims as u64);
                let r = games::play_match(&self.env, &mut me, &mut opp, g, seed + 2);
                row.push(format!("{name}_vs_mcts{sims}_score"), r.score());
            }
        }
        bar.finish_and_clear();
        Ok(row)
    }

    /// The evaluator of a game's System 2 at evaluation: the policy, its leaf values mixed with
    /// `eval.rollouts` playouts at weight `mix` (0: the policy alone, unchanged).
    fn leaf_evaluator(&self, policy: &Policy, mix: f32, seed: u64) -> Mixed<PolicyEvaluator> {
        let mut m = Mixed::new(policy.evaluator(), mix, seed ^ 0x6a09_e667);
        m.rollout.rollouts = self.cfg.eval.rollouts;
        m
    }

    /// The optimal-move rate with positions split across the worker threads.
    fn parallel_rate(
        &self,
        policy: &Policy,
        oracle: &dyn ponder_env::Oracle<E::State>,
        positions: &[E::State],
        cfg: &SearchConfig,
        mix: f32,
    ) -> (f64, usize) {
        let chunk = (self.cfg.selfplay.batch as usize).max(1);
        let parts: Vec<(f64, usize)> = self.pool.install(|| {
            positions
                .par_chunks(chunk)
                .enumerate()
                .map(|(i, ps)| {
                    let ev = self.leaf_evaluator(policy, mix, self.cfg.seed + i as u64);
                    let mut p = SearchPlayer::new(ev, cfg.clone(), true);
                    games::optimal_move_rate(oracle, ps, &mut p, self.cfg.seed + i as u64)
                })
                .collect()
        });
        let n: usize = parts.iter().map(|p| p.1).sum();
        let good: f64 = parts.iter().map(|(r, k)| r * *k as f64).sum();
        (if n > 0 { good / n as f64 } else { 0.0 }, n)
    }

    fn eval_tasks(&self, policy: &Policy, iter: u32) -> Row {
        let e = &self.cfg.eval;
        let mut suite: Vec<Task> = self.env.held_out();
        if e.tasks > 0 && (e.tasks as usize) < suite.len() {
            // An even spread over the suite (it is ordered by difficulty).
            let step = suite.len() as f64 / e.tasks as f64;
            suite = (0..e.tasks as usize).map(|i| suite[(i as f64 * step) as usize].clone()).collect();
        }
        let bar = self.bar(suite.len() as u64 * 2, &format!("iter {} evaluate", iter + 1));
        let chunk = (self.cfg.selfplay.batch as usize).max(1);
        let seed = self.cfg.seed ^ 0xe7a1;
        let mut row = Row::default();
        row.push("eval_tasks", suite.len() as f64);
        for name in ["s1", "s2"].into_iter().filter(|&n| n == "s1" || e.system2) {
            let outcomes: Vec<tasks::TaskOutcome> = self.pool.install(|| {
                suite
                    .par_chunks(chunk)
                    .map(|ts| {
                        let mut ev = policy.evaluator();
                        let r = if name == "s1" {
                            tasks::system1(&self.env, &mut ev, &e.decoder, ts, seed)
                        } else if let Some(search) = &e.task_search {
                            crate::eval::task_search::system2(&self.env, &mut ev, search, ts, seed)
                        } else {
                            tasks::system2(&self.env, &mut ev, &e.search, ts, seed)
                        };
                        bar.inc(ts.len() as u64);
                        r
                    })
                    .collect::<Vec<_>>()
                    .into_iter()
                    .flatten()
                    .collect()
            });
            let (acc, lo, hi) = tasks::accuracy(&outcomes);
            let n = outcomes.len().max(1) as f64;
            let spent: Compute = outcomes.iter().map(|o| o.compute).sum();
            row.push(format!("{name}_accuracy"), acc);
            row.push(format!("{name}_accuracy_lo"), lo);
            row.push(format!("{name}_accuracy_hi"), hi);
            row.push(format!("{name}_model_calls_per_task"), spent.model_calls as f64 / n);
            row.push(format!("{name}_forward_positions_per_task"), spent.forward_positions as f64 / n);
            if e.by_length {
                by_length::push_columns(&mut row, name, &outcomes);
            }
        }
        bar.finish_and_clear();
        row
    }

    /// AlphaGo Zero's gating: the new policy's score against the best so far (System 2 both).
    fn gate(&self, new: &Policy, iter: u32) -> f64 {
        let best = self.best.as_ref().expect("gating keeps a best policy");
        let cfg = &self.cfg.eval.search;
        let mut a = SearchPlayer::new(new.evaluator(), cfg.clone(), true);
        let mut b = SearchPlayer::new(best.evaluator(), cfg.clone(), true);
        // Deterministic players would repeat one game: sample the first moves by the prior.
        let r =
            games::play_match(&self.env, &mut a, &mut b, self.cfg.eval.games, self.cfg.seed ^ iter as u64);
        r.score()
    }

    fn persist(&mut self, iter: u32) -> Result<()> {
        let rows = &self.state.rows;
        write_csv(&self.out.join("metrics.csv"), rows)?;
        report::draw_plots(&self.out, rows, self.env.kind())?;
        report::write_report(&self.out, &self.cfg, rows, self.env.kind(), self.opts.command.as_deref())?;
        // The replay buffer first, under a new name; then the checkpoint that names it.
        let replay_file = format!("checkpoints/replay-{:04}.jsonl", iter + 1);
        self.replay.save(&self.out.join(&replay_file))?;
        let previous = std::mem::replace(&mut self.state.replay_file, replay_file);
        let mut st = self.state.clone();
        st.seconds += self.started.elapsed().as_secs_f64();
        let mut meta = CheckpointMeta::new(self.env.spec(), iter as u64 + 1);
        meta.extra = serde_json::to_value(&st)?;
        checkpoint::save(&self.out.join("checkpoints").join("latest"), &self.learner, &meta)?;
        let k = self.cfg.snapshot_every;
        if k > 0 && (iter + 1) % k == 0 {
            let snapshot = self.out.join("checkpoints").join(format!("iter-{:04}", iter + 1));
            checkpoint::save(
                &snapshot,
                &self.learner,
                &CheckpointMeta::new(self.env.spec(), iter as u64 + 1),
            )?;
        }
        if !previous.is_empty() && previous != self.state.replay_file {
            let _ = std::fs::remove_file(self.out.join(previous));
        }
        Ok(())
    }

    fn bar(&self, len: u64, msg: &str) -> ProgressBar {
        if self.opts.quiet {
            return ProgressBar::hidden();
        }
        let bar = if len == 0 { ProgressBar::new_spinner() } else { ProgressBar::new(len) };
        let style = if len == 0 {
            ProgressStyle::with_template("{spinner} {msg} {elapsed}").expect("valid template")
        } else {
            ProgressStyle::with_template("{msg:>24} [{bar:30}] {pos}/{len} {per_sec} eta {eta}")
                .expect("valid template")
                .progress_chars("=> ")
        };
        bar.set_style(style);
        bar.set_message(msg.to_string());
        if len == 0 {
            bar.enable_steady_tick(std::time::Duration::from_millis(200));
        }
        bar
    }
}

/// The model's shape from the config, its value range from the environment's kind.
pub fn model_config<E: Env>(cfg: &ExperimentConfig, env: &E) -> ModelConfig {
    let m = &cfg.model;
    let value = match env.kind() {
        Kind::Game => ValueKind::Game,
        Kind::Task => ValueKind::Task,
    };
    ModelConfig::new()
        .with_d_model(m.d_model)
        .with_n_layer(m.n_layer)
        .with_n_head(m.n_head)
        .with_block_size(m.block_size)
        .with_value(value)
        .with_positions(m.positions.into())
}

/// A run without `--resume` or `--fresh` may replace what `out` holds only where that is a
/// finished run of the same resolved config (rerunning it reproduces it). An unfinished run, or
/// one of another config, is an error that says how to continue it, replace it, or go elsewhere.
fn refuse_to_replace(out: &Path, cfg: &ExperimentConfig) -> Result<()> {
    let latest = out.join("checkpoints").join("latest");
    if !checkpoint_exists(&latest) {
        return Ok(());
    }
    let how = "--resume continues it, --fresh replaces it, --out DIR writes elsewhere";
    let resolved = out.join("config.resolved.toml");
    // Compared as configs, not text: a file written before a field existed reads back with its
    // default.
    let same = std::fs::read_to_string(&resolved)
        .ok()
        .and_then(|text| ExperimentConfig::parse(&text, &[]).ok())
        .is_some_and(|old| old == *cfg);
    if !same {
        bail!(
            "{} holds a run of another config ({} differs from this experiment's): {how}",
            out.display(),
            resolved.display()
        );
    }
    let done = checkpoint::load_meta(&latest)
        .ok()
        .and_then(|m| m.extra.get("iterations_done").and_then(|v| v.as_u64()))
        .unwrap_or(0);
    if done < cfg.iterations as u64 {
        bail!("{} holds an unfinished run ({done} of {} iterations): {how}", out.display(), cfg.iterations);
    }
    Ok(())
}

/// Removes what a previous run in `out` left that this one would not overwrite at once: its
/// checkpoints (`latest`, `best`, `iter-*` snapshots and interrupted swaps of them), replay
/// buffers and report. Anything else in the folder is left alone.
fn clear_previous_run(out: &Path) -> Result<()> {
    let ours = |name: &str| {
        name == "latest"
            || name == "best"
            || ["latest.", "best.", "iter-"].iter().any(|p| name.starts_with(p))
            || (name.starts_with("replay-") && name.ends_with(".jsonl"))
    };
    let dir = out.join("checkpoints");
    let entries = std::fs::read_dir(&dir).with_context(|| format!("cannot read {}", dir.display()))?;
    for entry in entries {
        let entry = entry.with_context(|| format!("cannot read {}", dir.display()))?;
        if !ours(&entry.file_name().to_string_lossy()) {
            continue;
        }
        let path = entry.path();
        let is_dir = entry.file_type().with_context(|| format!("cannot read {}", path.display()))?.is_dir();
        let removed = if is_dir { std::fs::remove_dir_all(&path) } else { std::fs::remove_file(&path) };
        removed.with_context(|| format!("cannot remove the previous run's {}", path.display()))?;
    }
    let report = out.join("report.md");
    if report.exists() {
        std::fs::remove_file(&report).with_context(|| format!("cannot remove {}", report.display()))?;
    }
    Ok(())
}

fn checkpoint_exists(dir: &Path) -> bool {
    dir.join(checkpoint::META).exists() || {
        // An interrupted swap leaves the last good checkpoint beside it.
        dir.parent()
            .and_then(|p| std::fs::read_dir(p).ok())
            .map(|rd| rd.flatten().any(|e| e.file_name().to_string_lossy().starts_with("latest.old-")))
            .unwrap_or(false)
    }
}

/// Writes a file atomically: a temporary name, then a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot move {} into place", tmp.display()))?;
    Ok(())
}

/// One log line for `--quiet`.
fn one_line(r: &Row) -> String {
    r.0.iter()
        .filter(|(_, v)| !v.is_nan())
        .map(|(k, v)| if v.fract() == 0.0 { format!("{k}={v}") } else { format!("{k}={v:.4}") })
        .collect::<Vec<_>>()
        .join(" ")
}
