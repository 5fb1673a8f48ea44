//! Tic-tac-toe, with an exact minimax solver over all 5,478 legal positions.
//!
//! ## Rules
//! Two players alternate placing marks on a 3 x 3 board; `X` (player 0, GTP colour `b`) moves
//! first. Three in a row, column or diagonal wins; a full board without a line is a draw.
//! Perfect play draws.
//!
//! ## Text format
//! The state is the move history, one cell token per move: column letter `a`..`c`, row number
//! `1`..`3` from the top. `b2 a1 c3` is X in the centre, O in the top-left corner, X in the
//! bottom-right. Tokens: `<bos> b2 a1 c3`.
//!
//! ## Parameters
//! None. Name: `tictactoe`.
//!
//! ## Solver
//! [`Solver`] holds the minimax value of every reachable position (indexed by base-3 encoding),
//! computed once in about a millisecond; it grades moves as optimal or not.

use std::fmt;

use crate::spec::{EnvInfo, Params};
use crate::vocab::{self, Token, BOS};
use crate::{Env, EnvError, Grade, Kind, State, Task, Truth, TruthInner};

pub const INFO: EnvInfo = EnvInfo {
    name: "tictactoe",
    summary: "tic-tac-toe 3x3; exact minimax solver (5,478 positions, perfect play draws)",
    params: &[],
};

/// The eight lines, as bitmasks over cells 0..9 (row-major).
const LINES: [u16; 8] = [
    0b000_000_111,
    0b000_111_000,
    0b111_000_000,
    0b001_001_001,
    0b010_010_010,
    0b100_100_100,
    0b100_010_001,
    0b001_010_100,
];

/// The tic-tac-toe environment (it has no parameters).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TicTacToe;

/// A tic-tac-toe position: two bitboards and the move history as tokens.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TicTacToeState {
    /// Cells held by each player, bit `3 * row + col`.
    marks: [u16; 2],
    /// `<bos>` then one cell token per move.
    tokens: [Token; 10],
    len: u8,
}

impl TicTacToe {
    pub(crate) fn from_params(_p: &mut Params) -> Result<Self, EnvError> {
        Ok(TicTacToe)
    }
}

impl Default for TicTacToeState {
    fn default() -> Self {
        let mut tokens = [0; 10];
        tokens[0] = BOS;
        TicTacToeState { marks: [0, 0], tokens, len: 1 }
    }
}

impl TicTacToeState {
    /// Number of moves played.
    pub fn moves(&self) -> usize {
        self.len as usize - 1
    }

    /// The mark at cell (row, col): `Some(0)` for X, `Some(1)` for O.
    pub fn at(&self, row: usize, col: usize) -> Option<usize> {
        let bit = 1 << (3 * row + col);
        (0..2).find(|&p| self.marks[p] & bit != 0)
    }

    fn winner(&self) -> Option<usize> {
        (0..2).find(|&p| LINES.iter().any(|&l| self.marks[p] & l == l))
    }

    /// Base-3 index of the board (0 empty, 1 X, 2 O per cell): the solver's table key.
    pub fn index(&self) -> usize {
        let mut idx = 0;
        for cell in (0..9).rev() {
            let bit = 1 << cell;
            let v = if self.marks[0] & bit != 0 {
                1
            } else if self.marks[1] & bit != 0 {
                2
            } else {
                0
            };
            idx = idx * 3 + v;
        }
        idx
    }
}

impl State for TicTacToeState {
    fn tokens(&self) -> &[Token] {
        &self.tokens[..self.len as usize]
    }

    fn legal_actions(&self, out: &mut Vec<Token>) {
        out.clear();
        if self.is_terminal() {
            return;
        }
        let occupied = self.marks[0] | self.marks[1];
        for cell in 0..9 {
            if occupied & (1 << cell) == 0 {
                out.push(vocab::cell(cell / 3, cell % 3));
            }
        }
    }

    fn apply(&mut self, action: Token) {
        let (r, c) = vocab::cell_coords(action).expect("a tic-tac-toe action is a cell token");
        debug_assert!(r < 3 && c < 3 && self.at(r, c).is_none() && !self.is_terminal());
        let p = self.to_play();
        self.marks[p] |= 1 << (3 * r + c);
        self.tokens[self.len as usize] = action;
        self.len += 1;
    }

