//! The game of 24: combine four numbers with `+ - * /` and parentheses to make exactly 24.
//!
//! ## Rules
//! A puzzle is a multiset of four numbers in 1..=13. An answer uses each number exactly once,
//! the four operations and parentheses, and must equal 24 in exact rational arithmetic
//! (`8/(3-8/3)` is a solution of `3 3 8 8`). Of the 1,820 puzzles, exactly 1,362 are solvable
//! ([`all_puzzles`]); [`solve`] finds a solution or proves there is none.
//!
//! ## Text format
//! Prompt: the numbers ascending, separated by single spaces: `4 7 8 8` (any order is read).
//!
//! `format=expr` (default): the answer is an infix expression, `(7-8/8)*4`. Tokens:
//! `<bos> 4 ␣ 7 ␣ 8 ␣ 8 <sep> ( 7 - 8 / 8 ) * 4 <eos>` (one token per character; `10`..`13`
//! are two digit tokens). The legal next tokens keep the answer a prefix of an expression over
//! the numbers not yet used: operators only between operands, digits only of numbers left (a
//! `1` may continue into `12` if a 12 is left), `)` only closing a group that holds an operator,
//! `<eos>` only when all four numbers are used and every group is closed. Every legal prefix can
//! be completed, and an answer is at most 18 tokens.
//!
//! `format=steps` (Tree-of-Thoughts style, for step-level search): three steps, each combining
//! two of the numbers left into one, then `<eos>`:
//! ```text
//! 8/8=1 (left: 1 4 7)<step>7-1=6 (left: 4 6)<step>6*4=24 (left: 24)<step><eos>
//! ```
//! The policy chooses the first operand, the operator and the second operand (typed as written
//! in the `left` list; a fraction operand in parentheses, `(8/3)`, so that its `/` is not read
//! as the operator) and writes `=`; the result and the `(left: ...)` list, ascending, are then
//! forced, one legal token at a time. Subtraction may not go negative and division not by zero
//! (every solvable puzzle has a solution whose intermediate numbers are never negative).
//! Fractions are written `8/3`: `3 3 8 8` is solved by
//! `8/3=8/3 (left: 8/3 3 8)<step>3-(8/3)=1/3 (left: 1/3 8)<step>8/(1/3)=24 (left: 24)<step><eos>`.
//! [`Env::answer`] rebuilds the equivalent infix expression with the fewest parentheses
//! (`(7-8/8)*4` for the first example, `8/(3-8/3)` for the second), so graders see a normal
//! expression. [`State::at_step_boundary`](crate::State::at_step_boundary) holds at the start
//! of the answer, after each `<step>`, and at the end.
//!
//! ## Rules value and verifier
//! Here the rules are the whole check: at the end,
//! [`State::rules_value`](crate::State::rules_value) is 1 if the answer equals 24 (the grammar
//! already made it use each number once), else 0; searches may consult
//! it. [`Env::grade`] parses any infix text exactly (a recursive-descent parser over checked
//! `i64` fractions) and scores 1 or 0 with a reason: a parse error with its byte, `uses 5 which
//! is not in the puzzle`, `does not use 7`, `division by zero`, `equals 23, not 24`.
//!
//! ## Parameters
//! `format=expr|steps` (default `expr`). One curriculum level.
//!
//! ## Held-out split (contract)
//! List the 1,362 solvable puzzles in ascending lexicographic order (`1 1 1 8` first,
//! `12 13 13 13` last); the puzzles whose index is a multiple of 5 (273) are the test split
//! ([`test_split`], `suites/game24.test.jsonl`, [`Env::held_out`]); [`Env::generate`] draws
//! uniformly from the other 1,089 ([`train_split`]).

mod expr;
mod rational;
mod solver;
mod state;

use std::sync::OnceLock;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::spec::{EnvInfo, ParamInfo, Params};
use crate::vocab::{self, BOS, SEP};
use crate::{Env, EnvError, Grade, Kind, Task, Truth, TruthInner};
pub use expr::{BinOp, Expr, ParseError};
pub use rational::{ArithError, Rational};
pub use solver::solve;
pub use state::Game24State;

