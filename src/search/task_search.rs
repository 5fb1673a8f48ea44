//! Searches that answer a task as a whole, rather than one decision at a time: Tree of Thoughts'
//! step-level BFS ([`steps`](super::steps)) and best-first enumeration
//! ([`enumerate`](super::enumerate)). Experiments name one as `selfplay.task_search` (the
//! proposer of answers to train on) or `eval.task_search` (System 2 at evaluation).

use ponder_env::State;
use serde::{Deserialize, Serialize};

use super::compute::Compute;
use super::enumerate::{self, EnumerateConfig};
use super::evaluator::Evaluator;
use super::steps::{self, StepSearchConfig};

/// A whole-task search and its knobs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TaskSearch {
    /// Tree of Thoughts' BFS over reasoning steps, ranked by the value head.
    Steps(StepSearchConfig),
    /// Best-first enumeration of answers by the policy's probability (DeepCoder's search).
    Enumerate(EnumerateConfig),
}

/// What a task search found for one task.
#[derive(Debug, Clone)]
pub struct Found<S> {
    /// The answer it commits to: the first finished answer the rules accept, else its best
    /// finished answer; the start state itself if it was already final; None if it finished none.
    pub answer: Option<S>,
    /// Finished answers to train on: every one the step search reached, in the order found (the
    /// answer among them); the enumeration's answer alone.
    pub candidates: Vec<S>,
    /// What the search spent on this task.
    pub compute: Compute,
}

impl TaskSearch {
    /// Checks the ranges; the error names the field under `field`.
    pub fn validate(&self, field: &str) -> Result<(), String> {
        match self {
            TaskSearch::Steps(c) => c.validate(field),
            TaskSearch::Enumerate(c) => c.validate(field),
        }
    }

    /// Searches from every start state in lockstep; `seed` fixes the random draws.
    pub fn run<S: State, E: Evaluator<S> + ?Sized>(
        &self,
        starts: &[S],
        ev: &mut E,
        seed: u64,
    ) -> Vec<Found<S>> {
        match self {
            TaskSearch::Steps(c) => steps::search(starts, ev, c, seed),
            TaskSearch::Enumerate(c) => enumerate::search(starts, ev, c),
        }
    }
}
