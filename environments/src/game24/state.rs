//! The game24 task state and its two answer grammars.
//!
//! `expr`: a prefix of an infix expression over the puzzle's numbers. The grammar tracks the
//! numbers left, a number whose digits are half written (`1` may become `12`), and the open
//! parentheses; every legal prefix can still be completed into an expression that uses each
//! number once. A parenthesised group must hold an operator at its own level (no `(8)` and no
//! `((a+b))`), so an expression has at most three groups and eighteen tokens.
//!
//! `steps`: three steps `a op b=result (left: ...)<step>`, then `<eos>`. The operands are typed
//! from the numbers left (a fraction operand in parentheses, `(8/3)`); after the second operand
//! `=` is the policy's last choice in the step and the rest is forced.

use std::fmt;

use super::expr::{BinOp, Expr};
use super::rational::Rational;
use crate::vocab::{self, Token, EOS, SEP, STEP};
use crate::State;

/// The tokens of the four operators, in vocabulary order of their characters.
fn op_token(op: BinOp) -> Token {
    vocab::ch(op.symbol())
}

fn op_of(t: Token) -> Option<BinOp> {
    BinOp::ALL.into_iter().find(|&op| op_token(op) == t)
}

/// A game24 state: `<bos>`, the prompt, `<sep>`, the answer so far.
#[derive(Clone)]
pub struct Game24State {
    pub(super) tokens: Vec<Token>,
    pub(super) numbers: [u32; 4],
    pub(super) grammar: Grammar,
}

#[derive(Debug, Clone)]
pub(super) enum Grammar {
    Expr(ExprGrammar),
    Steps(StepsGrammar),
}

impl Game24State {
    pub(super) fn new(tokens: Vec<Token>, numbers: [u32; 4], steps: bool) -> Self {
        let grammar = if steps {
            let mut values: Vec<Rational> = numbers.iter().map(|&n| Rational::int(i64::from(n))).collect();
            values.sort();
            Grammar::Steps(StepsGrammar { values, history: Vec::new(), phase: Phase::First { typed: 0 } })
        } else {
            let mut left = [0u8; 14];
            for &n in &numbers {
                left[n as usize] += 1;
            }
            Grammar::Expr(ExprGrammar {
                left,
                n_left: 4,
                operand: true,
                typed: 0,
                typed_value: 0,
                groups: [false; 3],
                depth: 0,
                done: false,
            })
        };
        Game24State { tokens, numbers, grammar }
    }

    /// The answer as an infix expression: the text itself in the `expr` format; in the `steps`
    /// format, the expression the steps built (the numbers left, space-separated, before the
    /// last step).
    pub(super) fn expression(&self) -> String {
        match &self.grammar {
            Grammar::Expr(_) => vocab::decode(crate::answer_tokens(&self.tokens)),
            Grammar::Steps(g) => {
                let mut items: Vec<(Rational, Expr)> = self
                    .numbers
                    .iter()
                    .map(|&n| (Rational::int(i64::from(n)), Expr::Num(i64::from(n))))
                    .collect();
                items.sort_by_key(|x| x.0);
                for &(i, op, j) in &g.history {
                    let (a, b) = (items[i].clone(), items[j].clone());
                    let value = op.apply(a.0, b.0).expect("the grammar allowed only defined steps");
                    combine(&mut items, i, j, (value, Expr::bin(op, a.1, b.1)), |x| x.0);
                }
                let texts: Vec<String> = items.iter().map(|x| x.1.to_string()).collect();
                texts.join(" ")
            }
        }
    }
}

/// Replaces items `i` and `j` by `new`, keeping the list sorted by `key` (stably, so that the
/// state and the expression rebuilt from its history index the same items).
fn combine<T>(items: &mut Vec<T>, i: usize, j: usize, new: T, key: impl Fn(&T) -> Rational) {
    items.remove(i.max(j));
    items.remove(i.min(j));
    items.push(new);
    items.sort_by_key(key);
}

impl State for Game24State {
    fn tokens(&self) -> &[Token] {
        &self.tokens
    }

    fn legal_actions(&self, out: &mut Vec<Token>) {
        out.clear();
        match &self.grammar {
            Grammar::Expr(g) => g.legal(out),
            Grammar::Steps(g) => g.legal(&self.tokens, out),
        }
        out.sort_unstable();
        out.dedup();
    }

    fn apply(&mut self, action: Token) {
        match &mut self.grammar {
            Grammar::Expr(g) => g.apply(action),
            Grammar::Steps(g) => g.apply(&self.tokens, action),
        }
        self.tokens.push(action);
    }

    fn to_play(&self) -> usize {
        0
    }

    fn is_terminal(&self) -> bool {
        match &self.grammar {
            Grammar::Expr(g) => g.done,
            Grammar::Steps(g) => matches!(g.phase, Phase::Done),
        }
    }

