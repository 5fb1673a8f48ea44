//! Rewrites the held-out suites of the math environments from their fixed seeds:
//! `environments/suites/{addition,multiplication,game24}.test.jsonl`.
//!
//! The committed files are the contract; a test checks that they match the generators. Run this
//! only to create a new suite on purpose:
//! `cargo run -p ponder-env --example write_math_suites`.

use std::path::Path;

use ponder_env::math::{test_suite, Op};
use ponder_env::{game24, suite};

fn main() -> std::io::Result<()> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("suites");
    for (name, tasks) in [
        ("addition", test_suite(Op::Add)),
        ("multiplication", test_suite(Op::Mul)),
        ("game24", game24::test_suite()),
    ] {
        let path = dir.join(format!("{name}.test.jsonl"));
        suite::write_tasks(&path, &tasks)?;
        println!("{}: {} tasks", path.display(), tasks.len());
    }
    Ok(())
}
