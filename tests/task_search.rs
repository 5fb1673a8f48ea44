//! Whole-task searches with no model: Tree of Thoughts' step-level BFS on game24 and best-first
//! enumeration on code, with uniform, rollout and hand-made evaluators; their hooks in the
//! experiment config; and a tiny self-play loop that proposes with each.

use ponder::experiment::{run, ExperimentConfig, RunOptions};
use ponder::search::enumerate::{self, EnumerateConfig};
use ponder::search::steps::{self, StepSearchConfig};
use ponder::search::{Evaluations, Evaluator, Leaf, Rollout, Uniform, NO_CACHE};
use ponder_env::code::Code;
use ponder_env::game24::{Format, Game24};
use ponder_env::{AnyEnv, Env, State, Token};

fn game24_steps() -> Game24 {
    Game24::new(Format::Steps)
}

fn code() -> Code {
    match "code".parse::<AnyEnv>().unwrap() {
        AnyEnv::Code(c) => c,
        _ => unreachable!("`code` names the code environment"),
    }
}

fn tot(beam: u32, samples: u32) -> StepSearchConfig {
    StepSearchConfig { beam, samples, temperature: 1.0 }
}

/// Priors that put `mass` on the next token of a known answer wherever the answer so far is a
/// prefix of it (uniform elsewhere): a policy that knows the program, for counting expansions.
struct Knows {
    answer: Vec<Token>,
    mass: f32,
}

