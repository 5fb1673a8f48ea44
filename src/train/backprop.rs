//! The dedicated CPU training path: one shard's forward and backward for this one architecture,
//! written out by hand over the `gemm` crate, the activations the backward pass needs kept in
//! buffers reused from step to step.
//!
//! burn's autodiff computes the same gradients (it stays the reference, and the path on other
//! devices), but on two CPU cores it spends more than half of a step outside the matrix
//! products: one graph node, one allocation and one pass over memory per elementary op (the
//! LayerNorm, GELU and softmax backward passes are a dozen ops each), libm's `erff`, copies for
//! every reshape of the heads. Here each of those is one loop, GEMMs read strided operands in
//! place (no transposed copies), and the causal attention of one head of one sequence is four
//! small GEMMs over a `[T, T]` scratch.
//!
//! [`Learner`](super::Learner) feeds the gradients to burn's AdamW, so optimizer state,
//! checkpoints and schedules are unchanged; the tests check the gradients against burn's
//! autodiff on random batches (padding, soft targets, weights, both value kinds, no positions).
//!
//! The computation, for `N = B * T` rows of width `C`:
//!
//! ```text
//! x = wte[tok] + wpe[pos]
//! per layer:  a1 = LN1(x); qkv = a1 Wa + ba; y = causal softmax(q k^T / sqrt(hd)) v per head
//!             x += y Wp + bp
//!             a2 = LN2(x); h = GELU(a2 Wf + bf); x += h Wm + bm
//! hf = LNf(x)
//! policy rows: logits = hf[rows] wte^T; loss_i = w_i * CE(logits_i, p_i) / M
//! value rows:  v = squash(GELU(hf[rows] Wv + bv) wo + bo); loss_j = vw * w_j (v_j - y_j)^2 / M_v
//! ```

use gemm::Parallelism;

use super::learner::Collated;
use crate::model::kernels::{self, dispatch};
use crate::model::{LayerWeights, ValueKind, Weights};

/// LayerNorm epsilon: burn's and PyTorch's default.
const LN_EPS: f32 = 1e-5;

/// `dst = a @ b` (or `+=` when `acc`) over strided operands, on the calling thread (each shard
/// has its own): [`kernels::matmul_strided`].
#[allow(clippy::too_many_arguments)]
fn mm(
    dst: &mut [f32],
    d_rs: usize,
    a: &[f32],
    a_strides: (usize, usize),
    b: &[f32],
    b_strides: (usize, usize),
    mkn: (usize, usize, usize),
    acc: bool,
) {
    kernels::matmul_strided(dst, d_rs, a, a_strides, b, b_strides, mkn, acc, Parallelism::None);
}

/// Row-major `[r, c]`: strides `(c, 1)`.
fn rm(c: usize) -> (usize, usize) {
    (c, 1)
}

/// The transpose of a row-major `[r, c]` buffer, read as `[c, r]`: strides `(1, c)`.
fn tr(c: usize) -> (usize, usize) {
    (1, c)
}

/// `y[N, out] = x[N, in] @ w[in, out] + bias`, or `y +=` that when `acc` (a residual branch).
fn linear(y: &mut [f32], x: &[f32], (w, b): &(Vec<f32>, Vec<f32>), rows: usize, acc: bool) {
    let (d_out, d_in) = (b.len(), w.len() / b.len());
    mm(y, d_out, x, rm(d_in), w, rm(d_out), (rows, d_in, d_out), acc);
    kernels::add_bias(&mut y[..rows * d_out], b);
}

/// The backward of [`linear`]: `dw = x^T dy`, `db = colsum(dy)`, and, when `dx` is given,
/// `dx = dy w^T` (overwritten).
fn linear_back(
    dy: &[f32],
    x: &[f32],
    (w, b): &(Vec<f32>, Vec<f32>),
    rows: usize,
    (dw, db): &mut (Vec<f32>, Vec<f32>),
    dx: Option<&mut [f32]>,
) {
    let (d_out, d_in) = (b.len(), w.len() / b.len());
    mm(dw, d_out, x, tr(d_in), dy, rm(d_out), (d_in, rows, d_out), false);
    col_sum(db, &dy[..rows * d_out]);
    if let Some(dx) = dx {
        mm(dx, d_in, dy, rm(d_out), w, tr(d_out), (rows, d_out, d_in), false);
    }
}

