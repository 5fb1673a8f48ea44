//! The math self-improvement loops end to end, tiny and fast: STaR's rationalization and stored
//! failures, self-labelling from an earlier run's weights on a fixed schedule, per-length
//! accuracy, and the errors that name their field.

use std::path::{Path, PathBuf};

use ponder::experiment::metrics::read_csv;
use ponder::experiment::{run, ExperimentConfig, RunOptions, Summary};

/// Two-digit sums with a carry scratchpad, a tiny model, seconds per iteration.
const TINY_STAR: &str = r#"
name = "tiny-star"
env = "addition:digits=1-2,scratchpad=lsd"
seed = 5
iterations = 1
threads = 2
[model]
d_model = 16
n_layer = 1
n_head = 2
block_size = 64
[selfplay]
episodes = 16
batch = 8
targets = "verified"
samples_per_task = 2
rationalize = true
[learn]
steps = 3
[train]
batch_size = 8
warmup_steps = 1
[eval]
tasks = 24
system2 = false
by_length = true
"#;

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ponder-math-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn run_in(text: &str, out: &Path, sets: &[&str]) -> Summary {
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    let cfg = ExperimentConfig::parse(text, &sets).unwrap();
    run(&cfg, &RunOptions { out: Some(out.to_path_buf()), quiet: true, ..Default::default() }).unwrap()
}

fn error_of(text: &str, sets: &[&str]) -> String {
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    format!("{:#}", ExperimentConfig::parse(text, &sets).unwrap_err())
}

#[test]
fn star_rationalizations_go_to_training_but_not_into_the_round_accuracy() {
    let out = tmp("star");
    let s = run_in(TINY_STAR, &out, &[]);
    let r = &s.rows[0];
    assert_eq!(
        r.get("episodes"),
        Some(32.0),
        "two plain samples per task; rationalizations are not attempts"
    );
    let tried = r.get("rationalize_tried").unwrap();
    let kept = r.get("rationalized").unwrap();
    assert!(tried > 0.0, "a random policy fails two-digit sums");
    assert!(kept <= tried);
    assert_eq!(
        r.get("replay_episodes"),
        Some(32.0 + kept),
        "every attempt stored, and each kept rationalization"
    );
    for c in ["s1_accuracy_d1", "s1_accuracy_d2", "s1_exact_up_to", "s1_accuracy"] {
        assert!(r.get(c).is_some(), "{c} missing");
    }
    assert!(r.get("s2_accuracy").is_none(), "eval.system2 = false skips System 2");
    assert!(out.join("accuracy_by_length.svg").exists());

    // Retries and process verification: counted apart from the round's attempts.
    let more = tmp("star-retry");
    let s = run_in(
        TINY_STAR,
        &more,
        &["selfplay.retries=3", "selfplay.explore=0.5", "selfplay.verify_scratchpad=true"],
    );
    let r = &s.rows[0];
    assert_eq!(r.get("episodes"), Some(32.0));
    let retried = r.get("retried").unwrap();
    assert!(retried > 0.0 && r.get("retry_solved").unwrap() <= retried);
    assert!(r.get("rationalize_tried").unwrap() <= retried, "rationalization sees what retries left");

    let off = tmp("star-off");
    let s = run_in(TINY_STAR, &off, &["selfplay.rationalize=false", "selfplay.keep_failed=0.0"]);
    let r = &s.rows[0];
    assert!(r.get("rationalized").is_none());
    let right = (r.get("selfplay_correct").unwrap() * 32.0).round();
    assert_eq!(r.get("replay_episodes"), Some(right), "keep_failed = 0 stores the verified answers alone");
}

#[test]
fn the_star_loop_gives_the_same_metrics_on_any_thread_count() {
    let a = tmp("star-t2");
    let b = tmp("star-t1");
    let strip = |dir: &Path| {
        let (h, rows) = read_csv(&dir.join("metrics.csv")).unwrap();
        let keep: Vec<usize> = (0..h.len()).filter(|&i| !h[i].ends_with("seconds")).collect();
        rows.iter().map(|r| keep.iter().map(|&i| r[i]).collect::<Vec<_>>()).collect::<Vec<_>>()
    };
    run_in(TINY_STAR, &a, &["selfplay.keep_failed=0.5"]);
    run_in(TINY_STAR, &b, &["selfplay.keep_failed=0.5", "threads=1"]);
    assert_eq!(strip(&a), strip(&b));
}

