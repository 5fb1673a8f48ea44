//! Grading play: matches between players, and the optimal-move rate against an exact solver.
//!
//! Matches run every game in lockstep, so a policy player evaluates all the positions where it
//! is to move in one batched call per simulation step.

use ponder_env::{Env, Kind, Oracle, State, Token};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::search::{mcts, Compute, Evaluator, Rollout, Search, SearchConfig};

/// Something that chooses moves, for many positions at once.
pub trait Player<S: State> {
    /// A move for each (non-terminal) state; `seeds` fix each choice's random draws.
    fn choose(&mut self, states: &[&S], seeds: &[u64]) -> Vec<Token>;
    /// What this player has spent so far.
    fn compute(&self) -> Compute {
        Compute::default()
    }
}

/// A search over an evaluator: the policy's System 1 (0 simulations: the prior's best move) or
/// System 2, or rollout MCTS (over [`Rollout`]).
pub struct SearchPlayer<V> {
    pub ev: V,
    pub cfg: SearchConfig,
    pub two_player: bool,
    spent: Compute,
}

impl<V> SearchPlayer<V> {
    pub fn new(ev: V, cfg: SearchConfig, two_player: bool) -> Self {
        SearchPlayer { ev, cfg, two_player, spent: Compute::default() }
    }
}

impl<S: State, V: Evaluator<S>> Player<S> for SearchPlayer<V> {
    fn choose(&mut self, states: &[&S], seeds: &[u64]) -> Vec<Token> {
        let mut searches: Vec<Search<S>> = states
            .iter()
            .zip(seeds)
            .map(|(s, &seed)| Search::new((*s).clone(), self.two_player, seed))
            .collect();
        mcts::run(&mut searches, &mut self.ev, &self.cfg);
        let moves = searches
            .iter_mut()
            .map(|s| {
                let r = s.result(&self.cfg, 0.0);
                self.spent += r.compute;
                r.action
            })
            .collect();
        mcts::release_all(&mut searches, &mut self.ev);
        moves
    }
    fn compute(&self) -> Compute {
        self.spent
    }
}

/// Rollout MCTS with `simulations`: UCT with c = 2 and one random playout per leaf, the classic
/// baseline opponent (as OpenSpiel's `MCTSBot` with a `RandomRolloutEvaluator`).
pub fn rollout_mcts(simulations: u32, two_player: bool, seed: u64) -> SearchPlayer<Rollout> {
    let cfg = SearchConfig {
        simulations,
        algorithm: crate::search::Algorithm::Uct { c: 2.0 },
        collapse_forced: false,
    };
    SearchPlayer::new(Rollout::new(seed), cfg, two_player)
}

/// Uniformly random legal moves.
pub struct RandomPlayer;

impl<S: State> Player<S> for RandomPlayer {
    fn choose(&mut self, states: &[&S], seeds: &[u64]) -> Vec<Token> {
        let mut legal = Vec::new();
        states
            .iter()
            .zip(seeds)
            .map(|(s, &seed)| {
                s.legal_actions(&mut legal);
                legal[ChaCha8Rng::seed_from_u64(seed).random_range(0..legal.len())]
            })
            .collect()
    }
}

/// The perfect player: a random move among the solver's optimal ones.
pub struct PerfectPlayer<S> {
    pub oracle: Box<dyn Oracle<S>>,
}

impl<S: State> Player<S> for PerfectPlayer<S> {
    fn choose(&mut self, states: &[&S], seeds: &[u64]) -> Vec<Token> {
        let mut legal = Vec::new();
        states
            .iter()
            .zip(seeds)
            .map(|(s, &seed)| {
                let mut rng = ChaCha8Rng::seed_from_u64(seed);
                match self.oracle.optimal_actions(s) {
                    Some(opt) if !opt.is_empty() => opt[rng.random_range(0..opt.len())],
                    // Beyond the solver's reach: the best it can do is any legal move.
                    _ => {
                        s.legal_actions(&mut legal);
                        legal[rng.random_range(0..legal.len())]
                    }
                }
            })
            .collect()
    }
}

/// Results of a match, from the first-named player's point of view.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct MatchResult {
    pub wins: u32,
    pub draws: u32,
    pub losses: u32,
}

impl MatchResult {
    pub fn games(&self) -> u32 {
        self.wins + self.draws + self.losses
    }
    /// Wins plus half the draws, over games.
    pub fn score(&self) -> f64 {
        if self.games() == 0 {
            return 0.0;
        }
        (self.wins as f64 + 0.5 * self.draws as f64) / self.games() as f64
    }
}

/// Plays `games` games of `a` against `b`, alternating who moves first (`a` first in even
/// games), all in lockstep. `seed` fixes every random draw.
pub fn play_match<E: Env>(
    env: &E,
    a: &mut dyn Player<E::State>,
    b: &mut dyn Player<E::State>,
    games: u32,
    seed: u64,
) -> MatchResult {
    assert_eq!(env.kind(), Kind::Game, "matches are for games");
    let start = env.start("").expect("the empty history is a legal start");
    play_match_from(env, a, b, vec![start; games as usize], seed)
}

