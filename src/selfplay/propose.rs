//! Self-play with a whole-task search as the proposer (Expert Iteration with Tree of Thoughts or
//! with DeepCoder's enumeration): the search answers each task, and every finished answer it
//! returns becomes an episode graded by the ground truth. With `targets = "verified"` the policy
//! then learns the accepted answers (one-hot targets at every decision) and the value head learns
//! from all of them.

use ponder_env::{Env, State};

use super::actor::{replay_decisions, Assignment};
use super::episode::Episode;
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
