//! Environment steps: seeded random playouts from the empty board, the environment's share of a
//! search with random rollouts (legal actions, apply, the terminal check, a clone of the root).
//!
//! Each game reports two throughputs of the same work, a batch of 100 playouts:
//! `env_steps/<game>/playouts` in playouts per second, `env_steps/<game>/steps` in moves per second.
//!
//! `cargo bench -p ponder-env --bench env_steps`

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use ponder_env::connect4::Connect4;
use ponder_env::hex::Hex;
use ponder_env::tictactoe::TicTacToe;
use ponder_env::{Env, State, Token};

/// Playouts per measured batch.
const PLAYOUTS: u64 = 100;

/// Plays uniformly random moves from `root` to the end; returns the number of moves.
fn playout<S: State>(root: &S, rng: &mut ChaCha8Rng, legal: &mut Vec<Token>) -> u64 {
    let mut state = root.clone();
    let mut steps = 0;
    loop {
        state.legal_actions(legal);
        if legal.is_empty() {
            break;
        }
        state.apply(legal[rng.random_range(0..legal.len())]);
        steps += 1;
    }
    std::hint::black_box(state.rules_value());
    steps
}

/// A batch of seeded playouts; returns the total number of moves (the same on every call).
fn batch<S: State>(root: &S, legal: &mut Vec<Token>) -> u64 {
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    (0..PLAYOUTS).map(|_| playout(root, &mut rng, legal)).sum()
}

fn bench_env<E: Env>(c: &mut Criterion, name: &str, env: &E) {
    let root = env.start("").expect("the empty board");
    let mut legal = Vec::with_capacity(env.max_actions());
    let steps = batch(&root, &mut legal);
    let mut group = c.benchmark_group(format!("env_steps/{name}"));
    group.throughput(Throughput::Elements(PLAYOUTS));
    group.bench_function("playouts", |b| b.iter(|| batch(&root, &mut legal)));
    group.throughput(Throughput::Elements(steps));
    group.bench_function("steps", |b| b.iter(|| batch(&root, &mut legal)));
    group.finish();
}

fn env_steps(c: &mut Criterion) {
    bench_env(c, "tictactoe", &TicTacToe);
    bench_env(c, "connect4", &Connect4);
    bench_env(c, "hex5", &Hex::new(5).expect("a valid size"));
    bench_env(c, "hex11", &Hex::new(11).expect("a valid size"));
}

criterion_group!(benches, env_steps);
criterion_main!(benches);
