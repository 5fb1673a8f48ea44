//! The command line end to end: `eval`, `compare`, `gtp`, `play` and `tree`, run as the built
//! binary on tiny checkpoints made here, their outputs checked field by field.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Output, Stdio};
use std::sync::OnceLock;

use ponder::env::{vocab, AnyEnv, Env, State};
use ponder::model::{checkpoint, CheckpointMeta, ModelConfig, ValueKind};
use ponder::train::{Example, Learner, PolicyTarget, TrainConfig};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const BIN: &str = env!("CARGO_BIN_EXE_ponder");

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ponder-cli-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// An untrained tiny checkpoint for `env` (its weights from seed 0).
fn make_checkpoint(name: &str, env: &str, value: ValueKind) -> PathBuf {
    let dir = temp_dir(name).join("ckpt");
    let cfg = ModelConfig::new()
        .with_block_size(32)
        .with_d_model(32)
        .with_n_layer(1)
        .with_n_head(4)
        .with_value(value);
    let learner = Learner::new(cfg, TrainConfig::default(), 0, 1).unwrap();
    checkpoint::save(&dir, &learner, &CheckpointMeta::new(env, 0)).unwrap();
    dir
}

fn tictactoe_ckpt() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| make_checkpoint("ttt", "tictactoe", ValueKind::Game))
}

/// A tiny addition checkpoint trained on the 100 one-digit sums (a second or two), so that its
/// answers are right often enough for `correct` to take both values.
fn addition_ckpt() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = temp_dir("add").join("ckpt");
        let AnyEnv::Arith(add) = "addition:digits=1-1".parse().unwrap() else { unreachable!() };
        let mut examples = Vec::new();
        let mut legal = Vec::new();
        for (a, b) in (0..10u32).flat_map(|a| (0..10u32).map(move |b| (a, b))) {
            let mut s = add.start(&format!("{a}+{b}")).unwrap();
            let mut policy = Vec::new();
            for ch in (a + b).to_string().chars() {
                let t = s.parse_action(&ch.to_string()).unwrap();
                policy.push(PolicyTarget::new(s.tokens().len() as u32 - 1, vec![(t, 1.0)]));
                s.apply(t);
            }
            // Then the end of the answer (forced tokens need no target).
            loop {
                s.legal_actions(&mut legal);
                match legal.len() {
                    0 => break,
                    1 => s.apply(legal[0]),
                    _ => {
                        assert!(legal.contains(&vocab::EOS), "an answer can end here");
                        policy.push(PolicyTarget::new(s.tokens().len() as u32 - 1, vec![(vocab::EOS, 1.0)]));
                        s.apply(vocab::EOS);
                    }
                }
            }
            examples.push(Example { tokens: s.tokens().to_vec(), policy, values: Vec::new(), weight: 1.0 });
        }
        let cfg = ModelConfig::new()
            .with_block_size(32)
            .with_d_model(32)
            .with_n_layer(1)
            .with_n_head(4)
            .with_value(ValueKind::Task);
        let steps = 150;
        let train = TrainConfig { lr: 1e-2, warmup_steps: 10, weight_decay: 0.0, ..TrainConfig::default() };
        let mut learner = Learner::new(cfg, train, 0, steps).unwrap();
        for _ in 0..steps {
            learner.step(&examples);
        }
        checkpoint::save(&dir, &learner, &CheckpointMeta::new("addition:digits=1-3", 0)).unwrap();
        dir
    })
}

fn ponder(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().expect("the ponder binary runs")
}

fn ponder_with_input(args: &[&str], input: &[u8]) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the ponder binary runs");
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

// ---------------------------------------------------------------------------------------------
// eval

/// The sum of `a+b`, computed here from the digits (the test's own ground truth).
fn sum_of(prompt: &str) -> String {
    let (a, b) = prompt.split_once('+').unwrap();
    (a.parse::<u128>().unwrap() + b.parse::<u128>().unwrap()).to_string()
}

