//! The search tree: an arena of nodes stored as a struct of arrays, indexed by [`NodeId`].
//!
//! Node 0 is the root. A node is created (with its prior) when its parent is expanded, and
//! *materialized* (given a state) when a simulation first reaches it. Children of a node are
//! contiguous: `first_child .. first_child + num_children`.
//!
//! Values are stored from the point of view of the player who moved *into* the node (its
//! `mover`), so a parent reads its children's Q directly. For single-agent tasks every node's
//! mover is player 0.
//!
//! ## Memory
//! Per node, 41 bytes: parent 4, action 2, prior 4, visits 4, value sum 4, raw value 4, mover 1,
//! to-play 1, flags 1, first child 4, child count 4, state slot 4, cache 4. Plus one stored state
//! per materialized node (`size_of::<S>()`, and the token buffer for text states). A search of
//! `n` simulations creates at most `1 + n * max_branching` nodes and materializes at most
//! `1 + n`; [`Tree::with_capacity`] preallocates so the inner loop does not allocate.

use std::fmt;

use ponder_env::{vocab, State, Token};

use super::evaluator::{CacheId, NO_CACHE};

/// Index of a node in its tree's arena.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub u32);

impl NodeId {
    /// The root of every tree.
    pub const ROOT: NodeId = NodeId(0);
    const NONE: u32 = u32::MAX;
    fn ix(self) -> usize {
        self.0 as usize
    }
}

/// The node has a state.
const MATERIALIZED: u8 = 1;
/// The node has been evaluated (its value is known and, unless terminal, its children exist).
const EVALUATED: u8 = 2;
/// The node's state is terminal.
const TERMINAL: u8 = 4;
/// The node's value comes from the rules (a terminal state they score).
const RULES: u8 = 8;

/// A search tree over states of type `S`.
#[derive(Debug, Clone)]
pub struct Tree<S> {
    two_player: bool,
    parent: Vec<u32>,
    action: Vec<Token>,
    prior: Vec<f32>,
    visits: Vec<u32>,
    value_sum: Vec<f32>,
    raw_value: Vec<f32>,
    mover: Vec<u8>,
    to_play: Vec<u8>,
    flags: Vec<u8>,
    first_child: Vec<u32>,
    num_children: Vec<u32>,
    state_slot: Vec<u32>,
    cache: Vec<CacheId>,
    states: Vec<S>,
}

impl<S: State> Tree<S> {
    /// A tree with only a root, for a game (`two_player`) or a task.
    pub fn new(root: S, two_player: bool) -> Self {
        Self::with_capacity(root, two_player, 64)
    }

    /// A tree preallocated for `nodes` nodes (see the module doc for the bound).
    pub fn with_capacity(root: S, two_player: bool, nodes: usize) -> Self {
        let mut t = Self::empty_like(two_player, nodes);
        // The root's mover is whoever moved before it: the opponent of the player to move.
        let to_play = root.to_play() as u8;
        let mover = if two_player { 1 - to_play.min(1) } else { 0 };
        t.push_node(NodeId::NONE, vocab::PAD, 1.0, mover);
        t.materialize_with(NodeId::ROOT, root);
        t
    }

    fn push_node(&mut self, parent: u32, action: Token, prior: f32, mover: u8) -> NodeId {
        let id = self.parent.len() as u32;
        self.parent.push(parent);
        self.action.push(action);
        self.prior.push(prior);
        self.visits.push(0);
        self.value_sum.push(0.0);
        self.raw_value.push(0.0);
        self.mover.push(mover);
        self.to_play.push(0);
        self.flags.push(0);
        self.first_child.push(NodeId::NONE);
        self.num_children.push(0);
        self.state_slot.push(NodeId::NONE);
        self.cache.push(NO_CACHE);
        NodeId(id)
    }

    // ----- reading -----

