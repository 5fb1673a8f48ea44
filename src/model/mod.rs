//! The policy: tokenizer, transformer with policy and value heads, fast inference, checkpoints.
//!
//! ## How the pieces fit
//!
//! - [`Tokenizer`]: text to tokens over the shared vocabulary; stored in every checkpoint.
//! - [`Gpt`] / [`ModelConfig`] (`gpt.rs`): the burn model, nanoGPT-shaped, with a tied policy
//!   (language-model) head and a value head ([`ValueKind`] picks tanh or sigmoid). Training runs
//!   it on an autodiff device ([`crate::train::Learner`]).
//! - [`Policy`] (`weights.rs`): the same weights as plain `f32` buffers, `Arc`-shared across
//!   actor threads.
//! - [`PolicyEvaluator`] (`infer.rs`, `cache.rs`, `kernels.rs`): the search's
//!   [`Evaluator`](crate::search::Evaluator): batched leaves, key/value cache on the search tree,
//!   GEMMs from the `gemm` crate. One per actor thread.
//! - [`BurnEvaluator`] (`burn_eval.rs`): burn's full forward, no cache: any device (wgpu), and
//!   the parity reference.
//! - [`checkpoint`]: self-describing, atomically written directories, and safetensors export.
//!
//! The data flow: `Learner` trains a `Gpt` → `learner.policy()` → `policy.evaluator()` in each
//! actor → search; `checkpoint::save` / `load_policy` / `load_learner` persist and resume.

mod burn_eval;
mod cache;
pub mod checkpoint;
mod error;
pub mod gpt;
mod infer;
pub mod kernels;
pub mod safetensors;
mod tokenizer;
mod weights;

pub use burn_eval::BurnEvaluator;
pub use cache::CacheStats;
pub use checkpoint::CheckpointMeta;
pub use error::ModelError;
pub use gpt::{Gpt, ModelConfig, Positions, ValueKind};
pub use infer::PolicyEvaluator;
pub use tokenizer::Tokenizer;
pub use weights::{LayerWeights, Policy, Weights};
