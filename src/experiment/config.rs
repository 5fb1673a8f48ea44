//! The experiment config: one TOML file, parsed once into a validated struct.
//!
//! Every field has a default, so an experiment file is a diff over the defaults (with a comment
//! per line saying why). Unknown keys are errors that name the key; `--set key=value` overrides
//! any field by its dotted path; the resolved config is written beside the results.

use std::path::Path;

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

use crate::search::{Algorithm, Decoder, Fpu, RootNoise, SearchConfig, TaskSearch};
use crate::train::TrainConfig;

/// A whole experiment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExperimentConfig {
    /// Results go to `results/<name>/` unless `--out` says otherwise.
    pub name: String,
    /// The environment, with parameters: `tictactoe`, `hex:size=5`, `addition:digits=1-6`.
    pub env: String,
    /// Seeds every random draw of the run.
    pub seed: u64,
    /// Iterations of generate, store, learn, evaluate.
    pub iterations: u32,
    /// Worker threads (rayon); 0 = one per core. Results do not depend on it.
    pub threads: usize,
    /// Keep a snapshot of the weights every this many iterations, as
    /// `checkpoints/iter-<NNNN>` (0 = only `latest` and `best`): a family of agents of growing
    /// training compute from one run, for scaling studies.
    pub snapshot_every: u32,
    pub model: ModelSection,
    pub selfplay: SelfPlaySection,
    pub replay: ReplaySection,
    /// The optimizer: learning rate, warmup, cosine floor, weight decay, clipping, value weight,
    /// batch size.
    pub train: TrainConfig,
    pub learn: LearnSection,
    pub curriculum: CurriculumSection,
    pub eval: EvalSection,
}

/// The policy network's shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ModelSection {
    pub d_model: usize,
    pub n_layer: usize,
    pub n_head: usize,
    /// Longest token sequence (prompt and answer, or a whole game).
    pub block_size: usize,
    /// `"learned"` position embeddings (GPT-2), or `"none"` (NoPE: no position information but
    /// causal attention, which generalizes to unseen lengths better).
    pub positions: PositionsSection,
    /// Start from this checkpoint's weights (a directory written by a run, e.g.
    /// `results/addition/checkpoints/latest`) with a fresh optimizer, instead of a random policy.
    /// The shape above must match the checkpoint's. None (absent): a random policy.
    pub init: Option<String>,
}

/// `model.positions`: see [`crate::model::Positions`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PositionsSection {
    Learned,
    None,
}

impl From<PositionsSection> for crate::model::Positions {
    fn from(p: PositionsSection) -> Self {
        match p {
            PositionsSection::Learned => crate::model::Positions::Learned,
            PositionsSection::None => crate::model::Positions::None,
        }
    }
}

/// How actors generate episodes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SelfPlaySection {
    /// Episodes (games, or task attempts) per iteration.
    pub episodes: u32,
    /// Episodes played in lockstep by one actor (the model's batch size). Work is split into
    /// chunks of this size, so results do not depend on the thread count.
    pub batch: u32,
    /// The System 2 search that plays and makes the policy targets.
    pub search: SearchConfig,
    /// Moves sampled in proportion to visits (then the most visited) at the start of a game.
    pub temperature_moves: u32,
    /// Games: each episode starts with 0..=this many uniformly random moves (not trained on),
    /// so training covers positions that good play never reaches.
    pub random_opening: u32,
    /// Keep the chosen child's subtree for the next move (PUCT only).
    pub reuse_tree: bool,
    /// What the policy head learns from.
    pub targets: Targets,
    /// For `targets = "verified"`: the System 1 sampler that proposes answers.
    pub sampler: Decoder,
    /// For `targets = "verified"`: samples per task (STaR: 1 plus a rationalization; ReST: k).
    pub samples_per_task: u32,
    /// For `targets = "verified"`: retry failures with the answer as a hint (STaR's
    /// rationalization): a task none of whose samples was right gets one more attempt from
    /// [`ponder_env::Env::hinted_start`], kept for training if its answer is right.
    pub rationalize: bool,
    /// For `targets = "verified"` (tasks): propose answers with this whole-task search over the
    /// policy instead of `sampler` — `{ kind = "steps", beam, samples, temperature }` (Tree of
    /// Thoughts' step-level BFS with the value head) or `{ kind = "enumerate", expansions,
    /// per_call }` (best-first enumeration, DeepCoder's search). Every finished answer it returns
    /// is an episode graded by the ground truth (`keep_failed` of the wrong ones are stored).
    /// None (absent): sample with `sampler`.
    pub task_search: Option<TaskSearch>,
    /// For `targets = "verified"`: the share of wrong attempts stored in the replay buffer (they
    /// teach only the value head). 1 keeps all; less spends the learner on the verified answers.
    pub keep_failed: f64,
    /// For `targets = "verified"`: extra samples for a task none of whose samples was right,
    /// drawn at temperature 1 with exploration (`explore`); right ones are training data.
    pub retries: u32,
    /// The share of the uniform distribution mixed into the policy for retries: a policy that
    /// has collapsed onto a wrong answer never samples the right one without it.
    pub explore: f64,
    /// Games, search targets: self-play's leaf values mixed with random playouts at this weight
    /// (AlphaGo's `(1 - w) v + w z`; 0 = the value head alone): Expert Iteration with a stronger
    /// expert than the network's own search.
    pub rollout_mix: f32,
    /// Random playouts per leaf when `rollout_mix` is above 0.
    pub rollouts: u32,
    /// For `targets = "verified"` on scratchpad formats: the verifier reads the whole trace, so an
    /// attempt is right only if its scratchpad is the true one too (process supervision by the
    /// ground truth), not just its final answer.
    pub verify_scratchpad: bool,
    /// For `targets = "self_label"`: how the policy's own answers become labels, with no
    /// verifier (Lee et al. 2025).
    pub self_label: SelfLabelSection,
}

