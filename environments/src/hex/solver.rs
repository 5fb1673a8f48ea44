//! The exact Hex solver for boards up to 4 x 4.
//!
//! Hex has two outcomes, so negamax with alpha-beta reduces to an AND-OR search: a position is
//! won when some move reaches a position lost for the opponent, and the search stops at the first
//! such move. Three things keep it small: immediate wins are taken first; when the opponent
//! threatens to complete a chain on one cell the only move is to block it, and on two cells the
//! position is lost; the remaining moves are tried centre first. A transposition table (lock-free,
//! one atomic word per entry) remembers solved positions, so the solver answers through `&self`
//! and one can serve many threads.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{Hex, HexState, MAX_SIDE};
use crate::vocab::Token;
use crate::{EnvError, Oracle, State};

/// The largest side solved exactly (4 x 4 = 16 cells fill a 16-bit board).
pub const MAX_SOLVED_SIZE: usize = 4;
/// 2^18 entries of 8 bytes: 2 MiB, more than the empty 4 x 4 board needs.
const TABLE_BITS: u32 = 18;

/// An exact solver for Hex on 3 x 3 and 4 x 4: game-theoretic values and optimal moves.
pub struct Solver {
    n: usize,
    /// The neighbours of each cell, bit `n * row + col`.
    neighbours: [u16; 16],
    /// Each player's first and last edge: rows 1 and N for X, columns `a` and the last for O.
    edges: [[u16; 2]; 2],
    /// Every cell.
    full: u16,
    /// The cells, centre first.
    order: Vec<u8>,
    /// Entry: the position key (two 16-bit boards) shifted left by 2, or'ed with 1 for a loss or
    /// 2 for a win of the player to move; 0 is an empty entry.
    table: Vec<AtomicU64>,
    shift: u32,
    /// Positions searched since the solver was made.
    nodes: AtomicU64,
}

impl Solver {
    /// A solver for `size` x `size` boards; an error for sizes above 4, which take too long to
    /// solve this way (5 x 5 has 25 cells; the known solutions of larger boards took dedicated
    /// solvers and days).
    pub fn new(size: usize) -> Result<Self, EnvError> {
        if !(super::MIN_SIZE..=MAX_SOLVED_SIZE).contains(&size) {
            return Err(EnvError::BadSpec(format!(
                "hex: the exact solver handles sizes {}..={MAX_SOLVED_SIZE}, not {size}",
                super::MIN_SIZE
            )));
        }
        let n = size;
        let inside = |r: isize, c: isize| (0..n as isize).contains(&r) && (0..n as isize).contains(&c);
        let mut neighbours = [0u16; 16];
        for r in 0..n as isize {
            for c in 0..n as isize {
                for (dr, dc) in [(0, -1), (0, 1), (-1, 0), (1, 0), (-1, 1), (1, -1)] {
                    if inside(r + dr, c + dc) {
                        neighbours[(r * n as isize + c) as usize] |= 1 << ((r + dr) * n as isize + c + dc);
                    }
                }
            }
        }
        let row = |r: usize| ((1u16 << n) - 1) << (r * n);
        let col = |c: usize| (0..n).fold(0u16, |m, r| m | 1 << (r * n + c));
        let edges = [[row(0), row(n - 1)], [col(0), col(n - 1)]];
        // Hex distance to the centre, doubled to stay in integers.
        let mut order: Vec<u8> = (0..(n * n) as u8).collect();
        let dist = |i: u8| {
            let (r, c) = ((i as usize / n) as i32, (i as usize % n) as i32);
            let (dr, dc) = (2 * r - (n as i32 - 1), 2 * c - (n as i32 - 1));
            dr.abs() + dc.abs() + (dr + dc).abs()
        };
        order.sort_by_key(|&i| (dist(i), i));
        Ok(Solver {
            n,
            neighbours,
            edges,
            full: ((1u32 << (n * n)) - 1) as u16,
            order,
            table: (0..1usize << TABLE_BITS).map(|_| AtomicU64::new(0)).collect(),
            shift: 64 - TABLE_BITS,
            nodes: AtomicU64::new(0),
        })
    }

    /// A solver for the environment's board size; an error above 4 x 4.
    pub fn for_env(env: &Hex) -> Result<Self, EnvError> {
        Self::new(env.size())
    }

