//! Addition and multiplication of decimal numbers, with an optional carry scratchpad.
//!
//! ## Rules
//! The prompt is `a+b` (addition) or `a*b` (multiplication) of two non-negative decimal
//! operands without leading zeros; the answer is the exact result in decimal. Operands have up to
//! [`MAX_DIGITS`] digits; the ground truth is computed on digit strings, never in machine
//! integers.
//!
//! ## Text format
//! `347+85` → `432`. Tokens: `<bos> 3 4 7 + 8 5 <sep> 4 3 2 <eos>`. The answer is a number
//! without leading zeros and with at most as many digits as the result can have
//! (`max(len a, len b) + 1` for addition, `len a + len b` for multiplication); `<eos>` ends it.
//!
//! ## Scratchpad (`scratchpad=lsd` or `msd`)
//! Before the answer the policy works column by column, one step per column, each step ended by
//! `<step>`; then `=` marks the final answer. A step lists what meets in the column, the carry
//! into it, and the column's sum: its last digit is the result's digit there, the rest is the
//! carry into the next column. Addition pads the shorter operand with zeros; multiplication
//! lists every digit product `a_i*b_j` with `i + j` = the column (`i`, `j` counted from the
//! least significant digit, by increasing `i`).
//!
//! `347+85`, `lsd` (least significant column first):
//! `7+5+0=12<step>4+8+1=13<step>3+0+1=4<step>=432<eos>`;
//! `msd` writes the same steps most significant column first (so its carries must be foreseen):
//! `3+0+1=4<step>4+8+1=13<step>7+5+0=12<step>=432<eos>`.
//! `12*34`, `lsd`: `2*4+0=8<step>2*3+1*4+0=10<step>1*3+1=4<step>=408<eos>`.
//! `aligned` is `lsd` with every carry and column sum written at the width of its bound,
//! leading zeros included, so an addition's steps all have the same length:
//! `7+5+0=12<step>4+8+1=13<step>3+0+1=04<step>=432<eos>`. Under `lsd` the answer's digits
//! are at distances from the column sums they copy that depend on every column's width; under
//! `aligned` they do not.
//!
//! The operand digits, operators, `=`, `<step>` and the final `=` are forced (copied from the
//! prompt: single legal actions). The carries, the column sums and the answer are free numbers,
//! bounded only by what digits in those positions could produce (an addition's carry is 0 or 1;
//! the first carry is 0). The rules never compute a sum: a wrong scratchpad is legal, and
//! [`State::rules_value`](crate::State::rules_value) is `None` with or without one.
//! [`Env::answer`] is the text after the final `=` alone.
//!
//! ## Parameters
//! - `digits=a-b` (addition `1-6`, multiplication `1-3`; `1 <= a <= b <= 30`): each operand's
//!   digit count is drawn uniformly from the range. Prompts with an operand longer than `b` are
//!   refused.
//! - `levels=upto|newest` (default `upto`): the curriculum, one level per digit count. `upto`:
//!   level `L` draws each operand's digit count from `a..=a+L`, so at level 5 of `1-6` only 31%
//!   of sums have a 6-digit operand and 3% two. `newest`: level `L`'s longer operand has exactly
//!   `a+L` digits (the other `a..=a+L`, either side), so every sum of a level exercises its new
//!   length and a sixth of level 5's sums have two 6-digit operands; the loop's
//!   `curriculum.replay_easier` keeps the shorter ones in the mix.
//! - `scratchpad=none|lsd|msd|aligned` (default `none`).
//!
//! ## Verifier and held-out suites
//! [`Env::grade`] parses the answer as a decimal number (leading zeros tolerated) and compares it
//! with the exact result; an unparsable answer scores 0 with the reason. The held-out suites
//! `suites/addition.test.jsonl` and `suites/multiplication.test.jsonl` ([`test_suite`]) hold 100
//! problems per digit count 1..=20 with both operands of that length (20 of the 100 one-digit
//! pairs); [`Env::held_out`] returns those whose operands fit `digits`, and [`Env::generate`]
//! never returns one of their prompts.

mod bignum;
mod hint;
mod state;

