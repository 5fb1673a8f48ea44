//! # ponder-env: verifiable environments
//!
//! Games whose outcomes the rules decide, and math and code tasks whose answers a program checks
//! exactly. No machine-learning dependency: this crate builds and tests in seconds.
//!
//! ## The principal types
//!
//! - [`Env`]: an environment family with its parameters (`hex:size=5`, `addition:digits=1-6`).
//!   It makes start states from prompts, generates tasks from `(seed, index)`, and grades
//!   answers against the **ground truth**.
//! - [`State`]: one state, written as tokens: a game's move history, or a task's prompt followed
//!   by the answer so far. A child's tokens extend its parent's. It exposes only the **rules**:
//!   legal next tokens, whose turn it is, and the outcome where the rules decide it.
//! - [`Task`]: a prompt and its [`Truth`]. The truth is opaque outside this crate: only
//!   [`Env::grade`] opens it.
//! - [`vocab`]: the one token vocabulary all environments share.
//! - [`spec::AnyEnv`]: every environment behind one enum, parsed from a name such as `hex:size=5`.
//!
//! ## Rules and ground truth, by construction
//!
//! A search is handed a [`State`] and nothing else. A `State` is built from the prompt text alone
//! ([`Env::start`]) and carries no answer; the answer lives in a [`Truth`], whose contents have no
//! public accessor. So a searcher can consult the rules (a game's result, "this expression
//! equals 24 with these numbers", "this program reproduces the shown examples") but it cannot
//! reach the ground truth (the true sum, the hidden test inputs) even by accident.

pub mod code;
pub mod conformance;
pub mod connect4;
pub mod game24;
pub mod hex;
pub mod math;
pub mod oracle;
pub mod spec;
pub mod suite;
pub mod tictactoe;
pub mod vocab;

use std::fmt;

pub use oracle::Oracle;
pub use spec::AnyEnv;
pub use vocab::Token;

/// A clear error about bad input: it says what was wrong, never panics.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvError {
    /// An unknown environment name or parameter, or a parameter out of range.
    #[error("{0}")]
    BadSpec(String),
    /// A prompt that is not in the environment's text format.
    #[error("malformed prompt: {0}")]
    BadPrompt(String),
    /// A move that is unparsable or illegal in the position.
    #[error("bad move: {0}")]
    BadMove(String),
    /// Text with a character outside the vocabulary.
    #[error("bad text: {0}")]
    BadText(String),
    /// A task record (JSONL line) that cannot be read.
    #[error("bad task: {0}")]
    BadTask(String),
}

/// Whether an environment is a two-player zero-sum game or a single-agent task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Two players alternate; outcomes are +1 / 0 / -1 for the first player, zero-sum.
    Game,
    /// One agent writes an answer; the reward is in [0, 1].
    Task,
}

/// One state of an environment: what a search may see. Only the **rules** are here.
///
/// Values follow one convention everywhere: [`State::rules_value`] is from the first player's
/// point of view (player 0) for games, and is the reward for tasks (player 0 is the only player).
pub trait State: Clone + Send + Sync + fmt::Debug + 'static {
    /// The tokens the policy reads: `<bos>`, then a game's moves, or a task's prompt, `<sep>` and
    /// the answer so far. A child's tokens extend its parent's by exactly the action applied.
    fn tokens(&self) -> &[Token];

    /// Clears `out` and writes the legal next tokens, in increasing token order. Empty exactly
    /// when the state is terminal.
    fn legal_actions(&self, out: &mut Vec<Token>);

    /// Applies a legal action. Applying an illegal one is a bug in the caller (checked in debug
    /// builds); input from people and files goes through [`State::parse_action`] first.
    fn apply(&mut self, action: Token);

    /// The player to move: 0 or 1 in games, always 0 in tasks. Unspecified at terminal states.
    fn to_play(&self) -> usize;

    /// Whether the episode has ended.
    fn is_terminal(&self) -> bool;

    /// At a terminal state, the outcome as far as the **rules** decide it: the first player's
    /// result (+1, 0, -1) in games; in tasks 1.0 or 0.0 where the rules can check the answer
    /// (game24: uses the numbers once and equals 24; code: reproduces the shown examples), and
    /// `None` where only the ground truth can (the true sum of an addition).
    fn rules_value(&self) -> Option<f32>;

    /// Whether a reasoning step ends here (step-level search expands whole steps). Games and
    /// token-level formats: every action is a step.
    fn at_step_boundary(&self) -> bool {
        true
    }

    /// Parses one action typed by a person or read from a file (`c3` in tic-tac-toe, `7` in an
    /// answer), checked for legality.
    fn parse_action(&self, text: &str) -> Result<Token, EnvError> {
        let toks = vocab::encode(text.trim())?;
        let mut legal = Vec::new();
        self.legal_actions(&mut legal);
        match toks.as_slice() {
            [t] if legal.contains(t) => Ok(*t),
            _ => Err(EnvError::BadMove(format!("{text:?} is not a legal action here"))),
        }
    }

    /// A rendering for people: a board for games, the prompt and answer for tasks.
    fn render(&self) -> String {
        vocab::decode(self.tokens())
    }
}

