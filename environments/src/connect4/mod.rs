//! Connect four on the standard 7 x 6 board, with an exact bitboard solver.
//!
//! ## Rules
//! Two players alternate dropping stones into one of 7 columns; a stone falls to the lowest empty
//! cell of its column. `X` (player 0, GTP colour `b`) moves first. Four in a row, horizontally,
//! vertically or diagonally, wins; a full board (42 stones) without a line is a draw. Perfect
//! play wins for the first player (Allis, 1988), starting in the centre column.
//!
//! ## Text format
//! The state is the move history, one cell token per move naming the cell the stone lands in:
//! column letter `a`..`g`, row number `1`..`6` counted from the top, so the first stone in the
//! centre column is `d6`. `d6 d5 c6` is X in the centre, O on top of it, X to its left. Tokens:
//! `<bos> d6 d5 c6`. People and GTP may type the column letter alone (`d`); the cell is then the
//! column's landing cell.
//!
//! ## Parameters
//! None. Name: `connect4`.
//!
//! ## Solver
//! [`Solver`] is a negamax search with alpha-beta, null windows, centre-first and threat-first
//! move ordering, and a transposition table, after Pascal Pons' solver. It solves random positions
//! with 12 stones in 44 ms on average and under a second at worst, later ones faster (see
//! `environments/docs/connect4.md`); [`sample_positions`] draws a reproducible set of positions to
//! grade against it, and as the evaluator's [`crate::Oracle`] it answers from
//! [`ORACLE_MIN_STONES`] stones on.

mod solver;

use std::fmt;

use crate::spec::{EnvInfo, Params};
use crate::vocab::{self, Token, BOS};
use crate::{Env, EnvError, Grade, Kind, State, Task, Truth, TruthInner};

pub use solver::{sample_positions, Solver, ORACLE_MIN_STONES};

pub const INFO: EnvInfo = EnvInfo {
    name: "connect4",
    summary: "connect four 7x6; exact alpha-beta solver (first player wins)",
    params: &[],
};

/// Columns on the board.
pub const WIDTH: usize = 7;
/// Rows on the board.
pub const HEIGHT: usize = 6;
/// Cells on the board: the longest game.
pub const CELLS: usize = WIDTH * HEIGHT;

/// Bits per column in a bitboard: six cells and an always-empty sentinel on top, so that shifts
/// along rows and diagonals never carry a line from one column into the next.
const STRIDE: usize = HEIGHT + 1;
/// The bottom cell of every column.
const BOTTOM: u64 = {
    let mut b = 0;
    let mut c = 0;
    while c < WIDTH {
        b |= 1 << (c * STRIDE);
        c += 1;
    }
    b
};
/// Every cell of the board (no sentinels).
const BOARD: u64 = BOTTOM * ((1 << HEIGHT) - 1);

/// Positions graded for the optimal-move rate when the evaluator asks for "all" (there are
/// trillions).
pub const GRADED_POSITIONS: usize = 200;

/// The connect-four environment (it has no parameters).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Connect4;

/// A connect-four position: two bitboards and the move history as tokens. Plain data, 104 bytes:
/// a clone is a copy.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Connect4State {
    /// Stones of each player, bit `7 * col + height` (height 0 at the bottom).
    stones: [u64; 2],
    /// `<bos>` then one cell token per move.
    tokens: [Token; CELLS + 1],
    len: u8,
    /// Whether the last move made four in a row.
    won: bool,
}

impl Connect4 {
    pub(crate) fn from_params(_p: &mut Params) -> Result<Self, EnvError> {
        Ok(Connect4)
    }
}

impl Default for Connect4State {
    fn default() -> Self {
        let mut tokens = [0; CELLS + 1];
        tokens[0] = BOS;
        Connect4State { stones: [0, 0], tokens, len: 1, won: false }
    }
}

impl Connect4State {
    /// Number of stones on the board.
    pub fn moves(&self) -> usize {
        self.len as usize - 1
    }

