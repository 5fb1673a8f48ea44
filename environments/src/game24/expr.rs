//! Infix expressions over exact rationals: the recursive-descent parser that grades game24
//! answers, and a printer with the fewest parentheses that keep the value.
//!
//! Grammar (spaces allowed between tokens):
//! ```text
//! expr   := term (('+' | '-') term)*
//! term   := factor (('*' | '/') factor)*
//! factor := number | '(' expr ')'
//! number := digit+
//! ```
//! There is no unary minus. Errors name the byte where the text went wrong.

use std::fmt;

use super::rational::{ArithError, Rational};

/// A binary operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
}

impl BinOp {
    pub const ALL: [BinOp; 4] = [BinOp::Add, BinOp::Sub, BinOp::Mul, BinOp::Div];

    pub fn symbol(self) -> char {
        match self {
            BinOp::Add => '+',
            BinOp::Sub => '-',
            BinOp::Mul => '*',
            BinOp::Div => '/',
        }
    }

    pub fn from_symbol(c: char) -> Option<BinOp> {
        BinOp::ALL.into_iter().find(|op| op.symbol() == c)
    }

    fn precedence(self) -> u8 {
        match self {
            BinOp::Add | BinOp::Sub => 1,
            BinOp::Mul | BinOp::Div => 2,
        }
    }

    pub fn apply(self, a: Rational, b: Rational) -> Result<Rational, ArithError> {
        match self {
            BinOp::Add => a.checked_add(b),
            BinOp::Sub => a.checked_sub(b),
            BinOp::Mul => a.checked_mul(b),
            BinOp::Div => a.checked_div(b),
        }
    }
}

/// An expression tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    Num(i64),
    Bin(BinOp, Box<Expr>, Box<Expr>),
}

/// Nesting deeper than this is refused (no legitimate answer comes close; it bounds recursion).
const MAX_DEPTH: usize = 64;

/// Why a text is not an expression, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub message: String,
    /// Byte offset into the text.
    pub at: usize,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}", self.message, self.at)
    }
}

impl Expr {
    /// Parses an infix expression.
    pub fn parse(text: &str) -> Result<Expr, ParseError> {
        let mut p = Parser { text, pos: 0 };
        let e = p.expr(0)?;
        p.skip_spaces();
        match p.peek() {
            None => Ok(e),
            Some(')') => Err(p.error("unmatched ')'")),
            Some(c) => Err(p.error(&format!("expected an operator, found {c:?}"))),
        }
    }

    pub fn bin(op: BinOp, a: Expr, b: Expr) -> Expr {
        Expr::Bin(op, Box::new(a), Box::new(b))
    }

    /// The exact value.
    pub fn eval(&self) -> Result<Rational, ArithError> {
        match self {
            Expr::Num(n) => Ok(Rational::int(*n)),
            Expr::Bin(op, a, b) => op.apply(a.eval()?, b.eval()?),
        }
    }

    /// The numbers, left to right.
    pub fn numbers(&self) -> Vec<i64> {
        let mut out = Vec::new();
        self.collect_numbers(&mut out);
        out
    }

    fn collect_numbers(&self, out: &mut Vec<i64>) {
        match self {
            Expr::Num(n) => out.push(*n),
            Expr::Bin(_, a, b) => {
                a.collect_numbers(out);
                b.collect_numbers(out);
            }
        }
    }

    fn precedence(&self) -> u8 {
        match self {
            Expr::Num(_) => 3,
            Expr::Bin(op, _, _) => op.precedence(),
        }
    }
}

/// Infix with the fewest parentheses that keep the exact value: `(7-8/8)*4`.
impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Num(n) => write!(f, "{n}"),
            Expr::Bin(op, a, b) => {
                let p = op.precedence();
                // The left operand needs parentheses only if it binds more loosely; the right one
                // also at equal precedence under `-` and `/` (a-(b+c), a/(b*c)), which are not
                // associative. Over exact rationals a+(b-c) = a+b-c and a*(b/c) = a*b/c.
                let left_paren = a.precedence() < p;
                let right_paren =
                    b.precedence() < p || (b.precedence() == p && matches!(op, BinOp::Sub | BinOp::Div));
                wrap(f, a, left_paren)?;
                write!(f, "{}", op.symbol())?;
                wrap(f, b, right_paren)
            }
        }
    }
}

fn wrap(f: &mut fmt::Formatter<'_>, e: &Expr, paren: bool) -> fmt::Result {
    if paren {
        write!(f, "({e})")
    } else {
        write!(f, "{e}")
    }
}

