//! The training record: what self-play produces and the learner consumes.

/// One training sequence: a token prefix with targets at some positions. (src/train/example.rs)
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Example {
    /// The whole sequence: `<bos>`, then a game's moves, or a prompt, `<sep>`, an answer, `<eos>`.
    pub tokens: Vec<ponder_env::Token>,
    /// Policy targets: the distribution over the token that follows `tokens[..=pos]`.
    pub policy: Vec<PolicyTarget>,
    /// Value targets: `(pos, v)`, the value of the state `tokens[..=pos]` for the player to move there.
    pub values: Vec<(u32, f32)>,
    /// Weight of this example in the loss (1.0 normally).
    pub weight: f32,
}

/// A policy target at one position: a distribution over the next token, as `(token, p)` pairs
/// (a one-hot target for a verified solution, a visit distribution from search).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PolicyTarget {
    /// The position whose next token this is the target of.
    pub pos: u32,
    /// `(token, probability)` pairs; the probabilities are normalised to sum to 1 in the loss.
    pub dist: Vec<(ponder_env::Token, f32)>,
    /// This target's weight in the loss, times the example's: 1 for search and verified targets;
    /// the advantage (outcome minus the value head's baseline, any sign) for policy-gradient
    /// targets, so that the cross-entropy's gradient is REINFORCE's.
    #[serde(default = "one")]
    pub weight: f32,
}

impl PolicyTarget {
    /// A target of weight 1.
    pub fn new(pos: u32, dist: Vec<(ponder_env::Token, f32)>) -> Self {
        PolicyTarget { pos, dist, weight: 1.0 }
    }
}

fn one() -> f32 {
    1.0
}
