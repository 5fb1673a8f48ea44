//! The [`Learner`]: the burn model on an autodiff device, AdamW, the schedule, and the losses.
//!
//! One [`Learner::step`] takes a batch of [`Example`]s, pads them to the longest sequence,
//! runs the model once, and minimises
//!
//! ```text
//! total = policy + value_weight * value
//! policy = sum_i w_i * ( -sum_v p_i(v) log softmax(logits_i)(v) ) / M    over the M policy targets
//! value  = sum_j w_j * ( v_j - target_j )^2 / M_v                        over the M_v value targets
//! ```
//!
//! with `w` the example's weight times the target's. A one-hot target makes the policy term the ordinary
//! cross-entropy; a visit distribution makes it the AlphaZero policy loss; a one-hot target on
//! the move played, weighted by its advantage, makes its gradient REINFORCE's. Padding never
//! reaches the loss: attention is causal and pads only follow real tokens, and targets are
//! read at their own positions only.

use burn::module::{ModuleVisitor, Param, ParamGroup, ParamId};
use burn::optim::{AdamWConfig, GradientsParams, ModuleOptimizer};
use burn::prelude::*;
use burn::tensor::activation::log_softmax;
use ponder_env::vocab::PAD;

use super::backprop::{self, Workspace};
use super::example::Example;
use super::schedule::lr_at;
use crate::model::{Gpt, ModelConfig, ModelError, Policy, Weights};

/// The optimiser and loss settings. Plain data: serialises into experiment files and
/// checkpoints.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainConfig {
    /// Peak learning rate, reached after warmup. 1e-3 rather than the 3e-4 of large models:
    /// nanoGPT's baby configs use 1e-3 at this size, and our overfit test converges with it.
    pub lr: f64,
    /// The floor of the cosine decay, as a fraction of `lr`.
    pub min_lr_ratio: f64,
    /// Steps of linear warmup (Adam's moment estimates are noisy at first).
    pub warmup_steps: u64,
    /// Decoupled weight decay, on weight matrices and embeddings only (not on biases and
    /// LayerNorm gains, as in nanoGPT).
    pub weight_decay: f64,
    /// Adam's first-moment decay.
    pub beta1: f64,
    /// Adam's second-moment decay: 0.95 rather than 0.999, steadier for transformers (nanoGPT).
    pub beta2: f64,
    /// Adam's epsilon.
    pub eps: f64,
    /// Clip the gradient's global L2 norm to this (0 disables clipping).
    pub grad_clip: f64,
    /// Weight of the value loss against the policy loss.
    pub value_weight: f64,
    /// Examples per step: advice to the loop that draws batches (the learner takes any size).
    pub batch_size: usize,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            lr: 1e-3,
            min_lr_ratio: 0.1,
            warmup_steps: 100,
            weight_decay: 0.1,
            beta1: 0.9,
            beta2: 0.95,
            eps: 1e-8,
            grad_clip: 1.0,
            value_weight: 1.0,
            batch_size: 32,
        }
    }
}

impl TrainConfig {
    /// Checks every field; the error names the one at fault.
    pub fn validate(&self) -> Result<(), ModelError> {
        let bad = |field: &str, why: &str| Err(ModelError::Config(format!("train config: {field} {why}")));
        if !(self.lr > 0.0 && self.lr.is_finite()) {
            return bad("lr", "must be positive");
        }
        if !(0.0..=1.0).contains(&self.min_lr_ratio) {
            return bad("min_lr_ratio", "must be in [0, 1]");
        }
        if self.weight_decay.is_nan() || self.weight_decay < 0.0 {
            return bad("weight_decay", "must be >= 0");
        }
        if !(0.0..1.0).contains(&self.beta1) || !(0.0..1.0).contains(&self.beta2) {
            return bad("beta1/beta2", "must be in [0, 1)");
        }
        if self.eps.is_nan() || self.eps <= 0.0 {
            return bad("eps", "must be positive");
        }
        if self.grad_clip.is_nan() || self.grad_clip < 0.0 {
            return bad("grad_clip", "must be >= 0 (0 disables clipping)");
        }
        if self.value_weight.is_nan() || self.value_weight < 0.0 {
            return bad("value_weight", "must be >= 0");
        }
        if self.batch_size == 0 {
            return bad("batch_size", "must be positive");
        }
        Ok(())
    }
}

