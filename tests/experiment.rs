//! The self-improvement loop end to end: tiny runs of a few seconds, determinism, resume after
//! `kill -9`, and bad experiment files.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use ponder::experiment::metrics::read_csv;
use ponder::experiment::{run, ExperimentConfig, RunOptions};

/// A tiny tic-tac-toe experiment: a few seconds per iteration.
const TINY_GAME: &str = r#"
name = "tiny"
env = "tictactoe"
seed = 3
iterations = 2
threads = 2
[model]
d_model = 16
n_layer = 1
n_head = 2
block_size = 16
[selfplay]
episodes = 24
batch = 8
random_opening = 2
[selfplay.search]
simulations = 8
[train]
batch_size = 8
warmup_steps = 2
[learn]
steps = 6
[eval]
games = 4
positions = 40
mcts_opponents = [8]
"#;

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ponder-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn run_tiny(text: &str, out: &Path, sets: &[&str]) -> ponder::experiment::Summary {
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    let cfg = ExperimentConfig::parse(text, &sets).unwrap();
    run(&cfg, &RunOptions { out: Some(out.to_path_buf()), quiet: true, ..Default::default() }).unwrap()
}

/// metrics.csv without its wall-time columns (the only ones allowed to differ between runs).
fn metrics_without_time(dir: &Path) -> (Vec<String>, Vec<Vec<Option<f64>>>) {
    let (header, rows) = read_csv(&dir.join("metrics.csv")).unwrap();
    let keep: Vec<usize> = (0..header.len()).filter(|&i| !header[i].ends_with("seconds")).collect();
    (
        keep.iter().map(|&i| header[i].clone()).collect(),
        rows.iter().map(|r| keep.iter().map(|&i| r[i]).collect()).collect(),
    )
}

#[test]
fn a_tiny_game_loop_runs_end_to_end_and_writes_every_output() {
    let out = tmp("game-loop");
    let s = run_tiny(TINY_GAME, &out, &[]);
    assert_eq!(s.rows.len(), 2);
    for f in ["metrics.csv", "report.md", "config.resolved.toml", "loss.svg", "optimal_moves.svg"] {
        assert!(out.join(f).exists(), "{f} missing");
    }
    assert!(out.join("checkpoints/latest/meta.json").exists());
    let (header, rows) = read_csv(&out.join("metrics.csv")).unwrap();
    assert_eq!(rows.len(), 2);
    for col in [
        "iteration",
        "episodes",
        "loss_policy",
        "loss_value",
        "s1_optimal_move_rate",
        "s2_optimal_move_rate",
        "s2_vs_random_score",
        "s2_vs_perfect_losses",
        "s2_vs_mcts8_score",
        "selfplay_model_calls",
        "wall_seconds",
    ] {
        assert!(header.iter().any(|h| h == col), "column {col} missing from {header:?}");
    }
    let rate = header.iter().position(|h| h == "s2_optimal_move_rate").unwrap();
    let v = rows[1][rate].unwrap();
    assert!((0.0..=1.0).contains(&v));
    // The resolved config reads back as the same experiment.
    let resolved = std::fs::read_to_string(out.join("config.resolved.toml")).unwrap();
    assert_eq!(
        ExperimentConfig::parse(&resolved, &[]).unwrap(),
        ExperimentConfig::parse(TINY_GAME, &[]).unwrap()
    );
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(report.contains("System 1") && report.contains("![") && report.contains("optimal-move rate"));
}

#[test]
fn the_same_seed_gives_the_same_metrics_on_any_thread_count() {
    let a = tmp("det-a");
    let b = tmp("det-b");
    run_tiny(TINY_GAME, &a, &[]);
    run_tiny(TINY_GAME, &b, &["threads=1"]);
    assert_eq!(metrics_without_time(&a), metrics_without_time(&b));
    let c = tmp("det-c");
    run_tiny(TINY_GAME, &c, &["seed=4"]);
    assert_ne!(metrics_without_time(&a), metrics_without_time(&c), "another seed, other metrics");
}

