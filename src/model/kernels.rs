//! The numeric kernels of the CPU inference path (and, with the training path's own backward
//! kernels in `train/backprop.rs`, of its forward): GEMM, attention over cached rows,
//! LayerNorm, GELU, softmax.
//!
//! GEMMs go to the `gemm` crate (runtime-dispatched SIMD). The other kernels are written twice
//! over one body: the body is plain Rust shaped so LLVM vectorises it (eight independent
//! accumulators, no branches in element loops, polynomial `erf` and `exp` with no libm call),
//! and a wrapper compiles it with AVX2 and FMA enabled, chosen at run time where the CPU has
//! them (Rust's default x86-64 target stops at SSE2). Attention, the one kernel whose shape
//! LLVM cannot see through (a dot product per cached row and head), also has AVX2 intrinsics.
//!
//! Measured on the 2-core Xeon these targets were tuned on: with SSE2 code, attention over the
//! cached rows took 45% of leaf-evaluation time (GEMMs 33%); the AVX2 kernel brought leaf
//! evaluation from ~16k to ~23k leaves/s per core. Software prefetching of the cached rows was
//! tried and measured no gain (the rows of a 40 MB arena mostly come from L3), so it is not here.

use gemm::Parallelism;

/// `dst[m, n] = a[m, k] @ b[k, n]`, or `dst += a @ b` when `accumulate`; all row-major and
/// contiguous.
#[allow(clippy::too_many_arguments)]
pub fn matmul(
    dst: &mut [f32],
    a: &[f32],
    b: &[f32],
    m: usize,
    k: usize,
    n: usize,
    accumulate: bool,
    par: Parallelism,
) {
    matmul_strided(dst, n, a, (k, 1), b, (n, 1), (m, k, n), accumulate, par);
}

/// [`matmul`] over strided operands: element `(i, j)` of the `[m, k]` left operand is
/// `a[i * a_rs + j * a_cs]`, of the `[k, n]` right one `b[i * b_rs + j * b_cs]`, of the `[m, n]`
/// destination `dst[i * d_rs + j]`. A transposed operand is the same buffer with its strides
/// swapped, and one head of a `[T, 3C]` projection is a slice with row stride `3C`.
#[allow(clippy::too_many_arguments)]
pub fn matmul_strided(
    dst: &mut [f32],
    d_rs: usize,
    a: &[f32],
    (a_rs, a_cs): (usize, usize),
    b: &[f32],
    (b_rs, b_cs): (usize, usize),
    (m, k, n): (usize, usize, usize),
    accumulate: bool,
    par: Parallelism,
) {
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            for i in 0..m {
                dst[i * d_rs..i * d_rs + n].fill(0.0);
            }
        }
        return;
    }
    let last = |rs: usize, cs: usize, r: usize, c: usize| (r - 1) * rs + (c - 1) * cs;
    assert!(
        last(a_rs, a_cs, m, k) < a.len()
            && last(b_rs, b_cs, k, n) < b.len()
            && last(d_rs, 1, m, n) < dst.len(),
        "matmul shapes"
    );
    // SAFETY: the assert keeps the furthest element of each strided operand inside its slice
    // (strides are non-negative, so every other element lies before it); `dst` is a distinct
    // mutable borrow, so it aliases neither operand.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            d_rs as isize,
            accumulate,
            a.as_ptr(),
            a_cs as isize,
            a_rs as isize,
            b.as_ptr(),
            b_cs as isize,
            b_rs as isize,
            1.0,
            1.0,
            false,
            false,
            false,
            par,
        );
    }
}

