//! Programming by example: write one Python expression in `x` that maps every shown input to
//! its output, and the hidden ones too.
//!
//! ## Rules
//! The prompt shows examples `f(x) = y` of an integer function; the answer is one expression in
//! `x` in a strict subset of Python 3 ([`lang`], grammar in [`parse`]): integer literals, `x`,
//! `+ - * // %`, unary `-`, parentheses, comparisons `< <= > >= == !=` (not chained), `and or
//! not`, `a if c else b`, `abs(e)`, `min(a, b, ...)`, `max(a, b, ...)`. It means what CPython
//! says it means; wherever Python would read a text differently, or not at all, the parser
//! rejects it. Outputs compare with Python's `==`, so `True` equals 1.
//!
//! ## Text format
//! Prompt: one line `f(<x>) = <y>` per shown example, sorted by `x`, booleans printed as 0/1.
//! Answer: the expression. The policy writes it as vocabulary tokens with no spaces (keywords,
//! `//` and two-character comparisons are single tokens); [`Env::answer`] renders it as Python
//! text with spaces around keywords.
//!
//! ```text
//! f(-4) = 4          tokens: <bos> f ( - 4 ) space = space 4 \n ... <sep>
//! f(0) = 0
//! f(3) = 3           answer tokens: x if x > 0 else - x <eos>
//! f(x) = x if x>0 else -x
//! ```
//!
//! ## Parameters
//! `depth=1-4` (program depth, one curriculum level per depth), `examples=5` (shown),
//! `tests=10` (hidden), `xmax=20` (inputs from -xmax..=xmax), `len=40` (answer tokens at most).
//! Name: `code:depth=1-4,examples=5,tests=10,xmax=20,len=40`.
//!
//! ## Legal actions
//! A small pushdown automaton ([`Prefix`]) allows exactly the tokens that keep the answer a
//! prefix of some expression of at most `len` tokens: operands where an operand is due, no
//! leading zeros, `not` only where Python allows it, no chained comparison, `else` only after
//! `if`, commas only in `min`/`max`, `)` only when something is open, `<eos>` only when the
//! expression is complete. No walk dead-ends; each step costs O(1).
//!
//! ## Generator
//! [`gen`]: a random program of exactly the drawn depth, redrawn while it is a poor task
//! (dead-weight nodes, errors, huge or constant outputs); then distinct shown and hidden inputs.
//! Deterministic from `(seed, index)`; never a prompt of the held-out suite
//! (`environments/suites/code.test.jsonl`, 200 tasks, 40 per depth 1..=5).
//!
//! ## Verifier
//! The **rules** (what a search sees): a finished answer scores 1 if it parses and reproduces
//! every shown example, else 0. The **ground truth** ([`Env::grade`]): the hidden tests, all of
//! which must pass; the reason names the first failing input or the parse error and its place.
//! Evaluation is sandboxed: bounded integers (±10^18), a step budget ([`gen::FUEL`]), bounded
//! parser depth; errors fail the input, never the process.

#[cfg(test)]
mod fuzz;
pub mod gen;
pub mod lang;
mod lex;
pub mod parse;
pub mod prefix;
pub mod print;
#[cfg(test)]
mod pydiff;
#[cfg(test)]
mod tests;

use std::collections::HashSet;
use std::fmt;
use std::sync::{Arc, OnceLock};

use rand::Rng;

pub use gen::{random_program, GenConfig};
pub use lang::{BinOp, CmpOp, EvalError, Expr, Value, INT_MAX};
pub use parse::{parse, parse_tokens, to_tokens, ParseError};
pub use prefix::Prefix;
pub use print::render;

use crate::spec::{EnvInfo, ParamInfo, Params};
use crate::vocab::{self, Token, BOS, SEP};
use crate::{Env, EnvError, Grade, Kind, State, Task, Truth, TruthInner};

pub const INFO: EnvInfo = EnvInfo {
    name: "code",
    summary: "programming by example: one Python expression in x that fits the shown and hidden examples",
    params: &[
        ParamInfo {
            name: "depth",
            default: "1-4",
            help: "program depth range, 1..=5 (one curriculum level per depth)",
        },
        ParamInfo { name: "examples", default: "5", help: "examples shown in the prompt, 2..=20" },
        ParamInfo { name: "tests", default: "10", help: "hidden test cases, 1..=50" },
        ParamInfo { name: "xmax", default: "20", help: "inputs drawn from -xmax..=xmax, 1..=1000" },
        ParamInfo { name: "len", default: "40", help: "answer length bound in tokens, 24..=64" },
    ],
};

