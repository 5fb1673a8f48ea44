//! Self-labelling (Lee et al. 2025, "Self-Improving Transformers Overcome Easy-to-Hard and
//! Length Generalization Challenges"): the policy labels slightly harder problems with its own
//! answers, filtered, and is retrained on them. **No verifier at all**: no ground truth chooses,
//! weighs or filters a label.
//!
//! For each task the policy writes `samples_per_task` answers (System 1, `selfplay.sampler`).
//! Two filters, both blind to the truth, decide whether one becomes a label:
//!
//! - **length** (`length_filter`): an answer whose length no result of the prompt's operands can
//!   have is dropped (the sum of numbers of at most `n` digits has `n` or `n + 1`; a product of
//!   `n`- and `m`-digit numbers `n + m - 1` or `n + m`). Lee et al. drop too-short outputs, the
//!   typical failure on longer inputs.
//! - **majority vote** (`agreement`): the most common remaining answer is the label if at least
//!   that share of all samples gave it. Lee et al. vote across models trained from different
//!   seeds; here the voters are samples of one model (self-consistency), which costs one
//!   training run instead of several.
//!
//! The label is the first sample that gave the winning answer, scratchpad and all, as a one-hot
//! target at each of its decisions. Its `outcome` (the value head's target) is the vote share —
//! the model's own agreement, not a reward. Its `correct` field is still the ground truth's
//! verdict, recorded for the metrics (how precise were the labels?) and read by nothing that
//! trains: the loop keeps every label's policy targets whatever `correct` says.

use std::collections::HashMap;

use ponder_env::Env;

use super::actor::{sampled_episodes, Assignment};
use super::episode::Episode;
use crate::experiment::config::SelfLabelSection;
use crate::search::{Decoder, Evaluator};

/// What self-labelling made of a chunk of tasks.
#[derive(Debug, Clone, Default)]
pub struct LabelBatch {
    /// Every sample, graded by the ground truth (for the metrics only).
    pub attempts: Vec<Episode>,
    /// The accepted labels, at most one per task, in task order.
    pub labels: Vec<Episode>,
}

/// Samples answers for every assignment and keeps, per task, the answer that passes the filters.
pub fn self_labelled_episodes<E: Env, V: Evaluator<E::State> + ?Sized>(
    env: &E,
    ev: &mut V,
    sampler: &Decoder,
    samples: u32,
    filter: &SelfLabelSection,
    work: &[Assignment],
) -> LabelBatch {
    let attempts = sampled_episodes(env, ev, sampler, samples, work);
    let k = samples.max(1) as usize;
    let mut labels = Vec::new();
    for a in work {
        // The samples of one task are consecutive, in the order they were drawn.
        let mine: Vec<&Episode> = attempts.iter().filter(|e| e.task == a.task.id).collect();
        let answers: Vec<String> = mine.iter().map(|e| answer_text(env, &a.task.prompt, e)).collect();
        if let Some((i, votes)) = vote(&a.task.prompt, &answers, filter) {
            let share = votes as f64 / k as f64;
            if votes > 0 && share >= filter.agreement {
                let mut label = mine[i].clone();
                label.outcome = share as f32;
                labels.push(label);
            }
        }
    }
    LabelBatch { attempts, labels }
}

/// The final answer of an episode, read back through the environment.
fn answer_text<E: Env>(env: &E, prompt: &str, e: &Episode) -> String {
    let Ok(mut s) = env.start(prompt) else { return String::new() };
    let n = ponder_env::State::tokens(&s).len();
    for &t in &e.tokens[n.min(e.tokens.len())..] {
        ponder_env::State::apply(&mut s, t);
    }
    env.answer(&s)
}

