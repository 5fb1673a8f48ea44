//! The one symbol-level vocabulary that every environment writes in.
//!
//! Everything is text (DESIGN.md): a game is its move history, a task is its prompt followed by
//! the answer so far. Every environment speaks in the same [`Token`]s, so one policy architecture
//! and one search serve them all.
//!
//! The table is fixed: a token's id is its index in [`SYMBOLS`] and never changes, so a
//! checkpoint trained today reads tomorrow's tasks. Checkpoints store the table anyway and refuse
//! to load against a different one.
//!
//! | ids | symbols |
//! | --- | --- |
//! | 0..5 | `<pad>`, `<bos>`, `<eos>`, `<sep>` (prompt ends, answer starts), `<step>` (a reasoning step ends) |
//! | 5.. | characters: digits, space, newline, operators and punctuation, letters `a`..`z` |
//! | .. | multi-character words of the code and game24 formats: `//`, `<=`, `and`, `left:`, ... |
//! | last 121 | board cells `a1`..`k11`: column letter from `a`, row number from `1` at the top |

use crate::EnvError;

/// A symbol of the shared vocabulary: its index in [`SYMBOLS`].
pub type Token = u16;

/// Padding (never produced by an environment).
pub const PAD: Token = 0;
/// Start of every token sequence.
pub const BOS: Token = 1;
/// End of an answer: the action that finishes a text task.
pub const EOS: Token = 2;
/// Separates a task's prompt from its answer.
pub const SEP: Token = 3;
/// Ends one reasoning step (step-wise formats, scratchpads).
pub const STEP: Token = 4;

/// The largest board side that has cell tokens (Hex goes up to 11 x 11).
pub const MAX_SIDE: usize = 11;

const SPECIALS: [&str; 5] = ["<pad>", "<bos>", "<eos>", "<sep>", "<step>"];
const CHARS: &str = "0123456789 \n+-*/%()=<>!,:.;?|_abcdefghijklmnopqrstuvwxyz";
const WORDS: [&str; 14] =
    ["//", "<=", ">=", "==", "!=", "and", "or", "not", "if", "else", "abs", "min", "max", "left:"];

/// Number of symbols in the vocabulary.
pub const VOCAB_SIZE: usize = SPECIALS.len() + CHARS.len() + WORDS.len() + MAX_SIDE * MAX_SIDE;

/// Id of the first cell token (`a1`).
pub const FIRST_CELL: Token = (SPECIALS.len() + CHARS.len() + WORDS.len()) as Token;

/// Every symbol, in id order. Built once.
pub fn symbols() -> &'static [String] {
    use std::sync::OnceLock;
    static TABLE: OnceLock<Vec<String>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut t: Vec<String> = SPECIALS.iter().map(|s| s.to_string()).collect();
        t.extend(CHARS.chars().map(|c| c.to_string()));
        t.extend(WORDS.iter().map(|s| s.to_string()));
        for row in 0..MAX_SIDE {
            for col in 0..MAX_SIDE {
                t.push(cell_name(row, col));
            }
        }
        debug_assert_eq!(t.len(), VOCAB_SIZE);
        t
    })
}

/// The text of one token.
pub fn symbol(token: Token) -> &'static str {
    symbols().get(token as usize).map(String::as_str).unwrap_or("<?>")
}

/// The token of a single character, if the vocabulary has one.
pub fn char_token(c: char) -> Option<Token> {
    CHARS.find(c).map(|i| (SPECIALS.len() + i) as Token)
}

/// The token of a character that is known to be in the vocabulary (digits, operators...).
///
/// # Panics
/// If `c` is not in the vocabulary: for constants in environment code only.
pub fn ch(c: char) -> Token {
    char_token(c).unwrap_or_else(|| panic!("{c:?} is not in the vocabulary"))
}

/// The token of a digit 0..=9.
pub fn digit(d: u32) -> Token {
    debug_assert!(d < 10);
    SPECIALS.len() as Token + d as Token
}

/// The digit a token stands for, if it is a digit token.
pub fn digit_value(t: Token) -> Option<u32> {
    let first = SPECIALS.len() as Token;
    (first..first + 10).contains(&t).then(|| (t - first) as u32)
}

/// The token of a multi-character word (`//`, `and`, `left:`...).
///
/// # Panics
/// If `w` is not one of the words: for constants in environment code only.
pub fn word(w: &str) -> Token {
    let i = WORDS.iter().position(|x| *x == w).unwrap_or_else(|| panic!("{w:?} is not a vocabulary word"));
    (SPECIALS.len() + CHARS.len() + i) as Token
}

/// The cell token of (row, col), both from 0, row 0 at the top.
pub fn cell(row: usize, col: usize) -> Token {
    debug_assert!(row < MAX_SIDE && col < MAX_SIDE);
    FIRST_CELL + (row * MAX_SIDE + col) as Token
}

/// (row, col) of a cell token, if it is one.
pub fn cell_coords(t: Token) -> Option<(usize, usize)> {
    let i = t.checked_sub(FIRST_CELL)? as usize;
    (i < MAX_SIDE * MAX_SIDE).then_some((i / MAX_SIDE, i % MAX_SIDE))
}

