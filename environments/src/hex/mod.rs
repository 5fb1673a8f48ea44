//! Hex on an N x N rhombus (N = 3..=11), with an exact solver for N <= 4.
//!
//! ## Rules
//! Two players alternate placing a stone on any empty cell; `X` (player 0, GTP colour `b`) moves
//! first and wins by joining the top edge (row 1) to the bottom edge (row N) with a chain of
//! adjacent stones; `O` (player 1, `w`) joins the left edge (column `a`) to the right edge. There
//! is no swap rule. A full board always holds exactly one winning chain, so Hex never draws; the
//! first player wins on every size (strategy stealing), which the solver confirms for N <= 4.
//!
//! Cell (row, col) touches (row, col ± 1), (row ± 1, col), (row - 1, col + 1) and
//! (row + 1, col - 1): in the rhombus drawn by [`State::render`], each row sits half a cell to the
//! right of the row above.
//!
//! ## Text format
//! The state is the move history, one cell token per move, named as HexGui writes them: column
//! letter from `a`, row number from `1` at the top. On 3 x 3, `b2 a3 c1` is X in the centre, O in
//! the bottom-left corner, X in the top-right corner. Tokens: `<bos> b2 a3 c1`.
//!
//! ## Parameters
//! `size` (default 5): the side N, 3..=11. Name: `hex:size=5`.
//!
//! ## Solver
//! [`Solver`] solves 3 x 3 and 4 x 4 exactly (negamax on 16-bit bitboards with a transposition
//! table); the empty 4 x 4 board takes a few milliseconds. Larger sizes are an error.

mod solver;

use std::fmt;

use crate::spec::{EnvInfo, ParamInfo, Params};
use crate::vocab::{self, Token, BOS, FIRST_CELL, MAX_SIDE};
use crate::{Env, EnvError, Grade, Kind, State, Task, Truth, TruthInner};

pub use solver::{sample_positions, Solver, MAX_SOLVED_SIZE};

pub const INFO: EnvInfo = EnvInfo {
    name: "hex",
    summary: "Hex on an NxN rhombus, no swap; exact solver for N <= 4 (first player wins)",
    params: &[ParamInfo { name: "size", default: "5", help: "board side N, 3..=11" }],
};

/// The smallest board side.
pub const MIN_SIZE: usize = 3;
/// The largest board side: the vocabulary has cells up to `k11`.
pub const MAX_SIZE: usize = MAX_SIDE;
/// Cells of the largest board: every state has room for them, whatever its size.
const MAX_CELLS: usize = MAX_SIZE * MAX_SIZE;

/// Union-find nodes: the cells (index `11 * row + col`, the cell token's offset), then the four
/// edges as virtual stones.
const TOP: usize = MAX_CELLS;
const BOTTOM: usize = MAX_CELLS + 1;
const LEFT: usize = MAX_CELLS + 2;
const RIGHT: usize = MAX_CELLS + 3;
const NODES: usize = MAX_CELLS + 4;

/// `winner` while the game goes on.
const NO_WINNER: u8 = 2;

/// Positions graded for the optimal-move rate when the evaluator asks for "all".
pub const GRADED_POSITIONS: usize = 200;

/// The Hex environment on an N x N board.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hex {
    size: usize,
}

/// A Hex position: two bitboards, a union-find over the stones and the edges (so a win is found
/// as it is made), and the move history as tokens. Plain data sized for 11 x 11 (416
/// bytes): a clone is a copy, whatever the board size.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct HexState {
    size: u8,
    /// Stones of each player, bit `11 * row + col` on every board size.
    stones: [u128; 2],
    /// Union-find parents of the cells holding stones and of the four edge nodes.
    parent: [u8; NODES],
    /// `<bos>` then one cell token per move.
    tokens: [Token; MAX_CELLS + 1],
    len: u8,
    /// The player who has joined their edges, or [`NO_WINNER`].
    winner: u8,
}

impl Hex {
    /// Hex on a `size` x `size` board, `size` in 3..=11.
    pub fn new(size: usize) -> Result<Self, EnvError> {
        if !(MIN_SIZE..=MAX_SIZE).contains(&size) {
            return Err(EnvError::BadSpec(format!("hex: size {size} should be in {MIN_SIZE}..={MAX_SIZE}")));
        }
        Ok(Hex { size })
    }

