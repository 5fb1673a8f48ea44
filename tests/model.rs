//! The model: tokenizer, the cached CPU inference path against burn's full forward, the
//! learner's losses and determinism, checkpoints and safetensors.
//!
//! Most tests use a tiny config so the module runs in seconds; one parity test uses the
//! default size.

use std::path::{Path, PathBuf};

use burn::prelude::*;
use ponder::env::{vocab, State, Token};
use ponder::model::{
    checkpoint, kernels, BurnEvaluator, CheckpointMeta, ModelConfig, Policy, Tokenizer, ValueKind,
};
use ponder::search::{CacheId, Evaluations, Evaluator, Leaf, NO_CACHE};
use ponder::train::{lr_at, policy_loss, Example, Learner, PolicyTarget, TrainConfig};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A bare token sequence with a fixed set of legal next tokens: enough State for a model.
#[derive(Debug, Clone)]
struct Seq {
    tokens: Vec<Token>,
}

/// The legal tokens of every [`Seq`]: digits and letters, a slice of the vocabulary.
const LEGAL: std::ops::Range<Token> = 5..45;

impl State for Seq {
    fn tokens(&self) -> &[Token] {
        &self.tokens
    }
    fn legal_actions(&self, out: &mut Vec<Token>) {
        out.clear();
        out.extend(LEGAL);
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

fn tiny(value: ValueKind) -> ModelConfig {
    ModelConfig::new().with_block_size(32).with_d_model(32).with_n_layer(2).with_n_head(4).with_value(value)
}

fn random_tokens(rng: &mut ChaCha8Rng, n: usize) -> Vec<Token> {
    (0..n).map(|_| rng.random_range(LEGAL)).collect()
}

/// A fresh directory under the system's temporary directory, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("ponder-model-test-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

// ---------------------------------------------------------------------------------------------
// Tokenizer

#[test]
fn tokenizer_round_trips_text_and_names_unknown_characters() {
    let tok = Tokenizer::new();
    let ids = tok.encode("347+85").unwrap();
    assert_eq!(tok.decode(&ids).unwrap(), "347+85");
    let e = tok.encode("3+é").unwrap_err().to_string();
    assert!(e.contains("'é'"), "{e}");
    let e = tok.decode(&[vocab::BOS, 9999]).unwrap_err().to_string();
    assert!(e.contains("9999") && e.contains("index 1"), "{e}");
}

#[test]
fn tokenizer_file_with_another_vocabulary_is_refused_naming_the_file() {
    let dir = TempDir::new("tokenizer");
    let path = dir.join("tokenizer.json");
    Tokenizer::new().save(&path).unwrap();
    Tokenizer::load(&path).unwrap();
    let text = std::fs::read_to_string(&path).unwrap().replacen("\"+\"", "\"plus\"", 1);
    std::fs::write(&path, text).unwrap();
    let e = Tokenizer::load(&path).unwrap_err().to_string();
    assert!(e.contains("tokenizer.json") && e.contains("mismatch") && e.contains("plus"), "{e}");
}

// ---------------------------------------------------------------------------------------------
// Model shape

#[test]
fn default_config_has_about_0_8m_parameters() {
    let cfg = ModelConfig::new();
    let model = cfg.init(&Device::flex(), 0);
    assert_eq!(model.num_params(), cfg.num_params());
    assert!((750_000..900_000).contains(&cfg.num_params()), "{}", cfg.num_params());
    assert_eq!(model.config(), cfg);
}

#[test]
fn invalid_config_is_an_error_naming_the_field() {
    let e = ModelConfig::new().with_n_head(3).validate().unwrap_err().to_string();
    assert!(e.contains("n_head"), "{e}");
    let e = Learner::new(tiny(ValueKind::Game), TrainConfig { lr: -1.0, ..Default::default() }, 0, 10)
        .unwrap_err()
        .to_string();
    assert!(e.contains("lr"), "{e}");
}

// ---------------------------------------------------------------------------------------------
// Inference: the cached path against burn's full forward

/// Checks the cached evaluator's logits and values against burn's full forward over
/// `rounds` batches of a random prefix tree.
fn check_cached_equals_full_forward(cfg: ModelConfig, std: f64, seed: u64, rounds: usize, threads: usize) {
    let model = cfg.init_with_std(&Device::flex(), seed, std);
    let policy = Policy::from_model(&model);
    let mut cached = policy.evaluator().with_threads(threads);
    let mut full = BurnEvaluator::new(model);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let max_len = cfg.block_size;
    // Live cached nodes: (state, cache id).
    let mut live: Vec<(Seq, CacheId)> = Vec::new();
    let (mut out_c, mut out_f) = (Evaluations::default(), Evaluations::default());
    let legal: Vec<Token> = LEGAL.collect();
    let mut compared = 0;
    for _ in 0..rounds {
        // A batch: fresh roots, children of live nodes extended by 0..=3 tokens.
        let k = rng.random_range(1..=8);
        let mut states = Vec::new();
        let mut parents = Vec::new();
        for _ in 0..k {
            if live.is_empty() || rng.random_bool(0.2) {
                let mut tokens = vec![vocab::BOS];
                let n = rng.random_range(0..6);
                tokens.extend(random_tokens(&mut rng, n));
                states.push(Seq { tokens });
                parents.push(NO_CACHE);
            } else {
                let (s, id) = &live[rng.random_range(0..live.len())];
                let mut s = s.clone();
                let extra = rng.random_range(0..=3).min(max_len - s.tokens.len());
                s.tokens.extend(random_tokens(&mut rng, extra));
                states.push(s);
                parents.push(*id);
            }
        }
        let keeps: Vec<bool> = (0..k).map(|_| rng.random_bool(0.7)).collect();
        let leaves: Vec<Leaf<'_, Seq>> = states
            .iter()
            .zip(&parents)
            .zip(&keeps)
            .map(|((s, &parent), &keep)| Leaf { state: s, legal: &legal, parent, keep })
            .collect();
        cached.evaluate(&leaves, &mut out_c);
        full.evaluate(&leaves, &mut out_f);
        let v = cfg.vocab_size;
        for i in 0..k {
            let (a, b) = (&cached.logits()[i * v..(i + 1) * v], &full.logits()[i * v..(i + 1) * v]);
            // 1e-5, relative to the row's largest logit where it exceeds 1: f32 sums taken in
            // another order differ in proportion to the activations' scale.
            let scale = b.iter().fold(1.0f32, |m, y| m.max(y.abs()));
            let worst = a.iter().zip(b).map(|(x, y)| (x - y).abs() / scale).fold(0.0f32, f32::max);
            assert!(worst < 1e-5, "leaf {i} ({} tokens): logits differ by {worst}", states[i].tokens.len());
            let dv = (out_c.values[i] - out_f.values[i]).abs();
            assert!(dv < 1e-5, "leaf {i}: values {} vs {}", out_c.values[i], out_f.values[i]);
            let pd = out_c.priors_of(&leaves, i).iter().zip(out_f.priors_of(&leaves, i));
            assert!(pd.map(|(x, y)| (x - y).abs()).fold(0.0, f32::max) < 1e-5);
            let prefix = if parents[i] == NO_CACHE {
                0
            } else {
                live.iter().find(|l| l.1 == parents[i]).unwrap().0.tokens.len()
            };
            assert_eq!(out_c.positions[i] as usize, states[i].tokens.len() - prefix, "positions computed");
            compared += 1;
        }
        for i in 0..k {
            assert_eq!(out_c.caches[i] != NO_CACHE, keeps[i]);
            if keeps[i] {
                live.push((states[i].clone(), out_c.caches[i]));
            }
        }
        // Release some nodes (possibly ones whose children stay live).
        let mut released = Vec::new();
        live.retain(|(_, id)| {
            let drop = rng.random_bool(0.25);
            if drop {
                released.push(*id);
            }
            !drop
        });
        cached.release(&released);
    }
    assert!(compared > rounds);
    let all: Vec<CacheId> = live.iter().map(|l| l.1).collect();
    cached.release(&all);
    let stats = cached.cache_stats();
    assert_eq!((stats.nodes, stats.positions), (0, 0), "every cache released frees every position");
}

#[test]
fn cached_evaluation_equals_full_forward_on_random_trees() {
    check_cached_equals_full_forward(tiny(ValueKind::Game), 0.2, 1, 60, 1);
    // A head width (12) that is not a multiple of the kernels' 8 lanes, and a task value head.
    let odd = ModelConfig::new().with_block_size(24).with_d_model(24).with_n_layer(2).with_n_head(2);
    check_cached_equals_full_forward(odd.with_value(ValueKind::Task), 0.2, 2, 40, 1);
}

#[test]
fn a_model_without_positions_caches_exactly_and_exports_a_zero_position_table() {
    use ponder::model::Positions;
    let nope = tiny(ValueKind::Game).with_positions(Positions::None);
    check_cached_equals_full_forward(nope.clone(), 0.2, 4, 40, 1);
    // The inference weights (and so the safetensors export) hold the unused table as zeros.
    let device = Device::flex();
    let model = nope.init_with_std(&device, 9, 0.2);
    let policy = Policy::from_model(&model);
    assert!(policy.weights().wpe.iter().all(|&x| x == 0.0), "NoPE exports a zero position table");
    let learned = tiny(ValueKind::Game).init_with_std(&device, 9, 0.2);
    let with = Policy::from_model(&learned);
    assert!(with.weights().wpe.iter().any(|&x| x != 0.0));
}

#[test]
fn checkpoints_written_before_the_positions_field_load_as_learned_positions() {
    let (_tmp, dir) = saved_checkpoint("old-config");
    let config = dir.join(checkpoint::CONFIG);
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(text.contains("\"positions\": \"Learned\""), "{text}");
    let old: String = text.lines().filter(|l| !l.contains("positions")).collect::<Vec<_>>().join("\n");
    std::fs::write(&config, old.replace("\"Game\",", "\"Game\"")).unwrap();
    let (policy, _) = checkpoint::load_policy(&dir).unwrap();
    assert_eq!(policy.config().positions, ponder::model::Positions::Learned);
}

#[test]
fn cached_evaluation_equals_full_forward_at_the_default_size_with_threaded_gemm() {
    // Weights 5x nanoGPT's init scale: logits up to ~5, attention far from uniform.
    check_cached_equals_full_forward(ModelConfig::new().with_block_size(48), 0.1, 3, 12, 2);
}

#[test]
fn masked_tokens_get_exactly_zero_probability() {
    let model = tiny(ValueKind::Game).init_with_std(&Device::flex(), 4, 0.3);
    let mut ev = Policy::from_model(&model).evaluator();
    let s = Seq { tokens: vec![vocab::BOS, 7, 9, 11] };
    let legal = [6 as Token, 20, 33];
    let leaves = [Leaf { state: &s, legal: &legal, parent: NO_CACHE, keep: false }];
    let mut out = Evaluations::default();
    ev.evaluate(&leaves, &mut out);
    // The priors are exactly the softmax of the legal tokens' logits: the full distribution
    // over the vocabulary puts exactly zero on every other token.
    let v = tiny(ValueKind::Game).vocab_size;
    let logits = &ev.logits()[..v];
    let mut full = vec![0.0f32; v];
    for (&a, &p) in legal.iter().zip(&out.priors) {
        full[a as usize] = p;
    }
    let z: f32 = legal.iter().map(|&a| logits[a as usize].exp()).sum();
    for (t, &p) in full.iter().enumerate() {
        if legal.contains(&(t as Token)) {
            assert!((p - logits[t].exp() / z).abs() < 1e-6);
        } else {
            assert_eq!(p, 0.0, "illegal token {t}");
        }
    }
    assert!((out.priors.iter().sum::<f32>() - 1.0).abs() < 1e-6);
    assert_eq!(out.priors.len(), legal.len());
}

#[test]
fn too_long_states_get_uniform_priors_and_a_neutral_value_without_panicking() {
    let cfg = tiny(ValueKind::Task);
    let policy = Policy::from_model(&cfg.init(&Device::flex(), 5));
    let mut ev = policy.evaluator();
    let long = Seq { tokens: vec![vocab::BOS; cfg.block_size + 1] };
    let short = Seq { tokens: vec![vocab::BOS, 8] };
    let legal = [5 as Token, 6, 7, 8];
    let leaves = [
        Leaf { state: &long, legal: &legal, parent: NO_CACHE, keep: true },
        Leaf { state: &short, legal: &legal, parent: NO_CACHE, keep: true },
    ];
    let mut out = Evaluations::default();
    ev.evaluate(&leaves, &mut out);
    assert_eq!(&out.priors[..4], &[0.25; 4]);
    assert_eq!(out.values[0], 0.5);
    assert_eq!((out.caches[0], out.positions[0]), (NO_CACHE, 0));
    assert_eq!(out.positions[1], 2);
    assert_eq!(ev.overflows(), 1);
    let mut burn = BurnEvaluator::new(cfg.init(&Device::flex(), 5));
    burn.evaluate(&leaves, &mut out);
    assert_eq!(&out.priors[..4], &[0.25; 4]);
    assert_eq!(burn.overflows(), 1);
}

#[test]
fn re_evaluating_a_cached_state_costs_no_positions_and_released_slots_are_reused() {
    let policy = Policy::from_model(&tiny(ValueKind::Game).init_with_std(&Device::flex(), 6, 0.2));
    let mut ev = policy.evaluator();
    let legal: Vec<Token> = LEGAL.collect();
    let root = Seq { tokens: vec![vocab::BOS, 10, 11, 12] };
    let mut out = Evaluations::default();
    ev.evaluate(&[Leaf { state: &root, legal: &legal, parent: NO_CACHE, keep: true }], &mut out);
    let (id, first) = (out.caches[0], out.clone());
    ev.evaluate(&[Leaf { state: &root, legal: &legal, parent: id, keep: false }], &mut out);
    assert_eq!(out.positions[0], 0);
    assert_eq!((out.priors.clone(), out.values.clone()), (first.priors, first.values));
    let used = ev.cache_stats();
    assert_eq!((used.nodes, used.positions), (1, 4));
    ev.release(&[id]);
    ev.release(&[id]); // twice: ignored
    assert_eq!(ev.cache_stats().positions, 0);
    ev.evaluate(&[Leaf { state: &root, legal: &legal, parent: NO_CACHE, keep: true }], &mut out);
    assert_eq!(ev.cache_stats().capacity, used.capacity, "slots were reused, the slab did not grow");
}

#[test]
#[should_panic(expected = "not its ancestor")]
fn a_parent_cache_that_is_not_a_prefix_is_refused() {
    let policy = Policy::from_model(&tiny(ValueKind::Game).init(&Device::flex(), 7));
    let mut ev = policy.evaluator();
    let legal: Vec<Token> = LEGAL.collect();
    let a = Seq { tokens: vec![vocab::BOS, 10, 11] };
    let b = Seq { tokens: vec![vocab::BOS, 12, 11, 9] };
    let mut out = Evaluations::default();
    ev.evaluate(&[Leaf { state: &a, legal: &legal, parent: NO_CACHE, keep: true }], &mut out);
    let id = out.caches[0];
    ev.evaluate(&[Leaf { state: &b, legal: &legal, parent: id, keep: false }], &mut out);
}

// ---------------------------------------------------------------------------------------------
// Kernels

/// erf by its Taylor series in f64: exact to ~1e-8 on [-4.5, 4.5] (cancellation grows beyond),
/// and 1 - 2e-10 or closer outside it.
fn erf_reference(x: f64) -> f64 {
    if x.abs() > 4.5 {
        return x.signum();
    }
    let (mut term, mut total) = (x, x);
    for n in 1..300 {
        term *= -x * x / n as f64;
        total += term / (2 * n + 1) as f64;
    }
    total * 2.0 / std::f64::consts::PI.sqrt()
}

#[test]
fn fast_erf_and_exp_are_accurate_to_a_few_ulp() {
    let mut worst = 0.0f64;
    for i in -5500..=5500 {
        let x = i as f64 / 1000.0;
        worst = worst.max((kernels::erf(x as f32) as f64 - erf_reference(x)).abs());
    }
    assert!(worst < 5e-7, "max |erf error| {worst}");
    for i in -8700..=8800 {
        let x = i as f32 / 100.0;
        let (got, want) = (kernels::exp(x), x.exp());
        assert!((got - want).abs() <= 4e-7 * want, "exp({x}) = {got}, want {want}");
    }
}

// ---------------------------------------------------------------------------------------------
// Training

/// Four sequences with one-hot next-token targets and a value at every position after `<bos>`.
fn fixed_dataset() -> Vec<Example> {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    (0..4)
        .map(|i| {
            let mut tokens = vec![vocab::BOS];
            tokens.extend(random_tokens(&mut rng, 11));
            let policy = (1..tokens.len() - 1)
                .map(|p| PolicyTarget::new(p as u32, vec![(tokens[p + 1], 1.0)]))
                .collect();
            let v = if i % 2 == 0 { 0.5 } else { -0.5 };
            let values = (1..tokens.len()).map(|p| (p as u32, v)).collect();
            Example { tokens, policy, values, weight: 1.0 }
        })
        .collect()
}

#[test]
fn learner_overfits_a_small_fixed_dataset_to_near_zero_loss() {
    let train = TrainConfig { lr: 3e-3, warmup_steps: 10, weight_decay: 0.0, ..Default::default() };
    let mut learner = Learner::new(tiny(ValueKind::Game), train, 0, 300).unwrap();
    let data = fixed_dataset();
    let first = learner.step(&data);
    let mut last = first;
    for _ in 1..300 {
        last = learner.step(&data);
    }
    assert!(first.policy > 3.0, "starts near ln V: {first:?}");
    assert!(last.policy < 0.02 && last.value < 1e-3, "{first:?} -> {last:?}");
    // The exported policy agrees: its greedy next token is the target everywhere.
    let mut ev = learner.policy().evaluator();
    let legal: Vec<Token> = (0..vocab::VOCAB_SIZE as Token).collect();
    for ex in &data {
        let s = Seq { tokens: ex.tokens[..6].to_vec() };
        let mut out = Evaluations::default();
        ev.evaluate(&[Leaf { state: &s, legal: &legal, parent: NO_CACHE, keep: false }], &mut out);
        let best = (0..legal.len()).max_by(|&a, &b| out.priors[a].total_cmp(&out.priors[b])).unwrap();
        assert_eq!(best as Token, ex.tokens[6]);
        assert!((out.values[0] - ex.values[0].1).abs() < 0.05, "{} vs {}", out.values[0], ex.values[0].1);
    }
}

/// The learner's prior for `token` after `prefix`.
fn prior_of(learner: &Learner, prefix: &[Token], token: Token) -> f32 {
    let mut ev = learner.policy().evaluator();
    let legal: Vec<Token> = (0..vocab::VOCAB_SIZE as Token).collect();
    let s = Seq { tokens: prefix.to_vec() };
    let mut out = Evaluations::default();
    ev.evaluate(&[Leaf { state: &s, legal: &legal, parent: NO_CACHE, keep: false }], &mut out);
    out.priors[token as usize]
}

#[test]
fn a_policy_gradient_target_makes_the_move_likelier_or_rarer_by_its_advantage_sign() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let mut tokens = vec![vocab::BOS];
    tokens.extend(random_tokens(&mut rng, 6));
    let (prefix, played) = (&tokens[..6], tokens[6]);
    let train = TrainConfig { lr: 1e-3, warmup_steps: 1, weight_decay: 0.0, ..Default::default() };
    let mut moved = Vec::new();
    for advantage in [0.8f32, -0.8] {
        let mut learner = Learner::new(tiny(ValueKind::Game), train.clone(), 0, 20).unwrap();
        let before = prior_of(&learner, prefix, played);
        let target = PolicyTarget { pos: 5, dist: vec![(played, 1.0)], weight: advantage };
        let ex = Example { tokens: tokens.clone(), policy: vec![target], values: Vec::new(), weight: 1.0 };
        for _ in 0..20 {
            learner.step(std::slice::from_ref(&ex));
        }
        moved.push((before, prior_of(&learner, prefix, played)));
    }
    let ((b_pos, a_pos), (b_neg, a_neg)) = (moved[0], moved[1]);
    assert_eq!(b_pos, b_neg, "the same seed starts from the same policy");
    assert!(a_pos > 2.0 * b_pos, "a positive advantage raises the move's probability: {b_pos} -> {a_pos}");
    assert!(a_neg < 0.5 * b_neg, "a negative advantage lowers it: {b_neg} -> {a_neg}");
}

#[test]
fn a_sharded_step_reports_the_whole_batchs_losses_and_gradient_norm() {
    use burn::module::{ModuleVisitor, Param};
    use burn::optim::GradientsParams;
    use ponder::train::value_loss;
    // Five sequences of 9 tokens (an odd count: the shards are 3 and 2), one-hot targets at every
    // position but the last, values at every position, one example weighted double.
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let (n, t) = (5usize, 9usize);
    let data: Vec<Example> = (0..n)
        .map(|i| {
            let mut tokens = vec![vocab::BOS];
            tokens.extend(random_tokens(&mut rng, t - 1));
            let policy =
                (0..t - 1).map(|p| PolicyTarget::new(p as u32, vec![(tokens[p + 1], 1.0)])).collect();
            let values = (0..t).map(|p| (p as u32, if (p + i) % 2 == 0 { 0.5 } else { -0.25 })).collect();
            Example { tokens, policy, values, weight: if i == 1 { 2.0 } else { 1.0 } }
        })
        .collect();
    let cfg = tiny(ValueKind::Game);
    let train = TrainConfig { grad_clip: 0.0, ..Default::default() };
    let mut learner = Learner::new(cfg.clone(), train.clone(), 7, 10).unwrap();
    let got = learner.step(&data);

    // The same loss on the whole batch at once, through burn's full forward and backward.
    let dev = Device::flex().autodiff();
    let model = cfg.init(&dev, 7);
    let ids: Vec<i64> = data.iter().flat_map(|e| e.tokens.iter().map(|&x| x as i64)).collect();
    let (logits, values) = model.forward(Tensor::<2, Int>::from_data(TensorData::new(ids, [n, t]), &dev));
    let v = cfg.vocab_size;
    let mut rows = Vec::new();
    let mut targets = vec![0.0f32; n * (t - 1) * v];
    let mut weights = Vec::new();
    for (i, e) in data.iter().enumerate() {
        for (k, p) in e.policy.iter().enumerate() {
            rows.push((i * t + p.pos as usize) as i64);
            targets[(i * (t - 1) + k) * v + p.dist[0].0 as usize] = 1.0;
            weights.push(e.weight);
        }
    }
    let m = rows.len();
    let sel = |x: Vec<i64>| Tensor::<1, Int>::from_data(TensorData::new(x, [m]), &dev);
    let policy = policy_loss(
        logits.reshape([n * t, v]).select(0, sel(rows)),
        Tensor::<2>::from_data(TensorData::new(targets, [m, v]), &dev),
        Tensor::<1>::from_data(TensorData::new(weights, [m]), &dev),
    );
    let vt: Vec<f32> = data.iter().flat_map(|e| e.values.iter().map(|&(_, x)| x)).collect();
    let vw: Vec<f32> = data.iter().flat_map(|e| e.values.iter().map(move |_| e.weight)).collect();
    let value = value_loss(
        values.reshape([n * t]),
        Tensor::<1>::from_data(TensorData::new(vt, [n * t]), &dev),
        Tensor::<1>::from_data(TensorData::new(vw, [n * t]), &dev),
    );
    let total = policy.clone() + value.clone().mul_scalar(train.value_weight);
    let grads = GradientsParams::from_grads(total.backward(), &model);
    struct Norm<'a>(&'a GradientsParams, f64);
    impl ModuleVisitor for Norm<'_> {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            if let Some(g) = self.0.get::<D>(param.id) {
                self.1 += g.square().sum().into_scalar::<f32>() as f64;
            }
        }
    }
    let mut norm = Norm(&grads, 0.0);
    model.visit(&mut norm);
    let want = (policy.into_scalar::<f32>(), value.into_scalar::<f32>(), norm.1.sqrt() as f32);
    assert!((got.policy - want.0).abs() < 1e-5 * want.0, "policy {} vs {}", got.policy, want.0);
    assert!((got.value - want.1).abs() < 1e-5 * want.1.max(1e-3), "value {} vs {}", got.value, want.1);
    assert!((got.grad_norm - want.2).abs() < 1e-4 * want.2, "gradient norm {} vs {}", got.grad_norm, want.2);
}

