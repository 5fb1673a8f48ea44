//! The learning-rate schedule: linear warmup, then cosine decay to a floor.

use super::TrainConfig;

/// The learning rate of optimizer step `step` (from 0) in a run of `total_steps` steps.
///
/// Steps `0..warmup` ramp linearly from `lr / warmup` to `lr`; the rest follow half a cosine
/// from `lr` down to `lr * min_lr_ratio` at `total_steps`, and stay at that floor after it (a
/// loop that trains longer than planned keeps a sane rate).
pub fn lr_at(cfg: &TrainConfig, step: u64, total_steps: u64) -> f64 {
    let warmup = cfg.warmup_steps;
    if step < warmup {
        return cfg.lr * (step + 1) as f64 / warmup as f64;
    }
    let floor = cfg.lr * cfg.min_lr_ratio;
    let span = total_steps.saturating_sub(warmup).max(1);
    let progress = ((step - warmup) as f64 / span as f64).min(1.0);
    floor + 0.5 * (1.0 + (std::f64::consts::PI * progress).cos()) * (cfg.lr - floor)
}
