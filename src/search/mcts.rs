//! System 2: AlphaZero's PUCT search and Gumbel AlphaZero, over many trees in lockstep.
//!
//! Every simulation step selects one leaf in each tree and evaluates all of them in a single
//! batched [`Evaluator`] call (as mctx does), so a model runs at the batch size of the number of
//! trees: 64–256 self-play games or test tasks at once, instead of 1.
//!
//! A [`Search`] owns one tree and the random generator of its game or task, so its choices do not
//! depend on which other searches share its batches.

use std::time::Instant;

use ponder_env::{State, Token};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Gamma};
use serde::{Deserialize, Serialize};

use super::compute::Compute;
use super::evaluator::{CacheId, Evaluations, Evaluator, Leaf};
use super::select;
use super::tree::{NodeId, Tree};

/// How a search spends its simulations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Algorithm {
    /// AlphaZero: PUCT with priors, optional Dirichlet noise at the root, first-play urgency.
    Puct {
        /// Exploration constant of PUCT.
        c_puct: f32,
        /// The value assumed for unvisited children.
        fpu: Fpu,
        /// Noise mixed into the root priors (self-play only).
        root_noise: RootNoise,
    },
    /// Classic UCT (Kocsis and Szepesvari 2006): `Q + c sqrt(ln N / n)`, unvisited children
    /// first, priors ignored. With a [`Rollout`](super::Rollout) evaluator this is the
    /// traditional MCTS baseline (OpenSpiel's `MCTSBot`).
    Uct {
        /// Exploration constant (OpenSpiel's examples use 2).
        c: f32,
    },
    /// Gumbel AlphaZero (Danihelka et al. 2022): Gumbel-Top-k at the root with Sequential
    /// Halving, completed-Q policy targets; improves the policy even with 2 simulations.
    Gumbel {
        /// Actions considered at the root (m in the paper).
        max_considered: u32,
        /// sigma(q) = (c_visit + max visits) * c_scale * q.
        c_visit: f32,
        c_scale: f32,
        /// 1 for self-play (sampling without replacement), 0 for deterministic evaluation.
        gumbel_scale: f32,
    },
}

/// First-play urgency: the Q an unvisited child is assumed to have.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Fpu {
    /// A fixed value (AlphaZero used 0, a draw, for games).
    Value { value: f32 },
    /// The parent's value minus a reduction (Leela Zero, KataGo).
    ParentMinus { reduction: f32 },
}

/// Noise mixed into the root priors so self-play explores.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum RootNoise {
    None,
    /// `p <- (1 - weight) p + weight Dir(alpha)`.
    Dirichlet {
        alpha: f32,
        weight: f32,
    },
}

/// A search's knobs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchConfig {
    /// New simulations per search call.
    pub simulations: u32,
    pub algorithm: Algorithm,
    /// A node whose state has a single legal action is extended through it at once, so a forced
    /// run of tokens costs one node and one model call (the rest of `8/8=1 (left: 1 4 7)`).
    pub collapse_forced: bool,
}

impl SearchConfig {
    /// AlphaZero's PUCT with a given budget, no noise (evaluation settings).
    pub fn puct(simulations: u32) -> Self {
        SearchConfig {
            simulations,
            algorithm: Algorithm::Puct {
                c_puct: 1.25,
                fpu: Fpu::ParentMinus { reduction: 0.0 },
                root_noise: RootNoise::None,
            },
            collapse_forced: true,
        }
    }

    /// Gumbel AlphaZero with mctx's defaults (m = 16, c_visit = 50, c_scale = 1).
    pub fn gumbel(simulations: u32, gumbel_scale: f32) -> Self {
        SearchConfig {
            simulations,
            algorithm: Algorithm::Gumbel { max_considered: 16, c_visit: 50.0, c_scale: 1.0, gumbel_scale },
            collapse_forced: true,
        }
    }
}

/// What a finished search recommends.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchResult {
    /// The action to play.
    pub action: Token,
    /// The improved policy, the training target: visit counts (PUCT) or Gumbel's completed-Q
    /// policy, over the root's legal actions.
    pub target: Vec<(Token, f32)>,
    /// The root value for the player to move.
    pub value: f32,
    /// What this search spent since it was created or last advanced.
    pub compute: Compute,
}

/// One tree, its random generator and its accounts.
#[derive(Debug, Clone)]
pub struct Search<S> {
    pub tree: Tree<S>,
    rng: ChaCha8Rng,
    /// Gumbel noise per root child (empty until drawn).
    gumbel: Vec<f32>,
    noised: bool,
    /// Simulations since the root last changed.
    sims: u32,
    compute: Compute,
    legal: Vec<Token>,
}

impl<S: State> Search<S> {
    /// A search from `root`; `seed` fixes all of its random draws.
    pub fn new(root: S, two_player: bool, seed: u64) -> Self {
        Search {
            tree: Tree::with_capacity(root, two_player, 256),
            rng: ChaCha8Rng::seed_from_u64(seed),
            gumbel: Vec::new(),
            noised: false,
            sims: 0,
            compute: Compute::default(),
            legal: Vec::with_capacity(64),
        }
    }

