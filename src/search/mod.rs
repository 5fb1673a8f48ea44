//! System 1 decoders and System 2 searches, over a narrow [`Evaluator`] interface.
//!
//! - [`evaluator`]: what a search asks of a model — batched priors and values, with the model's
//!   key/value cache living on the tree; [`Uniform`] and [`rollout::Rollout`] stand in for a model.
//! - [`tree`]: the arena tree (struct of arrays, [`NodeId`]), subtree reuse, a `Display` that
//!   prints children in the order the search ranks them.
//! - [`mcts`]: AlphaZero PUCT and Gumbel AlphaZero, many trees in lockstep, one batched
//!   evaluator call per simulation step.
//! - [`select`]: the selection rules as small functions (PUCT, Gumbel root and interior rules).
//! - [`system1`]: greedy, sampling, best-of-N and beam search.
//! - [`steps`], [`enumerate`], [`task_search`]: searches over whole answers — Tree of Thoughts'
//!   step-level BFS with the value head, and best-first enumeration (policy-guided or uniform).
//! - [`dot`]: Graphviz export of a tree, for `ponder tree`.
//! - [`compute`]: what every decoder and search spent.

pub mod compute;
pub mod dot;
pub mod enumerate;
pub mod evaluator;
pub mod mcts;
pub mod rollout;
pub mod select;
pub mod steps;
pub mod system1;
pub mod task_search;
pub mod tree;

pub use compute::Compute;
pub use evaluator::{CacheId, Evaluations, Evaluator, Leaf, Uniform, NO_CACHE};
pub use mcts::{Algorithm, Fpu, RootNoise, Search, SearchConfig, SearchResult};
pub use rollout::{Mixed, Rollout};
pub use system1::{decode, Decoded, Decoder, Rerank};
pub use task_search::{Found, TaskSearch};
pub use tree::{NodeId, Tree};