use std::collections::HashSet;
use std::sync::OnceLock;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::spec::{EnvInfo, ParamInfo, Params};
use crate::vocab::{self, BOS, SEP, STEP};
use crate::{Env, EnvError, Grade, Kind, Task, Truth, TruthInner};
pub use state::ArithState;

pub const ADDITION_INFO: EnvInfo = EnvInfo {
    name: "addition",
    summary: "a+b on decimal numbers of up to 30 digits; optional carry scratchpad; exact verifier",
    params: &[
        ParamInfo { name: "digits", default: "1-6", help: "operand digit counts a-b, 1 <= a <= b <= 30" },
        ParamInfo {
            name: "scratchpad",
            default: "none",
            help: "none | lsd | msd | aligned: column steps with carries (aligned: lsd at fixed widths)",
        },
        ParamInfo {
            name: "levels",
            default: "upto",
            help: "upto | newest: curriculum level L draws digit counts up to a+L, or a longer operand of exactly a+L",
        },
    ],
};

pub const MULTIPLICATION_INFO: EnvInfo = EnvInfo {
    name: "multiplication",
    summary: "a*b on decimal numbers of up to 30 digits; optional column scratchpad; exact verifier",
    params: &[
        ParamInfo { name: "digits", default: "1-3", help: "operand digit counts a-b, 1 <= a <= b <= 30" },
        ParamInfo {
            name: "scratchpad",
            default: "none",
            help: "none | lsd | msd | aligned: column steps with carries (aligned: lsd at fixed widths)",
        },
        ParamInfo {
            name: "levels",
            default: "upto",
            help: "upto | newest: curriculum level L draws digit counts up to a+L, or a longer operand of exactly a+L",
        },
    ],
};

/// The longest operand any spec accepts.
pub const MAX_DIGITS: u32 = 30;
/// The longest operands in the held-out suites.
pub const SUITE_MAX_DIGITS: u32 = 20;
/// Problems per digit count in the held-out suites (one-digit suites hold [`SUITE_ONE_DIGIT`]).
const SUITE_PER_DIGITS: usize = 100;
/// 20% of the 100 one-digit pairs: the rest stays available for training.
const SUITE_ONE_DIGIT: usize = 20;
/// The fixed seed the suites were drawn from.
const SUITE_SEED: u64 = 0x5eed_7e57;

const ADDITION_SUITE: &str = include_str!("../../suites/addition.test.jsonl");
const MULTIPLICATION_SUITE: &str = include_str!("../../suites/multiplication.test.jsonl");

/// The operation of an arithmetic environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    Add,
    Mul,
}

impl Op {
    /// The environment name: `addition` or `multiplication`.
    pub fn name(self) -> &'static str {
        self.info().name
    }

    /// The operator in prompts: `+` or `*`.
    pub fn symbol(self) -> char {
        match self {
            Op::Add => '+',
            Op::Mul => '*',
        }
    }

    fn info(self) -> &'static EnvInfo {
        match self {
            Op::Add => &ADDITION_INFO,
            Op::Mul => &MULTIPLICATION_INFO,
        }
    }

    /// The exact result of `a op b` on decimal strings of digits (the ground truth), or `None`
    /// if either is not a string of ASCII digits.
    pub fn apply(self, a: &str, b: &str) -> Option<String> {
        let (a, b) = (bignum::digits(a)?, bignum::digits(b)?);
        Some(bignum::text(&self.exact(&a, &b)))
    }

    fn exact(self, a: &[u8], b: &[u8]) -> Vec<u8> {
        match self {
            Op::Add => bignum::add(a, b),
            Op::Mul => bignum::mul(a, b),
        }
    }

    /// Distinguishes the generators of the two operations.
    fn stream(self) -> u64 {
        match self {
            Op::Add => 0xadd,
            Op::Mul => 0x3a1,
        }
    }
}

/// Whether and how the answer is preceded by column-by-column work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scratchpad {
    /// The answer alone.
    None,
    /// Columns from the least significant: carries flow forward, as by hand.
    Lsd,
    /// Columns from the most significant: each carry must be foreseen.
    Msd,
    /// As `Lsd`, with every carry and column sum written at the width of its bound, leading
    /// zeros included (`3+0+1=04`): every step of an addition has the same length, so the
    /// answer's digits sit at fixed distances from the column sums they copy.
    Aligned,
}