/// `pairs` random openings of `moves` uniformly random moves each (fewer where the game would
/// end), each listed twice in a row: [`play_match_from`] then plays both colours of it.
pub fn random_openings<E: Env>(env: &E, pairs: usize, moves: u32, seed: u64) -> Vec<E::State> {
    let start = env.start("").expect("the empty history is a legal start");
    let mut legal = Vec::new();
    let mut out = Vec::with_capacity(2 * pairs);
    for i in 0..pairs {
        let mut rng = ChaCha8Rng::seed_from_u64(mix(seed, i as u64, 0x0be2));
        let mut s = start.clone();
        for _ in 0..moves {
            s.legal_actions(&mut legal);
            let mut next = s.clone();
            next.apply(legal[rng.random_range(0..legal.len())]);
            if next.is_terminal() {
                break;
            }
            s = next;
        }
        out.push(s.clone());
        out.push(s);
    }
    out
}

/// [`play_match`] from given starting positions, one game each: in even games `a` plays the
/// first player's side, in odd games the second's, whoever is to move in the start.
pub fn play_match_from<E: Env>(
    env: &E,
    a: &mut dyn Player<E::State>,
    b: &mut dyn Player<E::State>,
    starts: Vec<E::State>,
    seed: u64,
) -> MatchResult {
    assert_eq!(env.kind(), Kind::Game, "matches are for games");
    let mut states = starts;
    let mut ply = 0u64;
    loop {
        // For each player, the games where it is to move.
        let mut turn: [Vec<usize>; 2] = [Vec::new(), Vec::new()];
        for (g, s) in states.iter().enumerate() {
            if !s.is_terminal() {
                let a_first = g % 2 == 0;
                let a_to_move = (s.to_play() == 0) == a_first;
                turn[if a_to_move { 0 } else { 1 }].push(g);
            }
        }
        if turn[0].is_empty() && turn[1].is_empty() {
            break;
        }
        for (side, idx) in turn.iter().enumerate() {
            let player: &mut dyn Player<E::State> = if side == 0 { &mut *a } else { &mut *b };
            if idx.is_empty() {
                continue;
            }
            let seeds: Vec<u64> = idx.iter().map(|&g| mix(seed, g as u64, ply)).collect();
            let moves = {
                let views: Vec<&E::State> = idx.iter().map(|&g| &states[g]).collect();
                player.choose(&views, &seeds)
            };
            for (&g, m) in idx.iter().zip(moves) {
                states[g].apply(m);
            }
        }
        ply += 1;
    }
    let mut r = MatchResult::default();
    for (g, s) in states.iter().enumerate() {
        let v = s.rules_value().unwrap_or(0.0);
        let for_a = if g % 2 == 0 { v } else { -v };
        if for_a > 0.0 {
            r.wins += 1;
        } else if for_a < 0.0 {
            r.losses += 1;
        } else {
            r.draws += 1;
        }
    }
    r
}

/// Elo relative to an opponent from a score against it: `400 log10(s / (1 - s))`, with the
/// score kept `half_game` away from 0 and 1 (a score of 0 out of `n` games is read as 0.5 / n)
/// so that a clean sweep gives a finite bound rather than infinity.
pub fn elo_from_score(score: f64, half_game: f64) -> f64 {
    let s = score.clamp(half_game, 1.0 - half_game);
    400.0 * (s / (1.0 - s)).log10()
}

/// The share of `positions` where `player` chooses a move the oracle calls optimal (positions the
/// oracle cannot solve are skipped). Returns (rate, positions graded).
pub fn optimal_move_rate<S: State>(
    oracle: &dyn Oracle<S>,
    positions: &[S],
    player: &mut dyn Player<S>,
    seed: u64,
) -> (f64, usize) {
    let graded: Vec<(&S, Vec<Token>)> =
        positions.iter().filter_map(|p| oracle.optimal_actions(p).map(|o| (p, o))).collect();
    if graded.is_empty() {
        return (0.0, 0);
    }
    let views: Vec<&S> = graded.iter().map(|(p, _)| *p).collect();
    let seeds: Vec<u64> = (0..views.len() as u64).map(|i| mix(seed, i, 0)).collect();
    let moves = player.choose(&views, &seeds);
    let good = graded.iter().zip(&moves).filter(|((_, opt), m)| opt.contains(m)).count();
    (good as f64 / graded.len() as f64, graded.len())
}

fn mix(seed: u64, a: u64, b: u64) -> u64 {
    let mut x = seed ^ a.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ b.wrapping_mul(0xC2B2_AE3D_27D4_EB4F);
    x ^= x >> 31;
    x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x ^ (x >> 29)
}