/// Whether the AVX2 + FMA versions can run here (cached by the standard library).
#[inline]
pub fn avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Defines `pub fn $name(args)` that runs `$body(args)` compiled for AVX2 + FMA where the CPU
/// has them, and as plain code elsewhere.
macro_rules! dispatch {
    ($(#[$doc:meta])* $name:ident => $body:ident ( $($arg:ident : $ty:ty),* )) => {
        $(#[$doc])*
        pub fn $name($($arg: $ty),*) {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx2,fma")]
                unsafe fn fast($($arg: $ty),*) {
                    $body($($arg),*)
                }
                if $crate::model::kernels::avx2() {
                    // SAFETY: the CPU supports AVX2 and FMA (checked just above).
                    return unsafe { fast($($arg),*) };
                }
            }
            $body($($arg),*)
        }
    };
}
pub(crate) use dispatch;

dispatch! {
    /// Adds `bias[n]` to every row of `x[m, n]`.
    add_bias => add_bias_body(x: &mut [f32], bias: &[f32])
}

#[inline(always)]
fn add_bias_body(x: &mut [f32], bias: &[f32]) {
    for row in x.chunks_exact_mut(bias.len()) {
        for (v, b) in row.iter_mut().zip(bias) {
            *v += b;
        }
    }
}

dispatch! {
    /// LayerNorm of each row of `x[m, C]` into `out[m, C]`: `(x - mean) / sqrt(var + eps) * g + b`
    /// with the biased variance, as burn and PyTorch compute it.
    layer_norm => layer_norm_body(out: &mut [f32], x: &[f32], gain: &[f32], bias: &[f32], eps: f32)
}

#[inline(always)]
fn layer_norm_body(out: &mut [f32], x: &[f32], gain: &[f32], bias: &[f32], eps: f32) {
    let c = gain.len();
    for (o, row) in out.chunks_exact_mut(c).zip(x.chunks_exact(c)) {
        let mean = sum(row) / c as f32;
        let mut acc = [0.0f32; 8];
        let chunks = row.chunks_exact(8);
        let mut var: f32 = chunks.remainder().iter().map(|v| (v - mean) * (v - mean)).sum();
        for ch in chunks {
            for i in 0..8 {
                acc[i] += (ch[i] - mean) * (ch[i] - mean);
            }
        }
        var += acc.iter().sum::<f32>();
        let inv = 1.0 / (var / c as f32 + eps).sqrt();
        for i in 0..c {
            o[i] = (row[i] - mean) * inv * gain[i] + bias[i];
        }
    }
}

/// Sum with eight accumulators (vectorisable, and closer to the pairwise sums of the tensor
/// libraries than one running sum).
#[inline(always)]
pub fn sum(x: &[f32]) -> f32 {
    let mut acc = [0.0f32; 8];
    let chunks = x.chunks_exact(8);
    let rest = chunks.remainder();
    for ch in chunks {
        for i in 0..8 {
            acc[i] += ch[i];
        }
    }
    acc.iter().sum::<f32>() + rest.iter().sum::<f32>()
}

/// Dot product with eight accumulators.
#[inline(always)]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let rest: f32 = ca.remainder().iter().zip(cb.remainder()).map(|(x, y)| x * y).sum();
    for (x, y) in ca.zip(cb) {
        for i in 0..8 {
            acc[i] += x[i] * y[i];
        }
    }
    acc.iter().sum::<f32>() + rest
}

/// The error function to ~1e-7 absolute (a rational approximation on [-4, 4], as in Eigen and
/// XLA; beyond 4 erf is +-1 in f32).
#[inline(always)]
pub fn erf(x: f32) -> f32 {
    let x = x.clamp(-4.0, 4.0);
    let x2 = x * x;
    let mut p = -2.726_142_3e-10f32;
    p = p * x2 + 2.770_681_4e-8;
    p = p * x2 - 2.101_024e-6;
    p = p * x2 - 5.692_506_6e-5;
    p = p * x2 - 7.349_906_3e-4;
    p = p * x2 - 2.954_6e-3;
    p = p * x2 - 1.609_603_3e-2;
    let mut q = -1.456_607_2e-5f32;
    q = q * x2 - 2.133_740_6e-4;
    q = q * x2 - 1.682_827e-3;
    q = q * x2 - 7.373_329e-3;
    q = q * x2 - 1.426_473_9e-2;
    x * p / q
}

dispatch! {
    /// The exact (erf) GELU in place: `x * (1 + erf(x / sqrt 2)) / 2`, burn's and PyTorch's
    /// default.
    gelu => gelu_body(x: &mut [f32])
}

#[inline(always)]
pub(crate) fn gelu_body(x: &mut [f32]) {
    for v in x.iter_mut() {
        *v = 0.5 * *v * (1.0 + erf(*v * std::f32::consts::FRAC_1_SQRT_2));
    }
}

/// `e^x` to ~2 ulp, branch-free (Cephes' polynomial after a base-2 range reduction); inputs
/// below -87 give ~0, as softmax wants.
#[inline(always)]
pub fn exp(x: f32) -> f32 {
    let x = x.clamp(-87.0, 88.0);
    // n = round(x / ln 2) by the 1.5 * 2^23 trick (no rounding instruction needed).
    let t = x * std::f32::consts::LOG2_E + 12_582_912.0;
    let n = t - 12_582_912.0;
    let r = x - n * 0.693_359_4 + n * 2.121_944_4e-4;
    let mut p = 1.987_569_1e-4f32;
    p = p * r + 1.398_199_9e-3;
    p = p * r + 8.333_452e-3;
    p = p * r + 4.166_579_6e-2;
    p = p * r + 1.666_666_5e-1;
    p = p * r + 0.5;
    let y = p * r * r + r + 1.0;
    y * f32::from_bits(((n as i32 + 127) << 23) as u32)
}

dispatch! {
    /// Softmax in place.
    softmax => softmax_body(x: &mut [f32])
}

#[inline(always)]
pub(crate) fn softmax_body(x: &mut [f32]) {
    let mut lanes = [f32::NEG_INFINITY; 8];
    let chunks = x.chunks_exact(8);
    let mut max = chunks.remainder().iter().fold(f32::NEG_INFINITY, |m, &v| if v > m { v } else { m });
    for ch in chunks {
        for i in 0..8 {
            lanes[i] = if ch[i] > lanes[i] { ch[i] } else { lanes[i] };
        }
    }
    max = lanes.iter().fold(max, |m, &v| if v > m { v } else { m });
    for v in x.iter_mut() {
        *v = exp(*v - max);
    }
    let inv = 1.0 / sum(x);
    for v in x.iter_mut() {
        *v *= inv;
    }
}

