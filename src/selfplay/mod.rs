//! Actors (System 2 search, System 1 samples, whole-task search proposers), episodes and the
//! replay buffer.

pub mod actor;
pub mod episode;
pub mod propose;
pub mod replay;
pub mod selflabel;
pub mod star;

pub use actor::{sampled_episodes, search_episodes, Assignment};
pub use episode::{Episode, Step};
pub use replay::ReplayBuffer;
