//! `ponder gtp`: a GTP version 2 engine on standard input and output.
//!
//! Commands: `protocol_version`, `name`, `version`, `known_command`, `list_commands`,
//! `boardsize`, `clear_board`, `play`, `genmove`, `undo`, `showboard`, `quit`. Each answer is
//! `=[id] result` or `?[id] reason`, then a blank line; a command may start with a numeric id,
//! which the answer echoes. Input is preprocessed as GTP says (control characters dropped, tabs
//! to spaces, `#` comments removed, empty lines ignored), read as bytes so that no input, however
//! garbled, can stop the engine: a bad command gets `? reason` and the engine reads on.
//!
//! Our games alternate strictly, so `play` and `genmove` take only the colour to move; the other
//! colour is an error that says whose turn it is (GTP lets a controller play either colour in
//! any order, which no game here needs).

use std::io::{BufRead, Write};
use std::path::PathBuf;

use anyhow::Result;

use super::agent::Agent;
use super::session::{self, colour, parse_colour, Game, Session};
use super::{Algo, MixArgs, Mode};

/// Flags of `ponder gtp`.
#[derive(Debug, clap::Args)]
pub struct GtpArgs {
    /// The game: tictactoe, connect4 or hex.
    #[arg(long, value_enum)]
    pub game: Game,
    /// Hex's board side, 3..=11 [default: 5] (tic-tac-toe and connect four have one size).
    #[arg(long)]
    pub size: Option<usize>,
    /// A checkpoint trained on this game; without one the engine plays rollout MCTS.
    #[arg(long, value_name = "DIR")]
    pub checkpoint: Option<PathBuf>,
    /// With a checkpoint: the policy's most probable move (system1), or a search (system2).
    #[arg(long, value_enum, default_value = "system2")]
    pub mode: Mode,
    /// Simulations per move [default: 1000 for rollout MCTS, 64 with a checkpoint].
    #[arg(long)]
    pub budget: Option<u32>,
    /// The System 2 search over the policy.
    #[arg(long, value_enum, default_value = "puct")]
    pub algorithm: Algo,
    #[command(flatten)]
    pub mix: MixArgs,
    /// Seeds the engine's random draws (rollouts).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

/// Runs the engine on stdin and stdout until `quit` or the end of input.
pub fn run(args: &GtpArgs) -> Result<()> {
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
    eprintln!("ponder gtp: {} against {}; GTP v2 on stdin/stdout", env.spec(), agent.describe());
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    serve(&mut stdin.lock(), &mut stdout.lock(), args.game, session, &mut agent)?;
    Ok(())
}

/// The commands this engine knows, as `list_commands` prints them.
pub const COMMANDS: &[&str] = &[
    "protocol_version",
    "name",
    "version",
    "known_command",
    "list_commands",
    "boardsize",
    "clear_board",
    "play",
    "genmove",
    "undo",
    "showboard",
    "quit",
];

/// Reads commands from `input` and answers on `output` until `quit` or the end of input.
pub fn serve(
    input: &mut impl BufRead,
    output: &mut impl Write,
    game: Game,
    session: Box<dyn Session>,
    agent: &mut Agent,
) -> std::io::Result<()> {
    let mut engine = Engine { game, session, agent };
    let mut line = Vec::new();
    loop {
        line.clear();
        if input.read_until(b'\n', &mut line)? == 0 {
            return Ok(());
        }
        let Some(command) = preprocess(&String::from_utf8_lossy(&line)) else { continue };
        let (id, words) = split_id(&command);
        let Some((&name, args)) = words.split_first() else {
            // An id alone: GTP has no command to answer, but the controller waits for one.
            respond(output, false, id, "syntax error: no command after the id")?;
            continue;
        };
        let (ok, body) = match engine.execute(name, args) {
            Ok(body) => (true, body),
            Err(reason) => (false, reason),
        };
        respond(output, ok, id, &body)?;
        if ok && name == "quit" {
            return Ok(());
        }
    }
}

/// GTP's preprocessing of one line: control characters other than tab and newline removed,
/// tabs made spaces, a `#` comment dropped; None if nothing is left.
pub fn preprocess(line: &str) -> Option<String> {
    let text: String = line
        .chars()
        .filter(|&c| !c.is_control() || c == '\t')
        .map(|c| if c == '\t' { ' ' } else { c })
        .collect();
    let text = text.split('#').next().unwrap_or("").trim();
    (!text.is_empty()).then(|| text.to_string())
}

/// Splits off a leading numeric id.
fn split_id(command: &str) -> (Option<&str>, Vec<&str>) {
    let mut words: Vec<&str> = command.split_whitespace().collect();
    match words.first() {
        Some(w) if w.bytes().all(|b| b.is_ascii_digit()) => {
            let id = words.remove(0);
            (Some(id), words)
        }
        _ => (None, words),
    }
}

fn respond(output: &mut impl Write, ok: bool, id: Option<&str>, body: &str) -> std::io::Result<()> {
    // A blank line ends the answer, so the body must have none; a body that starts with a
    // newline (a board) starts on the line after the `=`.
    let (lead, body) = body.strip_prefix('\n').map_or(("", body), |rest| ("\n", rest));
    let lines: Vec<&str> = body.lines().filter(|l| !l.trim().is_empty()).collect();
    write!(output, "{}{} {lead}{}\n\n", if ok { '=' } else { '?' }, id.unwrap_or(""), lines.join("\n"))?;
    output.flush()
}

struct Engine<'a> {
    game: Game,
    session: Box<dyn Session>,
    agent: &'a mut Agent,
}

