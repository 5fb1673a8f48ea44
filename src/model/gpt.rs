//! The policy network in burn: a decoder-only transformer with a policy head and a value head.
//!
//! It reads top to bottom like nanoGPT's `model.py`: the config, then attention, MLP, block, and
//! the whole model. Pre-LayerNorm blocks, causal self-attention, a GELU MLP (4x wide), learned
//! positions.
//!
//! - The **policy head** is the language-model head: logits for the *next* token at every
//!   position. Its weight is tied to the token embedding (as in GPT-2 and nanoGPT): the head
//!   costs no parameters, and on our small vocabulary it regularises rare tokens.
//! - The **value head** reads the hidden state at a position and predicts the value of the
//!   state `tokens[..=pos]` for the player to move there: `tanh` for games (in [-1, 1]),
//!   `sigmoid` for tasks (the expected reward, in [0, 1]). Training computes it at every
//!   position; inference at the last one.
//!
//! This is the training model. Search runs on [`super::Policy`], a copy of the same weights in
//! plain buffers with a dedicated cached CPU path, tested for parity with [`Gpt::forward`].

use burn::module::Param;
use burn::nn::{Embedding, LayerNorm, LayerNormConfig, Linear};
use burn::prelude::*;
use burn::tensor::activation::{gelu, sigmoid, tanh};
use burn::tensor::module::attention;
use burn::tensor::ops::AttentionModuleOptions;
use ponder_env::vocab::VOCAB_SIZE;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

use super::ModelError;

/// How the value head squashes its output, and so what range values live in.
#[derive(Config, Debug, Copy, PartialEq, Eq)]
pub enum ValueKind {
    /// Two-player games: `tanh`, values in [-1, 1] for the player to move.
    Game,
    /// Single-agent tasks: `sigmoid`, the expected reward in [0, 1].
    Task,
}

impl ValueKind {
    /// The value that means "no idea": 0 for games, 0.5 for tasks.
    pub fn neutral(self) -> f32 {
        match self {
            ValueKind::Game => 0.0,
            ValueKind::Task => 0.5,
        }
    }

    /// Squashes a raw value-head output into the kind's range.
    pub fn squash(self, raw: f32) -> f32 {
        match self {
            ValueKind::Game => raw.tanh(),
            ValueKind::Task => 1.0 / (1.0 + (-raw).exp()),
        }
    }
}

/// The shape of the policy network. The defaults give ~0.8M parameters.
#[derive(Config, Debug, PartialEq)]
pub struct ModelConfig {
    /// Number of tokens: the shared vocabulary.
    #[config(default = "VOCAB_SIZE")]
    pub vocab_size: usize,
    /// The most positions a sequence may have (learned position embeddings).
    #[config(default = 256)]
    pub block_size: usize,
    /// Width of the residual stream.
    #[config(default = 128)]
    pub d_model: usize,
    /// Number of transformer blocks.
    #[config(default = 4)]
    pub n_layer: usize,
    /// Number of attention heads (must divide `d_model`).
    #[config(default = 4)]
    pub n_head: usize,
    /// What the value head predicts.
    #[config(default = "ValueKind::Game")]
    pub value: ValueKind,
    /// How the model knows where a token is: learned position embeddings (GPT-2, nanoGPT), or
    /// none at all (NoPE: causal attention alone tells positions apart, which generalizes to
    /// lengths never trained on better than a learned table does; Kazemnejad et al. 2023).
    #[config(default = "Positions::Learned")]
    pub positions: Positions,
}

/// Position information: see [`ModelConfig::positions`].
#[derive(Config, Debug, Copy, PartialEq, Eq)]
pub enum Positions {
    /// `wpe[pos]` is added to every token's embedding.
    Learned,
    /// No position embedding. The `wpe` table is still allocated (so every checkpoint has the
    /// same parameters) but never read; the inference weights and the safetensors export hold it
    /// as zeros, so any GPT implementation computes the same function from them.
    None,
}

/// nanoGPT's initialisation: weights ~ N(0, 0.02), residual projections scaled down by
/// `1/sqrt(2 n_layer)` so the residual stream does not grow with depth.
pub const INIT_STD: f64 = 0.02;

impl ModelConfig {
    /// Width of one attention head.
    pub fn head_dim(&self) -> usize {
        self.d_model / self.n_head
    }

    /// Hidden width of the value head's MLP.
    pub fn value_hidden(&self) -> usize {
        self.d_model
    }

    /// Checks that the sizes describe a model.
    pub fn validate(&self) -> Result<(), ModelError> {
        let bad = |m: String| Err(ModelError::Config(format!("model config: {m}")));
        if self.vocab_size == 0 || self.block_size == 0 || self.d_model == 0 || self.n_layer == 0 {
            return bad(format!("sizes must be positive: {self:?}"));
        }
        if self.n_head == 0 || self.d_model % self.n_head != 0 {
            return bad(format!("n_head {} must divide d_model {}", self.n_head, self.d_model));
        }
        if self.vocab_size > u16::MAX as usize + 1 {
            return bad(format!("vocab_size {} does not fit a u16 token", self.vocab_size));
        }
        Ok(())
    }

