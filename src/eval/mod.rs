//! Evaluation: accuracy against compute for tasks; matches, Elo and the optimal-move rate
//! against exact solvers for games.

pub mod by_length;
pub mod games;
pub mod task_search;
pub mod tasks;
