//! The player behind `gtp`, `play` and `tree`: rollout MCTS without a checkpoint; with one, the
//! policy alone (System 1: its most probable move) or a search over it (System 2).

use anyhow::{bail, Result};
use ponder_env::{State, Token};

use super::{Algo, Mode};
use crate::eval::games;
use crate::model::{Policy, PolicyEvaluator};
use crate::search::{mcts, CacheId, Evaluations, Evaluator, Leaf, Mixed, Rollout, Search, SearchConfig};

/// Rollout MCTS's default budget in `gtp` and `play`: strong at tic-tac-toe, quick everywhere.
pub const ROLLOUT_BUDGET: u32 = 1000;
/// System 2's default budget with a checkpoint: simulations per decision.
pub const POLICY_BUDGET: u32 = 64;

/// What evaluates the search's leaves: random playouts, or the policy network.
pub enum Brain {
    /// Uniform priors, the value of one random playout (OpenSpiel's `RandomRolloutEvaluator`).
    Rollout(Box<Rollout>),
    /// The checkpoint's policy and value heads.
    Policy(Box<PolicyEvaluator>),
    /// The policy's priors, its value mixed with random playouts (AlphaGo's leaf evaluation).
    Mixed(Box<Mixed<PolicyEvaluator>>),
}

impl<S: State> Evaluator<S> for Brain {
    fn evaluate(&mut self, leaves: &[Leaf<'_, S>], out: &mut Evaluations) {
        match self {
            Brain::Rollout(r) => r.as_mut().evaluate(leaves, out),
            Brain::Policy(p) => p.evaluate(leaves, out),
            Brain::Mixed(m) => m.evaluate(leaves, out),
        }
    }
    fn release(&mut self, caches: &[CacheId]) {
        match self {
            Brain::Rollout(_) => {}
            Brain::Policy(p) => Evaluator::<S>::release(p.as_mut(), caches),
            Brain::Mixed(m) => Evaluator::<S>::release(&mut m.inner, caches),
        }
    }
    fn learned(&self) -> bool {
        !matches!(self, Brain::Rollout(_))
    }
}

/// A player: a brain, the search it runs at every decision, and a seed for its draws.
pub struct Agent {
    pub brain: Brain,
    pub cfg: SearchConfig,
    seed: u64,
    searches: u64,
    label: String,
}

impl Agent {
    /// Rollout MCTS with `budget` simulations (default [`ROLLOUT_BUDGET`]) when `policy` is
    /// None; otherwise the policy in `mode`, System 2 with `budget` (default [`POLICY_BUDGET`])
    /// simulations of `algo`.
    pub fn new(
        policy: Option<Policy>,
        mode: Mode,
        algo: Algo,
        budget: Option<u32>,
        seed: u64,
    ) -> Result<Self> {
        let (brain, cfg, label) = match (policy, mode) {
            (None, Mode::System1) => {
                bail!("--mode system1 needs --checkpoint (without one the engine plays rollout MCTS)")
            }
            (None, Mode::System2) => {
                let sims = budget.unwrap_or(ROLLOUT_BUDGET);
                let p = games::rollout_mcts(sims, true, seed);
                (Brain::Rollout(Box::new(p.ev)), p.cfg, format!("rollout MCTS, {sims} simulations"))
            }
            (Some(policy), Mode::System1) => (
                Brain::Policy(Box::new(policy.evaluator())),
                SearchConfig::puct(0),
                "policy, System 1 (most probable move)".into(),
            ),
            (Some(policy), Mode::System2) => {
                let sims = budget.unwrap_or(POLICY_BUDGET);
                let label = format!("policy, System 2 ({algo}, {sims} simulations)");
                (Brain::Policy(Box::new(policy.evaluator())), algo.config(sims), label)
            }
        };
        if cfg.simulations == 0 && matches!(brain, Brain::Rollout(_)) {
            bail!("--budget 0: rollout MCTS needs at least one simulation");
        }
        Ok(Agent { brain, cfg, seed, searches: 0, label })
    }

    /// Mixes the policy's leaf values with `rollouts` random playouts per leaf at weight
    /// `lambda` (AlphaGo's `(1 - lambda) v + lambda z`); `lambda` 0 leaves the agent as it is.
    /// Only a System 2 agent with a checkpoint has leaf values to mix.
    pub fn with_rollout_mix(mut self, lambda: f32, rollouts: u32) -> Result<Self> {
        if !(0.0..=1.0).contains(&lambda) {
            bail!("--rollout-mix {lambda}: give a weight between 0 and 1 (AlphaGo used 0.5)");
        }
        if rollouts == 0 {
            bail!("--rollouts 0: a mixed leaf value needs at least one playout per leaf");
        }
        if lambda == 0.0 {
            return Ok(self);
        }
        let brain = std::mem::replace(&mut self.brain, Brain::Rollout(Box::new(Rollout::new(0))));
        match brain {
            Brain::Policy(p) if self.cfg.simulations > 0 => {
                let mut m = Mixed::new(*p, lambda, self.seed ^ 0x6a09_e667_f3bc_c908);
                m.rollout.rollouts = rollouts;
                self.label = format!("{}, leaf values mixed with playouts at {lambda}", self.label);
                self.brain = Brain::Mixed(Box::new(m));
                Ok(self)
            }
            Brain::Policy(_) => bail!("--rollout-mix needs --mode system2: System 1 evaluates no leaves"),
            _ => bail!("--rollout-mix needs --checkpoint: rollout MCTS's leaf values are all playouts"),
        }
    }

    /// What this agent is, for `name`-like messages: "rollout MCTS, 1000 simulations".
    pub fn describe(&self) -> &str {
        &self.label
    }

    /// Runs one search from `state` (two-player if `two_player`) and hands the model's caches
    /// back; the returned search keeps its tree for display.
    ///
    /// # Panics
    /// If `state` is terminal: callers check first.
    pub fn search<S: State>(&mut self, state: &S, two_player: bool) -> Search<S> {
        assert!(!state.is_terminal(), "search from a finished game");
        self.searches += 1;
        let seed = self.seed.wrapping_add(self.searches.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let mut s = Search::new(state.clone(), two_player, seed);
        mcts::run(std::slice::from_mut(&mut s), &mut self.brain, &self.cfg);
        s.release_all(&mut self.brain);
        s
    }

    /// The agent's move in a game position, and the search that chose it.
    pub fn choose<S: State>(&mut self, state: &S) -> (Token, Search<S>) {
        let mut s = self.search(state, true);
        let r = s.result(&self.cfg, 0.0);
        (r.action, s)
    }
}