/// A batch that exercises every part of a step: sequences of different lengths (so shards pad),
/// soft and unnormalised policy targets, two targets at one position, negative and zero weights,
/// value targets at some positions only, and one example without targets.
fn mixed_batch(seed: u64, n: usize) -> Vec<Example> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n)
        .map(|i| {
            let len = rng.random_range(3..20);
            let mut tokens = vec![vocab::BOS];
            tokens.extend(random_tokens(&mut rng, len - 1));
            if i == 2 {
                return Example { tokens, policy: Vec::new(), values: Vec::new(), weight: 1.0 };
            }
            let mut policy = Vec::new();
            for p in 0..len - 1 {
                if rng.random_bool(0.7) {
                    let dist = (0..rng.random_range(1..4))
                        .map(|_| (rng.random_range(LEGAL), rng.random_range(0.1..2.0)));
                    let mut t = PolicyTarget::new(p as u32, dist.collect());
                    t.weight = [1.0, -0.5, 0.0, 2.0][p % 4];
                    policy.push(t);
                }
            }
            policy.push(PolicyTarget::new((len - 2) as u32, vec![(tokens[len - 1], 1.0)]));
            let values =
                (0..len).filter(|p| p % 3 != 1).map(|p| (p as u32, rng.random_range(-1.0..1.0))).collect();
            Example { tokens, policy, values, weight: rng.random_range(0.5..1.5) }
        })
        .collect()
}