/// The policy target: search's improved policy (AlphaZero, ExIt), or verified answers alone
/// (STaR, ReST).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Targets {
    /// The search's visit distribution or Gumbel completed-Q policy at every move.
    Search,
    /// The one action the search chose (ExIt's chosen-action ablation).
    ChosenAction,
    /// Only answers the ground truth accepts, as one-hot targets.
    Verified,
    /// The policy's own answers, filtered by a majority vote over `samples_per_task` samples and
    /// a length rule, as one-hot targets: no verifier at all (Lee et al. 2025).
    SelfLabel,
    /// No search: self-play games sampled from the policy itself (temperature 1 at every move),
    /// and REINFORCE with the value head as baseline — the move played is a one-hot target
    /// weighted by its advantage, the outcome minus the value the head gave the position when it
    /// was played (ExIt's policy-gradient baseline). `selfplay.search`, `temperature_moves` and
    /// `reuse_tree` are not used; `learn.value_target_mix` should be 0 (there is no search value).
    PolicyGradient,
}

/// Self-labelling (Lee et al. 2025): which of the policy's own answers become training labels.
/// Neither filter consults the ground truth.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SelfLabelSection {
    /// The most common answer among the samples becomes the label only if at least this share of
    /// the samples gave it (0 = the plurality answer, whatever its share).
    pub agreement: f64,
    /// Arithmetic: drop answers whose length no sum (product) of the prompt's operands can have
    /// (a sum of operands of at most `n` digits has `n` or `n + 1` digits).
    pub length_filter: bool,
}

/// The replay buffer: a window of recent episodes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReplaySection {
    /// Episodes kept (the oldest are dropped first).
    pub window: usize,
}

/// How much the learner trains per iteration, and on what value target. (The optimizer's own
/// settings are the `[train]` section: [`TrainConfig`].)
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LearnSection {
    /// Optimizer steps per iteration (each on `train.batch_size` episodes from the buffer).
    pub steps: u32,
    /// Value target: 0 = the final outcome (AlphaZero's z), 1 = the search's root value, between
    /// is a mix.
    pub value_target_mix: f64,
}

/// Raising difficulty as accuracy rises (math and code).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CurriculumSection {
    pub enabled: bool,
    /// Move to the next level when the training accuracy at the current one reaches this.
    pub promote_at: f64,
    /// Share of each iteration's tasks drawn from earlier levels (so they are not forgotten).
    pub replay_easier: f64,
    /// The level a fresh run starts at (a run from `model.init` that already knows the easier
    /// levels).
    pub start_level: u32,
    /// 0: promote by training accuracy (`promote_at`). k > 0: one level every k iterations
    /// whatever the accuracy, a fixed schedule that consults no ground truth (self-labelling).
    pub promote_every: u32,
}

