//! [`BurnEvaluator`]: the plain evaluator over burn's full forward, with no cache.
//!
//! Every leaf is read from its first token: a batch is padded to its longest leaf, run through
//! [`Gpt::hidden`], and the heads read each leaf's last position. It runs on any burn device,
//! so it serves GPUs (the `wgpu` feature) and is the reference the cached CPU path is tested
//! against. Leaves longer than `block_size` are answered as [`PolicyEvaluator`] does: uniform
//! priors, neutral value, counted in [`BurnEvaluator::overflows`].
//!
//! [`PolicyEvaluator`]: super::PolicyEvaluator

use burn::prelude::*;
use ponder_env::{vocab::PAD, State};

use super::gpt::Gpt;
use super::infer::push_priors;
use crate::search::{Evaluations, Evaluator, Leaf, NO_CACHE};

/// Full-forward evaluation with burn on the model's device.
#[derive(Debug)]
pub struct BurnEvaluator {
    model: Gpt,
    device: Device,
    logits: Vec<f32>,
    overflows: u64,
}

impl BurnEvaluator {
    /// Evaluates with `model` on the device its weights live on (autodiff is taken off).
    pub fn new(model: Gpt) -> Self {
        let model = model.valid();
        let device = model.wte.weight.val().device();
        BurnEvaluator { model, device, logits: Vec::new(), overflows: 0 }
    }

    /// The policy logits of the last call's leaves: `[B, V]`, leaf order (zeros for an
    /// overflowing leaf).
    pub fn logits(&self) -> &[f32] {
        &self.logits
    }

    /// How many leaves so far were longer than `block_size`.
    pub fn overflows(&self) -> u64 {
        self.overflows
    }

    /// The model.
    pub fn model(&self) -> &Gpt {
        &self.model
    }
}

impl<S: State> Evaluator<S> for BurnEvaluator {
    fn evaluate(&mut self, leaves: &[Leaf<'_, S>], out: &mut Evaluations) {
        out.clear();
        let cfg = self.model.config();
        let (b, v, c) = (leaves.len(), cfg.vocab_size, cfg.d_model);
        let fits = |l: &Leaf<'_, S>| !l.state.tokens().is_empty() && l.state.tokens().len() <= cfg.block_size;
        let t = leaves.iter().filter(|l| fits(l)).map(|l| l.state.tokens().len()).max().unwrap_or(0);
        self.logits.clear();
        self.logits.resize(b * v, 0.0);
        let mut values = vec![cfg.value.neutral(); b];
        if t > 0 {
            // tokens [B, T], right-padded; row of each leaf's last position in [B * T].
            let mut tokens = vec![PAD as i64; b * t];
            let mut last = Vec::with_capacity(b);
            for (i, leaf) in leaves.iter().enumerate() {
                let toks = leaf.state.tokens();
                if fits(leaf) {
                    for (j, &tok) in toks.iter().enumerate() {
                        tokens[i * t + j] = tok as i64;
                    }
                    last.push((i * t + toks.len() - 1) as i64);
                } else {
                    last.push((i * t) as i64);
                }
            }
            let tokens = Tensor::<2, Int>::from_data(TensorData::new(tokens, [b, t]), &self.device);
            let last = Tensor::<1, Int>::from_data(TensorData::new(last, [b]), &self.device);
            let h = self.model.hidden(tokens).reshape([b * t, c]).select(0, last); // [B, C]
            let logits = self.model.policy_logits(h.clone()); // [B, V]
            let vals: Tensor<1> = self.model.values(h); // [B]
            let logits = logits.into_data().convert::<f32>().try_into_vec::<f32>().expect("f32 logits");
            let vals = vals.into_data().convert::<f32>().try_into_vec::<f32>().expect("f32 values");
            for (i, leaf) in leaves.iter().enumerate() {
                if fits(leaf) {
                    self.logits[i * v..(i + 1) * v].copy_from_slice(&logits[i * v..(i + 1) * v]);
                    values[i] = vals[i];
                }
            }
        }
        for (i, leaf) in leaves.iter().enumerate() {
            let n = leaf.state.tokens().len();
            if fits(leaf) {
                push_priors(&self.logits[i * v..(i + 1) * v], leaf.legal, &mut out.priors);
                out.positions.push(n as u32);
            } else {
                self.overflows += 1;
                let k = leaf.legal.len();
                out.priors.extend(std::iter::repeat_n(1.0 / k as f32, k));
                out.positions.push(0);
            }
            out.values.push(values[i]);
            out.caches.push(NO_CACHE);
        }
    }

    fn learned(&self) -> bool {
        true
    }
}
