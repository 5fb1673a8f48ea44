//! Experiments: the config, the self-improvement loop, metrics, plots, reports, resume.

pub mod config;
pub mod math_loops;
pub mod metrics;
pub mod plot;
pub mod report;
pub mod run;

pub use config::ExperimentConfig;
pub use run::{run, RunOptions, Summary};
