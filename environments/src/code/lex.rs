//! Lexing answers into the lexemes of the subset, from Python text or from vocabulary tokens.
//!
//! The text lexer is Python's, narrowed: what Python would read as one token, it reads as one
//! lexeme or rejects (`1if`, `0x1`, `1e3`, `x1`, `**`, `/`), so that the parser never accepts a
//! text that Python would read differently.

use std::fmt;

use super::lang::{CmpOp, INT_MAX};
use super::parse::{ParseError, MAX_TEXT};
use crate::vocab::{self, Token};

/// One lexeme of the subset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lex {
    Int(i64),
    X,
    Plus,
    Minus,
    Star,
    SlashSlash,
    Percent,
    Cmp(CmpOp),
    And,
    Or,
    Not,
    If,
    Else,
    Abs,
    Min,
    Max,
    LParen,
    RParen,
    Comma,
    End,
}

impl Lex {
    /// The text of a lexeme other than a literal or the end.
    pub(crate) fn symbol(self) -> &'static str {
        match self {
            Lex::Int(_) | Lex::End => "",
            Lex::X => "x",
            Lex::Plus => "+",
            Lex::Minus => "-",
            Lex::Star => "*",
            Lex::SlashSlash => "//",
            Lex::Percent => "%",
            Lex::Cmp(op) => op.symbol(),
            Lex::And => "and",
            Lex::Or => "or",
            Lex::Not => "not",
            Lex::If => "if",
            Lex::Else => "else",
            Lex::Abs => "abs",
            Lex::Min => "min",
            Lex::Max => "max",
            Lex::LParen => "(",
            Lex::RParen => ")",
            Lex::Comma => ",",
        }
    }
}

impl fmt::Display for Lex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Lex::Int(v) => write!(f, "`{v}`"),
            Lex::End => f.write_str("the end"),
            _ => write!(f, "`{}`", self.symbol()),
        }
    }
}

/// The lexeme a non-digit vocabulary token stands for, if it is one of the language's.
pub(crate) fn token_lex(t: Token) -> Option<Lex> {
    const ALL: [Lex; 23] = [
        Lex::X,
        Lex::Plus,
        Lex::Minus,
        Lex::Star,
        Lex::SlashSlash,
        Lex::Percent,
        Lex::Cmp(CmpOp::Lt),
        Lex::Cmp(CmpOp::Le),
        Lex::Cmp(CmpOp::Gt),
        Lex::Cmp(CmpOp::Ge),
        Lex::Cmp(CmpOp::Eq),
        Lex::Cmp(CmpOp::Ne),
        Lex::And,
        Lex::Or,
        Lex::Not,
        Lex::If,
        Lex::Else,
        Lex::Abs,
        Lex::Min,
        Lex::Max,
        Lex::LParen,
        Lex::RParen,
        Lex::Comma,
    ];
    let s = vocab::symbol(t);
    ALL.into_iter().find(|l| l.symbol() == s)
}

pub(crate) fn lex_tokens(tokens: &[Token]) -> Result<Vec<(Lex, usize)>, ParseError> {
    let err = |offset, message: String| ParseError { offset, in_tokens: true, message };
    let mut out: Vec<(Lex, usize)> = Vec::with_capacity(tokens.len() + 1);
    let mut literal: Option<(u64, usize, usize)> = None; // (value, start, digits)
    for (i, &t) in tokens.iter().enumerate() {
        if let Some(d) = vocab::digit_value(t) {
            let (v, start, n) = literal.unwrap_or((0, i, 0));
            if n == 1 && v == 0 {
                return Err(err(start, "leading zeros are not allowed (Python rejects `01`)".into()));
            }
            let v = v * 10 + d as u64;
            if v > INT_MAX as u64 {
                return Err(err(start, "integer literal beyond 10^18".into()));
            }
            literal = Some((v, start, n + 1));
            continue;
        }
        if let Some((v, start, _)) = literal.take() {
            out.push((Lex::Int(v as i64), start));
        }
        let lex = token_lex(t).ok_or_else(|| {
            err(i, format!("token {:?} is not part of the answer language", vocab::symbol(t)))
        })?;
        out.push((lex, i));
    }
    if let Some((v, start, _)) = literal {
        out.push((Lex::Int(v as i64), start));
    }
    out.push((Lex::End, tokens.len()));
    Ok(out)
}