impl Engine<'_> {
    /// One command: its answer's body, or the reason it failed.
    fn execute(&mut self, name: &str, args: &[&str]) -> Result<String, String> {
        let arity = |n: usize, usage: &str| {
            if args.len() == n {
                Ok(())
            } else {
                Err(format!("syntax error: usage: {usage}"))
            }
        };
        match name {
            "protocol_version" => Ok("2".into()),
            "name" => Ok("ponder".into()),
            "version" => Ok(env!("CARGO_PKG_VERSION").into()),
            "known_command" => {
                arity(1, "known_command COMMAND")?;
                Ok(COMMANDS.contains(&args[0]).to_string())
            }
            "list_commands" => Ok(COMMANDS.join("\n")),
            "quit" => Ok(String::new()),
            "boardsize" => self.boardsize(args),
            "clear_board" => {
                self.session.clear();
                Ok(String::new())
            }
            "play" => {
                arity(2, "play COLOR VERTEX (e.g. play b a1)")?;
                self.check_turn(args[0])?;
                self.session.play(args[1]).map(|_| String::new()).map_err(|e| format!("illegal move: {e}"))
            }
            "genmove" => {
                arity(1, "genmove COLOR")?;
                if self.session.to_play().is_none() {
                    return Err("the game is over".into());
                }
                self.check_turn(args[0])?;
                self.session.genmove(self.agent)
            }
            "undo" => {
                if self.session.undo() {
                    Ok(String::new())
                } else {
                    Err("cannot undo: no move has been played".into())
                }
            }
            // A leading newline puts the board below the `=`.
            "showboard" => Ok(format!("\n{}", self.session.render())),
            _ => Err(format!("unknown command: {name}")),
        }
    }

    /// `boardsize N` (or `N N`, as HexGui sends it): Hex takes 3..=11, the others their one size.
    fn boardsize(&mut self, args: &[&str]) -> Result<String, String> {
        let sizes: Vec<usize> = args
            .iter()
            .map(|a| a.parse())
            .collect::<Result<_, _>>()
            .map_err(|_| "syntax error: usage: boardsize N".to_string())?;
        let n = match sizes.as_slice() {
            [n] => *n,
            // Connect four is 7 wide and 6 high; every other board is square.
            [w, 6] if self.game == Game::Connect4 => *w,
            [w, h] if w == h => *w,
            _ => return Err("unacceptable size".into()),
        };
        let env = self.game.env(Some(n)).map_err(|e| format!("unacceptable size: {e}"))?;
        self.session = session::open(&env).map_err(|e| e.to_string())?;
        Ok(String::new())
    }

    fn check_turn(&self, text: &str) -> Result<(), String> {
        let player =
            parse_colour(text).ok_or_else(|| format!("syntax error: {text:?} is not a colour (b or w)"))?;
        match self.session.to_play() {
            None => Err("illegal move: the game is over".into()),
            Some(p) if p != player => Err(format!(
                "illegal move: it is {}'s turn (this engine's games alternate strictly: send the moves in order)",
                colour(p)
            )),
            Some(_) => Ok(()),
        }
    }
}
