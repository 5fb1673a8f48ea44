//! # Ponder (skeleton; modules land one by one)
pub use ponder_env as env;
