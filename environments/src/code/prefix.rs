//! The incremental prefix parser behind `legal_actions`: after each answer token it knows which
//! tokens keep the answer a prefix of some expression that fits in the length bound.
//!
//! It is a pushdown automaton over the grammar of [`parse`](super::parse): a stack of open
//! frames (the top level, a parenthesis, `abs(`, `min(`/`max(`), each remembering whether it is
//! between `if` and `else` and whether its current comparison already has an operator (chains
//! are not in the language). Beside the stack: whether an operand is due, whether `not` may
//! start here (only where a whole condition starts, as in Python), and the literal being written
//! (no leading zeros, at most 10^18).
//!
//! Every frame also knows the fewest tokens that close it, so the automaton allows a token only
//! if the answer can still be finished within `max_len` tokens. No legal walk dead-ends: each
//! ends in a complete expression and `<eos>`. One step costs O(1); no re-parsing.

use std::sync::OnceLock;

use super::lang::INT_MAX;
use super::lex::{token_lex, Lex};
use crate::vocab::{self, Token, EOS};

/// What a vocabulary token means to the automaton.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sym {
    Digit(u64),
    Lex(Lex),
    Eos,
}

/// The tokens the answer language uses, in increasing token order, decoded once: all of them,
/// those that may start an operand, and those that may follow one.
struct Table {
    all: Vec<(Token, Sym)>,
    operand: Vec<(Token, Sym)>,
    after_operand: Vec<(Token, Sym)>,
}

fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| {
        let all: Vec<(Token, Sym)> = (0..vocab::VOCAB_SIZE as Token)
            .filter_map(|t| {
                let sym = if t == EOS {
                    Sym::Eos
                } else if let Some(d) = vocab::digit_value(t) {
                    Sym::Digit(d as u64)
                } else {
                    Sym::Lex(token_lex(t)?)
                };
                Some((t, sym))
            })
            .collect();
        let starts = |s: &Sym| match s {
            Sym::Digit(_) => true,
            Sym::Lex(l) => {
                matches!(l, Lex::X | Lex::Minus | Lex::Not | Lex::LParen | Lex::Abs | Lex::Min | Lex::Max)
            }
            Sym::Eos => false,
        };
        let follows = |s: &Sym| match s {
            Sym::Lex(l) => !matches!(l, Lex::X | Lex::Not | Lex::LParen | Lex::Abs | Lex::Min | Lex::Max),
            _ => true,
        };
        Table {
            operand: all.iter().copied().filter(|(_, s)| starts(s)).collect(),
            after_operand: all.iter().copied().filter(|(_, s)| follows(s)).collect(),
            all,
        }
    })
}

