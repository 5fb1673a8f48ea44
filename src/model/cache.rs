//! The key/value cache that lives on the search tree.
//!
//! A state is a token prefix and a child extends its parent (DESIGN.md), so the cache is a tree
//! of **nodes**, one per evaluated state the search keeps. A node owns only its *own* new
//! positions and points at its parent node for the rest of its prefix; a query attends over the
//! chain of slots from the root to itself. Expanding a node costs its new positions only.
//!
//! Positions live in a **slab**: per layer, one `[capacity, C]` buffer of keys and one of
//! values, indexed by slot; a free list recycles the slots of released nodes, so a search that
//! releases what it discards runs in bounded memory with no allocation in steady state (the
//! slab only grows, by doubling, when every slot is taken).
//!
//! A node lives while the search holds its handle or any child node lives: releasing a node
//! whose children are still held keeps its positions (the children attend to them) until the
//! last child goes.

use ponder_env::Token;

use crate::search::{CacheId, NO_CACHE};

#[derive(Debug, Default)]
struct Node {
    /// The parent node, or `NO_CACHE` for a root.
    parent: CacheId,
    /// Positions in the whole prefix (the parent's plus this node's own).
    len: u32,
    /// This node's own positions' slots, in position order.
    slots: Vec<u32>,
    /// Whether the search still holds this node's handle.
    held: bool,
    /// Live child nodes (they attend to this node's positions).
    children: u32,
    /// The final hidden state (after `ln_f`) of the last position: `[C]`, so that re-evaluating
    /// this exact state costs no position at all.
    hidden: Vec<f32>,
    live: bool,
}

/// Counts of what the arena holds, for tests and monitoring.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CacheStats {
    /// Nodes alive (held by the search, or an ancestor of one that is).
    pub nodes: usize,
    /// Positions whose keys and values are stored.
    pub positions: usize,
    /// Positions the slab can hold before it grows.
    pub capacity: usize,
    /// Bytes of keys and values the slab holds (live or free).
    pub bytes: usize,
}

/// Per-layer key/value slabs, the slot free list, and the node tree.
#[derive(Debug)]
pub struct KvArena {
    n_layer: usize,
    d: usize,
    /// Per layer, `[capacity, C]` keys.
    k: Vec<Vec<f32>>,
    /// Per layer, `[capacity, C]` values.
    v: Vec<Vec<f32>>,
    /// The token at each slot: lets the evaluator check that a cache is a prefix of its leaf.
    slot_token: Vec<Token>,
    free_slots: Vec<u32>,
    nodes: Vec<Node>,
    free_nodes: Vec<u32>,
    live_nodes: usize,
}

impl KvArena {
    /// An arena for `n_layer` layers of width `d`, with room for `capacity` positions.
    pub fn new(n_layer: usize, d: usize, capacity: usize) -> Self {
        let mut arena = KvArena {
            n_layer,
            d,
            k: vec![Vec::new(); n_layer],
            v: vec![Vec::new(); n_layer],
            slot_token: Vec::new(),
            free_slots: Vec::new(),
            nodes: Vec::new(),
            free_nodes: Vec::new(),
            live_nodes: 0,
        };
        arena.grow(capacity.max(1));
        arena
    }

    fn capacity(&self) -> usize {
        self.slot_token.len()
    }

    fn grow(&mut self, extra: usize) {
        let old = self.capacity();
        let new = old + extra;
        for l in 0..self.n_layer {
            self.k[l].resize(new * self.d, 0.0);
            self.v[l].resize(new * self.d, 0.0);
        }
        self.slot_token.resize(new, 0);
        // Pop order gives low slots first: consecutive positions land in consecutive rows.
        self.free_slots.extend((old as u32..new as u32).rev());
    }

    /// Takes a free slot for a position holding `token`, growing the slab if none is free.
    pub fn alloc_slot(&mut self, token: Token) -> u32 {
        if self.free_slots.is_empty() {
            self.grow(self.capacity());
        }
        let s = self.free_slots.pop().expect("grown");
        self.slot_token[s as usize] = token;
        s
    }

    /// Returns a slot to the free list.
    pub fn free_slot(&mut self, slot: u32) {
        self.free_slots.push(slot);
    }

    /// Layer `l`'s whole key and value slabs, `[capacity, C]` each (for the attention kernel).
    #[inline]
    pub fn layer(&self, l: usize) -> (&[f32], &[f32]) {
        (&self.k[l], &self.v[l])
    }

    /// Writes layer `l`'s key and value rows of `slot`.
    #[inline]
    pub fn store(&mut self, l: usize, slot: u32, key: &[f32], value: &[f32]) {
        let o = slot as usize * self.d;
        self.k[l][o..o + self.d].copy_from_slice(key);
        self.v[l][o..o + self.d].copy_from_slice(value);
    }