impl Scratchpad {
    /// The parameter value: `none`, `lsd` or `msd`.
    pub fn name(self) -> &'static str {
        match self {
            Scratchpad::None => "none",
            Scratchpad::Lsd => "lsd",
            Scratchpad::Msd => "msd",
            Scratchpad::Aligned => "aligned",
        }
    }
}

/// What a curriculum level draws (the `levels` parameter).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Levels {
    /// Level `L`: each operand's digit count uniform in `a..=a+L`.
    UpTo,
    /// Level `L`: the longer operand has exactly `a+L` digits, the other `a..=a+L`.
    Newest,
}

/// The `addition` and `multiplication` environments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arith {
    op: Op,
    /// Operand digit counts, inclusive.
    digits: (u32, u32),
    scratchpad: Scratchpad,
    levels: Levels,
}

impl Arith {
    /// `op` with operand digit counts `lo..=hi` and a scratchpad format.
    pub fn new(op: Op, lo: u32, hi: u32, scratchpad: Scratchpad) -> Result<Self, EnvError> {
        if lo < 1 || lo > hi || hi > MAX_DIGITS {
            return Err(EnvError::BadSpec(format!(
                "{}: digits={lo}-{hi} should be a range a-b with 1 <= a <= b <= {MAX_DIGITS}",
                op.name()
            )));
        }
        Ok(Arith { op, digits: (lo, hi), scratchpad, levels: Levels::UpTo })
    }

    /// The same environment with curriculum levels drawn as `levels` says.
    pub fn with_levels(mut self, levels: Levels) -> Self {
        self.levels = levels;
        self
    }

    pub(crate) fn from_params(op: Op, p: &mut Params) -> Result<Self, EnvError> {
        let (lo, hi) = p.range("digits", 1, u64::from(MAX_DIGITS))?;
        let scratchpad = match p.choice("scratchpad", &["none", "lsd", "msd", "aligned"])?.as_str() {
            "lsd" => Scratchpad::Lsd,
            "msd" => Scratchpad::Msd,
            "aligned" => Scratchpad::Aligned,
            _ => Scratchpad::None,
        };
        let levels = match p.choice("levels", &["upto", "newest"])?.as_str() {
            "newest" => Levels::Newest,
            _ => Levels::UpTo,
        };
        Ok(Arith::new(op, lo as u32, hi as u32, scratchpad)?.with_levels(levels))
    }

    pub fn op(&self) -> Op {
        self.op
    }

    /// Operand digit counts, inclusive.
    pub fn digits(&self) -> (u32, u32) {
        self.digits
    }

    pub fn scratchpad(&self) -> Scratchpad {
        self.scratchpad
    }

    /// The operands of a prompt, as digits, checked against this environment.
    fn operands(&self, prompt: &str) -> Result<(Vec<u8>, Vec<u8>), EnvError> {
        let sym = self.op.symbol();
        let bad = || {
            EnvError::BadPrompt(format!(
                "{prompt:?} is not a {} prompt: expected two decimal numbers joined by {sym:?}, \
                 like {}",
                self.op.name(),
                if self.op == Op::Add { "347+85" } else { "12*34" }
            ))
        };
        let (a, b) = prompt.split_once(sym).ok_or_else(bad)?;
        let mut out = Vec::with_capacity(2);
        for x in [a, b] {
            let d = bignum::digits(x).ok_or_else(bad)?;
            if d.len() > 1 && d[0] == 0 {
                return Err(EnvError::BadPrompt(format!("operand {x:?} of {prompt:?} has a leading zero")));
            }
            if d.len() > self.digits.1 as usize {
                return Err(EnvError::BadPrompt(format!(
                    "operand {x:?} of {prompt:?} has {} digits; {} takes at most {}",
                    d.len(),
                    self.spec(),
                    self.digits.1
                )));
            }
            out.push(d);
        }
        let b = out.pop().expect("two operands");
        let a = out.pop().expect("two operands");
        Ok((a, b))
    }

    fn make_task(&self, id: String, a: &[u8], b: &[u8]) -> Task {
        let prompt = format!("{}{}{}", bignum::text(a), self.op.symbol(), bignum::text(b));
        let truth = Truth(TruthInner::Number(bignum::text(&self.op.exact(a, b))));
        Task { id, prompt, truth }
    }