    /// The stone at cell (row, col), row 0 at the top: `Some(0)` for X, `Some(1)` for O.
    pub fn at(&self, row: usize, col: usize) -> Option<usize> {
        if row >= HEIGHT || col >= WIDTH {
            return None;
        }
        let bit = 1 << (col * STRIDE + HEIGHT - 1 - row);
        (0..2).find(|&p| self.stones[p] & bit != 0)
    }

    /// Stones in column `col` (0..7; 0 for a column off the board).
    pub fn height(&self, col: usize) -> usize {
        if col >= WIDTH {
            return 0;
        }
        (self.mask() >> (col * STRIDE) & ((1 << HEIGHT) - 1)).count_ones() as usize
    }

    /// The winner, once someone has four in a row.
    pub fn winner(&self) -> Option<usize> {
        self.won.then(|| (self.moves() + 1) % 2)
    }

    /// Every occupied cell.
    fn mask(&self) -> u64 {
        self.stones[0] | self.stones[1]
    }

    /// The bitboards the solver works on: the stones of the player to move, and every stone.
    fn bitboards(&self) -> (u64, u64) {
        (self.stones[self.moves() % 2], self.mask())
    }

    /// Builds a position from a board diagram, rows top to bottom, `X` / `O` / `.` per cell; any
    /// other character (row numbers, column letters, spaces) is ignored, so [`State::render`]'s
    /// output reads back. The side to move follows from the stone counts. A move history that
    /// reaches the diagram is reconstructed (any one: the tokens are a history, not the board).
    pub fn from_diagram(diagram: &str) -> Result<Self, EnvError> {
        let bad = |why: String| EnvError::BadPrompt(format!("connect-four diagram: {why}"));
        let rows: Vec<Vec<char>> = diagram
            .lines()
            .map(|l| l.chars().filter(|c| matches!(c, 'X' | 'O' | '.')).collect::<Vec<_>>())
            .filter(|r| !r.is_empty())
            .collect();
        if rows.len() != HEIGHT || rows.iter().any(|r| r.len() != WIDTH) {
            return Err(bad(format!("expected {HEIGHT} rows of {WIDTH} cells (X, O or .)")));
        }
        // want[p]: the cells player p holds, as a bitboard.
        let mut want = [0u64; 2];
        for (r, row) in rows.iter().enumerate() {
            for (c, &ch) in row.iter().enumerate() {
                let bit = 1 << (c * STRIDE + HEIGHT - 1 - r);
                match ch {
                    'X' => want[0] |= bit,
                    'O' => want[1] |= bit,
                    _ => {}
                }
            }
        }
        let all = want[0] | want[1];
        for c in 0..WIDTH {
            let col = all >> (c * STRIDE) & ((1 << HEIGHT) - 1);
            if col & (col + 1) != 0 {
                return Err(bad(format!("column {} has a stone above an empty cell", col_letter(c))));
            }
        }
        let (x, o) = (want[0].count_ones(), want[1].count_ones());
        if x != o && x != o + 1 {
            return Err(bad(format!("{x} X and {o} O stones: X moves first, so X = O or O + 1")));
        }
        let mut failed = std::collections::HashSet::new();
        let mut state = Connect4State::default();
        if reach(&mut state, want, &mut failed) {
            Ok(state)
        } else {
            Err(bad("no game reaches it (a line was completed before the last stone)".into()))
        }
    }
}

/// Extends `state` towards the board `want` by a depth-first search over move orders; `failed`
/// holds the occupied-cell masks known not to lead there.
fn reach(state: &mut Connect4State, want: [u64; 2], failed: &mut std::collections::HashSet<u64>) -> bool {
    let target = want[0] | want[1];
    if state.mask() == target {
        return true;
    }
    if state.won || failed.contains(&state.mask()) {
        return false;
    }
    let p = state.to_play();
    let mut next = (state.mask() + BOTTOM) & want[p] & !state.mask();
    while next != 0 {
        let bit = next & next.wrapping_neg();
        next &= next - 1;
        let i = bit.trailing_zeros() as usize;
        let mut child = *state;
        child.apply(vocab::cell(HEIGHT - 1 - i % STRIDE, i / STRIDE));
        if reach(&mut child, want, failed) {
            *state = child;
            return true;
        }
    }
    failed.insert(state.mask());
    false
}

