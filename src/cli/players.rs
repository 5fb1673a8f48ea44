//! System 1 players for games, for `compare`: the policy's moves with extra compute but no tree
//! search. (System 1 for tasks is the decoders of [`crate::search::system1`] as they are.)
//!
//! - [`BestOfN`]: sample N moves from the policy, keep the one whose position the value head
//!   likes best for the mover: best-of-N reranked by the value head, a move being the answer.
//! - [`Beam`]: beam search of width W over the rest of the game by total log-probability (the
//!   policy's most probable continuation), playing its first move.
//! - [`Counted`]: counts a player's decisions, to report compute per decision in matches.

use std::time::Instant;

use ponder_env::{State, Token};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::eval::games::Player;
use crate::search::{decode, Compute, Decoder, Evaluations, Evaluator, Leaf, NO_CACHE};

/// Best-of-N over moves, reranked by the value head.
pub struct BestOfN<V> {
    pub ev: V,
    /// Moves sampled per decision (temperature 1).
    pub n: u32,
    spent: Compute,
}

impl<V> BestOfN<V> {
    pub fn new(ev: V, n: u32) -> Self {
        BestOfN { ev, n: n.max(1), spent: Compute::default() }
    }
}

/// A draw from `p` (which sums to about 1).
fn sample(p: &[f32], rng: &mut ChaCha8Rng) -> usize {
    let total: f32 = p.iter().sum();
    let mut x = rng.random_range(0.0..total.max(f32::MIN_POSITIVE));
    for (i, &q) in p.iter().enumerate() {
        if x < q {
            return i;
        }
        x -= q;
    }
    p.len() - 1
}

impl<S: State, V: Evaluator<S>> Player<S> for BestOfN<V> {
    fn choose(&mut self, states: &[&S], seeds: &[u64]) -> Vec<Token> {
        let t0 = Instant::now();
        let legal: Vec<Vec<Token>> = states
            .iter()
            .map(|s| {
                let mut l = Vec::new();
                s.legal_actions(&mut l);
                l
            })
            .collect();
        // 1. The policy at every position, one batched call; caches kept for the children.
        let mut roots = Evaluations::default();
        let leaves: Vec<Leaf<'_, S>> = states
            .iter()
            .zip(&legal)
            .map(|(s, l)| Leaf { state: *s, legal: l, parent: NO_CACHE, keep: true })
            .collect();
        self.ev.evaluate(&leaves, &mut roots);
        self.spent.model_calls += leaves.len() as u64;
        self.spent.forward_positions += roots.positions.iter().map(|&p| p as u64).sum::<u64>();
        // 2. N sampled moves per position, each distinct child scored once: terminal ones by the
        //    rules, the others by the value head (one batched call for all of them).
        let mut cands: Vec<Vec<(Token, S, Option<f32>)>> = Vec::with_capacity(states.len());
        for (i, s) in states.iter().enumerate() {
            let p = roots.priors_of(&leaves, i);
            let mut rng = ChaCha8Rng::seed_from_u64(seeds[i]);
            let mut picked: Vec<usize> = (0..self.n).map(|_| sample(p, &mut rng)).collect();
            picked.sort_unstable();
            picked.dedup();
            let mover = s.to_play();
            cands.push(
                picked
                    .into_iter()
                    .map(|j| {
                        let mut child = (*s).clone();
                        child.apply(legal[i][j]);
                        let rules = child
                            .is_terminal()
                            .then(|| child.rules_value().map_or(0.0, |v| if mover == 0 { v } else { -v }));
                        (legal[i][j], child, rules)
                    })
                    .collect(),
            );
        }
        let mut child_legal: Vec<Vec<Token>> = Vec::new();
        let mut owners: Vec<(usize, usize)> = Vec::new();
        for (i, cs) in cands.iter().enumerate() {
            for (k, (_, child, rules)) in cs.iter().enumerate() {
                if rules.is_none() {
                    let mut l = Vec::new();
                    child.legal_actions(&mut l);
                    child_legal.push(l);
                    owners.push((i, k));
                }
            }
        }
        let mut kids = Evaluations::default();
        if !owners.is_empty() {
            let leaves: Vec<Leaf<'_, S>> = owners
                .iter()
                .zip(&child_legal)
                .map(|(&(i, k), l)| Leaf {
                    state: &cands[i][k].1,
                    legal: l,
                    parent: roots.caches[i],
                    keep: false,
                })
                .collect();
            self.ev.evaluate(&leaves, &mut kids);
            self.spent.model_calls += leaves.len() as u64;
            self.spent.forward_positions += kids.positions.iter().map(|&p| p as u64).sum::<u64>();
        }
        let mut scores: Vec<Vec<f32>> =
            cands.iter().map(|cs| cs.iter().map(|c| c.2.unwrap_or(0.0)).collect()).collect();
        for (&(i, k), &v) in owners.iter().zip(&kids.values) {
            // The value is for the player to move in the child: the mover's opponent.
            scores[i][k] = -v;
        }
        let released: Vec<_> = roots.caches.iter().copied().filter(|&c| c != NO_CACHE).collect();
        self.ev.release(&released);
        self.spent.seconds += t0.elapsed().as_secs_f64();
        cands
            .iter()
            .zip(&scores)
            .map(|(cs, sc)| {
                // The best score; ties go to the earlier (lower-token) move, deterministically.
                let best = (0..cs.len()).fold(0, |b, k| if sc[k] > sc[b] { k } else { b });
                cs[best].0
            })
            .collect()
    }
    fn compute(&self) -> Compute {
        self.spent
    }
}

/// Beam search over the rest of the game; plays the first move of the best beam.
pub struct Beam<V> {
    pub ev: V,
    pub width: u32,
    spent: Compute,
}

impl<V> Beam<V> {
    pub fn new(ev: V, width: u32) -> Self {
        Beam { ev, width: width.max(1), spent: Compute::default() }
    }
}

impl<S: State, V: Evaluator<S>> Player<S> for Beam<V> {
    fn choose(&mut self, states: &[&S], seeds: &[u64]) -> Vec<Token> {
        let starts: Vec<S> = states.iter().map(|s| (*s).clone()).collect();
        let decoded = decode(
            &starts,
            &mut self.ev,
            &Decoder::Beam { width: self.width },
            seeds.first().copied().unwrap_or(0),
        );
        starts
            .iter()
            .zip(decoded)
            .map(|(s, d)| {
                self.spent += d.compute;
                d.state.tokens()[s.tokens().len()]
            })
            .collect()
    }
    fn compute(&self) -> Compute {
        self.spent
    }
}

/// A player that counts its decisions.
pub struct Counted<'a, S> {
    pub inner: &'a mut dyn Player<S>,
    pub decisions: u64,
}

impl<S: State> Player<S> for Counted<'_, S> {
    fn choose(&mut self, states: &[&S], seeds: &[u64]) -> Vec<Token> {
        self.decisions += states.len() as u64;
        self.inner.choose(states, seeds)
    }
    fn compute(&self) -> Compute {
        self.inner.compute()
    }
}