    /// Whether both operands of a prompt have a digit count inside `digits`.
    fn fits(&self, prompt: &str) -> bool {
        let (lo, hi) = (self.digits.0 as usize, self.digits.1 as usize);
        prompt.split(self.op.symbol()).all(|x| (lo..=hi).contains(&x.len()))
    }
}

impl Env for Arith {
    type State = ArithState;

    fn spec(&self) -> String {
        // `levels` is named only when it is not the default, so specs written before it existed
        // (in checkpoints and results) still read back as the same environment.
        format!(
            "{}:digits={}-{},scratchpad={}{}",
            self.op.name(),
            self.digits.0,
            self.digits.1,
            self.scratchpad.name(),
            if self.levels == Levels::Newest { ",levels=newest" } else { "" }
        )
    }

    fn kind(&self) -> Kind {
        Kind::Task
    }

    fn max_actions(&self) -> usize {
        let longest = vec![9; self.digits.1 as usize];
        state::max_len(&state::build(self.op, &longest, &longest, self.scratchpad))
    }

    fn start(&self, prompt: &str) -> Result<ArithState, EnvError> {
        let (a, b) = self.operands(prompt)?;
        let mut tokens = vec![BOS];
        vocab::encode_into(prompt, &mut tokens)?;
        tokens.push(SEP);
        let template = state::build(self.op, &a, &b, self.scratchpad);
        Ok(ArithState::new(tokens, template, self.scratchpad))
    }

    fn curriculum_levels(&self) -> u32 {
        self.digits.1 - self.digits.0 + 1
    }

    fn generate(&self, seed: u64, index: u64, level: u32) -> Task {
        let level = level.min(self.curriculum_levels() - 1);
        let (lo, hi) = (self.digits.0, self.digits.0 + level);
        let mut rng = item_rng(seed, index, self.op.stream());
        let held_out = held_out_prompts(self.op);
        loop {
            let (da, db) = match self.levels {
                Levels::UpTo => (rng.random_range(lo..=hi), rng.random_range(lo..=hi)),
                Levels::Newest => {
                    let other = rng.random_range(lo..=hi);
                    if rng.random_bool(0.5) {
                        (hi, other)
                    } else {
                        (other, hi)
                    }
                }
            };
            let a = random_operand(&mut rng, da);
            let b = random_operand(&mut rng, db);
            let task = self.make_task(format!("s{seed}-i{index}"), &a, &b);
            if !held_out.contains(&task.prompt) {
                return task;
            }
        }
    }

    fn held_out(&self) -> Vec<Task> {
        suite_tasks(self.op).iter().filter(|t| self.fits(&t.prompt)).cloned().collect()
    }

    fn task(&self, id: &str, prompt: &str, extra: &serde_json::Value) -> Result<Task, EnvError> {
        let (a, b) = self.operands(prompt)?;
        let task = self.make_task(id.to_string(), &a, &b);
        let TruthInner::Number(truth) = &task.truth.0 else { unreachable!("arithmetic truths are numbers") };
        match extra.get("answer") {
            None => {}
            Some(serde_json::Value::String(s)) if s == truth => {}
            Some(serde_json::Value::Number(n)) if n.to_string() == *truth => {}
            Some(v) => {
                return Err(EnvError::BadTask(format!(
                    "task {id:?}: field \"answer\" is {v}, but {prompt} = {truth}"
                )))
            }
        }
        Ok(task)
    }

