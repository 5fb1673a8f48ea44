//! STaR's rationalization hint for arithmetic: the answer template with the worked solution
//! written out from the ground truth.
//!
//! In STaR (Zelikman et al. 2022) a model that failed a problem tries again with the correct
//! answer given as a hint, and the rationale it then writes is trained on *as if no hint had been
//! given*. In a column scratchpad the true result fixes every step: the carry into a column is
//! the previous column's sum divided by 10, and the column's sum is its digits plus that carry.
//! So a hint consistent with the answer and with arithmetic leaves nothing free: the hinted
//! template makes every carry, every column sum and the final answer forced literals. (A first
//! version left the final answer to the policy; a policy that has not yet learned to read its
//! own scratchpad then almost never wrote the answer the forced steps implied, so STaR's "keep
//! the rationalizations that reach the right answer" kept almost none. With the answer forced,
//! that filter is vacuous: a rationalization is the worked solution of a problem the policy
//! failed.)
//!
//! The hinted state's tokens are exactly those of the unhinted one; only its legal moves are
//! narrower. A trajectory from it is therefore also a legal trajectory of the plain state, and
//! replaying it there gives the training targets (the hint's tokens become targets wherever the
//! plain state had a choice). This opens the ground truth: only training-data generation may
//! build a hinted state ([`crate::Env::hinted_start`]), never a search or an evaluation.

use super::bignum;
use super::state::Elem;
use super::{Op, Scratchpad};
use crate::vocab;

/// The true carry into and sum of every column of `a op b`, least significant column first.
fn true_columns(op: Op, a: &[u8], b: &[u8]) -> Vec<(u64, u64)> {
    let at = |x: &[u8], i: usize| if i < x.len() { u64::from(x[x.len() - 1 - i]) } else { 0 };
    let n = match op {
        Op::Add => a.len().max(b.len()),
        Op::Mul => a.len() + b.len() - 1,
    };
    let mut out = Vec::with_capacity(n);
    let mut carry = 0u64;
    for k in 0..n {
        let terms: u64 = match op {
            Op::Add => at(a, k) + at(b, k),
            Op::Mul => {
                (0..a.len()).filter(|&i| k >= i && k - i < b.len()).map(|i| at(a, i) * at(b, k - i)).sum()
            }
        };
        let sum = terms + carry;
        out.push((carry, sum));
        carry = sum / 10;
    }
    out
}

/// The template of `a op b` in scratchpad format `pad` (not `None`) with every carry, column sum
/// and the final answer forced to their true values. `truth` is the ground-truth result; `None`
/// if the columns do not agree with it (a caller bug) or there is no scratchpad.
pub(super) fn hinted_template(op: Op, a: &[u8], b: &[u8], pad: Scratchpad, truth: &str) -> Option<Vec<Elem>> {
    if pad == Scratchpad::None || bignum::text(&op.exact(a, b)) != truth {
        return None;
    }
    let mut cols = true_columns(op, a, b);
    if pad == Scratchpad::Msd {
        cols.reverse();
    }
    // The free numbers, in writing order: each column's carry, then its sum; then the answer.
    let mut values =
        cols.into_iter().flat_map(|(c, s)| [c.to_string(), s.to_string()]).chain([truth.to_string()]);
    let template = super::state::build(op, a, b, pad);
    let mut out = Vec::with_capacity(template.len() * 2);
    for e in template {
        match e {
            Elem::Num(_) => out.extend(values.next()?.chars().map(|c| Elem::Lit(vocab::ch(c)))),
            Elem::Fixed(max) => {
                let v = values.next()?;
                let padded = format!("{v:0>width$}", width = max.len());
                out.extend(padded.chars().map(|c| Elem::Lit(vocab::ch(c))));
            }
            other => out.push(other),
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text_of(g: &[Elem]) -> String {
        g.iter()
            .map(|e| match e {
                Elem::Lit(t) => vocab::symbol(*t).to_string(),
                Elem::Num(max) | Elem::Fixed(max) => format!("[<={}]", bignum::text(max)),
            })
            .collect()
    }

    #[test]
    fn the_hint_writes_the_whole_worked_solution() {
        let g = hinted_template(Op::Add, &[3, 4, 7], &[8, 5], Scratchpad::Lsd, "432").unwrap();
        assert_eq!(text_of(&g), "7+5+0=12<step>4+8+1=13<step>3+0+1=4<step>=432<eos>");
        let g = hinted_template(Op::Add, &[3, 4, 7], &[8, 5], Scratchpad::Msd, "432").unwrap();
        assert_eq!(text_of(&g), "3+0+1=4<step>4+8+1=13<step>7+5+0=12<step>=432<eos>");
        let g = hinted_template(Op::Add, &[3, 4, 7], &[8, 5], Scratchpad::Aligned, "432").unwrap();
        assert_eq!(text_of(&g), "7+5+0=12<step>4+8+1=13<step>3+0+1=04<step>=432<eos>");
        let g = hinted_template(Op::Mul, &[1, 2], &[3, 4], Scratchpad::Lsd, "408").unwrap();
        assert_eq!(text_of(&g), "2*4+0=8<step>2*3+1*4+0=10<step>1*3+1=4<step>=408<eos>");
    }

    #[test]
    fn no_hint_without_a_scratchpad_or_with_a_truth_that_disagrees() {
        assert!(hinted_template(Op::Add, &[1], &[2], Scratchpad::None, "3").is_none());
        assert!(hinted_template(Op::Add, &[1], &[2], Scratchpad::Lsd, "4").is_none());
    }
}
