//! The commands that look at a policy from the outside: `eval`, `compare`, `gtp`, `play`, `tree`.
//!
//! Each command is one file: its flags (a clap `Args` struct whose doc is its `--help`) and a
//! `run` function. They share what is here: loading a checkpoint and checking it against the
//! `--env` flag, the games `gtp` and `play` speak, the [`agent`] that picks their moves, and the
//! System 1 / System 2 switch.
//!
//! Errors name the flag, the file and the line at fault (`--tasks t.jsonl line 3: ...`); the
//! binary prints them and exits non-zero.

pub mod agent;
pub mod compare;
pub mod eval;
pub mod gtp;
pub mod play;
pub mod players;
pub mod session;
pub mod tree;

use std::path::Path;

use anyhow::{anyhow, bail, Context, Result};
use ponder_env::AnyEnv;

use crate::model::{checkpoint, CheckpointMeta, Policy};

/// AlphaGo's leaf evaluation for a System 2 agent over a checkpoint (`gtp`, `play`).
#[derive(Debug, Clone, clap::Args)]
pub struct MixArgs {
    /// Mix the value head's leaf values with random playouts at this weight,
    /// (1 - w) v + w z, as AlphaGo did with w = 0.5; 0 trusts the value head alone.
    #[arg(long, default_value_t = 0.0, value_name = "W")]
    pub rollout_mix: f32,
    /// Random playouts per evaluated leaf when --rollout-mix is above 0.
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub rollouts: u32,
}

/// Fast or deliberate: the policy alone, or a search over it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Mode {
    /// The policy alone: greedy decoding for tasks, the most probable move in games.
    System1,
    /// A search over the policy (and its value head) at every decision.
    System2,
}

/// The System 2 search algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Algo {
    /// AlphaZero's PUCT, no root noise.
    Puct,
    /// Gumbel AlphaZero (sequential halving at the root), deterministic (no Gumbel noise).
    Gumbel,
}

impl std::fmt::Display for Algo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Algo::Puct => "PUCT",
            Algo::Gumbel => "Gumbel",
        })
    }
}

impl Algo {
    /// The evaluation-time search config with `simulations` per decision.
    pub fn config(self, simulations: u32) -> crate::search::SearchConfig {
        match self {
            Algo::Puct => crate::search::SearchConfig::puct(simulations),
            Algo::Gumbel => crate::search::SearchConfig::gumbel(simulations, 0.0),
        }
    }
}

/// Loads `--checkpoint DIR`; the error names the flag and the file at fault.
pub fn load_checkpoint(dir: &Path) -> Result<(Policy, CheckpointMeta)> {
    checkpoint::load_policy(dir).map_err(|e| anyhow!("--checkpoint: {e}"))
}

/// The family of an environment spec: its name without parameters (`hex` for `hex:size=5`).
pub fn family(spec: &str) -> &str {
    spec.split_once(':').map_or(spec, |(name, _)| name).trim()
}

/// Parses `--env` (or, without it, the checkpoint's own environment) and checks that it is the
/// family the checkpoint was trained on. Parameters may differ (more digits, another board size):
/// that is how generalisation is measured.
pub fn resolve_env(flag: Option<&str>, meta: &CheckpointMeta) -> Result<AnyEnv> {
    let text = flag.unwrap_or(&meta.env);
    let env: AnyEnv = text.parse().map_err(|e| anyhow!("--env {text:?}: {e}"))?;
    let (want, got) = (family(&meta.env), family(&env.spec()).to_string());
    if want != got {
        bail!(
            "--env {}: the checkpoint was trained on {} (family {want:?}), not on the {got:?} family",
            env.spec(),
            meta.env
        );
    }
    Ok(env)
}

/// Parses an environment flag such as `--env` on its own (commands that may run without a
/// checkpoint).
pub fn parse_env(flag: &str, text: &str) -> Result<AnyEnv> {
    text.parse().map_err(|e| anyhow!("{flag} {text:?}: {e}"))
}

/// Parses a comma-separated list of positive budgets (`1,4,16,64,256`).
pub fn parse_budgets(text: &str) -> Result<Vec<u32>> {
    let mut out = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let b: u32 = part
            .parse()
            .ok()
            .filter(|&b| b > 0)
            .with_context(|| format!("--budgets {text:?}: {part:?} is not a positive integer"))?;
        if !out.contains(&b) {
            out.push(b);
        }
    }
    if out.is_empty() {
        bail!("--budgets {text:?}: give at least one budget, e.g. 1,4,16,64");
    }
    out.sort_unstable();
    Ok(out)
}

/// The Wilson 95% interval of `k` successes in `n` trials: (rate, low, high).
pub fn wilson(k: usize, n: usize) -> (f64, f64, f64) {
    if n == 0 {
        return (0.0, 0.0, 0.0);
    }
    let (k, n) = (k as f64, n as f64);
    let p = k / n;
    let z = 1.96f64;
    let denom = 1.0 + z * z / n;
    let centre = (p + z * z / (2.0 * n)) / denom;
    let half = z * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt() / denom;
    (p, (centre - half).max(0.0), (centre + half).min(1.0))
}

/// Maps `f` over chunks of `items` in parallel on rayon's pool, in order; `f` gets each chunk's
/// offset in `items` (to seed its draws the same however the work is split).
pub fn par_chunks<T: Sync, R: Send>(
    items: &[T],
    chunk: usize,
    f: impl Fn(usize, &[T]) -> Vec<R> + Sync,
) -> Vec<R> {
    use rayon::prelude::*;
    let chunk = chunk.max(1);
    let parts: Vec<Vec<R>> =
        items.par_chunks(chunk).enumerate().map(|(i, part)| f(i * chunk, part)).collect();
    parts.into_iter().flatten().collect()
}