    /// At the end: 1 if the answer makes 24 (the grammar already guarantees that it uses each
    /// of the puzzle's numbers once), else 0. This is the full check: searches may consult it.
    fn rules_value(&self) -> Option<f32> {
        if !self.is_terminal() {
            return None;
        }
        let value = match &self.grammar {
            Grammar::Expr(_) => Expr::parse(&self.expression()).ok().and_then(|e| e.eval().ok()),
            Grammar::Steps(g) => g.values.first().copied(),
        };
        Some(if value == Some(Rational::int(24)) { 1.0 } else { 0.0 })
    }

    fn at_step_boundary(&self) -> bool {
        match &self.grammar {
            Grammar::Expr(_) => true,
            Grammar::Steps(_) => matches!(self.tokens.last(), Some(&SEP) | Some(&STEP)) || self.is_terminal(),
        }
    }
}

impl fmt::Debug for Game24State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Game24[{}]", vocab::decode(&self.tokens))
    }
}

// ---------------------------------------------------------------------------------------------
// expr format

/// The parse state of an infix-expression prefix.
#[derive(Debug, Clone, Copy)]
pub(super) struct ExprGrammar {
    /// How many of each number 0..=13 are still unused.
    left: [u8; 14],
    n_left: u8,
    /// Expecting an operand (a number or `(`), possibly with digits of a number already typed.
    operand: bool,
    /// Digits typed of the number in progress, and their value.
    typed: u8,
    typed_value: u32,
    /// For each open `(`: whether an operator has been written at its own level.
    groups: [bool; 3],
    depth: u8,
    done: bool,
}

fn digit_count(v: u32) -> u8 {
    if v >= 10 {
        2
    } else {
        1
    }
}

impl ExprGrammar {
    /// Open groups that still need an operator of their own.
    fn needy(&self) -> u8 {
        self.groups[..self.depth as usize].iter().filter(|&&has_op| !has_op).count() as u8
    }

