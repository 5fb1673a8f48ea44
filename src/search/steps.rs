//! Step-level tree search: Tree of Thoughts' breadth-first search (Yao et al. 2023) over whole
//! reasoning steps, with the policy proposing steps and the value head judging them.
//!
//! A *step* ends where the state says so ([`State::at_step_boundary`]): game24's `steps` format
//! ends one at each `<step>`, so a game24 answer is three steps; formats without steps make every
//! token a step (the search is then a beam search ranked by the value head).
//!
//! ## One depth of the search
//!
//! 1. **Propose.** From each of the (at most `beam`) states kept, `samples` walks sample tokens
//!    from the policy (at `temperature`) until the next step boundary. The walks of one state
//!    share a prefix tree (a *trie*): a token prefix is evaluated once however many walks pass
//!    through it, so duplicate proposals cost nothing, and compute grows with the number of
//!    *distinct* steps proposed. Forced tokens (the only legal one) are appended without the
//!    model, as everywhere.
//! 2. **Evaluate.** Every distinct proposal is evaluated as it is reached (one batched call per
//!    token step for all tasks): the value head's judgement of the state, and the priors that
//!    the next depth's walks start from (no extra call).
//! 3. **Select.** A finished answer that the **rules** accept (game24's "equals 24", code's
//!    shown examples) ends the task's search at once. Otherwise the `beam` unfinished proposals
//!    with the highest values are kept (ToT's b; ties in a random order); finished ones are
//!    remembered.
//!
//! The search ends when nothing unfinished is left; its answer is then the best finished one
//! (rules first, then the value head). Every finished answer it reached is returned too, so that
//! self-play can train on all of them (the policy on those the ground truth accepts, the value
//! head on all).
//!
//! Many tasks run in lockstep (one evaluator call per token step for all of them), each with its
//! own random generator, so a task's result does not depend on the others in its batch.

use std::time::Instant;

use ponder_env::{State, Token};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::compute::Compute;
use super::evaluator::{CacheId, Evaluations, Evaluator, Leaf, NO_CACHE};
use super::task_search::Found;

/// The knobs of Tree of Thoughts' BFS.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepSearchConfig {
    /// States kept per depth (ToT's breadth limit b; the paper's game24 runs use 5).
    pub beam: u32,
    /// Steps sampled from the policy per kept state (duplicates are free; ToT's proposals).
    pub samples: u32,
    /// Sampling temperature of the proposals (1 = the policy's own distribution).
    pub temperature: f32,
}

impl Default for StepSearchConfig {
    fn default() -> Self {
        StepSearchConfig { beam: 5, samples: 8, temperature: 1.0 }
    }
}

impl StepSearchConfig {
    /// Checks the ranges; the error names the field under `field`.
    pub fn validate(&self, field: &str) -> Result<(), String> {
        if self.beam == 0 || self.samples == 0 {
            return Err(format!("field `{field}.beam` and `{field}.samples` must be positive"));
        }
        if !(self.temperature > 0.0 && self.temperature.is_finite()) {
            return Err(format!("field `{field}.temperature` must be positive (got {})", self.temperature));
        }
        Ok(())
    }
}

/// An evaluated state of the prefix trie: its value, and the priors its walks sample from.
#[derive(Debug, Clone)]
struct Node<S> {
    state: S,
    /// The cache of this node's evaluation, or of its nearest evaluated ancestor before it has one.
    cache: CacheId,
    /// Legal tokens (empty when finished) and their priors (empty until evaluated).
    legal: Vec<Token>,
    priors: Vec<f32>,
    value: f32,
    evaluated: bool,
    /// Children by token: (token, node index).
    children: Vec<(Token, u32)>,
    /// Ends a step: a proposal (finished, or at a boundary where a choice is due).
    proposal: bool,
}

/// One task's search.
struct TaskSearch<S> {
    rng: ChaCha8Rng,
    nodes: Vec<Node<S>>,
    /// Trie nodes kept for the current depth (their walks start there).
    frontier: Vec<u32>,
    /// Finished answers: node, value (the rules' where they score it), and the rules' score.
    finished: Vec<(u32, f32, Option<f32>)>,
    /// A finished answer the rules accept.
    solved: Option<u32>,
    compute: Compute,
    done: bool,
}

/// A walk from a frontier node to the end of one step.
#[derive(Debug, Clone, Copy)]
struct Walk {
    task: usize,
    at: u32,
}

/// Applies `token` and then every forced token; reports whether a choice is now due inside a
/// step (`false`: the state is finished or at a step boundary with a choice due, a proposal).
fn advance<S: State>(state: &mut S, token: Token, legal: &mut Vec<Token>) -> bool {
    state.apply(token);
    loop {
        if state.is_terminal() {
            legal.clear();
            return false;
        }
        state.legal_actions(legal);
        if legal.len() == 1 {
            state.apply(legal[0]);
            continue;
        }
        return !state.at_step_boundary();
    }
}

/// Applies forced tokens from a start state (a prompt whose first tokens are forced).
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