/// `|a - b| / |b|` over a whole tensor, with a floor for near-zero gradients.
fn rel_err(a: &[f32], b: &[f32]) -> f64 {
    let diff: f64 = a.iter().zip(b).map(|(x, y)| ((x - y) as f64).powi(2)).sum();
    let norm: f64 = b.iter().map(|&y| (y as f64).powi(2)).sum();
    diff.sqrt() / norm.sqrt().max(1e-6)
}

#[test]
fn fused_gradients_equal_burns_autodiff() {
    use ponder::model::{Positions, Weights};
    use ponder::train::GradientPath;
    let tensors = |w: &Weights| {
        let mut v: Vec<(String, Vec<f32>)> =
            vec![("wte".into(), w.wte.clone()), ("wpe".into(), w.wpe.clone())];
        for (i, l) in w.layers.iter().enumerate() {
            for (name, (a, b)) in [
                ("ln_1", &l.ln_1),
                ("c_attn", &l.c_attn),
                ("attn_proj", &l.attn_proj),
                ("ln_2", &l.ln_2),
                ("c_fc", &l.c_fc),
                ("mlp_proj", &l.mlp_proj),
            ] {
                v.push((format!("{i}.{name}.w"), a.clone()));
                v.push((format!("{i}.{name}.b"), b.clone()));
            }
        }
        for (name, (a, b)) in [("ln_f", &w.ln_f), ("value_fc", &w.value_fc), ("value_out", &w.value_out)] {
            v.push((format!("{name}.w"), a.clone()));
            v.push((format!("{name}.b"), b.clone()));
        }
        v
    };
    let cases = [
        (tiny(ValueKind::Game), 1u64),
        (tiny(ValueKind::Task).with_positions(Positions::None), 2),
        (ModelConfig::new().with_n_layer(1).with_block_size(32), 3),
    ];
    for (cfg, seed) in cases {
        let train = TrainConfig { lr: 3e-3, warmup_steps: 1, ..Default::default() };
        let mut learner = Learner::new(cfg.clone(), train, seed, 10).unwrap();
        assert_eq!(learner.gradient_path(), GradientPath::Fused, "the CPU device trains on the fused path");
        let batch = mixed_batch(seed, 7);
        // At the initial weights, then after steps have moved them off nanoGPT's initialisation.
        for round in 0..2 {
            learner.set_gradient_path(GradientPath::Autodiff).unwrap();
            let want = learner.gradients(&batch).unwrap();
            learner.set_gradient_path(GradientPath::Fused).unwrap();
            let got = learner.gradients(&batch).unwrap();
            let what = format!("{cfg:?}, round {round}");
            assert!(
                (got.policy - want.policy).abs() < 1e-5 * want.policy.abs(),
                "{what}: policy loss {} vs {}",
                got.policy,
                want.policy
            );
            assert!(
                (got.value - want.value).abs() < 1e-5 * want.value.abs(),
                "{what}: value loss {} vs {}",
                got.value,
                want.value
            );
            for ((name, g), (_, w)) in tensors(&got.grads).iter().zip(tensors(&want.grads).iter()) {
                assert!(
                    w.iter().any(|&x| x != 0.0) || name == "wpe",
                    "{what}: {name} has no gradient in burn"
                );
                let e = rel_err(g, w);
                assert!(e < 1e-4, "{what}: {name} differs from burn's autodiff by {e:.2e} (relative)");
            }
            if cfg.positions == Positions::None {
                assert!(
                    got.grads.wpe.iter().all(|&x| x == 0.0),
                    "{what}: an unused position table gets no gradient"
                );
            }
            for _ in 0..3 {
                learner.step(&batch);
            }
        }
    }
}

