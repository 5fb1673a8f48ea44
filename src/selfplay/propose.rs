//! Self-play with a whole-task search as the proposer (Expert Iteration with Tree of Thoughts or
//! with DeepCoder's enumeration): the search answers each task, and every finished answer it
//! returns becomes an episode graded by the ground truth. With `targets = "verified"` the policy
//! then learns the accepted answers (one-hot targets at every decision) and the value head learns
//! from all of them, or from the share `selfplay.keep_failed` of the wrong ones that is stored.

use ponder_env::{Env, State};

use super::actor::{replay_decisions, Assignment};
use super::episode::Episode;
use super::star::stored;
use crate::experiment::math_loops::Generated;
use crate::search::{Evaluator, TaskSearch};

/// Runs `search` on every assignment (in lockstep) and returns one episode per finished answer,
/// in assignment order. The search's compute is booked on each task's first episode.
pub fn proposed_episodes<E: Env, V: Evaluator<E::State> + ?Sized>(
    env: &E,
    ev: &mut V,
    search: &TaskSearch,
    work: &[Assignment],
) -> Vec<Episode> {
    let mut starts = Vec::with_capacity(work.len());
    let mut owners = Vec::with_capacity(work.len());
    for (i, a) in work.iter().enumerate() {
        // A prompt that does not parse gives no episode rather than ending the others.
        if let Ok(s) = env.start(&a.task.prompt) {
            starts.push(s);
            owners.push(i);
        }
    }
    let seed = work.first().map_or(0, |a| a.seed);
    let found = search.run(&starts, ev, seed);
    let mut episodes = Vec::new();
    for (f, i) in found.into_iter().zip(owners) {
        let a = &work[i];
        for (k, state) in f.candidates.iter().enumerate() {
            let g = env.grade(&a.task, &env.answer(state));
            episodes.push(Episode {
                task: a.task.id.clone(),
                tokens: state.tokens().to_vec(),
                steps: replay_decisions(env, &a.task.prompt, state.tokens()),
                outcome: g.reward,
                correct: g.correct,
                two_player: false,
                level: a.level,
                compute: if k == 0 { f.compute } else { Default::default() },
            });
        }
    }
    episodes
}

/// Splits an iteration's proposed episodes for the loop: all are attempts (the round's accuracy
/// and the curriculum read them); the replay buffer stores the accepted ones and the share
/// `keep_failed` of the others. Adds `selfplay_tasks_solved` (the share of the `tasks` with an
/// accepted answer) and `stored_failures`.
pub fn generated(episodes: Vec<Episode>, keep_failed: f64, tasks: usize) -> Generated {
    let training: Vec<Episode> = episodes
        .iter()
        .enumerate()
        .filter(|(i, e)| stored(e, *i, keep_failed))
        .map(|(_, e)| e.clone())
        .collect();
    let mut solved: Vec<&str> = episodes.iter().filter(|e| e.correct).map(|e| e.task.as_str()).collect();
    solved.sort_unstable();
    solved.dedup();
    let mut g = Generated { attempts: Vec::new(), training, stats: Default::default() };
    g.stats.push("selfplay_tasks_solved", solved.len() as f64 / tasks.max(1) as f64);
    g.stats.push("stored_failures", g.training.iter().filter(|e| !e.correct).count() as f64);
    g.attempts = episodes;
    g
}
