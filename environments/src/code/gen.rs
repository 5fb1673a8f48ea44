//! The task generator: a random program of a chosen depth, the examples the prompt shows and
//! the hidden tests, drawn deterministically from `(seed, index)`.
//!
//! A program is grown from the top with exactly the depth asked for: one child of each node
//! (the spine) has the remaining depth, the others are mostly leaves. Drawn programs are
//! rejected and redrawn when they would make a poor task: more tokens than the answer bound, a
//! dead-weight node on the task's inputs (a constant that is not a literal, like `x-x`, or a
//! node that gives the same values as one of its children, like `max(x, x)` or `x*1`), an
//! error or an output beyond ±[`OUT_MAX`] on any input, or the same output on every shown input.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::lang::{BinOp, CmpOp, Expr};

/// The largest output magnitude a generated task shows or tests.
pub const OUT_MAX: i64 = 10_000;

/// Steps allowed to evaluate an answer on one input.
pub const FUEL: u64 = 10_000;

/// What the generator draws: the depth range and the prompt's shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GenConfig {
    /// Program depth, inclusive range (the difficulty knob).
    pub depth: (usize, usize),
    /// Examples shown in the prompt.
    pub examples: usize,
    /// Hidden test cases (the ground truth).
    pub tests: usize,
    /// Inputs are drawn from `-xmax..=xmax`; shown and hidden inputs are disjoint.
    pub xmax: i64,
    /// The answer bound in tokens; generated programs fit in it.
    pub max_len: usize,
}

/// One drawn task: its program, shown examples and hidden tests, each sorted by input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drawn {
    pub program: Expr,
    pub shown: Vec<(i64, i64)>,
    pub hidden: Vec<(i64, i64)>,
}

/// The generator of stream `seed`, item `index`: one ChaCha8 stream per item, so items are
/// independent of each other and of the order they are asked for in.
pub fn item_rng(seed: u64, index: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(index);
    rng
}

/// Draws a task whose program has exactly `depth`, redrawing until it is a good task.
pub fn draw<R: Rng>(rng: &mut R, cfg: &GenConfig, depth: usize) -> Drawn {
    loop {
        let program = random_program(rng, depth);
        if program.tokens().len() > cfg.max_len {
            continue;
        }
        let inputs = distinct_inputs(rng, cfg.xmax, cfg.examples + cfg.tests);
        // Dead weight on all inputs, or on the shown ones where they reach a node twice: then
        // the examples would not need that node, and a simpler answer fits them.
        if degenerate(&program, &inputs, 1) || degenerate(&program, &inputs[..cfg.examples], 2) {
            continue;
        }
        let (mut shown_x, mut hidden_x) = (inputs[..cfg.examples].to_vec(), inputs[cfg.examples..].to_vec());
        shown_x.sort_unstable();
        hidden_x.sort_unstable();
        let run = |xs: &[i64]| -> Option<Vec<(i64, i64)>> {
            xs.iter()
                .map(|&x| {
                    let y = program.eval(x, FUEL).ok()?.int();
                    (y.abs() <= OUT_MAX).then_some((x, y))
                })
                .collect()
        };
        let (Some(shown), Some(hidden)) = (run(&shown_x), run(&hidden_x)) else {
            continue;
        };
        if shown.iter().all(|&(_, y)| y == shown[0].1) {
            continue;
        }
        return Drawn { program, shown, hidden };
    }
}