/// What one training step measured.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Losses {
    /// Mean weighted policy cross-entropy over the batch's policy targets (0 if none).
    pub policy: f32,
    /// Mean weighted squared value error over the batch's value targets (0 if none).
    pub value: f32,
    /// `policy + value_weight * value`: what was minimised.
    pub total: f32,
    /// The gradient's global L2 norm before clipping.
    pub grad_norm: f32,
    /// The learning rate this step used.
    pub lr: f64,
}

/// What a checkpoint stores about the learner besides weights and optimizer state.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LearnerState {
    /// The training settings.
    pub train: TrainConfig,
    /// The seed the weights were initialised from.
    pub seed: u64,
    /// Optimizer steps taken.
    pub step: u64,
    /// The planned run length (the schedule's horizon).
    pub total_steps: u64,
}

/// How a step computes its gradients. Both give the same gradients (to float rounding; the
/// tests compare them); the choice is speed and reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GradientPath {
    /// The dedicated CPU path for this architecture (`backprop.rs`): hand-written forward and
    /// backward over the `gemm` crate. The default on the CPU device ([`Device::flex`]).
    Fused,
    /// burn's autodiff: any device (wgpu), and the reference the fused path is tested against.
    Autodiff,
}

/// One batch's losses and gradients, without an optimizer step ([`Learner::gradients`]).
#[derive(Debug, Clone)]
pub struct BatchGradients {
    /// Mean weighted policy cross-entropy (as [`Losses::policy`]).
    pub policy: f32,
    /// Mean weighted squared value error (as [`Losses::value`]).
    pub value: f32,
    /// The gradient of `policy + value_weight * value` for every parameter, laid out like the
    /// weights (`wte_t` is empty: the tied head's gradient is part of `wte`'s; `wpe`'s is zero
    /// for a model without positions).
    pub grads: Weights,
}

/// The burn model under training, with its optimizer and schedule.
pub struct Learner {
    /// Always `Some` between calls; taken while the optimizer moves it.
    model: Option<Gpt>,
    optim: ModuleOptimizer,
    model_cfg: ModelConfig,
    state: LearnerState,
    device: Device,
    path: GradientPath,
    /// The fused path's buffers, one per shard.
    workspaces: Vec<Workspace>,
}

impl std::fmt::Debug for Learner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Learner").field("model", &self.model_cfg).field("state", &self.state).finish()
    }
}

impl Learner {
    /// A fresh model (weights from `seed`) on the default CPU device ([`Device::flex`]), to be
    /// trained for `total_steps` optimizer steps.
    pub fn new(
        model_cfg: ModelConfig,
        train_cfg: TrainConfig,
        seed: u64,
        total_steps: u64,
    ) -> Result<Self, ModelError> {
        Self::on_device(model_cfg, train_cfg, seed, total_steps, &Device::flex())
    }

    /// [`Learner::new`] on another device (autodiff is added here).
    pub fn on_device(
        model_cfg: ModelConfig,
        train_cfg: TrainConfig,
        seed: u64,
        total_steps: u64,
        device: &Device,
    ) -> Result<Self, ModelError> {
        model_cfg.validate()?;
        train_cfg.validate()?;
        let device = device.clone().autodiff();
        let model = model_cfg.init(&device, seed);
        let state = LearnerState { train: train_cfg, seed, step: 0, total_steps };
        Ok(Self::from_parts(model, None, state, device))
    }

    /// Assembles a learner from a model already on `device` (autodiff), with optimizer state
    /// if resuming.
    pub(crate) fn from_parts(
        model: Gpt,
        optim_record: Option<burn::optim::OptimizerRecord>,
        state: LearnerState,
        device: Device,
    ) -> Self {
        let mut optim = optimizer(&state.train, &model);
        if let Some(record) = optim_record {
            optim = optim.load_record(record);
        }
        let path = if fused_runs_on(&device) { GradientPath::Fused } else { GradientPath::Autodiff };
        Learner {
            model_cfg: model.config(),
            model: Some(model),
            optim,
            state,
            device,
            path,
            workspaces: (0..SHARDS).map(|_| Workspace::default()).collect(),
        }
    }

