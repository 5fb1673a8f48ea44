//! A game in progress, for `gtp` and `play`: the positions so far (so `undo` is a pop), moves in
//! GTP vertex notation, and the agent's view of a position.
//!
//! Vertices follow DESIGN.md: column letter from `a`, row number from `1` at the top (`b2`);
//! Hex as HexGui writes them; connect four takes a column letter or a landing cell and answers
//! with the column letter alone (`d`).

use std::fmt;
use std::path::Path;

use anyhow::{bail, Result};
use ponder_env::{vocab, with_env, AnyEnv, Env, EnvError, Kind, State, Token};

use super::agent::Agent;
use super::{load_checkpoint, resolve_env, Algo, Mode};
use crate::search::NodeId;

/// The games `gtp` and `play` speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Game {
    /// Tic-tac-toe, 3 x 3, vertices a1..c3.
    Tictactoe,
    /// Connect four, 7 x 6; moves are column letters a..g.
    Connect4,
    /// Hex on N x N (3..=11, default 5), vertices as HexGui writes them; b joins top and bottom.
    Hex,
}

impl fmt::Display for Game {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Game::Tictactoe => "tictactoe",
            Game::Connect4 => "connect4",
            Game::Hex => "hex",
        })
    }
}

impl Game {
    /// The environment of this game on a board of side `size` (Hex only; the other games have
    /// one size). The error says which sizes are accepted.
    pub fn env(self, size: Option<usize>) -> Result<AnyEnv, String> {
        let spec = match (self, size) {
            (Game::Tictactoe, None | Some(3)) => "tictactoe".to_string(),
            (Game::Connect4, None | Some(7)) => "connect4".to_string(),
            (Game::Hex, None) => "hex".to_string(),
            (Game::Hex, Some(n)) => format!("hex:size={n}"),
            (Game::Tictactoe, Some(n)) => return Err(format!("{n}: tic-tac-toe is played on 3 x 3 only")),
            (Game::Connect4, Some(n)) => return Err(format!("{n}: connect four is played on 7 x 6 only")),
        };
        spec.parse().map_err(|e: ponder_env::EnvError| e.to_string())
    }
}

/// Builds the environment and the agent of `gtp` and `play` from their flags.
pub fn setup(
    game: Game,
    size: Option<usize>,
    checkpoint: Option<&Path>,
    mode: Mode,
    algo: Algo,
    budget: Option<u32>,
    seed: u64,
) -> Result<(AnyEnv, Agent)> {
    let env = game.env(size).map_err(|e| anyhow::anyhow!("--size {e}"))?;
    let policy = match checkpoint {
        None => None,
        Some(dir) => {
            let (policy, meta) = load_checkpoint(dir)?;
            resolve_env(Some(&env.spec()), &meta)?;
            Some(policy)
        }
    };
    let agent = Agent::new(policy, mode, algo, budget, seed)?;
    Ok((env, agent))
}

/// `X (b)` or `O (w)`: a player by mark and GTP colour.
pub fn side_name(player: usize) -> &'static str {
    if player == 0 {
        "X (b)"
    } else {
        "O (w)"
    }
}

/// The GTP colour of a player: `b` moves first.
pub fn colour(player: usize) -> char {
    if player == 0 {
        'b'
    } else {
        'w'
    }
}

/// Parses a GTP colour (`b`, `w`, `black`, `white`, any case) into a player.
pub fn parse_colour(text: &str) -> Option<usize> {
    match text.to_ascii_lowercase().as_str() {
        "b" | "black" => Some(0),
        "w" | "white" => Some(1),
        _ => None,
    }
}

/// A game being played, whatever the game: what `gtp` and `play` need of it.
pub trait Session {
    /// The environment's name with parameters (`hex:size=5`).
    fn spec(&self) -> String;
    /// The player to move, or None when the game is over.
    fn to_play(&self) -> Option<usize>;
    /// When the game is over, the first player's result: +1, 0 or -1.
    fn outcome(&self) -> Option<f32>;
    /// The board, drawn by the environment.
    fn render(&self) -> String;
    /// The moves so far, as cell names separated by spaces.
    fn history(&self) -> String;
    /// Number of moves played.
    fn moves(&self) -> usize;
    /// Plays a move typed as a vertex; returns it in the engine's own notation.
    fn play(&mut self, vertex: &str) -> Result<String, String>;
    /// Takes back the last move; false if there is none.
    fn undo(&mut self) -> bool;
    /// Back to the empty board.
    fn clear(&mut self);
    /// The agent's move for the player to move, played and returned as a vertex.
    fn genmove(&mut self, agent: &mut Agent) -> Result<String, String>;
    /// The agent's search of the position: its pick, value and the `top` moves ranked.
    fn view(&mut self, agent: &mut Agent, top: usize) -> Result<String, String>;
}

