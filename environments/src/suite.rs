//! Tasks as data: JSONL records `{"id": ..., "prompt": ..., <truth fields>}`.
//!
//! Reading is per line and forgiving: a line that cannot be read is reported with its number and
//! skipped, never fatal to the rest. Writing is atomic (a temporary file, then a rename).

use std::io::Write;
use std::path::Path;

use crate::{Env, EnvError, Task};

/// A line of a task file that could not be read: its 1-based number and why.
#[derive(Debug, Clone, PartialEq)]
pub struct LineError {
    pub line: usize,
    pub error: String,
}

/// Parses JSONL text into tasks of `env`. Blank lines are skipped; bad lines are returned with
/// their numbers.
pub fn parse_tasks<E: Env>(env: &E, text: &str) -> (Vec<Task>, Vec<LineError>) {
    let mut tasks = Vec::new();
    let mut errors = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match parse_line(env, line) {
            Ok(t) => tasks.push(t),
            Err(e) => errors.push(LineError { line: i + 1, error: e.to_string() }),
        }
    }
    (tasks, errors)
}

fn parse_line<E: Env>(env: &E, line: &str) -> Result<Task, EnvError> {
    let v: serde_json::Value =
        serde_json::from_str(line).map_err(|e| EnvError::BadTask(format!("not JSON: {e}")))?;
    let obj = v.as_object().ok_or_else(|| EnvError::BadTask("not a JSON object".into()))?;
    let id = match obj.get("id") {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(serde_json::Value::Number(n)) => n.to_string(),
        Some(_) => return Err(EnvError::BadTask("field \"id\" must be a string or number".into())),
        None => return Err(EnvError::BadTask("missing field \"id\"".into())),
    };
    let prompt = obj
        .get("prompt")
        .and_then(|p| p.as_str())
        .ok_or_else(|| EnvError::BadTask("missing string field \"prompt\"".into()))?;
    env.task(&id, prompt, &v)
}

/// Reads a task file; the outer error is for a file that cannot be read at all.
pub fn read_tasks<E: Env>(env: &E, path: &Path) -> Result<(Vec<Task>, Vec<LineError>), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(parse_tasks(env, &text))
}

/// One task as a JSONL line: id, prompt and the truth's fields.
pub fn task_line(task: &Task) -> String {
    let mut m = serde_json::Map::new();
    m.insert("id".into(), task.id.clone().into());
    m.insert("prompt".into(), task.prompt.clone().into());
    m.extend(task.truth.to_json_fields());
    serde_json::Value::Object(m).to_string()
}

/// Writes tasks as JSONL, atomically.
pub fn write_tasks(path: &Path, tasks: &[Task]) -> std::io::Result<()> {
    let tmp = path.with_extension("jsonl.tmp");
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
        for t in tasks {
            writeln!(f, "{}", task_line(t))?;
        }
        f.into_inner()?.sync_all()?;
    }
    std::fs::rename(tmp, path)
}