/// The held-out suite, built into the crate. The test `suite_file_is_what_the_generator_draws`
/// checks it against [`Code::draw_suite`] and rewrites it when `PONDER_WRITE_SUITES=1`.
const SUITE: &str = include_str!("../../suites/code.test.jsonl");

/// The seed the suite is drawn from (items `depth * 1000 + i`).
const SUITE_SEED: u64 = 0xC0DE_7E57;

/// Suite tasks per depth, for depths 1..=5.
const SUITE_PER_DEPTH: u64 = 40;

/// The code environment with its parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Code {
    cfg: GenConfig,
}

/// A prompt and the answer so far.
#[derive(Clone)]
pub struct CodeState {
    /// `<bos>`, the prompt, `<sep>`, the answer tokens (and `<eos>` once finished).
    tokens: Vec<Token>,
    /// Where the answer starts in `tokens`.
    answer_start: usize,
    /// The shown examples: what the rules check.
    examples: Arc<[(i64, i64)]>,
    prefix: Prefix,
    /// Once finished: whether the answer reproduces every shown example.
    verdict: Option<bool>,
}

impl Code {
    pub(crate) fn from_params(p: &mut Params) -> Result<Self, EnvError> {
        let (lo, hi) = p.range("depth", 1, 5)?;
        let examples = p.int("examples", 2, 20)? as usize;
        let tests = p.int("tests", 1, 50)? as usize;
        let xmax = p.int("xmax", 1, 1000)? as i64;
        let max_len = p.int("len", 24, 64)? as usize;
        if (examples + tests) as i64 > 2 * xmax + 1 {
            return Err(EnvError::BadSpec(format!(
                "code: examples + tests = {} distinct inputs do not fit in -{xmax}..={xmax}; raise xmax",
                examples + tests
            )));
        }
        let depth = (lo as usize, hi as usize);
        Ok(Code { cfg: GenConfig { depth, examples, tests, xmax, max_len } })
    }

    /// The generator configuration these parameters give.
    pub fn config(&self) -> GenConfig {
        self.cfg
    }

    fn suite_config() -> GenConfig {
        GenConfig { depth: (1, 5), examples: 5, tests: 10, xmax: 20, max_len: 40 }
    }

    /// The held-out suite as `environments/suites/code.test.jsonl` holds it, drawn from a fixed
    /// seed: 40 tasks for each depth 1..=5, with 5 shown examples, 10 hidden tests, inputs in
    /// -20..=20 and programs of at most 40 tokens. For the suite writer and its check.
    pub fn draw_suite() -> Vec<Task> {
        let cfg = Self::suite_config();
        let mut seen = HashSet::new();
        let mut tasks = Vec::new();
        for depth in 1..=5 {
            let mut i = 0;
            let mut kept = 0;
            while kept < SUITE_PER_DEPTH {
                let d = gen::draw(&mut gen::item_rng(SUITE_SEED, depth * 1000 + i), &cfg, depth as usize);
                i += 1;
                let t = make_task(format!("test-{}", tasks.len()), d);
                if seen.insert(t.prompt.clone()) {
                    tasks.push(t);
                    kept += 1;
                }
            }
        }
        tasks
    }
}

/// The prompts of the held-out suite, which training never sees.
fn held_out_prompts() -> &'static HashSet<String> {
    static SET: OnceLock<HashSet<String>> = OnceLock::new();
    SET.get_or_init(|| {
        SUITE
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter_map(|v| v.get("prompt")?.as_str().map(String::from))
            .collect()
    })
}

fn make_task(id: String, d: gen::Drawn) -> Task {
    Task {
        id,
        prompt: format_examples(&d.shown),
        truth: Truth(TruthInner::Hidden { tests: d.hidden, program: d.program.to_string() }),
    }
}

/// The prompt text of examples: `f(x) = y` lines.
pub fn format_examples(examples: &[(i64, i64)]) -> String {
    let lines: Vec<String> = examples.iter().map(|(x, y)| format!("f({x}) = {y}")).collect();
    lines.join("\n")
}

