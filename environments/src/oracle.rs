//! Exact solvers behind one interface, to grade play: game-theoretic values and optimal moves.

use crate::Token;

/// An exact solver for a game's states.
pub trait Oracle<S>: Send + Sync {
    /// The game-theoretic value for the player to move: +1 win, 0 draw, -1 loss; `None` where
    /// the position is beyond the solver's reach (too early for its time budget, or too large).
    fn value(&self, state: &S) -> Option<i8>;

    /// The legal moves that keep the game-theoretic value; `None` where the solver cannot tell.
    fn optimal_actions(&self, state: &S) -> Option<Vec<Token>>;
}