impl<S: State> Evaluator<S> for Knows {
    fn evaluate(&mut self, leaves: &[Leaf<'_, S>], out: &mut Evaluations) {
        out.clear();
        for leaf in leaves {
            let so_far = ponder_env::answer_tokens(leaf.state.tokens());
            let next = self.answer.get(so_far.len()).filter(|_| self.answer.starts_with(so_far));
            let n = leaf.legal.len();
            let hit = next.and_then(|t| leaf.legal.iter().position(|l| l == t));
            for i in 0..n {
                out.priors.push(match hit {
                    Some(h) if i == h => self.mass + (1.0 - self.mass) / n as f32,
                    Some(_) => (1.0 - self.mass) / n as f32,
                    None => 1.0 / n as f32,
                });
            }
            out.values.push(0.5);
            out.caches.push(NO_CACHE);
            out.positions.push(1);
        }
    }
}

/// Puts all its mass on the first legal token: every sample is the same.
struct FirstToken;

impl<S: State> Evaluator<S> for FirstToken {
    fn evaluate(&mut self, leaves: &[Leaf<'_, S>], out: &mut Evaluations) {
        out.clear();
        for leaf in leaves {
            out.priors.extend((0..leaf.legal.len()).map(|i| if i == 0 { 1.0 } else { 0.0 }));
            out.values.push(0.5);
            out.caches.push(NO_CACHE);
            out.positions.push(1);
        }
    }
}

fn starts_from_train_puzzles(env: &Game24, every: usize) -> Vec<ponder_env::game24::Game24State> {
    ponder_env::game24::train_split()
        .iter()
        .step_by(every)
        .map(|p| env.start(&format!("{} {} {} {}", p[0], p[1], p[2], p[3])).unwrap())
        .collect()
}

fn solved<S: State>(found: &[ponder::search::Found<S>]) -> usize {
    found.iter().filter(|f| f.answer.as_ref().and_then(|a| a.rules_value()) == Some(1.0)).count()
}

#[test]
fn step_search_finds_answers_the_rules_and_the_ground_truth_accept() {
    let env = game24_steps();
    let puzzles = ["4 7 8 8", "1 2 3 4", "2 5 5 10", "1 1 4 6"];
    let starts: Vec<_> = puzzles.iter().map(|p| env.start(p).unwrap()).collect();
    let mut ev = Rollout::new(7);
    ev.rollouts = 32;
    let found = steps::search(&starts, &mut ev, &tot(5, 16), 1);
    assert!(solved(&found) >= 2, "solved {} of {}", solved(&found), puzzles.len());
    for (f, p) in found.iter().zip(puzzles) {
        let a = f.answer.as_ref().expect("every search finishes an answer");
        assert!(a.is_terminal());
        assert!(f.candidates.iter().all(|c| c.is_terminal()), "{p}: candidates are finished answers");
        assert!(f.candidates.iter().any(|c| c.tokens() == a.tokens()), "{p}: the answer is a candidate");
        assert!(f.compute.model_calls > 0 && f.compute.nodes > 0);
        let answer = env.answer(a);
        let truth = env.grade(&env.task("t", p, &serde_json::Value::Null).unwrap(), &answer);
        assert_eq!(truth.correct, a.rules_value() == Some(1.0), "{p}: {answer}");
    }
}

#[test]
fn value_guided_step_search_beats_value_blind_search_at_the_same_breadth() {
    // Rollout values (the mean of random playouts) against no values at all: the same beam and
    // proposals, so the difference is what judging the steps is worth.
    let env = game24_steps();
    let starts = starts_from_train_puzzles(&env, 40);
    let cfg = tot(5, 16);
    let mut rollout = Rollout::new(3);
    rollout.rollouts = 32;
    let guided = solved(&steps::search(&starts, &mut rollout, &cfg, 3));
    let blind = solved(&steps::search(&starts, &mut Uniform { value: 0.5 }, &cfg, 3));
    assert!(guided > blind, "guided {guided} vs blind {blind} of {}", starts.len());
}

#[test]
fn a_wider_step_search_solves_more_with_values_that_say_nothing() {
    let env = game24_steps();
    let starts = starts_from_train_puzzles(&env, 40);
    let run = |cfg: &StepSearchConfig| solved(&steps::search(&starts, &mut Uniform { value: 0.5 }, cfg, 3));
    let (narrow, wide) = (run(&tot(1, 2)), run(&tot(16, 32)));
    assert!(wide > narrow, "wide {wide} vs narrow {narrow} of {}", starts.len());
}

#[test]
fn duplicate_proposals_share_their_evaluations() {
    // A policy that always proposes the same step: eight samples cost what one costs.
    let env = game24_steps();
    let starts = vec![env.start("4 7 8 8").unwrap(), env.start("1 3 4 6").unwrap()];
    let one = steps::search(&starts, &mut FirstToken, &tot(5, 1), 0);
    let eight = steps::search(&starts, &mut FirstToken, &tot(5, 8), 0);
    for (a, b) in one.iter().zip(&eight) {
        assert_eq!(a.compute.model_calls, b.compute.model_calls);
        assert_eq!(a.compute.nodes, b.compute.nodes);
        assert_eq!(a.candidates.len(), 1, "one proposal per depth, so one finished answer");
        assert_eq!(a.answer.as_ref().unwrap().tokens(), b.answer.as_ref().unwrap().tokens());
    }
}

#[test]
fn step_search_is_deterministic_and_a_task_does_not_depend_on_its_batch() {
    let env = game24_steps();
    let starts: Vec<_> = ["2 3 5 12", "1 5 5 5", "6 6 6 6"].iter().map(|p| env.start(p).unwrap()).collect();
    let run = |s: &[_]| steps::search(s, &mut Uniform { value: 0.5 }, &tot(3, 6), 11);
    let all = run(&starts);
    let again = run(&starts);
    let first_alone = run(&starts[..1]);
    let tokens = |f: &ponder::search::Found<_>| {
        f.answer.as_ref().map(|a: &ponder_env::game24::Game24State| a.tokens().to_vec())
    };
    for (a, b) in all.iter().zip(&again) {
        assert_eq!(tokens(a), tokens(b));
        assert_eq!(a.compute.model_calls, b.compute.model_calls);
    }
    assert_eq!(tokens(&all[0]), tokens(&first_alone[0]));
    assert_eq!(all[0].compute.model_calls, first_alone[0].compute.model_calls);
}

/// A code task whose shown examples `x*2+1` fits (and `x+x+1`, and others).
const CODE_PROMPT: &str = "f(-3) = -5\nf(0) = 1\nf(2) = 5\nf(5) = 11\nf(9) = 19";

#[test]
fn uniform_enumeration_finds_a_short_program_the_rules_accept() {
    let env = code();
    let start = env.start("f(-3) = 3\nf(0) = 0\nf(2) = -2\nf(5) = -5\nf(9) = -9").unwrap();
    let cfg = EnumerateConfig { expansions: 2000, per_call: 1 };
    let f = &enumerate::search(&[start], &mut Uniform { value: 0.5 }, &cfg)[0];
    let answer = f.answer.as_ref().expect("an answer");
    assert_eq!(env.answer(answer), "-x");
    assert_eq!(answer.rules_value(), Some(1.0));
    assert!(f.compute.model_calls < 2000 && f.compute.nodes >= f.compute.model_calls);
}

#[test]
fn a_policy_that_knows_the_program_expands_one_node_per_token_where_uniform_runs_out() {
    let env = code();
    let start = env.start(CODE_PROMPT).unwrap();
    let cfg = EnumerateConfig { expansions: 2000, per_call: 1 };
    let mut knows = Knows { answer: ponder_env::code::to_tokens("x*2+1").unwrap(), mass: 0.9 };
    knows.answer.push(ponder_env::vocab::EOS);
    let guided = &enumerate::search(std::slice::from_ref(&start), &mut knows, &cfg)[0];
    assert_eq!(env.answer(guided.answer.as_ref().unwrap()), "x*2+1");
    // One expansion per prefix of the answer: the empty one, `x`, `x*`, `x*2`, `x*2+`, `x*2+1`.
    assert_eq!(guided.compute.model_calls, 6);
    let uniform = &enumerate::search(&[start], &mut Uniform { value: 0.5 }, &cfg)[0];
    assert_eq!(uniform.compute.model_calls, 2000, "the budget is spent");
    // No accepted program: the answer is the most probable one the rules rejected.
    assert_eq!(uniform.answer.as_ref().unwrap().rules_value(), Some(0.0));
}

#[test]
fn a_smaller_enumeration_budget_finds_exactly_what_the_larger_one_found_within_it() {
    let env = code();
    // Depth-1 tasks: uniform enumeration solves some of them within 20,000 expansions.
    let tasks: Vec<_> = (0..12).map(|i| env.generate(5, i, 0)).collect();
    let starts: Vec<_> = tasks.iter().map(|t| env.start(&t.prompt).unwrap()).collect();
    let search = |expansions| {
        enumerate::search(&starts, &mut Uniform { value: 0.5 }, &EnumerateConfig { expansions, per_call: 1 })
    };
    let (big, small) = (search(20_000), search(8_000));
    let accepted = |f: &ponder::search::Found<ponder_env::code::CodeState>| {
        f.answer.as_ref().filter(|a| a.rules_value() == Some(1.0)).map(|a| a.tokens().to_vec())
    };
    let (mut within, mut beyond) = (0, 0);
    for (b, s) in big.iter().zip(&small) {
        assert!(s.compute.model_calls <= 8_000);
        if accepted(b).is_some() && b.compute.model_calls <= 8_000 {
            assert_eq!(accepted(s), accepted(b));
            assert_eq!(s.compute.model_calls, b.compute.model_calls);
            within += 1;
        } else {
            assert_eq!(accepted(s), None);
            beyond += accepted(b).is_some() as usize;
        }
    }
    assert!(within > 0 && beyond > 0, "within {within}, beyond {beyond}: both cases are checked");
}

#[test]
fn task_search_fields_parse_and_their_errors_name_them() {
    let base = "env = \"game24:format=steps\"\n[selfplay]\ntargets = \"verified\"\n";
    let ok = format!(
        "{base}[selfplay.task_search]\nkind = \"steps\"\nbeam = 5\nsamples = 8\ntemperature = 1.0\n\
         [eval.task_search]\nkind = \"enumerate\"\nexpansions = 64\nper_call = 2\n"
    );
    let cfg = ExperimentConfig::parse(&ok, &[]).unwrap();
    assert_eq!(cfg.selfplay.task_search, Some(ponder::search::TaskSearch::Steps(tot(5, 8))));
    assert_eq!(
        cfg.eval.task_search,
        Some(ponder::search::TaskSearch::Enumerate(EnumerateConfig { expansions: 64, per_call: 2 }))
    );
    // The resolved config parses back to itself.
    assert_eq!(ExperimentConfig::parse(&cfg.to_toml(), &[]).unwrap(), cfg);
    let err = |text: &str| format!("{:#}", ExperimentConfig::parse(text, &[]).unwrap_err());
    let e = err(&format!(
        "{base}[eval.task_search]\nkind = \"steps\"\nbeam = 0\nsamples = 8\ntemperature = 1.0\n"
    ));
    assert!(e.contains("eval.task_search.beam"), "{e}");
    let e = err(&format!(
        "{base}[eval.task_search]\nkind = \"steps\"\nbeam = 5\nsamples = 8\ntemperature = 1.0\nwidth = 3\n"
    ));
    assert!(e.contains("width"), "{e}");
    let e =
        err("env = \"game24\"\n[selfplay.task_search]\nkind = \"enumerate\"\nexpansions = 8\nper_call = 1\n");
    assert!(e.contains("selfplay.task_search") && e.contains("verified"), "{e}");
    let e = err(&format!(
        "{base}rationalize = true\n[selfplay.task_search]\nkind = \"enumerate\"\nexpansions = 8\nper_call = 1\n"
    ));
    assert!(e.contains("selfplay.rationalize"), "{e}");
    let e =
        err("env = \"tictactoe\"\n[eval.task_search]\nkind = \"enumerate\"\nexpansions = 8\nper_call = 1\n");
    assert!(e.contains("eval.task_search") && e.contains("game"), "{e}");
}

/// A tiny game24 loop: the step search proposes answers in self-play and is System 2 at evaluation.
const TINY_TOT: &str = r#"
name = "tiny-tot"
env = "game24:format=steps"
seed = 5
iterations = 2
threads = 2
[model]
d_model = 16
n_layer = 1
n_head = 2
block_size = 96
[selfplay]
episodes = 8
batch = 4
targets = "verified"
task_search = { kind = "steps", beam = 2, samples = 3, temperature = 1.0 }
keep_failed = 0.5
[train]
batch_size = 8
warmup_steps = 2
[learn]
steps = 3
[eval]
tasks = 6
task_search = { kind = "steps", beam = 2, samples = 3, temperature = 1.0 }
"#;

fn tmp(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("ponder-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn metrics(dir: &std::path::Path) -> Vec<Vec<Option<f64>>> {
    let (header, rows) = ponder::experiment::metrics::read_csv(&dir.join("metrics.csv")).unwrap();
    let keep: Vec<usize> = (0..header.len()).filter(|&i| !header[i].ends_with("seconds")).collect();
    rows.iter().map(|r| keep.iter().map(|&i| r[i]).collect()).collect()
}

#[test]
fn a_tiny_loop_proposing_with_the_step_search_runs_and_is_the_same_on_any_thread_count() {
    let mut outs = Vec::new();
    for threads in [1, 2] {
        let out = tmp(&format!("tot-{threads}"));
        let cfg = ExperimentConfig::parse(TINY_TOT, &[format!("threads={threads}")]).unwrap();
        let s = run(&cfg, &RunOptions { out: Some(out.clone()), quiet: true, ..Default::default() }).unwrap();
        assert_eq!(s.rows.len(), 2);
        let last = s.rows.last().unwrap();
        assert_eq!(last.get("eval_tasks"), Some(6.0));
        // Many finished answers per task: every one the search reached is an episode.
        assert!(last.get("episodes").unwrap() > 8.0, "{:?}", last.get("episodes"));
        assert!(last.get("s2_model_calls_per_task").unwrap() > last.get("s1_model_calls_per_task").unwrap());
        // Half the wrong answers are stored: the buffer holds fewer episodes than were made.
        let first = &s.rows[0];
        assert!(first.get("replay_episodes").unwrap() < first.get("episodes").unwrap());
        assert!(first.get("stored_failures").unwrap() > 0.0);
        let solved = first.get("selfplay_tasks_solved").unwrap();
        assert!((0.0..=1.0).contains(&solved));
        outs.push(out);
    }
    assert_eq!(metrics(&outs[0]), metrics(&outs[1]));
}

#[test]
fn compare_scores_the_whole_task_searches_and_refuses_them_for_games() {
    use ponder::cli::compare::{self, CompareArgs};
    let dir = tmp("tot-compare");
    let cfg = ExperimentConfig::parse(TINY_TOT, &["iterations=1".into()]).unwrap();
    run(&cfg, &RunOptions { out: Some(dir.join("run")), quiet: true, ..Default::default() }).unwrap();
    let args = |env: Option<&str>, methods: &str| CompareArgs {
        checkpoint: dir.join("run/checkpoints/latest"),
        env: env.map(String::from),
        budgets: "1,4".into(),
        out: Some(dir.join("compare")),
        tasks: 5,
        methods: methods.into(),
        games: 2,
        opponent: 2,
        elo: false,
        opening: 2,
        seed: 0,
    };
    compare::run(&args(None, "best-of-n,tot,enumerate,enumerate-uniform")).unwrap();
    let csv = std::fs::read_to_string(dir.join("compare/compare.csv")).unwrap();
    for m in ["tot", "enumerate", "enumerate-uniform"] {
        let rows: Vec<&str> = csv.lines().filter(|l| l.starts_with(&format!("{m},2,"))).collect();
        assert_eq!(rows.len(), 2, "{m}: one row per budget in\n{csv}");
    }
    // Enumeration's budget is expansions: at most that many model calls per task.
    let calls = |line: &str| line.split(',').nth(7).unwrap().parse::<f64>().unwrap();
    for line in csv.lines().filter(|l| l.starts_with("enumerate")) {
        let budget: f64 = line.split(',').nth(2).unwrap().parse().unwrap();
        assert!(calls(line) <= budget, "{line}");
    }
    // A game checkpoint is refused by name, before any work.
    let game = tmp("tot-compare-game");
    let ttt = "env = \"tictactoe\"\niterations = 1\n[model]\nd_model = 16\nn_layer = 1\nn_head = 2\nblock_size = 16\n\
               [selfplay]\nepisodes = 4\nbatch = 4\n[selfplay.search]\nsimulations = 2\n[learn]\nsteps = 1\n\
               [train]\nbatch_size = 4\nwarmup_steps = 1\n[eval]\ngames = 2\npositions = 4\nmcts_opponents = []\n";
    let cfg = ExperimentConfig::parse(ttt, &[]).unwrap();
    run(&cfg, &RunOptions { out: Some(game.clone()), quiet: true, ..Default::default() }).unwrap();
    let mut a = args(None, "greedy,tot");
    a.checkpoint = game.join("checkpoints/latest");
    let e = format!("{:#}", compare::run(&a).unwrap_err());
    assert!(e.contains("tot") && e.contains("tictactoe"), "{e}");
}
