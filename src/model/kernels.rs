//! The numeric kernels of the CPU inference path: GEMM, LayerNorm, GELU, softmax.
//!
//! GEMMs go to the `gemm` crate (runtime-dispatched SIMD). The rest are plain loops written so
//! that LLVM vectorises them (fixed-width chunks, no branches in the element loops), with
//! polynomial `erf` and `exp` that need no libm call per element: these run over every hidden
//! unit of every new position, so a scalar libm call there would cost as much as the GEMMs.

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
    assert!(dst.len() >= m * n && a.len() >= m * k && b.len() >= k * n, "matmul shapes");
    if m == 0 || n == 0 {
        return;
    }
    // SAFETY: the asserts above keep every access of an m x k, k x n and m x n row-major
    // matrix inside its slice; `dst` does not alias `a` or `b` (distinct borrows).
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            n as isize,
            accumulate,
            a.as_ptr(),
            1,
            k as isize,
            b.as_ptr(),
            1,
            n as isize,
            1.0,
            1.0,
            false,
            false,
            false,
            par,
        );
    }
}

/// Adds `bias[n]` to every row of `x[m, n]`.
pub fn add_bias(x: &mut [f32], bias: &[f32]) {
    for row in x.chunks_exact_mut(bias.len()) {
        for (v, b) in row.iter_mut().zip(bias) {
            *v += b;
        }
    }
}

/// LayerNorm of each row of `x[m, C]` into `out[m, C]`: `(x - mean) / sqrt(var + eps) * g + b`
/// with the biased variance, as burn and PyTorch compute it.
pub fn layer_norm(out: &mut [f32], x: &[f32], gain: &[f32], bias: &[f32], eps: f32) {
    let c = gain.len();
    for (o, row) in out.chunks_exact_mut(c).zip(x.chunks_exact(c)) {
        let mean = sum(row) / c as f32;
        let mut var = 0.0f32;
        for &v in row {
            var += (v - mean) * (v - mean);
        }
        let inv = 1.0 / (var / c as f32 + eps).sqrt();
        for i in 0..c {
            o[i] = (row[i] - mean) * inv * gain[i] + bias[i];
        }
    }
}

/// Sum with eight accumulators (vectorisable, and closer to the pairwise sums of the tensor
/// libraries than one running sum).
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
#[inline]
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

/// `y += a * x`.
#[inline]
pub fn axpy(y: &mut [f32], a: f32, x: &[f32]) {
    for (v, u) in y.iter_mut().zip(x) {
        *v += a * u;
    }
}

/// The error function to ~1e-7 absolute (a rational approximation on [-4, 4], as in Eigen and
/// XLA; beyond 4 erf is +-1 in f32).
#[inline]
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

/// The exact (erf) GELU in place: `x * (1 + erf(x / sqrt 2)) / 2`, burn's and PyTorch's default.
pub fn gelu(x: &mut [f32]) {
    for v in x.iter_mut() {
        *v = 0.5 * *v * (1.0 + erf(*v * std::f32::consts::FRAC_1_SQRT_2));
    }
}

/// `e^x` to ~2 ulp, branch-free (Cephes' polynomial after a base-2 range reduction); inputs
/// below -87 give ~0, as softmax wants.
#[inline]
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

/// Softmax in place.
pub fn softmax(x: &mut [f32]) {
    let max = x.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut total = 0.0;
    for v in x.iter_mut() {
        *v = exp(*v - max);
        total += *v;
    }
    let inv = 1.0 / total;
    for v in x.iter_mut() {
        *v *= inv;
    }
}