/// Reads a prompt: `f(<x>) = <y>` lines, integers without leading zeros and within ±10^18,
/// each input at most once. Errors name the line.
pub fn parse_examples(prompt: &str) -> Result<Vec<(i64, i64)>, EnvError> {
    let mut out: Vec<(i64, i64)> = Vec::new();
    let text = prompt.trim();
    if text.is_empty() {
        return Err(EnvError::BadPrompt("no examples: expected lines `f(<x>) = <y>`".into()));
    }
    for (i, line) in text.split('\n').enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        let bad = || EnvError::BadPrompt(format!("line {} ({line:?}) is not `f(<x>) = <y>`", i + 1));
        let (x, y) = line
            .strip_prefix("f(")
            .and_then(|r| r.split_once(") = "))
            .and_then(|(x, y)| Some((int_literal(x)?, int_literal(y)?)))
            .ok_or_else(bad)?;
        if out.iter().any(|e| e.0 == x) {
            return Err(EnvError::BadPrompt(format!("line {}: f({x}) is given twice", i + 1)));
        }
        out.push((x, y));
    }
    Ok(out)
}

/// An optionally negative decimal integer, canonical (no `+`, no leading zeros, no `-0`).
fn int_literal(s: &str) -> Option<i64> {
    let digits = s.strip_prefix('-').unwrap_or(s);
    let canonical = !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'))
        && !(s.starts_with('-') && digits == "0");
    let v: i64 = if canonical {
        s.parse().ok()?
    } else {
        return None;
    };
    (v.abs() <= INT_MAX).then_some(v)
}

/// Whether `program` maps every input of `cases` to its output (Python `==`).
pub fn passes(program: &Expr, cases: &[(i64, i64)]) -> bool {
    first_failure(program, cases).is_none()
}

/// The first case `program` fails, and how.
fn first_failure(program: &Expr, cases: &[(i64, i64)]) -> Option<String> {
    cases.iter().find_map(|&(x, want)| match program.eval(x, gen::FUEL) {
        Ok(v) if v.int() == want => None,
        Ok(v) => Some(format!("f({x}): expected {want}, got {v}")),
        Err(e) => Some(format!("f({x}): {e}")),
    })
}

impl CodeState {
    /// The shown examples.
    pub fn examples(&self) -> &[(i64, i64)] {
        &self.examples
    }

    /// The answer tokens so far (without `<eos>`).
    pub fn answer_tokens(&self) -> &[Token] {
        crate::answer_tokens(&self.tokens)
    }
}

impl State for CodeState {
    fn tokens(&self) -> &[Token] {
        &self.tokens
    }

    fn legal_actions(&self, out: &mut Vec<Token>) {
        self.prefix.legal(out);
    }

    fn apply(&mut self, action: Token) {
        debug_assert!(self.prefix.is_legal(action), "illegal token {:?}", vocab::symbol(action));
        self.prefix.apply(action);
        self.tokens.push(action);
        if self.prefix.is_finished() {
            let ok = !self.prefix.is_broken()
                && parse_tokens(&self.tokens[self.answer_start..self.tokens.len() - 1])
                    .is_ok_and(|e| passes(&e, &self.examples));
            self.verdict = Some(ok);
        }
    }

    fn to_play(&self) -> usize {
        0
    }

    fn is_terminal(&self) -> bool {
        self.prefix.is_finished()
    }

    fn rules_value(&self) -> Option<f32> {
        self.verdict.map(|ok| if ok { 1.0 } else { 0.0 })
    }

    fn render(&self) -> String {
        let prompt = vocab::decode(&self.tokens[1..self.answer_start - 1]);
        format!("{prompt}\nf(x) = {}", render(self.answer_tokens()))
    }
}

impl fmt::Debug for CodeState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Code[{:?} -> {:?}]", format_examples(&self.examples), render(self.answer_tokens()))
    }
}

impl Env for Code {
    type State = CodeState;

    fn spec(&self) -> String {
        let c = &self.cfg;
        format!(
            "code:depth={}-{},examples={},tests={},xmax={},len={}",
            c.depth.0, c.depth.1, c.examples, c.tests, c.xmax, c.max_len
        )
    }

    fn kind(&self) -> Kind {
        Kind::Task
    }

    fn max_actions(&self) -> usize {
        self.cfg.max_len + 1
    }

