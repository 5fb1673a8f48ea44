//! The replay buffer: a window of the most recent episodes, persisted with the run.

use std::collections::VecDeque;
use std::io::{BufRead, Write};
use std::path::Path;

use anyhow::{Context, Result};
use rand::Rng;

use super::episode::Episode;

/// A bounded window of recent episodes; the oldest are dropped first.
#[derive(Debug, Clone, Default)]
pub struct ReplayBuffer {
    window: usize,
    episodes: VecDeque<Episode>,
    /// Episodes ever added (for the metrics).
    pub total_added: u64,
}

impl ReplayBuffer {
    /// An empty buffer that keeps at most `window` episodes.
    pub fn new(window: usize) -> Self {
        ReplayBuffer { window: window.max(1), episodes: VecDeque::new(), total_added: 0 }
    }

    /// Adds episodes, dropping the oldest beyond the window.
    pub fn extend(&mut self, eps: impl IntoIterator<Item = Episode>) {
        for e in eps {
            self.episodes.push_back(e);
            self.total_added += 1;
            while self.episodes.len() > self.window {
                self.episodes.pop_front();
            }
        }
    }

    pub fn len(&self) -> usize {
        self.episodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.episodes.is_empty()
    }

    /// The episodes, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &Episode> {
        self.episodes.iter()
    }

    /// `n` episodes drawn uniformly with replacement.
    pub fn sample<'a>(&'a self, n: usize, rng: &mut impl Rng) -> Vec<&'a Episode> {
        if self.episodes.is_empty() {
            return Vec::new();
        }
        (0..n).map(|_| &self.episodes[rng.random_range(0..self.episodes.len())]).collect()
    }

    /// Writes the buffer as JSONL (first line: `{"total_added": N}`), atomically.
    pub fn save(&self, path: &Path) -> Result<()> {
        let tmp = path.with_extension("jsonl.tmp");
        {
            let f = std::fs::File::create(&tmp).with_context(|| format!("cannot write {}", tmp.display()))?;
            let mut w = std::io::BufWriter::new(f);
            writeln!(w, "{}", serde_json::json!({ "total_added": self.total_added, "window": self.window }))?;
            for e in &self.episodes {
                serde_json::to_writer(&mut w, e)?;
                w.write_all(b"\n")?;
            }
            w.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        }
        std::fs::rename(&tmp, path).with_context(|| format!("cannot rename {} into place", tmp.display()))?;
        Ok(())
    }

    /// Reads a buffer written by [`ReplayBuffer::save`]; errors name the file and line.
    pub fn load(path: &Path, window: usize) -> Result<Self> {
        let f = std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        let mut lines = std::io::BufReader::new(f).lines();
        let head = lines.next().with_context(|| format!("{}: empty file", path.display()))??;
        let head: serde_json::Value =
            serde_json::from_str(&head).with_context(|| format!("{}:1: bad header", path.display()))?;
        let mut buf = ReplayBuffer::new(window);
        for (i, line) in lines.enumerate() {
            let line = line?;
            let e: Episode = serde_json::from_str(&line)
                .with_context(|| format!("{}:{}: bad episode", path.display(), i + 2))?;
            buf.extend([e]);
        }
        buf.total_added = head.get("total_added").and_then(|v| v.as_u64()).unwrap_or(buf.total_added);
        Ok(buf)
    }
}
