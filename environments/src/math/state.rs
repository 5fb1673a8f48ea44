//! An arithmetic task state, and the answer grammar it walks: a fixed template built from the
//! prompt.
//!
//! A template is a sequence of [`Elem`]s: literal tokens, which are forced (the single legal
//! action), and free numbers, written digit by digit without leading zeros and never above a
//! bound that follows from the operands' lengths alone (a column of an addition sums to at most
//! 9 + 9 + 1 = 19). The bounds use only what the prompt shows; nothing here computes a digit
//! of the result, so the rules stay blind to the ground truth.

use std::fmt;
use std::sync::Arc;

use super::{Op, Scratchpad};
use crate::vocab::{self, Token, EOS, SEP, STEP};
use crate::State;

/// An arithmetic task state: the prompt, then the answer written so far, walking a template.
#[derive(Clone)]
pub struct ArithState {
    /// `<bos>`, the prompt, `<sep>`, the answer so far.
    tokens: Vec<Token>,
    /// The answer's template, built from the prompt (shared by every state of one task).
    template: Arc<[Elem]>,
    /// The template element being written.
    pos: usize,
    /// Digits of the free number in progress at `pos`.
    written: usize,
    scratchpad: Scratchpad,
}

impl ArithState {
    pub(super) fn new(tokens: Vec<Token>, template: Vec<Elem>, scratchpad: Scratchpad) -> Self {
        ArithState { tokens, template: template.into(), pos: 0, written: 0, scratchpad }
    }

    /// The answer written so far (after `<sep>`, before `<eos>`).
    pub(super) fn answer_so_far(&self) -> &[Token] {
        crate::answer_tokens(&self.tokens)
    }

    /// The digits of the free number in progress.
    fn number_in_progress(&self) -> &[Token] {
        &self.tokens[self.tokens.len() - self.written..]
    }
}

impl State for ArithState {
    fn tokens(&self) -> &[Token] {
        &self.tokens
    }

    fn legal_actions(&self, out: &mut Vec<Token>) {
        legal(&self.template, self.pos, self.number_in_progress(), out);
    }

    fn apply(&mut self, action: Token) {
        match &self.template[self.pos] {
            Elem::Lit(t) => {
                debug_assert_eq!(*t, action, "illegal action {}", vocab::symbol(action));
                self.pos += 1;
            }
            Elem::Num(_) | Elem::Fixed(_) if vocab::digit_value(action).is_some() => self.written += 1,
            Elem::Num(_) | Elem::Fixed(_) => {
                debug_assert!(
                    self.written > 0 && self.template.get(self.pos + 1) == Some(&Elem::Lit(action))
                );
                self.pos += 2;
                self.written = 0;
            }
        }
        self.tokens.push(action);
    }

    fn to_play(&self) -> usize {
        0
    }

    fn is_terminal(&self) -> bool {
        self.pos >= self.template.len()
    }

    fn rules_value(&self) -> Option<f32> {
        // The rules cannot check a sum (nor a scratchpad's arithmetic): only the ground truth can.
        None
    }

    fn at_step_boundary(&self) -> bool {
        match self.scratchpad {
            Scratchpad::None => true,
            _ => matches!(self.tokens.last(), Some(&SEP) | Some(&STEP)) || self.is_terminal(),
        }
    }
}

impl fmt::Debug for ArithState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Arith[{}]", vocab::decode(&self.tokens))
    }
}

/// One element of an answer template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Elem {
    /// A forced token.
    Lit(Token),
    /// A free number of at most this value (digits, most significant first, no leading zeros).
    /// The element after a number is always a literal that is not a digit, so the number ends
    /// exactly when that literal is written.
    Num(Box<[u8]>),
    /// A free number of exactly as many digits as this bound, leading zeros included (`04`
    /// under `19`), and at most its value: the aligned scratchpad's carries and column sums.
    Fixed(Box<[u8]>),
}

/// The template of the answer to `a op b` (digits most significant first) in a format.
pub(super) fn build(op: Op, a: &[u8], b: &[u8], pad: Scratchpad) -> Vec<Elem> {
    let mut g = Vec::new();
    let lit = |c: char| Elem::Lit(vocab::ch(c));
    if pad != Scratchpad::None {
        let cols = columns(op, a, b);
        let order: Vec<&Column> = match pad {
            Scratchpad::Msd => cols.iter().rev().collect(),
            _ => cols.iter().collect(),
        };
        for col in order {
            for (t, &(x, y)) in col.terms.iter().enumerate() {
                if t > 0 {
                    g.push(lit('+'));
                }
                g.push(Elem::Lit(vocab::digit(u32::from(x))));
                g.push(lit(op.symbol()));
                g.push(Elem::Lit(vocab::digit(u32::from(y))));
            }
            let free = |max: u64| match pad {
                Scratchpad::Aligned => Elem::Fixed(decimal(max)),
                _ => Elem::Num(decimal(max)),
            };
            g.push(lit('+'));
            g.push(free(col.max_carry));
            g.push(lit('='));
            g.push(free(col.max_sum));
            g.push(Elem::Lit(STEP));
        }
        g.push(lit('='));
    }
    let answer_len = match op {
        Op::Add => a.len().max(b.len()) + 1,
        Op::Mul => a.len() + b.len(),
    };
    g.push(Elem::Num(vec![9; answer_len].into()));
    g.push(Elem::Lit(EOS));
    g
}