/// A random program of exactly `depth` (0 is a leaf). Every node kind of the language occurs;
/// conditions are mostly comparisons. Usable on its own as a sampler of programs.
pub fn random_program<R: Rng>(rng: &mut R, depth: usize) -> Expr {
    if depth == 0 {
        return leaf(rng);
    }
    let d = depth - 1;
    // Weights per node kind: arithmetic first, then the control flow that makes PBE hard.
    const WEIGHTS: [u32; 12] = [8, 6, 6, 4, 4, 2, 4, 3, 3, 6, 2, 2];
    let total: u32 = WEIGHTS.iter().sum();
    let mut pick = rng.random_range(0..total);
    let kind = WEIGHTS.iter().position(|&w| {
        let hit = pick < w;
        pick = pick.saturating_sub(w);
        hit
    });
    let b = Box::new;
    match kind.unwrap_or(0) {
        k @ 0..=4 => {
            let op = BinOp::ALL[k];
            let spine_left = rng.random_bool(0.7);
            let (l, r) = if spine_left {
                let r = match op {
                    // Divide by a small literal mostly: what people write.
                    BinOp::FloorDiv | BinOp::Mod if rng.random_bool(0.7) => {
                        Expr::Int(rng.random_range(2..=9))
                    }
                    _ => side(rng, d),
                };
                (random_program(rng, d), r)
            } else {
                (side(rng, d), random_program(rng, d))
            };
            Expr::Bin(op, b(l), b(r))
        }
        5 => Expr::Neg(b(random_program(rng, d))),
        6 => Expr::Abs(b(random_program(rng, d))),
        k @ (7 | 8) => {
            let n = if rng.random_bool(0.8) { 2 } else { 3 };
            let spine = rng.random_range(0..n);
            let args =
                (0..n).map(|i| if i == spine { random_program(rng, d) } else { side(rng, d) }).collect();
            if k == 7 {
                Expr::Min(args)
            } else {
                Expr::Max(args)
            }
        }
        9 => {
            let spine = rng.random_range(0..3);
            let then = if spine == 0 { random_program(rng, d) } else { side(rng, d) };
            let cond_depth = if spine == 1 { d } else { rng.random_range(0..=d) };
            let cond = condition(rng, cond_depth);
            let orelse = if spine == 2 { random_program(rng, d) } else { side(rng, d) };
            Expr::If { then: b(then), cond: b(cond), orelse: b(orelse) }
        }
        10 => condition(rng, depth),
        _ => {
            // Booleans in arithmetic: `(x>3)+x`, `x*(x%2==0)`.
            let c = condition(rng, d);
            let other = side(rng, d);
            let op = [BinOp::Add, BinOp::Mul, BinOp::Sub][rng.random_range(0..3)];
            if rng.random_bool(0.5) {
                Expr::Bin(op, b(c), b(other))
            } else {
                Expr::Bin(op, b(other), b(c))
            }
        }
    }
}

/// A condition of exactly `depth`: a comparison mostly, else `and`/`or`/`not` of conditions.
fn condition<R: Rng>(rng: &mut R, depth: usize) -> Expr {
    if depth == 0 {
        return leaf(rng);
    }
    let d = depth - 1;
    let b = Box::new;
    match rng.random_range(0..10) {
        k if k <= 6 || depth == 1 && k <= 8 => {
            let op = CmpOp::ALL[rng.random_range(0..CmpOp::ALL.len())];
            let lhs = random_program(rng, d);
            // A negative threshold (`x > -3`) is a node of depth 1.
            let rhs = if d >= 1 && rng.random_bool(0.3) {
                Expr::Neg(b(Expr::Int(rng.random_range(1..=9))))
            } else {
                side(rng, d)
            };
            Expr::Cmp(op, b(lhs), b(rhs))
        }
        7..=8 => {
            let other = rng.random_range(1..=d);
            let (l, r) = (condition(rng, d), condition(rng, other));
            let (l, r) = if rng.random_bool(0.5) { (l, r) } else { (r, l) };
            if rng.random_bool(0.5) {
                Expr::And(b(l), b(r))
            } else {
                Expr::Or(b(l), b(r))
            }
        }
        _ => Expr::Not(b(condition(rng, d))),
    }
}

/// A child off the spine: a leaf mostly, else a shallower program.
fn side<R: Rng>(rng: &mut R, max_depth: usize) -> Expr {
    if max_depth == 0 || rng.random_bool(0.6) {
        leaf(rng)
    } else {
        let depth = rng.random_range(1..=max_depth);
        random_program(rng, depth)
    }
}

fn leaf<R: Rng>(rng: &mut R) -> Expr {
    if rng.random_bool(0.55) {
        Expr::X
    } else {
        Expr::Int(rng.random_range(0..=9))
    }
}

