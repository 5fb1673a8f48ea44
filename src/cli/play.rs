//! `ponder play`: play a game against the agent in the terminal.
//!
//! The board is drawn after every move; moves are typed as GTP vertices (`b2`; connect four: a
//! column letter). `hint` (or `?`) shows the search's view of the position: its pick, its value,
//! and the top moves with visits, priors and Q. `undo` takes back your last move and the agent's
//! reply; `new b` or `new w` starts again with the colour you name.

use std::io::{BufRead, Write};
use std::path::PathBuf;

use anyhow::Result;

use super::agent::Agent;
use super::session::{self, parse_colour, side_name, Game, Session};
use super::{Algo, MixArgs, Mode};

/// Flags of `ponder play`.
#[derive(Debug, clap::Args)]
pub struct PlayArgs {
    /// The game: tictactoe, connect4 or hex.
    #[arg(long, value_enum)]
    pub game: Game,
    /// Hex's board side, 3..=11 [default: 5].
    #[arg(long)]
    pub size: Option<usize>,
    /// A checkpoint trained on this game; without one the agent is rollout MCTS.
    #[arg(long, value_name = "DIR")]
    pub checkpoint: Option<PathBuf>,
    /// Simulations per move [default: 1000 for rollout MCTS, 64 with a checkpoint].
    #[arg(long)]
    pub budget: Option<u32>,
    /// With a checkpoint: the policy's most probable move (system1), or a search (system2).
    #[arg(long, value_enum, default_value = "system2")]
    pub mode: Mode,
    /// The System 2 search over the policy.
    #[arg(long, value_enum, default_value = "puct")]
    pub algorithm: Algo,
    #[command(flatten)]
    pub mix: MixArgs,
    /// Your colour: b moves first, w second.
    #[arg(long, default_value = "b", value_parser = ["b", "w", "black", "white"])]
    pub colour: String,
    /// Seeds the agent's random draws.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

/// Runs `play` on the terminal.
pub fn run(args: &PlayArgs) -> Result<()> {
    let (env, agent) = session::setup(
        args.game,
        args.size,
        args.checkpoint.as_deref(),
        args.mode,
        args.algorithm,
        args.budget,
        args.seed,
    )?;
    let mut agent = agent.with_rollout_mix(args.mix.rollout_mix, args.mix.rollouts)?;
    let session = session::open(&env)?;
    let human = parse_colour(&args.colour).unwrap_or(0);
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    interact(&mut stdin.lock(), &mut stdout.lock(), args.game, session, &mut agent, human)?;
    Ok(())
}

/// A move a person might type in this game, for hints.
fn example(game: Game) -> &'static str {
    match game {
        Game::Tictactoe => "b2",
        Game::Connect4 => "d",
        Game::Hex => "c3",
    }
}

const HELP: &str =
    "commands: a move (e.g. {ex}), hint or ? (the search's view), undo, new b|w, board, help, quit";

/// The game loop: reads lines from `input` until `quit` or the end of input.
pub fn interact(
    input: &mut impl BufRead,
    out: &mut impl Write,
    game: Game,
    mut session: Box<dyn Session>,
    agent: &mut Agent,
    mut human: usize,
) -> std::io::Result<()> {
    let help = HELP.replace("{ex}", example(game));
    writeln!(
        out,
        "{}: you are {}; the agent is {}: {}.",
        session.spec(),
        side_name(human),
        side_name(1 - human),
        agent.describe()
    )?;
    writeln!(out, "{help}")?;
    let mut show_board = true;
    let mut line = Vec::new();
    loop {
        // The agent moves whenever it is its turn.
        if session.to_play() == Some(1 - human) {
            match session.genmove(agent) {
                Ok(v) => writeln!(out, "agent ({}) plays {v}", side_name(1 - human))?,
                Err(e) => writeln!(out, "the agent cannot move: {e}")?,
            }
            show_board = true;
        }
        if show_board {
            write!(out, "\n{}", session.render())?;
            show_board = false;
        }
        match (session.to_play(), session.outcome()) {
            (None, outcome) => {
                let v = outcome.unwrap_or(0.0);
                let you = if human == 0 { v } else { -v };
                let verdict = if you > 0.0 {
                    "you win"
                } else if you < 0.0 {
                    "the agent wins"
                } else {
                    "a draw"
                };
                writeln!(
                    out,
                    "game over after {} moves: {verdict}. Type new b|w, undo or quit.",
                    session.moves()
                )?;
            }
            (Some(_), _) => write!(out, "your move ({}): ", side_name(human))?,
        }
        out.flush()?;
        line.clear();
        if input.read_until(b'\n', &mut line)? == 0 {
            writeln!(out)?;
            return Ok(());
        }
        let text = String::from_utf8_lossy(&line);
        let words: Vec<&str> = text.split_whitespace().collect();
        match words.as_slice() {
            [] => {}
            ["quit" | "q" | "exit"] => return Ok(()),
            ["help" | "h"] => writeln!(out, "{help}")?,
            ["board"] => show_board = true,
            ["hint" | "?"] => match session.view(agent, 8) {
                Ok(v) => write!(out, "{v}")?,
                Err(e) => writeln!(out, "no hint: {e}")?,
            },
            ["undo"] => {
                // Your last move and every move after it (the agent's reply).
                let mine = if human == 0 { session.moves().div_ceil(2) } else { session.moves() / 2 };
                if mine == 0 {
                    writeln!(out, "nothing to undo: you have not moved yet")?;
                } else {
                    while session.undo() && session.to_play() != Some(human) {}
                    writeln!(out, "taken back")?;
                    show_board = true;
                }
            }
            ["new", rest @ ..] => {
                match rest {
                    [] => {}
                    [c] => match parse_colour(c) {
                        Some(p) => human = p,
                        None => {
                            writeln!(out, "{c:?} is not a colour: new b (you move first) or new w")?;
                            continue;
                        }
                    },
                    _ => {
                        writeln!(out, "usage: new b|w")?;
                        continue;
                    }
                }
                session.clear();
                writeln!(out, "new game: you are {}", side_name(human))?;
                show_board = true;
            }
            [mv] => match session.play(mv) {
                Ok(_) => show_board = true,
                Err(e) => {
                    writeln!(out, "cannot play {mv:?}: {e}. Type a move such as {}, or help.", example(game))?
                }
            },
            _ => writeln!(out, "one move or command per line; {help}")?,
        }
    }
}