/// One column of the scratchpad: the digit pairs that meet in it and the largest carry in and
/// column sum that digits of these positions can produce.
struct Column {
    /// `(digit of a, digit of b)`: one pair for addition (a missing digit is 0), every pair
    /// `a_i * b_j` with `i + j` = this column for multiplication, by increasing `i`.
    terms: Vec<(u8, u8)>,
    max_carry: u64,
    max_sum: u64,
}

/// The columns of `a op b`, least significant first.
fn columns(op: Op, a: &[u8], b: &[u8]) -> Vec<Column> {
    // Digit i of a number, counted from the least significant, 0 past its end.
    let at = |x: &[u8], i: usize| if i < x.len() { x[x.len() - 1 - i] } else { 0 };
    let n = match op {
        Op::Add => a.len().max(b.len()),
        Op::Mul => a.len() + b.len() - 1,
    };
    let mut cols = Vec::with_capacity(n);
    let mut max_carry = 0u64;
    for k in 0..n {
        let terms: Vec<(u8, u8)> = match op {
            Op::Add => vec![(at(a, k), at(b, k))],
            Op::Mul => {
                let lo = k.saturating_sub(b.len() - 1);
                let hi = k.min(a.len() - 1);
                (lo..=hi).map(|i| (at(a, i), at(b, k - i))).collect()
            }
        };
        let per_term = match op {
            Op::Add => 18,
            Op::Mul => 81,
        };
        let max_sum = per_term * terms.len() as u64 + max_carry;
        cols.push(Column { terms, max_carry, max_sum });
        max_carry = max_sum / 10;
    }
    cols
}

fn decimal(x: u64) -> Box<[u8]> {
    x.to_string().bytes().map(|c| c - b'0').collect()
}

/// Writes the legal next tokens at element `pos`, with `written` the digits of the number in
/// progress there (empty at a literal or before a number's first digit). Sorted, unique.
pub(super) fn legal(g: &[Elem], pos: usize, written: &[Token], out: &mut Vec<Token>) {
    out.clear();
    match g.get(pos) {
        None => {}
        Some(Elem::Lit(t)) => out.push(*t),
        Some(Elem::Num(max)) => {
            let k = written.len();
            let first = written.first().and_then(|&t| vocab::digit_value(t));
            if first != Some(0) {
                // Which next digits keep the number <= max: compare the prefix with max's.
                let limit = if k + 1 < max.len() {
                    9
                } else if k + 1 > max.len() {
                    -1
                } else {
                    let prefix = written.iter().map(|&t| vocab::digit_value(t).unwrap_or(0) as u8);
                    match prefix.cmp(max[..k].iter().copied()) {
                        std::cmp::Ordering::Less => 9,
                        std::cmp::Ordering::Equal => i32::from(max[k]),
                        std::cmp::Ordering::Greater => -1,
                    }
                };
                for d in 0..=limit {
                    out.push(vocab::digit(d as u32));
                }
            }
            if k > 0 {
                if let Some(Elem::Lit(t)) = g.get(pos + 1) {
                    out.push(*t);
                }
            }
            out.sort_unstable();
        }
        Some(Elem::Fixed(max)) => {
            let k = written.len();
            if k == max.len() {
                if let Some(Elem::Lit(t)) = g.get(pos + 1) {
                    out.push(*t);
                }
                return;
            }
            // Leading zeros are digits like any other; only the bound limits the next one.
            let prefix = written.iter().map(|&t| vocab::digit_value(t).unwrap_or(0) as u8);
            let limit = match prefix.cmp(max[..k].iter().copied()) {
                std::cmp::Ordering::Less => 9,
                std::cmp::Ordering::Equal => u32::from(max[k]),
                std::cmp::Ordering::Greater => return,
            };
            out.extend((0..=limit).map(vocab::digit));
        }
    }
}