    fn to_play(&self) -> usize {
        self.moves() % 2
    }

    fn is_terminal(&self) -> bool {
        self.moves() == 9 || self.winner().is_some()
    }

    fn rules_value(&self) -> Option<f32> {
        match self.winner() {
            Some(0) => Some(1.0),
            Some(_) => Some(-1.0),
            None if self.moves() == 9 => Some(0.0),
            None => None,
        }
    }

    fn parse_action(&self, text: &str) -> Result<Token, EnvError> {
        let (r, c) = vocab::parse_cell(text, 3, 3)?;
        if self.is_terminal() {
            return Err(EnvError::BadMove("the game is over".into()));
        }
        if self.at(r, c).is_some() {
            return Err(EnvError::BadMove(format!("{} is occupied", vocab::cell_name(r, c))));
        }
        Ok(vocab::cell(r, c))
    }

    fn render(&self) -> String {
        let mut s = String::from("   a b c\n");
        for r in 0..3 {
            s.push_str(&format!("{}  ", r + 1));
            for c in 0..3 {
                s.push(match self.at(r, c) {
                    Some(0) => 'X',
                    Some(_) => 'O',
                    None => '.',
                });
                s.push(if c < 2 { ' ' } else { '\n' });
            }
        }
        s
    }
}

impl fmt::Debug for TicTacToeState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TicTacToe[{}]", crate::history_text(self.tokens()))
    }
}

impl Env for TicTacToe {
    type State = TicTacToeState;

    fn spec(&self) -> String {
        "tictactoe".into()
    }
    fn kind(&self) -> Kind {
        Kind::Game
    }
    fn max_actions(&self) -> usize {
        9
    }
    fn start(&self, prompt: &str) -> Result<TicTacToeState, EnvError> {
        crate::replay(TicTacToeState::default(), prompt)
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
    fn answer(&self, state: &TicTacToeState) -> String {
        crate::history_text(state.tokens())
    }
    fn oracle(&self) -> Option<Box<dyn crate::Oracle<TicTacToeState>>> {
        Some(Box::new(Solver::new()))
    }
    /// `count` 0: every non-terminal reachable position (4,520); else a seeded sample of `count`.
    fn graded_positions(&self, seed: u64, count: usize) -> Vec<TicTacToeState> {
        use rand::seq::SliceRandom;
        let mut all: Vec<TicTacToeState> =
            Solver::new().positions().into_iter().filter(|p| !p.is_terminal()).collect();
        all.sort_by_key(|p| (p.moves(), p.index()));
        if count > 0 && count < all.len() {
            let mut rng = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(seed);
            all.shuffle(&mut rng);
            all.truncate(count);
        }
        all
    }
}

impl crate::Oracle<TicTacToeState> for Solver {
    fn value(&self, state: &TicTacToeState) -> Option<i8> {
        Some(Solver::value(self, state))
    }
    fn optimal_actions(&self, state: &TicTacToeState) -> Option<Vec<Token>> {
        Some(Solver::optimal_actions(self, state))
    }
}

/// Exact values of every reachable position, for the player to move: +1 win, 0 draw, -1 loss.
pub struct Solver {
    /// Indexed by [`TicTacToeState::index`]; `i8::MIN` marks unreachable boards.
    values: Vec<i8>,
    /// Plies to the end under optimal play (a win as fast as possible, a loss as slow).
    depth: Vec<i8>,
}

impl Solver {
    /// Solves the whole game (all 5,478 reachable positions).
    pub fn new() -> Self {
        let mut s = Solver { values: vec![i8::MIN; 19683], depth: vec![0; 19683] };
        s.solve(&TicTacToeState::default());
        s
    }

    fn solve(&mut self, st: &TicTacToeState) -> (i8, i8) {
        let idx = st.index();
        if self.values[idx] != i8::MIN {
            return (self.values[idx], self.depth[idx]);
        }
        let result = if let Some(v) = st.rules_value() {
            // From the player to move's view: the previous mover made the line.
            (if v == 0.0 { 0 } else { -1 }, 0)
        } else {
            let mut legal = Vec::with_capacity(9);
            st.legal_actions(&mut legal);
            let mut best = (-2i8, 0i8);
            for a in legal {
                let mut child = *st;
                child.apply(a);
                let (v, d) = self.solve(&child);
                let cand = (-v, d + 1);
                if better(cand, best) {
                    best = cand;
                }
            }
            best
        };
        self.values[idx] = result.0;
        self.depth[idx] = result.1;
        result
    }