    pub(crate) fn from_params(p: &mut Params) -> Result<Self, EnvError> {
        let size = p.int("size", MIN_SIZE as u64, MAX_SIZE as u64)?;
        Hex::new(size as usize)
    }

    /// The board side N.
    pub fn size(&self) -> usize {
        self.size
    }
}

impl HexState {
    /// The empty board of side `size` (3..=11).
    ///
    /// # Panics
    /// If `size` is out of range: use [`Hex::new`] and [`Env::start`] for sizes from input.
    pub fn new(size: usize) -> Self {
        assert!((MIN_SIZE..=MAX_SIZE).contains(&size), "hex size {size} out of range");
        let mut tokens = [0; MAX_CELLS + 1];
        tokens[0] = BOS;
        HexState {
            size: size as u8,
            stones: [0, 0],
            parent: std::array::from_fn(|i| i as u8),
            tokens,
            len: 1,
            winner: NO_WINNER,
        }
    }

    /// The board side N.
    pub fn size(&self) -> usize {
        self.size as usize
    }

    /// Number of stones on the board.
    pub fn moves(&self) -> usize {
        self.len as usize - 1
    }

    /// The stone at (row, col), both from 0, row 0 at the top: `Some(0)` for X, `Some(1)` for O.
    pub fn at(&self, row: usize, col: usize) -> Option<usize> {
        if row >= self.size() || col >= self.size() {
            return None;
        }
        let bit = 1u128 << (row * MAX_SIDE + col);
        (0..2).find(|&p| self.stones[p] & bit != 0)
    }

    /// The player who has joined their two edges, if any.
    pub fn winner(&self) -> Option<usize> {
        (self.winner != NO_WINNER).then_some(self.winner as usize)
    }

    /// Builds a position from a diagram: one line per row, top to bottom, `X` / `O` / `.` per
    /// cell; every other character (indentation, row numbers, column letters) is ignored, so
    /// [`State::render`]'s output reads back. The side N is the number of rows. The side to move
    /// follows from the stone counts; a move history that reaches the diagram is made up (stones
    /// in reading order, a winning chain completed by its last stone).
    pub fn from_diagram(diagram: &str) -> Result<Self, EnvError> {
        let bad = |why: String| EnvError::BadPrompt(format!("hex diagram: {why}"));
        let rows: Vec<Vec<char>> = diagram
            .lines()
            .map(|l| l.chars().filter(|c| matches!(c, 'X' | 'O' | '.')).collect::<Vec<_>>())
            .filter(|r| !r.is_empty())
            .collect();
        let n = rows.len();
        if !(MIN_SIZE..=MAX_SIZE).contains(&n) || rows.iter().any(|r| r.len() != n) {
            return Err(bad(format!("expected N rows of N cells (X, O or .), N in {MIN_SIZE}..={MAX_SIZE}")));
        }
        // Each player's stones, as cell tokens in reading order.
        let mut stones: [Vec<Token>; 2] = [Vec::new(), Vec::new()];
        let mut boards = [0u128; 2];
        for (r, row) in rows.iter().enumerate() {
            for (c, &ch) in row.iter().enumerate() {
                let p = match ch {
                    'X' => 0,
                    'O' => 1,
                    _ => continue,
                };
                stones[p].push(vocab::cell(r, c));
                boards[p] |= 1 << (r * MAX_SIDE + c);
            }
        }
        let (x, o) = (stones[0].len(), stones[1].len());
        if x != o && x != o + 1 {
            return Err(bad(format!("{x} X and {o} O stones: X moves first, so X = O or O + 1")));
        }
        let winners: Vec<usize> = (0..2).filter(|&p| connects(boards[p], n, p)).collect();
        match winners.as_slice() {
            [] => {}
            [w] => {
                let w = *w;
                if (w == 0) != (x == o + 1) {
                    return Err(bad(format!(
                        "{} has won, so it must have moved last",
                        "XO".as_bytes()[w] as char
                    )));
                }
                // Some stone of the chain must be the last one played: one whose removal breaks
                // every connection.
                let last = stones[w]
                    .iter()
                    .position(|&t| !connects(boards[w] & !(1 << (t - FIRST_CELL)), n, w))
                    .ok_or_else(|| bad("no single stone completes the winning chains".into()))?;
                let t = stones[w].remove(last);
                stones[w].push(t);
            }
            _ => return Err(bad("both players have joined their edges".into())),
        }
        let mut state = HexState::new(n);
        for i in 0..x + o {
            state.apply(stones[i % 2][i / 2]);
        }
        Ok(state)
    }