    /// The state at the root.
    pub fn state(&self) -> &S {
        self.tree.root_state()
    }

    /// What was spent since the root last changed.
    pub fn compute(&self) -> Compute {
        self.compute
    }

    /// Plays `action` at the root. With `reuse`, the child's subtree becomes the new tree
    /// (AlphaZero's subtree reuse); otherwise the tree starts afresh. The caches of discarded
    /// nodes go back to `ev`.
    pub fn advance<E: Evaluator<S> + ?Sized>(&mut self, action: Token, reuse: bool, ev: &mut E) {
        let child = self.tree.child_by_action(NodeId::ROOT, action);
        let released = match child {
            Some(c) if reuse && self.tree.is_materialized(c) => self.tree.reroot(c),
            _ => {
                let mut s = self.state().clone();
                s.apply(action);
                let released = self.tree.caches();
                self.tree = Tree::with_capacity(s, self.tree.two_player(), 256);
                released
            }
        };
        ev.release(&released);
        self.gumbel.clear();
        self.noised = false;
        self.sims = 0;
        self.compute = Compute::default();
    }

    /// Hands every cache back to `ev` (call when the search is done).
    pub fn release_all<E: Evaluator<S> + ?Sized>(&mut self, ev: &mut E) {
        ev.release(&self.tree.caches());
    }

    /// The recommended action and training target after a search with `cfg`. With PUCT,
    /// `temperature` > 0 samples the action from visits^(1/temperature); 0 takes the most visited.
    pub fn result(&mut self, cfg: &SearchConfig, temperature: f32) -> SearchResult {
        let t = &self.tree;
        let root = NodeId::ROOT;
        let children: Vec<NodeId> = t.children(root).collect();
        assert!(!children.is_empty(), "result() needs a searched, non-terminal root");
        let (action, target) = match &cfg.algorithm {
            Algorithm::Puct { .. } | Algorithm::Uct { .. } => {
                let total: u32 = children.iter().map(|&c| t.visits(c)).sum();
                let target: Vec<(Token, f32)> = children
                    .iter()
                    .map(|&c| {
                        (t.action(c), if total > 0 { t.visits(c) as f32 / total as f32 } else { t.prior(c) })
                    })
                    .collect();
                // With no simulations (System 1 through the search API) the prior decides.
                let pick = if total == 0 {
                    select::by_prior_temperature(t, &children, temperature, &mut self.rng)
                } else {
                    select::by_visit_temperature(t, &children, temperature, &mut self.rng)
                };
                (t.action(pick), target)
            }
            Algorithm::Gumbel { c_visit, c_scale, .. } => {
                let probs = select::gumbel_improved_policy(t, root, *c_visit, *c_scale);
                let target = children.iter().zip(&probs).map(|(&c, &p)| (t.action(c), p)).collect();
                let pick = select::gumbel_final_action(t, &self.gumbel, *c_visit, *c_scale);
                (t.action(pick), target)
            }
        };
        SearchResult { action, target, value: t.root_value(), compute: self.compute }
    }

    fn begin(&mut self, cfg: &SearchConfig) {
        let root = NodeId::ROOT;
        match &cfg.algorithm {
            Algorithm::Puct { root_noise: RootNoise::Dirichlet { alpha, weight }, .. } if !self.noised => {
                let kids: Vec<NodeId> = self.tree.children(root).collect();
                if kids.len() > 1 {
                    let gamma = Gamma::new(*alpha, 1.0).expect("alpha > 0 is validated by the config");
                    let draws: Vec<f32> =
                        kids.iter().map(|_| gamma.sample(&mut self.rng).max(1e-20)).collect();
                    let sum: f32 = draws.iter().sum();
                    for (&c, d) in kids.iter().zip(draws) {
                        let p = (1.0 - weight) * self.tree.prior(c) + weight * d / sum;
                        self.tree.set_prior(c, p);
                    }
                }
                self.noised = true;
            }
            Algorithm::Gumbel { gumbel_scale, .. } if self.gumbel.is_empty() => {
                let n = self.tree.num_children(root);
                self.gumbel = (0..n)
                    .map(|_| {
                        let u: f32 = self.rng.random_range(f32::EPSILON..1.0);
                        gumbel_scale * -(-u.ln()).ln()
                    })
                    .collect();
            }
            _ => {}
        }
    }

    /// Descends from the root to the node this simulation will evaluate.
    fn select_leaf(&self, cfg: &SearchConfig, considered: Option<&[u32]>) -> NodeId {
        let t = &self.tree;
        let mut n = NodeId::ROOT;
        loop {
            if !t.is_evaluated(n) || t.is_terminal(n) {
                return n;
            }
            n = match &cfg.algorithm {
                Algorithm::Puct { c_puct, fpu, .. } => select::puct_child(t, n, *c_puct, *fpu),
                Algorithm::Uct { c } => select::uct_child(t, n, *c),
                Algorithm::Gumbel { c_visit, c_scale, .. } => {
                    if n == NodeId::ROOT {
                        let table = considered.expect("gumbel searches pass their visit table");
                        let k = (self.sims as usize).min(table.len().saturating_sub(1));
                        select::gumbel_root_child(
                            t,
                            &self.gumbel,
                            table.get(k).copied().unwrap_or(0),
                            *c_visit,
                            *c_scale,
                        )
                    } else {
                        select::gumbel_interior_child(t, n, *c_visit, *c_scale)
                    }
                }
            };
        }
    }
}

