//! The one error type of the model crate: every message names the file or the value at fault.

use std::path::{Path, PathBuf};

/// What went wrong reading or writing a model, a tokenizer or a checkpoint.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// A file could not be read, written or renamed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The operating system's reason.
        #[source]
        source: std::io::Error,
    },
    /// A file exists but its contents are wrong: truncated, malformed, or mismatched with the
    /// rest of the checkpoint (another vocabulary, other shapes).
    #[error("{}: {message}", path.display())]
    BadFile {
        /// The file at fault.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// Text or tokens outside the vocabulary.
    #[error("{0}")]
    Text(String),
    /// A model or training configuration that cannot work (zero sizes, heads not dividing
    /// d_model, a negative learning rate); the message names the field.
    #[error("{0}")]
    Config(String),
}

impl ModelError {
    /// An I/O error on `path`.
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        ModelError::Io { path: path.to_path_buf(), source }
    }

    /// A bad file: `path`, and what is wrong with it.
    pub fn bad_file(path: &Path, message: impl Into<String>) -> Self {
        ModelError::BadFile { path: path.to_path_buf(), message: message.into() }
    }
}