dispatch! {
    /// `out[n] = sum over rows of x[m, n]`.
    col_sum => col_sum_body(out: &mut [f32], x: &[f32])
}

#[inline(always)]
fn col_sum_body(out: &mut [f32], x: &[f32]) {
    out.fill(0.0);
    for row in x.chunks_exact(out.len()) {
        for (o, v) in out.iter_mut().zip(row) {
            *o += v;
        }
    }
}

dispatch! {
    /// LayerNorm of each row of `x[m, C]`, keeping what the backward needs: the normalised rows
    /// `hat`, the reciprocal standard deviations `rstd[m]`, and the output `out = hat * g + b`.
    ln_forward => ln_forward_body(
        x: &[f32], g: &[f32], b: &[f32], hat: &mut [f32], rstd: &mut [f32], out: &mut [f32]
    )
}

#[inline(always)]
fn ln_forward_body(x: &[f32], g: &[f32], b: &[f32], hat: &mut [f32], rstd: &mut [f32], out: &mut [f32]) {
    let c = g.len();
    let rows = x.chunks_exact(c).zip(hat.chunks_exact_mut(c)).zip(out.chunks_exact_mut(c));
    for (((row, h), o), r) in rows.zip(rstd.iter_mut()) {
        let mean = kernels::sum(row) / c as f32;
        for (h, &v) in h.iter_mut().zip(row) {
            *h = v - mean;
        }
        let inv = 1.0 / (kernels::dot(h, h) / c as f32 + LN_EPS).sqrt();
        *r = inv;
        for i in 0..c {
            h[i] *= inv;
            o[i] = h[i] * g[i] + b[i];
        }
    }
}

dispatch! {
    /// The backward of [`ln_forward`]: accumulates the gain's and bias's gradients into `dg`,
    /// `db`, and adds `dx = rstd * (dhat - mean(dhat) - hat * mean(dhat * hat))`, with
    /// `dhat = dy * g`, into `dx`.
    ln_backward => ln_backward_body(
        dy: &[f32], hat: &[f32], rstd: &[f32], g: &[f32], dg: &mut [f32], db: &mut [f32],
        dx: &mut [f32]
    )
}

#[inline(always)]
fn ln_backward_body(
    dy: &[f32],
    hat: &[f32],
    rstd: &[f32],
    g: &[f32],
    dg: &mut [f32],
    db: &mut [f32],
    dx: &mut [f32],
) {
    let c = g.len();
    let rows = dy.chunks_exact(c).zip(hat.chunks_exact(c)).zip(dx.chunks_exact_mut(c));
    for (((dy, h), dx), &r) in rows.zip(rstd) {
        let (mut sum, mut sum_h) = (0.0f32, 0.0f32);
        for i in 0..c {
            dg[i] += dy[i] * h[i];
            db[i] += dy[i];
            let dhat = dy[i] * g[i];
            sum += dhat;
            sum_h += dhat * h[i];
        }
        let (mean, mean_h) = (sum / c as f32, sum_h / c as f32);
        for i in 0..c {
            dx[i] += r * (dy[i] * g[i] - mean - h[i] * mean_h);
        }
    }
}

dispatch! {
    /// `d *= GELU'(x)`, with `GELU'(x) = Phi(x) + x phi(x)`.
    gelu_back => gelu_back_body(d: &mut [f32], x: &[f32])
}

#[inline(always)]
fn gelu_back_body(d: &mut [f32], x: &[f32]) {
    // 1 / sqrt(2 pi).
    const INV_SQRT_2PI: f32 = 0.398_942_3;
    for (d, &v) in d.iter_mut().zip(x) {
        let cdf = 0.5 * (1.0 + kernels::erf(v * std::f32::consts::FRAC_1_SQRT_2));
        let pdf = INV_SQRT_2PI * kernels::exp(-0.5 * v * v);
        *d *= cdf + v * pdf;
    }
}

