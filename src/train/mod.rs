//! The learner: losses, optimizer, schedule.
//!
//! Self-play produces [`Example`]s (a token sequence with policy and value targets at some
//! positions); the [`Learner`] turns batches of them into optimizer steps on the burn model and
//! hands its weights back to the actors as a [`crate::model::Policy`].

mod backprop;
mod example;
mod learner;
mod schedule;

pub use example::{Example, PolicyTarget};
pub use learner::{
    policy_loss, value_loss, BatchGradients, GradientPath, Learner, LearnerState, Losses, TrainConfig,
};
pub use schedule::lr_at;
