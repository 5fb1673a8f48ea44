//! Searches and decoders, tested with no model: uniform, rollout and hand-made evaluators, on
//! hand-written positions (KataGo style) and toy tasks.

use ponder::env::connect4::{self, Connect4, Connect4State, Solver as Connect4Solver};
use ponder::env::hex::{self, Hex, HexState, Solver as HexSolver};
use ponder::env::tictactoe::{Solver, TicTacToe, TicTacToeState};
use ponder::env::{vocab, Env, State, Token};
use ponder::search::select::considered_visit_table;
use ponder::search::{
    decode, mcts, Algorithm, Decoder, Evaluations, Evaluator, Fpu, Leaf, Mixed, Rerank, Rollout, RootNoise,
    Search, SearchConfig, Uniform, NO_CACHE,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn ttt(history: &str) -> TicTacToeState {
    TicTacToe.start(history).unwrap()
}

fn cell(name: &str) -> Token {
    let (r, c) = vocab::parse_cell(name, 11, 11).unwrap();
    vocab::cell(r, c)
}

/// Runs one search and returns it (for inspecting the tree) with the chosen action.
fn search<S: State, E: Evaluator<S>>(
    state: S,
    two_player: bool,
    ev: &mut E,
    cfg: &SearchConfig,
) -> (Search<S>, Token) {
    let mut s = Search::new(state, two_player, 7);
    mcts::run(std::slice::from_mut(&mut s), ev, cfg);
    let a = s.result(cfg, 0.0).action;
    (s, a)
}

#[test]
fn solves_forced_win() {
    // X: a1 b1, O: a2 b2. X to move wins at c1.
    let (_, a) = search(ttt("a1 a2 b1 b2"), true, &mut Uniform::default(), &SearchConfig::puct(200));
    assert_eq!(a, cell("c1"));
}

#[test]
fn blocks_immediate_loss() {
    // X: a1 b1, O: b2. O to move must block at c1.
    let (s, a) = search(ttt("a1 b2 b1"), true, &mut Uniform::default(), &SearchConfig::puct(400));
    assert_eq!(a, cell("c1"), "\n{}", s.tree.show(ponder::search::NodeId::ROOT));
}

#[test]
fn prefers_faster_win() {
    // Every position where the player to move has an immediate win and also slower winning
    // moves: the search must take a win now.
    let solver = Solver::new();
    let mut checked = 0;
    for p in solver.positions() {
        if p.is_terminal() || solver.value(&p) != 1 {
            continue;
        }
        let mut legal = Vec::new();
        p.legal_actions(&mut legal);
        let wins_now: Vec<Token> = legal
            .iter()
            .copied()
            .filter(|&a| {
                let mut c = p;
                c.apply(a);
                c.is_terminal() && c.rules_value() != Some(0.0)
            })
            .collect();
        let slower = solver.optimal_actions(&p).len() > wins_now.len();
        if wins_now.is_empty() || !slower {
            continue;
        }
        let (_, a) = search(p, true, &mut Uniform::default(), &SearchConfig::puct(100));
        assert!(wins_now.contains(&a), "{p:?}: chose {} over a win now", vocab::symbol(a));
        checked += 1;
    }
    assert!(checked > 50, "only {checked} positions had both kinds of win");
}

fn c4(history: &str) -> Connect4State {
    Connect4.start(history).unwrap()
}

fn hex_board(size: usize, history: &str) -> HexState {
    Hex::new(size).unwrap().start(history).unwrap()
}

#[test]
fn connect4_solves_forced_win() {
    // X: b6 c6 d6 on the bottom row, O: b5 c5 d5 above them. X to move wins at a6 or e6.
    let (s, a) = search(c4("d6 d5 c6 c5 b6 b5"), true, &mut Uniform::default(), &SearchConfig::puct(200));
    assert!([cell("a6"), cell("e6")].contains(&a), "\n{}", s.tree.show(ponder::search::NodeId::ROOT));
}

#[test]
fn connect4_blocks_immediate_loss() {
    // O: d6 d5 d4 in the centre column. X to move must block at d3.
    let (s, a) = search(c4("a6 d6 a5 d5 b6 d4"), true, &mut Uniform::default(), &SearchConfig::puct(400));
    assert_eq!(a, cell("d3"), "\n{}", s.tree.show(ponder::search::NodeId::ROOT));
}

#[test]
fn hex_solves_forced_win() {
    // 4x4, X (top to bottom): b1 b2 b3; O: a1 d1 d4. X to move wins at a4 or b4.
    let (s, a) =
        search(hex_board(4, "b1 a1 b2 d1 b3 d4"), true, &mut Uniform::default(), &SearchConfig::puct(200));
    assert!([cell("a4"), cell("b4")].contains(&a), "\n{}", s.tree.show(ponder::search::NodeId::ROOT));
}

#[test]
fn hex_blocks_immediate_loss() {
    // 3x3, X: a1 a2 down the first column, O: c3. X's only way on is a3: O to move must block it.
    let (s, a) = search(hex_board(3, "a1 c3 a2"), true, &mut Uniform::default(), &SearchConfig::puct(400));
    assert_eq!(a, cell("a3"), "\n{}", s.tree.show(ponder::search::NodeId::ROOT));
}

/// Mean |root value - solver value| over `sample` at each budget, with a uniform evaluator.
fn value_errors<S: State>(sample: &[S], truth: &[i8], budgets: &[u32]) -> Vec<f32> {
    budgets
        .iter()
        .map(|&sims| {
            let mut searches: Vec<Search<S>> =
                sample.iter().map(|p| Search::new(p.clone(), true, 3)).collect();
            mcts::run(&mut searches, &mut Uniform::default(), &SearchConfig::puct(sims));
            searches.iter().zip(truth).map(|(s, &v)| (s.tree.root_value() - v as f32).abs()).sum::<f32>()
                / sample.len() as f32
        })
        .collect()
}

/// Errors at growing budgets must fall at every step and end below `limit`.
fn assert_errors_shrink_below(errors: &[f32], limit: f32) {
    assert!(errors.windows(2).all(|w| w[0] > w[1]), "errors {errors:?} should shrink");
    let last = errors[errors.len() - 1];
    assert!(last < limit, "mean error {last} at the largest budget (errors {errors:?})");
}

#[test]
fn connect4_root_values_converge_to_the_solvers_as_simulations_grow() {
    let solver = Connect4Solver::new();
    let sample = connect4::sample_positions(11, 40, 30, 36);
    let truth: Vec<i8> = sample.iter().map(|p| solver.value(p)).collect();
    assert_errors_shrink_below(&value_errors(&sample, &truth, &[16, 256, 4096]), 0.25);
}

#[test]
fn hex_root_values_converge_to_the_solvers_as_simulations_grow() {
    let env = Hex::new(4).unwrap();
    let solver = HexSolver::for_env(&env).unwrap();
    let sample = hex::sample_positions(&env, 12, 40, 6, 11);
    let truth: Vec<i8> = sample.iter().map(|p| solver.value(p)).collect();
    assert_errors_shrink_below(&value_errors(&sample, &truth, &[16, 256, 4096]), 0.25);
}

#[test]
fn root_values_converge_to_minimax_values_as_simulations_grow() {
    let solver = Solver::new();
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let all: Vec<TicTacToeState> = solver.positions().into_iter().filter(|p| !p.is_terminal()).collect();
    let sample: Vec<TicTacToeState> = (0..150).map(|_| all[rng.random_range(0..all.len())]).collect();
    let truth: Vec<i8> = sample.iter().map(|p| solver.value(p)).collect();
    assert_errors_shrink_below(&value_errors(&sample, &truth, &[16, 256, 4096]), 0.1);
}

#[test]
fn chooses_optimal_moves_in_every_position_given_enough_simulations() {
    let solver = Solver::new();
    let positions: Vec<TicTacToeState> =
        solver.positions().into_iter().filter(|p| !p.is_terminal()).collect();
    let cfg = SearchConfig::puct(3000);
    let mut searches: Vec<Search<TicTacToeState>> =
        positions.iter().map(|&p| Search::new(p, true, 5)).collect();
    mcts::run(&mut searches, &mut Uniform::default(), &cfg);
    let mut wrong = 0;
    for (s, p) in searches.iter_mut().zip(&positions) {
        if !solver.optimal_actions(p).contains(&s.result(&cfg, 0.0).action) {
            wrong += 1;
        }
    }
    assert_eq!(positions.len(), 4520);
    assert!(wrong <= 45, "{wrong} of 4520 positions got a suboptimal move");
}

#[test]
fn searches_are_deterministic_for_a_seed() {
    let cfg = SearchConfig {
        simulations: 300,
        algorithm: Algorithm::Puct {
            c_puct: 1.5,
            fpu: Fpu::ParentMinus { reduction: 0.1 },
            root_noise: RootNoise::Dirichlet { alpha: 0.3, weight: 0.25 },
        },
        collapse_forced: true,
    };
    let run = || {
        let mut s = Search::new(ttt("b2"), true, 11);
        mcts::run(std::slice::from_mut(&mut s), &mut Rollout::new(3), &cfg);
        (s.tree.show(ponder::search::NodeId::ROOT).to_string(), s.result(&cfg, 1.0).action)
    };
    assert_eq!(run(), run());
}

#[test]
fn lockstep_batches_equal_single_searches() {
    let cfg = SearchConfig::gumbel(32, 1.0);
    let starts = [ttt(""), ttt("a1"), ttt("b2 c3"), ttt("a1 b1 c1")];
    let mut together: Vec<Search<TicTacToeState>> =
        starts.iter().enumerate().map(|(i, &p)| Search::new(p, true, i as u64)).collect();
    mcts::run(&mut together, &mut Uniform::default(), &cfg);
    for (i, &p) in starts.iter().enumerate() {
        let mut alone = Search::new(p, true, i as u64);
        mcts::run(std::slice::from_mut(&mut alone), &mut Uniform::default(), &cfg);
        let (mut a, mut b) = (alone.result(&cfg, 0.0), together[i].result(&cfg, 0.0));
        // Wall time differs; everything else must not.
        a.compute.seconds = 0.0;
        b.compute.seconds = 0.0;
        assert_eq!(a, b);
    }
}

#[test]
fn subtree_reuse_keeps_the_chosen_childs_statistics() {
    let cfg = SearchConfig::puct(500);
    let mut s = Search::new(ttt(""), true, 1);
    let mut ev = Uniform::default();
    mcts::run(std::slice::from_mut(&mut s), &mut ev, &cfg);
    let r = s.result(&cfg, 0.0);
    let child = s.tree.child_by_action(ponder::search::NodeId::ROOT, r.action).unwrap();
    let (visits, q) = (s.tree.visits(child), s.tree.q(child).unwrap());
    s.advance(r.action, true, &mut ev);
    assert_eq!(s.state().tokens(), ttt(vocab::symbol(r.action)).tokens());
    assert_eq!(s.tree.visits(ponder::search::NodeId::ROOT), visits);
    assert_eq!(s.tree.q(ponder::search::NodeId::ROOT).unwrap(), q);
    // The reused tree keeps searching correctly.
    mcts::run(std::slice::from_mut(&mut s), &mut ev, &cfg);
    assert_eq!(s.tree.visits(ponder::search::NodeId::ROOT), visits + 500);
}

#[test]
fn sequential_halving_table_follows_the_paper_schedule() {
    // 4 actions, 8 simulations: round 1 visits each of the 4 once, round 2 each of the best 2
    // twice more.
    assert_eq!(considered_visit_table(4, 8), vec![0, 0, 0, 0, 1, 1, 2, 2]);
    assert_eq!(considered_visit_table(1, 3), vec![0, 1, 2]);
    assert_eq!(considered_visit_table(16, 2), vec![0, 0]);
    assert_eq!(considered_visit_table(2, 5).len(), 5);
}

// ----- a bandit: one action, reward q[arm] -----

#[derive(Clone, Debug)]
struct Bandit {
    q: std::sync::Arc<Vec<f32>>,
    tokens: Vec<Token>,
}

impl State for Bandit {
    fn tokens(&self) -> &[Token] {
        &self.tokens
    }
    fn legal_actions(&self, out: &mut Vec<Token>) {
        out.clear();
        if self.tokens.len() == 1 {
            out.extend((0..self.q.len()).map(|i| vocab::cell(i / 11, i % 11)));
        }
    }
    fn apply(&mut self, a: Token) {
        self.tokens.push(a);
    }
    fn to_play(&self) -> usize {
        0
    }
    fn is_terminal(&self) -> bool {
        self.tokens.len() == 2
    }
    fn rules_value(&self) -> Option<f32> {
        let (r, c) = vocab::cell_coords(*self.tokens.get(1)?)?;
        Some(self.q[r * 11 + c])
    }
}

/// Fixed priors for the bandit's root.
struct FixedPriors(Vec<f32>);

impl Evaluator<Bandit> for FixedPriors {
    fn evaluate(&mut self, leaves: &[Leaf<'_, Bandit>], out: &mut Evaluations) {
        out.clear();
        for l in leaves {
            if l.legal.is_empty() {
                out.values.push(0.5);
            } else {
                out.priors.extend_from_slice(&self.0);
                out.values.push(0.5);
            }
            out.caches.push(NO_CACHE);
            out.positions.push(1);
        }
    }
}

#[test]
fn gumbel_improves_the_policy_on_random_bandits() {
    let mut rng = ChaCha8Rng::seed_from_u64(42);
    for sims in [2, 4, 16] {
        let mut gain = 0.0;
        let trials = 300;
        for t in 0..trials {
            let k = 16;
            let q: Vec<f32> = (0..k).map(|_| rng.random_range(0.0..1.0)).collect();
            let logits: Vec<f32> = (0..k).map(|_| rng.random_range(-2.0..2.0)).collect();
            let prior = ponder::search::select::softmax(&logits);
            let expected_prior: f32 = prior.iter().zip(&q).map(|(p, q)| p * q).sum();
            let state = Bandit { q: std::sync::Arc::new(q.clone()), tokens: vec![vocab::BOS] };
            let cfg = SearchConfig::gumbel(sims, 1.0);
            let mut s = Search::new(state, false, t);
            mcts::run(std::slice::from_mut(&mut s), &mut FixedPriors(prior), &cfg);
            let a = s.result(&cfg, 0.0).action;
            let (r, c) = vocab::cell_coords(a).unwrap();
            gain += q[r * 11 + c] - expected_prior;
        }
        let mean = gain / trials as f32;
        assert!(mean > 0.05, "{sims} simulations: the chosen arm beats the prior by only {mean:.3}");
    }
}

// ----- a two-step toy task for the System 1 decoders -----

#[derive(Clone, Debug)]
struct Toy(Vec<Token>);

const A: Token = vocab::FIRST_CELL;
const B: Token = vocab::FIRST_CELL + 1;

impl State for Toy {
    fn tokens(&self) -> &[Token] {
        &self.0
    }
    fn legal_actions(&self, out: &mut Vec<Token>) {
        out.clear();
        if self.0.len() < 3 {
            out.extend([A, B]);
        }
    }
    fn apply(&mut self, a: Token) {
        self.0.push(a);
    }
    fn to_play(&self) -> usize {
        0
    }
    fn is_terminal(&self) -> bool {
        self.0.len() == 3
    }
    fn rules_value(&self) -> Option<f32> {
        // The rules accept only "b a".
        self.is_terminal().then(|| if self.0[1..] == [B, A] { 1.0 } else { 0.0 })
    }
}

/// P(a) = 0.6 first; after a: 0.5 / 0.5; after b: a with 0.9. Values: 0.9 for "b a", else 0.1.
struct ToyModel {
    calls: usize,
}

impl Evaluator<Toy> for ToyModel {
    fn evaluate(&mut self, leaves: &[Leaf<'_, Toy>], out: &mut Evaluations) {
        out.clear();
        for l in leaves {
            self.calls += 1;
            let t = l.state.tokens();
            match t.len() {
                1 => out.priors.extend([0.6, 0.4]),
                2 if t[1] == A => out.priors.extend([0.5, 0.5]),
                2 => out.priors.extend([0.9, 0.1]),
                _ => {}
            }
            out.values.push(if t.len() == 3 && t[1..] == [B, A] { 0.9 } else { 0.1 });
            out.caches.push(NO_CACHE);
            out.positions.push(1);
        }
    }
}

#[test]
fn beam_search_finds_the_more_probable_sequence_that_greedy_misses() {
    let start = Toy(vec![vocab::BOS]);
    let mut m = ToyModel { calls: 0 };
    let greedy = decode(std::slice::from_ref(&start), &mut m, &Decoder::Greedy, 0);
    assert_eq!(greedy[0].state.0[1..], [A, A]);
    assert!((greedy[0].logprob - (0.6f32 * 0.5).ln()).abs() < 1e-5);
    let beam = decode(std::slice::from_ref(&start), &mut m, &Decoder::Beam { width: 2 }, 0);
    assert_eq!(beam[0].state.0[1..], [B, A]);
    assert!((beam[0].logprob - (0.4f32 * 0.9).ln()).abs() < 1e-5);
    assert_eq!(beam[0].compute.model_calls, 3, "root, then both beams");
}

#[test]
fn best_of_n_reranks_by_value_and_by_rules() {
    let starts = vec![Toy(vec![vocab::BOS]); 3];
    for rerank in [Rerank::Value, Rerank::Rules] {
        let mut m = ToyModel { calls: 0 };
        let out = decode(&starts, &mut m, &Decoder::BestOfN { n: 16, temperature: 1.0, rerank }, 9);
        for d in &out {
            assert_eq!(d.state.0[1..], [B, A], "16 samples find b a (p = 0.36) and the reranker keeps it");
            assert_eq!(d.compute.model_calls, 16 * 2 + 16, "two steps per sample plus one value each");
        }
    }
}

#[test]
fn sampling_is_deterministic_for_a_seed_and_varies_across_seeds() {
    let starts = vec![Toy(vec![vocab::BOS]); 40];
    let run = |seed| {
        let out = decode(&starts, &mut ToyModel { calls: 0 }, &Decoder::Sample { temperature: 1.0 }, seed);
        out.into_iter().map(|d| d.state.0).collect::<Vec<_>>()
    };
    assert_eq!(run(1), run(1));
    assert_ne!(run(1), run(2));
}

#[test]
fn zero_simulations_play_the_prior_move() {
    let start = Toy(vec![vocab::BOS]);
    let cfg = SearchConfig::puct(0);
    let mut s = Search::new(start, false, 0);
    let mut m = ToyModel { calls: 0 };
    mcts::run(std::slice::from_mut(&mut s), &mut m, &cfg);
    let r = s.result(&cfg, 0.0);
    assert_eq!(r.action, A);
    assert_eq!(r.compute.model_calls, 1);
    assert_eq!(m.calls, 1);
}

#[test]
fn search_beats_the_policy_when_the_rules_can_check() {
    // The policy prefers "a", but the rules only accept "b a": a small search finds it.
    let cfg = SearchConfig::puct(16);
    let mut s = Search::new(Toy(vec![vocab::BOS]), false, 0);
    let mut m = ToyModel { calls: 0 };
    mcts::run(std::slice::from_mut(&mut s), &mut m, &cfg);
    assert_eq!(s.result(&cfg, 0.0).action, B, "\n{}", s.tree.show(ponder::search::NodeId::ROOT));
}

#[test]
fn dot_export_is_valid_graphviz_with_visits_and_priors() {
    let (s, _) = search(ttt("b2"), true, &mut Uniform::default(), &SearchConfig::puct(100));
    let dot = ponder::search::dot::to_dot(&s.tree, 5, 30);
    assert!(dot.starts_with("digraph {"), "{dot}");
    assert!(dot.trim_end().ends_with('}'));
    assert_eq!(dot.matches('{').count(), dot.matches('}').count());
    assert!(dot.contains("N=101") && dot.contains("P=0.125"), "{dot}");
    let nodes = dot.lines().filter(|l| l.contains("shape=box")).count();
    assert!((2..=30).contains(&nodes), "{nodes} nodes");
}

// ---------------------------------------------------------------------------------------------
// Matches from random openings and Elo against perfect play

#[test]
fn perfect_play_scores_one_half_against_itself_from_paired_openings_and_random_play_less() {
    use ponder::eval::games::{self, PerfectPlayer, RandomPlayer};
    let env = Hex::new(3).unwrap();
    let openings = games::random_openings(&env, 30, 2, 7);
    assert_eq!(openings.len(), 60);
    for pair in openings.chunks(2) {
        assert_eq!(pair[0].tokens(), pair[1].tokens(), "each opening is played once per colour");
        assert_eq!(pair[0].tokens().len(), 3, "two random moves after <bos>");
    }
    let perfect = || PerfectPlayer { oracle: env.oracle().unwrap() };
    let r = games::play_match_from(&env, &mut perfect(), &mut perfect(), openings.clone(), 1);
    assert_eq!(r.games(), 60);
    // From each opening the side the solver calls winning wins, whoever holds it: one win each.
    assert_eq!(r.wins, 30, "{r:?}");
    assert_eq!(games::elo_from_score(r.score(), 0.5 / 60.0), 0.0);
    let r = games::play_match_from(&env, &mut RandomPlayer, &mut perfect(), openings, 1);
    assert!(r.score() < 0.4, "random play loses won positions to the solver: {r:?}");
    let elo = games::elo_from_score(r.score(), 0.5 / 60.0);
    assert!(elo < -70.0, "{elo}");
    // A clean sweep is a finite bound, not infinity.
    let floor = games::elo_from_score(0.0, 0.5 / 60.0);
    assert!(floor.is_finite() && floor < -700.0, "{floor}");
}

/// Evaluates `states` once with `ev` (no caches): the flat priors and the values.
fn evaluate_all<S: State, E: Evaluator<S>>(ev: &mut E, states: &[S]) -> (Vec<f32>, Vec<f32>) {
    let legal: Vec<Vec<Token>> = states
        .iter()
        .map(|s| {
            let mut l = Vec::new();
            s.legal_actions(&mut l);
            l
        })
        .collect();
    let leaves: Vec<Leaf<'_, S>> = states
        .iter()
        .zip(&legal)
        .map(|(state, legal)| Leaf { state, legal, parent: NO_CACHE, keep: false })
        .collect();
    let mut out = Evaluations::default();
    ev.evaluate(&leaves, &mut out);
    (out.priors, out.values)
}

#[test]
fn mixed_leaf_values_are_alphagos_blend_of_the_inner_value_and_the_playouts() {
    // Positions of both players to move, early and late, so playouts differ and signs matter.
    let states = [ttt(""), ttt("a1"), ttt("a1 b2 c3"), ttt("a1 a2 b1 b2"), ttt("b2 a1 c3 a3")];
    let inner = Uniform { value: 0.4 };
    let (inner_priors, _) = evaluate_all(&mut { inner }, &states);
    for rollouts in [1, 3] {
        let mut playouts = Rollout::new(21);
        playouts.rollouts = rollouts;
        let (_, z) = evaluate_all(&mut playouts, &states);
        assert!(z.iter().any(|&v| v != z[0]), "the playouts should differ across positions: {z:?}");
        for lambda in [0.0f32, 0.25, 0.5, 1.0] {
            let mut mixed = Mixed::new(inner, lambda, 21);
            mixed.rollout.rollouts = rollouts;
            let (priors, values) = evaluate_all(&mut mixed, &states);
            assert_eq!(priors, inner_priors, "the priors are the inner evaluator's");
            for (i, (&v, &z)) in values.iter().zip(&z).enumerate() {
                let want = (1.0 - lambda) * 0.4 + lambda * z;
                assert!((v - want).abs() < 1e-6, "lambda {lambda}, position {i}: {v} != {want}");
            }
        }
    }
}
