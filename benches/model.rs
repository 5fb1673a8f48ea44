//! Model benchmarks: training throughput, batched forward, and tree-cached leaf evaluation.
//!
//! ```text
//! cargo bench --bench model                     # everything (~3 minutes on 2 cores)
//! cargo bench --bench model -- tree_leaves      # one group
//! ```
//!
//! All at the default model size (d_model 128, 4 layers, 4 heads, ~0.8M parameters).
//! Throughput is in elements: tokens for `train` and `forward`, leaves for `tree_leaves`.
//! `scripts/bench_pytorch.py` runs PyTorch's equivalents and prints the ratios.

use std::time::{Duration, Instant};

use burn::prelude::*;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use ponder::env::{vocab, State, Token};
use ponder::model::{ModelConfig, Policy, PolicyEvaluator};
use ponder::search::{CacheId, Evaluations, Evaluator, Leaf, NO_CACHE};
use ponder::train::{Example, GradientPath, Learner, PolicyTarget, TrainConfig};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A bare token sequence with a fixed set of legal next tokens.
#[derive(Debug, Clone)]
struct Seq {
    tokens: Vec<Token>,
}

/// Cell tokens of a 7 x 7 board: a game-sized action set.
fn legal() -> Vec<Token> {
    (0..49).map(|i| vocab::FIRST_CELL + i).collect()
}

impl State for Seq {
    fn tokens(&self) -> &[Token] {
        &self.tokens
    }
    fn legal_actions(&self, out: &mut Vec<Token>) {
        out.clear();
        out.extend(legal());
    }
    fn apply(&mut self, action: Token) {
        self.tokens.push(action);
    }
    fn to_play(&self) -> usize {
        0
    }
    fn is_terminal(&self) -> bool {
        false
    }
    fn rules_value(&self) -> Option<f32> {
        None
    }
}

fn random_seq(rng: &mut ChaCha8Rng, len: usize) -> Seq {
    let mut tokens = vec![vocab::BOS];
    tokens.extend((1..len).map(|_| vocab::FIRST_CELL + rng.random_range(0..49)));
    Seq { tokens }
}

fn policy() -> Policy {
    Policy::from_model(&ModelConfig::new().init(&Device::flex(), 0))
}

/// Training step, batch 32 x 64 tokens, targets at every position: the fused CPU backward
/// (the default on the CPU device) and burn's autodiff on the same model, for comparison.
fn train(c: &mut Criterion) {
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let batch: Vec<Example> = (0..32)
        .map(|_| {
            let tokens = random_seq(&mut rng, 64).tokens;
            let policy = (0..63).map(|p| PolicyTarget::new(p as u32, vec![(tokens[p + 1], 1.0)])).collect();
            let values = (0..64).map(|p| (p as u32, 0.0)).collect();
            Example { tokens, policy, values, weight: 1.0 }
        })
        .collect();
    let mut g = c.benchmark_group("model/train");
    g.sample_size(10).measurement_time(Duration::from_secs(15));
    g.throughput(Throughput::Elements(32 * 64));
    for (name, path) in [("batch32x64", GradientPath::Fused), ("batch32x64_autodiff", GradientPath::Autodiff)]
    {
        let mut learner = Learner::new(ModelConfig::new(), TrainConfig::default(), 0, 1_000_000).unwrap();
        learner.set_gradient_path(path).unwrap();
        g.bench_function(name, |b| b.iter(|| learner.step(&batch)));
    }
    g.finish();
}

/// Forward of B fresh sequences of 32 tokens: burn's full forward (logits at every position)
/// and the CPU inference path (no cache; heads at the last position).
fn forward(c: &mut Criterion) {
    let model = ModelConfig::new().init(&Device::flex(), 0);
    let policy = Policy::from_model(&model);
    let mut g = c.benchmark_group("model/forward");
    g.sample_size(10);
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    for batch in [1usize, 16, 256] {
        g.throughput(Throughput::Elements(batch as u64 * 32));
        let seqs: Vec<Seq> = (0..batch).map(|_| random_seq(&mut rng, 32)).collect();
        let ids: Vec<i64> = seqs.iter().flat_map(|s| s.tokens.iter().map(|&t| t as i64)).collect();
        g.bench_function(BenchmarkId::new("burn_flex", batch), |b| {
            b.iter(|| {
                let tokens =
                    Tensor::<2, Int>::from_data(TensorData::new(ids.clone(), [batch, 32]), &Device::flex());
                let (logits, values) = model.forward(tokens);
                (logits.into_data(), values.into_data())
            })
        });
        let legal = legal();
        let leaves: Vec<Leaf<'_, Seq>> =
            seqs.iter().map(|s| Leaf { state: s, legal: &legal, parent: NO_CACHE, keep: false }).collect();
        let mut ev = policy.evaluator();
        let mut out = Evaluations::default();
        g.bench_function(BenchmarkId::new("cpu_path", batch), |b| b.iter(|| ev.evaluate(&leaves, &mut out)));
    }
    g.finish();
}