pub const INFO: EnvInfo = EnvInfo {
    name: "game24",
    summary: "make 24 from four numbers 1..13 with + - * / (1,362 puzzles); exact verifier and solver",
    params: &[ParamInfo {
        name: "format",
        default: "expr",
        help: "expr: an infix expression | steps: three `a op b=c (left: ...)` steps",
    }],
};

/// The largest number in a puzzle.
pub const MAX_NUMBER: u32 = 13;
/// Tokens in the longest `expr` answer: 4 numbers of up to 2 digits, 3 operators, 3 pairs of
/// parentheses, `<eos>`.
const EXPR_MAX_ACTIONS: usize = 8 + 3 + 6 + 1;
/// The most tokens one step takes, `<step>` included, over every step of every puzzle (measured
/// by the ignored test `steps_of_every_puzzle_fit_max_actions`).
const STEP_MAX_TOKENS: usize = 36;

const SUITE: &str = include_str!("../../suites/game24.test.jsonl");

/// How the answer is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// One infix expression.
    Expr,
    /// Three steps, each combining two numbers.
    Steps,
}

/// The game24 environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Game24 {
    format: Format,
}

impl Game24 {
    pub fn new(format: Format) -> Self {
        Game24 { format }
    }

    pub(crate) fn from_params(p: &mut Params) -> Result<Self, EnvError> {
        let format = match p.choice("format", &["expr", "steps"])?.as_str() {
            "steps" => Format::Steps,
            _ => Format::Expr,
        };
        Ok(Game24 { format })
    }

    pub fn format(&self) -> Format {
        self.format
    }
}

/// The numbers of a prompt, `4 7 8 8`, sorted.
fn parse_prompt(prompt: &str) -> Result<[u32; 4], EnvError> {
    let bad = |why: String| {
        EnvError::BadPrompt(format!(
            "{prompt:?}: {why}; expected four numbers 1..13 separated by single spaces, \
             like \"4 7 8 8\""
        ))
    };
    let parts: Vec<&str> = prompt.split(' ').collect();
    if parts.len() != 4 {
        return Err(bad(format!("{} space-separated fields", parts.len())));
    }
    let mut numbers = [0u32; 4];
    for (n, part) in numbers.iter_mut().zip(&parts) {
        let ok = !part.is_empty() && part.bytes().all(|c| c.is_ascii_digit()) && !part.starts_with('0');
        *n = part
            .parse()
            .ok()
            .filter(|&v| ok && (1..=MAX_NUMBER).contains(&v))
            .ok_or_else(|| bad(format!("{part:?} is not a number in 1..13")))?;
    }
    numbers.sort_unstable();
    Ok(numbers)
}

fn puzzle_text(p: &[u32; 4]) -> String {
    format!("{} {} {} {}", p[0], p[1], p[2], p[3])
}

impl Env for Game24 {
    type State = Game24State;

    fn spec(&self) -> String {
        format!("game24:format={}", if self.format == Format::Steps { "steps" } else { "expr" })
    }

    fn kind(&self) -> Kind {
        Kind::Task
    }

    fn max_actions(&self) -> usize {
        match self.format {
            Format::Expr => EXPR_MAX_ACTIONS,
            Format::Steps => 3 * STEP_MAX_TOKENS + 1,
        }
    }

    fn start(&self, prompt: &str) -> Result<Game24State, EnvError> {
        let numbers = parse_prompt(prompt)?;
        let mut tokens = vec![BOS];
        vocab::encode_into(prompt, &mut tokens)?;
        tokens.push(SEP);
        Ok(Game24State::new(tokens, numbers, self.format == Format::Steps))
    }

    fn generate(&self, seed: u64, index: u64, _level: u32) -> Task {
        let mut key = [0u8; 32];
        key[..8].copy_from_slice(&seed.to_le_bytes());
        key[8..16].copy_from_slice(&index.to_le_bytes());
        key[16..24].copy_from_slice(&24u64.to_le_bytes());
        let mut rng = ChaCha8Rng::from_seed(key);
        let train = train_split();
        let p = train[rng.random_range(0..train.len())];
        Task {
            id: format!("s{seed}-i{index}"),
            prompt: puzzle_text(&p),
            truth: Truth(TruthInner::Numbers24(p)),
        }
    }

