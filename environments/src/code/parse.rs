//! Parsing answers, from Python text ([`parse`]) or from vocabulary tokens ([`parse_tokens`]),
//! into an [`Expr`].
//!
//! Both front ends produce the same lexemes, and one recursive-descent parser follows Python's
//! grammar for the subset, loosest binding first:
//!
//! ```text
//! expr    := disj ['if' disj 'else' expr]
//! disj    := conj ('or' conj)*
//! conj    := neg ('and' neg)*
//! neg     := 'not' neg | cmp
//! cmp     := sum [('<'|'<='|'>'|'>='|'=='|'!=') sum]      no chains: a<b<c is rejected
//! sum     := term (('+'|'-') term)*
//! term    := factor (('*'|'//'|'%') factor)*
//! factor  := '-' factor | atom
//! atom    := INT | 'x' | '(' expr ')' | 'abs' '(' expr ')'
//!          | ('min'|'max') '(' expr (',' expr)+ ')'
//! ```
//!
//! The parser never panics and never recurses without bound: nesting deeper than
//! [`MAX_DEPTH`] (parentheses, operator chains, anything) is an error, as is text longer than
//! [`MAX_TEXT`] bytes.

use std::fmt;

use super::lang::{BinOp, Expr};
use super::lex::{lex_text, lex_tokens, Lex};
use crate::vocab::{self, Token};

/// The deepest expression tree accepted. Answers within the token bound stay far below it.
pub const MAX_DEPTH: usize = 100;

/// The longest answer text accepted, in bytes.
pub const MAX_TEXT: usize = 100_000;

/// Why an answer does not parse, and where: a byte offset into the text, or a token index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// Byte offset (text) or token index (tokens) of the offending lexeme.
    pub offset: usize,
    /// Whether `offset` counts tokens rather than bytes.
    pub in_tokens: bool,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let unit = if self.in_tokens { "token" } else { "byte" };
        write!(f, "at {unit} {}: {}", self.offset, self.message)
    }
}

impl std::error::Error for ParseError {}

/// Parses Python text. Whitespace (spaces, tabs) may stand between any two lexemes, and line
/// breaks inside parentheses, as in Python; the text is trimmed first.
pub fn parse(text: &str) -> Result<Expr, ParseError> {
    let lexemes = lex_text(text)?;
    Parser { lex: &lexemes, i: 0, nesting: 0, in_tokens: false }.parse_all()
}

/// The vocabulary tokens of an answer given as text (`x if x>0 else -x` becomes
/// `x if x > 0 else - x`, eight tokens): what the policy would write. Errors as [`parse`]'s lexer.
pub fn to_tokens(text: &str) -> Result<Vec<Token>, ParseError> {
    let mut out = Vec::new();
    for (lex, _) in lex_text(text)? {
        match lex {
            Lex::Int(v) => out.extend(v.to_string().chars().map(vocab::ch)),
            Lex::End => {}
            _ => {
                let s = lex.symbol();
                let mut chars = s.chars();
                out.push(match (chars.next(), chars.next()) {
                    (Some(c), None) => vocab::ch(c),
                    _ => vocab::word(s),
                });
            }
        }
    }
    Ok(out)
}

/// Parses an answer written as vocabulary tokens (no spaces; consecutive digits form one
/// literal). A token outside the language is an error naming it.
pub fn parse_tokens(tokens: &[Token]) -> Result<Expr, ParseError> {
    let lexemes = lex_tokens(tokens)?;
    Parser { lex: &lexemes, i: 0, nesting: 0, in_tokens: true }.parse_all()
}

type Parsed = Result<(Expr, usize), ParseError>; // the tree and its depth

struct Parser<'a> {
    lex: &'a [(Lex, usize)],
    i: usize,
    /// Open recursive productions (parentheses, unary operators): bounds the Rust stack.
    nesting: usize,
    in_tokens: bool,
}

