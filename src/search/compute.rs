//! Compute is counted (DESIGN.md): every decoder and search reports what it spent, so fast and
//! deliberate reasoning are compared at equal compute.

use std::ops::{Add, AddAssign};

use serde::{Deserialize, Serialize};

/// What a decoder or search spent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Compute {
    /// States evaluated by the model (each leaf of a batched call counts once).
    pub model_calls: u64,
    /// Model forward positions: tokens run through the transformer (cached positions are free).
    pub forward_positions: u64,
    /// Search-tree nodes created.
    pub nodes: u64,
    /// Wall time, seconds (a batched call's time is shared equally among its trees).
    pub seconds: f64,
}

impl Add for Compute {
    type Output = Compute;
    fn add(self, o: Compute) -> Compute {
        Compute {
            model_calls: self.model_calls + o.model_calls,
            forward_positions: self.forward_positions + o.forward_positions,
            nodes: self.nodes + o.nodes,
            seconds: self.seconds + o.seconds,
        }
    }
}

impl AddAssign for Compute {
    fn add_assign(&mut self, o: Compute) {
        *self = *self + o;
    }
}

impl std::iter::Sum for Compute {
    fn sum<I: Iterator<Item = Compute>>(iter: I) -> Compute {
        iter.fold(Compute::default(), Add::add)
    }
}