#[test]
fn policy_loss_gradient_is_softmax_minus_target() {
    let dev = Device::flex().autodiff();
    let logits_data = [[0.3f32, -1.2, 2.0, 0.0, 0.7], [1.5, 0.1, -0.4, -2.0, 0.9]];
    let target_data = [[0.0f32, 0.0, 1.0, 0.0, 0.0], [0.2, 0.5, 0.0, 0.0, 0.3]];
    let logits = Tensor::<2>::from_data(logits_data, &dev).require_grad();
    let targets = Tensor::<2>::from_data(target_data, &dev);
    let weights = Tensor::<1>::from_data([1.0f32, 1.0], &dev);
    let loss = policy_loss(logits.clone(), targets, weights);
    let grads = loss.backward();
    let g = logits.grad(&grads).unwrap().into_data().try_into_vec::<f32>().unwrap();
    // Analytic: (softmax - target) / M, M = 2 rows.
    for r in 0..2 {
        let z: f32 = logits_data[r].iter().map(|x| x.exp()).sum();
        for c in 0..5 {
            let want = (logits_data[r][c].exp() / z - target_data[r][c]) / 2.0;
            assert!((g[r * 5 + c] - want).abs() < 1e-6, "[{r},{c}] {} vs {want}", g[r * 5 + c]);
        }
    }
    // Numeric: central differences of the loss itself.
    let plain = Device::flex();
    let loss_at = |l: [[f32; 5]; 2]| {
        let loss = policy_loss(
            Tensor::<2>::from_data(l, &plain),
            Tensor::<2>::from_data(target_data, &plain),
            Tensor::<1>::from_data([1.0f32, 1.0], &plain),
        );
        loss.into_scalar::<f32>() as f64
    };
    let eps = 1e-2f32;
    for r in 0..2 {
        for c in 0..5 {
            let (mut up, mut down) = (logits_data, logits_data);
            up[r][c] += eps;
            down[r][c] -= eps;
            let numeric = (loss_at(up) - loss_at(down)) / (2.0 * eps as f64);
            assert!((numeric - g[r * 5 + c] as f64).abs() < 1e-3, "[{r},{c}] numeric {numeric}");
        }
    }
}

