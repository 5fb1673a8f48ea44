//! Search throughput, model-free.
//!
//! - `mcts_rollout/<game>/<position>`: one UCT search (c = 2) of 1,000 simulations with one
//!   random rollout per leaf, single thread — the setting of OpenSpiel's `MCTSBot` with a
//!   `RandomRolloutEvaluator`, which `scripts/bench_search_vs_openspiel.py` runs beside this
//!   one and compares (simulations per second = 1,000 / time per iteration).
//! - `mcts_uniform/<trees>`: search overhead with a uniform evaluator (no rollouts, no model):
//!   the cost of the tree itself, at 1 tree and at 64 trees in lockstep.
//!
//! Run: `cargo bench --bench search`.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use ponder::env::connect4::Connect4;
use ponder::env::hex::Hex;
use ponder::env::tictactoe::TicTacToe;
use ponder::env::{Env, State};
use ponder::search::{mcts, Algorithm, Rollout, Search, SearchConfig, Uniform};

const SIMS: u32 = 1000;

fn uct(simulations: u32) -> SearchConfig {
    SearchConfig { simulations, algorithm: Algorithm::Uct { c: 2.0 }, collapse_forced: false }
}

fn bench_game<E: Env>(c: &mut Criterion, name: &str, env: &E, positions: &[(&str, &str)]) {
    let mut g = c.benchmark_group("mcts_rollout");
    g.throughput(Throughput::Elements(SIMS as u64));
    g.sample_size(20);
    for (label, history) in positions {
        let start = env.start(history).expect("a legal bench position");
        assert!(!start.is_terminal());
        g.bench_function(BenchmarkId::new(name, label), |b| {
            let mut seed = 0;
            b.iter(|| {
                seed += 1;
                let mut s = Search::new(start.clone(), true, seed);
                let mut ev = Rollout::new(seed);
                mcts::run(std::slice::from_mut(&mut s), &mut ev, &uct(SIMS));
                s.tree.len()
            })
        });
    }
    g.finish();
}

fn rollout(c: &mut Criterion) {
    bench_game(c, "tictactoe", &TicTacToe, &[("empty", ""), ("midgame", "b2 a1 c3")]);
    bench_game(c, "connect4", &Connect4, &[("empty", ""), ("midgame", "d c d d e c b f")]);
    let hex: Hex = Hex::new(5).expect("5 is a legal size");
    bench_game(c, "hex5", &hex, &[("empty", ""), ("midgame", "c3 b3 c2 d2 b4 a4")]);
}

fn uniform(c: &mut Criterion) {
    let mut g = c.benchmark_group("mcts_uniform");
    g.sample_size(20);
    let start = Connect4.start("").expect("empty board");
    for trees in [1usize, 64] {
        g.throughput(Throughput::Elements(SIMS as u64 * trees as u64));
        g.bench_function(BenchmarkId::new("connect4_puct", trees), |b| {
            b.iter(|| {
                let mut searches: Vec<Search<_>> =
                    (0..trees).map(|i| Search::new(start, true, i as u64)).collect();
                mcts::run(&mut searches, &mut Uniform::default(), &SearchConfig::puct(SIMS));
                searches.len()
            })
        });
    }
    g.finish();
}

criterion_group!(benches, rollout, uniform);
criterion_main!(benches);
