//! STaR (Zelikman et al. 2022): sample answers, keep what the verifier accepts, and
//! *rationalize* failures — try again with the answer as a hint, and train on the hinted attempt
//! as if no hint had been given.
//!
//! A round is one loop iteration with `selfplay.targets = "verified"`:
//!
//! 1. **Generate.** `samples_per_task` System 1 samples per task ([`sampled_episodes`]), each
//!    graded by the ground truth. Only right answers teach the policy (the loop clears the policy
//!    targets of wrong ones); wrong ones teach the value head, and `keep_failed` says what share
//!    of them is stored at all.
//! 2. **Rationalize** (`rationalize = true`). A task none of whose samples was right gets one more
//!    attempt from [`Env::hinted_start`]: the same tokens as the plain start, with legal moves
//!    narrowed by the ground truth (arithmetic: the scratchpad is forced to the true carries and
//!    column sums, the final answer is the policy's). The attempt is replayed on the *plain*
//!    state, so its targets are the decisions an unhinted attempt would have faced, and it is
//!    kept only if the ground truth accepts its answer.
//!
//! The hint opens the ground truth, so it is used here and nowhere else: no search or evaluation
//! path builds a hinted state. Rationalizations are training data only; they never count in the
//! round's accuracy or the curriculum's promotion, which see the plain attempts alone.

use ponder_env::{Env, State, Task};

use super::actor::{replay_decisions, sampled_episodes, Assignment};
use super::episode::Episode;
use crate::search::{decode, Decoder, Evaluator};

/// What STaR's generation made of a chunk of tasks.
#[derive(Debug, Clone, Default)]
pub struct StarBatch {
    /// The plain attempts, `samples` per task in task order, graded by the ground truth.
    pub attempts: Vec<Episode>,
    /// Hinted attempts whose answer the ground truth accepted (training data only).
    pub rationalized: Vec<Episode>,
    /// Tasks that got a hinted attempt (no plain sample right, and a hint on offer).
    pub hinted: usize,
}

/// Plain attempts for every assignment, then (with `rationalize`) one hinted attempt for each
/// task that no plain attempt solved. Deterministic in the assignments' seeds.
pub fn star_episodes<E: Env, V: Evaluator<E::State> + ?Sized>(
    env: &E,
    ev: &mut V,
    sampler: &Decoder,
    samples: u32,
    rationalize: bool,
    work: &[Assignment],
) -> StarBatch {
    let attempts = sampled_episodes(env, ev, sampler, samples, work);
    if !rationalize {
        return StarBatch { attempts, ..StarBatch::default() };
    }
    let failed: Vec<&Assignment> =
        work.iter().filter(|a| !attempts.iter().any(|e| e.task == a.task.id && e.correct)).collect();
    let mut starts = Vec::new();
    let mut owners: Vec<&Assignment> = Vec::new();
    for a in failed {
        if let Some(s) = env.hinted_start(&a.task) {
            starts.push(s);
            owners.push(a);
        }
    }
    let hinted = starts.len();
    // A seed apart from the plain samples' (which start from the chunk's first seed).
    let seed = work.first().map_or(0, |a| a.seed ^ 0x5a7_4a71);
    let decoded = decode(&starts, ev, sampler, seed);
    let rationalized = decoded
        .into_iter()
        .zip(owners)
        .filter_map(|(d, a)| {
            let tokens = d.state.tokens().to_vec();
            let g = env.grade(&a.task, &env.answer(&d.state));
            g.correct.then(|| Episode {
                task: a.task.id.clone(),
                steps: replay_decisions(env, &a.task.prompt, &tokens),
                tokens,
                outcome: g.reward,
                correct: true,
                two_player: false,
                level: a.level,
                compute: d.compute,
            })
        })
        .collect();
    StarBatch { attempts, rationalized, hinted }
}