dispatch! {
    /// Row `i` of `s[T, T]`: scaled, masked to columns `0..=i`, softmaxed in place (masked
    /// entries exactly 0).
    causal_softmax => causal_softmax_body(s: &mut [f32], t: usize, scale: f32)
}

#[inline(always)]
fn causal_softmax_body(s: &mut [f32], t: usize, scale: f32) {
    for (i, row) in s.chunks_exact_mut(t).enumerate() {
        let (live, masked) = row.split_at_mut(i + 1);
        for v in live.iter_mut() {
            *v *= scale;
        }
        kernels::softmax_body(live);
        masked.fill(0.0);
    }
}

dispatch! {
    /// The softmax backward in place, for rows of probabilities `p[T, T]`:
    /// `dp <- scale * p * (dp - rowsum(dp * p))`.
    softmax_back => softmax_back_body(dp: &mut [f32], p: &[f32], t: usize, scale: f32)
}

#[inline(always)]
fn softmax_back_body(dp: &mut [f32], p: &[f32], t: usize, scale: f32) {
    for (d, p) in dp.chunks_exact_mut(t).zip(p.chunks_exact(t)) {
        let inner = kernels::dot(d, p);
        for (d, &p) in d.iter_mut().zip(p) {
            *d = scale * p * (*d - inner);
        }
    }
}

/// Resizes `v` to `n` (contents are overwritten by whoever uses it next).
fn fit(v: &mut Vec<f32>, n: usize) -> &mut [f32] {
    v.resize(n, 0.0);
    &mut v[..n]
}

/// Gradients shaped like the weights they belong to, zeroed (`wte_t` is left empty: the tied
/// head's gradient is part of `wte`'s).
pub(crate) fn zero_grads(w: &Weights) -> Weights {
    let z = |v: &Vec<f32>| vec![0.0f32; v.len()];
    let z2 = |(a, b): &(Vec<f32>, Vec<f32>)| (z(a), z(b));
    Weights {
        config: w.config.clone(),
        wte: z(&w.wte),
        wte_t: Vec::new(),
        wpe: z(&w.wpe),
        layers: w
            .layers
            .iter()
            .map(|l| LayerWeights {
                ln_1: z2(&l.ln_1),
                c_attn: z2(&l.c_attn),
                attn_proj: z2(&l.attn_proj),
                ln_2: z2(&l.ln_2),
                c_fc: z2(&l.c_fc),
                mlp_proj: z2(&l.mlp_proj),
            })
            .collect(),
        ln_f: z2(&w.ln_f),
        value_fc: z2(&w.value_fc),
        value_out: z2(&w.value_out),
    }
}

/// One layer's saved activations.
#[derive(Debug, Default)]
struct LayerActs {
    hat1: Vec<f32>,
    rstd1: Vec<f32>,
    a1: Vec<f32>,
    qkv: Vec<f32>,
    /// Attention probabilities, `[B, nh, T, T]`.
    probs: Vec<f32>,
    y: Vec<f32>,
    hat2: Vec<f32>,
    rstd2: Vec<f32>,
    a2: Vec<f32>,
    /// The MLP's hidden layer before and after GELU, `[N, 4C]`.
    pre: Vec<f32>,
    act: Vec<f32>,
}

/// Buffers for one shard, reused across steps: once they have grown to the batch's shape, a step
/// allocates only the gradients it returns (burn's optimizer takes those over).
#[derive(Debug, Default)]
pub(crate) struct Workspace {
    layers: Vec<LayerActs>,
    x: Vec<f32>,
    tmp: Vec<f32>,
    hat_f: Vec<f32>,
    rstd_f: Vec<f32>,
    hf: Vec<f32>,
    dx: Vec<f32>,
    dhf: Vec<f32>,
    dqkv: Vec<f32>,
    dact: Vec<f32>,
    dy: Vec<f32>,
    dp: Vec<f32>,
    // Heads.
    rows_h: Vec<f32>,
    logits: Vec<f32>,
    drows: Vec<f32>,
    z1: Vec<f32>,
    g1: Vec<f32>,
}