/// Whether the program carries dead weight on these inputs, so that a shorter program fits
/// the same examples: a node (other than a literal) that is never evaluated, constant on the
/// inputs that reach it (`x-x`, `abs(3)`, `x+1` in a branch only `x==2` takes), or equal there
/// to one of its own subexpressions (`max(x, x)`, `abs(x*x)`, `x if 1 else 2*x`, `x*1`,
/// `x+x//3-x`); a step that folds away ([`folds`]).
/// Nodes that fewer than `min_reach` inputs reach are judged only for being dead (`min_reach`
/// 1) or not at all.
fn degenerate(program: &Expr, xs: &[i64], min_reach: usize) -> bool {
    let nodes = preorder(program);
    if nodes.iter().any(|(e, _)| folds(e)) {
        return true;
    }
    // values[k][i]: node i's value on input k, if input k reaches it.
    let values: Vec<Vec<Option<i64>>> = xs
        .iter()
        .map(|&x| {
            let mut v = vec![None; nodes.len()];
            visit(program, x, true, &mut 0, &mut v);
            v
        })
        .collect();
    nodes.iter().enumerate().any(|(i, (e, end))| {
        if e.children().is_empty() || matches!(e, Expr::Neg(a) if matches!(**a, Expr::Int(_))) {
            return false;
        }
        let reached: Vec<(usize, i64)> =
            values.iter().enumerate().filter_map(|(k, v)| Some((k, v[i]?))).collect();
        let Some(&(_, first)) = reached.first() else {
            return min_reach <= 1;
        };
        if reached.len() < min_reach {
            return false;
        }
        reached.iter().all(|&(_, y)| y == first)
            || (i + 1..*end).any(|j| reached.iter().all(|&(k, y)| values[k][j] == Some(y)))
    })
}

/// The nodes in pre-order, each with the end of its subtree's range.
fn preorder(e: &Expr) -> Vec<(&Expr, usize)> {
    fn go<'a>(e: &'a Expr, out: &mut Vec<(&'a Expr, usize)>) {
        let me = out.len();
        out.push((e, 0));
        for c in e.children() {
            go(c, out);
        }
        out[me].1 = out.len();
    }
    let mut out = Vec::new();
    go(e, &mut out);
    out
}

/// Records, in pre-order numbering, the value of every node that input `x` reaches
/// (`and`/`or`/`if` skip what Python skips); `next` is the next node's number.
fn visit(e: &Expr, x: i64, reached: bool, next: &mut usize, values: &mut [Option<i64>]) {
    if reached {
        values[*next] = e.eval(x, FUEL).ok().map(|v| v.int());
    }
    *next += 1;
    let truth = |c: &Expr| {
        if reached {
            c.eval(x, FUEL).ok().map(|v| v.truthy())
        } else {
            None
        }
    };
    match e {
        Expr::And(a, b) | Expr::Or(a, b) => {
            let goes_on = Some(matches!(e, Expr::And(..)));
            let t = truth(a);
            visit(a, x, reached, next, values);
            visit(b, x, t == goes_on, next, values);
        }
        Expr::If { then, cond, orelse } => {
            let t = truth(cond);
            visit(then, x, t == Some(true), next, values);
            visit(cond, x, reached, next, values);
            visit(orelse, x, t == Some(false), next, values);
        }
        _ => {
            for c in e.children() {
                visit(c, x, reached, next, values);
            }
        }
    }
}

/// `x+6-2`, `x*3*4`: two literal steps in a row; `min`/`max` with a repeated argument or
/// nested in itself (`min(min(x, 0), 3)`); `abs(-e)`.
fn folds(e: &Expr) -> bool {
    let lit = |e: &Expr| match e {
        Expr::Int(_) => true,
        Expr::Neg(a) => matches!(**a, Expr::Int(_)),
        _ => false,
    };
    let additive = |op: &BinOp| matches!(op, BinOp::Add | BinOp::Sub);
    match e {
        Expr::Bin(op, l, r) if lit(r) => match &**l {
            Expr::Bin(inner, _, r2) if lit(r2) => {
                (additive(op) && additive(inner)) || (*op == BinOp::Mul && *inner == BinOp::Mul)
            }
            _ => false,
        },
        Expr::Min(args) | Expr::Max(args) => {
            let same_call = |a: &Expr| std::mem::discriminant(a) == std::mem::discriminant(e);
            args.iter().enumerate().any(|(i, a)| args[..i].contains(a) || same_call(a))
        }
        Expr::Abs(a) => matches!(**a, Expr::Neg(_)),
        _ => false,
    }
}