    /// The model's shape.
    pub fn model_config(&self) -> &ModelConfig {
        &self.model_cfg
    }

    /// The training settings.
    pub fn train_config(&self) -> &TrainConfig {
        &self.state.train
    }

    /// Seed, steps taken and horizon.
    pub fn state(&self) -> &LearnerState {
        &self.state
    }

    /// Optimizer steps taken so far.
    pub fn steps_done(&self) -> u64 {
        self.state.step
    }

    /// Moves the schedule's horizon (a loop that decides to train longer).
    pub fn set_total_steps(&mut self, total_steps: u64) {
        self.state.total_steps = total_steps;
    }

    /// The learning rate the next step will use.
    pub fn next_lr(&self) -> f64 {
        lr_at(&self.state.train, self.state.step, self.state.total_steps)
    }

    /// The device the model trains on (autodiff).
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// The current model, off autodiff (for a [`crate::model::BurnEvaluator`] or saving).
    pub fn model(&self) -> Gpt {
        self.model.as_ref().expect("model present between steps").valid()
    }

    /// The optimizer (for checkpoints).
    pub(crate) fn optimizer(&self) -> &ModuleOptimizer {
        &self.optim
    }

    /// The current weights as a [`Policy`] for search.
    pub fn policy(&self) -> Policy {
        Policy::from_model(&self.model())
    }

    /// How steps compute their gradients.
    pub fn gradient_path(&self) -> GradientPath {
        self.path
    }

    /// Chooses how steps compute their gradients. [`GradientPath::Fused`] is CPU code: on
    /// another device it is refused, and the learner stays on autodiff.
    pub fn set_gradient_path(&mut self, path: GradientPath) -> Result<(), ModelError> {
        if path == GradientPath::Fused && !fused_runs_on(&self.device) {
            return Err(ModelError::Config(format!(
                "the fused gradient path runs on the CPU device only, not on {:?}",
                self.device
            )));
        }
        self.path = path;
        Ok(())
    }

    /// One optimizer step on `batch`; returns the losses measured before the update.
    ///
    /// Sequences longer than `block_size` are cut to it, dropping the targets beyond. An empty
    /// batch, or one with no targets, changes nothing and returns zero losses.
    ///
    /// # Panics
    /// If a target names a position outside its sequence or a token outside the vocabulary:
    /// the producer of the examples has a bug.
    pub fn step(&mut self, batch: &[Example]) -> Losses {
        let lr = self.next_lr();
        let Some((policy, value, grads)) = self.compute(batch) else {
            return Losses { policy: 0.0, value: 0.0, total: 0.0, grad_norm: 0.0, lr };
        };
        let model = self.model.take().expect("model present between steps");
        let max_norm = self.state.train.grad_clip;
        let (grads, grad_norm) = match grads {
            Computed::Burn(mut grads) => {
                let norm = clip_global_norm(&model, &mut grads, max_norm);
                (grads, norm)
            }
            Computed::Fused(mut grads) => {
                let norm = clip_buffers(&mut grads, max_norm);
                (to_params(&model, *grads, &self.device.clone().inner()), norm)
            }
        };
        self.model = Some(self.optim.step(lr, model, grads));
        self.state.step += 1;
        let total = policy + value * self.state.train.value_weight as f32;
        Losses { policy, value, total, grad_norm, lr }
    }

    /// The losses and gradients of `batch` at the current weights, by the current
    /// [`GradientPath`], without a step (no clipping either). `None` for a batch without targets.
    ///
    /// # Panics
    /// As [`Learner::step`].
    pub fn gradients(&mut self, batch: &[Example]) -> Option<BatchGradients> {
        let (policy, value, grads) = self.compute(batch)?;
        let grads = match grads {
            Computed::Fused(g) => *g,
            Computed::Burn(g) => {
                let model = self.model.as_ref().expect("model present between steps");
                let mut out = backprop::zero_grads(Policy::from_model(model).weights());
                from_params(model, &g, &mut out);
                out
            }
        };
        Some(BatchGradients { policy, value, grads })
    }

