//! `report.md` and its plots: what a run did, with the learning curves embedded.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Result;
use ponder_env::Kind;

use super::config::{ExperimentConfig, Targets};
use super::metrics::Row;
use super::plot::{self, Chart};
use super::run::write_atomic;
use crate::search::TaskSearch;

/// The charts of a run, by environment kind.
fn charts(rows: &[Row], kind: Kind) -> Vec<Chart<'static>> {
    let has = |c: &str| rows.iter().any(|r| r.get(c).is_some());
    let pick = |cols: &[&str]| cols.iter().filter(|c| has(c)).map(|c| c.to_string()).collect::<Vec<_>>();
    let matching = |pred: &dyn Fn(&str) -> bool| {
        let mut v: Vec<String> = Vec::new();
        for r in rows {
            for n in r.names() {
                if pred(n) && !v.iter().any(|x| x == n) {
                    v.push(n.to_string());
                }
            }
        }
        v
    };
    let mut out = vec![Chart {
        file: "loss.svg",
        title: "Training loss",
        y_label: "loss",
        columns: pick(&["loss_policy", "loss_value", "loss_total"]),
    }];
    match kind {
        Kind::Game => {
            out.push(Chart {
                file: "optimal_moves.svg",
                title: "Optimal-move rate against the solver",
                y_label: "share of positions",
                columns: pick(&["s1_optimal_move_rate", "s2_optimal_move_rate"]),
            });
            out.push(Chart {
                file: "matches.svg",
                title: "Match score (wins + draws/2)",
                y_label: "score",
                columns: matching(&|n: &str| n.ends_with("_score") && n != "gating_score"),
            });
        }
        Kind::Task => {
            out.push(Chart {
                file: "accuracy.svg",
                title: "Held-out accuracy",
                y_label: "accuracy",
                columns: pick(&["s1_accuracy", "s2_accuracy", "selfplay_correct"]),
            });
            let by_length = matching(&|n: &str| n.starts_with("s1_accuracy_d"));
            if !by_length.is_empty() {
                out.push(Chart {
                    file: "accuracy_by_length.svg",
                    title: "Held-out accuracy by operand length (System 1)",
                    y_label: "accuracy",
                    columns: by_length,
                });
            }
            out.push(Chart {
                file: "level.svg",
                title: "Curriculum level",
                y_label: "level",
                columns: pick(&["level"]),
            });
        }
    }
    out
}

/// Redraws every chart of the run.
pub fn draw_plots(dir: &Path, rows: &[Row], kind: Kind) -> Result<Vec<String>> {
    let mut drawn = Vec::new();
    for c in charts(rows, kind) {
        if plot::draw(dir, rows, "iteration", &c)? {
            drawn.push(c.file.to_string());
        }
    }
    Ok(drawn)
}

/// The System 1 / System 2 table of the last evaluated iteration, as markdown.
pub fn final_table(rows: &[Row], kind: Kind) -> String {
    let Some(last) = rows.iter().rev().find(|r| {
        r.get("s1_optimal_move_rate").or(r.get("s1_accuracy")).or(r.get("s1_vs_random_score")).is_some()
    }) else {
        return "no evaluation yet\n".into();
    };
    let metrics: Vec<(&str, String)> = match kind {
        Kind::Game => {
            let mut m = vec![
                ("optimal-move rate", "optimal_move_rate".to_string()),
                ("score vs random", "vs_random_score".to_string()),
                ("score vs perfect player", "vs_perfect_score".to_string()),
                ("losses vs perfect player", "vs_perfect_losses".to_string()),
            ];
            for n in last.names() {
                if let Some(rest) = n.strip_prefix("s2_vs_mcts") {
                    m.push(("score vs rollout MCTS", format!("vs_mcts{rest}")));
                }
            }
            m.into_iter()
                .map(|(label, key)| {
                    let label = if key.starts_with("vs_mcts") {
                        format!(
                            "{label} ({} sims)",
                            key.trim_start_matches("vs_mcts").trim_end_matches("_score")
                        )
                    } else {
                        label.to_string()
                    };
                    (Box::leak(label.into_boxed_str()) as &str, key)
                })
                .collect()
        }
        Kind::Task => vec![
            ("held-out accuracy", "accuracy".into()),
            ("model calls per task", "model_calls_per_task".into()),
            ("forward positions per task", "forward_positions_per_task".into()),
        ],
    };
    let mut s = String::new();
    let it = last.get("iteration").unwrap_or(0.0);
    let _ = writeln!(s, "| after iteration {it} | System 1 (policy) | System 2 (search) |");
    let _ = writeln!(s, "| --- | --- | --- |");
    for (label, key) in metrics {
        let a = last.get(&format!("s1_{key}"));
        let b = last.get(&format!("s2_{key}"));
        if a.is_none() && b.is_none() {
            continue;
        }
        let f = |v: Option<f64>| {
            v.map_or("-".to_string(), |v| if v.fract() == 0.0 { format!("{v}") } else { format!("{v:.4}") })
        };
        let _ = writeln!(s, "| {label} | {} | {} |", f(a), f(b));
    }
    s
}