/// One query row's causal attention over its chain of cached rows, all heads.
///
/// # Shapes
/// - k, v: the layer's key and value slabs, `[slots, d]`; chain: `[T]` slots, positions
///   `0..T` of the query's sequence (the query is at `T - 1`)
/// - q: `[d]` = `[nh, hd]`; out: `[d]`; scores: scratch, at least `[nh, T]`
#[allow(clippy::too_many_arguments)]
pub fn attend(
    k: &[f32],
    v: &[f32],
    chain: &[u32],
    q: &[f32],
    out: &mut [f32],
    nh: usize,
    scale: f32,
    scores: &mut [f32],
) {
    let (d, t) = (q.len(), chain.len());
    assert!(out.len() == d && scores.len() >= nh * t && d % nh == 0, "attend shapes");
    #[cfg(target_arch = "x86_64")]
    if avx2() && (d / nh) % 8 == 0 {
        // SAFETY: AVX2 and FMA are present (checked); shapes are checked above and every row
        // access inside goes through a bounds-checked slice.
        unsafe { attend_avx2(k, v, chain, q, out, nh, scale, scores) };
        return;
    }
    attend_body(k, v, chain, q, out, nh, scale, scores);
}

#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn attend_body(
    k: &[f32],
    v: &[f32],
    chain: &[u32],
    q: &[f32],
    out: &mut [f32],
    nh: usize,
    scale: f32,
    scores: &mut [f32],
) {
    let (d, t) = (q.len(), chain.len());
    let hd = d / nh;
    // Scores: one pass over the keys, each key row read once for all heads.
    for (p, &slot) in chain.iter().enumerate() {
        let key = &k[slot as usize * d..(slot as usize + 1) * d];
        for h in 0..nh {
            scores[h * t + p] = dot(&q[h * hd..(h + 1) * hd], &key[h * hd..(h + 1) * hd]) * scale;
        }
    }
    for h in 0..nh {
        softmax_body(&mut scores[h * t..(h + 1) * t]);
    }
    out.fill(0.0);
    for (p, &slot) in chain.iter().enumerate() {
        let value = &v[slot as usize * d..(slot as usize + 1) * d];
        for h in 0..nh {
            let a = scores[h * t + p];
            for (o, x) in out[h * hd..(h + 1) * hd].iter_mut().zip(&value[h * hd..(h + 1) * hd]) {
                *o += a * x;
            }
        }
    }
}

/// [`attend_body`] with AVX2 intrinsics: the head width a multiple of 8.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[allow(clippy::too_many_arguments)]
unsafe fn attend_avx2(
    k: &[f32],
    v: &[f32],
    chain: &[u32],
    q: &[f32],
    out: &mut [f32],
    nh: usize,
    scale: f32,
    scores: &mut [f32],
) {
    use std::arch::x86_64::*;
    let (d, t) = (q.len(), chain.len());
    let hd = d / nh;
    for (p, &slot) in chain.iter().enumerate() {
        let key = &k[slot as usize * d..(slot as usize + 1) * d];
        for h in 0..nh {
            let (qh, kh) = (&q[h * hd..(h + 1) * hd], &key[h * hd..(h + 1) * hd]);
            let mut acc = _mm256_setzero_ps();
            for j in (0..hd).step_by(8) {
                // SAFETY: j + 8 <= hd = qh.len() = kh.len().
                let (a, b) =
                    unsafe { (_mm256_loadu_ps(qh.as_ptr().add(j)), _mm256_loadu_ps(kh.as_ptr().add(j))) };
                acc = _mm256_fmadd_ps(a, b, acc);
            }
            // Horizontal sum of the 8 lanes.
            let s = _mm_add_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps::<1>(acc));
            let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
            let s = _mm_add_ss(s, _mm_movehdup_ps(s));
            scores[h * t + p] = _mm_cvtss_f32(s) * scale;
        }
    }
    for h in 0..nh {
        softmax_body(&mut scores[h * t..(h + 1) * t]);
    }
    out.fill(0.0);
    for (p, &slot) in chain.iter().enumerate() {
        let value = &v[slot as usize * d..(slot as usize + 1) * d];
        for h in 0..nh {
            let a = _mm256_set1_ps(scores[h * t + p]);
            let (oh, vh) = (&mut out[h * hd..(h + 1) * hd], &value[h * hd..(h + 1) * hd]);
            for j in (0..hd).step_by(8) {
                // SAFETY: j + 8 <= hd = oh.len() = vh.len().
                unsafe {
                    let o = oh.as_mut_ptr().add(j);
                    _mm256_storeu_ps(
                        o,
                        _mm256_fmadd_ps(a, _mm256_loadu_ps(vh.as_ptr().add(j)), _mm256_loadu_ps(o)),
                    );
                }
            }
        }
    }
}