    /// The numbers still available whose text starts with the typed digits.
    fn candidates(&self) -> impl Iterator<Item = u32> + '_ {
        (0..14u32).filter(move |&v| {
            let len = digit_count(v);
            self.left[v as usize] > 0
                && len >= self.typed
                && (self.typed == 0 || v / 10u32.pow(u32::from(len - self.typed)) == self.typed_value)
        })
    }

    fn legal(&self, out: &mut Vec<Token>) {
        if self.done {
            return;
        }
        if !self.operand {
            self.after_operand(self.n_left, out);
            return;
        }
        if self.typed == 0 && self.n_left >= self.needy() + 2 {
            out.push(vocab::ch('('));
        }
        let mut complete = false;
        for v in self.candidates() {
            let len = digit_count(v);
            if len == self.typed {
                complete = true;
            } else {
                let next = (v / 10u32.pow(u32::from(len - self.typed - 1))) % 10;
                out.push(vocab::digit(next));
            }
        }
        if complete {
            self.after_operand(self.n_left - 1, out);
        }
    }

    /// The tokens that may follow a complete operand, with `n_left` numbers unused.
    fn after_operand(&self, n_left: u8, out: &mut Vec<Token>) {
        let inner_has_op = self.depth == 0 || self.groups[self.depth as usize - 1];
        // An operator needs a number after it; if the innermost group already has its operator,
        // the numbers after this one must still serve every group that lacks one.
        if n_left >= 1 && (!inner_has_op || n_left > self.needy()) {
            out.extend(BinOp::ALL.map(op_token));
        }
        if self.depth > 0 && inner_has_op {
            out.push(vocab::ch(')'));
        }
        if n_left == 0 && self.depth == 0 {
            out.push(EOS);
        }
    }

    fn apply(&mut self, t: Token) {
        if self.operand {
            if let Some(d) = vocab::digit_value(t) {
                self.typed += 1;
                self.typed_value = self.typed_value * 10 + d;
                return;
            }
            if self.typed == 0 {
                debug_assert_eq!(t, vocab::ch('('));
                self.groups[self.depth as usize] = false;
                self.depth += 1;
                return;
            }
            // The number in progress ends here.
            self.left[self.typed_value as usize] -= 1;
            self.n_left -= 1;
            self.typed = 0;
            self.typed_value = 0;
            self.operand = false;
        }
        if op_of(t).is_some() {
            if self.depth > 0 {
                self.groups[self.depth as usize - 1] = true;
            }
            self.operand = true;
        } else if t == vocab::ch(')') {
            self.depth -= 1;
        } else {
            debug_assert_eq!(t, EOS);
            self.done = true;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// steps format

#[derive(Debug, Clone)]
pub(super) struct StepsGrammar {
    /// The numbers left, ascending (the order of the `(left: ...)` list).
    values: Vec<Rational>,
    /// Each step: (index of the first operand, operator, index of the second), into `values`
    /// as it was before the step.
    history: Vec<(usize, BinOp, usize)>,
    phase: Phase,
}

#[derive(Debug, Clone)]
enum Phase {
    /// Typing the first operand: `typed` tokens of it are written.
    First {
        typed: usize,
    },
    /// Typing the second operand of `values[first] op ...`.
    Second {
        first: usize,
        op: BinOp,
        typed: usize,
    },
    /// Writing the forced rest of a step (`result (left: ...)<step>`); `at` tokens of it done.
    Forced {
        rest: Vec<Token>,
        at: usize,
    },
    /// One number left: only `<eos>`.
    End,
    Done,
}

/// How an operand is typed: `8`, or `(8/3)` for a fraction (values are never negative).
fn operand_tokens(v: Rational, out: &mut Vec<Token>) {
    out.clear();
    let text = if v.is_integer() { v.to_string() } else { format!("({v})") };
    vocab::encode_into(&text, out).expect("digits, '(', '/' and ')' are in the vocabulary");
}

impl StepsGrammar {
    /// Whether `values[j]` can be the second operand of `values[first] op`: subtraction must not
    /// go negative (every solvable puzzle has a solution without negative numbers), division
    /// not by zero.
    fn second_ok(&self, first: usize, op: BinOp, j: usize) -> bool {
        j != first
            && match op {
                BinOp::Sub => self.values[j] <= self.values[first],
                BinOp::Div => self.values[j] != Rational::ZERO,
                BinOp::Add | BinOp::Mul => true,
            }
    }

    /// The operand indices allowed in the current phase.
    fn allowed(&self, i: usize) -> bool {
        match self.phase {
            Phase::First { .. } => true,
            Phase::Second { first, op, .. } => self.second_ok(first, op, i),
            _ => false,
        }
    }

    /// The first index whose operand text is exactly the typed text, among those allowed.
    fn complete(&self, typed: &[Token]) -> Option<usize> {
        let mut text = Vec::new();
        (0..self.values.len()).find(|&i| {
            operand_tokens(self.values[i], &mut text);
            self.allowed(i) && text == typed
        })
    }

    fn legal(&self, tokens: &[Token], out: &mut Vec<Token>) {
        let typed = match self.phase {
            Phase::First { typed } | Phase::Second { typed, .. } => &tokens[tokens.len() - typed..],
            Phase::Forced { ref rest, at } => return out.push(rest[at]),
            Phase::End => return out.push(EOS),
            Phase::Done => return,
        };
        let mut text = Vec::new();
        for i in (0..self.values.len()).filter(|&i| self.allowed(i)) {
            operand_tokens(self.values[i], &mut text);
            if text.len() > typed.len() && text.starts_with(typed) {
                out.push(text[typed.len()]);
            }
        }
        let Some(i) = self.complete(typed) else {
            return;
        };
        match self.phase {
            Phase::First { .. } => {
                for op in BinOp::ALL {
                    if (0..self.values.len()).any(|j| self.second_ok(i, op, j)) {
                        out.push(op_token(op));
                    }
                }
            }
            _ => out.push(vocab::ch('=')),
        }
    }

    fn apply(&mut self, tokens: &[Token], t: Token) {
        match self.phase {
            Phase::First { typed } => {
                let op = op_of(t);
                match self.complete(&tokens[tokens.len() - typed..]) {
                    Some(first) if op.is_some() => {
                        let op = op.expect("checked");
                        self.phase = Phase::Second { first, op, typed: 0 };
                    }
                    _ => self.phase = Phase::First { typed: typed + 1 },
                }
            }
            Phase::Second { first, op, typed } => {
                let second =
                    if t == vocab::ch('=') { self.complete(&tokens[tokens.len() - typed..]) } else { None };
                match second {
                    Some(j) => self.step(first, op, j),
                    None => self.phase = Phase::Second { first, op, typed: typed + 1 },
                }
            }
            Phase::Forced { ref rest, ref mut at } => {
                debug_assert_eq!(rest[*at], t);
                *at += 1;
                if *at == rest.len() {
                    self.phase = if self.values.len() == 1 { Phase::End } else { Phase::First { typed: 0 } };
                }
            }
            Phase::End => self.phase = Phase::Done,
            Phase::Done => debug_assert!(false, "no action after the end"),
        }
    }

    /// Performs the step `values[i] op values[j]` once its `=` is written, and lines up the
    /// forced rest: `result (left: ...)<step>`.
    fn step(&mut self, i: usize, op: BinOp, j: usize) {
        let r = op.apply(self.values[i], self.values[j]).expect("the grammar allows only defined steps");
        self.history.push((i, op, j));
        combine(&mut self.values, i, j, r, |v| *v);
        let left: Vec<String> = self.values.iter().map(|v| v.to_string()).collect();
        let mut rest = vocab::encode(&format!("{r} (left: {})", left.join(" "))).expect("in the vocabulary");
        rest.push(STEP);
        self.phase = Phase::Forced { rest, at: 0 };
    }
}