/// Index of a token drawn from `priors`^(1/temperature).
fn draw(priors: &[f32], temperature: f32, rng: &mut impl Rng) -> usize {
    let w: Vec<f64> = priors.iter().map(|&p| (p.max(0.0) as f64).powf(1.0 / temperature as f64)).collect();
    let total: f64 = w.iter().sum();
    if total <= 0.0 {
        return rng.random_range(0..priors.len());
    }
    let mut x = rng.random_range(0.0..total);
    for (i, wi) in w.iter().enumerate() {
        if x < *wi {
            return i;
        }
        x -= wi;
    }
    priors.len() - 1
}

/// Runs Tree of Thoughts' BFS from every start state, in lockstep; `seed` fixes the proposals
/// (task `i` draws from its own generator, seeded by `seed` and `i`).
pub fn search<S: State, E: Evaluator<S> + ?Sized>(
    starts: &[S],
    ev: &mut E,
    cfg: &StepSearchConfig,
    seed: u64,
) -> Vec<Found<S>> {
    let mut legal = Vec::new();
    let mut tasks: Vec<TaskSearch<S>> = starts
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let mut state = s.clone();
            settle(&mut state, &mut legal);
            let finished = state.is_terminal();
            TaskSearch {
                rng: ChaCha8Rng::seed_from_u64(seed ^ (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)),
                nodes: vec![Node {
                    state,
                    cache: NO_CACHE,
                    legal: legal.clone(),
                    priors: Vec::new(),
                    value: 0.0,
                    evaluated: false,
                    children: Vec::new(),
                    proposal: true,
                }],
                frontier: vec![0],
                finished: Vec::new(),
                solved: None,
                compute: Compute::default(),
                done: finished,
            }
        })
        .collect();
    let mut out = Evaluations::default();
    // The roots: one call for all of them.
    let roots: Vec<(usize, u32)> = (0..tasks.len()).filter(|&t| !tasks[t].done).map(|t| (t, 0)).collect();
    evaluate(&mut tasks, &roots, ev, &mut out);
    while tasks.iter().any(|t| !t.done) {
        propose(&mut tasks, ev, cfg, &mut out, &mut legal);
        for t in tasks.iter_mut().filter(|t| !t.done) {
            select(t, cfg, ev);
        }
    }
    tasks
        .into_iter()
        .map(|mut t| {
            ev.release(&caches(&t.nodes));
            let answer = match t.solved {
                Some(n) => Some(n),
                // Unscored answers (by the value head) before ones the rules reject; the earliest
                // found among equals.
                None => t
                    .finished
                    .iter()
                    .copied()
                    .reduce(|a, b| if rank(b) > rank(a) { b } else { a })
                    .map(|(n, _, _)| n),
            };
            let candidates: Vec<S> =
                t.finished.iter().map(|&(n, _, _)| t.nodes[n as usize].state.clone()).collect();
            let answer = match answer {
                Some(n) => Some(t.nodes[n as usize].state.clone()),
                // A prompt that was already final is its own answer.
                None if t.nodes[0].state.is_terminal() => Some(t.nodes.swap_remove(0).state),
                None => None,
            };
            Found { answer, candidates, compute: t.compute }
        })
        .collect()
}

/// How a finished answer ranks when none is accepted: not rejected first, then by value.
fn rank((_, value, rules): (u32, f32, Option<f32>)) -> (bool, f32) {
    (rules.is_none_or(|r| r > 0.0), value)
}

fn caches<S>(nodes: &[Node<S>]) -> Vec<CacheId> {
    nodes.iter().filter(|n| n.evaluated && n.cache != NO_CACHE).map(|n| n.cache).collect()
}

/// Evaluates the given trie nodes (task, node) in one batched call and records the results.
fn evaluate<S: State, E: Evaluator<S> + ?Sized>(
    tasks: &mut [TaskSearch<S>],
    pending: &[(usize, u32)],
    ev: &mut E,
    out: &mut Evaluations,
) {
    if pending.is_empty() {
        return;
    }
    let t0 = Instant::now();
    {
        let leaves: Vec<Leaf<'_, S>> = pending
            .iter()
            .map(|&(t, n)| {
                let node = &tasks[t].nodes[n as usize];
                Leaf {
                    state: &node.state,
                    legal: &node.legal,
                    parent: node.cache,
                    keep: !node.legal.is_empty(),
                }
            })
            .collect();
        ev.evaluate(&leaves, out);
    }
    let share = t0.elapsed().as_secs_f64() / pending.len() as f64;
    let mut offset = 0;
    for (k, &(t, n)) in pending.iter().enumerate() {
        let task = &mut tasks[t];
        let node = &mut task.nodes[n as usize];
        let len = node.legal.len();
        node.priors = out.priors[offset..offset + len].to_vec();
        offset += len;
        node.value = out.values[k];
        node.cache = out.caches[k];
        node.evaluated = true;
        task.compute.model_calls += 1;
        task.compute.forward_positions += out.positions[k] as u64;
        task.compute.seconds += share;
    }
}