#[test]
fn learner_is_deterministic_for_a_fixed_seed() {
    let data = fixed_dataset();
    let run = || {
        let mut l = Learner::new(tiny(ValueKind::Game), TrainConfig::default(), 42, 10).unwrap();
        let losses: Vec<f32> = (0..3).map(|_| l.step(&data).total).collect();
        (losses, l.policy().weights().clone())
    };
    let (a, b) = (run(), run());
    assert_eq!(a.0, b.0);
    assert!(a.1 == b.1, "same seed, same weights");
    let other = Learner::new(tiny(ValueKind::Game), TrainConfig::default(), 43, 10).unwrap();
    assert!(other.policy().weights().wte != a.1.wte);
}

#[test]
fn schedule_warms_up_linearly_then_decays_by_cosine_to_the_floor() {
    let cfg = TrainConfig { lr: 1.0, min_lr_ratio: 0.1, warmup_steps: 10, ..Default::default() };
    assert!((lr_at(&cfg, 0, 110) - 0.1).abs() < 1e-12);
    assert!((lr_at(&cfg, 9, 110) - 1.0).abs() < 1e-12);
    assert!((lr_at(&cfg, 60, 110) - 0.55).abs() < 1e-12);
    assert!((lr_at(&cfg, 110, 110) - 0.1).abs() < 1e-12);
    assert!((lr_at(&cfg, 500, 110) - 0.1).abs() < 1e-12);
}

