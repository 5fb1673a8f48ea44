//! The conformance suite every environment must pass, as OpenSpiel runs one on every game.
//!
//! Adding an environment to it is one line in the test at the bottom of this file (which runs it
//! on every entry of the registry) — or, for a parameterised variant, one call of [`check`].
//!
//! What it checks, on seeded random playouts:
//! - episodes end within [`Env::max_actions`], and legal actions exist exactly until terminal;
//! - legal actions are sorted, unique, and applying one extends the tokens by exactly it;
//! - two-player outcomes are zero-sum results in {-1, 0, +1}; task rewards lie in [0, 1];
//! - a clone equals the original and evolves identically;
//! - the same seed gives the same episode, and generated tasks are deterministic;
//! - every generated prompt parses back into a start state, and grading never panics.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::{Env, Kind, State, Token};

/// Plays one seeded random episode from the start of task `index`, checking the per-step
/// invariants; returns the actions taken.
pub fn random_episode<E: Env>(env: &E, seed: u64, index: u64) -> Vec<Token> {
    let task = env.generate(seed, index, env.curriculum_levels().saturating_sub(1));
    let mut state = env
        .start(&task.prompt)
        .unwrap_or_else(|e| panic!("{}: generated prompt {:?} does not parse: {e}", env.spec(), task.prompt));
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ index.rotate_left(17));
    let mut legal = Vec::new();
    let mut actions = Vec::new();
    loop {
        state.legal_actions(&mut legal);
        if state.is_terminal() {
            assert!(legal.is_empty(), "{}: terminal state has legal actions {legal:?}", env.spec());
            break;
        }
        assert!(!legal.is_empty(), "{}: non-terminal state without legal actions: {state:?}", env.spec());
        assert!(
            legal.windows(2).all(|w| w[0] < w[1]),
            "{}: legal actions not sorted and unique: {legal:?}",
            env.spec()
        );
        assert!(
            actions.len() < env.max_actions(),
            "{}: episode longer than max_actions = {}",
            env.spec(),
            env.max_actions()
        );
        if env.kind() == Kind::Task {
            assert_eq!(state.to_play(), 0, "{}: a task has one player", env.spec());
        } else {
            assert!(state.to_play() < 2);
        }
        let a = legal[rng.random_range(0..legal.len())];
        let before = state.tokens().to_vec();
        let copy = state.clone();
        state.apply(a);
        let after = state.tokens();
        assert!(
            after.len() == before.len() + 1 && after.starts_with(&before) && after[before.len()] == a,
            "{}: applying {a} must extend the tokens by exactly it",
            env.spec()
        );
        let mut copy2 = copy.clone();
        copy2.apply(a);
        assert_eq!(copy2.tokens(), state.tokens(), "{}: a clone evolves differently", env.spec());
        actions.push(a);
    }
    let v = state.rules_value();
    match env.kind() {
        Kind::Game => {
            let v = v.unwrap_or_else(|| panic!("{}: a game's terminal state has no result", env.spec()));
            assert!(v == 1.0 || v == 0.0 || v == -1.0, "{}: game result {v}", env.spec());
        }
        Kind::Task => {
            if let Some(v) = v {
                assert!((0.0..=1.0).contains(&v), "{}: reward {v} outside [0, 1]", env.spec());
            }
            let answer = env.answer(&state);
            let g = env.grade(&task, &answer);
            assert!((0.0..=1.0).contains(&g.reward), "{}: graded reward {}", env.spec(), g.reward);
            assert_eq!(g.correct, g.reward == 1.0, "{}: correct iff reward 1", env.spec());
        }
    }
    actions
}

/// Runs the whole suite on `env` over `episodes` seeded episodes.
pub fn check<E: Env>(env: &E, episodes: u64) {
    for i in 0..episodes {
        let a = random_episode(env, 7, i);
        let b = random_episode(env, 7, i);
        assert_eq!(a, b, "{}: the same seed must give the same episode", env.spec());
        let t1 = env.generate(3, i, 0);
        let t2 = env.generate(3, i, 0);
        assert_eq!(t1, t2, "{}: generate must be deterministic", env.spec());
        let rebuilt = env
            .task(&t1.id, &t1.prompt, &serde_json::Value::Object(t1.truth.to_json_fields()))
            .unwrap_or_else(|e| panic!("{}: a generated task does not round-trip: {e}", env.spec()));
        assert_eq!(rebuilt.truth, t1.truth, "{}: truth lost in a suite record", env.spec());
        // Grading garbage never panics and scores zero.
        for junk in ["", "?", "((((", "9999999999999999999999999", "x//0", "é"] {
            let g = env.grade(&t1, junk);
            if env.kind() == Kind::Task {
                assert!(!g.correct, "{}: {junk:?} graded correct", env.spec());
            }
        }
        // Malformed prompts are errors, not panics.
        for junk in ["é", "((((", "1 2 3 4 5 6 7 8 9 10 11 12 13 14", "zz9"] {
            let _ = env.start(junk);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::spec::REGISTRY;
    use crate::{with_env, AnyEnv};

    /// One line per environment: the registry. A parameterised variant is one more string.
    #[test]
    fn every_environment_conforms() {
        let mut specs: Vec<String> = REGISTRY.iter().map(|i| i.name.to_string()).collect();
        specs.extend(["hex:size=3", "hex:size=11", "addition:digits=1-12"].map(String::from));
        specs.extend(
            ["addition:scratchpad=lsd", "multiplication:scratchpad=msd", "game24:format=steps"]
                .map(String::from),
        );
        specs.push("code:depth=1-2".into());
        for spec in specs {
            let env: AnyEnv = spec.parse().unwrap();
            with_env!(&env, e => super::check(e, 30));
        }
    }
}