    /// Number of parameters of the model this config describes.
    pub fn num_params(&self) -> usize {
        let (v, t, d, l, h) =
            (self.vocab_size, self.block_size, self.d_model, self.n_layer, self.value_hidden());
        let block = 2 * d + (d * 3 * d + 3 * d) + (d * d + d) + 2 * d + (d * 4 * d + 4 * d) + (4 * d * d + d);
        v * d + t * d + l * block + 2 * d + (d * h + h) + (h + 1)
    }

    /// A fresh model on `device`, its weights drawn from `seed` (nanoGPT's initialisation).
    ///
    /// # Panics
    /// If the config is invalid ([`ModelConfig::validate`]).
    pub fn init(&self, device: &Device, seed: u64) -> Gpt {
        self.init_with_std(device, seed, INIT_STD)
    }

    /// [`ModelConfig::init`] with another weight scale: tests use a large one so that
    /// attention patterns and logits are far from uniform.
    pub fn init_with_std(&self, device: &Device, seed: u64, std: f64) -> Gpt {
        self.validate().expect("invalid model config");
        // Weights come from our own seeded generator rather than burn's device RNG, which is
        // global to the backend and so shared with every other test and thread.
        let mut init = Init { rng: ChaCha8Rng::seed_from_u64(seed), device };
        let d = self.d_model;
        let proj_std = std / (2.0 * self.n_layer as f64).sqrt();
        Gpt {
            wte: Embedding { weight: init.normal([self.vocab_size, d], std) },
            wpe: Embedding { weight: init.normal([self.block_size, d], std) },
            blocks: (0..self.n_layer)
                .map(|_| Block {
                    ln_1: LayerNormConfig::new(d).init(device),
                    attn: CausalSelfAttention {
                        c_attn: init.linear(d, 3 * d, std),
                        c_proj: init.linear(d, d, proj_std),
                        n_head: self.n_head,
                    },
                    ln_2: LayerNormConfig::new(d).init(device),
                    mlp: Mlp { c_fc: init.linear(d, 4 * d, std), c_proj: init.linear(4 * d, d, proj_std) },
                })
                .collect(),
            ln_f: LayerNormConfig::new(d).init(device),
            value_fc: init.linear(d, self.value_hidden(), std),
            value_out: init.linear(self.value_hidden(), 1, std),
            value_kind: self.value,
            block_size: self.block_size,
            learned_positions: self.positions == Positions::Learned,
        }
    }
}

/// Draws weights in a fixed order from one seeded generator.
struct Init<'a> {
    rng: ChaCha8Rng,
    device: &'a Device,
}

impl Init<'_> {
    fn normal<const D: usize>(&mut self, shape: [usize; D], std: f64) -> Param<Tensor<D>> {
        let n: usize = shape.iter().product();
        let dist = Normal::new(0.0, std.max(f64::MIN_POSITIVE)).expect("a positive std");
        let values: Vec<f32> = (0..n).map(|_| dist.sample(&mut self.rng) as f32).collect();
        Param::from_tensor(Tensor::from_data(TensorData::new(values, shape), self.device))
    }

    /// A linear layer `[d_in, d_out]` (burn's row layout: `y = x W + b`), zero bias.
    fn linear(&mut self, d_in: usize, d_out: usize, std: f64) -> Linear {
        Linear {
            weight: self.normal([d_in, d_out], std),
            bias: Some(Param::from_tensor(Tensor::zeros([d_out], self.device))),
        }
    }
}

/// Multi-head causal self-attention, the query, key and value projections fused in one matrix.
#[derive(Module, Debug)]
pub struct CausalSelfAttention {
    /// `[C, 3C]`: queries, keys, values, in that order along the output.
    pub c_attn: Linear,
    /// `[C, C]`: the output projection.
    pub c_proj: Linear,
    /// Number of heads.
    pub n_head: usize,
}

impl CausalSelfAttention {
    /// # Shapes
    /// - x: `[B, T, C]`
    /// - output: `[B, T, C]`
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let [b, t, c] = x.dims();
        let (nh, hd) = (self.n_head, c / self.n_head);
        let mut qkv = self.c_attn.forward(x).chunk(3, 2); // 3 x [B, T, C]
        let heads = |x: Tensor<3>| x.reshape([b, t, nh, hd]).swap_dims(1, 2); // [B, nh, T, hd]
        let v = heads(qkv.pop().expect("3 chunks"));
        let k = heads(qkv.pop().expect("3 chunks"));
        let q = heads(qkv.pop().expect("3 chunks"));
        // Position i attends to positions 0..=i; scale 1/sqrt(hd).
        let options = AttentionModuleOptions { scale: None, softcap: None, is_causal: true };
        let y = attention(q, k, v, None, None, options); // [B, nh, T, hd]
        let y = y.swap_dims(1, 2).reshape([b, t, c]); // [B, T, C]
        self.c_proj.forward(y)
    }
}

/// The feed-forward network: `C -> 4C -> GELU -> C`.
#[derive(Module, Debug)]
pub struct Mlp {
    /// `[C, 4C]`.
    pub c_fc: Linear,
    /// `[4C, C]`.
    pub c_proj: Linear,
}