impl State for Connect4State {
    fn tokens(&self) -> &[Token] {
        &self.tokens[..self.len as usize]
    }

    fn legal_actions(&self, out: &mut Vec<Token>) {
        out.clear();
        if self.is_terminal() {
            return;
        }
        // The landing cell of every open column. Token ids grow with (row from the top, column),
        // so walking heights from the top row down, columns left to right, writes them sorted.
        let landing = (self.mask() + BOTTOM) & BOARD;
        out.resize(landing.count_ones() as usize, 0);
        let mut slots = out.iter_mut();
        for h in (0..HEIGHT).rev() {
            let mut row = landing & (BOTTOM << h);
            while row != 0 {
                let col = row.trailing_zeros() as usize / STRIDE;
                if let Some(slot) = slots.next() {
                    *slot = vocab::cell(HEIGHT - 1 - h, col);
                }
                row &= row - 1;
            }
        }
    }

    fn apply(&mut self, action: Token) {
        let (r, c) = vocab::cell_coords(action).expect("a connect-four action is a cell token");
        debug_assert!(c < WIDTH && r < HEIGHT, "{} is off the board", vocab::symbol(action));
        debug_assert!(!self.is_terminal(), "the game is over");
        debug_assert_eq!(self.height(c), HEIGHT - 1 - r, "{} is not a landing cell", vocab::symbol(action));
        let p = self.to_play();
        self.stones[p] |= 1 << (c * STRIDE + HEIGHT - 1 - r);
        self.won = has_four(self.stones[p]);
        self.tokens[self.len as usize] = action;
        self.len += 1;
    }

    fn to_play(&self) -> usize {
        self.moves() % 2
    }

    fn is_terminal(&self) -> bool {
        self.won || self.moves() == CELLS
    }

    fn rules_value(&self) -> Option<f32> {
        match self.winner() {
            Some(0) => Some(1.0),
            Some(_) => Some(-1.0),
            None if self.moves() == CELLS => Some(0.0),
            None => None,
        }
    }

    /// A column letter (`d`, as GTP plays) or the exact landing cell (`d6`).
    fn parse_action(&self, text: &str) -> Result<Token, EnvError> {
        let t = text.trim().to_ascii_lowercase();
        let bad = || EnvError::BadMove(format!("{text:?} is not a column a..g or a landing cell such as d6"));
        let mut chars = t.chars();
        let letter = chars.next().ok_or_else(bad)?;
        if !('a'..='g').contains(&letter) {
            return Err(bad());
        }
        let col = letter as usize - 'a' as usize;
        let row = match chars.as_str() {
            "" => None,
            digits => match digits.parse::<usize>() {
                Ok(n @ 1..=HEIGHT) => Some(n - 1),
                _ => return Err(bad()),
            },
        };
        if self.is_terminal() {
            return Err(EnvError::BadMove(format!("{text:?}: the game is over")));
        }
        let h = self.height(col);
        if h == HEIGHT {
            return Err(EnvError::BadMove(format!("{text:?}: column {letter} is full")));
        }
        let landing = HEIGHT - 1 - h;
        if row.is_some_and(|r| r != landing) {
            return Err(EnvError::BadMove(format!(
                "{text:?}: a stone in column {letter} lands on {}",
                vocab::cell_name(landing, col)
            )));
        }
        Ok(vocab::cell(landing, col))
    }

    fn render(&self) -> String {
        let mut s = String::from("   a b c d e f g\n");
        for r in 0..HEIGHT {
            s.push_str(&format!("{}  ", r + 1));
            for c in 0..WIDTH {
                s.push(match self.at(r, c) {
                    Some(0) => 'X',
                    Some(_) => 'O',
                    None => '.',
                });
                s.push(if c + 1 < WIDTH { ' ' } else { '\n' });
            }
        }
        s
    }
}

impl fmt::Debug for Connect4State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Connect4[{}]", crate::history_text(self.tokens()))
    }
}

impl Env for Connect4 {
    type State = Connect4State;