#[test]
fn a_run_killed_mid_iteration_resumes_to_the_same_metrics() {
    let whole = tmp("resume-whole");
    let cut = tmp("resume-cut");
    let exp = cut.join("tiny.toml");
    let text = TINY_GAME.replace("iterations = 2", "iterations = 3");
    std::fs::write(&exp, &text).unwrap();
    run_tiny(&text, &whole, &[]);

    // Start the same run as a process and kill -9 it after its first checkpoint.
    let bin = env!("CARGO_BIN_EXE_ponder");
    let out = cut.join("out");
    let mut child = Command::new(bin)
        .args(["run", exp.to_str().unwrap(), "--quiet", "--out", out.to_str().unwrap()])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let meta = out.join("checkpoints/latest/meta.json");
    let t0 = Instant::now();
    while !meta.exists() && t0.elapsed() < Duration::from_secs(120) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(meta.exists(), "no checkpoint within 2 minutes");
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let (_, rows) = read_csv(&out.join("metrics.csv")).unwrap();
    assert!(rows.len() < 3, "the run was cut before its end");

    // Without --resume the unfinished run is not thrown away: the command refuses, and says how
    // to continue it, and the checkpoint it would have replaced is still there.
    let refused = Command::new(bin)
        .args(["run", exp.to_str().unwrap(), "--quiet", "--out", out.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(err.contains("unfinished run") && err.contains("--resume") && err.contains("--fresh"), "{err}");
    assert!(meta.exists());

    let status = Command::new(bin)
        .args(["run", exp.to_str().unwrap(), "--quiet", "--resume", "--out", out.to_str().unwrap()])
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let (h, r) = metrics_without_time(&out);
    assert_eq!(r.len(), 3, "no row lost or duplicated");
    assert_eq!((h, r), metrics_without_time(&whole));
}

#[test]
fn a_run_replaces_a_finished_run_of_its_own_config_only_unless_told_fresh() {
    let out = tmp("replace");
    let first = ["iterations=2", "snapshot_every=1"];
    run_tiny(TINY_GAME, &out, &first);
    let opts = |fresh| RunOptions { out: Some(out.clone()), quiet: true, fresh, ..Default::default() };
    // The same config again: a reproduction, rerun in place.
    let cfg = ExperimentConfig::parse(TINY_GAME, &first.map(String::from)).unwrap();
    assert_eq!(run(&cfg, &opts(false)).unwrap().rows.len(), 2);
    let before = metrics_without_time(&out);
    let resolved = std::fs::read_to_string(out.join("config.resolved.toml")).unwrap();
    // Another config would silently replace the finished run: refused, naming the way out.
    let other =
        ExperimentConfig::parse(TINY_GAME, &["iterations=1".to_string(), "seed=9".to_string()]).unwrap();
    let err = run(&other, &opts(false)).unwrap_err().to_string();
    assert!(err.contains("another config") && err.contains("--fresh") && err.contains("--resume"), "{err}");
    assert_eq!(metrics_without_time(&out), before, "the refused run wrote no metrics");
    assert_eq!(std::fs::read_to_string(out.join("config.resolved.toml")).unwrap(), resolved);
    // --fresh replaces it, and leaves none of the old run's snapshots or replay buffers.
    let fresh = run(&other, &opts(true)).unwrap();
    assert_eq!(fresh.rows.len(), 1);
    assert!(std::fs::read_to_string(out.join("config.resolved.toml")).unwrap().contains("seed = 9"));
    let mut left: Vec<String> = std::fs::read_dir(out.join("checkpoints"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(
        left,
        ["latest", "replay-0001.jsonl"],
        "the old run's iter-0001, iter-0002 and replay-0002 are gone"
    );
}

#[test]
fn a_task_loop_with_a_curriculum_runs_end_to_end() {
    let out = tmp("task-loop");
    let text = r#"
name = "tiny-addition"
env = "addition:digits=1-3"
iterations = 2
[model]
d_model = 16
n_layer = 1
n_head = 2
block_size = 32
[selfplay]
episodes = 16
batch = 8
[selfplay.search]
simulations = 4
[learn]
steps = 4
[train]
batch_size = 8
warmup_steps = 1
[curriculum]
promote_at = 0.0
[eval]
tasks = 12
"#;
    let s = run_tiny(text, &out, &[]);
    let last = s.rows.last().unwrap();
    assert_eq!(last.get("level"), Some(2.0), "promote_at = 0 climbs a level per iteration");
    for c in [
        "s1_accuracy",
        "s2_accuracy",
        "s1_model_calls_per_task",
        "s2_forward_positions_per_task",
        "eval_tasks",
    ] {
        assert!(last.get(c).is_some(), "{c} missing");
    }
    assert_eq!(last.get("eval_tasks"), Some(12.0));
    assert!(out.join("accuracy.svg").exists());
}

#[test]
fn verified_targets_train_only_on_answers_the_ground_truth_accepts() {
    let out = tmp("star-loop");
    let text = r#"
name = "tiny-star"
env = "game24"
iterations = 1
[model]
d_model = 16
n_layer = 1
n_head = 2
block_size = 48
[selfplay]
episodes = 8
batch = 8
targets = "verified"
samples_per_task = 2
[learn]
steps = 2
[train]
batch_size = 4
warmup_steps = 1
[eval]
tasks = 4
[eval.search]
simulations = 4
"#;
    let s = run_tiny(text, &out, &[]);
    assert_eq!(s.rows[0].get("episodes"), Some(16.0), "two samples for each of 8 tasks");

    // Sampled answers have no search value; the replay buffer must still read back on resume
    // (it once wrote NaN as JSON null, which then failed to load).
    let cfg = ExperimentConfig::parse(text, &["iterations=2".to_string()]).unwrap();
    let opts = RunOptions { out: Some(out.clone()), resume: true, quiet: true, ..Default::default() };
    let resumed = run(&cfg, &opts).unwrap();
    assert_eq!(resumed.rows.len(), 2, "the first iteration kept, the second run from its buffer");
    assert_eq!(resumed.rows[0].get("episodes"), Some(16.0));
    assert!(resumed.rows[1].get("replay_episodes").unwrap() > 16.0, "the buffer was loaded, not emptied");
}

#[test]
fn policy_gradient_self_play_samples_the_policy_without_search_and_weights_moves_by_advantage() {
    use ponder::experiment::config::Targets;
    use ponder::selfplay::ReplayBuffer;
    let out = tmp("pg-loop");
    let sets = ["selfplay.targets=\"policy_gradient\"", "iterations=1"];
    let s = run_tiny(TINY_GAME, &out, &sets);
    let row = &s.rows[0];
    let buffer = ReplayBuffer::load(&out.join("checkpoints").join("replay-0001.jsonl"), 1000).unwrap();
    assert_eq!(buffer.len(), 24);
    let decisions: usize = buffer.iter().map(|e| e.steps.len()).sum();
    // No search: one model call (the root's expansion) per decision, nothing more.
    assert!(
        row.get("selfplay_model_calls").unwrap() <= decisions as f64,
        "{:?} model calls for {decisions} decisions",
        row.get("selfplay_model_calls")
    );
    for e in buffer.iter() {
        let ex = e.to_example(0.0, Targets::PolicyGradient);
        assert_eq!(ex.policy.len(), e.steps.len());
        for (t, step) in ex.policy.iter().zip(&e.steps) {
            let baseline = step.search_value.expect("the value head's baseline is recorded");
            assert!(
                (t.weight - (e.outcome_for(step.to_play) - baseline)).abs() < 1e-6,
                "the advantage is z - v for the mover"
            );
            assert_eq!(t.dist, vec![(step.action, 1.0)], "the target is the move played");
            // The stored target is the policy's own distribution (priors), not search visits.
            let total: f32 = step.target.iter().map(|&(_, p)| p).sum();
            assert!((total - 1.0).abs() < 1e-4 && step.target.len() > 1);
        }
    }
    // A value mix has no search value to mix with; a task has no self-play.
    let bad = ExperimentConfig::parse(TINY_GAME, &[sets[0].to_string(), "learn.value_target_mix=0.5".into()]);
    assert!(bad.unwrap_err().to_string().contains("learn.value_target_mix"));
    let bad = ExperimentConfig::parse("env = \"game24\"\n[selfplay]\ntargets = \"policy_gradient\"\n", &[]);
    assert!(format!("{:#}", bad.unwrap_err()).contains("selfplay.targets"));
}

#[test]
fn snapshot_every_keeps_one_checkpoint_per_period() {
    let snap = tmp("snapshots");
    run_tiny(TINY_GAME, &snap, &["snapshot_every=1"]);
    for it in [1u64, 2] {
        let dir = snap.join("checkpoints").join(format!("iter-{it:04}"));
        let meta: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("meta.json")).unwrap()).unwrap();
        assert_eq!(meta["iteration"].as_u64(), Some(it), "{meta}");
    }
}

#[test]
fn unknown_keys_and_bad_values_are_errors_that_name_them() {
    let e = ExperimentConfig::parse("env = \"tictactoe\"\n[selfplay]\nepisodez = 3\n", &[]).unwrap_err();
    assert!(format!("{e:#}").contains("episodez"), "{e:#}");
    let e = ExperimentConfig::parse("env = \"hex:size=99\"\n", &[]).unwrap_err();
    assert!(format!("{e:#}").contains("env") && format!("{e:#}").contains("size"), "{e:#}");
    let e = ExperimentConfig::parse("[model]\nd_model = 30\nn_head = 4\n", &[]).unwrap_err();
    assert!(format!("{e:#}").contains("d_model"), "{e:#}");
    let e = ExperimentConfig::parse("", &["train.lr=7".into()]).unwrap_err();
    assert!(format!("{e:#}").contains("lr"), "{e:#}");
    let e = ExperimentConfig::parse("", &["nonsense".into()]).unwrap_err();
    assert!(format!("{e:#}").contains("key=value"), "{e:#}");
    let e = ExperimentConfig::parse("", &["eval.rollout_mix=1.5".into()]).unwrap_err();
    assert!(format!("{e:#}").contains("eval.rollout_mix"), "{e:#}");
    let e = ExperimentConfig::parse("", &["eval.rollouts=0".into()]).unwrap_err();
    assert!(format!("{e:#}").contains("eval.rollouts"), "{e:#}");
    let e = ExperimentConfig::parse("", &["selfplay.rollout_mix=-0.1".into()]).unwrap_err();
    assert!(format!("{e:#}").contains("selfplay.rollout_mix"), "{e:#}");
    let e = ExperimentConfig::parse("env = \"addition\"\n[selfplay]\nrollout_mix = 0.5\n", &[]).unwrap_err();
    assert!(
        format!("{e:#}").contains("selfplay.rollout_mix") && format!("{e:#}").contains("for games"),
        "{e:#}"
    );
}

#[test]
fn overrides_and_partial_tables_keep_the_other_defaults() {
    let c =
        ExperimentConfig::parse("[selfplay.search]\nsimulations = 7\n", &["learn.steps=3".into()]).unwrap();
    assert_eq!(c.selfplay.search.simulations, 7);
    assert_eq!(c.learn.steps, 3);
    let d = ExperimentConfig::default();
    assert_eq!(c.selfplay.search.algorithm, d.selfplay.search.algorithm, "the noise default survives");
    let g = ExperimentConfig::parse(
        "[selfplay.search.algorithm]\nkind = \"gumbel\"\nmax_considered = 4\nc_visit = 50.0\nc_scale = 1.0\ngumbel_scale = 1.0\n",
        &[],
    )
    .unwrap();
    assert!(matches!(
        g.selfplay.search.algorithm,
        ponder::search::Algorithm::Gumbel { max_considered: 4, .. }
    ));
}

#[test]
fn a_missing_experiment_file_is_an_error_naming_it() {
    let e = ExperimentConfig::load(Path::new("/nonexistent/x.toml"), &[]).unwrap_err();
    assert!(format!("{e:#}").contains("/nonexistent/x.toml"));
}
