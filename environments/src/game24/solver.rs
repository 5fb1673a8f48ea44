//! The exact game24 solver: every way of combining two numbers with `+ - * /`, recursively, over
//! exact fractions. Four numbers have 3,888 combination orders; the search backtracks in place
//! and allocates nothing until it builds the expression of a solution.
//!
//! The search keeps fractions unreduced (no gcd on the hot path) with checked `i64` arithmetic:
//! a branch that would overflow is skipped, which never happens for numbers up to 13.

use super::expr::{BinOp, Expr};

/// An unreduced fraction `n/d` with `d > 0`.
#[derive(Debug, Clone, Copy)]
struct Frac {
    n: i64,
    d: i64,
}

impl Frac {
    fn apply(op: BinOp, a: Frac, b: Frac) -> Option<Frac> {
        let (n, d) = match op {
            BinOp::Add => (a.n.checked_mul(b.d)?.checked_add(b.n.checked_mul(a.d)?)?, a.d.checked_mul(b.d)?),
            BinOp::Sub => (a.n.checked_mul(b.d)?.checked_sub(b.n.checked_mul(a.d)?)?, a.d.checked_mul(b.d)?),
            BinOp::Mul => (a.n.checked_mul(b.n)?, a.d.checked_mul(b.d)?),
            BinOp::Div if b.n == 0 => return None,
            BinOp::Div => {
                let (n, d) = (a.n.checked_mul(b.d)?, a.d.checked_mul(b.n)?);
                if d < 0 {
                    (n.checked_neg()?, d.checked_neg()?)
                } else {
                    (n, d)
                }
            }
        };
        Some(Frac { n, d })
    }

    fn is(self, target: i64) -> bool {
        self.d.checked_mul(target) == Some(self.n)
    }
}

/// One way to combine the pair `(a, b)` (`a` the earlier of the two in the list).
#[derive(Debug, Clone, Copy)]
enum Move {
    Add,
    Mul,
    Sub,
    RevSub,
    Div,
    RevDiv,
}

const MOVES: [Move; 6] = [Move::Add, Move::Mul, Move::Sub, Move::RevSub, Move::Div, Move::RevDiv];

impl Move {
    fn parts(self) -> (BinOp, bool) {
        match self {
            Move::Add => (BinOp::Add, false),
            Move::Mul => (BinOp::Mul, false),
            Move::Sub => (BinOp::Sub, false),
            Move::RevSub => (BinOp::Sub, true),
            Move::Div => (BinOp::Div, false),
            Move::RevDiv => (BinOp::Div, true),
        }
    }
}

/// Whether `numbers` can make 24 (each used once, `+ - * /` and parentheses, exact rationals);
/// with `nonneg`, only through intermediate results that are never negative.
pub(crate) fn solvable(numbers: &[u32], nonneg: bool) -> bool {
    let mut vals: Vec<Frac> = numbers.iter().map(|&n| Frac { n: i64::from(n), d: 1 }).collect();
    !vals.is_empty() && search(&mut vals, &mut Vec::new(), nonneg)
}

/// An expression that makes 24 from `numbers`, each used exactly once, with the fewest
/// parentheses: `solve(&[4, 7, 8, 8])` is `Some("(7-8/8)*4")`-like; `None` if there is none.
/// The search is exhaustive (its cost grows steeply past six numbers).
pub fn solve(numbers: &[u32]) -> Option<String> {
    let mut vals: Vec<Frac> = numbers.iter().map(|&n| Frac { n: i64::from(n), d: 1 }).collect();
    let mut path = Vec::new();
    if vals.is_empty() || !search(&mut vals, &mut path, false) {
        return None;
    }
    let mut exprs: Vec<Expr> = numbers.iter().map(|&n| Expr::Num(i64::from(n))).collect();
    for (i, j, m) in path {
        let b = exprs.swap_remove(j);
        let a = std::mem::replace(&mut exprs[i], Expr::Num(0));
        let (op, rev) = m.parts();
        exprs[i] = if rev { Expr::bin(op, b, a) } else { Expr::bin(op, a, b) };
    }
    Some(exprs[0].to_string())
}

/// Depth-first search; on success `path` holds the pairs combined, in order. Pair `(i, j)` with
/// `i < j`: the result takes slot `i`, slot `j` is filled by the last value (`swap_remove`).
fn search(vals: &mut Vec<Frac>, path: &mut Vec<(usize, usize, Move)>, nonneg: bool) -> bool {
    let n = vals.len();
    if n == 1 {
        return vals[0].is(24);
    }
    if n == 2 {
        // The last combination, checked in place: half of all the nodes of the search are here.
        let hit = MOVES.into_iter().find(|&m| {
            let (op, rev) = m.parts();
            let r = if rev { Frac::apply(op, vals[1], vals[0]) } else { Frac::apply(op, vals[0], vals[1]) };
            r.is_some_and(|r| r.is(24))
        });
        if let Some(m) = hit {
            path.push((0, 1, m));
        }
        return hit.is_some();
    }
    for i in 0..n {
        for j in i + 1..n {
            let (a, b) = (vals[i], vals[j]);
            for m in MOVES {
                let (op, rev) = m.parts();
                let r = if rev { Frac::apply(op, b, a) } else { Frac::apply(op, a, b) };
                let Some(r) = r else { continue };
                if nonneg && r.n < 0 {
                    continue;
                }
                vals[i] = r;
                vals.swap_remove(j);
                path.push((i, j, m));
                if search(vals, path, nonneg) {
                    return true;
                }
                path.pop();
                vals.push(b);
                let last = vals.len() - 1;
                vals.swap(j, last);
                vals[i] = a;
            }
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(numbers: &[u32]) -> bool {
        match solve(numbers) {
            None => false,
            Some(text) => {
                let e = Expr::parse(&text).unwrap();
                assert_eq!(e.eval(), Ok(super::super::Rational::int(24)), "{text}");
                let mut used: Vec<i64> = e.numbers();
                used.sort_unstable();
                let mut want: Vec<i64> = numbers.iter().map(|&n| i64::from(n)).collect();
                want.sort_unstable();
                assert_eq!(used, want, "{text}");
                true
            }
        }
    }

    #[test]
    fn solves_the_classics_and_refuses_the_impossible() {
        assert!(check(&[4, 7, 8, 8]));
        assert!(check(&[3, 3, 8, 8]), "needs 8/(3-8/3)");
        assert!(check(&[1, 5, 5, 5]), "needs 5*(5-1/5)");
        assert!(check(&[24]));
        assert!(check(&[2, 3, 4]));
        assert!(!check(&[1, 1, 1, 1]));
        assert!(!check(&[13, 13, 13, 13]));
        assert!(!check(&[]));
        assert_eq!(solve(&[3, 3, 8, 8]).unwrap(), "8/(3-8/3)");
    }
}