    /// Both loss terms and the summed gradients of `batch`; `None` when it has no targets.
    fn compute(&mut self, batch: &[Example]) -> Option<(f32, f32, Computed)> {
        let cfg = &self.model_cfg;
        // Data parallel over a fixed number of shards (not the thread count, so that results do
        // not depend on it): each shard's forward and backward runs on its own thread, and the
        // gradients are summed in shard order. Both paths run one shard on one core, so this is
        // what puts the second core to work.
        let per = batch.len().div_ceil(SHARDS).max(1);
        let shards: Vec<Collated> = batch
            .chunks(per)
            .map(|part| Collated::new(part, cfg.vocab_size, cfg.block_size))
            .filter(|c| !(c.p_rows.is_empty() && c.v_rows.is_empty()))
            .collect();
        if shards.is_empty() {
            return None;
        }
        let m_p: usize = shards.iter().map(|c| c.p_rows.len()).sum();
        let m_v: usize = shards.iter().map(|c| c.v_rows.len()).sum();
        let model = self.model.as_ref().expect("model present between steps");
        let value_weight = self.state.train.value_weight;
        use rayon::prelude::*;
        match self.path {
            GradientPath::Autodiff => {
                let dev = &self.device;
                let shard = |c: Collated| shard_gradients(model, c, cfg, m_p, m_v, value_weight, dev);
                let parts: Vec<ShardGrads> = shards.into_par_iter().map(shard).collect();
                let (policy, value) =
                    parts.iter().fold((0.0f32, 0.0f32), |(p, v), g| (p + g.policy, v + g.value));
                let mut parts = parts.into_iter();
                let mut grads = parts.next().expect("at least one shard").grads;
                for other in parts {
                    model.visit(&mut AddGrads { into: &mut grads, from: other.grads });
                }
                Some((policy, value, Computed::Burn(grads)))
            }
            GradientPath::Fused => {
                let policy_weights = Policy::from_model(model);
                let w = policy_weights.weights();
                let learned = model.learned_positions;
                let parts: Vec<backprop::ShardResult> = shards
                    .par_iter()
                    .zip(self.workspaces.par_iter_mut())
                    .map(|(c, ws)| backprop::gradients(w, c, (m_p, m_v), value_weight as f32, learned, ws))
                    .collect();
                let (policy, value) =
                    parts.iter().fold((0.0f32, 0.0f32), |(p, v), g| (p + g.policy, v + g.value));
                let mut parts = parts.into_iter();
                let mut grads = parts.next().expect("at least one shard").grads;
                for mut other in parts {
                    for (a, b) in grads.slots_mut().into_iter().zip(other.grads.slots_mut()) {
                        for (x, y) in a.iter_mut().zip(b.iter()) {
                            *x += y;
                        }
                    }
                }
                Some((policy, value, Computed::Fused(Box::new(grads))))
            }
        }
    }
}

/// Whether [`GradientPath::Fused`] can serve `device`: it is CPU code, so the CPU device only.
fn fused_runs_on(device: &Device) -> bool {
    *device == Device::flex()
}

/// A batch's summed gradients, as the path that computed them holds them.
enum Computed {
    Burn(GradientsParams),
    Fused(Box<Weights>),
}

/// Every parameter of `model` with its shape, in the order of [`Weights::slots_mut`]: burn
/// visits a module's fields in declaration order, and `Gpt`'s (wte, wpe, blocks: ln_1, c_attn,
/// c_proj, ln_2, c_fc, c_proj; ln_f, value_fc, value_out; weight before bias, gamma before beta)
/// are in that order. `fused_gradients_equal_burns_autodiff` would catch a change to either.
fn param_slots(model: &Gpt) -> Vec<(ParamId, Vec<usize>)> {
    struct Slots(Vec<(ParamId, Vec<usize>)>);
    impl ModuleVisitor for Slots {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            self.0.push((param.id, param.shape().dims::<D>().to_vec()));
        }
    }
    let mut slots = Slots(Vec::new());
    model.visit(&mut slots);
    slots.0
}