    fn spec(&self) -> String {
        "connect4".into()
    }
    fn kind(&self) -> Kind {
        Kind::Game
    }
    fn max_actions(&self) -> usize {
        CELLS
    }
    fn start(&self, prompt: &str) -> Result<Connect4State, EnvError> {
        crate::replay(Connect4State::default(), prompt)
    }
    fn generate(&self, seed: u64, index: u64, _level: u32) -> Task {
        crate::game_task(seed, index)
    }
    fn task(&self, id: &str, prompt: &str, _extra: &serde_json::Value) -> Result<Task, EnvError> {
        self.start(prompt)?;
        Ok(Task { id: id.into(), prompt: prompt.into(), truth: Truth(TruthInner::Rules) })
    }
    fn grade(&self, task: &Task, answer: &str) -> Grade {
        crate::grade_game(self, task, answer)
    }
    fn answer(&self, state: &Connect4State) -> String {
        crate::history_text(state.tokens())
    }
    fn oracle(&self) -> Option<Box<dyn crate::Oracle<Connect4State>>> {
        Some(Box::new(Solver::new()))
    }
    /// Distinct random-play positions with 12 to 30 stones, where the oracle answers; `count` 0
    /// means [`GRADED_POSITIONS`] of them.
    fn graded_positions(&self, seed: u64, count: usize) -> Vec<Connect4State> {
        let count = if count == 0 { GRADED_POSITIONS } else { count };
        sample_positions(seed, count, solver::ORACLE_MIN_STONES, 30)
    }
}

/// Whether a bitboard holds four in a row. Shifts: 1 along a column, 7 along a row, 6 and 8
/// along the two diagonals; the sentinel bit of each column stops lines wrapping around.
fn has_four(b: u64) -> bool {
    [1, STRIDE, STRIDE - 1, STRIDE + 1].iter().any(|&s| {
        let pairs = b & (b >> s);
        pairs & (pairs >> (2 * s)) != 0
    })
}