/// One depth's proposals for every live task: `samples` walks from each frontier node, in
/// lockstep, every new prefix evaluated once.
fn propose<S: State, E: Evaluator<S> + ?Sized>(
    tasks: &mut [TaskSearch<S>],
    ev: &mut E,
    cfg: &StepSearchConfig,
    out: &mut Evaluations,
    legal: &mut Vec<Token>,
) {
    let mut walks: Vec<Walk> = Vec::new();
    for (ti, t) in tasks.iter().enumerate().filter(|(_, t)| !t.done) {
        for &f in &t.frontier {
            walks.extend((0..cfg.samples).map(|_| Walk { task: ti, at: f }));
        }
    }
    while !walks.is_empty() {
        // Move every walk down the trie as far as evaluated nodes allow.
        let mut pending: Vec<(usize, u32)> = Vec::new();
        let mut waiting: Vec<Walk> = Vec::new();
        for mut w in walks.drain(..) {
            let task = &mut tasks[w.task];
            loop {
                let node = &task.nodes[w.at as usize];
                if !node.evaluated {
                    if !pending.contains(&(w.task, w.at)) {
                        pending.push((w.task, w.at));
                    }
                    waiting.push(w);
                    break;
                }
                // An evaluated proposal ends the walk, unless it is where the walk started.
                if node.legal.is_empty() || (node.proposal && !task.frontier.contains(&w.at)) {
                    break;
                }
                let j = draw(&node.priors, cfg.temperature, &mut task.rng);
                let token = node.legal[j];
                w.at = match node.children.iter().find(|c| c.0 == token) {
                    Some(&(_, c)) => c,
                    None => {
                        let mut state = node.state.clone();
                        let cache = node.cache;
                        let inside = advance(&mut state, token, legal);
                        let id = task.nodes.len() as u32;
                        task.nodes.push(Node {
                            state,
                            cache,
                            legal: legal.clone(),
                            priors: Vec::new(),
                            value: 0.0,
                            evaluated: false,
                            children: Vec::new(),
                            proposal: !inside,
                        });
                        task.nodes[w.at as usize].children.push((token, id));
                        task.compute.nodes += 1;
                        id
                    }
                };
                let child = &mut task.nodes[w.at as usize];
                if child.state.is_terminal() && !child.evaluated {
                    if let Some(r) = child.state.rules_value() {
                        // The rules score a finished answer: no model call.
                        child.value = r;
                        child.evaluated = true;
                    }
                }
            }
        }
        evaluate(tasks, &pending, ev, out);
        walks = waiting;
    }
}

/// Ends a depth: a rules-accepted answer ends the task; otherwise the best `beam` unfinished
/// proposals become the frontier. Caches of nodes no walk will start from again are released.
fn select<S: State, E: Evaluator<S> + ?Sized>(t: &mut TaskSearch<S>, cfg: &StepSearchConfig, ev: &mut E) {
    // The proposals reached this depth: evaluated proposal nodes below the frontier, not seen.
    let frontier = std::mem::take(&mut t.frontier);
    let mut open: Vec<(u32, f32)> = Vec::new();
    let mut stack: Vec<u32> = frontier.clone();
    while let Some(n) = stack.pop() {
        let node = &t.nodes[n as usize];
        let is_start = frontier.contains(&n);
        if node.proposal && !is_start {
            // The trie is a tree: each proposal is reached once.
            if node.legal.is_empty() {
                let rules = node.state.rules_value();
                t.finished.push((n, node.value, rules));
            } else {
                open.push((n, node.value));
            }
            continue;
        }
        // Children in reverse so that the stack visits them in the order they were made.
        stack.extend(node.children.iter().rev().map(|c| c.1));
    }
    // The order of discovery, for ties: node ids grow as nodes are made.
    open.sort_by_key(|&(n, _)| n);
    t.finished.sort_by_key(|&(n, _, _)| n);
    t.solved = t.finished.iter().find(|f| f.2.is_some_and(|r| r >= 1.0)).map(|f| f.0);
    if t.solved.is_some() || open.is_empty() {
        t.done = true;
        return;
    }
    // Highest value first; equal values in a random order (drawn from the task's generator),
    // so that a value head with no opinion keeps a random subset, not the first ones found.
    let mut ranked: Vec<(f32, u64, u32)> = open.iter().map(|&(n, v)| (v, t.rng.random::<u64>(), n)).collect();
    ranked.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    ranked.truncate(cfg.beam as usize);
    t.frontier = ranked.iter().map(|&(_, _, n)| n).collect();
    // Release every cache except the new frontier's (a released node's cache lives on while a
    // kept descendant attends to it).
    let mut released = Vec::new();
    for (i, node) in t.nodes.iter_mut().enumerate() {
        if node.evaluated && node.cache != NO_CACHE && !t.frontier.contains(&(i as u32)) {
            released.push(node.cache);
            node.cache = NO_CACHE;
        }
    }
    ev.release(&released);
}