/// The fused path's gradients as burn's, on the (non-autodiff) device `dev`. A model without
/// positions registers no gradient for `wpe`, as autodiff does (so AdamW leaves it alone).
fn to_params(model: &Gpt, mut grads: Weights, dev: &Device) -> GradientsParams {
    let mut out = GradientsParams::new();
    let skip = (!model.learned_positions).then_some(model.wpe.weight.id);
    for ((id, shape), buf) in param_slots(model).into_iter().zip(grads.slots_mut()) {
        if Some(id) == skip {
            continue;
        }
        let data = TensorData::new(std::mem::take(buf), shape.clone());
        match shape.len() {
            1 => out.register::<1>(id, Tensor::from_data(data, dev)),
            _ => out.register::<2>(id, Tensor::from_data(data, dev)),
        }
    }
    out
}

/// Copies burn's gradients into `out` (laid out like the weights); missing ones stay zero.
fn from_params(model: &Gpt, grads: &GradientsParams, out: &mut Weights) {
    for ((id, shape), buf) in param_slots(model).into_iter().zip(out.slots_mut()) {
        let data = match shape.len() {
            1 => grads.get::<1>(id).map(|g| g.into_data()),
            _ => grads.get::<2>(id).map(|g| g.into_data()),
        };
        if let Some(data) = data {
            buf.copy_from_slice(&data.convert::<f32>().try_into_vec::<f32>().expect("float gradients"));
        }
    }
}

/// [`clip_global_norm`] on plain buffers: the norm is summed in f64 over every gradient.
fn clip_buffers(grads: &mut Weights, max_norm: f64) -> f32 {
    let mut slots = grads.slots_mut();
    let sq: f64 = slots.iter().flat_map(|s| s.iter()).map(|&g| (g as f64) * (g as f64)).sum();
    let norm = sq.sqrt();
    if let Some(factor) = clip_factor(norm, max_norm) {
        let factor = factor as f32;
        for s in slots.iter_mut() {
            for g in s.iter_mut() {
                *g *= factor;
            }
        }
    }
    norm as f32
}

/// Shards of a batch whose gradients [`Learner::step`] computes in parallel.
const SHARDS: usize = 2;

/// One shard's gradients and its parts of the two loss terms.
struct ShardGrads {
    grads: GradientsParams,
    policy: f32,
    value: f32,
}

/// Forward and backward of one shard. Each loss term is divided by the whole batch's count of
/// its targets (`m_p`, `m_v`), so the shards' gradients and losses add up to the batch's.
fn shard_gradients(
    model: &Gpt,
    b: Collated,
    cfg: &ModelConfig,
    m_p: usize,
    m_v: usize,
    value_weight: f64,
    dev: &Device,
) -> ShardGrads {
    // Each shard's own autodiff graph: shards sharing the parameters' graph nodes would each try
    // to consume them in backward. `fork` keeps the parameter ids, so the gradients line up.
    let model = model.clone().fork(dev);
    let (n, t, c, v) = (b.tokens.len() / b.t, b.t, cfg.d_model, cfg.vocab_size);
    let tokens = Tensor::<2, Int>::from_data(TensorData::new(b.tokens, [n, t]), dev);
    let h = model.hidden(tokens).reshape([n * t, c]); // [B*T, C]
    let policy = (!b.p_rows.is_empty()).then(|| {
        let m = b.p_rows.len();
        let rows = Tensor::<1, Int>::from_data(TensorData::new(b.p_rows, [m]), dev);
        let logits = model.policy_logits(h.clone().select(0, rows)); // [M, V]
        let targets = Tensor::<2>::from_data(TensorData::new(b.p_targets, [m, v]), dev);
        let weights = Tensor::<1>::from_data(TensorData::new(b.p_weights, [m]), dev);
        policy_loss_sum(logits, targets, weights).div_scalar(m_p as f64)
    });
    let value = (!b.v_rows.is_empty()).then(|| {
        let m = b.v_rows.len();
        let rows = Tensor::<1, Int>::from_data(TensorData::new(b.v_rows, [m]), dev);
        let pred: Tensor<1> = model.values(h.select(0, rows)); // [M_v]
        let target = Tensor::<1>::from_data(TensorData::new(b.v_targets, [m]), dev);
        let weights = Tensor::<1>::from_data(TensorData::new(b.v_weights, [m]), dev);
        value_loss_sum(pred, target, weights).div_scalar(m_v as f64)
    });
    let read = |x: &Option<Tensor<1>>| x.as_ref().map_or(0.0, |x| x.clone().into_scalar::<f32>());
    let (p, val) = (read(&policy), read(&value));
    let total = match (policy, value) {
        (Some(p), Some(v)) => p + v.mul_scalar(value_weight),
        (Some(p), None) => p,
        (None, Some(v)) => v.mul_scalar(value_weight),
        (None, None) => unreachable!("step() drops shards without targets"),
    };
    ShardGrads { grads: GradientsParams::from_grads(total.backward(), &model), policy: p, value: val }
}