#[test]
fn eval_writes_one_contract_line_per_task_and_correct_agrees_with_the_true_sum() {
    let dir = temp_dir("eval-add");
    let tasks = dir.join("tasks.jsonl");
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    // One-digit sums (which the checkpoint was trained on) and longer ones (which it was not).
    let mut lines: Vec<String> = (0..24)
        .map(|i| {
            let hi = if i % 2 == 0 { 10 } else { 1000 };
            let (a, b) = (rng.random_range(0..hi), rng.random_range(0..10u32));
            format!("{{\"id\": \"t{i}\", \"prompt\": \"{a}+{b}\"}}")
        })
        .collect();
    lines.push(r#"{"id": "zero", "prompt": "0+0"}"#.into());
    lines.insert(2, "not json at all".into());
    lines.insert(5, r#"{"id": "nop"}"#.into());
    lines.insert(7, r#"{"id": "bad", "prompt": "12*3"}"#.into());
    std::fs::write(&tasks, lines.join("\n") + "\n").unwrap();

    for (mode, budget) in [("system1", "1"), ("system2", "8")] {
        let out = dir.join(format!("{mode}.jsonl"));
        let o = ponder(&[
            "eval",
            "--checkpoint",
            path(addition_ckpt()),
            "--env",
            "addition:digits=1-3",
            "--tasks",
            path(&tasks),
            "--mode",
            mode,
            "--budget",
            budget,
            "--out",
            path(&out),
        ]);
        let err = text(&o.stderr);
        assert!(o.status.success(), "{err}");
        // Bad lines are reported by number (1-based, in the file) and skipped.
        for n in [3, 6, 8] {
            assert!(err.contains(&format!("line {n}:")), "line {n} not reported: {err}");
        }
        assert!(err.contains("accuracy") && err.contains("95% interval"), "{err}");
        let got = std::fs::read_to_string(&out).unwrap();
        let rows: Vec<&str> = got.lines().collect();
        assert_eq!(rows.len(), 25, "{got}");
        let right = rows.iter().filter(|r| r.contains("\"correct\":true")).count();
        assert!(
            right > 0 && right < rows.len(),
            "both verdicts occur ({right} of {} right):\n{got}",
            rows.len()
        );
        for row in rows {
            // The contract's fields, in the contract's order.
            let keys = ["id", "prompt", "answer", "correct", "forward_positions", "model_calls", "seconds"];
            let mut at = 0;
            for k in keys {
                let i = row[at..]
                    .find(&format!("\"{k}\":"))
                    .unwrap_or_else(|| panic!("{k} missing or out of order: {row}"));
                at += i;
            }
            let v: serde_json::Value = serde_json::from_str(row).unwrap();
            let prompt = v["prompt"].as_str().unwrap();
            let answer = v["answer"].as_str().unwrap();
            assert!(answer.chars().all(|c| c.is_ascii_digit()), "answer is the number alone: {row}");
            assert_eq!(v["correct"].as_bool().unwrap(), answer == sum_of(prompt), "{row}");
            assert!(v["model_calls"].as_u64().unwrap() >= 1, "{row}");
            assert!(v["forward_positions"].as_u64().unwrap() >= 1, "{row}");
            assert!(v["seconds"].as_f64().unwrap() >= 0.0, "{row}");
        }
    }
}

#[test]
fn eval_without_tasks_uses_the_held_out_suite_and_writes_to_stdout() {
    let o = ponder(&[
        "eval",
        "--checkpoint",
        path(addition_ckpt()),
        "--env",
        "addition:digits=1-1",
        "--mode",
        "system1",
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(out.lines().count() > 10, "{out}");
    for row in out.lines() {
        let v: serde_json::Value = serde_json::from_str(row).unwrap();
        assert!(v["id"].as_str().unwrap().starts_with("test-"), "{row}");
        let p = v["prompt"].as_str().unwrap();
        assert_eq!(v["correct"].as_bool().unwrap(), v["answer"].as_str().unwrap() == sum_of(p), "{row}");
    }
}

#[test]
fn eval_grades_game_moves_against_the_solver() {
    let dir = temp_dir("eval-ttt");
    let tasks = dir.join("positions.jsonl");
    std::fs::write(&tasks, "{\"id\": 1, \"prompt\": \"\"}\n{\"id\": 2, \"prompt\": \"a1 b1 a2 b2\"}\n{\"id\": 3, \"prompt\": \"a1 a1\"}\n")
        .unwrap();
    let o = ponder(&[
        "eval",
        "--checkpoint",
        path(tictactoe_ckpt()),
        "--tasks",
        path(&tasks),
        "--mode",
        "system2",
        "--budget",
        "32",
    ]);
    let err = text(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(err.contains("line 3:") && err.contains("optimal-move rate"), "{err}");
    let env: AnyEnv = "tictactoe".parse().unwrap();
    let AnyEnv::TicTacToe(ttt) = env else { unreachable!() };
    let oracle = ttt.oracle().unwrap();
    let rows: Vec<serde_json::Value> =
        text(&o.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(rows.len(), 2);
    for v in rows {
        let s = ttt.start(v["prompt"].as_str().unwrap()).unwrap();
        let mv = s.parse_action(v["answer"].as_str().unwrap()).unwrap();
        let optimal = oracle.optimal_actions(&s).unwrap();
        assert_eq!(v["correct"].as_bool().unwrap(), optimal.contains(&mv), "{v}");
    }
}

#[test]
fn eval_refuses_another_environment_family_naming_both() {
    let o = ponder(&[
        "eval",
        "--checkpoint",
        path(addition_ckpt()),
        "--env",
        "multiplication",
        "--mode",
        "system1",
    ]);
    assert!(!o.status.success());
    let err = text(&o.stderr);
    assert!(err.contains("--env") && err.contains("addition") && err.contains("multiplication"), "{err}");
}

#[test]
fn errors_name_the_flag_and_the_file() {
    let o = ponder(&["eval", "--checkpoint", "/no/such/ckpt", "--mode", "system1"]);
    assert!(!o.status.success());
    let err = text(&o.stderr);
    assert!(err.contains("--checkpoint") && err.contains("/no/such/ckpt"), "{err}");

    let o = ponder(&[
        "eval",
        "--checkpoint",
        path(addition_ckpt()),
        "--tasks",
        "/no/such.jsonl",
        "--mode",
        "system1",
    ]);
    assert!(!o.status.success());
    let err = text(&o.stderr);
    assert!(err.contains("--tasks") && err.contains("/no/such.jsonl"), "{err}");

    let o = ponder(&["compare", "--checkpoint", path(tictactoe_ckpt()), "--budgets", "1,x"]);
    assert!(!o.status.success());
    assert!(text(&o.stderr).contains("--budgets"), "{}", text(&o.stderr));

    let o =
        ponder(&["tree", "--checkpoint", path(tictactoe_ckpt()), "--prompt", "b2 b2", "--dot", "/tmp/x.dot"]);
    assert!(!o.status.success());
    let err = text(&o.stderr);
    assert!(err.contains("--prompt") && err.contains("move 2"), "{err}");
}

#[test]
fn every_command_has_help_with_an_example() {
    for cmd in ["eval", "compare", "gtp", "play", "tree", "run", "envs"] {
        let o = ponder(&[cmd, "--help"]);
        assert!(o.status.success(), "{cmd}");
        let help = text(&o.stdout);
        assert!(help.contains("Example"), "{cmd} --help has no example:\n{help}");
    }
}

// ---------------------------------------------------------------------------------------------
// compare

#[test]
fn compare_writes_csv_plot_and_table_for_every_method_and_budget() {
    let out = temp_dir("compare");
    let o = ponder(&[
        "compare",
        "--checkpoint",
        path(tictactoe_ckpt()),
        "--budgets",
        "4,1",
        "--tasks",
        "24",
        "--out",
        path(&out),
    ]);
    let stdout = text(&o.stdout);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let csv = std::fs::read_to_string(out.join("compare.csv")).unwrap();
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    for col in [
        "method",
        "system",
        "budget",
        "metric",
        "lo",
        "hi",
        "n",
        "model_calls",
        "forward_positions",
        "seconds",
    ] {
        assert!(header.contains(&col), "column {col} missing: {header:?}");
    }
    let rows: Vec<Vec<String>> = lines.map(|l| l.split(',').map(String::from).collect()).collect();
    // Greedy once, the four others at each of the two budgets.
    assert_eq!(rows.len(), 1 + 4 * 2, "{csv}");
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    for r in &rows {
        let metric: f64 = r[col("metric")].parse().unwrap();
        let (lo, hi): (f64, f64) = (r[col("lo")].parse().unwrap(), r[col("hi")].parse().unwrap());
        assert!((0.0..=1.0).contains(&metric) && lo <= metric && metric <= hi, "{r:?}");
        assert_eq!(r[col("n")], "24");
        assert!(r[col("model_calls")].parse::<f64>().unwrap() >= 1.0, "{r:?}");
    }
    let methods: Vec<&str> = rows.iter().map(|r| r[col("method")].as_str()).collect();
    for m in ["greedy", "best-of-n", "beam", "puct", "gumbel"] {
        assert!(methods.contains(&m), "{m} missing");
    }
    // More simulations cost more model calls.
    let calls = |m: &str, b: &str| -> f64 {
        rows.iter().find(|r| r[col("method")] == m && r[col("budget")] == b).unwrap()[col("model_calls")]
            .parse()
            .unwrap()
    };
    assert!(calls("puct", "4") > calls("puct", "1"));
    let svg = std::fs::read_to_string(out.join("compare.svg")).unwrap();
    assert!(svg.contains("<svg") && svg.contains("puct") && svg.contains("gumbel"));
    let md = std::fs::read_to_string(out.join("compare.md")).unwrap();
    assert!(md.contains("| method |") && md.contains("| puct | 2 | 4 |"), "{md}");
    assert!(stdout.contains("| beam | 1 | 4 |"), "{stdout}");
}

#[test]
fn compare_on_tasks_scores_held_out_accuracy() {
    let out = temp_dir("compare-add");
    let o = ponder(&[
        "compare",
        "--checkpoint",
        path(addition_ckpt()),
        "--budgets",
        "2",
        "--tasks",
        "12",
        "--methods",
        "greedy,beam,gumbel",
        "--out",
        path(&out),
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let csv = std::fs::read_to_string(out.join("compare.csv")).unwrap();
    assert_eq!(csv.lines().count(), 4, "{csv}");
    assert!(csv.contains("held-out accuracy (12 tasks)"), "{csv}");
}

#[test]
fn compare_elo_plays_the_solver_from_random_openings_and_refuses_games_without_one() {
    let out = temp_dir("compare-elo");
    let o = ponder(&[
        "compare",
        "--checkpoint",
        path(tictactoe_ckpt()),
        "--elo",
        "--methods",
        "greedy,puct",
        "--budgets",
        "4",
        "--games",
        "20",
        "--out",
        path(&out),
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let csv = std::fs::read_to_string(out.join("compare.csv")).unwrap();
    assert!(csv.contains("Elo vs perfect play (20 games from 2-move random openings)"), "{csv}");
    for line in csv.lines().skip(1) {
        let elo: f64 = line.split(',').nth(3).unwrap().parse().unwrap();
        assert!(elo <= 0.0 && elo.is_finite(), "nothing beats perfect play: {line}");
    }
    let hex = make_checkpoint("hex5", "hex:size=5", ValueKind::Game);
    let o = ponder(&["compare", "--checkpoint", path(&hex), "--elo"]);
    assert!(!o.status.success());
    assert!(text(&o.stderr).contains("--elo"), "{}", text(&o.stderr));
}

// ---------------------------------------------------------------------------------------------
// tree

/// Checks that `dot` is a Graphviz digraph whose edges join declared nodes; returns each node's
/// visit count.
fn check_dot(dot: &str) -> Vec<u32> {
    assert!(dot.trim_start().starts_with("digraph {"), "{dot}");
    assert!(dot.trim_end().ends_with('}'));
    let (mut depth, mut in_string) = (0i32, false);
    let mut prev = ' ';
    for c in dot.chars() {
        match c {
            '"' if prev != '\\' => in_string = !in_string,
            '{' if !in_string => depth += 1,
            '}' if !in_string => depth -= 1,
            _ => {}
        }
        assert!(depth >= 0);
        prev = c;
    }
    assert_eq!(depth, 0, "unbalanced braces");
    assert!(!in_string, "unterminated string");
    let mut nodes = std::collections::HashSet::new();
    let mut visits = Vec::new();
    for line in dot.lines().map(str::trim) {
        let first = line.split_whitespace().next().unwrap_or("");
        if line.contains("->") {
            let mut ends = line.split("->").map(|s| s.split_whitespace().next().unwrap());
            let (a, b) = (ends.next().unwrap(), ends.next().unwrap());
            assert!(nodes.contains(a) && nodes.contains(b), "edge to an undeclared node: {line}");
        } else if first.chars().all(|c| c.is_ascii_digit()) && !first.is_empty() {
            assert!(line.contains("label=\""), "{line}");
            let n = line.split("N=").nth(1).expect("a node shows its visits");
            let digits: String = n.chars().take_while(|c| c.is_ascii_digit()).collect();
            visits.push(digits.parse().unwrap());
            nodes.insert(first.to_string());
        }
    }
    visits
}

#[test]
fn tree_writes_a_pruned_dot_graph_of_the_search() {
    let dir = temp_dir("tree");
    let dot = dir.join("t.dot");
    let o = ponder(&[
        "tree",
        "--checkpoint",
        path(tictactoe_ckpt()),
        "--prompt",
        "b2 a1",
        "--budget",
        "100",
        "--dot",
        path(&dot),
        "--max-nodes",
        "30",
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let stdout = text(&o.stdout);
    assert!(stdout.contains("dot -Tsvg") && stdout.contains("N="), "{stdout}");
    let text_dot = std::fs::read_to_string(&dot).unwrap();
    let n = check_dot(&text_dot).len();
    assert!((2..=30).contains(&n), "{n} nodes");
    assert!(text_dot.contains("root\\nN=101"), "the root has every simulation: {text_dot}");

    // A task: the prompt is the problem; a high --min-visits keeps fewer nodes.
    let dot2 = dir.join("add.dot");
    let o = ponder(&[
        "tree",
        "--checkpoint",
        path(addition_ckpt()),
        "--prompt",
        "47+85",
        "--budget",
        "64",
        "--dot",
        path(&dot2),
        "--min-visits",
        "8",
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let visits = check_dot(&std::fs::read_to_string(&dot2).unwrap());
    assert!(!visits.is_empty() && visits.iter().all(|&v| v >= 8), "{visits:?}");
}

// ---------------------------------------------------------------------------------------------
// gtp

/// An engine driven over pipes, one command at a time, as a GTP controller does.
struct Gtp {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Gtp {
    fn spawn(args: &[&str]) -> Gtp {
        let mut child = Command::new(BIN)
            .arg("gtp")
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        Gtp { child, stdin, stdout }
    }

    /// Sends one command; returns the answer without its closing blank line.
    fn send(&mut self, cmd: &str) -> String {
        writeln!(self.stdin, "{cmd}").unwrap();
        self.stdin.flush().unwrap();
        let mut answer = String::new();
        loop {
            let mut line = String::new();
            assert!(self.stdout.read_line(&mut line).unwrap() > 0, "engine closed after {cmd:?}");
            if line == "\n" && !answer.is_empty() {
                return answer.trim_end_matches('\n').to_string();
            }
            answer.push_str(&line);
        }
    }

    /// Sends a command that must succeed; returns its result.
    fn ok(&mut self, cmd: &str) -> String {
        let a = self.send(cmd);
        assert!(a.starts_with("= ") || a == "=", "{cmd:?} failed: {a:?}");
        a.trim_start_matches('=').trim().to_string()
    }

    fn quit(mut self) {
        assert_eq!(self.send("quit"), "= ");
        assert!(self.child.wait().unwrap().success());
    }
}

/// Plays whole games of `spec` over GTP: the engine against random moves, each side in turn,
/// the test keeping its own board. Returns the engine's results (+1 win, 0 draw, -1 loss).
fn play_games(gtp: &mut Gtp, spec: &str, games: usize, column_only: bool, seed: u64) -> Vec<f32> {
    let env: AnyEnv = spec.parse().unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut results = Vec::new();
    ponder::env::with_env!(&env, e => {
        for g in 0..games {
            gtp.ok("clear_board");
            let engine = g % 2; // the engine's player: b in even games, w in odd ones
            let mut s = e.start("").unwrap();
            let mut legal = Vec::new();
            while !s.is_terminal() {
                let colour = if s.to_play() == 0 { "b" } else { "w" };
                if s.to_play() == engine {
                    let v = gtp.ok(&format!("genmove {colour}"));
                    if column_only {
                        assert!(v.len() == 1 && ('a'..='g').contains(&v.chars().next().unwrap()), "{v:?}");
                    }
                    let a = s.parse_action(&v).unwrap_or_else(|err| panic!("engine played {v:?}: {err}"));
                    s.apply(a);
                } else {
                    s.legal_actions(&mut legal);
                    let a = legal[rng.random_range(0..legal.len())];
                    let name = ponder::env::vocab::symbol(a);
                    let vertex = if column_only { &name[..1] } else { name };
                    gtp.ok(&format!("play {colour} {vertex}"));
                    s.apply(a);
                }
            }
            // The engine agrees that the game is over.
            assert!(gtp.send("genmove b").starts_with("? "));
            let board = gtp.ok("showboard");
            assert_eq!(board.matches(['X', 'O']).count(), s.tokens().len() - 1, "{board}");
            let v = s.rules_value().unwrap();
            results.push(if engine == 0 { v } else { -v });
        }
    });
    results
}

#[test]
fn gtp_plays_whole_games_of_every_game_through_the_protocol() {
    let mut gtp = Gtp::spawn(&["--game", "tictactoe", "--budget", "300"]);
    assert_eq!(gtp.ok("protocol_version"), "2");
    assert_eq!(gtp.ok("name"), "ponder");
    assert_eq!(gtp.send("7 known_command genmove"), "=7 true");
    assert_eq!(gtp.ok("known_command komi"), "false");
    let list = gtp.ok("list_commands");
    for c in ["protocol_version", "boardsize", "clear_board", "play", "genmove", "showboard", "quit"] {
        assert!(list.lines().any(|l| l == c), "{c} not listed: {list}");
    }
    gtp.ok("boardsize 3");
    let results = play_games(&mut gtp, "tictactoe", 4, false, 1);
    // Rollout MCTS with 300 simulations does not lose to random moves at tic-tac-toe.
    assert!(results.iter().all(|&r| r >= 0.0), "{results:?}");
    gtp.quit();

    let mut gtp = Gtp::spawn(&["--game", "connect4", "--budget", "100"]);
    play_games(&mut gtp, "connect4", 2, true, 2);
    // A landing cell is accepted too, and a full column is refused.
    gtp.ok("clear_board");
    gtp.ok("play b d6");
    assert!(gtp.send("play w d6").starts_with("? illegal move"));
    gtp.quit();

    let mut gtp = Gtp::spawn(&["--game", "hex", "--budget", "50"]);
    gtp.ok("boardsize 4 4"); // as HexGui sends it
    play_games(&mut gtp, "hex:size=4", 2, false, 3);
    assert!(gtp.send("boardsize 12").starts_with("? unacceptable size"));
    gtp.quit();

    // With a checkpoint, in both modes.
    for mode in ["system1", "system2"] {
        let mut gtp = Gtp::spawn(&[
            "--game",
            "tictactoe",
            "--checkpoint",
            path(tictactoe_ckpt()),
            "--mode",
            mode,
            "--budget",
            "16",
        ]);
        play_games(&mut gtp, "tictactoe", 2, false, 4);
        gtp.quit();
    }
    // AlphaGo's mixed leaf values: the policy's priors, its values blended with playouts.
    let ckpt = path(tictactoe_ckpt());
    let mut gtp = Gtp::spawn(&[
        "--game",
        "tictactoe",
        "--checkpoint",
        ckpt,
        "--budget",
        "16",
        "--rollout-mix",
        "0.5",
        "--rollouts",
        "2",
    ]);
    assert!(gtp.ok("name") == "ponder");
    play_games(&mut gtp, "tictactoe", 2, false, 5);
    gtp.quit();
}

#[test]
fn rollout_mix_refuses_weights_outside_zero_one_and_agents_with_no_leaf_values() {
    let ckpt = path(tictactoe_ckpt());
    for (args, expect) in [
        (vec!["--checkpoint", ckpt, "--rollout-mix", "1.5"], "--rollout-mix 1.5"),
        (vec!["--checkpoint", ckpt, "--rollout-mix", "0.5", "--rollouts", "0"], "--rollouts 0"),
        (vec!["--rollout-mix", "0.5"], "--checkpoint"),
        (vec!["--checkpoint", ckpt, "--mode", "system1", "--rollout-mix", "0.5"], "--mode system2"),
    ] {
        let mut all = vec!["gtp", "--game", "tictactoe"];
        all.extend(args.iter().copied());
        let o = ponder(&all);
        assert!(!o.status.success(), "{all:?} should fail");
        let err = text(&o.stderr);
        assert!(err.contains(expect), "{all:?}: {err}");
    }
}

#[test]
fn gtp_answers_garbage_with_errors_and_keeps_going() {
    let mut input: Vec<u8> = Vec::new();
    input.extend_from_slice(b"# a comment line\n\n   \n");
    input.extend_from_slice(b"\xff\xfe\x00garbage\x07 \xc3\n");
    input.extend_from_slice(b"12 play\n");
    input.extend_from_slice(b"play x a1\n");
    input.extend_from_slice(b"play b z9\n");
    input.extend_from_slice(b"play w a1\n");
    input.extend_from_slice(b"play b pass\n");
    input.extend_from_slice(b"boardsize -1\n");
    input.extend_from_slice(b"boardsize 99999999999999999999999\n");
    input.extend_from_slice(b"genmove\n");
    input.extend_from_slice(b"known_command\n");
    input.extend_from_slice(b"99\n");
    input.extend_from_slice(&[b'a'; 100_000]);
    input.extend_from_slice(b"\n");
    input.extend_from_slice("play b b2 \u{1F600}\n".as_bytes());
    input.extend_from_slice(b"undo\nundo\n");
    input.extend_from_slice(b"5 play\tb\tb2 # with a comment\n");
    input.extend_from_slice(b"6 genmove w\n");
    input.extend_from_slice(b"quit\n");
    input.extend_from_slice(b"name\n"); // after quit: never read
    let o = ponder_with_input(&["gtp", "--game", "tictactoe", "--budget", "20"], &input);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(!text(&o.stderr).contains("panicked"));
    let out = text(&o.stdout);
    let answers: Vec<&str> = out.split("\n\n").filter(|a| !a.is_empty()).collect();
    let expected_failures = 15;
    assert_eq!(answers.len(), expected_failures + 3, "{out}");
    for a in &answers[..expected_failures] {
        assert!(a.starts_with('?'), "expected an error: {a:?}\n{out}");
    }
    assert!(answers[1].starts_with("?12 "), "the id is echoed: {}", answers[1]);
    assert!(answers[10].starts_with("?99 "), "{}", answers[10]);
    assert!(answers[4].contains("b's turn"), "a play out of turn says whose turn it is: {}", answers[4]);
    let tail = &answers[expected_failures..];
    assert_eq!(tail[0], "=5 ");
    assert!(tail[1].starts_with("=6 ") && tail[1].len() == 5, "{}", tail[1]);
    assert_eq!(tail[2], "= ");
    assert!(out.ends_with("= \n\n"), "quit is the last answer");
    // The engine also stops cleanly at the end of input, without quit.
    let o = ponder_with_input(&["gtp", "--game", "hex", "--size", "3"], b"play b b2\n");
    assert!(o.status.success());
    assert_eq!(text(&o.stdout), "= \n\n");
}

// ---------------------------------------------------------------------------------------------
// play

#[test]
fn play_draws_the_board_answers_bad_input_with_a_hint_and_shows_the_search() {
    let input = b"zz\nb2\nhint\nundo\nnew w\n?\nc3\nquit\n";
    let o = ponder_with_input(
        &["play", "--game", "tictactoe", "--checkpoint", path(tictactoe_ckpt()), "--budget", "32"],
        input,
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(out.contains("   a b c\n1  . . .\n2  . . .\n3  . . .\n"), "{out}");
    assert!(out.contains("cannot play \"zz\"") && out.contains("such as b2"), "{out}");
    assert!(out.contains("agent (O (w)) plays"), "{out}");
    assert!(
        out.contains("N=") && out.contains("P=") && out.contains("Q="),
        "the hint shows the search: {out}"
    );
    assert!(out.contains("taken back"), "{out}");
    assert!(out.contains("new game: you are O (w)") && out.contains("agent (X (b)) plays"), "{out}");
    // Rollout MCTS without a checkpoint; the session ends at the end of input too.
    let o = ponder_with_input(&["play", "--game", "connect4", "--budget", "50", "--colour", "w"], b"d\n");
    assert!(o.status.success());
    let out = text(&o.stdout);
    assert!(out.contains("you are O (w)") && out.contains("a b c d e f g"), "{out}");
}