/// An environment family with its parameters, e.g. `connect4` or `addition:digits=1-6`.
pub trait Env: Clone + Send + Sync + fmt::Debug + 'static {
    /// The state type its searches run on.
    type State: State;

    /// The canonical name with every parameter, e.g. `hex:size=5`; parses back to the same env.
    fn spec(&self) -> String;

    /// Game or task.
    fn kind(&self) -> Kind;

    /// An upper bound on the number of actions in one episode (random playouts end within it).
    fn max_actions(&self) -> usize;

    /// The start state for a prompt in the environment's text format. Games take a move history
    /// (`a1 b2`), possibly empty; tasks take their prompt (`347+85`).
    fn start(&self, prompt: &str) -> Result<Self::State, EnvError>;

    /// Number of curriculum levels; level `curriculum_levels() - 1` is the full distribution.
    fn curriculum_levels(&self) -> u32 {
        1
    }

    /// The training task number `index` of stream `seed` at curriculum `level` (clamped to the
    /// last level): deterministic, the same on every machine. Never a held-out task.
    fn generate(&self, seed: u64, index: u64, level: u32) -> Task;

    /// The held-out test suite (from `environments/suites/`, built into the crate), filtered to
    /// this environment's parameters. No training generator ever produces one of these prompts.
    /// Games have none: they are graded against their solvers.
    fn held_out(&self) -> Vec<Task> {
        Vec::new()
    }

    /// The exact solver of a game, to grade play (None for tasks and unsolvable sizes).
    fn oracle(&self) -> Option<Box<dyn Oracle<Self::State>>> {
        None
    }

    /// A fixed, seeded set of non-terminal positions the oracle can solve, for the optimal-move
    /// rate; `count` 0 asks for all of them where they are few (tic-tac-toe's 4,520).
    fn graded_positions(&self, _seed: u64, _count: usize) -> Vec<Self::State> {
        Vec::new()
    }

    /// Rebuilds a task from a record (a JSONL line's fields besides `id` and `prompt`), recomputing
    /// the truth from the prompt where it can be (math) and reading it from `extra` where it
    /// cannot (code's hidden tests).
    fn task(&self, id: &str, prompt: &str, extra: &serde_json::Value) -> Result<Task, EnvError>;

    /// The **ground truth**: grades a final answer. Only training rewards and final metrics may
    /// call this; searches never hold a [`Task`].
    fn grade(&self, task: &Task, answer: &str) -> Grade;

    /// The final answer of a terminal state, as text, without any scratchpad.
    fn answer(&self, state: &Self::State) -> String;

    /// STaR's rationalization: a start state for `task` with the **ground truth** as a hint that
    /// narrows its legal tokens (arithmetic with a scratchpad: every carry, column sum and the
    /// final answer forced to their true values: the worked solution). Its tokens are exactly those of
    /// [`Env::start`]`(prompt)`, so a trajectory from it is a legal unhinted trajectory too and is
    /// trained on as if no hint had been given. `None` where the environment offers no hint.
    /// It opens the ground truth: only training-data generation may call it, never a search or
    /// an evaluation.
    fn hinted_start(&self, _task: &Task) -> Option<Self::State> {
        None
    }
}

/// A task: an id, a prompt in the environment's text format, and the opaque ground truth.
#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    /// Unique within its suite or stream, e.g. `test-17` or `s3-i1042`.
    pub id: String,
    /// The prompt, in the environment's text format.
    pub prompt: String,
    /// The ground truth; opaque outside this crate.
    pub truth: Truth,
}