/// Runs `cfg.simulations` simulations in every search, in lockstep: one batched evaluator call
/// per simulation step for all trees.
pub fn run<S: State, E: Evaluator<S> + ?Sized>(searches: &mut [Search<S>], ev: &mut E, cfg: &SearchConfig) {
    let mut out = Evaluations::default();
    // Roots first: one call evaluates every root that has not been evaluated.
    step(searches, ev, cfg, &mut out, |s| (!s.tree.is_evaluated(NodeId::ROOT)).then_some(NodeId::ROOT));
    for s in searches.iter_mut() {
        s.begin(cfg);
    }
    let tables: Vec<Option<Vec<u32>>> = searches
        .iter()
        .map(|s| match &cfg.algorithm {
            Algorithm::Gumbel { max_considered, .. } => {
                let m = (*max_considered as usize).min(s.tree.num_children(NodeId::ROOT));
                Some(select::considered_visit_table(m, cfg.simulations as usize))
            }
            _ => None,
        })
        .collect();
    for _ in 0..cfg.simulations {
        let mut i = 0;
        step(searches, ev, cfg, &mut out, |s| {
            let leaf = (!s.tree.is_terminal(NodeId::ROOT)).then(|| s.select_leaf(cfg, tables[i].as_deref()));
            i += 1;
            leaf
        });
        for s in searches.iter_mut() {
            if !s.tree.is_terminal(NodeId::ROOT) {
                s.sims += 1;
            }
        }
    }
}

/// One lockstep step: `pick` chooses a node in each search (or none); terminal nodes are backed
/// up from the rules, the rest are evaluated in one batch, expanded and backed up.
fn step<S: State, E: Evaluator<S> + ?Sized>(
    searches: &mut [Search<S>],
    ev: &mut E,
    cfg: &SearchConfig,
    out: &mut Evaluations,
    mut pick: impl FnMut(&Search<S>) -> Option<NodeId>,
) {
    let t0 = Instant::now();
    let mut pending: Vec<(usize, NodeId)> = Vec::with_capacity(searches.len());
    for (i, s) in searches.iter_mut().enumerate() {
        let Some(n) = pick(s) else { continue };
        let t = &mut s.tree;
        if t.is_evaluated(n) {
            // A terminal node reached again: its value is known.
            let v = t.raw_value(n);
            t.backup(n, v);
            continue;
        }
        if !t.is_materialized(n) {
            let before = t.len();
            t.materialize(n, cfg.collapse_forced, &mut s.legal);
            s.compute.nodes += (t.len() - before) as u64;
        } else {
            t.state(n).expect("materialized").legal_actions(&mut s.legal);
        }
        let state = t.state(n).expect("materialized");
        if let (true, Some(r)) = (state.is_terminal(), state.rules_value()) {
            t.set_terminal_value(n, r);
            let v = t.raw_value(n);
            t.backup(n, v);
            continue;
        }
        pending.push((i, n));
    }
    if pending.is_empty() {
        return;
    }
    {
        let leaves: Vec<Leaf<'_, S>> = pending
            .iter()
            .map(|&(i, n)| {
                let s = &searches[i];
                let t = &s.tree;
                Leaf {
                    state: t.state(n).expect("materialized"),
                    legal: &s.legal,
                    parent: t.parent(n).map_or(super::NO_CACHE, |p| t.nearest_cache(p)),
                    keep: !t.is_terminal(n),
                }
            })
            .collect();
        ev.evaluate(&leaves, out);
    }
    let share = t0.elapsed().as_secs_f64() / pending.len() as f64;
    let mut offset = 0;
    for (k, &(i, n)) in pending.iter().enumerate() {
        let s = &mut searches[i];
        let len = s.legal.len();
        let before = s.tree.len();
        s.tree.expand(n, out.values[k], out.caches[k], &s.legal, &out.priors[offset..offset + len]);
        offset += len;
        let v = s.tree.raw_value(n);
        s.tree.backup(n, v);
        s.compute.model_calls += 1;
        s.compute.forward_positions += out.positions[k] as u64;
        s.compute.nodes += (s.tree.len() - before) as u64;
        s.compute.seconds += share;
    }
}

/// Releases caches of searches that are finished.
pub fn release_all<S: State, E: Evaluator<S> + ?Sized>(searches: &mut [Search<S>], ev: &mut E) {
    let caches: Vec<CacheId> = searches.iter().flat_map(|s| s.tree.caches()).collect();
    ev.release(&caches);
}
