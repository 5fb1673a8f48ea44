//! The narrow interface through which every decoder and search sees a model.
//!
//! An [`Evaluator`] answers for a *batch* of states at once: priors over each state's legal next
//! tokens, and a value. The search never sees more of the model than this (as mctx's `root_fn` /
//! `recurrent_fn`), so every search is tested with the [`Uniform`] and rollout evaluators and no
//! model at all.
//!
//! ## The cache lives on the tree
//!
//! A state is a token prefix and a child extends its parent (DESIGN.md). Each [`Leaf`] names the
//! cache of its nearest evaluated ancestor ([`Leaf::parent`]); a model keeps the keys and values
//! of that ancestor's positions and computes only the new ones. The evaluator returns a new
//! [`CacheId`] for every leaf asked to `keep` one, and the search hands caches back through
//! [`Evaluator::release`] when it discards the nodes that held them.

use ponder_env::{State, Token};

/// A handle to the key/value cache of one evaluated state, owned by the evaluator.
pub type CacheId = u32;

/// "No cache": the state is evaluated from its first token.
pub const NO_CACHE: CacheId = u32::MAX;

/// One state to evaluate.
#[derive(Debug)]
pub struct Leaf<'a, S> {
    /// The state (its tokens, and for rollouts the rules).
    pub state: &'a S,
    /// Its legal next tokens, sorted; the priors come back in this order. Empty at a terminal
    /// state whose value only the model can judge (an addition answer, finished).
    pub legal: &'a [Token],
    /// The cache of an ancestor whose tokens are a prefix of `state.tokens()`, or [`NO_CACHE`].
    pub parent: CacheId,
    /// Whether to keep a cache for this state (the caller will extend it).
    pub keep: bool,
}

/// What an evaluator answers for a batch, in flat buffers reused across calls.
#[derive(Debug, Default, Clone)]
pub struct Evaluations {
    /// Priors over each leaf's legal tokens, concatenated in leaf order (each leaf's slice sums
    /// to 1; a leaf with no legal tokens has an empty slice).
    pub priors: Vec<f32>,
    /// One value per leaf, for the player to move there: in [-1, 1] for games, the expected
    /// reward in [0, 1] for tasks.
    pub values: Vec<f32>,
    /// One cache per leaf ([`NO_CACHE`] where none was kept).
    pub caches: Vec<CacheId>,
    /// Model forward positions (tokens) computed for each leaf: the compute it cost.
    pub positions: Vec<u32>,
}

impl Evaluations {
    /// Empties the buffers, keeping their capacity.
    pub fn clear(&mut self) {
        self.priors.clear();
        self.values.clear();
        self.caches.clear();
        self.positions.clear();
    }

    /// Leaf `i`'s priors, given the legal-action counts of the batch's leaves.
    pub fn priors_of<'a, S>(&'a self, leaves: &[Leaf<'_, S>], i: usize) -> &'a [f32] {
        let start: usize = leaves[..i].iter().map(|l| l.legal.len()).sum();
        &self.priors[start..start + leaves[i].legal.len()]
    }
}

/// A model (or a stand-in) that evaluates batches of states.
pub trait Evaluator<S: State> {
    /// Evaluates `leaves`, clearing `out` and filling it in leaf order.
    fn evaluate(&mut self, leaves: &[Leaf<'_, S>], out: &mut Evaluations);

    /// The search no longer needs these caches (their nodes were discarded).
    fn release(&mut self, _caches: &[CacheId]) {}

    /// Whether [`Evaluations::values`] come from a learned value (a model) rather than a
    /// playout or a constant; searches use it to decide how far to trust leaf values.
    fn learned(&self) -> bool {
        false
    }
}

impl<S: State, E: Evaluator<S> + ?Sized> Evaluator<S> for &mut E {
    fn evaluate(&mut self, leaves: &[Leaf<'_, S>], out: &mut Evaluations) {
        (**self).evaluate(leaves, out)
    }
    fn release(&mut self, caches: &[CacheId]) {
        (**self).release(caches)
    }
    fn learned(&self) -> bool {
        (**self).learned()
    }
}

/// Uniform priors and a constant value (0 for games, `task_value` for tasks): search with no
/// knowledge, for tests and as the weakest baseline.
#[derive(Debug, Clone, Copy, Default)]
pub struct Uniform {
    /// The value reported for every non-terminal state.
    pub value: f32,
}

impl<S: State> Evaluator<S> for Uniform {
    fn evaluate(&mut self, leaves: &[Leaf<'_, S>], out: &mut Evaluations) {
        out.clear();
        for leaf in leaves {
            let n = leaf.legal.len();
            out.priors.extend(std::iter::repeat_n(1.0 / n as f32, n));
            out.values.push(self.value);
            out.caches.push(NO_CACHE);
            out.positions.push(0);
        }
    }
}
