//! System 2 as a whole-task search ([`TaskSearch`]: Tree of Thoughts' step-level BFS, or
//! best-first enumeration) on a set of tasks, each answer graded by the ground truth, with the
//! compute it cost. The search itself sees only the rules.

use ponder_env::{Env, Task};

use super::tasks::TaskOutcome;
use crate::search::{Evaluator, TaskSearch};

/// Answers every task with `search` (all in lockstep).
pub fn system2<E: Env, V: Evaluator<E::State> + ?Sized>(
    env: &E,
    ev: &mut V,
    search: &TaskSearch,
    tasks: &[Task],
    seed: u64,
) -> Vec<TaskOutcome> {
    let starts: Vec<Option<E::State>> = tasks.iter().map(|t| env.start(&t.prompt).ok()).collect();
    let parsed: Vec<E::State> = starts.iter().flatten().cloned().collect();
    let mut found = search.run(&parsed, ev, seed).into_iter();
    tasks
        .iter()
        .zip(starts)
        .map(|(t, s)| {
            let f = s.map(|_| found.next().expect("one result per parsed task"));
            let (answer, compute) = match &f {
                Some(f) => (f.answer.as_ref().map(|a| env.answer(a)).unwrap_or_default(), f.compute),
                None => (String::new(), Default::default()),
            };
            let reason = match &f {
                Some(f) if f.answer.is_none() => Some("the search finished no answer".to_string()),
                Some(_) => None,
                None => env.start(&t.prompt).err().map(|e| e.to_string()),
            };
            let g = env.grade(t, &answer);
            TaskOutcome {
                id: t.id.clone(),
                prompt: t.prompt.clone(),
                answer,
                correct: g.correct && f.as_ref().is_some_and(|f| f.answer.is_some()),
                reason: reason.or(g.reason),
                compute,
            }
        })
        .collect()
}