    fn find(&mut self, mut a: usize) -> usize {
        while self.parent[a] as usize != a {
            // Path halving: point every other node on the way at its grandparent.
            let grand = self.parent[self.parent[a] as usize];
            self.parent[a] = grand;
            a = grand as usize;
        }
        a
    }

    fn union(&mut self, a: usize, b: usize) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            self.parent[ra] = rb as u8;
        }
    }
}

impl State for HexState {
    fn tokens(&self) -> &[Token] {
        &self.tokens[..self.len as usize]
    }

    fn legal_actions(&self, out: &mut Vec<Token>) {
        out.clear();
        if self.is_terminal() {
            return;
        }
        // Bit i is the cell token FIRST_CELL + i, so ascending bits are ascending tokens. The hot
        // loop of random playouts on big boards: sized once, filled per 64-bit half.
        let empty = BOARD_MASKS[self.size()] & !(self.stones[0] | self.stones[1]);
        let (low, high) = (empty as u64, (empty >> 64) as u64);
        out.resize((low.count_ones() + high.count_ones()) as usize, 0);
        let (first, second) = out.split_at_mut(low.count_ones() as usize);
        fill_cells(first, low, FIRST_CELL);
        fill_cells(second, high, FIRST_CELL + 64);
    }

    fn apply(&mut self, action: Token) {
        let i = action.wrapping_sub(FIRST_CELL) as usize;
        let n = self.size();
        let (r, c) = (i / MAX_SIDE, i % MAX_SIDE);
        assert!(r < n && c < n, "{} is not a cell of the {n}x{n} board", vocab::symbol(action));
        debug_assert!(self.at(r, c).is_none(), "{} is occupied", vocab::symbol(action));
        debug_assert!(!self.is_terminal(), "the game is over");
        let p = self.to_play();
        self.stones[p] |= 1 << i;
        self.tokens[self.len as usize] = action;
        self.len += 1;
        // Join the new stone to its friendly neighbours and, on its edges, to the edge nodes.
        let own = self.stones[p];
        let mut friends = neighbours(i, n) & own;
        while friends != 0 {
            let j = friends.trailing_zeros() as usize;
            self.union(i, j);
            friends &= friends - 1;
        }
        let (start, end, at_start, at_end) =
            if p == 0 { (TOP, BOTTOM, r == 0, r == n - 1) } else { (LEFT, RIGHT, c == 0, c == n - 1) };
        if at_start {
            self.union(i, start);
        }
        if at_end {
            self.union(i, end);
        }
        if self.find(start) == self.find(end) {
            self.winner = p as u8;
        }
    }

    fn to_play(&self) -> usize {
        self.moves() % 2
    }

    fn is_terminal(&self) -> bool {
        self.winner != NO_WINNER
    }

    fn rules_value(&self) -> Option<f32> {
        match self.winner() {
            Some(0) => Some(1.0),
            Some(_) => Some(-1.0),
            None => None,
        }
    }

    fn parse_action(&self, text: &str) -> Result<Token, EnvError> {
        let n = self.size();
        let (r, c) = vocab::parse_cell(text, n, n)?;
        if self.is_terminal() {
            return Err(EnvError::BadMove(format!("{text:?}: the game is over")));
        }
        if self.at(r, c).is_some() {
            return Err(EnvError::BadMove(format!("{text:?}: {} is occupied", vocab::cell_name(r, c))));
        }
        Ok(vocab::cell(r, c))
    }

    /// The rhombus, each row half a cell right of the one above: X joins top and bottom, O joins
    /// left and right.
    fn render(&self) -> String {
        let n = self.size();
        let label = n.to_string().len();
        let mut s = " ".repeat(label + 2);
        let letters: Vec<String> = (0..n).map(|c| ((b'a' + c as u8) as char).to_string()).collect();
        s.push_str(&letters.join(" "));
        s.push('\n');
        for r in 0..n {
            s.push_str(&" ".repeat(r));
            s.push_str(&format!("{:>label$}  ", r + 1));
            for c in 0..n {
                s.push(match self.at(r, c) {
                    Some(0) => 'X',
                    Some(_) => 'O',
                    None => '.',
                });
                s.push(if c + 1 < n { ' ' } else { '\n' });
            }
        }
        s
    }
}