    /// The board side this solver handles.
    pub fn size(&self) -> usize {
        self.n
    }

    /// The game-theoretic value for the player to move: +1 win, -1 loss (Hex has no draws). A
    /// finished game is lost for the player to move.
    ///
    /// # Panics
    /// If `state` is not on this solver's board size.
    pub fn value(&self, state: &HexState) -> i8 {
        if state.is_terminal() {
            return -1;
        }
        let mut nodes = 0;
        let win = self.wins(self.compact(state), state.to_play(), &mut nodes);
        self.nodes.fetch_add(nodes, Relaxed);
        if win {
            1
        } else {
            -1
        }
    }

    /// The legal moves that keep the game-theoretic value: every winning move in a won position,
    /// every move in a lost one. Sorted by token.
    ///
    /// # Panics
    /// If `state` is not on this solver's board size.
    pub fn optimal_actions(&self, state: &HexState) -> Vec<Token> {
        let mut legal = Vec::new();
        state.legal_actions(&mut legal);
        if self.value(state) == 1 {
            legal.retain(|&a| {
                let mut child = *state;
                child.apply(a);
                self.value(&child) == -1
            });
        }
        legal
    }

    /// Positions searched since the solver was made (a measure of work).
    pub fn nodes(&self) -> u64 {
        self.nodes.load(Relaxed)
    }

    /// The state's stones on a 16-bit board, bit `n * row + col`.
    fn compact(&self, state: &HexState) -> [u16; 2] {
        assert_eq!(state.size(), self.n, "a {0}x{0} solver given a {1}x{1} board", self.n, state.size());
        let mut out = [0u16; 2];
        for (p, board) in out.iter_mut().enumerate() {
            for r in 0..self.n {
                let row = (state.stones[p] >> (r * MAX_SIDE)) as u16 & ((1 << self.n) - 1);
                *board |= row << (r * self.n);
            }
        }
        out
    }

    /// Whether `stones` join player `p`'s edges: a flood fill from the first edge.
    fn connects(&self, stones: u16, p: usize) -> bool {
        let mut reach = stones & self.edges[p][0];
        let mut frontier = reach;
        while frontier != 0 {
            let i = frontier.trailing_zeros() as usize;
            frontier &= frontier - 1;
            let new = self.neighbours[i] & stones & !reach;
            reach |= new;
            frontier |= new;
        }
        reach & self.edges[p][1] != 0
    }

    /// Whether player `p`, to move, wins from `s`, where nobody has won yet.
    fn wins(&self, s: [u16; 2], p: usize, nodes: &mut u64) -> bool {
        *nodes += 1;
        let key = s[0] as u64 | (s[1] as u64) << 16;
        if let Some(win) = self.probe(key) {
            return win;
        }
        let q = 1 - p;
        let empty = self.full & !(s[0] | s[1]);
        // Cells where the opponent would complete a chain: the only moves that do not lose.
        let mut threats = 0u16;
        let mut cells = empty;
        while cells != 0 {
            let bit = cells & cells.wrapping_neg();
            cells &= cells - 1;
            if self.connects(s[p] | bit, p) {
                self.store(key, true);
                return true;
            }
            if self.connects(s[q] | bit, q) {
                threats |= bit;
            }
        }
        let candidates = match threats.count_ones() {
            0 => empty,
            1 => threats,
            _ => {
                self.store(key, false);
                return false;
            }
        };
        for &i in &self.order {
            let bit = 1u16 << i;
            if candidates & bit == 0 {
                continue;
            }
            let mut child = s;
            child[p] |= bit;
            if !self.wins(child, q, nodes) {
                self.store(key, true);
                return true;
            }
        }
        self.store(key, false);
        false
    }

    fn slot(&self, key: u64) -> &AtomicU64 {
        &self.table[(key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> self.shift) as usize]
    }

    fn probe(&self, key: u64) -> Option<bool> {
        let e = self.slot(key).load(Relaxed);
        (e != 0 && e >> 2 == key).then_some(e & 3 == 2)
    }

    fn store(&self, key: u64, win: bool) {
        self.slot(key).store(key << 2 | if win { 2 } else { 1 }, Relaxed);
    }
}

impl std::fmt::Debug for Solver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "hex::Solver({0}x{0}, {1} nodes searched)", self.n, self.nodes())
    }
}