/// The length of the longest answer the template admits.
pub(super) fn max_len(g: &[Elem]) -> usize {
    g.iter()
        .map(|e| match e {
            Elem::Lit(_) => 1,
            Elem::Num(max) | Elem::Fixed(max) => max.len(),
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text_of(g: &[Elem]) -> String {
        g.iter()
            .map(|e| match e {
                Elem::Lit(t) => vocab::symbol(*t).to_string(),
                Elem::Num(max) => format!("[<={}]", super::super::bignum::text(max)),
                Elem::Fixed(max) => format!("[{} digits <={}]", max.len(), super::super::bignum::text(max)),
            })
            .collect()
    }

    #[test]
    fn addition_templates_pad_the_shorter_operand_and_bound_carries() {
        let g = build(Op::Add, &[3, 4, 7], &[8, 5], Scratchpad::Lsd);
        assert_eq!(
            text_of(&g),
            "7+5+[<=0]=[<=18]<step>4+8+[<=1]=[<=19]<step>3+0+[<=1]=[<=19]<step>=[<=9999]<eos>"
        );
        let g = build(Op::Add, &[3, 4, 7], &[8, 5], Scratchpad::Msd);
        assert!(text_of(&g).starts_with("3+0+[<=1]=[<=19]<step>4+8+"));
    }

    #[test]
    fn aligned_templates_fix_the_width_of_every_carry_and_column_sum() {
        let g = build(Op::Add, &[3, 4, 7], &[8, 5], Scratchpad::Aligned);
        assert_eq!(
            text_of(&g),
            "7+5+[1 digits <=0]=[2 digits <=18]<step>4+8+[1 digits <=1]=[2 digits <=19]<step>\
             3+0+[1 digits <=1]=[2 digits <=19]<step>=[<=9999]<eos>"
        );
        let g = build(Op::Mul, &[1, 2], &[3, 4], Scratchpad::Aligned);
        assert!(text_of(&g)
            .starts_with("2*4+[1 digits <=0]=[2 digits <=81]<step>2*3+1*4+[1 digits <=8]=[3 digits <=170]"));
    }

    #[test]
    fn fixed_numbers_take_leading_zeros_and_end_at_their_width() {
        let g = vec![Elem::Fixed(Box::new([1, 9])), Elem::Lit(STEP)];
        let mut out = Vec::new();
        legal(&g, 0, &[], &mut out);
        assert_eq!(out, vec![vocab::digit(0), vocab::digit(1)], "a tens digit of at most 1, 0 included");
        legal(&g, 0, &[vocab::digit(0)], &mut out);
        assert_eq!(out, (0..10).map(vocab::digit).collect::<Vec<_>>(), "00..=09, no early end");
        legal(&g, 0, &[vocab::digit(1)], &mut out);
        assert_eq!(out.len(), 10, "10..=19");
        legal(&g, 0, &[vocab::digit(0), vocab::digit(4)], &mut out);
        assert_eq!(out, vec![STEP], "two digits written: the step ends");
        let g = vec![Elem::Fixed(Box::new([1, 8])), Elem::Lit(STEP)];
        legal(&g, 0, &[vocab::digit(1)], &mut out);
        assert_eq!(out.len(), 9, "10..=18 under 18");
    }

    #[test]
    fn multiplication_templates_list_every_digit_pair_of_a_column() {
        let g = build(Op::Mul, &[1, 2], &[3, 4], Scratchpad::Lsd);
        assert_eq!(
            text_of(&g),
            "2*4+[<=0]=[<=81]<step>2*3+1*4+[<=8]=[<=170]<step>1*3+[<=17]=[<=98]<step>=[<=9999]<eos>"
        );
    }

    #[test]
    fn numbers_have_no_leading_zeros_and_stay_under_their_bound() {
        let g = vec![Elem::Num(Box::new([1, 9])), Elem::Lit(EOS)];
        let mut out = Vec::new();
        legal(&g, 0, &[], &mut out);
        assert_eq!(out, (0..10).map(vocab::digit).collect::<Vec<_>>());
        legal(&g, 0, &[vocab::digit(0)], &mut out);
        assert_eq!(out, vec![EOS], "nothing follows a leading zero");
        legal(&g, 0, &[vocab::digit(1)], &mut out);
        assert_eq!(out.len(), 11, "10..=19 or the end");
        legal(&g, 0, &[vocab::digit(2)], &mut out);
        assert_eq!(out, vec![EOS], "20 would exceed 19");
        legal(&g, 0, &[vocab::digit(1), vocab::digit(9)], &mut out);
        assert_eq!(out, vec![EOS]);
        let g = vec![Elem::Num(Box::new([0])), Elem::Lit(vocab::ch('='))];
        legal(&g, 0, &[], &mut out);
        assert_eq!(out, vec![vocab::digit(0)], "a carry into the first column is 0");
    }
}