    fn grade(&self, task: &Task, answer: &str) -> Grade {
        let TruthInner::Number(truth) = &task.truth.0 else {
            return Grade::wrong("not an arithmetic task");
        };
        let answer = answer.trim();
        if answer.is_empty() {
            return Grade::wrong("empty answer");
        }
        if let Some((i, c)) = answer.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
            return Grade::wrong(format!("not a decimal number: {c:?} at byte {i} of {answer:?}"));
        }
        let value = answer.trim_start_matches('0');
        let value = if value.is_empty() { "0" } else { value };
        if value == truth {
            Grade::right()
        } else {
            Grade::wrong(format!("{value} is wrong; {} = {truth}", task.prompt))
        }
    }

    fn hinted_start(&self, task: &Task) -> Option<ArithState> {
        let (a, b) = self.operands(&task.prompt).ok()?;
        let TruthInner::Number(truth) = &task.truth.0 else { return None };
        let template = hint::hinted_template(self.op, &a, &b, self.scratchpad, truth)?;
        let mut tokens = vec![BOS];
        vocab::encode_into(&task.prompt, &mut tokens).ok()?;
        tokens.push(SEP);
        Some(ArithState::new(tokens, template, self.scratchpad))
    }

    fn answer(&self, state: &ArithState) -> String {
        let ans = state.answer_so_far();
        match self.scratchpad {
            Scratchpad::None => vocab::decode(ans),
            _ => match ans.iter().rposition(|&t| t == STEP) {
                // The final answer follows the last step and its `=` marker.
                Some(i) => vocab::decode(ans.get(i + 2..).unwrap_or(&[])),
                None => String::new(),
            },
        }
    }
}

/// The held-out suite of an operation: 100 problems per digit count 1..=20 (20 one-digit ones),
/// both operands of that count, drawn from a fixed seed. `suites/<op>.test.jsonl` holds exactly
/// these (a test checks it; `cargo run -p ponder-env --example write_math_suites` rewrites it).
pub fn test_suite(op: Op) -> Vec<Task> {
    let env = Arith { op, digits: (1, SUITE_MAX_DIGITS), scratchpad: Scratchpad::None, levels: Levels::UpTo };
    let mut tasks = Vec::new();
    for d in 1..=SUITE_MAX_DIGITS {
        let want = if d == 1 { SUITE_ONE_DIGIT } else { SUITE_PER_DIGITS };
        let mut rng = item_rng(SUITE_SEED, u64::from(d), op.stream());
        let mut seen = HashSet::new();
        while seen.len() < want {
            let a = random_operand(&mut rng, d);
            let b = random_operand(&mut rng, d);
            if seen.insert((a.clone(), b.clone())) {
                tasks.push(env.make_task(format!("test-d{d:02}-{:03}", seen.len() - 1), &a, &b));
            }
        }
    }
    tasks
}

/// The embedded suite file of an operation, read once.
fn suite_tasks(op: Op) -> &'static [Task] {
    static ADD: OnceLock<Vec<Task>> = OnceLock::new();
    static MUL: OnceLock<Vec<Task>> = OnceLock::new();
    let (cell, text) = match op {
        Op::Add => (&ADD, ADDITION_SUITE),
        Op::Mul => (&MUL, MULTIPLICATION_SUITE),
    };
    cell.get_or_init(|| {
        let env = Arith { op, digits: (1, MAX_DIGITS), scratchpad: Scratchpad::None, levels: Levels::UpTo };
        let (tasks, errors) = crate::suite::parse_tasks(&env, text);
        debug_assert!(errors.is_empty(), "suites/{}.test.jsonl: {errors:?}", op.name());
        tasks
    })
}

/// Every held-out prompt of an operation, whatever its digit counts.
fn held_out_prompts(op: Op) -> &'static HashSet<String> {
    static ADD: OnceLock<HashSet<String>> = OnceLock::new();
    static MUL: OnceLock<HashSet<String>> = OnceLock::new();
    let cell = match op {
        Op::Add => &ADD,
        Op::Mul => &MUL,
    };
    cell.get_or_init(|| suite_tasks(op).iter().map(|t| t.prompt.clone()).collect())
}

/// The generator of item `index` of stream `seed`: independent of every other item.
fn item_rng(seed: u64, index: u64, stream: u64) -> ChaCha8Rng {
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&seed.to_le_bytes());
    key[8..16].copy_from_slice(&index.to_le_bytes());
    key[16..24].copy_from_slice(&stream.to_le_bytes());
    ChaCha8Rng::from_seed(key)
}

/// A uniformly random number of exactly `digits` digits (0..=9 for one digit).
fn random_operand(rng: &mut ChaCha8Rng, digits: u32) -> Vec<u8> {
    (0..digits).map(|i| rng.random_range(if i == 0 && digits > 1 { 1 } else { 0 }..10)).collect()
}

#[cfg(test)]
mod tests;