/// Evaluation each iteration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EvalSection {
    /// Evaluate every this many iterations (and always after the last).
    pub every: u32,
    /// The System 2 search evaluated (no noise).
    pub search: SearchConfig,
    /// The System 1 decoder evaluated.
    pub decoder: Decoder,
    /// Games per opponent (half with each colour).
    pub games: u32,
    /// Rollout-MCTS opponents, by simulations.
    pub mcts_opponents: Vec<u32>,
    /// Games: System 2's leaf values mixed with random playouts at this weight (AlphaGo's
    /// `(1 - w) v + w z`; 0 = the value head alone), in the matches and the optimal-move rate.
    pub rollout_mix: f32,
    /// Games: random playouts per leaf when `rollout_mix` is above 0.
    pub rollouts: u32,
    /// Solver positions for the optimal-move rate (0 = all where they are few, as tic-tac-toe's
    /// 4,520).
    pub positions: u32,
    /// Held-out tasks (math and code); 0 = the whole suite.
    pub tasks: u32,
    /// AlphaGo Zero's gating: a new policy must win this share against the best so far to
    /// replace it (none = AlphaZero's continuous update).
    pub gating: Option<f64>,
    /// Tasks: System 2 is this whole-task search instead of `search` (same forms as
    /// `selfplay.task_search`: Tree of Thoughts' step BFS, or best-first enumeration). None
    /// (absent): `search` at every decision.
    pub task_search: Option<TaskSearch>,
    /// Tasks: also evaluate System 2 (false saves its time when only System 1 matters).
    pub system2: bool,
    /// Arithmetic: held-out accuracy per operand length too (`s1_accuracy_d<n>` columns, and
    /// `s1_exact_up_to`: the longest length up to which every length is at least 99% exact).
    pub by_length: bool,
}

impl Default for ExperimentConfig {
    fn default() -> Self {
        ExperimentConfig {
            name: "experiment".into(),
            env: "tictactoe".into(),
            seed: 0,
            iterations: 10,
            threads: 0,
            snapshot_every: 0,
            model: ModelSection::default(),
            selfplay: SelfPlaySection::default(),
            replay: ReplaySection::default(),
            train: TrainConfig::default(),
            learn: LearnSection::default(),
            curriculum: CurriculumSection::default(),
            eval: EvalSection::default(),
        }
    }
}

impl Default for ModelSection {
    fn default() -> Self {
        ModelSection {
            d_model: 128,
            n_layer: 4,
            n_head: 4,
            block_size: 256,
            positions: PositionsSection::Learned,
            init: None,
        }
    }
}

impl Default for SelfPlaySection {
    fn default() -> Self {
        SelfPlaySection {
            episodes: 256,
            batch: 128,
            search: SearchConfig {
                simulations: 64,
                algorithm: Algorithm::Puct {
                    c_puct: 1.25,
                    fpu: Fpu::ParentMinus { reduction: 0.0 },
                    root_noise: RootNoise::Dirichlet { alpha: 0.3, weight: 0.25 },
                },
                collapse_forced: true,
            },
            temperature_moves: 4,
            random_opening: 0,
            reuse_tree: true,
            targets: Targets::Search,
            sampler: Decoder::Sample { temperature: 1.0 },
            samples_per_task: 4,
            rationalize: false,
            task_search: None,
            keep_failed: 1.0,
            retries: 0,
            explore: 0.0,
            rollout_mix: 0.0,
            rollouts: 1,
            verify_scratchpad: false,
            self_label: SelfLabelSection::default(),
        }
    }
}

impl Default for SelfLabelSection {
    fn default() -> Self {
        SelfLabelSection { agreement: 0.0, length_filter: false }
    }
}

impl Default for ReplaySection {
    fn default() -> Self {
        ReplaySection { window: 5000 }
    }
}

impl Default for LearnSection {
    fn default() -> Self {
        LearnSection { steps: 100, value_target_mix: 0.0 }
    }
}

impl Default for CurriculumSection {
    fn default() -> Self {
        CurriculumSection {
            enabled: true,
            promote_at: 0.9,
            replay_easier: 0.25,
            start_level: 0,
            promote_every: 0,
        }
    }
}

impl Default for EvalSection {
    fn default() -> Self {
        EvalSection {
            every: 1,
            search: SearchConfig::puct(64),
            decoder: Decoder::Greedy,
            games: 40,
            mcts_opponents: vec![100],
            rollout_mix: 0.0,
            rollouts: 1,
            positions: 0,
            tasks: 0,
            gating: None,
            task_search: None,
            system2: true,
            by_length: false,
        }
    }
}

