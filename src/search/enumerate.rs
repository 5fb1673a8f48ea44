//! Best-first enumeration of answers, most probable first: the search of program synthesis
//! (DeepCoder's "sort and add", Balog et al. 2017), guided by the policy or, as the baseline,
//! by uniform priors over the legal tokens (plain enumeration by the grammar).
//!
//! Every token prefix is a node; its probability is the product of the priors along it. A
//! priority queue holds the frontier, most probable first. *Expanding* a node evaluates it (one
//! model call, or none for [`Uniform`](super::Uniform)) and pushes one child per legal token.
//! A popped node that is a finished answer is checked against the **rules** (code: the shown
//! examples; game24: equals 24), and the first one they accept ends the search. Forced tokens
//! are appended without a node of their own.
//!
//! The budget is the number of expansions per task: DeepCoder's measure, "nodes expanded until
//! a program consistent with the examples is found". Since the order is fixed by the priors, a
//! search with budget B finds exactly what a longer one finds within its first B expansions.
//!
//! Many tasks run in lockstep: each step pops up to `per_call` nodes from every live task and
//! evaluates them all in one batched call (`per_call` > 1 loosens the best-first order within a
//! step, for larger batches). Ties in probability go to the node made first, so the order is
//! deterministic.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::time::Instant;

use ponder_env::{State, Token};
use serde::{Deserialize, Serialize};

use super::compute::Compute;
use super::evaluator::{CacheId, Evaluations, Evaluator, Leaf, NO_CACHE};
use super::task_search::Found;

/// The knobs of best-first enumeration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnumerateConfig {
    /// Nodes expanded per task at most (each is one model call).
    pub expansions: u32,
    /// Nodes popped per task per batched call.
    pub per_call: u32,
}

impl Default for EnumerateConfig {
    fn default() -> Self {
        EnumerateConfig { expansions: 256, per_call: 1 }
    }
}

impl EnumerateConfig {
    /// Checks the ranges; the error names the field under `field`.
    pub fn validate(&self, field: &str) -> Result<(), String> {
        if self.expansions == 0 || self.per_call == 0 {
            return Err(format!("field `{field}.expansions` and `{field}.per_call` must be positive"));
        }
        Ok(())
    }
}

/// A frontier entry: a child not yet materialized, by its log-probability.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Entry {
    logp: f64,
    /// Creation order, for deterministic ties (earlier first).
    order: u64,
    /// The expanded node it extends, and the token.
    parent: u32,
    token: Token,
}

impl Eq for Entry {}

impl Ord for Entry {
    fn cmp(&self, o: &Self) -> Ordering {
        // A max-heap: the higher log-probability first, then the earlier entry.
        self.logp.total_cmp(&o.logp).then(o.order.cmp(&self.order))
    }
}