/// A new game of `env` on the empty board; an error for environments that are not games.
pub fn open(env: &AnyEnv) -> Result<Box<dyn Session>> {
    if env.kind() != Kind::Game {
        bail!("{} is not a two-player game", env.spec());
    }
    let column_only = matches!(env, AnyEnv::Connect4(_));
    Ok(with_env!(env, e => Box::new(GameSession::new(e, column_only)?) as Box<dyn Session>))
}

struct GameSession<E: Env> {
    env: E,
    /// Every position so far, the start first.
    states: Vec<E::State>,
    column_only: bool,
}

impl<E: Env> GameSession<E> {
    fn new(env: &E, column_only: bool) -> Result<Self> {
        let start = env.start("").map_err(|e| anyhow::anyhow!("{}: {e}", env.spec()))?;
        Ok(GameSession { env: env.clone(), states: vec![start], column_only })
    }

    fn state(&self) -> &E::State {
        self.states.last().expect("a session always holds its start")
    }

    fn vertex(&self, t: Token) -> String {
        match vocab::cell_coords(t) {
            Some((_, col)) if self.column_only => ((b'a' + col as u8) as char).to_string(),
            _ => vocab::symbol(t).to_string(),
        }
    }

    fn apply(&mut self, t: Token) {
        let mut next = self.state().clone();
        next.apply(t);
        self.states.push(next);
    }
}

impl<E: Env> Session for GameSession<E> {
    fn spec(&self) -> String {
        self.env.spec()
    }
    fn to_play(&self) -> Option<usize> {
        let s = self.state();
        (!s.is_terminal()).then(|| s.to_play())
    }
    fn outcome(&self) -> Option<f32> {
        let s = self.state();
        if s.is_terminal() {
            s.rules_value()
        } else {
            None
        }
    }
    fn render(&self) -> String {
        self.state().render()
    }
    fn history(&self) -> String {
        ponder_env::history_text(self.state().tokens())
    }
    fn moves(&self) -> usize {
        self.states.len() - 1
    }
    fn play(&mut self, vertex: &str) -> Result<String, String> {
        if self.state().is_terminal() {
            return Err("the game is over".into());
        }
        let t = self.state().parse_action(vertex).map_err(|e| match e {
            EnvError::BadMove(m) => m,
            other => other.to_string(),
        })?;
        self.apply(t);
        Ok(self.vertex(t))
    }
    fn undo(&mut self) -> bool {
        if self.states.len() > 1 {
            self.states.pop();
            true
        } else {
            false
        }
    }
    fn clear(&mut self) {
        self.states.truncate(1);
    }
    fn genmove(&mut self, agent: &mut Agent) -> Result<String, String> {
        if self.state().is_terminal() {
            return Err("the game is over".into());
        }
        let (t, _) = agent.choose(self.state());
        self.apply(t);
        Ok(self.vertex(t))
    }
    fn view(&mut self, agent: &mut Agent, top: usize) -> Result<String, String> {
        let state = self.state().clone();
        if state.is_terminal() {
            return Err("the game is over".into());
        }
        let (pick, search) = agent.choose(&state);
        let tree = &search.tree;
        let mut out = format!(
            "{} to move. {}: plays {}, value {:+.3} for {}\n",
            side_name(state.to_play()),
            agent.describe(),
            self.vertex(pick),
            tree.root_value(),
            side_name(state.to_play()),
        );
        // Tree::show ranks the children as the search would pick them: keep the first `top`
        // (its header line, the root from the previous mover's side, is replaced by ours).
        let shown = tree.show(NodeId::ROOT).to_string();
        for line in shown.lines().skip(1).take(top) {
            out.push_str(line);
            out.push('\n');
        }
        let rest = tree.num_children(NodeId::ROOT).saturating_sub(top);
        if rest > 0 {
            out.push_str(&format!("  ... and {rest} more moves\n"));
        }
        out.push_str("(N: visits, P: the prior, Q: the mean value for the player to move here)\n");
        Ok(out)
    }
}