    fn start(&self, prompt: &str) -> Result<CodeState, EnvError> {
        let examples = parse_examples(prompt)?;
        let mut tokens = vec![BOS];
        vocab::encode_into(&format_examples(&examples), &mut tokens)?;
        tokens.push(SEP);
        Ok(CodeState {
            answer_start: tokens.len(),
            tokens,
            examples: examples.into(),
            prefix: Prefix::new(self.cfg.max_len),
            verdict: None,
        })
    }

    fn curriculum_levels(&self) -> u32 {
        (self.cfg.depth.1 - self.cfg.depth.0 + 1) as u32
    }

    /// Level `k` draws the depth uniformly from `lo..=lo+k`.
    fn generate(&self, seed: u64, index: u64, level: u32) -> Task {
        let (lo, hi) = self.cfg.depth;
        let top = (lo + level as usize).min(hi);
        let mut rng = gen::item_rng(seed, index);
        let depth = rng.random_range(lo..=top);
        loop {
            let task = make_task(format!("s{seed}-i{index}"), gen::draw(&mut rng, &self.cfg, depth));
            if !held_out_prompts().contains(&task.prompt) {
                return task;
            }
        }
    }

    /// The suite's tasks whose program depth is in range, whose inputs lie within `xmax` and
    /// whose program fits in `len` tokens. (The prompt's number of examples is not filtered.)
    fn held_out(&self) -> Vec<Task> {
        let (tasks, errors) = crate::suite::parse_tasks(self, SUITE);
        debug_assert!(errors.is_empty(), "code.test.jsonl: {errors:?}");
        tasks
            .into_iter()
            .filter(|t| {
                let TruthInner::Hidden { tests, program } = &t.truth.0 else {
                    return false;
                };
                let Ok(p) = parse(program) else { return false };
                let depth = p.depth();
                let inputs_fit = parse_examples(&t.prompt)
                    .is_ok_and(|ex| ex.iter().chain(tests).all(|c| c.0.abs() <= self.cfg.xmax));
                (self.cfg.depth.0..=self.cfg.depth.1).contains(&depth)
                    && p.tokens().len() <= self.cfg.max_len
                    && inputs_fit
            })
            .collect()
    }

    fn task(&self, id: &str, prompt: &str, extra: &serde_json::Value) -> Result<Task, EnvError> {
        parse_examples(prompt)?;
        let bad = |what: String| EnvError::BadTask(format!("task {id:?}: {what}"));
        let tests = extra
            .get("tests")
            .ok_or_else(|| bad("missing field \"tests\" (a list of [x, y] integer pairs)".into()))?
            .as_array()
            .ok_or_else(|| bad("field \"tests\" must be a list of [x, y] integer pairs".into()))?
            .iter()
            .enumerate()
            .map(|(i, pair)| {
                let xy = pair.as_array().filter(|a| a.len() == 2);
                xy.and_then(|a| Some((a[0].as_i64()?, a[1].as_i64()?)))
                    .filter(|(x, y)| x.abs() <= INT_MAX && y.abs() <= INT_MAX)
                    .ok_or_else(|| {
                        bad(format!("field \"tests\": item {i} ({pair}) is not an [x, y] integer pair"))
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        if tests.is_empty() {
            return Err(bad("field \"tests\" is empty".into()));
        }
        let program = match extra.get("program") {
            None => String::new(),
            Some(serde_json::Value::String(s)) => {
                parse(s).map_err(|e| bad(format!("field \"program\" does not parse: {e}")))?;
                s.clone()
            }
            Some(_) => return Err(bad("field \"program\" must be a string".into())),
        };
        let truth = Truth(TruthInner::Hidden { tests, program });
        Ok(Task { id: id.into(), prompt: prompt.into(), truth })
    }

    fn grade(&self, task: &Task, answer: &str) -> Grade {
        let TruthInner::Hidden { tests, .. } = &task.truth.0 else {
            return Grade::wrong("not a code task: no hidden tests");
        };
        match parse(answer) {
            Err(e) => Grade::wrong(format!("does not parse: {e}")),
            Ok(program) => match first_failure(&program, tests) {
                None => Grade::right(),
                Some(why) => Grade::wrong(format!("hidden test {why}")),
            },
        }
    }

    fn answer(&self, state: &CodeState) -> String {
        render(state.answer_tokens())
    }
}
