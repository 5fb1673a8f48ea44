//! Checkpoints: a directory that describes itself.
//!
//! | file | holds |
//! | --- | --- |
//! | `config.json` | the [`ModelConfig`] |
//! | `tokenizer.json` | the vocabulary table ([`Tokenizer`]); loading refuses another one |
//! | `model.bpk` | the weights, burn's `save_file` (burnpack; parameter ids kept) |
//! | `optimizer.bpk` | AdamW's moments and step counts, burn's `ModuleOptimizer::save`, keyed by parameter id |
//! | `learner.json` | [`LearnerState`]: train config, seed, steps taken, horizon |
//! | `meta.json` | [`CheckpointMeta`]: environment spec, step, iteration, the loop's own JSON |
//! | `weights.safetensors` | the same weights for PyTorch / `safetensors` ([`Policy::named_tensors`] names; linear weights `[d_in, d_out]`) |
//!
//! **Atomic.** [`save`] writes everything into `DIR.tmp-<pid>`, fsyncs each file and the
//! directory, then swaps it in: `DIR` is renamed to `DIR.old-<pid>`, the new one to `DIR`, and
//! the old one deleted. An interrupted save leaves the last good checkpoint either at `DIR` or,
//! if cut between the two renames, at `DIR.old-<pid>`, where every `load_*` looks when `DIR`
//! is missing.
//!
//! **Checked.** Loading reads the small files first and checks them against each other; every
//! error names the file: missing, truncated, malformed, another vocabulary, other shapes.

use std::path::{Path, PathBuf};

use burn::optim::OptimizerRecord;
use burn::prelude::*;

use super::gpt::{Gpt, ModelConfig};
use super::safetensors;
use super::tokenizer::Tokenizer;
use super::weights::Policy;
use super::ModelError;
use crate::train::{Learner, LearnerState};

/// What the loop records about a checkpoint beyond the weights.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckpointMeta {
    /// The environment spec it was trained on, e.g. `hex:size=5`.
    pub env: String,
    /// Optimizer steps taken (filled in from the learner by [`save`]).
    #[serde(default)]
    pub step: u64,
    /// The self-play iteration.
    #[serde(default)]
    pub iteration: u64,
    /// Anything else the loop wants kept (metrics, experiment name).
    #[serde(default)]
    pub extra: serde_json::Value,
}

impl CheckpointMeta {
    /// Meta for `env` at `iteration`, with no extra data.
    pub fn new(env: impl Into<String>, iteration: u64) -> Self {
        CheckpointMeta { env: env.into(), step: 0, iteration, extra: serde_json::Value::Null }
    }
}

/// File names inside a checkpoint directory.
pub const CONFIG: &str = "config.json";
/// See the module table.
pub const TOKENIZER: &str = "tokenizer.json";
/// See the module table.
pub const MODEL: &str = "model.bpk";
/// See the module table.
pub const OPTIMIZER: &str = "optimizer.bpk";
/// See the module table.
pub const LEARNER: &str = "learner.json";
/// See the module table.
pub const META: &str = "meta.json";
/// See the module table.
pub const SAFETENSORS: &str = "weights.safetensors";

