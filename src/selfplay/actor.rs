//! Actors: play games and attempt tasks with the current policy, producing [`Episode`]s.
//!
//! An actor runs many episodes in lockstep with one evaluator, so every simulation step is one
//! batched model call. Its results depend only on the seed and the tasks it is given.

use ponder_env::{Env, Kind, State, Task, Token};
use rand::SeedableRng;

use super::episode::{Episode, Step};
use crate::experiment::config::SelfPlaySection;
use crate::search::{decode, mcts, Compute, Evaluator, Search, SearchConfig};

/// A task to attempt and the curriculum level it came from.
#[derive(Debug, Clone)]
pub struct Assignment {
    pub task: Task,
    pub level: u32,
    /// Seeds this episode's random draws.
    pub seed: u64,
}

/// Plays every assignment to the end with System 2 search, in lockstep, and returns the episodes
/// in assignment order.
pub fn search_episodes<E: Env, V: Evaluator<E::State> + ?Sized>(
    env: &E,
    ev: &mut V,
    cfg: &SelfPlaySection,
    work: &[Assignment],
) -> Vec<Episode> {
    let reuse = cfg.reuse_tree;
    let openings: Vec<Assignment>;
    let work = if cfg.random_opening > 0 && env.kind() == Kind::Game {
        openings = work.iter().map(|a| random_opening(env, a, cfg.random_opening)).collect();
        &openings[..]
    } else {
        work
    };
    let runs = search_to_end(env, ev, &cfg.search, reuse, cfg.temperature_moves, work);
    work.iter()
        .zip(runs)
        .filter_map(|(a, r)| r.state.map(|s| finish(env, a, &s, r.steps, r.compute)))
        .collect()
}

/// The settings policy-gradient self-play plays with: no search (the root is only expanded, so
/// the move is drawn from the policy's own distribution at temperature 1, every move) and no tree
/// kept between moves. The step's `search_value` is then the value head's, the baseline.
pub fn policy_sampling(cfg: &SelfPlaySection) -> SelfPlaySection {
    SelfPlaySection {
        search: SearchConfig::puct(0),
        temperature_moves: u32::MAX,
        reuse_tree: false,
        ..cfg.clone()
    }
}

/// The assignment with 0..=`max` uniformly random moves (drawn from its seed) appended to its
/// prompt, stopping short of the end of the game.
fn random_opening<E: Env>(env: &E, a: &Assignment, max: u32) -> Assignment {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(a.seed ^ 0x09e0);
    let Ok(mut s) = env.start(&a.task.prompt) else { return a.clone() };
    let k = rand::Rng::random_range(&mut rng, 0..=max);
    let mut legal = Vec::new();
    for _ in 0..k {
        s.legal_actions(&mut legal);
        let m = legal[rand::Rng::random_range(&mut rng, 0..legal.len())];
        let mut next = s.clone();
        next.apply(m);
        if next.is_terminal() {
            break;
        }
        s = next;
    }
    let mut task = a.task.clone();
    task.prompt = ponder_env::history_text(s.tokens());
    Assignment { task, ..a.clone() }
}

/// One search-driven run to the end: the final state (None if the prompt did not parse), the
/// decisions, and what it cost.
#[derive(Debug, Clone)]
pub struct Run<S> {
    pub state: Option<S>,
    pub steps: Vec<Step>,
    pub compute: Compute,
}

/// Searches at every decision until each assignment ends: self-play for games, an answer for
/// tasks. Moves are sampled by visits for the first `temperature_moves` decisions. In tasks,
/// once a search has found an answer that the **rules** accept (game24's "equals 24", code's
/// shown examples), it is played out at once: the rules are what a search may consult.
pub fn search_to_end<E: Env, V: Evaluator<E::State> + ?Sized>(
    env: &E,
    ev: &mut V,
    search_cfg: &SearchConfig,
    reuse_tree: bool,
    temperature_moves: u32,
    work: &[Assignment],
) -> Vec<Run<E::State>> {
    let two_player = env.kind() == Kind::Game;
    let reuse = reuse_tree && matches!(search_cfg.algorithm, crate::search::Algorithm::Puct { .. });
    let mut runs: Vec<Run<E::State>> =
        work.iter().map(|_| Run { state: None, steps: Vec::new(), compute: Compute::default() }).collect();
    let mut live: Vec<Search<E::State>> = Vec::with_capacity(work.len());
    let mut ids: Vec<usize> = Vec::with_capacity(work.len());
    for (i, a) in work.iter().enumerate() {
        // A prompt that does not parse leaves its run empty rather than ending the others.
        if let Ok(s) = env.start(&a.task.prompt) {
            let mut search = Search::new(s, two_player, a.seed);
            skip_forced(&mut search, ev);
            if search.state().is_terminal() {
                runs[i].state = Some(search.state().clone());
            } else {
                live.push(search);
                ids.push(i);
            }
        }
    }
    while !live.is_empty() {
        mcts::run(&mut live, ev, search_cfg);
        let mut k = 0;
        while k < live.len() {
            let id = ids[k];
            let s = &mut live[k];
            let temperature = if (runs[id].steps.len() as u32) < temperature_moves { 1.0 } else { 0.0 };
            let r = s.result(search_cfg, temperature);
            let verified = if two_player { None } else { s.tree.verified_path() };
            let state = s.state();
            let first = verified.as_ref().and_then(|p| p.first().copied()).unwrap_or(r.action);
            runs[id].steps.push(Step {
                pos: state.tokens().len() as u32 - 1,
                to_play: state.to_play() as u8,
                target: r.target,
                search_value: Some(r.value),
                action: first,
            });
            runs[id].compute += r.compute;
            s.advance(first, reuse, ev);
            if let Some(path) = verified {
                // The rest of a rules-verified answer: one-hot targets, no more search.
                for &a in &path[1..] {
                    let st = s.state();
                    runs[id].steps.push(Step {
                        pos: st.tokens().len() as u32 - 1,
                        to_play: 0,
                        target: vec![(a, 1.0)],
                        search_value: Some(1.0),
                        action: a,
                    });
                    s.advance(a, true, ev);
                }
            }
            skip_forced(s, ev);
            if s.state().is_terminal() {
                let mut finished = live.swap_remove(k);
                ids.swap_remove(k);
                finished.release_all(ev);
                runs[id].state = Some(finished.state().clone());
            } else {
                k += 1;
            }
        }
    }
    runs
}