    /// Whether values alternate sign between plies (two-player zero-sum).
    pub fn two_player(&self) -> bool {
        self.two_player
    }
    /// Number of nodes created.
    pub fn len(&self) -> usize {
        self.parent.len()
    }
    /// Whether the tree has only its root... never empty, as it always has a root.
    pub fn is_empty(&self) -> bool {
        false
    }
    /// The parent of `n` (None for the root).
    pub fn parent(&self, n: NodeId) -> Option<NodeId> {
        let p = self.parent[n.ix()];
        (p != NodeId::NONE).then_some(NodeId(p))
    }
    /// The action that led from the parent to `n`.
    pub fn action(&self, n: NodeId) -> Token {
        self.action[n.ix()]
    }
    /// The prior the parent's evaluation gave `n` (after any root noise).
    pub fn prior(&self, n: NodeId) -> f32 {
        self.prior[n.ix()]
    }
    /// Simulations that passed through `n`.
    pub fn visits(&self, n: NodeId) -> u32 {
        self.visits[n.ix()]
    }
    /// Mean backed-up value of `n` for the player who moved into it (None if unvisited).
    pub fn q(&self, n: NodeId) -> Option<f32> {
        let v = self.visits[n.ix()];
        (v > 0).then(|| self.value_sum[n.ix()] / v as f32)
    }
    /// The evaluator's (or the rules') value of `n` for the player who moved into it.
    pub fn raw_value(&self, n: NodeId) -> f32 {
        self.raw_value[n.ix()]
    }
    /// The player who moved into `n`.
    pub fn mover(&self, n: NodeId) -> usize {
        self.mover[n.ix()] as usize
    }
    /// The player to move at a materialized node.
    pub fn to_play(&self, n: NodeId) -> usize {
        self.to_play[n.ix()] as usize
    }
    /// Whether `n` has a state.
    pub fn is_materialized(&self, n: NodeId) -> bool {
        self.flags[n.ix()] & MATERIALIZED != 0
    }
    /// Whether `n` has been evaluated.
    pub fn is_evaluated(&self, n: NodeId) -> bool {
        self.flags[n.ix()] & EVALUATED != 0
    }
    /// Whether `n` is a terminal state.
    pub fn is_terminal(&self, n: NodeId) -> bool {
        self.flags[n.ix()] & TERMINAL != 0
    }
    /// The state of a materialized node.
    pub fn state(&self, n: NodeId) -> Option<&S> {
        let s = self.state_slot[n.ix()];
        (s != NodeId::NONE).then(|| &self.states[s as usize])
    }
    /// The root state.
    pub fn root_state(&self) -> &S {
        self.state(NodeId::ROOT).expect("the root is always materialized")
    }
    /// The model cache of `n` ([`NO_CACHE`] if none).
    pub fn cache(&self, n: NodeId) -> CacheId {
        self.cache[n.ix()]
    }
    /// The children of `n`, in the order of its legal actions.
    pub fn children(&self, n: NodeId) -> impl ExactSizeIterator<Item = NodeId> + Clone {
        let f = self.first_child[n.ix()];
        let k = if f == NodeId::NONE { 0 } else { self.num_children[n.ix()] };
        (f..f.wrapping_add(k)).map(NodeId)
    }
    /// Number of children of `n`.
    pub fn num_children(&self, n: NodeId) -> usize {
        if self.first_child[n.ix()] == NodeId::NONE {
            0
        } else {
            self.num_children[n.ix()] as usize
        }
    }
    /// The child of `n` reached by `action`, if it exists.
    pub fn child_by_action(&self, n: NodeId, action: Token) -> Option<NodeId> {
        self.children(n).find(|&c| self.action(c) == action)
    }
    /// Converts a value for `player` into the point of view of `viewer`.
    pub fn view(&self, value: f32, player: usize, viewer: usize) -> f32 {
        if self.two_player && player != viewer {
            -value
        } else {
            value
        }
    }
    /// The root's value for the player to move at the root: the mean over its visits.
    pub fn root_value(&self) -> f32 {
        let r = NodeId::ROOT;
        let q = self.q(r).unwrap_or(self.raw_value(r));
        self.view(q, self.mover(r), self.to_play(r))
    }
    /// The nearest ancestor-or-self of `n` that holds a model cache.
    pub fn nearest_cache(&self, mut n: NodeId) -> CacheId {
        loop {
            let c = self.cache[n.ix()];
            if c != NO_CACHE {
                return c;
            }
            match self.parent(n) {
                Some(p) => n = p,
                None => return NO_CACHE,
            }
        }
    }
    /// In a task, the actions from the root to the shallowest terminal node that the **rules**
    /// score 1 (an answer verified by what a search may consult), if the search has found one.
    pub fn verified_path(&self) -> Option<Vec<Token>> {
        if self.two_player {
            return None;
        }
        let mut best: Option<(usize, NodeId)> = None;
        for i in 1..self.len() {
            if self.flags[i] & (RULES | TERMINAL) == RULES | TERMINAL && self.raw_value[i] >= 1.0 {
                let n = NodeId(i as u32);
                let depth = std::iter::successors(Some(n), |&m| self.parent(m)).count();
                if best.is_none_or(|(d, _)| depth < d) {
                    best = Some((depth, n));
                }
            }
        }
        let (_, mut n) = best?;
        let mut path = Vec::new();
        while let Some(p) = self.parent(n) {
            path.push(self.action(n));
            n = p;
        }
        path.reverse();
        Some(path)
    }