/// Whether a graded attempt goes into the replay buffer: every right one, and a fixed share
/// `keep_failed` of the wrong ones, chosen by a hash of the episode's task and position (so the
/// choice is the same on any thread count and on resume).
pub fn stored(e: &Episode, index: usize, keep_failed: f64) -> bool {
    if e.correct || keep_failed >= 1.0 {
        return true;
    }
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in e.task.bytes().chain((index as u64).to_le_bytes()) {
        h = (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
    }
    ((h >> 11) as f64 / (1u64 << 53) as f64) < keep_failed
}

/// Whether `env` can rationalize: it offers a hinted start for one of its own tasks.
pub fn offers_hints<E: Env>(env: &E) -> bool {
    let t: Task = env.generate(0, 0, 0);
    env.hinted_start(&t).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::Uniform;
    use ponder_env::math::{Arith, Op, Scratchpad};

    fn work(env: &Arith, n: u64) -> Vec<Assignment> {
        (0..n).map(|i| Assignment { task: env.generate(1, i, 1), level: 1, seed: 100 + i }).collect()
    }

    #[test]
    fn rationalizations_follow_the_true_scratchpad_and_keep_only_right_answers() {
        let env = Arith::new(Op::Add, 1, 2, Scratchpad::Lsd).unwrap();
        let w = work(&env, 24);
        let sampler = Decoder::Sample { temperature: 1.0 };
        let b = star_episodes(&env, &mut Uniform { value: 0.5 }, &sampler, 2, true, &w);
        assert_eq!(b.attempts.len(), 48, "two plain samples per task");
        let unsolved = w.iter().filter(|a| !b.attempts.iter().any(|e| e.task == a.task.id && e.correct));
        assert_eq!(b.hinted, unsolved.count(), "one hinted attempt per unsolved task");
        assert!(b.hinted > 0, "a uniform policy fails most two-digit sums");
        for r in &b.rationalized {
            assert!(r.correct);
            let a = w.iter().find(|a| a.task.id == r.task).unwrap();
            // The hinted tokens read as a plain, legal attempt whose decisions are all targets.
            let plain = env.start(&a.task.prompt).unwrap();
            assert!(r.tokens.starts_with(plain.tokens()));
            let key = |st: &[crate::selfplay::Step]| st.iter().map(|x| (x.pos, x.action)).collect::<Vec<_>>();
            assert_eq!(key(&r.steps), key(&replay_decisions(&env, &a.task.prompt, &r.tokens)));
            assert!(r.steps.len() >= 2, "at least the answer's digits were the policy's to choose");
            assert!(r.steps.iter().all(|s| s.target.len() == 1));
        }
        let without = star_episodes(&env, &mut Uniform { value: 0.5 }, &sampler, 2, false, &w);
        let tokens = |eps: &[Episode]| eps.iter().map(|e| e.tokens.clone()).collect::<Vec<_>>();
        assert_eq!(
            tokens(&without.attempts),
            tokens(&b.attempts),
            "rationalizing leaves the plain attempts be"
        );
        assert!(without.rationalized.is_empty() && without.hinted == 0);
    }

    #[test]
    fn a_share_of_failures_is_stored_and_every_success() {
        let env = Arith::new(Op::Add, 1, 3, Scratchpad::None).unwrap();
        let b =
            star_episodes(&env, &mut Uniform { value: 0.5 }, &Decoder::Greedy, 1, false, &work(&env, 400));
        let wrong: Vec<(usize, &Episode)> =
            b.attempts.iter().enumerate().filter(|(_, e)| !e.correct).collect();
        let kept = wrong.iter().filter(|(i, e)| stored(e, *i, 0.25)).count();
        assert!((60..140).contains(&kept), "about a quarter of {} failures kept: {kept}", wrong.len());
        assert!(b.attempts.iter().enumerate().filter(|(_, e)| e.correct).all(|(i, e)| stored(e, i, 0.0)));
        assert!(wrong.iter().all(|(i, e)| stored(e, *i, 1.0)));
    }

    #[test]
    fn only_scratchpad_formats_offer_hints() {
        assert!(offers_hints(&Arith::new(Op::Add, 1, 3, Scratchpad::Msd).unwrap()));
        assert!(!offers_hints(&Arith::new(Op::Add, 1, 3, Scratchpad::None).unwrap()));
        assert!(!offers_hints(&ponder_env::tictactoe::TicTacToe));
    }
}