/// Adds `from`'s gradient of every parameter to `into`'s.
struct AddGrads<'a> {
    into: &'a mut GradientsParams,
    from: GradientsParams,
}

impl ModuleVisitor for AddGrads<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if let Some(g) = self.from.remove::<D>(param.id) {
            let sum = match self.into.remove::<D>(param.id) {
                Some(mine) => mine + g,
                None => g,
            };
            self.into.register(param.id, sum);
        }
    }
}

/// The AdamW of [`TrainConfig`]: weight decay on matrices, none on vectors (biases, LayerNorm).
fn optimizer(cfg: &TrainConfig, model: &Gpt) -> ModuleOptimizer {
    let adamw = |wd: f64| {
        AdamWConfig::new()
            .with_beta_1(cfg.beta1 as f32)
            .with_beta_2(cfg.beta2 as f32)
            .with_epsilon(cfg.eps as f32)
            .with_weight_decay(wd as f32)
    };
    let mut vectors = VectorParams(Vec::new());
    model.visit(&mut vectors);
    adamw(cfg.weight_decay).init().with_group(ParamGroup::from_ids(vectors.0), adamw(0.0).build(), None)
}

/// Collects the ids of rank-1 parameters.
struct VectorParams(Vec<ParamId>);

impl ModuleVisitor for VectorParams {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if D == 1 {
            self.0.push(param.id);
        }
    }
}

/// Scales every gradient by `min(1, max_norm / norm)` where `norm` is the L2 norm of all
/// gradients together (PyTorch's `clip_grad_norm_`; burn's own clipping is per tensor).
/// Returns the norm before clipping. `max_norm == 0` disables clipping.
fn clip_global_norm(model: &Gpt, grads: &mut GradientsParams, max_norm: f64) -> f32 {
    struct SumSquares<'a> {
        grads: &'a GradientsParams,
        total: Option<Tensor<1>>,
    }
    impl ModuleVisitor for SumSquares<'_> {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            if let Some(g) = self.grads.get::<D>(param.id) {
                let s = g.square().sum(); // [1]
                self.total = Some(match self.total.take() {
                    Some(t) => t + s,
                    None => s,
                });
            }
        }
    }
    struct Scale<'a> {
        grads: &'a mut GradientsParams,
        factor: f64,
    }
    impl ModuleVisitor for Scale<'_> {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            if let Some(g) = self.grads.remove::<D>(param.id) {
                self.grads.register(param.id, g.mul_scalar(self.factor));
            }
        }
    }
    let mut sq = SumSquares { grads, total: None };
    model.visit(&mut sq);
    let norm = sq.total.map_or(0.0, |t| t.into_scalar::<f32>().sqrt());
    if let Some(factor) = clip_factor(norm as f64, max_norm) {
        model.visit(&mut Scale { grads, factor });
    }
    norm
}

/// The factor that brings a gradient of global norm `norm` down to `max_norm`, or `None` when
/// it is within it (or clipping is off, `max_norm == 0`).
fn clip_factor(norm: f64, max_norm: f64) -> Option<f64> {
    (max_norm > 0.0 && norm > max_norm).then(|| max_norm / (norm + 1e-6))
}

