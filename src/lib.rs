//! # Ponder: self-improving reasoning by tree search over a language-model policy
//!
//! A small decoder-only transformer reads any environment's state as a token prefix and writes
//! its action as tokens (System 1). A tree search over the same policy (System 2) finds better
//! answers; environments whose outcomes a program checks exactly say what "better" is; the
//! search's results become training data, iteration after iteration, with no human labels.
//!
//! ## The principal types, in the order data flows through them
//!
//! - [`env`] (the `ponder-env` crate, no ML dependency): [`env::AnyEnv`] parses an environment
//!   spec (`hex:size=5`); an [`env::Env`] makes tasks and grades answers against the ground truth, and a
//!   [`env::State`] exposes only the rules (legal tokens, terminal results). A search holds a state.
//! - [`search`]: the [`search::Evaluator`] interface (batched priors and values, with the model's
//!   key/value cache on the tree), the arena [`search::tree`], System 1 decoders
//!   ([`search::system1`]) and System 2 searches ([`search::mcts`]: PUCT, Gumbel, UCT; whole-task
//!   searches in [`search::steps`] and [`search::enumerate`]), each reporting the
//!   [`search::Compute`] it spent.
//! - [`model`]: the [`model::Tokenizer`], the burn transformer [`model::Gpt`], its weights as a
//!   shared [`model::Policy`], the tree-cached CPU [`model::PolicyEvaluator`], checkpoints.
//! - [`selfplay`]: actors turn searches into [`selfplay::Episode`]s (prompt, per-step targets,
//!   outcome, compute), kept in a [`selfplay::ReplayBuffer`].
//! - [`train`]: the [`train::Learner`] turns batches of [`train::Example`]s into AdamW steps.
//! - [`eval`]: accuracy against compute for tasks; matches and the optimal-move rate against exact
//!   solvers for games.
//! - [`experiment`]: one TOML file parsed into an [`experiment::ExperimentConfig`]; [`experiment::run`]
//!   loops generate → store → learn → evaluate, writing `metrics.csv`, plots, `report.md` and
//!   checkpoints atomically, and resumes where it stopped.
//! - [`cli`]: `eval`, `compare`, `gtp`, `play`, `tree` — a policy seen from the outside.

pub use ponder_env as env;

pub mod cli;
pub mod eval;
pub mod experiment;
pub mod model;
pub mod search;
pub mod selfplay;
pub mod train;