    /// The value of `state` for the player to move.
    pub fn value(&self, state: &TicTacToeState) -> i8 {
        self.values[state.index()]
    }

    /// The actions that keep the game-theoretic value (every move that wins if one does, every
    /// drawing move if none wins).
    pub fn optimal_actions(&self, state: &TicTacToeState) -> Vec<Token> {
        let mut legal = Vec::new();
        state.legal_actions(&mut legal);
        let v = self.value(state);
        legal
            .into_iter()
            .filter(|&a| {
                let mut c = *state;
                c.apply(a);
                -self.value(&c) == v
            })
            .collect()
    }

    /// Every reachable position, terminal ones included (5,478 of them).
    pub fn positions(&self) -> Vec<TicTacToeState> {
        let mut seen = vec![false; 19683];
        let mut out = Vec::new();
        let mut stack = vec![TicTacToeState::default()];
        let mut legal = Vec::new();
        while let Some(s) = stack.pop() {
            if std::mem::replace(&mut seen[s.index()], true) {
                continue;
            }
            out.push(s);
            s.legal_actions(&mut legal);
            for &a in &legal {
                let mut c = s;
                c.apply(a);
                stack.push(c);
            }
        }
        out
    }
}

impl Default for Solver {
    fn default() -> Self {
        Self::new()
    }
}

/// Prefers a higher value; among wins the shorter, among losses the longer.
fn better(a: (i8, i8), b: (i8, i8)) -> bool {
    if a.0 != b.0 {
        return a.0 > b.0;
    }
    if a.0 > 0 {
        a.1 < b.1
    } else {
        a.1 > b.1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pos(history: &str) -> TicTacToeState {
        TicTacToe.start(history).unwrap()
    }

    #[test]
    fn there_are_5478_legal_positions_and_4520_non_terminal() {
        let s = Solver::new();
        let all = s.positions();
        assert_eq!(all.len(), 5478);
        assert_eq!(all.iter().filter(|p| !p.is_terminal()).count(), 4520);
    }

    #[test]
    fn perfect_play_draws() {
        assert_eq!(Solver::new().value(&TicTacToeState::default()), 0);
    }

    #[test]
    fn solves_forced_win_and_blocks() {
        let s = Solver::new();
        // X: a1 b1, O: a2 b2; X to move wins at c1.
        let p = pos("a1 a2 b1 b2");
        println!("{}", p.render());
        assert_eq!(s.value(&p), 1);
        assert_eq!(s.optimal_actions(&p), vec![vocab::cell(0, 2)]);
        // X: a1 b2, O: c3; O to move must block nothing yet, but after X a3 O must play a2.
        let p = pos("a1 c3 b2 b1 a3");
        assert_eq!(s.value(&p), -1, "X has a double threat");
    }

    #[test]
    fn win_detection_and_results() {
        let p = pos("a1 a2 b1 b2 c1");
        assert!(p.is_terminal());
        assert_eq!(p.rules_value(), Some(1.0));
        let p = pos("a1 a2 b1 b2 c3 c2");
        assert_eq!(p.rules_value(), Some(-1.0));
        let p = pos("b2 a1 c3 a3 a2 c2 b1 b3 c1");
        assert!(p.is_terminal());
        assert_eq!(p.rules_value(), Some(0.0));
    }

    #[test]
    fn bad_moves_are_errors_naming_the_move() {
        assert!(TicTacToe.start("a1 a1").unwrap_err().to_string().contains("occupied"));
        assert!(TicTacToe.start("d1").unwrap_err().to_string().contains("\"d1\""));
        assert!(TicTacToe.start("a1 a2 b1 b2 c1 c3").unwrap_err().to_string().contains("over"));
    }

    #[test]
    fn render_shows_the_board() {
        assert_eq!(pos("b2 a1").render(), "   a b c\n1  O . .\n2  . X .\n3  . . .\n");
    }
}