fn decode(t: Token) -> Option<Sym> {
    let c = &table().all;
    c.binary_search_by_key(&t, |&(tok, _)| tok).ok().map(|i| c[i].1)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FrameKind {
    Top,
    Paren,
    Abs,
    /// `min(` or `max(`: two or more arguments.
    Call,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Frame {
    kind: FrameKind,
    /// Whether its `(` is written (`abs`, `min`, `max` wait for it).
    opened: bool,
    /// Arguments begun (commas + 1), for calls.
    args: u8,
    /// Between `if` and `else`.
    in_cond: bool,
    /// The current comparison has its operator: another one would chain.
    cmp_seen: bool,
    /// Fewest tokens that close every frame beneath this one.
    below: u16,
}

impl Frame {
    fn new(kind: FrameKind, opened: bool, below: usize) -> Frame {
        Frame { kind, opened, args: 1, in_cond: false, cmp_seen: false, below: below as u16 }
    }

    /// Fewest tokens that close this frame once its current operand is written.
    fn cost(&self) -> usize {
        let close = match self.kind {
            FrameKind::Top => 0,
            FrameKind::Paren | FrameKind::Abs => 1,
            FrameKind::Call => 1 + 2 * (2 - self.args.min(2) as usize),
        };
        close + usize::from(!self.opened) + 2 * usize::from(self.in_cond)
    }
}

/// One transition of the automaton, decided before it is taken.
#[derive(Debug, Clone, Copy)]
enum Step {
    /// A digit: the literal's value so far.
    Digit(u64),
    /// `x`.
    Operand,
    /// Unary `-` or `not`: an operand is still due.
    Unary { not_ok: bool },
    /// `(`, `abs`, `min`, `max`.
    Push(Frame),
    /// A binary operator, keyword, comma or a call's `(`: the top frame changes.
    Top { frame: Frame, need_operand: bool, not_ok: bool },
    /// `)`.
    Pop,
    /// `<eos>`.
    End,
}

/// The automaton's state after some answer tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prefix {
    frames: Vec<Frame>,
    need_operand: bool,
    /// `not` may start here.
    not_ok: bool,
    /// The literal being written, if the last token was a digit.
    literal: Option<u64>,
    len: usize,
    max_len: usize,
    ended: bool,
    /// An illegal token was applied: the answer cannot parse.
    broken: bool,
}

impl Prefix {
    /// The empty answer, bounded to `max_len` tokens (before `<eos>`).
    pub fn new(max_len: usize) -> Prefix {
        Prefix {
            frames: vec![Frame::new(FrameKind::Top, true, 0)],
            need_operand: true,
            not_ok: true,
            literal: None,
            len: 0,
            max_len: max_len.min(u16::MAX as usize / 4),
            ended: false,
            broken: false,
        }
    }

    /// Answer tokens written so far (without `<eos>`).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no answer token is written yet.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether `<eos>` was applied, or an illegal token (then [`Prefix::is_broken`]).
    pub fn is_finished(&self) -> bool {
        self.ended || self.broken
    }

    /// Whether an illegal token was applied.
    pub fn is_broken(&self) -> bool {
        self.broken
    }

    /// Fewest tokens that complete the answer (before `<eos>`).
    pub fn min_to_complete(&self) -> usize {
        let top = self.frames.last().copied().unwrap_or(Frame::new(FrameKind::Top, true, 0));
        usize::from(self.need_operand) + top.cost() + top.below as usize
    }

    /// Whether `t` is legal here.
    pub fn is_legal(&self, t: Token) -> bool {
        decode(t).is_some_and(|sym| self.allowed(sym).is_some())
    }

    /// Clears `out` and writes the legal tokens, in increasing order.
    pub fn legal(&self, out: &mut Vec<Token>) {
        out.clear();
        if self.is_finished() {
            return;
        }
        let t = table();
        let list = if self.need_operand { &t.operand } else { &t.after_operand };
        for &(tok, sym) in list {
            let idle_digit = matches!(sym, Sym::Digit(_)) && !self.need_operand && self.literal.is_none();
            if !idle_digit && self.allowed(sym).is_some() {
                out.push(tok);
            }
        }
    }

    /// Applies a token. An illegal one breaks the prefix (it is then finished, and can never
    /// parse); callers check legality first.
    pub fn apply(&mut self, t: Token) {
        let Some(step) = decode(t).and_then(|sym| self.allowed(sym)) else {
            self.broken = true;
            return;
        };
        self.literal = None;
        if !matches!(step, Step::End) {
            self.len += 1;
        }
        match step {
            Step::Digit(v) => {
                self.literal = Some(v);
                self.need_operand = false;
            }
            Step::Operand => self.need_operand = false,
            Step::Unary { not_ok } => self.not_ok = not_ok,
            Step::Push(f) => {
                self.frames.push(f);
                self.not_ok = true;
            }
            Step::Top { frame, need_operand, not_ok } => {
                if let Some(top) = self.frames.last_mut() {
                    *top = frame;
                }
                self.need_operand = need_operand;
                self.not_ok = not_ok;
            }
            Step::Pop => {
                self.frames.pop();
                self.need_operand = false;
            }
            Step::End => self.ended = true,
        }
    }

    /// The transition `sym` takes, if it is legal (grammar and length bound).
    #[inline(always)]
    fn allowed(&self, sym: Sym) -> Option<Step> {
        let (step, cost) = self.step(sym)?;
        let fits = matches!(step, Step::End) || self.len + 1 + cost <= self.max_len;
        fits.then_some(step)
    }

    /// The grammar's transition on `sym`, ignoring the length bound, with
    /// [`Prefix::min_to_complete`] after it (computed here, where the new frame is at hand).
    #[inline(always)]
    fn step(&self, sym: Sym) -> Option<(Step, usize)> {
        if self.is_finished() {
            return None;
        }
        let top = *self.frames.last()?;
        let rest = top.below as usize;
        // The top frame changes (and an operand is due or not).
        let top_step = |frame: Frame, need_operand: bool, not_ok: bool| {
            let cost = usize::from(need_operand) + frame.cost() + rest;
            Some((Step::Top { frame, need_operand, not_ok }, cost))
        };
        if !top.opened {
            let frame = Frame { opened: true, ..top };
            return if sym == Sym::Lex(Lex::LParen) { top_step(frame, true, true) } else { None };
        }
        let lex = match sym {
            Sym::Eos => {
                let done = !self.need_operand && self.frames.len() == 1 && !top.in_cond;
                return done.then_some((Step::End, 0));
            }
            Sym::Digit(d) if self.need_operand => return Some((Step::Digit(d), top.cost() + rest)),
            Sym::Digit(d) => {
                let v = self.literal.filter(|&v| v != 0)? * 10 + d;
                return (v <= INT_MAX as u64).then_some((Step::Digit(v), top.cost() + rest));
            }
            Sym::Lex(lex) => lex,
        };
        if self.need_operand {
            let push = |kind: FrameKind, opened: bool| {
                let f = Frame::new(kind, opened, top.cost() + rest);
                Some((Step::Push(f), 1 + f.cost() + f.below as usize))
            };
            let unary = |not_ok: bool| Some((Step::Unary { not_ok }, 1 + top.cost() + rest));
            return match lex {
                Lex::X => Some((Step::Operand, top.cost() + rest)),
                Lex::Minus => unary(false),
                Lex::Not if self.not_ok => unary(true),
                Lex::LParen => push(FrameKind::Paren, true),
                Lex::Abs => push(FrameKind::Abs, false),
                Lex::Min | Lex::Max => push(FrameKind::Call, false),
                _ => None,
            };
        }
        match lex {
            Lex::Plus | Lex::Minus | Lex::Star | Lex::SlashSlash | Lex::Percent => top_step(top, true, false),
            Lex::Cmp(_) if !top.cmp_seen => top_step(Frame { cmp_seen: true, ..top }, true, false),
            Lex::And | Lex::Or => top_step(Frame { cmp_seen: false, ..top }, true, true),
            Lex::If if !top.in_cond => top_step(Frame { in_cond: true, cmp_seen: false, ..top }, true, true),
            Lex::Else if top.in_cond => {
                top_step(Frame { in_cond: false, cmp_seen: false, ..top }, true, true)
            }
            Lex::RParen if !top.in_cond => {
                let closes = match top.kind {
                    FrameKind::Paren | FrameKind::Abs => true,
                    FrameKind::Call => top.args >= 2,
                    FrameKind::Top => false,
                };
                closes.then_some((Step::Pop, rest))
            }
            Lex::Comma if !top.in_cond && top.kind == FrameKind::Call => {
                let args = top.args.saturating_add(1);
                top_step(Frame { args, cmp_seen: false, ..top }, true, true)
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    #[test]
    fn cost_after_matches_the_cost_once_applied() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let mut legal = Vec::new();
        for _ in 0..2000 {
            let mut p = Prefix::new(rng.random_range(1..30));
            loop {
                p.legal(&mut legal);
                if legal.is_empty() {
                    break;
                }
                let t = legal[rng.random_range(0..legal.len())];
                let predicted = p.step(decode(t).unwrap()).map(|(_, cost)| cost);
                p.apply(t);
                assert!(!p.is_broken());
                assert_eq!(predicted, Some(p.min_to_complete()));
                assert!(p.len() + p.min_to_complete() <= p.max_len);
            }
            assert!(p.ended, "every legal walk ends with <eos>");
        }
    }
}
