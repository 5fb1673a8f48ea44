//! [`Policy`]: the model's weights as plain `f32` buffers, for inference off burn.
//!
//! A `Policy` is immutable and cheap to clone (an `Arc`), so actor threads share one. Each
//! thread makes its own [`PolicyEvaluator`](super::PolicyEvaluator), which owns the key/value
//! cache arena and the scratch buffers.
//!
//! Layouts are burn's, row-major: a linear layer's weight is `[d_in, d_out]` (`y = x W + b`),
//! embeddings are `[n, C]`. PyTorch's `nn.Linear` stores `[d_out, d_in]`: transpose when
//! loading `weights.safetensors` there.

use std::collections::BTreeMap;
use std::sync::Arc;

use burn::module::Param;
use burn::nn::{Embedding, LayerNormConfig, Linear};
use burn::prelude::*;

use super::gpt::{Block, CausalSelfAttention, Gpt, Mlp, ModelConfig, Positions};
use super::infer::PolicyEvaluator;

/// One transformer block's weights.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerWeights {
    /// `[C]` LayerNorm before attention: gain, bias.
    pub ln_1: (Vec<f32>, Vec<f32>),
    /// `[C, 3C]` fused query/key/value projection, and its `[3C]` bias.
    pub c_attn: (Vec<f32>, Vec<f32>),
    /// `[C, C]` attention output projection, `[C]` bias.
    pub attn_proj: (Vec<f32>, Vec<f32>),
    /// `[C]` LayerNorm before the MLP: gain, bias.
    pub ln_2: (Vec<f32>, Vec<f32>),
    /// `[C, 4C]` MLP up projection, `[4C]` bias.
    pub c_fc: (Vec<f32>, Vec<f32>),
    /// `[4C, C]` MLP down projection, `[C]` bias.
    pub mlp_proj: (Vec<f32>, Vec<f32>),
}

/// All of a model's weights, row-major, in burn's layout.
#[derive(Debug, Clone, PartialEq)]
pub struct Weights {
    /// The model's shape.
    pub config: ModelConfig,
    /// `[V, C]` token embedding.
    pub wte: Vec<f32>,
    /// `[C, V]` the token embedding transposed: the tied policy head, laid out for a GEMM.
    pub wte_t: Vec<f32>,
    /// `[block_size, C]` position embedding.
    pub wpe: Vec<f32>,
    /// The blocks.
    pub layers: Vec<LayerWeights>,
    /// `[C]` final LayerNorm: gain, bias.
    pub ln_f: (Vec<f32>, Vec<f32>),
    /// `[C, H]` value head hidden layer, `[H]` bias.
    pub value_fc: (Vec<f32>, Vec<f32>),
    /// `[H, 1]` value head output, `[1]` bias.
    pub value_out: (Vec<f32>, Vec<f32>),
}

/// The policy network's weights, shareable across threads; see the module docs.
#[derive(Debug, Clone)]
pub struct Policy {
    weights: Arc<Weights>,
}

fn read<const D: usize>(p: &Param<Tensor<D>>) -> Vec<f32> {
    p.val().into_data().convert::<f32>().try_into_vec::<f32>().expect("float weights")
}

fn read_linear(l: &Linear) -> (Vec<f32>, Vec<f32>) {
    let w = read(&l.weight);
    let b = l.bias.as_ref().map(read).unwrap_or_else(|| vec![0.0; l.weight.shape().dims::<2>()[1]]);
    (w, b)
}

fn read_ln(ln: &burn::nn::LayerNorm) -> (Vec<f32>, Vec<f32>) {
    let g = read(&ln.gamma);
    let b = ln.beta.as_ref().map(read).unwrap_or_else(|| vec![0.0; g.len()]);
    (g, b)
}

fn transpose(src: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut out = vec![0.0; src.len()];
    for r in 0..rows {
        for c in 0..cols {
            out[c * rows + r] = src[r * cols + c];
        }
    }
    out
}