/// The index of the first sample giving the most common answer that passes the length filter,
/// and how many samples gave it; None if no answer passes.
pub fn vote(prompt: &str, answers: &[String], filter: &SelfLabelSection) -> Option<(usize, usize)> {
    let mut counts: HashMap<&str, (usize, usize)> = HashMap::new();
    for (i, a) in answers.iter().enumerate() {
        if a.is_empty() || (filter.length_filter && !length_ok(prompt, a)) {
            continue;
        }
        counts.entry(a.as_str()).or_insert((i, 0)).1 += 1;
    }
    // Most votes; ties go to the answer drawn first (deterministic).
    counts.into_values().max_by(|x, y| x.1.cmp(&y.1).then(y.0.cmp(&x.0)))
}

/// Whether `answer` has a length some result of the prompt's operands can have: `n` or `n + 1`
/// digits for a sum of numbers of at most `n` digits, `n + m - 1` or `n + m` for a product of
/// `n`- and `m`-digit numbers (a product with a zero operand is `0`). Reads the prompt alone.
pub fn length_ok(prompt: &str, answer: &str) -> bool {
    let len = answer.trim_start_matches('0').len().max(1);
    if let Some((a, b)) = prompt.split_once('+') {
        let n = a.len().max(b.len());
        (n..=n + 1).contains(&len)
    } else if let Some((a, b)) = prompt.split_once('*') {
        if a == "0" || b == "0" {
            return answer.trim_start_matches('0').is_empty();
        }
        let n = a.len() + b.len();
        (n - 1..=n).contains(&len)
    } else {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::Uniform;
    use ponder_env::math::{Arith, Op, Scratchpad};

    fn filter(agreement: f64, length_filter: bool) -> SelfLabelSection {
        SelfLabelSection { agreement, length_filter }
    }

    #[test]
    fn the_length_rule_reads_only_the_prompt() {
        assert!(length_ok("347+85", "432") && length_ok("999+1", "1000") && !length_ok("347+85", "43"));
        assert!(!length_ok("5+5", "100"));
        assert!(length_ok("12*34", "408") && !length_ok("12*34", "40") && length_ok("0*77", "0"));
    }

    #[test]
    fn the_majority_answer_wins_if_enough_samples_agree() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let answers = s(&["43", "432", "431", "432", "432"]);
        assert_eq!(vote("347+85", &answers, &filter(0.0, false)), Some((1, 3)));
        assert_eq!(vote("347+85", &s(&["43", "43", "432"]), &filter(0.0, false)), Some((0, 2)));
        assert_eq!(
            vote("347+85", &s(&["43", "43", "432"]), &filter(0.0, true)),
            Some((2, 1)),
            "43 is too short"
        );
        assert_eq!(
            vote("347+85", &s(&["431", "432"]), &filter(0.0, false)),
            Some((0, 1)),
            "ties: first drawn"
        );
        assert_eq!(vote("347+85", &s(&["4", ""]), &filter(0.0, true)), None);
    }

    #[test]
    fn labels_need_agreement_and_carry_the_vote_share_not_the_truth() {
        let env = Arith::new(Op::Add, 1, 2, Scratchpad::None).unwrap();
        let work: Vec<Assignment> =
            (0..40).map(|i| Assignment { task: env.generate(2, i, 1), level: 1, seed: 7 + i }).collect();
        let sampler = Decoder::Sample { temperature: 1.0 };
        let all = self_labelled_episodes(
            &env,
            &mut Uniform { value: 0.5 },
            &sampler,
            4,
            &filter(0.0, false),
            &work,
        );
        assert_eq!(all.attempts.len(), 160);
        assert_eq!(all.labels.len(), 40, "with no filter every task gets its plurality answer");
        assert!(all.labels.iter().all(|l| (0.25..=1.0).contains(&l.outcome)));
        assert!(
            all.labels.iter().any(|l| !l.correct),
            "a uniform policy's labels are mostly wrong, and kept"
        );
        let strict = self_labelled_episodes(
            &env,
            &mut Uniform { value: 0.5 },
            &sampler,
            4,
            &filter(0.75, true),
            &work,
        );
        assert!(
            strict.labels.len() < 10,
            "a uniform policy rarely agrees with itself: {}",
            strict.labels.len()
        );
        assert!(strict.labels.iter().all(|l| l.outcome >= 0.75));
    }
}