/// The ground truth of a task. Its contents are private to this crate: a search that holds a
/// state can never reach them, and code outside this crate can only hand them to [`Env::grade`]
/// or write them into a suite file.
#[derive(Debug, Clone, PartialEq)]
pub struct Truth(pub(crate) TruthInner);

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum TruthInner {
    /// Games: the rules are the truth.
    Rules,
    /// Arithmetic: the exact result, in decimal.
    Number(String),
    /// game24: the sorted numbers (any correct expression counts).
    Numbers24([u32; 4]),
    /// Code: the hidden test cases (input, expected output), and the program that made them.
    Hidden { tests: Vec<(i64, i64)>, program: String },
}

impl Truth {
    /// The truth as JSON fields for a suite file (`answer`, `tests`...). Suite files are data
    /// for evaluation; the policy and search never read them.
    pub fn to_json_fields(&self) -> serde_json::Map<String, serde_json::Value> {
        use serde_json::json;
        let mut m = serde_json::Map::new();
        match &self.0 {
            TruthInner::Rules | TruthInner::Numbers24(_) => {}
            TruthInner::Number(n) => {
                m.insert("answer".into(), json!(n));
            }
            TruthInner::Hidden { tests, program } => {
                m.insert("tests".into(), json!(tests));
                m.insert("program".into(), json!(program));
            }
        }
        m
    }
}

/// The ground-truth score of an answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Grade {
    /// Whether the answer is exactly right.
    pub correct: bool,
    /// The training reward, in [0, 1] for tasks (-1..1 for games, first player's view).
    pub reward: f32,
    /// Why it is wrong, where it is (unparsable answer, wrong value, failing hidden test).
    pub reason: Option<String>,
}

impl Grade {
    /// A correct answer: reward 1.
    pub fn right() -> Self {
        Grade { correct: true, reward: 1.0, reason: None }
    }
    /// A wrong answer: reward 0, with the reason.
    pub fn wrong(reason: impl Into<String>) -> Self {
        Grade { correct: false, reward: 0.0, reason: Some(reason.into()) }
    }
}

/// The text of a task state's answer so far: the tokens after `<sep>`, up to `<eos>`.
pub fn answer_tokens(tokens: &[Token]) -> &[Token] {
    let start = tokens.iter().position(|&t| t == vocab::SEP).map_or(tokens.len(), |i| i + 1);
    let rest = &tokens[start..];
    let end = rest.iter().position(|&t| t == vocab::EOS).unwrap_or(rest.len());
    &rest[..end]
}

/// Plays a move history (`a1 b2 c3`, separated by spaces or commas) from `state`, checking each
/// move; the error names the move and its position in the history.
pub fn replay<S: State>(mut state: S, history: &str) -> Result<S, EnvError> {
    for (i, mv) in history.split([' ', ',', '\n', '\t']).filter(|m| !m.is_empty()).enumerate() {
        let a = state.parse_action(mv).map_err(|e| match e {
            EnvError::BadMove(m) => EnvError::BadMove(format!("move {} ({mv:?}): {m}", i + 1)),
            other => other,
        })?;
        state.apply(a);
    }
    Ok(state)
}

/// A game's move history as text: the cell tokens after `<bos>`, separated by spaces.
pub fn history_text(tokens: &[Token]) -> String {
    let moves: Vec<&str> = tokens.iter().skip(1).map(|&t| vocab::symbol(t)).collect();
    moves.join(" ")
}

/// Games have no hidden truth: every generated task is the start position.
pub(crate) fn game_task(seed: u64, index: u64) -> Task {
    Task { id: format!("s{seed}-i{index}"), prompt: String::new(), truth: Truth(TruthInner::Rules) }
}

/// Games grade a finished move history by its result for the first player.
pub(crate) fn grade_game<E: Env>(env: &E, task: &Task, answer: &str) -> Grade {
    let history = format!("{} {}", task.prompt, answer);
    match env.start(&history) {
        Err(e) => Grade { correct: false, reward: 0.0, reason: Some(e.to_string()) },
        Ok(s) => match s.rules_value() {
            None => Grade { correct: false, reward: 0.0, reason: Some("the game is not over".into()) },
            Some(v) => Grade { correct: v > 0.0, reward: v, reason: None },
        },
    }
}
