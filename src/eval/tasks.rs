//! Grading answers to tasks: System 1 (a decoder) and System 2 (search at every decision) on a
//! set of tasks, each answer checked against the ground truth, with the compute it cost.

use ponder_env::{Env, Task};
use serde::{Deserialize, Serialize};

use crate::search::{decode, Compute, Decoder, Evaluator, SearchConfig};
use crate::selfplay::actor::{search_to_end, Assignment};

/// One graded answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskOutcome {
    pub id: String,
    pub prompt: String,
    /// The final answer alone (no scratchpad).
    pub answer: String,
    /// Whether the ground truth accepts it.
    pub correct: bool,
    /// Why not, where the grader says.
    pub reason: Option<String>,
    pub compute: Compute,
}

/// Answers every task with a System 1 decoder (all in lockstep).
pub fn system1<E: Env, V: Evaluator<E::State> + ?Sized>(
    env: &E,
    ev: &mut V,
    decoder: &Decoder,
    tasks: &[Task],
    seed: u64,
) -> Vec<TaskOutcome> {
    let mut starts = Vec::new();
    let mut ok = Vec::new();
    for t in tasks {
        match env.start(&t.prompt) {
            Ok(s) => {
                ok.push(true);
                starts.push(s);
            }
            Err(_) => ok.push(false),
        }
    }
    let mut decoded = decode(&starts, ev, decoder, seed).into_iter();
    tasks
        .iter()
        .zip(ok)
        .map(|(t, ok)| {
            if !ok {
                return unparsable(env, t);
            }
            let d = decoded.next().expect("one answer per parsed task");
            grade(env, t, &d.state, d.compute)
        })
        .collect()
}

/// Answers every task with System 2: a search at every decision (all tasks in lockstep).
pub fn system2<E: Env, V: Evaluator<E::State> + ?Sized>(
    env: &E,
    ev: &mut V,
    search: &SearchConfig,
    tasks: &[Task],
    seed: u64,
) -> Vec<TaskOutcome> {
    let work: Vec<Assignment> = tasks
        .iter()
        .enumerate()
        .map(|(i, t)| Assignment { task: t.clone(), level: 0, seed: seed.wrapping_add(i as u64) })
        .collect();
    let runs = search_to_end(env, ev, search, true, 0, &work);
    tasks
        .iter()
        .zip(runs)
        .map(|(t, r)| match r.state {
            Some(s) => grade(env, t, &s, r.compute),
            None => unparsable(env, t),
        })
        .collect()
}

fn grade<E: Env>(env: &E, t: &Task, state: &E::State, compute: Compute) -> TaskOutcome {
    let answer = env.answer(state);
    let g = env.grade(t, &answer);
    TaskOutcome {
        id: t.id.clone(),
        prompt: t.prompt.clone(),
        answer,
        correct: g.correct,
        reason: g.reason,
        compute,
    }
}

fn unparsable<E: Env>(env: &E, t: &Task) -> TaskOutcome {
    let reason = env.start(&t.prompt).err().map(|e| e.to_string());
    TaskOutcome {
        id: t.id.clone(),
        prompt: t.prompt.clone(),
        answer: String::new(),
        correct: false,
        reason,
        compute: Compute::default(),
    }
}

/// Accuracy and its Wilson 95% interval.
pub fn accuracy(outcomes: &[TaskOutcome]) -> (f64, f64, f64) {
    let n = outcomes.len() as f64;
    if n == 0.0 {
        return (0.0, 0.0, 0.0);
    }
    let k = outcomes.iter().filter(|o| o.correct).count() as f64;
    let p = k / n;
    let z = 1.96f64;
    let denom = 1.0 + z * z / n;
    let centre = (p + z * z / (2.0 * n)) / denom;
    let half = z * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt() / denom;
    (p, (centre - half).max(0.0), (centre + half).min(1.0))
}
