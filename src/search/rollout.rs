//! The classic MCTS evaluator: uniform priors, and a value from random playouts to the end.
//! It is the baseline opponent ("rollout MCTS", as OpenSpiel's `RandomRolloutEvaluator`) and
//! a model-free evaluator for testing searches.

use ponder_env::{State, Token};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::evaluator::{Evaluations, Evaluator, Leaf, NO_CACHE};

/// Uniform priors; value = the mean result of `rollouts` random playouts.
#[derive(Debug, Clone)]
pub struct Rollout {
    /// Playouts per evaluated leaf.
    pub rollouts: u32,
    /// The value reported when the rules cannot score a finished task (addition): no knowledge.
    pub unknown: f32,
    rng: ChaCha8Rng,
    legal: Vec<Token>,
}

impl Rollout {
    /// One playout per leaf, seeded.
    pub fn new(seed: u64) -> Self {
        Rollout {
            rollouts: 1,
            unknown: 0.0,
            rng: ChaCha8Rng::seed_from_u64(seed),
            legal: Vec::with_capacity(128),
        }
    }

    /// The result of one random playout from `state`, for `viewer` (first player's view is 0).
    pub fn playout<S: State>(&mut self, state: &S, viewer: usize) -> f32 {
        let mut s = state.clone();
        loop {
            s.legal_actions(&mut self.legal);
            if self.legal.is_empty() {
                break;
            }
            let a = self.legal[self.rng.random_range(0..self.legal.len())];
            s.apply(a);
        }
        match s.rules_value() {
            Some(v) if viewer == 1 => -v,
            Some(v) => v,
            None => self.unknown,
        }
    }
}

impl Rollout {
    /// The mean result of `rollouts` playouts from `state`, for the player to move there.
    pub fn mean_playout<S: State>(&mut self, state: &S) -> f32 {
        let viewer = state.to_play();
        let mut total = 0.0;
        for _ in 0..self.rollouts {
            total += self.playout(state, viewer);
        }
        total / self.rollouts.max(1) as f32
    }
}

impl<S: State> Evaluator<S> for Rollout {
    fn evaluate(&mut self, leaves: &[Leaf<'_, S>], out: &mut Evaluations) {
        out.clear();
        for leaf in leaves {
            let n = leaf.legal.len();
            out.priors.extend(std::iter::repeat_n(1.0 / n as f32, n));
            out.values.push(self.mean_playout(leaf.state));
            out.caches.push(NO_CACHE);
            out.positions.push(0);
        }
    }
}

/// AlphaGo's leaf evaluation (Silver et al. 2016): another evaluator's priors, and a value that
/// mixes its value with random playouts, `(1 - lambda) v + lambda z`. AlphaGo used lambda = 0.5:
/// the playouts check the value head's judgement of a position against the rules, which helps
/// most where the value head is weak. Playouts consult only the rules, never ground truth.
#[derive(Debug, Clone)]
pub struct Mixed<E> {
    /// The evaluator that supplies priors and the learned value (a model).
    pub inner: E,
    /// The weight of the playouts' mean, in [0, 1].
    pub lambda: f32,
    /// The playouts (`rollout.rollouts` per leaf).
    pub rollout: Rollout,
}

impl<E> Mixed<E> {
    /// Mixes `inner`'s values with one seeded playout per leaf at weight `lambda`.
    ///
    /// # Panics
    /// If `lambda` is outside [0, 1] (callers validate user input first).
    pub fn new(inner: E, lambda: f32, seed: u64) -> Self {
        assert!((0.0..=1.0).contains(&lambda), "rollout mix {lambda} is outside [0, 1]");
        Mixed { inner, lambda, rollout: Rollout::new(seed) }
    }
}

impl<S: State, E: Evaluator<S>> Evaluator<S> for Mixed<E> {
    fn evaluate(&mut self, leaves: &[Leaf<'_, S>], out: &mut Evaluations) {
        self.inner.evaluate(leaves, out);
        if self.lambda == 0.0 {
            return;
        }
        for (leaf, v) in leaves.iter().zip(out.values.iter_mut()) {
            *v = (1.0 - self.lambda) * *v + self.lambda * self.rollout.mean_playout(leaf.state);
        }
    }
    fn release(&mut self, caches: &[super::evaluator::CacheId]) {
        self.inner.release(caches)
    }
    fn learned(&self) -> bool {
        self.inner.learned()
    }
}