#[test]
fn gradient_clipping_bounds_the_update_and_reports_the_norm() {
    let data = fixed_dataset();
    let train = TrainConfig { grad_clip: 1e-3, ..Default::default() };
    let mut l = Learner::new(tiny(ValueKind::Game), train, 0, 10).unwrap();
    let losses = l.step(&data);
    assert!(losses.grad_norm > 1e-3 && losses.grad_norm.is_finite(), "{losses:?}");
    assert!(losses.lr > 0.0);
}

// ---------------------------------------------------------------------------------------------
// Checkpoints and safetensors

fn trained_learner(steps: usize) -> Learner {
    let mut l = Learner::new(tiny(ValueKind::Game), TrainConfig::default(), 3, 100).unwrap();
    let data = fixed_dataset();
    for _ in 0..steps {
        l.step(&data);
    }
    l
}

#[test]
fn checkpoint_round_trip_is_bit_exact_and_resumes_training_exactly() {
    let tmp = TempDir::new("roundtrip");
    let dir = tmp.join("ckpt");
    let mut a = trained_learner(3);
    let mut meta = CheckpointMeta::new("tictactoe", 2);
    meta.extra = serde_json::json!({"elo": 1234});
    checkpoint::save(&dir, &a, &meta).unwrap();
    checkpoint::save(&dir, &a, &meta).unwrap(); // over an existing one
    let leftovers: Vec<_> = std::fs::read_dir(dir.parent().unwrap()).unwrap().collect();
    assert_eq!(leftovers.len(), 1, "no temporary or old directories left");

    let (policy, m) = checkpoint::load_policy(&dir).unwrap();
    assert!(policy.weights() == a.policy().weights(), "weights bit-exact");
    assert_eq!((m.env.as_str(), m.step, m.iteration), ("tictactoe", 3, 2));
    assert_eq!(m.extra["elo"], 1234);

    let (mut b, _) = checkpoint::load_learner(&dir).unwrap();
    assert_eq!(b.state(), a.state());
    let data = fixed_dataset();
    for _ in 0..2 {
        assert_eq!(a.step(&data), b.step(&data), "resumed training is the same training");
    }
    assert!(a.policy().weights() == b.policy().weights());
}

