//! Held-out accuracy per problem length: the view STaR and length-generalization studies need
//! (accuracy per digit count per round).
//!
//! A task's length is the number of digits of its longest operand (`347+85` has length 3); the
//! held-out arithmetic suites hold 100 problems per length with both operands that long (20 at
//! length 1). Columns: `<system>_accuracy_d<n>` per length present, and `<system>_exact_up_to`:
//! the largest `n` such that every length `1..=n` in the suite is at least 99% exact (0 if
//! length 1 already falls short) — "how far the model stays exact".

use std::collections::BTreeMap;

use super::tasks::TaskOutcome;
use crate::experiment::metrics::Row;

/// The share an accuracy must reach for a length to count as exact.
pub const EXACT: f64 = 0.99;

/// The length of an arithmetic prompt: the digits of its longest operand (0 if it has none).
pub fn operand_length(prompt: &str) -> u32 {
    prompt.split(|c: char| !c.is_ascii_digit()).map(|s| s.len() as u32).max().unwrap_or(0)
}

/// Accuracy per length: `length -> (right, total)`, in increasing length.
pub fn tally(outcomes: &[TaskOutcome]) -> BTreeMap<u32, (usize, usize)> {
    let mut t = BTreeMap::new();
    for o in outcomes {
        let e = t.entry(operand_length(&o.prompt)).or_insert((0, 0));
        e.0 += o.correct as usize;
        e.1 += 1;
    }
    t
}

/// The largest length up to which every length present is at least [`EXACT`] right; lengths
/// must run from 1 without a gap to count.
pub fn exact_up_to(t: &BTreeMap<u32, (usize, usize)>) -> u32 {
    let mut up_to = 0;
    for (&len, &(right, total)) in t {
        if len != up_to + 1 || (right as f64) < EXACT * total as f64 {
            break;
        }
        up_to = len;
    }
    up_to
}

/// Pushes `<name>_accuracy_d<n>` for every length and `<name>_exact_up_to`.
pub fn push_columns(row: &mut Row, name: &str, outcomes: &[TaskOutcome]) {
    let t = tally(outcomes);
    for (len, &(right, total)) in &t {
        row.push(format!("{name}_accuracy_d{len}"), right as f64 / total.max(1) as f64);
    }
    row.push(format!("{name}_exact_up_to"), exact_up_to(&t) as f64);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::Compute;

    fn outcome(prompt: &str, correct: bool) -> TaskOutcome {
        TaskOutcome {
            id: prompt.into(),
            prompt: prompt.into(),
            answer: String::new(),
            correct,
            reason: None,
            compute: Compute::default(),
        }
    }

    #[test]
    fn lengths_are_the_longest_operand_and_exactness_needs_every_shorter_length() {
        assert_eq!(operand_length("347+85"), 3);
        assert_eq!(operand_length("12*3456"), 4);
        let mut o: Vec<TaskOutcome> =
            (0..100).map(|i| outcome(&format!("{}+1", 10 + i % 90), true)).collect();
        o.push(outcome("3+4", true));
        o.extend((0..100).map(|i| outcome(&format!("{}+1", 100 + i), i != 0)));
        o.extend((0..100).map(|i| outcome(&format!("{}+1", 1000 + i), i > 1)));
        let mut row = Row::default();
        push_columns(&mut row, "s1", &o);
        assert_eq!(row.get("s1_accuracy_d3"), Some(0.99));
        assert_eq!(row.get("s1_accuracy_d4"), Some(0.98));
        assert_eq!(row.get("s1_exact_up_to"), Some(3.0), "4 digits fall below 99%");
        let gap: Vec<TaskOutcome> = vec![outcome("12+34", true)];
        assert_eq!(exact_up_to(&tally(&gap)), 0, "length 1 is missing");
    }
}