/// The machine, in words: CPU model, logical cores, memory (Linux; "unknown" elsewhere).
pub fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mem_gib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|t| {
            t.lines().next().and_then(|l| l.split_whitespace().nth(1)).and_then(|k| k.parse::<f64>().ok())
        })
        .map_or("?".into(), |kib| format!("{:.0}", kib / 1024.0 / 1024.0));
    format!("{cpu}, {cores} logical cores, {mem_gib} GiB, {}", std::env::consts::OS)
}

/// ` (commit abc1234)` when the run started inside a git work tree with git installed (the
/// commit of the working directory, `+` if it had uncommitted changes to tracked files);
/// otherwise nothing.
fn source_commit() -> String {
    // Asked once per process: the report is rewritten every iteration.
    static COMMIT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    COMMIT.get_or_init(ask_git).clone()
}

fn ask_git() -> String {
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .stderr(std::process::Stdio::null())
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    match git(&["rev-parse", "--short", "HEAD"]) {
        Some(hash) if !hash.is_empty() => {
            let dirty = git(&[
                "status",
                "--porcelain",
                "--untracked-files=no",
                "--",
                "src",
                "environments",
                "Cargo.toml",
                "Cargo.lock",
            ])
            .is_some_and(|s| !s.is_empty());
            format!(" (commit {hash}{})", if dirty { "+" } else { "" })
        }
        _ => String::new(),
    }
}

/// How self-play made its episodes, in words: the search or sampler that actors ran.
fn how_episodes_are_made(cfg: &ExperimentConfig) -> String {
    let sp = &cfg.selfplay;
    match (sp.targets, &sp.task_search) {
        (Targets::Verified, Some(TaskSearch::Steps(c))) => format!(
            "answers proposed by Tree of Thoughts' step search (beam {}, {} proposals per kept state) \
             and kept when verified",
            c.beam, c.samples
        ),
        (Targets::Verified, Some(TaskSearch::Enumerate(c))) => format!(
            "answers proposed by best-first enumeration ({} expansions per task) and kept when verified",
            c.expansions
        ),
        (Targets::Verified, None) => format!(
            "{} sampled answer(s) per task kept when verified{}",
            sp.samples_per_task,
            if sp.rationalize { ", failures rationalized with the answer as a hint" } else { "" }
        ),
        (Targets::SelfLabel, _) => {
            format!("{} samples per task, labelled by the policy's own majority vote", sp.samples_per_task)
        }
        (Targets::Search, _) => format!("{} simulations per move", sp.search.simulations),
        (Targets::ChosenAction, _) => {
            format!("{} simulations per move, the chosen move as the target", sp.search.simulations)
        }
        (Targets::PolicyGradient, _) => {
            "no search: moves sampled from the policy, REINFORCE with the value head as baseline".into()
        }
    }
}

/// Writes `report.md`: the setup, the final table, the curves.
pub fn write_report(
    dir: &Path,
    cfg: &ExperimentConfig,
    rows: &[Row],
    kind: Kind,
    command: Option<&str>,
) -> Result<()> {
    let mut s = String::new();
    let _ = writeln!(s, "# {}\n", cfg.name);
    let _ = writeln!(
        s,
        "Environment `{}`, {} of {} iterations, seed {}. Model d_model {} x {} layers x {} heads. \
         Self-play: {} episodes per iteration, {}. Resolved config: \
         [config.resolved.toml](config.resolved.toml); every iteration: [metrics.csv](metrics.csv).\n",
        cfg.env,
        rows.len(),
        cfg.iterations,
        cfg.seed,
        cfg.model.d_model,
        cfg.model.n_layer,
        cfg.model.n_head,
        cfg.selfplay.episodes,
        how_episodes_are_made(cfg)
    );
    let _ = writeln!(s, "## Run\n");
    if let Some(c) = command {
        let _ = writeln!(s, "- command: `{c}`");
    }
    let _ = writeln!(s, "- seed: {}", cfg.seed);
    if let Some(w) = rows.last().and_then(|r| r.get("wall_seconds")) {
        let _ = writeln!(s, "- wall time: {w:.0} s for {} iterations", rows.len());
    }
    let _ = writeln!(s, "- machine: {}", machine());
    let _ = writeln!(s, "- version: ponder {}{}\n", env!("CARGO_PKG_VERSION"), source_commit());
    let _ = writeln!(s, "## System 1 against System 2\n\n{}", final_table(rows, kind));
    let _ = writeln!(s, "## Curves\n");
    for c in charts(rows, kind) {
        if dir.join(c.file).exists() {
            let _ = writeln!(s, "![{}]({})\n", c.title, c.file);
        }
    }
    write_atomic(&dir.join("report.md"), s.as_bytes())
}