impl Parser<'_> {
    fn peek(&self) -> Lex {
        self.lex.get(self.i).map_or(Lex::End, |l| l.0)
    }

    fn offset(&self) -> usize {
        self.lex.get(self.i).or(self.lex.last()).map_or(0, |l| l.1)
    }

    fn error(&self, message: String) -> ParseError {
        ParseError { offset: self.offset(), in_tokens: self.in_tokens, message }
    }

    fn eat(&mut self, l: Lex) -> bool {
        let hit = self.peek() == l;
        if hit {
            self.i += 1;
        }
        hit
    }

    fn expect(&mut self, l: Lex) -> Result<(), ParseError> {
        if self.eat(l) {
            Ok(())
        } else {
            Err(self.error(format!("expected {l}, found {}", self.peek())))
        }
    }

    /// A node over children whose deepest has depth `child_depth`, checked against the bound.
    fn node(&self, e: Expr, child_depth: usize) -> Parsed {
        if child_depth + 1 > MAX_DEPTH {
            return Err(self.error(format!("expression nested deeper than {MAX_DEPTH}")));
        }
        Ok((e, child_depth + 1))
    }

    fn enter(&mut self) -> Result<(), ParseError> {
        self.nesting += 1;
        if self.nesting > MAX_DEPTH {
            return Err(self.error(format!("expression nested deeper than {MAX_DEPTH}")));
        }
        Ok(())
    }

    fn parse_all(mut self) -> Result<Expr, ParseError> {
        let (e, _) = self.expr()?;
        if self.peek() != Lex::End {
            return Err(self.error(format!("expected an operator or the end, found {}", self.peek())));
        }
        Ok(e)
    }

    fn expr(&mut self) -> Parsed {
        self.enter()?;
        let (then, d1) = self.disj()?;
        let out = if self.eat(Lex::If) {
            let (cond, d2) = self.disj()?;
            self.expect(Lex::Else)?;
            let (orelse, d3) = self.expr()?;
            let e = Expr::If { then: Box::new(then), cond: Box::new(cond), orelse: Box::new(orelse) };
            self.node(e, d1.max(d2).max(d3))?
        } else {
            (then, d1)
        };
        self.nesting -= 1;
        Ok(out)
    }

    fn disj(&mut self) -> Parsed {
        let (mut a, mut d) = self.conj()?;
        while self.eat(Lex::Or) {
            let (b, db) = self.conj()?;
            (a, d) = self.node(Expr::Or(Box::new(a), Box::new(b)), d.max(db))?;
        }
        Ok((a, d))
    }

    fn conj(&mut self) -> Parsed {
        let (mut a, mut d) = self.neg()?;
        while self.eat(Lex::And) {
            let (b, db) = self.neg()?;
            (a, d) = self.node(Expr::And(Box::new(a), Box::new(b)), d.max(db))?;
        }
        Ok((a, d))
    }

    fn neg(&mut self) -> Parsed {
        if self.eat(Lex::Not) {
            self.enter()?;
            let (a, d) = self.neg()?;
            self.nesting -= 1;
            return self.node(Expr::Not(Box::new(a)), d);
        }
        self.cmp()
    }

    fn cmp(&mut self) -> Parsed {
        let (a, da) = self.sum()?;
        let Lex::Cmp(op) = self.peek() else {
            return Ok((a, da));
        };
        self.i += 1;
        let (b, db) = self.sum()?;
        if let Lex::Cmp(_) = self.peek() {
            return Err(self.error(
                "chained comparisons (a < b < c) are not supported; write (a < b) and (b < c)".into(),
            ));
        }
        self.node(Expr::Cmp(op, Box::new(a), Box::new(b)), da.max(db))
    }

    fn sum(&mut self) -> Parsed {
        let (mut a, mut d) = self.term()?;
        loop {
            let op = match self.peek() {
                Lex::Plus => BinOp::Add,
                Lex::Minus => BinOp::Sub,
                _ => return Ok((a, d)),
            };
            self.i += 1;
            let (b, db) = self.term()?;
            (a, d) = self.node(Expr::Bin(op, Box::new(a), Box::new(b)), d.max(db))?;
        }
    }

    fn term(&mut self) -> Parsed {
        let (mut a, mut d) = self.factor()?;
        loop {
            let op = match self.peek() {
                Lex::Star => BinOp::Mul,
                Lex::SlashSlash => BinOp::FloorDiv,
                Lex::Percent => BinOp::Mod,
                _ => return Ok((a, d)),
            };
            self.i += 1;
            let (b, db) = self.factor()?;
            (a, d) = self.node(Expr::Bin(op, Box::new(a), Box::new(b)), d.max(db))?;
        }
    }

    fn factor(&mut self) -> Parsed {
        if self.eat(Lex::Minus) {
            self.enter()?;
            let (a, d) = self.factor()?;
            self.nesting -= 1;
            return self.node(Expr::Neg(Box::new(a)), d);
        }
        self.atom()
    }

    fn atom(&mut self) -> Parsed {
        let found = self.peek();
        match found {
            Lex::Int(v) => {
                self.i += 1;
                Ok((Expr::Int(v), 0))
            }
            Lex::X => {
                self.i += 1;
                Ok((Expr::X, 0))
            }
            Lex::LParen => {
                self.i += 1;
                let e = self.expr()?;
                self.expect(Lex::RParen)?;
                Ok(e)
            }
            Lex::Abs => {
                self.i += 1;
                self.expect(Lex::LParen)?;
                let (a, d) = self.expr()?;
                if self.peek() == Lex::Comma {
                    return Err(self.error("abs takes exactly one argument".into()));
                }
                self.expect(Lex::RParen)?;
                self.node(Expr::Abs(Box::new(a)), d)
            }
            Lex::Min | Lex::Max => {
                self.i += 1;
                self.expect(Lex::LParen)?;
                let (first, mut d) = self.expr()?;
                let mut args = vec![first];
                while self.eat(Lex::Comma) {
                    let (a, da) = self.expr()?;
                    args.push(a);
                    d = d.max(da);
                }
                if args.len() < 2 && self.peek() == Lex::RParen {
                    return Err(self.error(format!("{found} needs at least two arguments")));
                }
                self.expect(Lex::RParen)?;
                let e = if found == Lex::Min { Expr::Min(args) } else { Expr::Max(args) };
                self.node(e, d)
            }
            Lex::Plus => Err(self.error("unary `+` is not supported".into())),
            Lex::Not => Err(self.error(
                "`not` cannot stand here; Python allows it only where a whole condition starts (parenthesise it)".into(),
            )),
            other => Err(self.error(format!("expected an operand, found {other}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::code::lang::Value;

    fn val(text: &str, x: i64) -> Value {
        parse(text).unwrap_or_else(|e| panic!("{text:?}: {e}")).eval(x, 1000).unwrap()
    }

    fn rejects(text: &str, needle: &str) {
        let e = parse(text).expect_err(text).to_string();
        assert!(e.contains(needle), "{text:?}: {e}");
    }

    #[test]
    fn precedence_and_associativity_are_pythons() {
        assert_eq!(val("-7//2", 0), Value::Int(-4)); // (-7)//2
        assert_eq!(val("-2%3", 0), Value::Int(1)); // (-2)%3
        assert_eq!(val("10-3-2", 0), Value::Int(5));
        assert_eq!(val("100//10//5", 0), Value::Int(2));
        assert_eq!(val("not x == 1", 1), Value::Bool(false)); // not (x == 1)
        assert_eq!(val("1 if 0 else 2 if 0 else 3", 0), Value::Int(3));
        assert_eq!(val("0 or 5 and 7", 0), Value::Int(7)); // 0 or (5 and 7)
        assert_eq!(val("x+1 > 2 and x", 3), Value::Int(3));
        assert_eq!(val("(x>1)+(x>2)", 5), Value::Int(2));
    }

    #[test]
    fn whitespace_is_free_between_lexemes() {
        assert_eq!(val("  x if x>0 else -x ", -3), Value::Int(3));
        assert_eq!(val("max( x ,\t2 )", 0), Value::Int(2));
        assert_eq!(val("min(x,\n 2)", 5), Value::Int(2));
        assert_eq!(val("abs (x)", -2), Value::Int(2));
    }

    #[test]
    fn what_python_rejects_or_reads_differently_is_an_error() {
        rejects("x<1<2", "chained");
        rejects("x == not 1", "`not` cannot stand here");
        rejects("1 + not x", "`not` cannot stand here");
        rejects("-not x", "`not` cannot stand here");
        rejects("01", "leading zeros");
        rejects("00", "leading zeros");
        rejects("0x1f", "not an integer literal");
        rejects("1e5", "not an integer literal");
        rejects("1.5", "not an integer literal");
        rejects("1_000", "not an integer literal");
        rejects("xif 1 else 2", "unknown name `xif`");
        rejects("True", "unknown name");
        rejects("x/2", "true division");
        rejects("x**2", "`**`");
        rejects("+x", "unary `+`");
        rejects("min(x)", "two arguments");
        rejects("abs(x, 1)", "one argument");
        rejects("1 if x if 1 else 2 else 3", "expected `else`");
        rejects("x\n+1", "line break");
        rejects("x = 1", "not part of the answer language");
        rejects("min(1, 2,)", "expected an operand");
        rejects("()", "expected an operand");
        rejects("(1, 2)", "expected `)`");
        rejects("x x", "expected an operator or the end");
        rejects("", "expected an operand");
        rejects("1000000000000000001", "beyond 10^18");
        rejects("é", "'é'");
    }

    /// Found by `fuzz.rs` (shrunk to `"੦"`): the lexer sliced two bytes out of a multi-byte
    /// character and panicked.
    #[test]
    fn multibyte_characters_are_errors_not_panics() {
        for text in ["੦", "x+੦", "𑏉🉐%?ੴΌ:ਸ਼%w𑲈`&."] {
            let e = parse(text).unwrap_err().to_string();
            assert!(e.contains("is not part of the answer language"), "{e}");
        }
        assert_eq!(parse("x+੦").unwrap_err().offset, 2);
    }

    #[test]
    fn errors_name_the_byte_offset() {
        let e = parse("x + )").unwrap_err();
        assert_eq!((e.offset, e.in_tokens), (4, false));
        assert!(e.to_string().starts_with("at byte 4: expected an operand, found `)`"), "{e}");
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        let deep = format!("{}x{}", "(".repeat(40_000), ")".repeat(40_000));
        assert!(parse(&deep).unwrap_err().to_string().contains("nested deeper"));
        let chain = vec!["x"; 20_000].join("+");
        assert!(parse(&chain).unwrap_err().to_string().contains("nested deeper"));
        let negs = format!("{}x", "-".repeat(50_000));
        assert!(parse(&negs).unwrap_err().to_string().contains("nested deeper"));
        let nots = format!("{}x", "not ".repeat(20_000));
        assert!(parse(&nots).unwrap_err().to_string().contains("nested deeper"));
        let ok = format!("{}x{}", "(".repeat(MAX_DEPTH - 1), ")".repeat(MAX_DEPTH - 1));
        assert_eq!(parse(&ok), Ok(Expr::X));
    }

    #[test]
    fn tokens_parse_like_their_text() {
        let text = "max(abs(x)//2,x%3)!=1 and not x<=-10";
        let toks = to_tokens(text).unwrap();
        assert_eq!(toks.len(), 22);
        assert_eq!(parse_tokens(&toks), parse(text));
        assert_eq!(crate::code::render(&toks), "max(abs(x)//2, x%3)!=1 and not x<=-10");
        let e = parse_tokens(&vocab::encode("x+(7").unwrap()).unwrap_err();
        assert_eq!((e.offset, e.in_tokens), (4, true), "{e}");
        let e = parse_tokens(&vocab::encode("x+07").unwrap()).unwrap_err();
        assert!(e.to_string().contains("leading zeros"), "{e}");
    }
}
