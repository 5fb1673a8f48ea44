//! The loop's hooks for the math self-improvement studies: STaR's rationalization and stored
//! failures (`selfplay.rationalize`, `selfplay.keep_failed`), self-labelling with no verifier
//! (`selfplay.targets = "self_label"`), a start from an earlier run's weights (`model.init`), and
//! their validation. The loop (`run.rs`) calls [`generate`] instead of its own generation when
//! [`owns_generation`] says so; everything else it does is unchanged.

use std::path::Path;

use anyhow::{bail, Context, Result};
use indicatif::ProgressBar;
use ponder_env::{with_env, AnyEnv, Env, Kind};
use rayon::prelude::*;

use super::config::{ExperimentConfig, Targets};
use super::metrics::Row;
use crate::eval::by_length::operand_length;
use crate::model::{checkpoint, ModelConfig, Policy};
use crate::selfplay::actor::Assignment;
use crate::selfplay::selflabel::self_labelled_episodes;
use crate::selfplay::star::{star_episodes, stored};
use crate::selfplay::Episode;
use crate::train::Learner;

/// One iteration's generated episodes, split by use.
#[derive(Debug, Clone, Default)]
pub struct Generated {
    /// The plain attempts, graded by the ground truth: the round's accuracy and the curriculum's
    /// promotion read these.
    pub attempts: Vec<Episode>,
    /// What goes into the replay buffer.
    pub training: Vec<Episode>,
    /// Extra metrics columns.
    pub stats: Row,
}

impl Generated {
    /// The loop's own generation: every attempt is also training data.
    pub fn plain(episodes: Vec<Episode>) -> Self {
        Generated { training: episodes.clone(), attempts: episodes, stats: Row::default() }
    }
}

/// Whether these settings need [`generate`] rather than the loop's own generation.
pub fn owns_generation(cfg: &ExperimentConfig) -> bool {
    let sp = &cfg.selfplay;
    sp.targets == Targets::SelfLabel
        || (sp.targets == Targets::Verified
            && (sp.rationalize || sp.keep_failed < 1.0 || sp.retries > 0 || sp.verify_scratchpad))
}

/// Generates an iteration's episodes with STaR (verified samples, rationalization, a share of
/// failures stored) or self-labelling, in chunks of `selfplay.batch` across the pool: the same
/// episodes on any thread count.
pub fn generate<E: Env>(
    env: &E,
    policy: &Policy,
    pool: &rayon::ThreadPool,
    cfg: &ExperimentConfig,
    work: &[Assignment],
    bar: &ProgressBar,
) -> Generated {
    let sp = &cfg.selfplay;
    let chunks: Vec<&[Assignment]> = work.chunks(sp.batch as usize).collect();
    let mut g = Generated::default();
    if sp.targets == Targets::SelfLabel {
        let parts: Vec<_> = pool.install(|| {
            chunks
                .par_iter()
                .map(|chunk| {
                    let mut ev = policy.evaluator();
                    let b = self_labelled_episodes(
                        env,
                        &mut ev,
                        &sp.sampler,
                        sp.samples_per_task,
                        &sp.self_label,
                        chunk,
                    );
                    bar.inc(chunk.len() as u64);
                    b
                })
                .collect()
        });
        let lengths: std::collections::HashMap<&str, u32> =
            work.iter().map(|a| (a.task.id.as_str(), operand_length(&a.task.prompt))).collect();
        let longest = lengths.values().copied().max().unwrap_or(0);
        for b in parts {
            g.attempts.extend(b.attempts);
            g.training.extend(b.labels);
        }
        let n = work.len().max(1) as f64;
        let labels = g.training.len();
        let right = g.training.iter().filter(|e| e.correct).count();
        let at_longest: Vec<&Episode> =
            g.training.iter().filter(|e| lengths.get(e.task.as_str()) == Some(&longest)).collect();
        g.stats.push("label_accepted", labels as f64 / n);
        // The ground truth grades the labels here for the record only; nothing trains on it.
        g.stats.push("label_precision", right as f64 / labels.max(1) as f64);
        g.stats.push("label_longest", longest as f64);
        g.stats.push("labels_at_longest", at_longest.len() as f64);
        g.stats.push(
            "label_precision_at_longest",
            at_longest.iter().filter(|e| e.correct).count() as f64 / at_longest.len().max(1) as f64,
        );
    } else {
        let parts: Vec<_> = pool.install(|| {
            chunks
                .par_iter()
                .map(|chunk| {
                    let mut ev = policy.evaluator();
                    let b = star_episodes(env, &mut ev, sp, chunk);
                    bar.inc(chunk.len() as u64);
                    b
                })
                .collect()
        });
        let mut sums = [0usize; 4];
        for b in parts {
            for (s, v) in sums.iter_mut().zip([b.retried, b.retry_solved, b.hinted, b.rationalized]) {
                *s += v;
            }
            g.attempts.extend(b.attempts);
            g.training.extend(b.extra);
        }
        let kept: Vec<Episode> = g
            .attempts
            .iter()
            .enumerate()
            .filter(|(i, e)| stored(e, *i, sp.keep_failed))
            .map(|(_, e)| e.clone())
            .collect();
        let stored_failures = kept.iter().filter(|e| !e.correct).count();
        g.training.splice(0..0, kept);
        if sp.retries > 0 {
            g.stats.push("retried", sums[0] as f64);
            g.stats.push("retry_solved", sums[1] as f64);
        }
        if sp.rationalize {
            g.stats.push("rationalize_tried", sums[2] as f64);
            g.stats.push("rationalized", sums[3] as f64);
        }
        g.stats.push("stored_failures", stored_failures as f64);
    }
    g
}