/// One shard's losses (its parts of the batch's, see [`gradients`]) and gradients.
#[derive(Debug)]
pub(crate) struct ShardResult {
    pub grads: Weights,
    pub policy: f32,
    pub value: f32,
}

/// Forward and backward of one shard. Each loss term is divided by the whole batch's count of
/// its targets (`m_p`, `m_v`), so shards' gradients and losses add up to the batch's; the value
/// term's gradient is weighted by `value_weight` (its reported loss is not).
pub(crate) fn gradients(
    w: &Weights,
    b: &Collated,
    (m_p, m_v): (usize, usize),
    value_weight: f32,
    learned_positions: bool,
    ws: &mut Workspace,
) -> ShardResult {
    let cfg = &w.config;
    let (c, nh, v) = (cfg.d_model, cfg.n_head, cfg.vocab_size);
    let (t, hd) = (b.t, cfg.head_dim());
    let n_seq = b.tokens.len() / t;
    let n = n_seq * t;
    let scale = 1.0 / (hd as f32).sqrt();
    let mut g = zero_grads(w);
    ws.layers.resize_with(w.layers.len(), LayerActs::default);

    // Embeddings.
    let x = fit(&mut ws.x, n * c);
    for (r, row) in x.chunks_exact_mut(c).enumerate() {
        let tok = b.tokens[r] as usize;
        row.copy_from_slice(&w.wte[tok * c..(tok + 1) * c]);
        if learned_positions {
            let pos = r % t;
            for (x, p) in row.iter_mut().zip(&w.wpe[pos * c..(pos + 1) * c]) {
                *x += p;
            }
        }
    }

    // Blocks, forward.
    for (lw, acts) in w.layers.iter().zip(ws.layers.iter_mut()) {
        let x = &mut ws.x[..n * c];
        let (hat, rstd, a1) = (fit(&mut acts.hat1, n * c), fit(&mut acts.rstd1, n), fit(&mut acts.a1, n * c));
        ln_forward(x, &lw.ln_1.0, &lw.ln_1.1, hat, rstd, a1);
        let qkv = fit(&mut acts.qkv, n * 3 * c);
        linear(qkv, a1, &lw.c_attn, n, false);
        let probs = fit(&mut acts.probs, n_seq * nh * t * t);
        let y = fit(&mut acts.y, n * c);
        for s in 0..n_seq {
            for h in 0..nh {
                let p = &mut probs[(s * nh + h) * t * t..][..t * t];
                let base = s * t * 3 * c + h * hd;
                let (q, k, vv) = (&qkv[base..], &qkv[base + c..], &qkv[base + 2 * c..]);
                mm(p, t, q, rm(3 * c), k, tr(3 * c), (t, hd, t), false);
                causal_softmax(p, t, scale);
                mm(&mut y[s * t * c + h * hd..], c, p, rm(t), vv, rm(3 * c), (t, t, hd), false);
            }
        }
        linear(x, y, &lw.attn_proj, n, true);
        let (hat, rstd, a2) = (fit(&mut acts.hat2, n * c), fit(&mut acts.rstd2, n), fit(&mut acts.a2, n * c));
        ln_forward(x, &lw.ln_2.0, &lw.ln_2.1, hat, rstd, a2);
        let pre = fit(&mut acts.pre, n * 4 * c);
        linear(pre, a2, &lw.c_fc, n, false);
        let act = fit(&mut acts.act, n * 4 * c);
        act.copy_from_slice(pre);
        kernels::gelu(act);
        linear(x, act, &lw.mlp_proj, n, true);
    }
    let (hat_f, rstd_f, hf) = (fit(&mut ws.hat_f, n * c), fit(&mut ws.rstd_f, n), fit(&mut ws.hf, n * c));
    ln_forward(&ws.x[..n * c], &w.ln_f.0, &w.ln_f.1, hat_f, rstd_f, hf);

    // Heads: losses and the gradient of the final hidden states.
    let dhf = fit(&mut ws.dhf, n * c);
    dhf.fill(0.0);
    let mut policy = 0.0f64;
    let m = b.p_rows.len();
    if m > 0 {
        let hp = fit(&mut ws.rows_h, m * c);
        gather(hp, hf, &b.p_rows, c);
        let logits = fit(&mut ws.logits, m * v);
        mm(logits, v, hp, rm(c), &w.wte, tr(c), (m, c, v), false);
        let inv_m = 1.0 / m_p as f32;
        for (i, z) in logits.chunks_exact_mut(v).enumerate() {
            let p = &b.p_targets[i * v..(i + 1) * v];
            let wi = b.p_weights[i];
            let max = z.iter().fold(f32::NEG_INFINITY, |a, &x| a.max(x));
            let sum_exp: f32 = z.iter().map(|&x| (x - max).exp()).sum();
            let lse = max + sum_exp.ln();
            let (mut ce, mut mass) = (0.0f32, 0.0f32);
            for (&zi, &pi) in z.iter().zip(p) {
                ce -= pi * (zi - lse);
                mass += pi;
            }
            policy += (wi * ce) as f64;
            // d/dz of w * CE / M: w (softmax * sum(p) - p) / M.
            for (zi, &pi) in z.iter_mut().zip(p) {
                *zi = wi * inv_m * ((*zi - lse).exp() * mass - pi);
            }
        }
        policy /= m_p as f64;
        let drows = fit(&mut ws.drows, m * c);
        mm(drows, c, logits, rm(v), &w.wte, rm(c), (m, v, c), false);
        scatter_add(dhf, drows, &b.p_rows, c);
        mm(&mut g.wte, c, logits, tr(v), hp, rm(c), (v, m, c), false);
    }
    let mut value = 0.0f64;
    let mv = b.v_rows.len();
    if mv > 0 {
        let hid = w.value_fc.1.len();
        let hv = fit(&mut ws.rows_h, mv * c);
        gather(hv, hf, &b.v_rows, c);
        let z1 = fit(&mut ws.z1, mv * hid);
        linear(z1, hv, &w.value_fc, mv, false);
        let g1 = fit(&mut ws.g1, mv * hid);
        g1.copy_from_slice(z1);
        kernels::gelu(g1);
        let (wo, bo) = (&w.value_out.0, w.value_out.1[0]);
        let inv_m = 1.0 / m_v as f32;
        // g1 becomes dL/d(g1) row by row, after its row has served the output's gradient.
        let mut dbo = 0.0f32;
        for (j, row) in g1.chunks_exact_mut(hid).enumerate() {
            let raw = kernels::dot(row, wo) + bo;
            let (pred, dsquash) = match cfg.value {
                ValueKind::Game => {
                    let p = raw.tanh();
                    (p, 1.0 - p * p)
                }
                ValueKind::Task => {
                    let p = 1.0 / (1.0 + (-raw).exp());
                    (p, p * (1.0 - p))
                }
            };
            let err = pred - b.v_targets[j];
            let wj = b.v_weights[j];
            value += (wj * err * err) as f64;
            let draw = value_weight * 2.0 * wj * err * inv_m * dsquash;
            dbo += draw;
            for ((gw, x), &wk) in g.value_out.0.iter_mut().zip(row.iter_mut()).zip(wo) {
                *gw += *x * draw;
                *x = draw * wk;
            }
        }
        value /= m_v as f64;
        g.value_out.1[0] = dbo;
        gelu_back(g1, z1);
        let drows = fit(&mut ws.drows, mv * c);
        linear_back(g1, hv, &w.value_fc, mv, &mut g.value_fc, Some(drows));
        scatter_add(dhf, drows, &b.v_rows, c);
    }

    // Backward through ln_f and the blocks; `dx` is the residual stream's gradient.
    let dx = fit(&mut ws.dx, n * c);
    dx.fill(0.0);
    ln_backward(dhf, hat_f, rstd_f, &w.ln_f.0, &mut g.ln_f.0, &mut g.ln_f.1, dx);
    for ((lw, acts), lg) in w.layers.iter().zip(&ws.layers).zip(g.layers.iter_mut()).rev() {
        // MLP.
        let dact = fit(&mut ws.dact, n * 4 * c);
        linear_back(dx, &acts.act, &lw.mlp_proj, n, &mut lg.mlp_proj, Some(dact));
        gelu_back(dact, &acts.pre);
        let tmp = fit(&mut ws.tmp, n * c);
        linear_back(dact, &acts.a2, &lw.c_fc, n, &mut lg.c_fc, Some(tmp));
        ln_backward(tmp, &acts.hat2, &acts.rstd2, &lw.ln_2.0, &mut lg.ln_2.0, &mut lg.ln_2.1, dx);
        // Attention.
        let dy = fit(&mut ws.dy, n * c);
        linear_back(dx, &acts.y, &lw.attn_proj, n, &mut lg.attn_proj, Some(dy));
        let dqkv = fit(&mut ws.dqkv, n * 3 * c);
        let dp = fit(&mut ws.dp, t * t);
        for s in 0..n_seq {
            for h in 0..nh {
                let p = &acts.probs[(s * nh + h) * t * t..][..t * t];
                let base = s * t * 3 * c + h * hd;
                let (q, k, vv) = (&acts.qkv[base..], &acts.qkv[base + c..], &acts.qkv[base + 2 * c..]);
                let dyh = &dy[s * t * c + h * hd..];
                // dP = dY v^T; dV = P^T dY.
                mm(dp, t, dyh, rm(c), vv, tr(3 * c), (t, hd, t), false);
                mm(&mut dqkv[base + 2 * c..], 3 * c, p, tr(t), dyh, rm(c), (t, t, hd), false);
                softmax_back(dp, p, t, scale);
                // dQ = dS K; dK = dS^T Q.
                mm(&mut dqkv[base..], 3 * c, dp, rm(t), k, rm(3 * c), (t, t, hd), false);
                mm(&mut dqkv[base + c..], 3 * c, dp, tr(t), q, rm(3 * c), (t, t, hd), false);
            }
        }
        linear_back(dqkv, &acts.a1, &lw.c_attn, n, &mut lg.c_attn, Some(tmp));
        ln_backward(tmp, &acts.hat1, &acts.rstd1, &lw.ln_1.0, &mut lg.ln_1.0, &mut lg.ln_1.1, dx);
    }

    // Embeddings (the tied head's part of wte's gradient is already there).
    for (r, row) in dx.chunks_exact(c).enumerate() {
        let tok = b.tokens[r] as usize;
        add_into(&mut g.wte[tok * c..(tok + 1) * c], row);
        if learned_positions {
            let pos = r % t;
            add_into(&mut g.wpe[pos * c..(pos + 1) * c], row);
        }
    }
    ShardResult { grads: g, policy: policy as f32, value: value as f32 }
}

/// `dst += src`.
fn add_into(dst: &mut [f32], src: &[f32]) {
    for (d, s) in dst.iter_mut().zip(src) {
        *d += s;
    }
}

/// `out[i] = x[rows[i]]` for rows of width `c`.
fn gather(out: &mut [f32], x: &[f32], rows: &[i64], c: usize) {
    for (o, &r) in out.chunks_exact_mut(c).zip(rows) {
        o.copy_from_slice(&x[r as usize * c..(r as usize + 1) * c]);
    }
}

/// `x[rows[i]] += d[i]` (rows may repeat).
fn scatter_add(x: &mut [f32], d: &[f32], rows: &[i64], c: usize) {
    for (row, &r) in d.chunks_exact(c).zip(rows) {
        add_into(&mut x[r as usize * c..(r as usize + 1) * c], row);
    }
}
