//! `ponder tree`: one search from a prompt, written as a Graphviz DOT tree of what System 2
//! considered (visits, priors, values, Q), pruned to the nodes that matter.
//! Render it with `dot -Tsvg tree.dot -o tree.svg`.

use std::path::PathBuf;

use anyhow::{anyhow, bail, Result};
use ponder_env::{with_env, AnyEnv, Env, Kind, State};

use super::agent::Agent;
use super::{load_checkpoint, parse_env, resolve_env, Algo, Mode};
use crate::search::{dot, NodeId};

/// Flags of `ponder tree`.
#[derive(Debug, clap::Args)]
pub struct TreeArgs {
    /// The checkpoint directory [without one: rollout MCTS, uniform priors and random playouts].
    #[arg(long, value_name = "DIR")]
    pub checkpoint: Option<PathBuf>,
    /// The environment [default: the checkpoint's]; required without a checkpoint.
    #[arg(long)]
    pub env: Option<String>,
    /// The prompt in the environment's text format: a task (`347+85`), or for games a move
    /// history (`b2 a1`, empty for the start).
    #[arg(long, allow_hyphen_values = true)]
    pub prompt: String,
    /// Simulations.
    #[arg(long, default_value_t = 64)]
    pub budget: u32,
    /// Where to write the DOT file.
    #[arg(long, value_name = "OUT.dot")]
    pub dot: PathBuf,
    /// Keep only nodes visited at least this often [default: 1% of the budget, at least 1].
    #[arg(long)]
    pub min_visits: Option<u32>,
    /// Keep at most this many nodes, the most visited first.
    #[arg(long, default_value_t = 80)]
    pub max_nodes: usize,
    /// The search.
    #[arg(long, value_enum, default_value = "puct")]
    pub algorithm: Algo,
    /// Seeds the search's random draws.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

/// Runs `tree`: writes the DOT file and prints the root's children as the search ranks them.
pub fn run(args: &TreeArgs) -> Result<()> {
    if args.budget == 0 {
        bail!("--budget 0: a tree needs at least one simulation");
    }
    let (env, policy): (AnyEnv, _) = match &args.checkpoint {
        Some(dir) => {
            let (policy, meta) = load_checkpoint(dir)?;
            (resolve_env(args.env.as_deref(), &meta)?, Some(policy))
        }
        None => {
            let text = args.env.as_deref().ok_or_else(|| anyhow!("--env: required without --checkpoint"))?;
            (parse_env("--env", text)?, None)
        }
    };
    let mut agent = Agent::new(policy, Mode::System2, args.algorithm, Some(args.budget), args.seed)?;
    with_env!(&env, e => write_tree(e, &mut agent, args))
}

fn write_tree<E: Env>(env: &E, agent: &mut Agent, args: &TreeArgs) -> Result<()> {
    let state = env.start(&args.prompt).map_err(|e| anyhow!("--prompt {:?}: {e}", args.prompt))?;
    if state.is_terminal() {
        bail!("--prompt {:?}: the {} state is already over: nothing to search", args.prompt, env.spec());
    }
    let search = agent.search(&state, env.kind() == Kind::Game);
    let tree = &search.tree;
    let min_visits = args.min_visits.unwrap_or((args.budget / 100).max(1));
    let text = dot::to_dot(tree, min_visits, args.max_nodes);
    crate::experiment::run::write_atomic(&args.dot, text.as_bytes())
        .map_err(|e| anyhow!("--dot {}: {e:#}", args.dot.display()))?;
    let kept = dot::graph(tree, min_visits, args.max_nodes).node_count();
    println!("{}, prompt {:?}: {}", env.spec(), args.prompt, agent.describe());
    print!("{}", tree.show(NodeId::ROOT));
    println!(
        "Wrote {kept} of {} nodes (visits >= {min_visits}, at most {}) to {}. Render: dot -Tsvg {} -o tree.svg",
        tree.len(),
        args.max_nodes,
        args.dot.display(),
        args.dot.display()
    );
    Ok(())
}