/// A learner that starts from the weights of the checkpoint at `model.init` (with a fresh
/// optimizer and schedule), or a random one.
pub fn learner(cfg: &ExperimentConfig, model_cfg: ModelConfig, total_steps: u64) -> Result<Learner> {
    let fresh = Learner::new(model_cfg.clone(), cfg.train.clone(), cfg.seed, total_steps)?;
    let Some(dir) = &cfg.model.init else { return Ok(fresh) };
    let (model, meta) = checkpoint::load_model(Path::new(dir), fresh.device())
        .with_context(|| format!("field `model.init`: cannot load {dir}"))?;
    let got = model.config();
    if (got.d_model, got.n_layer, got.n_head, got.block_size, got.value)
        != (model_cfg.d_model, model_cfg.n_layer, model_cfg.n_head, model_cfg.block_size, model_cfg.value)
    {
        bail!(
            "field `model.init`: {dir} holds a d_model {} x {} layers x {} heads model with block_size {} \
             ({:?} values); `[model]` says {} x {} x {} with block_size {} ({:?})",
            got.d_model,
            got.n_layer,
            got.n_head,
            got.block_size,
            got.value,
            model_cfg.d_model,
            model_cfg.n_layer,
            model_cfg.n_head,
            model_cfg.block_size,
            model_cfg.value
        );
    }
    let family = |spec: &str| spec.split(':').next().unwrap_or("").to_string();
    if family(&meta.env) != family(&cfg.env) {
        bail!("field `model.init`: {dir} was trained on {}, the config's env is {}", meta.env, cfg.env);
    }
    Ok(Learner::from_parts(model, None, fresh.state().clone(), fresh.device().clone()))
}

/// Checks the math-loop fields against each other and the environment; errors name the field.
pub fn validate(cfg: &ExperimentConfig, env: &AnyEnv) -> Result<()> {
    let sp = &cfg.selfplay;
    if !(0.0..=1.0).contains(&sp.keep_failed) {
        bail!("field `selfplay.keep_failed` must be a share in [0, 1] (got {})", sp.keep_failed);
    }
    if !(0.0..=1.0).contains(&sp.self_label.agreement) {
        bail!(
            "field `selfplay.self_label.agreement` must be a share in [0, 1] (got {})",
            sp.self_label.agreement
        );
    }
    if !(0.0..=1.0).contains(&sp.explore) {
        bail!("field `selfplay.explore` must be a share in [0, 1] (got {})", sp.explore);
    }
    let arithmetic = matches!(env, AnyEnv::Arith(_));
    let hints = with_env!(env, e => crate::selfplay::star::offers_hints(e));
    for (field, on) in [("rationalize", sp.rationalize), ("verify_scratchpad", sp.verify_scratchpad)] {
        if !on {
            continue;
        }
        if sp.targets != Targets::Verified {
            bail!("field `selfplay.{field}` needs `selfplay.targets = \"verified\"` (got {:?})", sp.targets);
        }
        if !hints {
            bail!(
                "field `selfplay.{field}`: {} offers no hint (arithmetic needs a scratchpad: scratchpad=lsd or msd)",
                cfg.env
            );
        }
    }
    if sp.retries > 0 && sp.targets != Targets::Verified {
        bail!("field `selfplay.retries` needs `selfplay.targets = \"verified\"` (got {:?})", sp.targets);
    }
    if sp.targets == Targets::SelfLabel {
        if env.kind() != Kind::Task {
            bail!("field `selfplay.targets`: self-labelling answers tasks; {} is a game", cfg.env);
        }
        if cfg.curriculum.enabled && cfg.curriculum.promote_every == 0 {
            bail!(
                "field `curriculum.promote_every` must be positive with `selfplay.targets = \"self_label\"`: \
                 promoting by training accuracy would consult the ground truth"
            );
        }
    }
    if sp.self_label.length_filter && !arithmetic {
        bail!(
            "field `selfplay.self_label.length_filter` reads arithmetic prompts; {} is not arithmetic",
            cfg.env
        );
    }
    if cfg.eval.by_length && !arithmetic {
        bail!("field `eval.by_length` counts operand digits; {} is not arithmetic", cfg.env);
    }
    let levels = with_env!(env, e => e.curriculum_levels());
    if cfg.curriculum.start_level >= levels {
        bail!(
            "field `curriculum.start_level` is {}, but {} has levels 0..={}",
            cfg.curriculum.start_level,
            cfg.env,
            levels - 1
        );
    }
    Ok(())
}