fn col_letter(c: usize) -> char {
    (b'a' + c as u8) as char
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pos(history: &str) -> Connect4State {
        Connect4.start(history).unwrap()
    }

    fn names(tokens: &[Token]) -> Vec<&'static str> {
        tokens.iter().map(|&t| vocab::symbol(t)).collect()
    }

    #[test]
    fn first_stone_in_a_column_lands_on_row_six() {
        let p = pos("d");
        assert_eq!(names(p.tokens()), ["<bos>", "d6"]);
        let p = pos("d d5 d");
        assert_eq!(names(p.tokens()), ["<bos>", "d6", "d5", "d4"]);
        assert_eq!(p.at(5, 3), Some(0));
        assert_eq!(p.at(4, 3), Some(1));
        assert_eq!(p.height(3), 3);
    }

    #[test]
    fn legal_actions_are_the_landing_cells_sorted_by_token() {
        let mut legal = Vec::new();
        pos("").legal_actions(&mut legal);
        assert_eq!(names(&legal), ["a6", "b6", "c6", "d6", "e6", "f6", "g6"]);
        pos("d d c").legal_actions(&mut legal);
        assert_eq!(names(&legal), ["d4", "c5", "a6", "b6", "e6", "f6", "g6"]);
        assert!(legal.windows(2).all(|w| w[0] < w[1]));
        // A full column disappears from the list.
        pos("a a a a a a").legal_actions(&mut legal);
        assert_eq!(names(&legal), ["b6", "c6", "d6", "e6", "f6", "g6"]);
    }

    #[test]
    fn bad_moves_are_errors_naming_the_move() {
        for bad in ["h", "d7", "d0", "dd", "4", "", "d5x"] {
            let e = pos("").parse_action(bad).unwrap_err();
            assert!(matches!(e, EnvError::BadMove(_)), "{bad:?}: {e}");
            assert!(e.to_string().contains(&format!("{bad:?}")), "{e}");
        }
        let e = pos("").parse_action("d5").unwrap_err().to_string();
        assert!(e.contains("d6"), "the error names the landing cell: {e}");
        let e = pos("a a a a a a").parse_action("a").unwrap_err().to_string();
        assert!(e.contains("full"), "{e}");
        let e = Connect4.start("d c d c d c d e").unwrap_err().to_string();
        assert!(e.contains("over") && e.contains("move 8"), "{e}");
        assert_eq!(pos("").parse_action(" D6 ").unwrap(), vocab::cell(5, 3));
    }

    #[test]
    fn four_in_a_row_wins_in_every_direction() {
        // Vertical: X stacks d6..d3.
        let p = pos("d c d c d c d");
        assert_eq!((p.is_terminal(), p.rules_value()), (true, Some(1.0)));
        // Horizontal on the bottom row, by O.
        let p = pos("a a b b c c g d e g");
        assert!(!p.is_terminal());
        let p = pos("g a g b g c f d");
        assert_eq!((p.winner(), p.rules_value()), (Some(1), Some(-1.0)));
        // Rising diagonal a6 b5 c4 d3 for X.
        let p = pos("a b b c c d c d d g d");
        assert_eq!(p.rules_value(), Some(1.0), "\n{}", p.render());
        // Falling diagonal d6 c5 b4 a3 for X.
        let p = pos("d c c b b a b a a g a");
        assert_eq!(p.rules_value(), Some(1.0), "\n{}", p.render());
        // X on a2 a1 and b6 b5: consecutive in a column-major layout without the sentinel bit.
        let p = pos("b a b a a a a f a");
        assert!(!p.is_terminal(), "\n{}", p.render());
    }

    #[test]
    fn a_full_board_without_a_line_is_a_draw() {
        // Columns filled in the pattern that never makes four: a b a b ... then c d ..., etc.
        let history = "a b a b a b b a b a b a c d c d c d d c d c d c e f e f e f f e f e f e g g g g g g";
        let p = pos(history);
        assert_eq!(p.moves(), 42);
        assert!(p.is_terminal());
        assert_eq!(p.rules_value(), Some(0.0), "\n{}", p.render());
    }

    #[test]
    fn render_shows_the_board_and_reads_back() {
        let p = pos("d d c");
        let text = p.render();
        assert_eq!(
            text,
            "   a b c d e f g\n1  . . . . . . .\n2  . . . . . . .\n3  . . . . . . .\n\
             4  . . . . . . .\n5  . . . O . . .\n6  . . X X . . .\n"
        );
        let back = Connect4State::from_diagram(&text).unwrap();
        assert_eq!(back.render(), text);
    }

    #[test]
    fn diagrams_that_no_game_reaches_are_errors() {
        let floating = ".......\n.......\n.......\n.......\n...X...\n.......\n";
        assert!(Connect4State::from_diagram(floating).unwrap_err().to_string().contains("above"));
        let too_many_x = ".......\n.......\n.......\n.......\n.......\nXX.....\n";
        assert!(Connect4State::from_diagram(too_many_x).unwrap_err().to_string().contains("X = O"));
        // Two separate fours: the first one ended the game.
        let two_lines = ".......\n.......\nX.....O\nX.....O\nX.....O\nX.....O\n";
        assert!(Connect4State::from_diagram(two_lines).unwrap_err().to_string().contains("no game"));
        assert!(Connect4State::from_diagram("X.O").is_err());
    }

    #[test]
    fn the_oracle_answers_from_twelve_stones_and_grades_fixed_positions() {
        let oracle = Connect4.oracle().unwrap();
        let early = pos("d d d c c c b b a a e");
        assert_eq!((early.moves(), early.is_terminal()), (11, false));
        assert_eq!(oracle.value(&early), None);
        assert_eq!(oracle.optimal_actions(&early), None);
        let graded = Connect4.graded_positions(7, 30);
        assert_eq!(graded, Connect4.graded_positions(7, 30));
        assert_eq!(graded.len(), 30);
        assert!(graded.iter().all(|p| (12..=30).contains(&p.moves()) && !p.is_terminal()));
        assert_eq!(Connect4.graded_positions(7, 0).len(), GRADED_POSITIONS);
        let solver = Solver::new();
        for p in sample_positions(3, 5, 26, 30) {
            assert_eq!(oracle.value(&p), Some(solver.value(&p)));
            assert_eq!(oracle.optimal_actions(&p), Some(solver.optimal_actions(&p)));
        }
    }

    #[test]
    fn connect4_conforms() {
        crate::conformance::check(&Connect4, 50);
    }
}
