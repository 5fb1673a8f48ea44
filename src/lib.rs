//! # Ponder: self-improving reasoning by tree search over a language-model policy
//!
//! (The crate tour is written as the modules land.)

pub use ponder_env as env;

pub mod cli;
pub mod eval;
pub mod experiment;
pub mod model;
pub mod search;
pub mod selfplay;
pub mod train;
