//! `metrics.csv`: one row per iteration, named columns, written atomically.

use std::path::Path;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

/// One iteration's metrics, in column order. Missing values (a metric not measured this
/// iteration) are NaN and print as empty cells.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Row(pub Vec<(String, f64)>);

impl Row {
    /// Appends a column.
    pub fn push(&mut self, name: impl Into<String>, value: f64) {
        self.0.push((name.into(), value));
    }

    /// A column's value, if present and measured.
    pub fn get(&self, name: &str) -> Option<f64> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, v)| *v).filter(|v| !v.is_nan())
    }

    /// The column names.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(n, _)| n.as_str())
    }
}

/// Writes every row as CSV (header from the union of columns, in first-seen order), atomically.
pub fn write_csv(path: &Path, rows: &[Row]) -> Result<()> {
    let mut header: Vec<String> = Vec::new();
    for r in rows {
        for n in r.names() {
            if !header.iter().any(|h| h == n) {
                header.push(n.to_string());
            }
        }
    }
    let tmp = path.with_extension("csv.tmp");
    {
        let mut w =
            csv::Writer::from_path(&tmp).with_context(|| format!("cannot write {}", tmp.display()))?;
        w.write_record(&header)?;
        for r in rows {
            let cells: Vec<String> =
                header.iter().map(|h| r.get(h).map(format_cell).unwrap_or_default()).collect();
            w.write_record(&cells)?;
        }
        w.flush()?;
    }
    std::fs::rename(&tmp, path).with_context(|| format!("cannot move {} into place", tmp.display()))?;
    Ok(())
}

fn format_cell(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v:.6}")
    }
}

/// A CSV read back: the header, and rows of cells (None where empty or not a number).
pub type Table = (Vec<String>, Vec<Vec<Option<f64>>>);

/// Reads `metrics.csv` back (for tools and tests).
pub fn read_csv(path: &Path) -> Result<Table> {
    let mut r = csv::Reader::from_path(path).with_context(|| format!("cannot read {}", path.display()))?;
    let header: Vec<String> = r.headers()?.iter().map(String::from).collect();
    let mut rows = Vec::new();
    for (i, rec) in r.records().enumerate() {
        let rec = rec.with_context(|| format!("{}: row {}", path.display(), i + 2))?;
        rows.push(rec.iter().map(|c| c.parse::<f64>().ok()).collect());
    }
    Ok((header, rows))
}