impl ExperimentConfig {
    /// Reads `path`, applies `--set key=value` overrides, and validates. Errors name the file and
    /// the key.
    pub fn load(path: &Path, overrides: &[String]) -> Result<Self> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
        Self::parse(&text, overrides).with_context(|| format!("in {}", path.display()))
    }

    /// Parses TOML text with overrides.
    pub fn parse(text: &str, overrides: &[String]) -> Result<Self> {
        let mut user: toml::Value = toml::from_str(text).map_err(|e| anyhow::anyhow!("{e}"))?;
        for o in overrides {
            apply_override(&mut user, o)?;
        }
        // The file is a diff over the defaults: merge it into them key by key, so that a partial
        // table (`[selfplay.search] simulations = 32`) keeps every other default of its section.
        let mut value = toml::Value::try_from(ExperimentConfig::default()).expect("the defaults serialize");
        merge(&mut value, user);
        let cfg: ExperimentConfig = value.try_into().map_err(|e: toml::de::Error| anyhow::anyhow!("{e}"))?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Checks ranges and combinations; the error names the field.
    pub fn validate(&self) -> Result<()> {
        let env: ponder_env::AnyEnv = self.env.parse().map_err(|e| anyhow::anyhow!("field `env`: {e}"))?;
        let m = &self.model;
        if m.d_model == 0 || m.n_layer == 0 || m.n_head == 0 || m.d_model % m.n_head != 0 {
            bail!(
                "field `model`: d_model ({}) must be a positive multiple of n_head ({}), with n_layer > 0",
                m.d_model,
                m.n_head
            );
        }
        if m.block_size < 8 {
            bail!("field `model.block_size` must be at least 8 (got {})", m.block_size);
        }
        check_search("selfplay.search", &self.selfplay.search)?;
        check_search("eval.search", &self.eval.search)?;
        if self.selfplay.episodes == 0 || self.selfplay.batch == 0 {
            bail!("fields `selfplay.episodes` and `selfplay.batch` must be positive");
        }
        if self.selfplay.targets == Targets::PolicyGradient {
            if env.kind() != ponder_env::Kind::Game {
                bail!(
                    "field `selfplay.targets`: policy_gradient plays self-play games; {} is a task",
                    self.env
                );
            }
            if self.learn.value_target_mix != 0.0 {
                bail!(
                    "field `learn.value_target_mix` must be 0 with `selfplay.targets = \"policy_gradient\"`: \
                     without search there is no search value to mix (got {})",
                    self.learn.value_target_mix
                );
            }
        }
        if self.replay.window == 0 {
            bail!("field `replay.window` must be positive");
        }
        self.train.validate().map_err(|e| anyhow::anyhow!("section `train`: {e}"))?;
        if !(self.train.lr > 0.0 && self.train.lr < 1.0) {
            bail!("field `train.lr` must be in (0, 1) (got {})", self.train.lr);
        }
        if !(0.0..=1.0).contains(&self.learn.value_target_mix) {
            bail!("field `learn.value_target_mix` must be in [0, 1] (got {})", self.learn.value_target_mix);
        }
        if !(0.0..=1.0).contains(&self.curriculum.promote_at)
            || !(0.0..=1.0).contains(&self.curriculum.replay_easier)
        {
            bail!("fields `curriculum.promote_at` and `curriculum.replay_easier` must be in [0, 1]");
        }
        if self.eval.every == 0 {
            bail!("field `eval.every` must be at least 1");
        }
        let is_game = env.kind() == ponder_env::Kind::Game;
        for (section, mix, rollouts) in [
            ("selfplay", self.selfplay.rollout_mix, self.selfplay.rollouts),
            ("eval", self.eval.rollout_mix, self.eval.rollouts),
        ] {
            if !(0.0..=1.0).contains(&mix) {
                bail!("field `{section}.rollout_mix` must be a weight in [0, 1] (got {mix})");
            }
            if rollouts == 0 {
                bail!("field `{section}.rollouts` must be at least 1 (playouts per leaf)");
            }
            if !is_game && mix > 0.0 {
                bail!("field `{section}.rollout_mix` is for games: a task's playout has no score");
            }
        }
        if let Some(g) = self.eval.gating {
            if !(0.0..=1.0).contains(&g) {
                bail!("field `eval.gating` must be a win share in [0, 1] (got {g})");
            }
        }
        super::math_loops::validate(self, &env)?;
        self.validate_task_search(&env)
    }

    /// The whole-task searches: valid knobs, tasks only, and a proposer only for verified targets.
    fn validate_task_search(&self, env: &ponder_env::AnyEnv) -> Result<()> {
        let is_game = env.kind() == ponder_env::Kind::Game;
        for (field, ts) in [
            ("selfplay.task_search", &self.selfplay.task_search),
            ("eval.task_search", &self.eval.task_search),
        ] {
            let Some(ts) = ts else { continue };
            ts.validate(field).map_err(|e| anyhow::anyhow!("{e}"))?;
            if is_game {
                bail!("field `{field}` searches whole answers to tasks; {} is a game", self.env);
            }
        }
        if self.selfplay.task_search.is_some() && self.selfplay.targets != Targets::Verified {
            bail!(
                "field `selfplay.task_search` proposes answers for `selfplay.targets = \"verified\"` (got {:?})",
                self.selfplay.targets
            );
        }
        if self.selfplay.task_search.is_some() && self.selfplay.rationalize {
            bail!("field `selfplay.rationalize` retries the sampler's failures; `selfplay.task_search` has none");
        }
        Ok(())
    }

    /// The config as TOML (what `config.resolved.toml` holds).
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).expect("the config serializes")
    }
}