    fn held_out(&self) -> Vec<Task> {
        static TASKS: OnceLock<Vec<Task>> = OnceLock::new();
        TASKS
            .get_or_init(|| {
                let (tasks, errors) = crate::suite::parse_tasks(self, SUITE);
                debug_assert!(errors.is_empty(), "suites/game24.test.jsonl: {errors:?}");
                tasks
            })
            .clone()
    }

    fn task(&self, id: &str, prompt: &str, _extra: &serde_json::Value) -> Result<Task, EnvError> {
        let numbers = parse_prompt(prompt)?;
        Ok(Task { id: id.into(), prompt: prompt.into(), truth: Truth(TruthInner::Numbers24(numbers)) })
    }

    fn grade(&self, task: &Task, answer: &str) -> Grade {
        match &task.truth.0 {
            TruthInner::Numbers24(numbers) => {
                check(numbers, answer).map_or_else(Grade::wrong, |()| Grade::right())
            }
            _ => Grade::wrong("not a game24 task"),
        }
    }

    fn answer(&self, state: &Game24State) -> String {
        state.expression()
    }
}

/// Checks an infix answer against a puzzle: `Err` says why it is not a solution.
pub fn check(numbers: &[u32; 4], answer: &str) -> Result<(), String> {
    let e = Expr::parse(answer.trim()).map_err(|e| format!("not an expression: {e}"))?;
    let mut want = [0usize; MAX_NUMBER as usize + 1];
    for &n in numbers {
        want[n as usize] += 1;
    }
    let mut used = want.map(|_| 0usize);
    for n in e.numbers() {
        match usize::try_from(n).ok().filter(|&i| i < want.len() && want[i] > 0) {
            None => return Err(format!("uses {n} which is not in the puzzle")),
            Some(i) => {
                used[i] += 1;
                if used[i] > want[i] {
                    return Err(format!("uses {n} more often than the puzzle has it ({})", want[i]));
                }
            }
        }
    }
    if let Some(n) = (0..want.len()).find(|&n| used[n] < want[n]) {
        return Err(format!("does not use {n}"));
    }
    match e.eval() {
        Err(err) => Err(err.to_string()),
        Ok(v) if v == Rational::int(24) => Ok(()),
        Ok(v) => Err(format!("equals {v}, not 24")),
    }
}

/// The 1,362 solvable puzzles, numbers ascending, in ascending lexicographic order.
pub fn all_puzzles() -> &'static [[u32; 4]] {
    static ALL: OnceLock<Vec<[u32; 4]>> = OnceLock::new();
    ALL.get_or_init(|| multisets().into_iter().filter(|p| solver::solvable(p, false)).collect())
}

/// The test split: the solvable puzzles whose index in [`all_puzzles`] is a multiple of 5 (273).
pub fn test_split() -> &'static [[u32; 4]] {
    static TEST: OnceLock<Vec<[u32; 4]>> = OnceLock::new();
    TEST.get_or_init(|| all_puzzles().iter().step_by(5).copied().collect())
}

/// The training split: every other solvable puzzle (1,089).
pub fn train_split() -> &'static [[u32; 4]] {
    static TRAIN: OnceLock<Vec<[u32; 4]>> = OnceLock::new();
    TRAIN.get_or_init(|| {
        all_puzzles().iter().enumerate().filter(|(i, _)| i % 5 != 0).map(|(_, p)| *p).collect()
    })
}

/// The test split as tasks, ids `test-<index in all_puzzles>`: what `suites/game24.test.jsonl`
/// holds.
pub fn test_suite() -> Vec<Task> {
    all_puzzles()
        .iter()
        .enumerate()
        .step_by(5)
        .map(|(i, p)| Task {
            id: format!("test-{i:04}"),
            prompt: puzzle_text(p),
            truth: Truth(TruthInner::Numbers24(*p)),
        })
        .collect()
}

/// Every multiset of four numbers in 1..=13, ascending, in lexicographic order (1,820).
fn multisets() -> Vec<[u32; 4]> {
    let mut out = Vec::with_capacity(1820);
    for a in 1..=MAX_NUMBER {
        for b in a..=MAX_NUMBER {
            for c in b..=MAX_NUMBER {
                for d in c..=MAX_NUMBER {
                    out.push([a, b, c, d]);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests;