/// Writes `learner` and `meta` as the checkpoint directory `dir`, atomically.
pub fn save(dir: &Path, learner: &Learner, meta: &CheckpointMeta) -> Result<(), ModelError> {
    let tmp = sibling(dir, "tmp");
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).map_err(|e| ModelError::io(&tmp, e))?;
    }
    std::fs::create_dir_all(&tmp).map_err(|e| ModelError::io(&tmp, e))?;

    let json = |name: &str, value: &dyn erased::Json| -> Result<(), ModelError> {
        let path = tmp.join(name);
        std::fs::write(&path, value.pretty()).map_err(|e| ModelError::io(&path, e))?;
        fsync(&path)
    };
    json(CONFIG, learner.model_config())?;
    json(LEARNER, learner.state())?;
    let mut meta = meta.clone();
    meta.step = learner.steps_done();
    json(META, &meta)?;
    let path = tmp.join(TOKENIZER);
    Tokenizer::new().save(&path)?;
    fsync(&path)?;

    let model = learner.model();
    let policy = Policy::from_model(&model);
    let path = tmp.join(MODEL);
    model.save_file(&path).map_err(|e| ModelError::bad_file(&path, format!("cannot write: {e}")))?;
    fsync(&path)?;
    let path = tmp.join(OPTIMIZER);
    learner.optimizer().save(&path).map_err(|e| ModelError::bad_file(&path, format!("cannot write: {e}")))?;
    fsync(&path)?;
    write_safetensors(&tmp.join(SAFETENSORS), &policy)?;
    fsync(&tmp)?;

    // Swap the new directory in; the old one survives until the new one is in place.
    let old = sibling(dir, "old");
    if dir.exists() {
        std::fs::rename(dir, &old).map_err(|e| ModelError::io(dir, e))?;
    }
    std::fs::rename(&tmp, dir).map_err(|e| ModelError::io(dir, e))?;
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        fsync(parent)?;
    }
    if old.exists() {
        std::fs::remove_dir_all(&old).map_err(|e| ModelError::io(&old, e))?;
    }
    Ok(())
}

/// Writes `policy`'s weights as safetensors, with the model config in the metadata.
pub fn write_safetensors(path: &Path, policy: &Policy) -> Result<(), ModelError> {
    let mut metadata = std::collections::BTreeMap::new();
    metadata.insert("format".to_string(), "pt".to_string());
    metadata.insert("ponder.config".to_string(), serde_json::to_string(policy.config()).expect("config"));
    metadata.insert(
        "ponder.layout".to_string(),
        "linear weights are [d_in, d_out] (y = x @ W + b): transpose for torch.nn.Linear; \
         the policy head is tied to wte.weight"
            .to_string(),
    );
    safetensors::write(path, &policy.named_tensors(), &metadata)
}

/// Reads weights written by [`write_safetensors`].
pub fn read_safetensors(path: &Path) -> Result<Policy, ModelError> {
    let (tensors, metadata) = safetensors::read(path)?;
    let config = metadata
        .get("ponder.config")
        .ok_or_else(|| ModelError::bad_file(path, "no ponder.config in __metadata__"))?;
    let config: ModelConfig = serde_json::from_str(config)
        .map_err(|e| ModelError::bad_file(path, format!("bad ponder.config: {e}")))?;
    Policy::from_named_tensors(config, tensors).map_err(|m| ModelError::bad_file(path, m))
}

/// Reads a checkpoint's config, tokenizer and meta, checking them. Returns the directory
/// actually read (see the module docs on interrupted saves).
fn read_small(dir: &Path) -> Result<(PathBuf, ModelConfig, CheckpointMeta), ModelError> {
    let dir = resolve(dir)?;
    let config = read_model_config(&dir.join(CONFIG))?;
    config.validate().map_err(|e| ModelError::bad_file(&dir.join(CONFIG), e.to_string()))?;
    Tokenizer::load(&dir.join(TOKENIZER))?;
    if config.vocab_size != Tokenizer::new().vocab_size() {
        return Err(ModelError::bad_file(
            &dir.join(CONFIG),
            format!(
                "vocab_size {} but the vocabulary has {} symbols",
                config.vocab_size,
                Tokenizer::new().vocab_size()
            ),
        ));
    }
    let meta: CheckpointMeta = read_json(&dir.join(META))?;
    Ok((dir, config, meta))
}

/// Loads the model of a checkpoint onto `device`.
pub fn load_model(dir: &Path, device: &Device) -> Result<(Gpt, CheckpointMeta), ModelError> {
    let (dir, config, meta) = read_small(dir)?;
    let path = dir.join(MODEL);
    if !path.is_file() {
        return Err(ModelError::bad_file(&path, "missing"));
    }
    let model = config.init(device, 0).try_load_file(&path).map_err(|e| {
        ModelError::bad_file(&path, format!("cannot load weights (truncated or another shape?): {e}"))
    })?;
    Ok((model, meta))
}

