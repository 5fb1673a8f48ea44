//! The tokenizer: text to tokens and back, over the one vocabulary of `ponder_env::vocab`.
//!
//! The table is fixed and shared by every environment, so the tokenizer holds no state of its
//! own; it exists to give the model a checked boundary. Every checkpoint stores the table as
//! `tokenizer.json`, and loading refuses a table that differs from the built-in one (a checkpoint
//! trained on another vocabulary would read every token as something else).

use std::path::Path;

use ponder_env::vocab::{self, Token};

use super::ModelError;

/// The format tag written into `tokenizer.json`.
const FORMAT: &str = "ponder-symbols-v1";

/// Text to tokens and back, over [`ponder_env::vocab`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tokenizer;

#[derive(serde::Serialize, serde::Deserialize)]
struct TokenizerFile {
    format: String,
    symbols: Vec<String>,
}

impl Tokenizer {
    /// The built-in tokenizer.
    pub fn new() -> Self {
        Tokenizer
    }

    /// Number of tokens: the model's `vocab_size`.
    pub fn vocab_size(&self) -> usize {
        vocab::VOCAB_SIZE
    }

    /// Every symbol, in id order (a token's id is its index).
    pub fn symbols(&self) -> &'static [String] {
        vocab::symbols()
    }

    /// Encodes text: the longest vocabulary word first, then single characters. An unknown
    /// character is an error naming it and its byte offset.
    pub fn encode(&self, text: &str) -> Result<Vec<Token>, ModelError> {
        vocab::encode(text).map_err(|e| ModelError::Text(e.to_string()))
    }

    /// Decodes tokens into text (special tokens print as `<bos>`, cells as `a1`). A token
    /// outside the vocabulary is an error naming it and its index.
    pub fn decode(&self, tokens: &[Token]) -> Result<String, ModelError> {
        if let Some((i, &t)) = tokens.iter().enumerate().find(|(_, &t)| t as usize >= vocab::VOCAB_SIZE) {
            return Err(ModelError::Text(format!(
                "token {t} at index {i} is outside the vocabulary of {} symbols",
                vocab::VOCAB_SIZE
            )));
        }
        Ok(vocab::decode(tokens))
    }

    /// The `tokenizer.json` text: the format tag and the symbol table.
    pub fn to_json(&self) -> String {
        let file = TokenizerFile { format: FORMAT.into(), symbols: self.symbols().to_vec() };
        serde_json::to_string_pretty(&file).expect("a list of strings serializes")
    }

    /// Writes `tokenizer.json` to `path`.
    pub fn save(&self, path: &Path) -> Result<(), ModelError> {
        std::fs::write(path, self.to_json()).map_err(|e| ModelError::io(path, e))
    }

    /// Reads a `tokenizer.json` and checks that its table is the built-in one; the error names
    /// the file and the first symbol that differs.
    pub fn load(path: &Path) -> Result<Self, ModelError> {
        let text = std::fs::read_to_string(path).map_err(|e| ModelError::io(path, e))?;
        let file: TokenizerFile = serde_json::from_str(&text)
            .map_err(|e| ModelError::bad_file(path, format!("not a tokenizer file: {e}")))?;
        if file.format != FORMAT {
            return Err(ModelError::bad_file(
                path,
                format!("tokenizer format {:?}, expected {FORMAT:?}", file.format),
            ));
        }
        let ours = vocab::symbols();
        if let Some(i) = (0..ours.len().min(file.symbols.len())).find(|&i| ours[i] != file.symbols[i]) {
            return Err(ModelError::bad_file(
                path,
                format!(
                    "vocabulary mismatch: token {i} is {:?} in this file but {:?} in this build",
                    file.symbols[i], ours[i]
                ),
            ));
        }
        if file.symbols.len() != ours.len() {
            return Err(ModelError::bad_file(
                path,
                format!(
                    "vocabulary mismatch: {} symbols in this file, {} in this build",
                    file.symbols.len(),
                    ours.len()
                ),
            ));
        }
        Ok(Tokenizer)
    }
}