pub(crate) fn lex_text(text: &str) -> Result<Vec<(Lex, usize)>, ParseError> {
    let err = |offset, message: String| ParseError { offset, in_tokens: false, message };
    if text.len() > MAX_TEXT {
        return Err(err(MAX_TEXT, format!("answer longer than {MAX_TEXT} bytes")));
    }
    let lead = text.len() - text.trim_start().len();
    let body = text.trim();
    let bytes = body.as_bytes();
    let mut out = Vec::new();
    let mut parens = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        let at = lead + i;
        let c = bytes[i];
        let two: &[u8] = &bytes[i..bytes.len().min(i + 2)];
        let (lex, len) = match c {
            b' ' | b'\t' | b'\x0c' => {
                i += 1;
                continue;
            }
            b'\n' | b'\r' if parens > 0 => {
                i += 1;
                continue;
            }
            b'\n' | b'\r' => {
                return Err(err(at, "a line break outside parentheses ends a Python expression".into()))
            }
            b'0'..=b'9' => {
                let n = bytes[i..].iter().take_while(|b| b.is_ascii_digit()).count();
                let digits = &body[i..i + n];
                if matches!(bytes.get(i + n), Some(b) if b.is_ascii_alphanumeric() || *b == b'_' || *b == b'.')
                {
                    return Err(err(
                        at,
                        format!("`{digits}` followed by a letter, `_` or `.` is not an integer literal"),
                    ));
                }
                if n > 1 && digits.starts_with('0') {
                    return Err(err(at, format!("leading zeros are not allowed (`{digits}`)")));
                }
                match digits.parse::<i64>() {
                    Ok(v) if v <= INT_MAX => (Lex::Int(v), n),
                    _ => return Err(err(at, "integer literal beyond 10^18".into())),
                }
            }
            b'a'..=b'z' | b'A'..=b'Z' | b'_' => {
                let n = bytes[i..].iter().take_while(|b| b.is_ascii_alphanumeric() || **b == b'_').count();
                let lex = match &body[i..i + n] {
                    "x" => Lex::X,
                    "and" => Lex::And,
                    "or" => Lex::Or,
                    "not" => Lex::Not,
                    "if" => Lex::If,
                    "else" => Lex::Else,
                    "abs" => Lex::Abs,
                    "min" => Lex::Min,
                    "max" => Lex::Max,
                    name => {
                        return Err(err(at, format!("unknown name `{name}` (the names are x, abs, min, max and the keywords and, or, not, if, else)")))
                    }
                };
                (lex, n)
            }
            _ if two == b"//" => (Lex::SlashSlash, 2),
            _ if two == b"<=" => (Lex::Cmp(CmpOp::Le), 2),
            _ if two == b">=" => (Lex::Cmp(CmpOp::Ge), 2),
            _ if two == b"==" => (Lex::Cmp(CmpOp::Eq), 2),
            _ if two == b"!=" => (Lex::Cmp(CmpOp::Ne), 2),
            _ if two == b"**" => return Err(err(at, "`**` is not supported".into())),
            _ if two == b"<<" || two == b">>" => return Err(err(at, "shifts are not supported".into())),
            b'<' => (Lex::Cmp(CmpOp::Lt), 1),
            b'>' => (Lex::Cmp(CmpOp::Gt), 1),
            b'+' => (Lex::Plus, 1),
            b'-' => (Lex::Minus, 1),
            b'*' => (Lex::Star, 1),
            b'%' => (Lex::Percent, 1),
            b',' => (Lex::Comma, 1),
            b'(' => {
                parens += 1;
                (Lex::LParen, 1)
            }
            b')' => {
                parens = parens.saturating_sub(1);
                (Lex::RParen, 1)
            }
            b'/' => return Err(err(at, "true division `/` is not supported (use `//`)".into())),
            _ => {
                let ch = body[i..].chars().next().unwrap_or('?');
                return Err(err(at, format!("character {ch:?} is not part of the answer language")));
            }
        };
        out.push((lex, at));
        i += len;
    }
    out.push((Lex::End, lead + body.len()));
    Ok(out)
}