impl PartialOrd for Entry {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

/// A materialized node: its state, its log-probability, its parent's model cache and its own
/// (once expanded).
#[derive(Debug, Clone)]
struct Node<S> {
    state: S,
    logp: f64,
    parent_cache: CacheId,
    cache: CacheId,
}

/// One task's enumeration.
struct Task<S> {
    nodes: Vec<Node<S>>,
    heap: BinaryHeap<Entry>,
    made: u64,
    expansions: u32,
    found: Option<u32>,
    /// The most probable finished answer popped, for when none is accepted.
    best_rejected: Option<u32>,
    compute: Compute,
    done: bool,
}

/// Applies forced tokens (the only legal one); writes the legal tokens of the result.
fn settle<S: State>(state: &mut S, legal: &mut Vec<Token>) {
    loop {
        if state.is_terminal() {
            legal.clear();
            return;
        }
        state.legal_actions(legal);
        if legal.len() != 1 {
            return;
        }
        state.apply(legal[0]);
    }
}

/// Enumerates answers for every start state, most probable first, in lockstep.
pub fn search<S: State, E: Evaluator<S> + ?Sized>(
    starts: &[S],
    ev: &mut E,
    cfg: &EnumerateConfig,
) -> Vec<Found<S>> {
    let mut legal = Vec::new();
    let mut tasks: Vec<Task<S>> = starts
        .iter()
        .map(|s| {
            let mut state = s.clone();
            settle(&mut state, &mut legal);
            let mut t = Task {
                nodes: vec![Node { state, logp: 0.0, parent_cache: NO_CACHE, cache: NO_CACHE }],
                heap: BinaryHeap::new(),
                made: 0,
                expansions: 0,
                found: None,
                best_rejected: None,
                compute: Compute::default(),
                done: false,
            };
            if t.nodes[0].state.is_terminal() {
                t.done = true;
                t.best_rejected = Some(0);
            }
            t
        })
        .collect();
    let mut out = Evaluations::default();
    // (task, node, legal tokens) to expand in the next call; the roots first.
    let mut batch: Vec<(usize, u32, Vec<Token>)> = Vec::new();
    for (i, t) in tasks.iter().enumerate().filter(|(_, t)| !t.done) {
        let mut l = Vec::new();
        t.nodes[0].state.legal_actions(&mut l);
        batch.push((i, 0, l));
    }
    loop {
        expand(&mut tasks, &batch, ev, &mut out);
        batch.clear();
        for (i, t) in tasks.iter_mut().enumerate() {
            if t.done {
                continue;
            }
            let mut popped = 0;
            while popped < cfg.per_call && t.expansions + popped < cfg.expansions {
                let Some(e) = t.heap.pop() else { break };
                let parent = &t.nodes[e.parent as usize];
                let mut state = parent.state.clone();
                let parent_cache = parent.cache;
                state.apply(e.token);
                settle(&mut state, &mut legal);
                let id = t.nodes.len() as u32;
                t.nodes.push(Node { state, logp: e.logp, parent_cache, cache: NO_CACHE });
                t.compute.nodes += 1;
                let node = &t.nodes[id as usize];
                if node.state.is_terminal() {
                    if node.state.rules_value().is_some_and(|r| r >= 1.0) {
                        t.found = Some(id);
                        break;
                    }
                    if t.best_rejected.is_none() {
                        t.best_rejected = Some(id);
                    }
                    continue;
                }
                batch.push((i, id, legal.clone()));
                popped += 1;
            }
            if t.found.is_some() || popped == 0 {
                t.done = true;
                // Nodes popped this step but not yet expanded are dropped with the task.
                batch.retain(|b| b.0 != i);
            }
        }
        if batch.is_empty() {
            break;
        }
    }
    tasks
        .into_iter()
        .map(|t| {
            let caches: Vec<CacheId> = t.nodes.iter().map(|n| n.cache).filter(|&c| c != NO_CACHE).collect();
            ev.release(&caches);
            let answer = t.found.or(t.best_rejected).map(|n| t.nodes[n as usize].state.clone());
            // The answer alone: the answers the rules rejected are many and teach little.
            Found { candidates: answer.iter().cloned().collect(), answer, compute: t.compute }
        })
        .collect()
}

/// Evaluates the nodes of `batch` in one call and pushes their children.
fn expand<S: State, E: Evaluator<S> + ?Sized>(
    tasks: &mut [Task<S>],
    batch: &[(usize, u32, Vec<Token>)],
    ev: &mut E,
    out: &mut Evaluations,
) {
    if batch.is_empty() {
        return;
    }
    let t0 = Instant::now();
    {
        let leaves: Vec<Leaf<'_, S>> = batch
            .iter()
            .map(|(t, n, l)| {
                let node = &tasks[*t].nodes[*n as usize];
                Leaf { state: &node.state, legal: l, parent: node.parent_cache, keep: true }
            })
            .collect();
        ev.evaluate(&leaves, out);
    }
    let share = t0.elapsed().as_secs_f64() / batch.len() as f64;
    let mut offset = 0;
    for (k, (ti, n, l)) in batch.iter().enumerate() {
        let t = &mut tasks[*ti];
        let priors = &out.priors[offset..offset + l.len()];
        offset += l.len();
        let node = &mut t.nodes[*n as usize];
        node.cache = out.caches[k];
        let logp = node.logp;
        for (&token, &p) in l.iter().zip(priors) {
            if p > 0.0 {
                t.heap.push(Entry { logp: logp + (p as f64).ln(), order: t.made, parent: *n, token });
                t.made += 1;
            }
        }
        t.expansions += 1;
        t.compute.model_calls += 1;
        t.compute.forward_positions += out.positions[k] as u64;
        t.compute.seconds += share;
    }
}
