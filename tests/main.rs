//! The one integration-test binary (so the tests link burn once). One module per area.
mod search;
mod model;
mod cli;
mod experiment;
