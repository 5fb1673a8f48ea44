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
//! 2. **Retry** (`retries > 0`). A task none of whose samples was right gets `retries` more
//!    samples (at temperature 1) through [`Explore`], which mixes the policy with the uniform
//!    distribution (`explore`): rejection sampling alone stalls on tasks the policy has collapsed onto a wrong
//!    answer, since it never samples anything else. Right retries are training data only.
//! 3. **Rationalize** (`rationalize = true`). A task none of whose samples or retries was right gets one more
//!    attempt from [`Env::hinted_start`]: the same tokens as the plain start, with legal moves
//!    narrowed by the ground truth. In a column scratchpad the answer determines every step, so
//!    the hint forces the whole worked solution (see `environments/docs/addition.md`). The
//!    attempt is replayed on the *plain* state, so its targets are the decisions an unhinted
//!    attempt would have faced; it is kept if the ground truth accepts its answer (here always).
//!
//! With `verify_scratchpad`, the verifier reads the whole trace (process supervision by the
//! ground truth): an attempt is right only if its answer is right *and* its scratchpad is the
//! true one ([`follows_hint`]). Without it, a sampled trace with a junk column sum followed by
//! the right answer counts as right and is trained on — STaR's "right answer, wrong rationale".
//!
//! The hint opens the ground truth, so it is used here and nowhere else: no search or evaluation
//! path builds a hinted state. Rationalizations are training data only; they never count in the
//! round's accuracy or the curriculum's promotion, which see the plain attempts alone.

use ponder_env::{Env, State, Task, Token};

use super::actor::{replay_decisions, sampled_episodes, Assignment};
use super::episode::Episode;
use crate::experiment::config::SelfPlaySection;
use crate::search::{decode, CacheId, Decoder, Evaluations, Evaluator, Leaf};

/// What STaR's generation made of a chunk of tasks.
#[derive(Debug, Clone, Default)]
pub struct StarBatch {
    /// The plain attempts, `samples_per_task` per task in task order, graded by the ground truth.
    pub attempts: Vec<Episode>,
    /// Right answers found by retries and rationalizations (training data only).
    pub extra: Vec<Episode>,
    /// Tasks retried (no plain attempt right), and those a retry solved.
    pub retried: usize,
    pub retry_solved: usize,
    /// Tasks that got a hinted attempt (still unsolved, and a hint on offer), and those solved.
    pub hinted: usize,
    pub rationalized: usize,
}

/// STaR's generation for a chunk of tasks, in three passes, each on the tasks the earlier ones
/// left unsolved: plain samples; `retries` samples with exploration (`explore`); one hinted
/// attempt (`rationalize`). Deterministic in the assignments' seeds.
pub fn star_episodes<E: Env, V: Evaluator<E::State> + ?Sized>(
    env: &E,
    ev: &mut V,
    sp: &SelfPlaySection,
    work: &[Assignment],
) -> StarBatch {
    let mut b = StarBatch {
        attempts: sampled_episodes(env, ev, &sp.sampler, sp.samples_per_task, work),
        ..StarBatch::default()
    };
    if sp.verify_scratchpad {
        check_traces(env, work, &mut b.attempts);
    }
    let unsolved = |b: &StarBatch| -> Vec<Assignment> {
        work.iter()
            .filter(|a| !b.attempts.iter().chain(&b.extra).any(|e| e.task == a.task.id && e.correct))
            .cloned()
            .collect()
    };
    if sp.retries > 0 {
        // A seed apart from the plain samples' (decoding starts from the chunk's first seed).
        let retry: Vec<Assignment> =
            unsolved(&b).into_iter().map(|a| Assignment { seed: a.seed ^ 0x2e7_2135, ..a }).collect();
        if !retry.is_empty() {
            let mut explorer = Explore { inner: &mut *ev, share: sp.explore as f32 };
            // Retries always sample (a greedy retry would repeat itself), from the mixed policy.
            let sampler = Decoder::Sample { temperature: 1.0 };
            let mut found = sampled_episodes(env, &mut explorer, &sampler, sp.retries, &retry);
            if sp.verify_scratchpad {
                check_traces(env, &retry, &mut found);
            }
            found.retain(|e| e.correct);
            b.retried = retry.len();
            b.retry_solved = retry.iter().filter(|a| found.iter().any(|e| e.task == a.task.id)).count();
            b.extra.extend(found);
        }
    }
    if sp.rationalize {
        let mut starts = Vec::new();
        let mut owners = Vec::new();
        for a in unsolved(&b) {
            if let Some(s) = env.hinted_start(&a.task) {
                starts.push(s);
                owners.push(a);
            }
        }
        b.hinted = starts.len();
        let seed = work.first().map_or(0, |a| a.seed ^ 0x5a7_4a71);
        for (d, a) in decode(&starts, ev, &sp.sampler, seed).into_iter().zip(owners) {
            let tokens = d.state.tokens().to_vec();
            let g = env.grade(&a.task, &env.answer(&d.state));
            if g.correct {
                b.rationalized += 1;
                b.extra.push(Episode {
                    task: a.task.id.clone(),
                    steps: replay_decisions(env, &a.task.prompt, &tokens),
                    tokens,
                    outcome: g.reward,
                    correct: true,
                    two_player: false,
                    level: a.level,
                    compute: d.compute,
                });
            }
        }
    }
    b
}