    /// Every cache held by the tree (to release them all).
    pub fn caches(&self) -> Vec<CacheId> {
        self.cache.iter().copied().filter(|&c| c != NO_CACHE).collect()
    }

    // ----- writing (used by the searches) -----

    /// Gives `n` its state: the parent's state with `n`'s action applied (and, with
    /// `collapse_forced`, every following single legal action, so that a forced run costs one
    /// node). Writes the state's legal actions into `legal`.
    pub(crate) fn materialize(&mut self, n: NodeId, collapse_forced: bool, legal: &mut Vec<Token>) {
        debug_assert!(!self.is_materialized(n));
        let p = self.parent(n).expect("only the root has no parent, and it is materialized");
        let mut s = self.state(p).expect("a parent is materialized before its children").clone();
        s.apply(self.action(n));
        s.legal_actions(legal);
        while collapse_forced && legal.len() == 1 && !s.is_terminal() {
            s.apply(legal[0]);
            s.legal_actions(legal);
        }
        self.materialize_with(n, s);
    }

    fn materialize_with(&mut self, n: NodeId, s: S) {
        let i = n.ix();
        self.to_play[i] = s.to_play() as u8;
        self.flags[i] |= MATERIALIZED;
        if s.is_terminal() {
            self.flags[i] |= TERMINAL;
        }
        self.state_slot[i] = self.states.len() as u32;
        self.states.push(s);
    }

    /// Records `n`'s evaluation: its value for the player to move at `n`, its cache, and (unless
    /// terminal) one child per legal action with the given priors.
    pub(crate) fn expand(
        &mut self,
        n: NodeId,
        value_for_to_play: f32,
        cache: CacheId,
        legal: &[Token],
        priors: &[f32],
    ) {
        let i = n.ix();
        debug_assert_eq!(legal.len(), priors.len());
        self.raw_value[i] = self.view(value_for_to_play, self.to_play[i] as usize, self.mover[i] as usize);
        self.cache[i] = cache;
        self.flags[i] |= EVALUATED;
        if !legal.is_empty() {
            let first = self.parent.len() as u32;
            let mover = self.to_play[i];
            for (&a, &p) in legal.iter().zip(priors) {
                self.push_node(n.0, a, p, mover);
            }
            self.first_child[i] = first;
            self.num_children[i] = legal.len() as u32;
        }
    }

    /// Records a terminal node's value by the rules (first player's view for games).
    pub(crate) fn set_terminal_value(&mut self, n: NodeId, rules_value: f32) {
        let i = n.ix();
        self.raw_value[i] = self.view(rules_value, 0, self.mover[i] as usize);
        self.flags[i] |= EVALUATED | RULES;
    }

    /// Adds one visit with `value` (for the player who moved into `leaf`) to `leaf` and every
    /// ancestor, each in its own mover's view.
    pub(crate) fn backup(&mut self, leaf: NodeId, value: f32) {
        let leaf_mover = self.mover[leaf.ix()] as usize;
        let mut n = leaf.0;
        while n != NodeId::NONE {
            let i = n as usize;
            self.visits[i] += 1;
            self.value_sum[i] += self.view(value, leaf_mover, self.mover[i] as usize);
            n = self.parent[i];
        }
    }

    /// Overwrites priors of `n`'s children (root noise).
    pub(crate) fn set_prior(&mut self, n: NodeId, p: f32) {
        self.prior[n.ix()] = p;
    }