/// A checkpoint of a briefly trained tiny model, in a temporary directory: (its owner, its path).
fn saved_checkpoint(name: &str) -> (TempDir, PathBuf) {
    let tmp = TempDir::new(name);
    let dir = tmp.join("ckpt");
    checkpoint::save(&dir, &trained_learner(1), &CheckpointMeta::new("tictactoe", 0)).unwrap();
    (tmp, dir)
}

fn truncate(path: &Path) {
    let bytes = std::fs::read(path).unwrap();
    std::fs::write(path, &bytes[..bytes.len() / 2]).unwrap();
}

#[test]
fn truncated_or_missing_checkpoint_files_give_errors_naming_the_file() {
    let (_tmp, dir) = saved_checkpoint("truncated");
    for file in [checkpoint::MODEL, checkpoint::CONFIG, checkpoint::META, checkpoint::TOKENIZER] {
        let copy_tmp = TempDir::new(&format!("truncated-{file}"));
        let copy = copy_tmp.join("ckpt");
        std::fs::create_dir_all(&copy).unwrap();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let p = entry.unwrap().path();
            std::fs::copy(&p, copy.join(p.file_name().unwrap())).unwrap();
        }
        truncate(&copy.join(file));
        let e = checkpoint::load_policy(&copy).unwrap_err().to_string();
        assert!(e.contains(file), "{file}: {e}");
        std::fs::remove_file(copy.join(file)).unwrap();
        let e = checkpoint::load_policy(&copy).unwrap_err().to_string();
        assert!(e.contains(file), "{file} missing: {e}");
    }
    truncate(&dir.join(checkpoint::OPTIMIZER));
    let e = checkpoint::load_learner(&dir).unwrap_err().to_string();
    assert!(e.contains(checkpoint::OPTIMIZER), "{e}");
    let e = checkpoint::load_policy(&dir.with_file_name("nowhere")).unwrap_err().to_string();
    assert!(e.contains("nowhere"), "{e}");
}