/// Process supervision by the ground truth: an attempt whose answer is right but whose
/// scratchpad is not the true one (a wrong carry or column sum that happened to be followed by
/// the right answer) is marked wrong.
fn check_traces<E: Env>(env: &E, work: &[Assignment], episodes: &mut [Episode]) {
    for e in episodes.iter_mut().filter(|e| e.correct) {
        let Some(a) = work.iter().find(|a| a.task.id == e.task) else { continue };
        if !follows_hint(env, &a.task, &e.tokens) {
            e.correct = false;
            e.outcome = 0.0;
        }
    }
}

/// Whether `tokens` (a whole attempt) stay legal in the hinted state of `task`: its scratchpad is
/// the true one. True where the environment offers no hint.
pub fn follows_hint<E: Env>(env: &E, task: &Task, tokens: &[Token]) -> bool {
    let Some(mut s) = env.hinted_start(task) else { return true };
    let mut legal = Vec::new();
    for &t in tokens.get(s.tokens().len()..).unwrap_or(&[]) {
        s.legal_actions(&mut legal);
        if !legal.contains(&t) {
            return false;
        }
        s.apply(t);
    }
    true
}

/// An evaluator that mixes the policy's priors with the uniform distribution over the legal
/// tokens: `(1 - share) p + share / n`. Sampling through it explores answers a collapsed policy
/// would never draw (retries of tasks it keeps getting wrong).
pub struct Explore<'a, V: ?Sized> {
    pub inner: &'a mut V,
    pub share: f32,
}

