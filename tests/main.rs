//! The one integration-test binary (so the tests link burn once). One module per area.
mod cli;
mod experiment;
mod math_loops;
mod model;
mod search;
mod task_search;