/// `batch` search paths, each a root of 10..20 tokens extended one token per call (each leaf
/// costs one new position over a cached parent) up to 40 tokens, then cut back to the root and
/// its caches released: prefixes of 10-40 tokens, as in a search tree.
struct TreeSim {
    ev: PolicyEvaluator,
    paths: Vec<(Seq, Vec<CacheId>)>,
    rng: ChaCha8Rng,
    legal: Vec<Token>,
    out: Evaluations,
}

impl TreeSim {
    fn new(policy: &Policy, batch: usize, threads: usize, seed: u64) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut ev = policy.evaluator().with_threads(threads);
        let legal = legal();
        let roots: Vec<Seq> = (0..batch)
            .map(|_| {
                let n = rng.random_range(10..20);
                random_seq(&mut rng, n)
            })
            .collect();
        let leaves: Vec<Leaf<'_, Seq>> =
            roots.iter().map(|s| Leaf { state: s, legal: &legal, parent: NO_CACHE, keep: true }).collect();
        let mut out = Evaluations::default();
        ev.evaluate(&leaves, &mut out);
        let paths = roots.into_iter().zip(&out.caches).map(|(s, &id)| (s, vec![id])).collect();
        TreeSim { ev, paths, rng, legal, out }
    }

    fn step(&mut self) {
        let children: Vec<Seq> = self
            .paths
            .iter()
            .map(|(s, _)| {
                let mut c = s.clone();
                c.tokens.push(vocab::FIRST_CELL + self.rng.random_range(0..49));
                c
            })
            .collect();
        let leaves: Vec<Leaf<'_, Seq>> = children
            .iter()
            .zip(&self.paths)
            .map(|(s, (_, ids))| Leaf {
                state: s,
                legal: &self.legal,
                parent: *ids.last().unwrap(),
                keep: true,
            })
            .collect();
        self.ev.evaluate(&leaves, &mut self.out);
        for ((path, child), &id) in self.paths.iter_mut().zip(children).zip(&self.out.caches) {
            path.1.push(id);
            path.0 = child;
            if path.0.tokens.len() >= 40 {
                let root_len = path.0.tokens.len() - (path.1.len() - 1);
                self.ev.release(&path.1[1..]);
                path.1.truncate(1);
                path.0.tokens.truncate(root_len);
            }
        }
    }
}

fn tree_leaves(c: &mut Criterion) {
    let policy = policy();
    let mut g = c.benchmark_group("model/tree_leaves");
    g.sample_size(20);
    for batch in [1usize, 16, 256] {
        g.throughput(Throughput::Elements(batch as u64));
        for threads in [1usize, 2] {
            let mut sim = TreeSim::new(&policy, batch, threads, 2);
            let id = BenchmarkId::new(format!("gemm_threads{threads}"), batch);
            g.bench_function(id, |b| b.iter(|| sim.step()));
        }
    }
    // Two actors, each with its own evaluator and a single-threaded GEMM, side by side.
    g.throughput(Throughput::Elements(2 * 256));
    let mut sims = [TreeSim::new(&policy, 256, 1, 3), TreeSim::new(&policy, 256, 1, 4)];
    g.bench_function(BenchmarkId::new("two_actors", 256), |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            std::thread::scope(|s| {
                for sim in sims.iter_mut() {
                    s.spawn(move || (0..iters).for_each(|_| sim.step()));
                }
            });
            start.elapsed()
        })
    });
    g.finish();
}

criterion_group!(benches, tree_leaves, forward, train);
criterion_main!(benches);