impl Mlp {
    /// # Shapes
    /// - x: `[B, T, C]`
    /// - output: `[B, T, C]`
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let h = gelu(self.c_fc.forward(x)); // [B, T, 4C] (exact, erf-based GELU)
        self.c_proj.forward(h)
    }
}

/// One pre-LayerNorm transformer block.
#[derive(Module, Debug)]
pub struct Block {
    /// Before attention.
    pub ln_1: LayerNorm,
    /// Causal self-attention.
    pub attn: CausalSelfAttention,
    /// Before the MLP.
    pub ln_2: LayerNorm,
    /// The MLP.
    pub mlp: Mlp,
}

impl Block {
    /// # Shapes
    /// - x: `[B, T, C]`
    /// - output: `[B, T, C]`
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let x = x.clone() + self.attn.forward(self.ln_1.forward(x)); // [B, T, C]
        x.clone() + self.mlp.forward(self.ln_2.forward(x)) // [B, T, C]
    }
}

/// The policy network: token and position embeddings, blocks, final LayerNorm, and the two
/// heads.
#[derive(Module, Debug)]
pub struct Gpt {
    /// `[V, C]` token embedding; also the policy head's weight (tied).
    pub wte: Embedding,
    /// `[block_size, C]` learned position embedding.
    pub wpe: Embedding,
    /// The transformer blocks.
    pub blocks: Vec<Block>,
    /// The final LayerNorm, before both heads.
    pub ln_f: LayerNorm,
    /// Value head, hidden layer: `[C, H]`.
    pub value_fc: Linear,
    /// Value head, output: `[H, 1]`.
    pub value_out: Linear,
    /// How the value is squashed.
    #[module(skip)]
    pub value_kind: ValueKind,
    /// The most positions a sequence may have.
    pub block_size: usize,
    /// Whether `wpe` is added (false: NoPE, [`Positions::None`]).
    pub learned_positions: bool,
}

impl Gpt {
    /// The final hidden states (after `ln_f`), which both heads read.
    ///
    /// # Shapes
    /// - tokens: `[B, T]`, `T <= block_size`
    /// - output: `[B, T, C]`
    pub fn hidden(&self, tokens: Tensor<2, Int>) -> Tensor<3> {
        let [_, t] = tokens.dims();
        assert!(t <= self.block_size, "{t} positions exceed block_size {}", self.block_size);
        let device = tokens.device();
        let pos = Tensor::<1, Int>::arange(0..t as i64, &device).unsqueeze::<2>(); // [1, T]
        let mut x = self.wte.forward(tokens); // [B, T, C]
        if self.learned_positions {
            x = x + self.wpe.forward(pos);
        }
        for block in &self.blocks {
            x = block.forward(x); // [B, T, C]
        }
        self.ln_f.forward(x)
    }

    /// Policy logits: the next-token distribution after each position (tied to `wte`).
    ///
    /// # Shapes
    /// - h: `[..., C]` hidden states from [`Gpt::hidden`]
    /// - output: `[..., V]`
    pub fn policy_logits<const D: usize>(&self, h: Tensor<D>) -> Tensor<D> {
        let w = self.wte.weight.val().transpose(); // [C, V]
        let [c, v] = w.dims();
        let dims = h.dims();
        let rows: usize = dims[..D - 1].iter().product();
        let logits = h.reshape([rows, c]).matmul(w); // [rows, V]
        let mut out = dims;
        out[D - 1] = v;
        logits.reshape(out)
    }

    /// Values, squashed into the [`ValueKind`]'s range.
    ///
    /// # Shapes
    /// - h: `[..., C]` hidden states from [`Gpt::hidden`]
    /// - output: `[...]` (the last axis is dropped)
    pub fn values<const D: usize, const D2: usize>(&self, h: Tensor<D>) -> Tensor<D2> {
        let raw = self.value_out.forward(gelu(self.value_fc.forward(h))); // [..., 1]
        let v = match self.value_kind {
            ValueKind::Game => tanh(raw),
            ValueKind::Task => sigmoid(raw),
        };
        v.squeeze_dim::<D2>(D - 1)
    }

    /// The full forward: policy logits and values at every position.
    ///
    /// # Shapes
    /// - tokens: `[B, T]`
    /// - output: logits `[B, T, V]`, values `[B, T]`
    pub fn forward(&self, tokens: Tensor<2, Int>) -> (Tensor<3>, Tensor<2>) {
        let h = self.hidden(tokens); // [B, T, C]
        (self.policy_logits(h.clone()), self.values(h))
    }

    /// The config this model was built from.
    pub fn config(&self) -> ModelConfig {
        let [vocab_size, d_model] = self.wte.weight.shape().dims();
        ModelConfig {
            vocab_size,
            block_size: self.block_size,
            d_model,
            n_layer: self.blocks.len(),
            n_head: self.blocks.first().map_or(1, |b| b.attn.n_head),
            value: self.value_kind,
            positions: if self.learned_positions { Positions::Learned } else { Positions::None },
        }
    }
}
