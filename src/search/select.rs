//! Selection rules: small swappable functions over a tree (PUCT, Gumbel's root and interior
//! rules, the visit-temperature choice), as in mctx's `action_selection.py`.

use ponder_env::State;
use rand::Rng;

use super::mcts::Fpu;
use super::tree::{NodeId, Tree};

/// The value of `n` for the player to move at `n` (its children's mover).
fn value_for_to_play<S: State>(t: &Tree<S>, n: NodeId) -> f32 {
    let q = t.q(n).unwrap_or(t.raw_value(n));
    t.view(q, t.mover(n), t.to_play(n))
}

/// AlphaZero's PUCT: `Q(c) + c_puct P(c) sqrt(N(n)) / (1 + N(c))`, with first-play urgency for
/// unvisited children. Ties go to the first child (deterministic).
pub fn puct_child<S: State>(t: &Tree<S>, n: NodeId, c_puct: f32, fpu: Fpu) -> NodeId {
    let sqrt_n = (t.visits(n).max(1) as f32).sqrt();
    let unvisited_q = match fpu {
        Fpu::Value { value } => value,
        Fpu::ParentMinus { reduction } => value_for_to_play(t, n) - reduction,
    };
    let mut best = NodeId::ROOT;
    let mut best_score = f32::NEG_INFINITY;
    for c in t.children(n) {
        let q = t.q(c).unwrap_or(unvisited_q);
        let score = q + c_puct * t.prior(c) * sqrt_n / (1 + t.visits(c)) as f32;
        if score > best_score {
            best_score = score;
            best = c;
        }
    }
    best
}

/// UCT: an unvisited child first (the first in order), else the child maximising
/// `Q(c) + c sqrt(ln N(n) / N(c))`.
pub fn uct_child<S: State>(t: &Tree<S>, n: NodeId, c: f32) -> NodeId {
    let ln_n = (t.visits(n).max(1) as f32).ln();
    let mut best = NodeId::ROOT;
    let mut best_score = f32::NEG_INFINITY;
    for ch in t.children(n) {
        let score = match t.q(ch) {
            None => return ch,
            Some(q) => q + c * (ln_n / t.visits(ch) as f32).sqrt(),
        };
        if score > best_score {
            best_score = score;
            best = ch;
        }
    }
    best
}

/// Picks a child by visits^(1/temperature); temperature 0 takes the most visited (ties: the
/// higher Q, then the first).
pub fn by_visit_temperature<S: State>(
    t: &Tree<S>,
    children: &[NodeId],
    temperature: f32,
    rng: &mut impl Rng,
) -> NodeId {
    if temperature <= 1e-6 {
        return *children
            .iter()
            .max_by(|&&a, &&b| {
                t.visits(a)
                    .cmp(&t.visits(b))
                    .then(t.q(a).unwrap_or(f32::MIN).total_cmp(&t.q(b).unwrap_or(f32::MIN)))
                    .then(b.cmp(&a))
            })
            .expect("children is not empty");
    }
    let weights: Vec<f64> =
        children.iter().map(|&c| (t.visits(c) as f64).powf(1.0 / temperature as f64)).collect();
    let total: f64 = weights.iter().sum();
    if total <= 0.0 {
        return children[rng.random_range(0..children.len())];
    }
    let mut x = rng.random_range(0.0..total);
    for (&c, w) in children.iter().zip(&weights) {
        if x < *w {
            return c;
        }
        x -= w;
    }
    *children.last().expect("children is not empty")
}

/// Picks a child by prior^(1/temperature); temperature 0 takes the highest prior (ties: the
/// first). This is System 1's move choice.
pub fn by_prior_temperature<S: State>(
    t: &Tree<S>,
    children: &[NodeId],
    temperature: f32,
    rng: &mut impl Rng,
) -> NodeId {
    let mut best = children[0];
    for &c in children {
        if t.prior(c) > t.prior(best) {
            best = c;
        }
    }
    if temperature <= 1e-6 {
        return best;
    }
    let weights: Vec<f64> =
        children.iter().map(|&c| (t.prior(c) as f64).powf(1.0 / temperature as f64)).collect();
    let total: f64 = weights.iter().sum();
    if total <= 0.0 {
        return best;
    }
    let mut x = rng.random_range(0.0..total);
    for (&c, w) in children.iter().zip(&weights) {
        if x < *w {
            return c;
        }
        x -= w;
    }
    best
}

/// Gumbel's sequence of "considered visit counts" for Sequential Halving with `m` actions and
/// `n` simulations: simulation `k` visits an action that has exactly `table[k]` visits.
/// (Danihelka et al. 2022, Sequential Halving with a budget of n, rounds of log2(m).)
pub fn considered_visit_table(m: usize, n: usize) -> Vec<u32> {
    if m <= 1 {
        return (0..n as u32).collect();
    }
    let log2m = (m as f64).log2().ceil() as usize;
    let mut seq = Vec::with_capacity(n);
    let mut visits = vec![0u32; m];
    let mut considered = m;
    while seq.len() < n {
        let extra = (n / (log2m * considered)).max(1);
        for _ in 0..extra {
            seq.extend_from_slice(&visits[..considered]);
            for v in &mut visits[..considered] {
                *v += 1;
            }
        }
        considered = (considered / 2).max(2);
    }
    seq.truncate(n);
    seq
}