impl Policy {
    /// Copies a burn model's weights (from any device, autodiff or not).
    pub fn from_model(model: &Gpt) -> Policy {
        let config = model.config();
        let wte = read(&model.wte.weight);
        let layers = model
            .blocks
            .iter()
            .map(|b| LayerWeights {
                ln_1: read_ln(&b.ln_1),
                c_attn: read_linear(&b.attn.c_attn),
                attn_proj: read_linear(&b.attn.c_proj),
                ln_2: read_ln(&b.ln_2),
                c_fc: read_linear(&b.mlp.c_fc),
                mlp_proj: read_linear(&b.mlp.c_proj),
            })
            .collect();
        let weights = Weights {
            wte_t: transpose(&wte, config.vocab_size, config.d_model),
            wte,
            // NoPE: the table is never read in training, so inference reads zeros.
            wpe: if model.learned_positions {
                read(&model.wpe.weight)
            } else {
                vec![0.0; config.block_size * config.d_model]
            },
            layers,
            ln_f: read_ln(&model.ln_f),
            value_fc: read_linear(&model.value_fc),
            value_out: read_linear(&model.value_out),
            config,
        };
        Policy { weights: Arc::new(weights) }
    }

    /// Builds a burn model on `device` holding these weights (for a full-forward evaluator on
    /// another backend, or to resume from exported weights).
    pub fn to_model(&self, device: &Device) -> Gpt {
        let w = &*self.weights;
        let cfg = &w.config;
        let d = cfg.d_model;
        let t = |data: &[f32], shape: Vec<usize>| {
            Param::from_tensor(Tensor::<2>::from_data(TensorData::new(data.to_vec(), shape), device))
        };
        let t1 = |data: &[f32]| {
            Param::from_tensor(Tensor::<1>::from_data(TensorData::new(data.to_vec(), [data.len()]), device))
        };
        let linear = |(wt, b): &(Vec<f32>, Vec<f32>), d_in: usize| Linear {
            weight: t(wt, vec![d_in, wt.len() / d_in]),
            bias: Some(t1(b)),
        };
        let ln = |(g, b): &(Vec<f32>, Vec<f32>)| {
            let mut l = LayerNormConfig::new(d).init(device);
            l.gamma = t1(g);
            l.beta = Some(t1(b));
            l
        };
        Gpt {
            wte: Embedding { weight: t(&w.wte, vec![cfg.vocab_size, d]) },
            wpe: Embedding { weight: t(&w.wpe, vec![cfg.block_size, d]) },
            blocks: w
                .layers
                .iter()
                .map(|l| Block {
                    ln_1: ln(&l.ln_1),
                    attn: CausalSelfAttention {
                        c_attn: linear(&l.c_attn, d),
                        c_proj: linear(&l.attn_proj, d),
                        n_head: cfg.n_head,
                    },
                    ln_2: ln(&l.ln_2),
                    mlp: Mlp { c_fc: linear(&l.c_fc, d), c_proj: linear(&l.mlp_proj, 4 * d) },
                })
                .collect(),
            ln_f: ln(&w.ln_f),
            value_fc: linear(&w.value_fc, d),
            value_out: linear(&w.value_out, cfg.value_hidden()),
            value_kind: cfg.value,
            block_size: cfg.block_size,
            learned_positions: cfg.positions == Positions::Learned,
        }
    }

    /// The model's shape.
    pub fn config(&self) -> &ModelConfig {
        &self.weights.config
    }

    /// The weights.
    pub fn weights(&self) -> &Weights {
        &self.weights
    }

    /// A new evaluator for one actor thread: its own cache arena, single-threaded GEMMs
    /// (see [`PolicyEvaluator::with_threads`]).
    pub fn evaluator(&self) -> PolicyEvaluator {
        PolicyEvaluator::new(self.clone())
    }

    /// Every weight tensor with its name (burn's module path) and shape, in a fixed order: what
    /// `weights.safetensors` holds. The transposed head copy is derived, so not listed.
    pub fn named_tensors(&self) -> Vec<(String, Vec<usize>, &[f32])> {
        let w = &*self.weights;
        let cfg = &w.config;
        let (d, h) = (cfg.d_model, cfg.value_hidden());
        let mut out: Vec<(String, Vec<usize>, &[f32])> = vec![
            ("wte.weight".into(), vec![cfg.vocab_size, d], &w.wte),
            ("wpe.weight".into(), vec![cfg.block_size, d], &w.wpe),
        ];
        fn linear<'a>(
            out: &mut Vec<(String, Vec<usize>, &'a [f32])>,
            name: String,
            l: &'a (Vec<f32>, Vec<f32>),
            d_in: usize,
        ) {
            out.push((format!("{name}.weight"), vec![d_in, l.1.len()], &l.0[..]));
            out.push((format!("{name}.bias"), vec![l.1.len()], &l.1[..]));
        }
        for (i, l) in w.layers.iter().enumerate() {
            let p = format!("blocks.{i}");
            out.push((format!("{p}.ln_1.gamma"), vec![d], &l.ln_1.0));
            out.push((format!("{p}.ln_1.beta"), vec![d], &l.ln_1.1));
            linear(&mut out, format!("{p}.attn.c_attn"), &l.c_attn, d);
            linear(&mut out, format!("{p}.attn.c_proj"), &l.attn_proj, d);
            out.push((format!("{p}.ln_2.gamma"), vec![d], &l.ln_2.0));
            out.push((format!("{p}.ln_2.beta"), vec![d], &l.ln_2.1));
            linear(&mut out, format!("{p}.mlp.c_fc"), &l.c_fc, d);
            linear(&mut out, format!("{p}.mlp.c_proj"), &l.mlp_proj, 4 * d);
        }
        out.push(("ln_f.gamma".into(), vec![d], &w.ln_f.0));
        out.push(("ln_f.beta".into(), vec![d], &w.ln_f.1));
        linear(&mut out, "value_fc".into(), &w.value_fc, d);
        linear(&mut out, "value_out".into(), &w.value_out, h);
        out
    }