impl<S: State, V: Evaluator<S> + ?Sized> Evaluator<S> for Explore<'_, V> {
    fn evaluate(&mut self, leaves: &[Leaf<'_, S>], out: &mut Evaluations) {
        self.inner.evaluate(leaves, out);
        let mut at = 0;
        for leaf in leaves {
            let n = leaf.legal.len();
            for p in &mut out.priors[at..at + n] {
                *p = (1.0 - self.share) * *p + self.share / n as f32;
            }
            at += n;
        }
    }
    fn release(&mut self, caches: &[CacheId]) {
        self.inner.release(caches)
    }
    fn learned(&self) -> bool {
        self.inner.learned()
    }
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

    fn settings(samples: u32, edit: impl FnOnce(&mut SelfPlaySection)) -> SelfPlaySection {
        let mut sp = SelfPlaySection {
            sampler: Decoder::Sample { temperature: 1.0 },
            samples_per_task: samples,
            ..SelfPlaySection::default()
        };
        edit(&mut sp);
        sp
    }

    fn tokens(eps: &[Episode]) -> Vec<Vec<Token>> {
        eps.iter().map(|e| e.tokens.clone()).collect()
    }

    #[test]
    fn rationalizations_follow_the_true_scratchpad_and_keep_only_right_answers() {
        let env = Arith::new(Op::Add, 1, 2, Scratchpad::Lsd).unwrap();
        let w = work(&env, 24);
        let b = star_episodes(&env, &mut Uniform { value: 0.5 }, &settings(2, |s| s.rationalize = true), &w);
        assert_eq!(b.attempts.len(), 48, "two plain samples per task");
        let unsolved = w.iter().filter(|a| !b.attempts.iter().any(|e| e.task == a.task.id && e.correct));
        assert_eq!(b.hinted, unsolved.count(), "one hinted attempt per unsolved task");
        assert!(b.hinted > 0, "a uniform policy fails most two-digit sums");
        assert_eq!(b.rationalized, b.extra.len());
        assert_eq!(b.rationalized, b.hinted, "a forced worked solution is always right");
        for r in &b.extra {
            assert!(r.correct);
            let a = w.iter().find(|a| a.task.id == r.task).unwrap();
            assert!(follows_hint(&env, &a.task, &r.tokens), "the hint wrote the scratchpad");
            // The hinted tokens read as a plain, legal attempt whose decisions are all targets.
            let plain = env.start(&a.task.prompt).unwrap();
            assert!(r.tokens.starts_with(plain.tokens()));
            let key = |st: &[crate::selfplay::Step]| st.iter().map(|x| (x.pos, x.action)).collect::<Vec<_>>();
            assert_eq!(key(&r.steps), key(&replay_decisions(&env, &a.task.prompt, &r.tokens)));
            assert!(r.steps.len() >= 2, "the carries, sums and answer are decisions of the plain state");
        }
        let without = star_episodes(&env, &mut Uniform { value: 0.5 }, &settings(2, |_| {}), &w);
        assert_eq!(
            tokens(&without.attempts),
            tokens(&b.attempts),
            "rationalizing leaves the plain attempts be"
        );
        assert!(without.extra.is_empty() && without.hinted == 0);
    }

    #[test]
    fn retries_explore_only_unsolved_tasks_and_keep_what_they_solve() {
        let env = Arith::new(Op::Add, 1, 1, Scratchpad::None).unwrap();
        let w = work(&env, 40);
        let sp = settings(1, |s| {
            s.sampler = Decoder::Greedy;
            s.retries = 8;
            s.explore = 1.0;
        });
        let b = star_episodes(&env, &mut Uniform { value: 0.5 }, &sp, &w);
        let solved = w.iter().filter(|a| b.attempts.iter().any(|e| e.task == a.task.id && e.correct)).count();
        assert_eq!(b.retried, 40 - solved, "every task greedy decoding got wrong is retried");
        assert!(b.retry_solved > 0, "uniform exploration finds some one-digit sums: {}", b.retry_solved);
        assert!(b.extra.iter().all(|e| e.correct) && b.extra.len() >= b.retry_solved);
        let greedy = star_episodes(
            &env,
            &mut Uniform { value: 0.5 },
            &settings(1, |s| s.sampler = Decoder::Greedy),
            &w,
        );
        assert_eq!(tokens(&greedy.attempts), tokens(&b.attempts));
    }

    #[test]
    fn a_right_answer_after_a_wrong_scratchpad_fails_process_verification() {
        let env = Arith::new(Op::Add, 1, 3, Scratchpad::Lsd).unwrap();
        let task = env.task("t", "347+85", &serde_json::Value::Null).unwrap();
        let text = |pad: &str| {
            let mut t = env.start("347+85").unwrap().tokens().to_vec();
            ponder_env::vocab::encode_into(pad, &mut t).unwrap();
            t
        };
        let mut good = text("7+5+0=12");
        good.push(ponder_env::vocab::STEP);
        assert!(follows_hint(&env, &task, &good));
        let mut junk = text("7+5+0=13");
        junk.push(ponder_env::vocab::STEP);
        assert!(!follows_hint(&env, &task, &junk));
    }

    #[test]
    fn a_share_of_failures_is_stored_and_every_success() {
        let env = Arith::new(Op::Add, 1, 3, Scratchpad::None).unwrap();
        let sp = settings(1, |s| s.sampler = Decoder::Greedy);
        let b = star_episodes(&env, &mut Uniform { value: 0.5 }, &sp, &work(&env, 400));
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