/// Completed Q-values of `n`'s children, for the player to move at `n`, rescaled to [0, 1]:
/// visited children keep their Q, unvisited ones get the mixed value of Danihelka et al.
/// (the network value blended with the prior-weighted Q of the visited children).
pub fn completed_q<S: State>(t: &Tree<S>, n: NodeId) -> Vec<f32> {
    let raw = t.view(t.raw_value(n), t.mover(n), t.to_play(n));
    let mut sum_n = 0.0f32;
    let mut sum_p = 0.0f32;
    let mut sum_pq = 0.0f32;
    for c in t.children(n) {
        if let Some(q) = t.q(c) {
            sum_n += t.visits(c) as f32;
            sum_p += t.prior(c);
            sum_pq += t.prior(c) * q;
        }
    }
    let mixed = if sum_p > 0.0 { (raw + sum_n * sum_pq / sum_p) / (1.0 + sum_n) } else { raw };
    let mut qs: Vec<f32> = t.children(n).map(|c| t.q(c).unwrap_or(mixed)).collect();
    let lo = qs.iter().copied().fold(f32::INFINITY, f32::min);
    let hi = qs.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let span = (hi - lo).max(1e-8);
    for q in &mut qs {
        *q = (*q - lo) / span;
    }
    qs
}

/// sigma(q) = (c_visit + max_b N(b)) c_scale q: the monotone transform of completed Q.
fn sigma<S: State>(t: &Tree<S>, n: NodeId, c_visit: f32, c_scale: f32) -> f32 {
    let max_n = t.children(n).map(|c| t.visits(c)).max().unwrap_or(0) as f32;
    (c_visit + max_n) * c_scale
}

fn log_prior(p: f32) -> f32 {
    p.max(1e-30).ln()
}

/// The improved policy `softmax(logits + sigma(completed Q))` over `n`'s children: Gumbel
/// AlphaZero's training target.
pub fn gumbel_improved_policy<S: State>(t: &Tree<S>, n: NodeId, c_visit: f32, c_scale: f32) -> Vec<f32> {
    let s = sigma(t, n, c_visit, c_scale);
    let q = completed_q(t, n);
    let logits: Vec<f32> = t.children(n).zip(&q).map(|(c, q)| log_prior(t.prior(c)) + s * q).collect();
    softmax(&logits)
}

/// Numerically stable softmax.
pub fn softmax(logits: &[f32]) -> Vec<f32> {
    let m = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let e: Vec<f32> = logits.iter().map(|&x| (x - m).exp()).collect();
    let z: f32 = e.iter().sum();
    e.into_iter().map(|x| x / z).collect()
}

/// Gumbel root rule: among the root children with exactly `considered_visit` visits, the one
/// with the highest `g + logits + sigma(completed Q)`.
pub fn gumbel_root_child<S: State>(
    t: &Tree<S>,
    gumbel: &[f32],
    considered_visit: u32,
    c_visit: f32,
    c_scale: f32,
) -> NodeId {
    let root = NodeId::ROOT;
    let s = sigma(t, root, c_visit, c_scale);
    let q = completed_q(t, root);
    let mut best = None;
    let mut best_score = f32::NEG_INFINITY;
    let mut fallback = None;
    let mut fallback_score = f32::NEG_INFINITY;
    for (i, c) in t.children(root).enumerate() {
        let score = gumbel.get(i).copied().unwrap_or(0.0) + log_prior(t.prior(c)) + s * q[i];
        if t.visits(c) == considered_visit && score > best_score {
            best_score = score;
            best = Some(c);
        }
        if score > fallback_score {
            fallback_score = score;
            fallback = Some(c);
        }
    }
    best.or(fallback).expect("the root has children")
}

/// Gumbel interior rule: the child maximising `pi'(c) - N(c) / (1 + sum N)`, where `pi'` is the
/// improved policy (deterministic; no exploration constants).
pub fn gumbel_interior_child<S: State>(t: &Tree<S>, n: NodeId, c_visit: f32, c_scale: f32) -> NodeId {
    let pi = gumbel_improved_policy(t, n, c_visit, c_scale);
    let total: u32 = t.children(n).map(|c| t.visits(c)).sum();
    let mut best = NodeId::ROOT;
    let mut best_score = f32::NEG_INFINITY;
    for (c, p) in t.children(n).zip(pi) {
        let score = p - t.visits(c) as f32 / (1 + total) as f32;
        if score > best_score {
            best_score = score;
            best = c;
        }
    }
    best
}

/// Gumbel's final choice: among the most visited root children, the highest
/// `g + logits + sigma(completed Q)`.
pub fn gumbel_final_action<S: State>(t: &Tree<S>, gumbel: &[f32], c_visit: f32, c_scale: f32) -> NodeId {
    let max_visits = t.children(NodeId::ROOT).map(|c| t.visits(c)).max().unwrap_or(0);
    gumbel_root_child(t, gumbel, max_visits, c_visit, c_scale)
}