/// A reproducible set of `count` distinct random-play positions of `env` that are not over, with
/// between `min_stones` and `max_stones` stones (clamped to the board), for grading play. The
/// same arguments give the same positions on every machine. Fewer come back only when the range
/// holds fewer distinct positions than asked for (random play gives up after `1000 + 100 * count`
/// tries).
pub fn sample_positions(
    env: &Hex,
    seed: u64,
    count: usize,
    min_stones: usize,
    max_stones: usize,
) -> Vec<HexState> {
    let max_stones = max_stones.min(env.size() * env.size() - 1);
    let min_stones = min_stones.min(max_stones);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut out = Vec::with_capacity(count);
    let mut seen = std::collections::HashSet::new();
    let mut legal = Vec::new();
    for _ in 0..1000 + 100 * count {
        if out.len() == count {
            break;
        }
        let stones = rng.random_range(min_stones..=max_stones);
        let mut s = HexState::new(env.size());
        while s.moves() < stones && !s.is_terminal() {
            s.legal_actions(&mut legal);
            s.apply(legal[rng.random_range(0..legal.len())]);
        }
        if !s.is_terminal() && seen.insert(s.stones) {
            out.push(s);
        }
    }
    out
}

/// The solver as the evaluator's oracle; `None` for a state of another board size.
impl Oracle<HexState> for Solver {
    fn value(&self, state: &HexState) -> Option<i8> {
        (state.size() == self.n).then(|| Solver::value(self, state))
    }
    fn optimal_actions(&self, state: &HexState) -> Option<Vec<Token>> {
        (state.size() == self.n).then(|| Solver::optimal_actions(self, state))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::{vocab, Env};

    fn names(tokens: &[Token]) -> Vec<&'static str> {
        tokens.iter().map(|&t| vocab::symbol(t)).collect()
    }

    fn board(diagram: &str) -> HexState {
        HexState::from_diagram(diagram).unwrap_or_else(|e| panic!("{e}\n{diagram}"))
    }

    /// Plain minimax over every move order, no pruning and no table: the value by definition.
    /// Records the value of every position it meets, keyed by its stones.
    fn minimax(s: &HexState, seen: &mut HashMap<[u128; 2], i8>) -> i8 {
        let v = if s.is_terminal() {
            -1
        } else {
            let mut legal = Vec::new();
            s.legal_actions(&mut legal);
            let mut best = -1;
            for a in legal {
                let mut c = *s;
                c.apply(a);
                best = best.max(-minimax(&c, seen));
            }
            best
        };
        seen.insert(s.stones, v);
        v
    }

    #[test]
    fn empty_3x3_and_4x4_boards_are_first_player_wins() {
        for n in [3, 4] {
            let solver = Solver::new(n).unwrap();
            assert_eq!(solver.value(&HexState::new(n)), 1, "{n}x{n}");
        }
    }

    #[test]
    fn the_winning_first_moves_on_4x4_are_the_short_diagonal() {
        let solver = Solver::new(4).unwrap();
        assert_eq!(names(&solver.optimal_actions(&HexState::new(4))), ["d1", "c2", "b3", "a4"]);
    }

    #[test]
    fn the_centre_of_3x3_wins() {
        let solver = Solver::new(3).unwrap();
        let after = Hex::new(3).unwrap().start("b2").unwrap();
        assert_eq!(solver.value(&after), -1, "O to move loses");
        assert!(names(&solver.optimal_actions(&HexState::new(3))).contains(&"b2"));
    }

    #[test]
    fn every_3x3_position_matches_exhaustive_minimax() {
        let mut seen = HashMap::new();
        minimax(&HexState::new(3), &mut seen);
        let solver = Solver::new(3).unwrap();
        // Rebuild each position from its stones to ask the solver.
        let mut checked = 0;
        for (stones, v) in &seen {
            let diagram: String = (0..3)
                .map(|r| {
                    (0..3)
                        .map(|c| {
                            match (stones[0] >> (r * MAX_SIDE + c) & 1, stones[1] >> (r * MAX_SIDE + c) & 1) {
                                (1, _) => 'X',
                                (_, 1) => 'O',
                                _ => '.',
                            }
                        })
                        .collect::<String>()
                        + "\n"
                })
                .collect();
            let s = board(&diagram);
            assert_eq!(solver.value(&s), *v, "\n{}", s.render());
            checked += 1;
        }
        assert!(checked > 5000, "{checked} positions");
    }

