//! Episodes: the serializable record that actors send to the learner (so actors and learner are
//! separable — threads today, processes on other machines later).

use ponder_env::Token;
use serde::{Deserialize, Serialize};

use crate::experiment::config::Targets;
use crate::search::Compute;
use crate::train::{Example, PolicyTarget};

/// One decision of an episode.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Step {
    /// Index of the last token of the state where the decision was made: the policy target
    /// predicts the token at `pos + 1`.
    pub pos: u32,
    /// The player who decided (0 in tasks).
    pub to_play: u8,
    /// The improved policy over the legal actions (search targets), or a one-hot target.
    pub target: Vec<(Token, f32)>,
    /// The search's value of the state for `to_play`; None where there was no search (sampled
    /// or forced steps). JSON has no NaN, so absence is explicit: the record reads back as written.
    pub search_value: Option<f32>,
    /// The action taken.
    pub action: Token,
}

/// A finished game or task attempt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Episode {
    /// The task's id (games: the stream and index).
    pub task: String,
    /// Every token of the final state: `<bos>`, then a game's moves, or a prompt, `<sep>`, an
    /// answer and `<eos>`.
    pub tokens: Vec<Token>,
    /// The decisions, in order.
    pub steps: Vec<Step>,
    /// The result: the first player's (+1, 0, -1) in games; the ground-truth reward in tasks.
    pub outcome: f32,
    /// Tasks: whether the ground truth accepted the answer. Games: whether the first player won.
    pub correct: bool,
    /// Whether this is a two-player game (values flip sign between players).
    pub two_player: bool,
    /// The curriculum level the task came from.
    pub level: u32,
    /// What generating it cost.
    pub compute: Compute,
}

impl Episode {
    /// The outcome for `player`.
    pub fn outcome_for(&self, player: u8) -> f32 {
        if self.two_player && player == 1 {
            -self.outcome
        } else {
            self.outcome
        }
    }

    /// The training example: policy targets at every decision, value targets at every decision
    /// (the outcome mixed with the search value by `value_mix`: 0 = outcome only) and, for tasks,
    /// at the final state too (so the value head can judge finished answers).
    ///
    /// The policy targets follow `targets`: the step's own target (search's improved policy, or
    /// a verified or self-labelled answer's one-hot), the chosen action alone (ExIt's ablation),
    /// or, for policy gradient, the chosen action weighted by its advantage `z - v`: the outcome
    /// for the mover minus the value the head gave the position when the move was played
    /// (`search_value`; 0 where absent).
    pub fn to_example(&self, value_mix: f32, targets: Targets) -> Example {
        let policy = self
            .steps
            .iter()
            .map(|s| match targets {
                Targets::ChosenAction => PolicyTarget::new(s.pos, vec![(s.action, 1.0)]),
                Targets::PolicyGradient => PolicyTarget {
                    pos: s.pos,
                    dist: vec![(s.action, 1.0)],
                    weight: self.outcome_for(s.to_play)
                        - s.search_value.filter(|v| v.is_finite()).unwrap_or(0.0),
                },
                Targets::Search | Targets::Verified | Targets::SelfLabel => {
                    PolicyTarget::new(s.pos, s.target.clone())
                }
            })
            .collect();
        let mut values: Vec<(u32, f32)> = self
            .steps
            .iter()
            .map(|s| {
                let z = self.outcome_for(s.to_play);
                let v = match s.search_value {
                    Some(q) if q.is_finite() => (1.0 - value_mix) * z + value_mix * q,
                    _ => z,
                };
                (s.pos, v)
            })
            .collect();
        if !self.two_player && !self.tokens.is_empty() {
            values.push((self.tokens.len() as u32 - 1, self.outcome));
        }
        Example { tokens: self.tokens.clone(), policy, values, weight: 1.0 }
    }
}