/// `n` distinct integers from `-xmax..=xmax` (a partial Fisher–Yates shuffle).
fn distinct_inputs<R: Rng>(rng: &mut R, xmax: i64, n: usize) -> Vec<i64> {
    let mut pool: Vec<i64> = (-xmax..=xmax).collect();
    let n = n.min(pool.len());
    for i in 0..n {
        let j = rng.random_range(i..pool.len());
        pool.swap(i, j);
    }
    pool.truncate(n);
    pool
}

#[cfg(test)]
mod tests {
    use super::*;

    const CFG: GenConfig = GenConfig { depth: (1, 5), examples: 5, tests: 10, xmax: 20, max_len: 40 };

    #[test]
    fn programs_have_exactly_the_depth_asked_for() {
        let mut rng = item_rng(1, 2);
        for depth in 0..=6 {
            for _ in 0..200 {
                let p = random_program(&mut rng, depth);
                assert_eq!(p.depth(), depth, "{p}");
            }
        }
    }

    #[test]
    fn drawn_tasks_are_good_tasks() {
        for depth in 1..=5 {
            for i in 0..40 {
                let d = draw(&mut item_rng(9, i), &CFG, depth);
                assert_eq!(d.program.depth(), depth);
                assert!(d.program.tokens().len() <= CFG.max_len);
                assert_eq!((d.shown.len(), d.hidden.len()), (5, 10));
                let mut xs: Vec<i64> = d.shown.iter().chain(&d.hidden).map(|p| p.0).collect();
                xs.sort_unstable();
                xs.dedup();
                assert_eq!(xs.len(), 15, "shown and hidden inputs are distinct");
                assert!(xs.iter().all(|x| x.abs() <= 20));
                for &(x, y) in d.shown.iter().chain(&d.hidden) {
                    assert_eq!(d.program.eval(x, FUEL).map(|v| v.int()), Ok(y));
                    assert!(y.abs() <= OUT_MAX);
                }
                assert!(d.shown.iter().any(|&(_, y)| y != d.shown[0].1), "not constant");
            }
        }
    }

    #[test]
    fn the_same_item_draws_the_same_task() {
        let a = draw(&mut item_rng(5, 77), &CFG, 3);
        let b = draw(&mut item_rng(5, 77), &CFG, 3);
        assert_eq!(a, b);
        assert_ne!(a, draw(&mut item_rng(5, 78), &CFG, 3));
    }

    #[test]
    fn dead_weight_nodes_are_rejected() {
        let xs = [-3, 0, 2, 5];
        let dead = |s: &str| degenerate(&super::super::parse(s).unwrap(), &xs, 1);
        assert!(!dead("x*2+-3"));
        assert!(!dead("x if x>0 else -x"));
        assert!(!dead("max(x, 1)"));
        for s in [
            "x+abs(3)",
            "x*1",
            "0+x",
            "x//1",
            "max(x, x)",
            "abs(x*x)",
            "x if 1 else 2*x",
            "x-x+x",
            "x+x//3-x",
            "-(2+3)*x",
            "min(x, 9)",
            "x+6-2",
            "max(x, 7, x)",
            "min(min(x, 0), 3*x)",
            "abs(-(x+6))",
            "(x+1 if x==2 else x)",
            "x if x<-5 else 2*x",
            "(5 if x else x) if x else 8",
        ] {
            assert!(dead(s), "{s}");
        }
        // An error in an untaken branch is no reason to reject.
        assert!(!dead("x if x==0 else 10//x"));
        // On the shown inputs, a node reached only once is not judged, one reached twice is.
        let shown = |s: &str| degenerate(&super::super::parse(s).unwrap(), &xs, 2);
        assert!(!shown("x+1 if x==2 else x"));
        assert!(shown("min(x+x//7, x) if x>=0 else 1"), "equal to `x` on 0, 2 and 5");
    }
}