/// Reads a checkpoint's `meta.json` alone (no weights).
pub fn load_meta(dir: &Path) -> Result<CheckpointMeta, ModelError> {
    read_json(&resolve(dir)?.join(META))
}

/// Loads a checkpoint's weights as a [`Policy`] for search.
pub fn load_policy(dir: &Path) -> Result<(Policy, CheckpointMeta), ModelError> {
    let (model, meta) = load_model(dir, &Device::flex())?;
    Ok((Policy::from_model(&model), meta))
}

/// Loads a checkpoint to resume training: weights, optimizer state, schedule position.
pub fn load_learner(dir: &Path) -> Result<(Learner, CheckpointMeta), ModelError> {
    load_learner_on(dir, &Device::flex())
}

/// [`load_learner`] on another device.
pub fn load_learner_on(dir: &Path, device: &Device) -> Result<(Learner, CheckpointMeta), ModelError> {
    let resolved = resolve(dir)?;
    let state: LearnerState = read_json(&resolved.join(LEARNER))?;
    state.train.validate().map_err(|e| ModelError::bad_file(&resolved.join(LEARNER), e.to_string()))?;
    let device = device.clone().autodiff();
    let (model, meta) = load_model(&resolved, &device)?;
    let path = resolved.join(OPTIMIZER);
    if !path.is_file() {
        return Err(ModelError::bad_file(&path, "missing"));
    }
    let record = OptimizerRecord::load(&path)
        .map_err(|e| ModelError::bad_file(&path, format!("cannot load optimizer state (truncated?): {e}")))?;
    Ok((Learner::from_parts(model, Some(record), state, device), meta))
}

/// `dir`, or the `DIR.old-<pid>` an interrupted save left when `dir` is missing.
fn resolve(dir: &Path) -> Result<PathBuf, ModelError> {
    if dir.is_dir() {
        return Ok(dir.to_path_buf());
    }
    let missing =
        || ModelError::io(dir, std::io::Error::new(std::io::ErrorKind::NotFound, "no checkpoint here"));
    let (parent, name) = match (dir.parent(), dir.file_name()) {
        (Some(p), Some(n)) => {
            (if p.as_os_str().is_empty() { Path::new(".") } else { p }, n.to_string_lossy())
        }
        _ => return Err(missing()),
    };
    let prefix = format!("{name}.old-");
    let entries = std::fs::read_dir(parent).map_err(|_| missing())?;
    entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.is_dir() && p.file_name().is_some_and(|n| n.to_string_lossy().starts_with(&prefix)))
        .ok_or_else(missing)
}

fn sibling(dir: &Path, tag: &str) -> PathBuf {
    let name = dir.file_name().map_or_else(|| "checkpoint".into(), |n| n.to_string_lossy().into_owned());
    dir.with_file_name(format!("{name}.{tag}-{}", std::process::id()))
}

/// `config.json`, with the fields added since the first checkpoints filled in with what those
/// checkpoints meant (`positions`: learned), so every checkpoint ever written still loads.
fn read_model_config(path: &Path) -> Result<ModelConfig, ModelError> {
    let mut value: serde_json::Value = read_json(path)?;
    if let Some(fields) = value.as_object_mut() {
        fields.entry("positions").or_insert_with(|| serde_json::Value::String("Learned".into()));
    }
    serde_json::from_value(value).map_err(|e| ModelError::bad_file(path, e.to_string()))
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, ModelError> {
    let text = std::fs::read_to_string(path).map_err(|e| ModelError::io(path, e))?;
    serde_json::from_str(&text).map_err(|e| ModelError::bad_file(path, e.to_string()))
}

fn fsync(path: &Path) -> Result<(), ModelError> {
    std::fs::File::open(path).and_then(|f| f.sync_all()).map_err(|e| ModelError::io(path, e))
}

/// Pretty JSON of any serialisable value, behind a trait object so one closure writes them all.
mod erased {
    pub trait Json {
        fn pretty(&self) -> String;
    }
    impl<T: serde::Serialize> Json for T {
        fn pretty(&self) -> String {
            serde_json::to_string_pretty(self).expect("config types serialise")
        }
    }
}