struct Parser<'a> {
    text: &'a str,
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<char> {
        self.text[self.pos..].chars().next()
    }

    fn skip_spaces(&mut self) {
        while self.peek() == Some(' ') {
            self.pos += 1;
        }
    }

    fn error(&self, message: &str) -> ParseError {
        ParseError { message: message.to_string(), at: self.pos }
    }

    fn expr(&mut self, depth: usize) -> Result<Expr, ParseError> {
        let mut e = self.term(depth)?;
        loop {
            self.skip_spaces();
            let op = match self.peek() {
                Some('+') => BinOp::Add,
                Some('-') => BinOp::Sub,
                _ => return Ok(e),
            };
            self.pos += 1;
            e = Expr::bin(op, e, self.term(depth)?);
        }
    }

    fn term(&mut self, depth: usize) -> Result<Expr, ParseError> {
        let mut e = self.factor(depth)?;
        loop {
            self.skip_spaces();
            let op = match self.peek() {
                Some('*') => BinOp::Mul,
                Some('/') => BinOp::Div,
                _ => return Ok(e),
            };
            self.pos += 1;
            e = Expr::bin(op, e, self.factor(depth)?);
        }
    }

    fn factor(&mut self, depth: usize) -> Result<Expr, ParseError> {
        self.skip_spaces();
        match self.peek() {
            Some('(') => {
                if depth >= MAX_DEPTH {
                    return Err(self.error(&format!("parentheses nested deeper than {MAX_DEPTH}")));
                }
                let open = self.pos;
                self.pos += 1;
                let e = self.expr(depth + 1)?;
                self.skip_spaces();
                if self.peek() != Some(')') {
                    let found = self.peek().map_or("the end".to_string(), |c| format!("{c:?}"));
                    return Err(
                        self.error(&format!("expected ')' closing the '(' at byte {open}, found {found}"))
                    );
                }
                self.pos += 1;
                Ok(e)
            }
            Some(c) if c.is_ascii_digit() => {
                let start = self.pos;
                while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                    self.pos += 1;
                }
                self.text[start..self.pos]
                    .parse::<i64>()
                    .map(Expr::Num)
                    .map_err(|_| ParseError { message: "number too large".into(), at: start })
            }
            Some(c) => Err(self.error(&format!("expected a number or '(', found {c:?}"))),
            None => Err(self.error("expected a number or '(', found the end")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn value(text: &str) -> String {
        Expr::parse(text).unwrap().eval().unwrap().to_string()
    }

    #[test]
    fn precedence_associativity_and_spaces() {
        assert_eq!(value("(7-8/8)*4"), "24");
        assert_eq!(value("8 / (3 - 8/3)"), "24");
        assert_eq!(value("1-2-3"), "-4");
        assert_eq!(value("12/3/2"), "2");
        assert_eq!(value("2+3*4"), "14");
        assert_eq!(value("((13))"), "13");
        assert_eq!(Expr::parse("4*(6+0)").unwrap().numbers(), vec![4, 6, 0]);
    }

    #[test]
    fn errors_name_the_byte() {
        for (text, want) in [
            ("", "found the end at byte 0"),
            ("4*", "found the end at byte 2"),
            ("(7-8", "expected ')' closing the '(' at byte 0, found the end at byte 4"),
            ("7)", "unmatched ')' at byte 1"),
            ("7 8", "expected an operator, found '8' at byte 2"),
            ("-4", "found '-' at byte 0"),
            ("3+é", "found 'é' at byte 2"),
            ("99999999999999999999+1", "number too large at byte 0"),
        ] {
            let e = Expr::parse(text).unwrap_err().to_string();
            assert!(e.contains(want), "{text:?}: {e}");
        }
        let deep = "(".repeat(100_000);
        assert!(Expr::parse(&deep).unwrap_err().message.contains("nested deeper"));
    }

    #[test]
    fn evaluation_errors_are_values_not_panics() {
        assert_eq!(Expr::parse("1/(2-2)").unwrap().eval(), Err(ArithError::DivisionByZero));
        let big = "9999999999*9999999999*9999999999";
        assert_eq!(Expr::parse(big).unwrap().eval(), Err(ArithError::Overflow));
    }

    #[test]
    fn printing_keeps_only_needed_parentheses() {
        for (text, printed) in [
            ("(7-8/8)*4", "(7-8/8)*4"),
            ("((1+2)+3)+4", "1+2+3+4"),
            ("1-(2+3)", "1-(2+3)"),
            ("1+(2-3)", "1+2-3"),
            ("8/(3-8/3)", "8/(3-8/3)"),
            ("8/(3*2)", "8/(3*2)"),
            ("(8*3)/(2/1)", "8*3/(2/1)"),
            ("(1+2)*(3+4)", "(1+2)*(3+4)"),
        ] {
            assert_eq!(Expr::parse(text).unwrap().to_string(), printed);
        }
    }

    /// Random trees over small numbers, for the printer.
    fn tree() -> impl Strategy<Value = Expr> {
        let leaf = (0i64..14).prop_map(Expr::Num);
        leaf.prop_recursive(4, 16, 2, |inner| {
            (0usize..4, inner.clone(), inner).prop_map(|(op, a, b)| Expr::bin(BinOp::ALL[op], a, b))
        })
    }

    proptest! {
        #[test]
        fn parsing_arbitrary_text_never_panics(text in "\\PC{0,40}") {
            if let Ok(e) = Expr::parse(&text) {
                let _ = e.eval();
            }
        }

        #[test]
        fn parsing_expression_like_text_never_panics(text in "[0-9()+\\-*/ ]{0,60}") {
            if let Ok(e) = Expr::parse(&text) {
                let _ = e.eval();
            }
        }

        #[test]
        fn printed_trees_parse_back_to_the_same_value(e in tree()) {
            let back = Expr::parse(&e.to_string()).unwrap();
            prop_assert_eq!(back.eval(), e.eval());
            prop_assert_eq!(back.numbers(), e.numbers());
        }
    }
}
