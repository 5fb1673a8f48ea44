//! Graphviz export of a search tree (visits, priors, values, Q), pruned to the nodes that
//! matter, for `ponder tree`. Render with `dot -Tsvg tree.dot -o tree.svg`.

use petgraph::dot::{Config, Dot};
use petgraph::graph::{DiGraph, NodeIndex};
use ponder_env::State;

use super::tree::{NodeId, Tree};

/// What one exported node shows.
#[derive(Debug, Clone)]
pub struct DotNode {
    pub label: String,
    pub visits: u32,
}

/// Builds the pruned tree as a petgraph graph: every node with at least `min_visits` visits,
/// and at most `max_nodes` of them, most visited first (the root always).
pub fn graph<S: State>(t: &Tree<S>, min_visits: u32, max_nodes: usize) -> DiGraph<DotNode, String> {
    let mut g = DiGraph::new();
    // Best first: the most visited node not yet exported, whatever its depth, so a small
    // `max_nodes` keeps the root's strong siblings before deep lines.
    let mut frontier = std::collections::BinaryHeap::new();
    frontier.push((t.visits(NodeId::ROOT), std::cmp::Reverse(NodeId::ROOT), None::<NodeIndex>));
    let mut count = 0;
    while let Some((_, std::cmp::Reverse(n), parent)) = frontier.pop() {
        if count >= max_nodes {
            break;
        }
        count += 1;
        let q = t.q(n).map_or("-".to_string(), |q| format!("{q:+.3}"));
        let label = if n == NodeId::ROOT {
            format!("root\\nN={} V={:+.3}\\nto play: {}", t.visits(n), t.root_value(), t.to_play(n))
        } else {
            format!(
                "{}\\nN={} P={:.3}\\nQ={} V={:+.3}{}",
                escape(&t.edge_text(n)),
                t.visits(n),
                t.prior(n),
                q,
                t.raw_value(n),
                if t.is_terminal(n) { "\\nterminal" } else { "" }
            )
        };
        let idx = g.add_node(DotNode { label, visits: t.visits(n) });
        if let Some(p) = parent {
            g.add_edge(p, idx, escape(&t.edge_text(n)));
        }
        for c in t.children(n).filter(|&c| t.visits(c) >= min_visits.max(1)) {
            frontier.push((t.visits(c), std::cmp::Reverse(c), Some(idx)));
        }
    }
    g
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// The pruned tree as Graphviz DOT text; node size follows visits.
pub fn to_dot<S: State>(t: &Tree<S>, min_visits: u32, max_nodes: usize) -> String {
    let g = graph(t, min_visits, max_nodes);
    let max_visits = g.node_weights().map(|n| n.visits).max().unwrap_or(1).max(1) as f32;
    let node_attr = |_: &DiGraph<DotNode, String>, (_, n): (NodeIndex, &DotNode)| {
        let w = 1.0 + 3.0 * (n.visits as f32 / max_visits);
        format!("label=\"{}\" shape=box penwidth={:.2}", n.label, w)
    };
    let edge_attr = |_: &DiGraph<DotNode, String>, e: petgraph::graph::EdgeReference<'_, String>| {
        format!("label=\"{}\"", e.weight())
    };
    let dot = Dot::with_attr_getters(&g, &[Config::EdgeNoLabel, Config::NodeNoLabel], &edge_attr, &node_attr);
    format!("{dot:?}")
}