#[test]
fn mismatched_checkpoint_gives_an_error_naming_the_file() {
    let (_tmp, dir) = saved_checkpoint("mismatch");
    let config = dir.join(checkpoint::CONFIG);
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, text.replace("\"d_model\": 32", "\"d_model\": 64")).unwrap();
    let e = checkpoint::load_policy(&dir).unwrap_err().to_string();
    assert!(e.contains(checkpoint::MODEL) && e.contains("shape"), "{e}");
    std::fs::write(&config, text.replace("\"vocab_size\": ", "\"vocab_size\": 1")).unwrap();
    let e = checkpoint::load_policy(&dir).unwrap_err().to_string();
    assert!(e.contains(checkpoint::CONFIG) && e.contains("vocab_size"), "{e}");
}

#[test]
fn an_interrupted_save_leaves_the_last_good_checkpoint_loadable() {
    let (_tmp, dir) = saved_checkpoint("interrupted");
    // Cut between the two renames: only DIR.old-<pid> exists.
    let old = dir.with_file_name("ckpt.old-999999");
    std::fs::rename(&dir, &old).unwrap();
    let (_, meta) = checkpoint::load_policy(&dir).unwrap();
    assert_eq!(meta.env, "tictactoe");
}

#[test]
fn safetensors_export_round_trips_and_python_can_read_it() {
    let (_tmp, dir) = saved_checkpoint("safetensors");
    let path = dir.join(checkpoint::SAFETENSORS);
    let back = checkpoint::read_safetensors(&path).unwrap();
    let (policy, _) = checkpoint::load_policy(&dir).unwrap();
    assert!(back.weights() == policy.weights());
    // An independent reader: Python's json and struct, where Python exists.
    let script = "import json,struct,sys\n\
        b=open(sys.argv[1],'rb').read(); n=struct.unpack('<Q',b[:8])[0]; h=json.loads(b[8:8+n])\n\
        e=h['wte.weight']; s,_=e['data_offsets']\n\
        print(e['shape'][0], e['shape'][1], struct.unpack('<f', b[8+n+s:8+n+s+4])[0])";
    if let Ok(out) = std::process::Command::new("python3").arg("-c").arg(script).arg(&path).output() {
        if out.status.success() {
            let text = String::from_utf8(out.stdout).unwrap();
            let parts: Vec<&str> = text.split_whitespace().collect();
            assert_eq!(parts[0].parse::<usize>().unwrap(), vocab::VOCAB_SIZE);
            assert_eq!(parts[1], "32");
            let first: f32 = parts[2].parse().unwrap();
            assert!((first - policy.weights().wte[0]).abs() < 1e-6);
        }
    }
    truncate(&path);
    let e = checkpoint::read_safetensors(&path).unwrap_err().to_string();
    assert!(e.contains(checkpoint::SAFETENSORS), "{e}");
}

// ---------------------------------------------------------------------------------------------
// wgpu

/// The model on a wgpu device (Mesa's software Vulkan on CPU-only machines) gives the CPU's
/// logits; skipped where no adapter exists.
#[cfg(feature = "wgpu")]
#[test]
fn wgpu_logits_agree_with_the_cpu_where_an_adapter_exists() {
    let cfg = tiny(ValueKind::Game);
    let model = cfg.init_with_std(&Device::flex(), 8, 0.2);
    let policy = Policy::from_model(&model);
    let gpu = match std::panic::catch_unwind(|| {
        let device = Device::wgpu(DeviceKind::default());
        let m = policy.to_model(&device);
        let _ = m.wte.weight.val().into_data();
        m
    }) {
        Ok(m) => m,
        Err(_) => {
            eprintln!("skipped: no wgpu adapter");
            return;
        }
    };
    let mut cpu = BurnEvaluator::new(model);
    let mut gpu = BurnEvaluator::new(gpu);
    let s = Seq { tokens: vec![vocab::BOS, 10, 20, 30] };
    let legal: Vec<Token> = LEGAL.collect();
    let leaves = [Leaf { state: &s, legal: &legal, parent: NO_CACHE, keep: false }];
    let (mut a, mut b) = (Evaluations::default(), Evaluations::default());
    cpu.evaluate(&leaves, &mut a);
    gpu.evaluate(&leaves, &mut b);
    let worst = cpu.logits().iter().zip(gpu.logits()).map(|(x, y)| (x - y).abs()).fold(0.0f32, f32::max);
    assert!(worst < 1e-5, "wgpu logits differ from the CPU's by {worst}");
}
