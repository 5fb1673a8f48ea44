//! [`PolicyEvaluator`]: the dedicated CPU inference path that search calls, with the key/value
//! cache on the search tree.
//!
//! One call evaluates a whole batch of leaves, from many trees at once:
//!
//! 1. **Plan.** Each leaf names the cache of an ancestor (or none). Its prefix's slots come
//!    from the cache tree ([`KvArena`]); each of its new positions gets a fresh slot. All new
//!    positions of all leaves become the rows of one activation matrix `[N, C]`.
//! 2. **Layers.** Per layer: LayerNorm, one GEMM for queries/keys/values of all `N` rows, keys
//!    and values written into their slots, then per row and head attention over the row's own
//!    chain of slots (its prefix and its earlier new positions), one GEMM for the output
//!    projection, and two for the MLP. No per-step concatenation: K/V are written once, where
//!    they stay.
//! 3. **Heads.** Only each leaf's last position needs the heads: `ln_f`, one GEMM
//!    `[B, C] x [C, V]` for the tied policy head, the value MLP. Priors are the softmax over the
//!    leaf's legal tokens only (illegal tokens get no probability at all).
//! 4. **Keep.** A leaf asked to `keep` becomes a cache node owning its new slots; the others'
//!    slots go back to the free list.
//!
//! Buffers are owned by the evaluator and reused across calls. Parity with burn's full
//! forward ([`super::Gpt::forward`]) is tested to 1e-5 on random prefix trees.
//!
//! **Sequences longer than `block_size`** cannot be read by a model with learned positions.
//! Such a leaf gets uniform priors over its legal tokens and the neutral value (0 for games,
//! 0.5 for tasks), costs no positions, keeps no cache, and is counted in
//! [`PolicyEvaluator::overflows`]; the first one also prints a warning. Choose `block_size` above
//! the environment's longest state.

use gemm::Parallelism;
use ponder_env::{State, Token};
use rayon::prelude::*;

use super::cache::{CacheStats, KvArena};
use super::kernels::{self, matmul};
use super::weights::Policy;
use crate::search::{CacheId, Evaluations, Evaluator, Leaf, NO_CACHE};

/// LayerNorm epsilon: burn's and PyTorch's default.
const LN_EPS: f32 = 1e-5;

/// Where one leaf's work lies in the batch.
#[derive(Debug, Clone, Copy)]
struct LeafPlan {
    /// Offset of the leaf's slot chain in `seq_slots`.
    seq_off: usize,
    /// Positions in the whole sequence.
    len: usize,
    /// New positions computed now (the rows `first_row..first_row + n_new`).
    n_new: usize,
    first_row: usize,
    /// Too long for the model: answered uniformly.
    overflow: bool,
}

/// One new position computed in this call.
#[derive(Debug, Clone, Copy)]
struct Row {
    leaf: u32,
    /// Absolute position in the leaf's sequence.
    pos: u32,
    /// The slot its key and value go to.
    slot: u32,
    /// Offset of the leaf's chain in `seq_slots`: the row attends to `pos + 1` slots from there.
    chain: u32,
}

/// A batched, tree-cached evaluator over a [`Policy`]; one per actor thread.
#[derive(Debug)]
pub struct PolicyEvaluator {
    policy: Policy,
    arena: KvArena,
    par: Parallelism,
    threads: usize,
    overflows: u64,
    // Reused scratch.
    plans: Vec<LeafPlan>,
    /// Every leaf's slot chain, concatenated.
    seq_slots: Vec<u32>,
    /// Per new row: which leaf, position and slot, and where its chain starts.
    rows: Vec<Row>,
    /// Per extra GEMM thread, attention scratch.
    scratch: Vec<Vec<f32>>,
    stack: Vec<u32>,
    x: Vec<f32>,
    h: Vec<f32>,
    qkv: Vec<f32>,
    att: Vec<f32>,
    ff: Vec<f32>,
    scores: Vec<f32>,
    hf: Vec<f32>,
    logits: Vec<f32>,
    vh: Vec<f32>,
}

