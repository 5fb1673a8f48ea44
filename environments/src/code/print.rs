//! Printing expressions: as vocabulary tokens with the fewest parentheses that parse back to
//! the same tree ([`Expr::tokens`]), and tokens as Python text ([`render`]).

use std::fmt;

use super::lang::{BinOp, CmpOp, Expr};
use crate::vocab::{self, Token};

// Binding strength, loosest first, as in Python's grammar; printing parenthesises by it.
const P_IF: u8 = 1;
const P_OR: u8 = 2;
const P_AND: u8 = 3;
const P_NOT: u8 = 4;
const P_CMP: u8 = 5;
const P_SUM: u8 = 6;
const P_TERM: u8 = 7;
const P_NEG: u8 = 8;
const P_ATOM: u8 = 9;

impl Expr {
    fn prec(&self) -> u8 {
        match self {
            Expr::If { .. } => P_IF,
            Expr::Or(..) => P_OR,
            Expr::And(..) => P_AND,
            Expr::Not(_) => P_NOT,
            Expr::Cmp(..) => P_CMP,
            Expr::Bin(BinOp::Add | BinOp::Sub, ..) => P_SUM,
            Expr::Bin(..) => P_TERM,
            Expr::Neg(_) => P_NEG,
            Expr::Int(v) if *v < 0 => P_NEG,
            Expr::Int(_) | Expr::X | Expr::Abs(_) | Expr::Min(_) | Expr::Max(_) => P_ATOM,
        }
    }

    /// The expression as vocabulary tokens, with no spaces and the fewest parentheses that
    /// parse back to the same tree: what the policy would write.
    pub fn tokens(&self) -> Vec<Token> {
        let mut out = Vec::new();
        self.write_tokens(P_IF, &mut out);
        out
    }

    /// Appends the tokens, parenthesised if this binds looser than `min_prec`.
    fn write_tokens(&self, min_prec: u8, out: &mut Vec<Token>) {
        let paren = self.prec() < min_prec;
        if paren {
            out.push(vocab::ch('('));
        }
        let word = vocab::word;
        match self {
            Expr::Int(v) => {
                if *v < 0 {
                    out.push(vocab::ch('-'));
                }
                out.extend(v.unsigned_abs().to_string().chars().map(vocab::ch));
            }
            Expr::X => out.push(vocab::ch('x')),
            Expr::Neg(a) => {
                out.push(vocab::ch('-'));
                a.write_tokens(P_NEG, out);
            }
            Expr::Not(a) => {
                out.push(word("not"));
                a.write_tokens(P_NOT, out);
            }
            Expr::Bin(op, a, b) => {
                let p = self.prec();
                a.write_tokens(p, out);
                out.push(match op {
                    BinOp::FloorDiv => word("//"),
                    _ => vocab::ch(op.symbol().chars().next().unwrap_or('+')),
                });
                // Left-associative: a right operand at the same level keeps its parentheses.
                b.write_tokens(p + 1, out);
            }
            Expr::Cmp(op, a, b) => {
                a.write_tokens(P_CMP + 1, out);
                out.push(match op {
                    CmpOp::Lt => vocab::ch('<'),
                    CmpOp::Gt => vocab::ch('>'),
                    _ => word(op.symbol()),
                });
                b.write_tokens(P_CMP + 1, out);
            }
            Expr::And(a, b) | Expr::Or(a, b) => {
                let p = self.prec();
                a.write_tokens(p, out);
                out.push(word(if p == P_AND { "and" } else { "or" }));
                b.write_tokens(p + 1, out);
            }
            Expr::If { then, cond, orelse } => {
                then.write_tokens(P_OR, out);
                out.push(word("if"));
                cond.write_tokens(P_OR, out);
                out.push(word("else"));
                orelse.write_tokens(P_IF, out);
            }
            Expr::Abs(a) => {
                out.extend([word("abs"), vocab::ch('(')]);
                a.write_tokens(P_IF, out);
                out.push(vocab::ch(')'));
            }
            Expr::Min(args) | Expr::Max(args) => {
                out.push(word(if matches!(self, Expr::Min(_)) { "min" } else { "max" }));
                out.push(vocab::ch('('));
                for (i, a) in args.iter().enumerate() {
                    if i > 0 {
                        out.push(vocab::ch(','));
                    }
                    a.write_tokens(P_IF, out);
                }
                out.push(vocab::ch(')'));
            }
        }
        if paren {
            out.push(vocab::ch(')'));
        }
    }
}

impl fmt::Display for Expr {
    /// Python source text: the tokens rendered with [`render`], e.g. `x if x>0 else -x`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&render(&self.tokens()))
    }
}

/// Renders answer tokens as Python text. Keywords (`and or not if else`) get a space on each
/// side, a comma is followed by one, and two tokens that would otherwise fuse into one Python
/// name or number (`x` then `1`) are separated; everything else is written tight:
/// `[x, if, x, >, 0, else, -, x]` renders as `x if x>0 else -x`.
pub fn render(tokens: &[Token]) -> String {
    let mut s = String::new();
    for &t in tokens {
        let sym = vocab::symbol(t);
        let is_keyword = matches!(sym, "and" | "or" | "not" | "if" | "else");
        let fuses = |s: &str| {
            let prev = s.chars().next_back();
            let next = sym.chars().next();
            match (prev, next) {
                (Some(p), Some(n)) => {
                    let word_char = |c: char| c.is_ascii_alphanumeric() || c == '_';
                    word_char(p) && word_char(n) && !(p.is_ascii_digit() && n.is_ascii_digit())
                }
                _ => false,
            }
        };
        if (is_keyword && !s.is_empty() && !s.ends_with(['(', ' '])) || fuses(&s) {
            s.push(' ');
        }
        s.push_str(sym);
        if is_keyword || sym == "," {
            s.push(' ');
        }
    }
    s.truncate(s.trim_end().len());
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn int(v: i64) -> Box<Expr> {
        Box::new(Expr::Int(v))
    }

    #[test]
    fn printing_uses_the_fewest_parentheses() {
        let x = || Box::new(Expr::X);
        let sub = Expr::Bin(BinOp::Sub, x(), Box::new(Expr::Bin(BinOp::Sub, x(), int(1))));
        assert_eq!(sub.to_string(), "x-(x-1)");
        let neg_div = Expr::Neg(Box::new(Expr::Bin(BinOp::FloorDiv, x(), int(2))));
        assert_eq!(neg_div.to_string(), "-(x//2)");
        let cond = Expr::If {
            then: x(),
            cond: Box::new(Expr::Cmp(CmpOp::Gt, x(), int(0))),
            orelse: Box::new(Expr::Neg(x())),
        };
        assert_eq!(cond.to_string(), "x if x>0 else -x");
        let not_and = Expr::Not(Box::new(Expr::And(x(), x())));
        assert_eq!(not_and.to_string(), "not (x and x)");
        let call = Expr::Max(vec![Expr::Abs(x()), Expr::Int(3), Expr::Int(-4)]);
        assert_eq!(call.to_string(), "max(abs(x), 3, -4)");
    }

    #[test]
    fn render_separates_tokens_that_would_fuse() {
        let toks = [vocab::ch('x'), vocab::ch('1'), vocab::ch('2'), vocab::word("abs")];
        assert_eq!(render(&toks), "x 12 abs");
    }
}