/// Plays forced moves (a single legal action) without searching.
fn skip_forced<S: State, V: Evaluator<S> + ?Sized>(s: &mut Search<S>, ev: &mut V) {
    let mut legal: Vec<Token> = Vec::new();
    loop {
        s.state().legal_actions(&mut legal);
        if legal.len() != 1 {
            return;
        }
        s.advance(legal[0], true, ev);
    }
}

/// Grades a final state and packs the episode.
fn finish<E: Env>(env: &E, a: &Assignment, state: &E::State, steps: Vec<Step>, compute: Compute) -> Episode {
    let two_player = env.kind() == Kind::Game;
    let (outcome, correct) = if two_player {
        let v = state.rules_value().unwrap_or(0.0);
        (v, v > 0.0)
    } else {
        let g = env.grade(&a.task, &env.answer(state));
        (g.reward, g.correct)
    };
    Episode {
        task: a.task.id.clone(),
        tokens: state.tokens().to_vec(),
        steps,
        outcome,
        correct,
        two_player,
        level: a.level,
        compute,
    }
}

/// System 1 attempts for STaR/ReST-style training: `samples` answers per task from `decoder`,
/// each graded by the ground truth. Every decision (a state with more than one legal token) is a
/// step with the chosen token as a one-hot target.
pub fn sampled_episodes<E: Env, V: Evaluator<E::State> + ?Sized>(
    env: &E,
    ev: &mut V,
    decoder: &crate::search::Decoder,
    samples: u32,
    work: &[Assignment],
) -> Vec<Episode> {
    let mut starts = Vec::new();
    let mut owners = Vec::new();
    for (i, a) in work.iter().enumerate() {
        if let Ok(s) = env.start(&a.task.prompt) {
            for _ in 0..samples.max(1) {
                starts.push(s.clone());
                owners.push(i);
            }
        }
    }
    let seed = work.first().map_or(0, |a| a.seed);
    let decoded = decode(&starts, ev, decoder, seed);
    decoded
        .into_iter()
        .zip(owners)
        .map(|(d, i)| {
            let a = &work[i];
            let steps = replay_decisions(env, &a.task.prompt, d.state.tokens());
            finish(env, a, &d.state, steps, d.compute)
        })
        .collect()
}

/// The decisions along a token sequence: every position where more than one token was legal.
pub fn replay_decisions<E: Env>(env: &E, prompt: &str, tokens: &[Token]) -> Vec<Step> {
    let Ok(mut s) = env.start(prompt) else { return Vec::new() };
    let mut legal = Vec::new();
    let mut steps = Vec::new();
    for &t in &tokens[s.tokens().len()..] {
        s.legal_actions(&mut legal);
        if !legal.contains(&t) {
            break;
        }
        if legal.len() > 1 {
            steps.push(Step {
                pos: s.tokens().len() as u32 - 1,
                to_play: s.to_play() as u8,
                target: vec![(t, 1.0)],
                search_value: None,
                action: t,
            });
        }
        s.apply(t);
    }
    steps
}

/// A seed for episode `index` of iteration `iteration` of a run seeded `seed`, so that every
/// episode's draws are fixed however the work is split among threads.
pub fn episode_seed(seed: u64, iteration: u64, index: u64) -> u64 {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed ^ 0x005e_ed0f_9a3e);
    rng.set_stream(iteration.wrapping_mul(1_000_003).wrapping_add(index));
    rand::RngCore::next_u64(&mut rng)
}