/// The policy loss: mean over rows of `w * (-sum_v p log softmax(logits))`.
///
/// Its gradient with respect to row `i`'s logits is `w_i (softmax(logits_i) - p_i) / M`
/// (for a normalised target), which the tests check.
///
/// # Shapes
/// - logits: `[M, V]`; targets: `[M, V]`, rows summing to 1; weights: `[M]`
/// - output: `[1]`
pub fn policy_loss(logits: Tensor<2>, targets: Tensor<2>, weights: Tensor<1>) -> Tensor<1> {
    let [m, _] = logits.dims();
    policy_loss_sum(logits, targets, weights).div_scalar(m as f64)
}

/// [`policy_loss`] times `M`: the weighted sum over rows.
fn policy_loss_sum(logits: Tensor<2>, targets: Tensor<2>, weights: Tensor<1>) -> Tensor<1> {
    let ce: Tensor<1> = (log_softmax(logits, 1) * targets).sum_dim(1).squeeze_dim(1).neg(); // [M]
    (ce * weights).sum()
}

/// The value loss: mean over rows of `w * (pred - target)^2`.
///
/// # Shapes
/// - pred, target, weights: `[M]`
/// - output: `[1]`
pub fn value_loss(pred: Tensor<1>, target: Tensor<1>, weights: Tensor<1>) -> Tensor<1> {
    let [m] = pred.dims();
    value_loss_sum(pred, target, weights).div_scalar(m as f64)
}

/// [`value_loss`] times `M`: the weighted sum over rows.
fn value_loss_sum(pred: Tensor<1>, target: Tensor<1>, weights: Tensor<1>) -> Tensor<1> {
    ((pred - target).square() * weights).sum()
}

/// A batch flattened into the index and target buffers one step needs.
pub(super) struct Collated {
    /// `[B, T]` right-padded with `PAD`.
    pub tokens: Vec<i64>,
    pub t: usize,
    /// Rows `b * T + pos` of the policy targets, their dense distributions `[M, V]`, weights.
    pub p_rows: Vec<i64>,
    pub p_targets: Vec<f32>,
    pub p_weights: Vec<f32>,
    /// Rows, targets and weights of the value targets.
    pub v_rows: Vec<i64>,
    pub v_targets: Vec<f32>,
    pub v_weights: Vec<f32>,
}

impl Collated {
    fn new(batch: &[Example], vocab: usize, block: usize) -> Self {
        let t = batch.iter().map(|e| e.tokens.len().min(block)).max().unwrap_or(0).max(1);
        let mut c = Collated {
            tokens: vec![PAD as i64; batch.len() * t],
            t,
            p_rows: Vec::new(),
            p_targets: Vec::new(),
            p_weights: Vec::new(),
            v_rows: Vec::new(),
            v_targets: Vec::new(),
            v_weights: Vec::new(),
        };
        for (i, ex) in batch.iter().enumerate() {
            let len = ex.tokens.len();
            let kept = len.min(block);
            for (j, &tok) in ex.tokens[..kept].iter().enumerate() {
                assert!(
                    (tok as usize) < vocab,
                    "example {i}: token {tok} is outside the vocabulary of {vocab}"
                );
                c.tokens[i * t + j] = tok as i64;
            }
            for target in &ex.policy {
                let pos = target.pos as usize;
                assert!(pos < len, "example {i}: policy target at position {pos} of a {len}-token sequence");
                let total: f32 = target.dist.iter().map(|&(_, p)| p).sum();
                if pos >= kept || total.is_nan() || total <= 0.0 {
                    continue;
                }
                let start = c.p_targets.len();
                c.p_targets.resize(start + vocab, 0.0);
                for &(tok, p) in &target.dist {
                    assert!(
                        (tok as usize) < vocab,
                        "example {i}: target token {tok} is outside the vocabulary"
                    );
                    c.p_targets[start + tok as usize] += p / total;
                }
                c.p_rows.push((i * t + pos) as i64);
                c.p_weights.push(ex.weight * target.weight);
            }
            for &(pos, value) in &ex.values {
                let pos = pos as usize;
                assert!(pos < len, "example {i}: value target at position {pos} of a {len}-token sequence");
                if pos < kept {
                    c.v_rows.push((i * t + pos) as i64);
                    c.v_targets.push(value);
                    c.v_weights.push(ex.weight);
                }
            }
        }
        c
    }
}