    /// The inverse of [`Policy::named_tensors`]: every tensor must be present with its exact
    /// shape; the error names the first that is missing or misshapen.
    pub fn from_named_tensors(
        config: ModelConfig,
        mut tensors: BTreeMap<String, (Vec<usize>, Vec<f32>)>,
    ) -> Result<Policy, String> {
        config.validate().map_err(|e| e.to_string())?;
        // Start from a zero model of the right shape and fill every named slot.
        let zeros = Policy::zeros(&config);
        let mut w = (*zeros.weights).clone();
        let expected: Vec<(String, Vec<usize>)> =
            zeros.named_tensors().into_iter().map(|(n, s, _)| (n, s)).collect();
        let mut slots = w.slots_mut();
        for ((name, shape), slot) in expected.iter().zip(slots.iter_mut()) {
            let (got_shape, data) =
                tensors.remove(name).ok_or_else(|| format!("tensor {name:?} is missing"))?;
            if &got_shape != shape || data.len() != slot.len() {
                return Err(format!("tensor {name:?} has shape {got_shape:?}, expected {shape:?}"));
            }
            slot.copy_from_slice(&data);
        }
        drop(slots);
        if let Some(name) = tensors.keys().next() {
            return Err(format!("unexpected tensor {name:?} for this model config"));
        }
        w.wte_t = transpose(&w.wte, config.vocab_size, config.d_model);
        Ok(Policy { weights: Arc::new(w) })
    }

    fn zeros(cfg: &ModelConfig) -> Policy {
        let (v, t, d, h) = (cfg.vocab_size, cfg.block_size, cfg.d_model, cfg.value_hidden());
        let z = |n: usize| vec![0.0f32; n];
        let lin = |i: usize, o: usize| (z(i * o), z(o));
        let layers = (0..cfg.n_layer)
            .map(|_| LayerWeights {
                ln_1: (z(d), z(d)),
                c_attn: lin(d, 3 * d),
                attn_proj: lin(d, d),
                ln_2: (z(d), z(d)),
                c_fc: lin(d, 4 * d),
                mlp_proj: lin(4 * d, d),
            })
            .collect();
        Policy {
            weights: Arc::new(Weights {
                config: cfg.clone(),
                wte: z(v * d),
                wte_t: z(v * d),
                wpe: z(t * d),
                layers,
                ln_f: (z(d), z(d)),
                value_fc: lin(d, h),
                value_out: lin(h, 1),
            }),
        }
    }
}

impl Weights {
    /// Mutable views of every tensor, in [`Policy::named_tensors`] order.
    pub(crate) fn slots_mut(&mut self) -> Vec<&mut Vec<f32>> {
        let mut out: Vec<&mut Vec<f32>> = vec![&mut self.wte, &mut self.wpe];
        for l in &mut self.layers {
            out.extend([&mut l.ln_1.0, &mut l.ln_1.1, &mut l.c_attn.0, &mut l.c_attn.1]);
            out.extend([&mut l.attn_proj.0, &mut l.attn_proj.1, &mut l.ln_2.0, &mut l.ln_2.1]);
            out.extend([&mut l.c_fc.0, &mut l.c_fc.1, &mut l.mlp_proj.0, &mut l.mlp_proj.1]);
        }
        out.extend([&mut self.ln_f.0, &mut self.ln_f.1]);
        out.extend([
            &mut self.value_fc.0,
            &mut self.value_fc.1,
            &mut self.value_out.0,
            &mut self.value_out.1,
        ]);
        out
    }
}