    /// Makes the child `c` of the root the new root, keeping its subtree (AlphaZero's subtree
    /// reuse). Returns the caches of the discarded nodes, for the evaluator to release.
    pub fn reroot(&mut self, c: NodeId) -> Vec<CacheId> {
        debug_assert_eq!(self.parent(c), Some(NodeId::ROOT));
        let mut keep = vec![false; self.len()];
        let mut order = vec![c];
        let mut k = 0;
        while k < order.len() {
            let n = order[k];
            keep[n.ix()] = true;
            order.extend(self.children(n));
            k += 1;
        }
        let released: Vec<CacheId> = (0..self.len())
            .filter(|&i| !keep[i] && self.cache[i] != NO_CACHE)
            .map(|i| self.cache[i])
            .collect();
        // Breadth-first order keeps every node's children contiguous in the new arena.
        let mut remap = vec![NodeId::NONE; self.len()];
        for (new, n) in order.iter().enumerate() {
            remap[n.ix()] = new as u32;
        }
        let old = std::mem::replace(self, Self::empty_like(self.two_player, order.len()));
        let mut old_states: Vec<Option<S>> = old.states.into_iter().map(Some).collect();
        for &n in &order {
            let i = n.ix();
            let new_parent = if n == c { NodeId::NONE } else { remap[old.parent[i] as usize] };
            self.push_node(new_parent, old.action[i], old.prior[i], old.mover[i]);
            let j = self.len() - 1;
            self.visits[j] = old.visits[i];
            self.value_sum[j] = old.value_sum[i];
            self.raw_value[j] = old.raw_value[i];
            self.to_play[j] = old.to_play[i];
            self.flags[j] = old.flags[i];
            self.cache[j] = old.cache[i];
            self.num_children[j] = old.num_children[i];
            self.first_child[j] = match old.first_child[i] {
                NodeId::NONE => NodeId::NONE,
                f => remap[f as usize],
            };
            let slot = old.state_slot[i];
            if slot != NodeId::NONE {
                self.state_slot[j] = self.states.len() as u32;
                self.states.push(old_states[slot as usize].take().expect("each state has one node"));
            }
        }
        self.prior[0] = 1.0;
        released
    }

    fn empty_like(two_player: bool, nodes: usize) -> Self {
        Tree {
            two_player,
            parent: Vec::with_capacity(nodes),
            action: Vec::with_capacity(nodes),
            prior: Vec::with_capacity(nodes),
            visits: Vec::with_capacity(nodes),
            value_sum: Vec::with_capacity(nodes),
            raw_value: Vec::with_capacity(nodes),
            mover: Vec::with_capacity(nodes),
            to_play: Vec::with_capacity(nodes),
            flags: Vec::with_capacity(nodes),
            first_child: Vec::with_capacity(nodes),
            num_children: Vec::with_capacity(nodes),
            state_slot: Vec::with_capacity(nodes),
            cache: Vec::with_capacity(nodes),
            states: Vec::with_capacity(nodes / 4 + 1),
        }
    }

    /// The children of `n` in the order a finished search ranks them: most visited first, then
    /// by Q, then by prior.
    pub fn ranked_children(&self, n: NodeId) -> Vec<NodeId> {
        let mut v: Vec<NodeId> = self.children(n).collect();
        v.sort_by(|&a, &b| {
            self.visits(b)
                .cmp(&self.visits(a))
                .then(self.q(b).unwrap_or(f32::MIN).total_cmp(&self.q(a).unwrap_or(f32::MIN)))
                .then(self.prior(b).total_cmp(&self.prior(a)))
        });
        v
    }

    /// A printable view of node `n` and its children (the cheapest search debugger there is).
    pub fn show(&self, n: NodeId) -> NodeView<'_, S> {
        NodeView { tree: self, node: n }
    }

    /// The tokens a node adds to its parent's (its action, plus any forced tokens), as text.
    pub fn edge_text(&self, n: NodeId) -> String {
        match (self.parent(n), self.state(n)) {
            (Some(p), Some(s)) => {
                let plen = self.state(p).map_or(0, |ps| ps.tokens().len());
                let new = &s.tokens()[plen..];
                if new.iter().all(|&t| vocab::cell_coords(t).is_some()) {
                    // Moves read apart: `c2 a3`, not `c2a3`.
                    new.iter().map(|&t| vocab::symbol(t)).collect::<Vec<_>>().join(" ")
                } else {
                    vocab::decode(new)
                }
            }
            _ => vocab::symbol(self.action(n)).to_string(),
        }
    }
}

/// Prints a node and its children, in the order a finished search would pick them.
pub struct NodeView<'a, S> {
    tree: &'a Tree<S>,
    node: NodeId,
}

impl<S: State> fmt::Display for NodeView<'_, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = self.tree;
        let n = self.node;
        // The node's values for the player to move there; children's Q for the same player.
        let to_play = t.to_play(n);
        writeln!(
            f,
            "node {} N={} Q={} V={:+.3} (for player {to_play}, to move)",
            n.0,
            t.visits(n),
            t.q(n).map_or("-".into(), |q| format!("{:+.3}", t.view(q, t.mover(n), to_play))),
            t.view(t.raw_value(n), t.mover(n), to_play),
        )?;
        for c in t.ranked_children(n) {
            writeln!(
                f,
                "  {:<8} N={:<6} P={:.3} Q={}",
                t.edge_text(c),
                t.visits(c),
                t.prior(c),
                t.q(c).map_or("-".into(), |q| format!("{q:+.3}")),
            )?;
        }
        Ok(())
    }
}