#[test]
fn self_labelling_starts_from_a_checkpoint_and_climbs_on_a_fixed_schedule() {
    let base = tmp("label-base");
    run_in(TINY_STAR, &base, &[]);
    let init = base.join("checkpoints/latest");
    let text = format!(
        r#"
name = "tiny-label"
env = "addition:digits=1-4,scratchpad=lsd"
iterations = 2
threads = 2
[model]
d_model = 16
n_layer = 1
n_head = 2
block_size = 64
init = "{}"
[selfplay]
episodes = 16
batch = 8
targets = "self_label"
samples_per_task = 3
self_label = {{ agreement = 0.0, length_filter = true }}
[learn]
steps = 2
[train]
batch_size = 8
warmup_steps = 1
[curriculum]
start_level = 1
promote_every = 1
[eval]
tasks = 30
system2 = false
by_length = true
"#,
        init.display()
    );
    let out = tmp("label");
    let s = run_in(&text, &out, &[]);
    assert_eq!(s.rows[0].get("level"), Some(2.0), "start at level 1, one level per iteration");
    assert_eq!(s.rows[1].get("level"), Some(3.0));
    let r = &s.rows[0];
    assert_eq!(r.get("label_longest"), Some(2.0), "level 1 draws operands of 1 or 2 digits");
    let accepted = r.get("label_accepted").unwrap();
    assert!((0.0..=1.0).contains(&accepted));
    assert_eq!(r.get("replay_episodes"), Some((accepted * 16.0).round()), "only the labels are stored");
    assert!(r.get("label_precision").is_some() && r.get("s1_accuracy_d4").is_some());

    // The shape must match the checkpoint's, and the error names the field.
    let cfg = ExperimentConfig::parse(&text.replace("d_model = 16", "d_model = 32"), &[]).unwrap();
    let e = run(&cfg, &RunOptions { out: Some(tmp("label-bad")), quiet: true, ..Default::default() })
        .unwrap_err();
    assert!(format!("{e:#}").contains("model.init") && format!("{e:#}").contains("d_model 16"), "{e:#}");
    let cfg = ExperimentConfig::parse(&text.replace(&init.display().to_string(), "/nonexistent/ckpt"), &[])
        .unwrap();
    let e = run(&cfg, &RunOptions { out: Some(tmp("label-missing")), quiet: true, ..Default::default() })
        .unwrap_err();
    assert!(
        format!("{e:#}").contains("model.init") && format!("{e:#}").contains("/nonexistent/ckpt"),
        "{e:#}"
    );
}

#[test]
fn math_loop_settings_that_cannot_work_are_errors_naming_the_field() {
    let e = error_of(TINY_STAR, &["env=\"addition:digits=1-2\""]);
    assert!(e.contains("selfplay.rationalize") && e.contains("scratchpad"), "{e}");
    let e = error_of(TINY_STAR, &["selfplay.targets=\"search\""]);
    assert!(e.contains("selfplay.rationalize"), "{e}");
    let e = error_of(
        TINY_STAR,
        &["env=\"addition:digits=1-2\"", "selfplay.rationalize=false", "selfplay.verify_scratchpad=true"],
    );
    assert!(e.contains("selfplay.verify_scratchpad"), "{e}");
    let e = error_of(
        TINY_STAR,
        &["selfplay.rationalize=false", "selfplay.targets=\"search\"", "selfplay.retries=2"],
    );
    assert!(e.contains("selfplay.retries"), "{e}");
    let e = error_of(TINY_STAR, &["selfplay.explore=-0.1"]);
    assert!(e.contains("selfplay.explore"), "{e}");
    let e = error_of(TINY_STAR, &["selfplay.keep_failed=1.5"]);
    assert!(e.contains("selfplay.keep_failed"), "{e}");
    let e = error_of(TINY_STAR, &["selfplay.rationalize=false", "selfplay.targets=\"self_label\""]);
    assert!(e.contains("curriculum.promote_every") && e.contains("ground truth"), "{e}");
    let e = error_of(TINY_STAR, &["curriculum.start_level=2"]);
    assert!(e.contains("curriculum.start_level"), "{e}");
    let e = error_of("env = \"tictactoe\"\n[eval]\nby_length = true\n", &[]);
    assert!(e.contains("eval.by_length"), "{e}");
    let e = error_of("env = \"game24\"\n[selfplay.self_label]\nlength_filter = true\n", &[]);
    assert!(e.contains("selfplay.self_label.length_filter"), "{e}");
    let e = error_of(TINY_STAR, &["selfplay.self_label.agreement=2"]);
    assert!(e.contains("selfplay.self_label.agreement"), "{e}");
}