impl PolicyEvaluator {
    /// A fresh evaluator with an empty cache and single-threaded GEMMs.
    pub fn new(policy: Policy) -> Self {
        let cfg = policy.config();
        // Room for 4096 cached positions to start (4 MB at the default size); grows by doubling.
        let arena = KvArena::new(cfg.n_layer, cfg.d_model, 4096);
        PolicyEvaluator {
            policy,
            arena,
            par: Parallelism::None,
            threads: 1,
            overflows: 0,
            plans: Vec::new(),
            seq_slots: Vec::new(),
            rows: Vec::new(),
            scratch: Vec::new(),
            stack: Vec::new(),
            x: Vec::new(),
            h: Vec::new(),
            qkv: Vec::new(),
            att: Vec::new(),
            ff: Vec::new(),
            scores: Vec::new(),
            hf: Vec::new(),
            logits: Vec::new(),
            vh: Vec::new(),
        }
    }

    /// Runs the GEMMs on `threads` threads of rayon's global pool (1: on the calling thread).
    /// Self-play picks between parallel actors with one thread each (the default, best for
    /// throughput) and one actor with a parallel GEMM (best for latency).
    pub fn with_threads(mut self, threads: usize) -> Self {
        self.set_threads(threads);
        self
    }

    /// See [`PolicyEvaluator::with_threads`].
    pub fn set_threads(&mut self, threads: usize) {
        self.threads = threads.max(1);
        self.par = if self.threads == 1 { Parallelism::None } else { Parallelism::Rayon(self.threads) };
    }

    /// The GEMM thread count.
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// The policy this evaluator runs.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// How many leaves so far were longer than `block_size` (answered uniformly).
    pub fn overflows(&self) -> u64 {
        self.overflows
    }

    /// What the cache arena holds.
    pub fn cache_stats(&self) -> CacheStats {
        self.arena.stats()
    }

    /// The search no longer needs these caches ([`Evaluator::release`], callable without naming
    /// the state type).
    pub fn release(&mut self, caches: &[CacheId]) {
        for &id in caches {
            self.arena.release(id);
        }
    }

    /// Drops every cache (e.g. between games), keeping the memory.
    pub fn clear_cache(&mut self) {
        self.arena.clear();
    }

    /// The policy logits of the last call's leaves: `[B, V]`, leaf order (zeros for an
    /// overflowing leaf). For tests and System 1 decoding with a full distribution.
    pub fn logits(&self) -> &[f32] {
        &self.logits
    }