    #[test]
    fn late_4x4_positions_match_exhaustive_minimax() {
        let env = Hex::new(4).unwrap();
        let solver = Solver::new(4).unwrap();
        let mut spread = [0; 2];
        for s in sample_positions(&env, 3, 40, 8, 12) {
            let v = minimax(&s, &mut HashMap::new());
            assert_eq!(solver.value(&s), v, "\n{}", s.render());
            spread[(v > 0) as usize] += 1;
            let mut legal = Vec::new();
            s.legal_actions(&mut legal);
            let keep: Vec<Token> = legal
                .into_iter()
                .filter(|&a| {
                    let mut c = s;
                    c.apply(a);
                    v == -1 || minimax(&c, &mut HashMap::new()) == -1
                })
                .collect();
            assert_eq!(solver.optimal_actions(&s), keep, "\n{}", s.render());
        }
        assert!(spread[0] > 0 && spread[1] > 0, "wins and losses both sampled: {spread:?}");
    }

    #[test]
    fn solves_forced_win() {
        // X to move on 4x4, with no immediate win: only b3 wins, joining b1 c1 towards the
        // bottom through two threats that O cannot both answer.
        let p = board(
            "
            . X X .
             . . . .
              . . . O
               . . O .
            ",
        );
        assert_eq!(p.to_play(), 0);
        let solver = Solver::new(4).unwrap();
        assert_eq!(solver.value(&p), 1);
        assert_eq!(names(&solver.optimal_actions(&p)), ["b3"]);
    }

    #[test]
    fn blocks_immediate_loss() {
        // O to move: X threatens a3, which completes column a. O must take it, and then wins.
        let p = board(
            "
            X . . X
             X O O .
              . . . .
               X . O .
            ",
        );
        assert_eq!(p.to_play(), 1);
        let mut threat = p;
        threat.apply(vocab::cell(3, 3));
        threat.apply(vocab::cell(2, 0));
        assert_eq!(threat.winner(), Some(0), "a3 wins for X");
        let solver = Solver::new(4).unwrap();
        assert_eq!(solver.value(&p), 1);
        assert_eq!(names(&solver.optimal_actions(&p)), ["a3"]);
    }

    #[test]
    fn optimal_actions_on_the_empty_3x3_board() {
        // Exhaustive minimax says which first moves win; the solver must agree move for move.
        let solver = Solver::new(3).unwrap();
        let empty = HexState::new(3);
        let mut legal = Vec::new();
        empty.legal_actions(&mut legal);
        let winning: Vec<Token> = legal
            .into_iter()
            .filter(|&a| {
                let mut c = empty;
                c.apply(a);
                minimax(&c, &mut HashMap::new()) == -1
            })
            .collect();
        assert_eq!(solver.optimal_actions(&empty), winning);
        assert!(names(&winning).contains(&"b2"));
    }

    /// The measurement behind `docs/hex.md` (times are not asserted):
    /// `cargo test --release -p ponder-env hex_solve_times -- --ignored --nocapture`.
    #[test]
    #[ignore = "a measurement: run in release with --ignored --nocapture"]
    fn reports_hex_solve_times_on_empty_boards() {
        for n in [3, 4] {
            let solver = Solver::new(n).unwrap();
            let t = std::time::Instant::now();
            assert_eq!(solver.value(&HexState::new(n)), 1);
            let value_s = t.elapsed().as_secs_f64();
            let value_nodes = solver.nodes();
            let t = std::time::Instant::now();
            let optimal = solver.optimal_actions(&HexState::new(n));
            println!(
                "{n}x{n} empty board: value in {:.1} ms ({value_nodes} positions), then optimal_actions {:?} in {:.1} ms",
                value_s * 1e3,
                names(&optimal),
                t.elapsed().as_secs_f64() * 1e3
            );
        }
    }

    #[test]
    fn sizes_above_four_are_an_error_not_a_panic() {
        for n in [5, 11, 2, 0] {
            let e = Solver::new(n).unwrap_err().to_string();
            assert!(e.contains(&n.to_string()) && e.contains("3..=4"), "{e}");
        }
        assert!(Solver::for_env(&Hex::new(5).unwrap()).is_err());
    }
}