    /// Appends the slots of `id`'s whole prefix to `out`, in position order, checking that the
    /// tokens stored there are the first tokens of `tokens`; `stack` is scratch. Returns the
    /// prefix length.
    ///
    /// # Panics
    /// If `id` is not a live cache, or its tokens are not a prefix of `tokens`: the search
    /// passed the wrong parent (a bug that would otherwise silently corrupt priors and values).
    pub fn prefix_slots(
        &self,
        id: CacheId,
        tokens: &[Token],
        out: &mut Vec<u32>,
        stack: &mut Vec<u32>,
    ) -> usize {
        stack.clear();
        let mut cur = id;
        while cur != NO_CACHE {
            let node = self.nodes.get(cur as usize).filter(|n| n.live);
            let node = node.unwrap_or_else(|| panic!("cache {cur} was released or never issued"));
            stack.push(cur);
            cur = node.parent;
        }
        let len = self.nodes[id as usize].len as usize;
        assert!(
            len <= tokens.len(),
            "cache {id} holds {len} positions but the leaf has only {} tokens: not its ancestor",
            tokens.len()
        );
        let start = out.len();
        for &n in stack.iter().rev() {
            out.extend_from_slice(&self.nodes[n as usize].slots);
        }
        let mismatch = out[start..].iter().zip(tokens).position(|(&s, &t)| self.slot_token[s as usize] != t);
        if let Some(p) = mismatch {
            panic!("cache {id} differs from the leaf's tokens at position {p}: not its ancestor");
        }
        len
    }

    /// The stored final hidden state of `id`'s last position.
    pub fn hidden(&self, id: CacheId) -> &[f32] {
        &self.nodes[id as usize].hidden
    }

    /// Whether `id` is a cache this arena currently holds.
    pub fn is_live(&self, id: CacheId) -> bool {
        self.nodes.get(id as usize).is_some_and(|n| n.live)
    }

    /// A new node under `parent` (or a root) owning `slots`, whose prefix is `len` positions and
    /// whose last position's final hidden state is `hidden`.
    pub fn insert(&mut self, parent: CacheId, len: usize, slots: &[u32], hidden: &[f32]) -> CacheId {
        if parent != NO_CACHE {
            self.nodes[parent as usize].children += 1;
        }
        let id = match self.free_nodes.pop() {
            Some(id) => id,
            None => {
                self.nodes.push(Node::default());
                (self.nodes.len() - 1) as u32
            }
        };
        assert!(id != NO_CACHE, "too many caches");
        let node = &mut self.nodes[id as usize];
        node.parent = parent;
        node.len = len as u32;
        node.slots.clear();
        node.slots.extend_from_slice(slots);
        node.held = true;
        node.children = 0;
        node.hidden.clear();
        node.hidden.extend_from_slice(hidden);
        node.live = true;
        self.live_nodes += 1;
        id
    }

    /// The search drops its handle on `id`; the node, and any ancestors that nobody holds and
    /// no other child needs, are freed. Releasing `NO_CACHE`, or an id already released, does
    /// nothing.
    pub fn release(&mut self, id: CacheId) {
        if !self.is_live(id) || !self.nodes[id as usize].held {
            return;
        }
        self.nodes[id as usize].held = false;
        let mut cur = id;
        while cur != NO_CACHE {
            let node = &mut self.nodes[cur as usize];
            if node.held || node.children > 0 {
                return;
            }
            node.live = false;
            let parent = node.parent;
            self.free_slots.extend_from_slice(&node.slots);
            node.slots.clear();
            self.free_nodes.push(cur);
            self.live_nodes -= 1;
            if parent != NO_CACHE {
                self.nodes[parent as usize].children -= 1;
            }
            cur = parent;
        }
    }

    /// Frees every node and slot (e.g. between games); keeps the memory.
    pub fn clear(&mut self) {
        self.free_slots.clear();
        self.free_slots.extend((0..self.capacity() as u32).rev());
        self.free_nodes.clear();
        for (i, n) in self.nodes.iter_mut().enumerate().rev() {
            n.live = false;
            n.slots.clear();
            self.free_nodes.push(i as u32);
        }
        self.live_nodes = 0;
    }

    /// What the arena holds.
    pub fn stats(&self) -> CacheStats {
        CacheStats {
            nodes: self.live_nodes,
            positions: self.capacity() - self.free_slots.len(),
            capacity: self.capacity(),
            bytes: 2 * self.n_layer * self.d * self.capacity() * std::mem::size_of::<f32>(),
        }
    }
}