    /// Evaluates `leaves` into `out`; `legal` and `keep` are read from each leaf.
    fn run<S: State>(&mut self, leaves: &[Leaf<'_, S>], out: &mut Evaluations) {
        out.clear();
        let cfg = self.policy.config().clone();
        let (c, v) = (cfg.d_model, cfg.vocab_size);
        let b = leaves.len();

        // 1. Plan: every leaf's slot chain and new rows.
        self.plans.clear();
        self.seq_slots.clear();
        self.rows.clear();
        for (i, leaf) in leaves.iter().enumerate() {
            let tokens = leaf.state.tokens();
            let seq_off = self.seq_slots.len();
            if tokens.is_empty() || tokens.len() > cfg.block_size {
                self.overflow_warning(tokens.len(), cfg.block_size);
                let plan = LeafPlan { seq_off, len: 0, n_new: 0, first_row: self.rows.len(), overflow: true };
                self.plans.push(plan);
                continue;
            }
            if let Some(&t) = tokens.iter().find(|&&t| t as usize >= v) {
                panic!("token {t} is outside the model's vocabulary of {v}");
            }
            let prefix = if leaf.parent == NO_CACHE {
                0
            } else {
                self.arena.prefix_slots(leaf.parent, tokens, &mut self.seq_slots, &mut self.stack)
            };
            let first_row = self.rows.len();
            for (p, &t) in tokens.iter().enumerate().skip(prefix) {
                let slot = self.arena.alloc_slot(t);
                self.seq_slots.push(slot);
                self.rows.push(Row { leaf: i as u32, pos: p as u32, slot, chain: seq_off as u32 });
            }
            let n_new = tokens.len() - prefix;
            self.plans.push(LeafPlan { seq_off, len: tokens.len(), n_new, first_row, overflow: false });
        }
        let n = self.rows.len();

        // 2. The transformer over all new rows.
        if n > 0 {
            self.layers(leaves, n);
        }

        // 3. Heads at each leaf's last position: hf [B, C].
        let w = self.policy.weights();
        self.hf.clear();
        self.hf.resize(b * c, 0.0);
        for (i, (plan, leaf)) in self.plans.iter().zip(leaves).enumerate() {
            let dst = &mut self.hf[i * c..(i + 1) * c];
            if plan.overflow {
                continue;
            }
            if plan.n_new > 0 {
                let r = plan.first_row + plan.n_new - 1;
                kernels::layer_norm(dst, &self.x[r * c..(r + 1) * c], &w.ln_f.0, &w.ln_f.1, LN_EPS);
            } else {
                // The leaf is its cached ancestor's own state: reuse the stored hidden state.
                dst.copy_from_slice(self.arena.hidden(leaf.parent));
            }
        }
        self.logits.resize(b * v, 0.0);
        matmul(&mut self.logits, &self.hf, &w.wte_t, b, c, v, false, self.par); // [B, V]
        let hv = cfg.value_hidden();
        self.vh.resize(b * hv, 0.0);
        matmul(&mut self.vh, &self.hf, &w.value_fc.0, b, c, hv, false, self.par); // [B, H]
        kernels::add_bias(&mut self.vh, &w.value_fc.1);
        kernels::gelu(&mut self.vh);

        // 4. Outputs, and caches kept or slots freed.
        for (i, (plan, leaf)) in self.plans.iter().zip(leaves).enumerate() {
            if plan.overflow {
                let k = leaf.legal.len();
                out.priors.extend(std::iter::repeat_n(1.0 / k as f32, k));
                out.values.push(cfg.value.neutral());
                out.caches.push(NO_CACHE);
                out.positions.push(0);
                continue;
            }
            push_priors(&self.logits[i * v..(i + 1) * v], leaf.legal, &mut out.priors);
            let raw = kernels::dot(&self.vh[i * hv..(i + 1) * hv], &w.value_out.0) + w.value_out.1[0];
            out.values.push(cfg.value.squash(raw));
            out.positions.push(plan.n_new as u32);
            let own = &self.seq_slots[plan.seq_off + plan.len - plan.n_new..plan.seq_off + plan.len];
            if leaf.keep {
                let hidden = &self.hf[i * c..(i + 1) * c];
                out.caches.push(self.arena.insert(leaf.parent, plan.len, own, hidden));
            } else {
                for &s in own {
                    self.arena.free_slot(s);
                }
                out.caches.push(NO_CACHE);
            }
        }
    }

    /// Runs every block over the `n` new rows, leaving the residual stream in `self.x`.
    fn layers<S: State>(&mut self, leaves: &[Leaf<'_, S>], n: usize) {
        // A handle on the weights (an `Arc` clone) so that `self` stays free to borrow.
        let policy = self.policy.clone();
        let (cfg, w) = (policy.config(), policy.weights());
        let (c, nh) = (cfg.d_model, cfg.n_head);
        let hd = c / nh;
        let par = self.par;
        for buf in [&mut self.x, &mut self.h, &mut self.att] {
            buf.resize(n * c, 0.0);
        }
        self.qkv.resize(n * 3 * c, 0.0);
        self.ff.resize(n * 4 * c, 0.0);

        // Embeddings: x = wte[token] + wpe[pos]: [N, C].
        for (r, row) in self.rows.iter().enumerate() {
            let (t, pos) =
                (leaves[row.leaf as usize].state.tokens()[row.pos as usize] as usize, row.pos as usize);
            let (te, pe) = (&w.wte[t * c..(t + 1) * c], &w.wpe[pos * c..(pos + 1) * c]);
            for ((o, a), b) in self.x[r * c..(r + 1) * c].iter_mut().zip(te).zip(pe) {
                *o = a + b;
            }
        }

        let scale = 1.0 / (hd as f32).sqrt();
        for (l, lw) in w.layers.iter().enumerate() {
            // Attention sub-block.
            kernels::layer_norm(&mut self.h, &self.x, &lw.ln_1.0, &lw.ln_1.1, LN_EPS); // [N, C]
            matmul(&mut self.qkv, &self.h, &lw.c_attn.0, n, c, 3 * c, false, par); // [N, 3C]
            kernels::add_bias(&mut self.qkv, &lw.c_attn.1);
            for (row, qkv) in self.rows.iter().zip(self.qkv.chunks_exact(3 * c)) {
                self.arena.store(l, row.slot, &qkv[c..2 * c], &qkv[2 * c..]); // K, V
            }
            self.attention(l, n, scale); // att [N, C]
            matmul(&mut self.x, &self.att, &lw.attn_proj.0, n, c, c, true, par); // x += att Wo
            kernels::add_bias(&mut self.x, &lw.attn_proj.1);

            // MLP sub-block.
            kernels::layer_norm(&mut self.h, &self.x, &lw.ln_2.0, &lw.ln_2.1, LN_EPS); // [N, C]
            matmul(&mut self.ff, &self.h, &lw.c_fc.0, n, c, 4 * c, false, par); // [N, 4C]
            kernels::add_bias(&mut self.ff, &lw.c_fc.1);
            if self.threads > 1 {
                self.ff.par_chunks_mut(c * 64).for_each(kernels::gelu);
            } else {
                kernels::gelu(&mut self.ff);
            }
            matmul(&mut self.x, &self.ff, &lw.mlp_proj.0, n, 4 * c, c, true, par); // x += ff Wp
            kernels::add_bias(&mut self.x, &lw.mlp_proj.1);
        }
    }

    /// Every new row's attention over its chain into `self.att`; the rows are split across the
    /// GEMM threads when there are several.
    fn attention(&mut self, l: usize, n: usize, scale: f32) {
        let cfg = self.policy.config();
        let (c, nh) = (cfg.d_model, cfg.n_head);
        let (k, v) = self.arena.layer(l);
        let (rows, seq, qkv) = (&self.rows, &self.seq_slots, &self.qkv);
        // Rows `first..` into `att`, with `scores` as scratch.
        let run = |att: &mut [f32], first: usize, scores: &mut Vec<f32>| {
            for (i, out) in att.chunks_exact_mut(c).enumerate() {
                let row = rows[first + i];
                let chain = &seq[row.chain as usize..row.chain as usize + row.pos as usize + 1];
                if scores.len() < nh * chain.len() {
                    scores.resize(nh * chain.len(), 0.0);
                }
                let q = &qkv[(first + i) * 3 * c..(first + i) * 3 * c + c];
                kernels::attend(k, v, chain, q, out, nh, scale, scores);
            }
        };
        if self.threads > 1 && n >= 2 * self.threads {
            let per = n.div_ceil(self.threads);
            self.scratch.resize(self.threads, Vec::new());
            let chunks = self.att[..n * c].par_chunks_mut(per * c);
            chunks
                .zip(self.scratch.par_iter_mut())
                .enumerate()
                .for_each(|(t, (att, scores))| run(att, t * per, scores));
        } else {
            run(&mut self.att[..n * c], 0, &mut self.scores);
        }
    }

    fn overflow_warning(&mut self, len: usize, block_size: usize) {
        if self.overflows == 0 {
            eprintln!(
                "warning: a state of {len} tokens does not fit the model's block_size {block_size} \
                 (or is empty); such states get uniform priors and a neutral value"
            );
        }
        self.overflows += 1;
    }
}

/// Appends the softmax of `logits` restricted to `legal`, in `legal`'s order.
pub(crate) fn push_priors(logits: &[f32], legal: &[Token], priors: &mut Vec<f32>) {
    let start = priors.len();
    let max = legal.iter().map(|&a| logits[a as usize]).fold(f32::NEG_INFINITY, f32::max);
    let mut total = 0.0f32;
    for &a in legal {
        let e = (logits[a as usize] - max).exp();
        priors.push(e);
        total += e;
    }
    for p in &mut priors[start..] {
        *p /= total;
    }
}

impl<S: State> Evaluator<S> for PolicyEvaluator {
    fn evaluate(&mut self, leaves: &[Leaf<'_, S>], out: &mut Evaluations) {
        self.run(leaves, out);
    }

    fn release(&mut self, caches: &[CacheId]) {
        PolicyEvaluator::release(self, caches);
    }

    fn learned(&self) -> bool {
        true
    }
}