impl fmt::Debug for HexState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hex{}[{}]", self.size, crate::history_text(self.tokens()))
    }
}

impl Env for Hex {
    type State = HexState;

    fn spec(&self) -> String {
        format!("hex:size={}", self.size)
    }
    fn kind(&self) -> Kind {
        Kind::Game
    }
    fn max_actions(&self) -> usize {
        self.size * self.size
    }
    fn start(&self, prompt: &str) -> Result<HexState, EnvError> {
        crate::replay(HexState::new(self.size), prompt)
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
    fn answer(&self, state: &HexState) -> String {
        crate::history_text(state.tokens())
    }
    /// The exact solver on 3 x 3 and 4 x 4; none on larger boards.
    fn oracle(&self) -> Option<Box<dyn crate::Oracle<HexState>>> {
        let solver = Solver::for_env(self).ok()?;
        Some(Box::new(solver))
    }
    /// Distinct random-play positions where the oracle answers (none above 4 x 4); `count` 0
    /// means [`GRADED_POSITIONS`] of them, or every one the sampler finds where there are fewer.
    fn graded_positions(&self, seed: u64, count: usize) -> Vec<HexState> {
        if self.size > solver::MAX_SOLVED_SIZE {
            return Vec::new();
        }
        let count = if count == 0 { GRADED_POSITIONS } else { count };
        sample_positions(self, seed, count, 0, self.size * self.size - 1)
    }
}

/// Writes the tokens `base + i` of the set bits `i` of `bits`, ascending; `out` has one slot per
/// set bit.
fn fill_cells(out: &mut [Token], mut bits: u64, base: Token) {
    for slot in out {
        *slot = base + bits.trailing_zeros() as Token;
        bits &= bits - 1;
    }
}

/// The cells of each board size, bit `11 * row + col`.
const BOARD_MASKS: [u128; MAX_SIZE + 1] = {
    let mut masks = [0u128; MAX_SIZE + 1];
    let mut n = 1;
    while n <= MAX_SIZE {
        let mut r = 0;
        while r < n {
            masks[n] |= ((1u128 << n) - 1) << (r * MAX_SIDE);
            r += 1;
        }
        n += 1;
    }
    masks
};

/// Column `c` of the largest board, bit `11 * row + c`.
const fn column(c: usize) -> u128 {
    let mut m = 0;
    let mut r = 0;
    while r < MAX_SIDE {
        m |= 1 << (r * MAX_SIDE + c);
        r += 1;
    }
    m
}

/// The cells next to any cell of `set` on an `n` x `n` board (`set` itself included where its
/// cells touch each other). Shifts by 1 move along a row, by 11 down a column, by 10 along the
/// other diagonal; masks stop moves off the left and right edges wrapping into the next row.
fn grow(set: u128, n: usize) -> u128 {
    let not_first = set & !column(0);
    let not_last = set & !column(n - 1);
    let g = (not_last << 1)
        | (not_first >> 1)
        | (set << MAX_SIDE)
        | (set >> MAX_SIDE)
        | (not_last >> (MAX_SIDE - 1))
        | (not_first << (MAX_SIDE - 1));
    g & BOARD_MASKS[n]
}

/// The neighbours of cell `i` on an `n` x `n` board.
fn neighbours(i: usize, n: usize) -> u128 {
    grow(1 << i, n)
}

/// Whether `stones` join player `p`'s two edges (rows for X, columns for O) on an `n` x `n`
/// board: a flood fill from the first edge.
pub(crate) fn connects(stones: u128, n: usize, p: usize) -> bool {
    let (first, last) = if p == 0 {
        (BOARD_MASKS[n] & ((1 << n) - 1), BOARD_MASKS[n] & (((1 << n) - 1) << ((n - 1) * MAX_SIDE)))
    } else {
        (BOARD_MASKS[n] & column(0), BOARD_MASKS[n] & column(n - 1))
    };
    let mut reach = stones & first;
    loop {
        let next = (reach | grow(reach, n)) & stones;
        if next == reach {
            return reach & last != 0;
        }
        reach = next;
    }
}

#[cfg(test)]
mod tests;