/// `a1` for (0, 0): column letter from `a`, row number from 1 at the top (GTP/HexGui style).
pub fn cell_name(row: usize, col: usize) -> String {
    format!("{}{}", (b'a' + col as u8) as char, row + 1)
}

/// Parses a cell name such as `c3` (case-insensitive) into (row, col), checked against a board
/// of `rows` x `cols`.
pub fn parse_cell(text: &str, rows: usize, cols: usize) -> Result<(usize, usize), EnvError> {
    let t = text.trim().to_ascii_lowercase();
    let bad = || {
        EnvError::BadMove(format!(
            "{text:?} is not a cell of a {cols}x{rows} board (columns a..{}, rows 1..{rows})",
            (b'a' + cols as u8 - 1) as char
        ))
    };
    let mut chars = t.chars();
    let c = chars.next().ok_or_else(bad)?;
    if !c.is_ascii_lowercase() {
        return Err(bad());
    }
    let col = (c as u8 - b'a') as usize;
    let row: usize = chars.as_str().parse().map_err(|_| bad())?;
    if col >= cols || row == 0 || row > rows {
        return Err(bad());
    }
    Ok((row - 1, col))
}

/// Encodes text (a prompt or an answer) into tokens: the longest vocabulary word first, then
/// single characters. Cell tokens are never produced here (games write them directly).
///
/// An unknown character is an error that names it and its position.
pub fn encode(text: &str) -> Result<Vec<Token>, EnvError> {
    let mut out = Vec::with_capacity(text.len());
    encode_into(text, &mut out)?;
    Ok(out)
}

/// [`encode`], appending to `out`.
pub fn encode_into(text: &str, out: &mut Vec<Token>) -> Result<(), EnvError> {
    let mut rest = text;
    let mut pos = 0;
    'outer: while !rest.is_empty() {
        for (i, w) in WORDS.iter().enumerate() {
            if rest.starts_with(w) && word_boundary_ok(w, &rest[w.len()..]) {
                out.push((SPECIALS.len() + CHARS.len() + i) as Token);
                rest = &rest[w.len()..];
                pos += w.len();
                continue 'outer;
            }
        }
        let c = rest.chars().next().expect("rest is not empty");
        let t = char_token(c).ok_or_else(|| {
            EnvError::BadText(format!("character {c:?} at byte {pos} of {text:?} is not in the vocabulary"))
        })?;
        out.push(t);
        rest = &rest[c.len_utf8()..];
        pos += c.len_utf8();
    }
    Ok(())
}

/// Alphabetic words only match whole words (`or` is not read out of `order`).
fn word_boundary_ok(w: &str, after: &str) -> bool {
    let alpha_word = w.chars().all(|c| c.is_ascii_alphabetic());
    !alpha_word || !after.starts_with(|c: char| c.is_ascii_alphabetic())
}

/// Decodes tokens into text; special tokens print as their names, cells as `a1`.
pub fn decode(tokens: &[Token]) -> String {
    let mut s = String::new();
    for &t in tokens {
        s.push_str(symbol(t));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_then_decode_round_trips_every_format() {
        for text in [
            "347+85",
            "12*34",
            "4 7 8 8",
            "(7-8/8)*4",
            "8/8=1 (left: 1 4 7)",
            "f(3) = 7\nf(-2) = -3",
            "x if x>=0 else -x",
            "max(abs(x)//2,x%3) != 1 and not x",
        ] {
            let toks = encode(text).unwrap();
            assert_eq!(decode(&toks), text);
        }
    }

    #[test]
    fn words_are_single_tokens_and_respect_word_boundaries() {
        assert_eq!(encode("x//2").unwrap().len(), 3);
        assert_eq!(encode("not").unwrap(), vec![word("not")]);
        // "orx" is not the word "or" followed by x: letters only.
        assert_eq!(encode("orx").unwrap().len(), 3);
    }

    #[test]
    fn unknown_character_is_an_error_naming_it() {
        let e = encode("3+é").unwrap_err().to_string();
        assert!(e.contains("'é'") && e.contains("byte 2"), "{e}");
    }

    #[test]
    fn cells_round_trip_and_reject_out_of_board() {
        for r in 0..MAX_SIDE {
            for c in 0..MAX_SIDE {
                let t = cell(r, c);
                assert_eq!(cell_coords(t), Some((r, c)));
                assert_eq!(parse_cell(symbol(t), 11, 11).unwrap(), (r, c));
            }
        }
        assert_eq!(parse_cell("C3", 3, 3).unwrap(), (2, 2));
        assert!(parse_cell("d1", 3, 3).is_err());
        assert!(parse_cell("a0", 3, 3).is_err());
        assert!(parse_cell("", 3, 3).is_err());
        assert!(parse_cell("1a", 3, 3).is_err());
        assert_eq!(cell_coords(EOS), None);
    }

    #[test]
    fn table_has_no_duplicate_symbols() {
        let s = symbols();
        let set: std::collections::HashSet<_> = s.iter().collect();
        assert_eq!(set.len(), s.len());
        assert_eq!(s.len(), VOCAB_SIZE);
    }
}