fn check_search(field: &str, s: &SearchConfig) -> Result<()> {
    match &s.algorithm {
        Algorithm::Puct { c_puct, root_noise, .. } => {
            if *c_puct <= 0.0 {
                bail!("field `{field}.algorithm.c_puct` must be positive");
            }
            if let RootNoise::Dirichlet { alpha, weight } = root_noise {
                if *alpha <= 0.0 || !(0.0..=1.0).contains(weight) {
                    bail!(
                        "field `{field}.algorithm.root_noise`: alpha must be positive and weight in [0, 1]"
                    );
                }
            }
        }
        Algorithm::Uct { c } => {
            if *c < 0.0 {
                bail!("field `{field}.algorithm.c` must be non-negative");
            }
        }
        Algorithm::Gumbel { max_considered, c_visit, c_scale, gumbel_scale } => {
            if *max_considered == 0 || *c_visit < 0.0 || *c_scale <= 0.0 || *gumbel_scale < 0.0 {
                bail!("field `{field}.algorithm`: max_considered and c_scale must be positive, c_visit and gumbel_scale non-negative");
            }
        }
    }
    Ok(())
}

/// Applies one `key.path=value` override; the value is read as TOML (`3`, `true`, `"x"`,
/// `[1, 2]`), or as a string if it is not valid TOML.
fn apply_override(root: &mut toml::Value, o: &str) -> Result<()> {
    let (key, raw) = o.split_once('=').with_context(|| format!("--set {o:?}: expected key=value"))?;
    let key = key.trim();
    let value: toml::Value = toml::from_str::<toml::Table>(&format!("v = {raw}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(raw.trim().to_string()));
    let mut node = root;
    let parts: Vec<&str> = key.split('.').collect();
    for (i, part) in parts.iter().enumerate() {
        let table = node
            .as_table_mut()
            .with_context(|| format!("--set {key}: {} is not a table", parts[..i].join(".")))?;
        if i + 1 == parts.len() {
            table.insert(part.to_string(), value);
            return Ok(());
        }
        node = table.entry(part.to_string()).or_insert_with(|| toml::Value::Table(toml::Table::new()));
    }
    bail!("--set {o:?}: empty key")
}

/// Merges `over` into `base`, table by table. A table whose `kind` differs from the base's (an
/// enum variant: `algorithm = { kind = "gumbel", ... }`) replaces the base table whole.
fn merge(base: &mut toml::Value, over: toml::Value) {
    match (base, over) {
        (toml::Value::Table(b), toml::Value::Table(o)) => {
            let same_kind = match (b.get("kind"), o.get("kind")) {
                (Some(x), Some(y)) => x == y,
                _ => true,
            };
            if !same_kind {
                *b = o;
                return;
            }
            for (k, v) in o {
                match b.get_mut(&k) {
                    Some(slot) => merge(slot, v),
                    None => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (b, o) => *b = o,
    }
}
