//! The answer language: a strict subset of Python 3 expressions in one integer variable `x`,
//! evaluated with CPython's semantics inside a sandbox (a fuel budget, bounded integers).
//!
//! Values are Python `int`s and `bool`s ([`Value`]). What CPython does, this does: floor
//! division and modulo round toward negative infinity, division by zero is `ZeroDivisionError`,
//! `and`/`or` return an operand, `min`/`max` return the first extreme argument, booleans take
//! part in arithmetic as 0 and 1. Where the sandbox is narrower than Python (a value beyond
//! ±10^18, or a program that needs more steps than its fuel), evaluation fails with an
//! [`EvalError`] instead of answering differently.

use std::fmt;

/// The largest magnitude an integer may reach, in literals, inputs and every intermediate
/// value: 10^18. Beyond it evaluation fails with [`EvalError::Overflow`].
pub const INT_MAX: i64 = 1_000_000_000_000_000_000;

/// A Python value: `int` or `bool` (a comparison's or `not`'s result).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Value {
    Int(i64),
    Bool(bool),
}

impl Value {
    /// The value as an integer, as Python's arithmetic sees it (`True` is 1).
    pub fn int(self) -> i64 {
        match self {
            Value::Int(v) => v,
            Value::Bool(b) => b as i64,
        }
    }

    /// Python's truthiness: nonzero integers and `True`.
    pub fn truthy(self) -> bool {
        self.int() != 0
    }
}

impl fmt::Display for Value {
    /// As Python's `repr`: `7`, `True`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Int(v) => write!(f, "{v}"),
            Value::Bool(true) => f.write_str("True"),
            Value::Bool(false) => f.write_str("False"),
        }
    }
}

/// Why evaluating an expression on one input failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EvalError {
    /// Python raises `ZeroDivisionError` here (`//` or `%` by 0 or `False`).
    #[error("ZeroDivisionError")]
    ZeroDivision,
    /// A value beyond ±10^18: outside the sandbox (Python itself would carry on).
    #[error("integer overflow (beyond 10^18)")]
    Overflow,
    /// The step budget ran out.
    #[error("out of fuel")]
    OutOfFuel,
    /// `min`/`max` with fewer than two arguments (Python raises `TypeError`); the parser never
    /// builds one, only hand-made trees can hold it.
    #[error("TypeError: min/max need at least two arguments")]
    TypeError,
}

/// An arithmetic operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    /// `//`: floor division.
    FloorDiv,
    /// `%`: the remainder has the divisor's sign.
    Mod,
}

/// A comparison operator; comparisons never chain in this subset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CmpOp {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}

/// An expression. Literals are non-negative (`-3` is `Neg(Int(3))`, as in Python's grammar).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Expr {
    Int(i64),
    X,
    /// Unary minus.
    Neg(Box<Expr>),
    Not(Box<Expr>),
    Bin(BinOp, Box<Expr>, Box<Expr>),
    Cmp(CmpOp, Box<Expr>, Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    /// `then if cond else orelse`.
    If {
        then: Box<Expr>,
        cond: Box<Expr>,
        orelse: Box<Expr>,
    },
    Abs(Box<Expr>),
    /// `min(a, b, ...)`, at least two arguments.
    Min(Vec<Expr>),
    /// `max(a, b, ...)`, at least two arguments.
    Max(Vec<Expr>),
}

impl BinOp {
    /// Python's result, or why there is none.
    pub fn apply(self, a: i64, b: i64) -> Result<i64, EvalError> {
        let v = match self {
            BinOp::Add => a.checked_add(b),
            BinOp::Sub => a.checked_sub(b),
            BinOp::Mul => a.checked_mul(b),
            BinOp::FloorDiv | BinOp::Mod if b == 0 => return Err(EvalError::ZeroDivision),
            BinOp::FloorDiv => a.checked_div(b).map(|q| {
                // Truncation rounds toward zero; Python floors.
                if a % b != 0 && ((a < 0) != (b < 0)) {
                    q - 1
                } else {
                    q
                }
            }),
            BinOp::Mod => a.checked_rem(b).map(|r| {
                // The remainder takes the divisor's sign in Python.
                if r != 0 && ((r < 0) != (b < 0)) {
                    r + b
                } else {
                    r
                }
            }),
        };
        v.ok_or(EvalError::Overflow).and_then(bounded)
    }

    /// The operator's text.
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::FloorDiv => "//",
            BinOp::Mod => "%",
        }
    }

    /// Every operator, for generators.
    pub const ALL: [BinOp; 5] = [BinOp::Add, BinOp::Sub, BinOp::Mul, BinOp::FloorDiv, BinOp::Mod];
}

impl CmpOp {
    /// Python's comparison of two integers.
    pub fn apply(self, a: i64, b: i64) -> bool {
        match self {
            CmpOp::Lt => a < b,
            CmpOp::Le => a <= b,
            CmpOp::Gt => a > b,
            CmpOp::Ge => a >= b,
            CmpOp::Eq => a == b,
            CmpOp::Ne => a != b,
        }
    }

    /// The operator's text.
    pub fn symbol(self) -> &'static str {
        match self {
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
        }
    }

    /// Every operator, for generators.
    pub const ALL: [CmpOp; 6] = [CmpOp::Lt, CmpOp::Le, CmpOp::Gt, CmpOp::Ge, CmpOp::Eq, CmpOp::Ne];
}

fn bounded(v: i64) -> Result<i64, EvalError> {
    if (-INT_MAX..=INT_MAX).contains(&v) {
        Ok(v)
    } else {
        Err(EvalError::Overflow)
    }
}

impl Expr {
    /// Evaluates at `x` with a budget of `fuel` steps (one per node visited).
    pub fn eval(&self, x: i64, fuel: u64) -> Result<Value, EvalError> {
        let x = bounded(x)?;
        let mut fuel = fuel;
        self.eval_in(x, &mut fuel)
    }

    fn eval_in(&self, x: i64, fuel: &mut u64) -> Result<Value, EvalError> {
        *fuel = fuel.checked_sub(1).ok_or(EvalError::OutOfFuel)?;
        let int = |e: &Expr, fuel: &mut u64| e.eval_in(x, fuel).map(Value::int);
        Ok(match self {
            Expr::Int(v) => Value::Int(bounded(*v)?),
            Expr::X => Value::Int(x),
            Expr::Neg(a) => Value::Int(bounded(-int(a, fuel)?)?),
            Expr::Not(a) => Value::Bool(!a.eval_in(x, fuel)?.truthy()),
            Expr::Bin(op, a, b) => {
                let a = int(a, fuel)?;
                Value::Int(op.apply(a, int(b, fuel)?)?)
            }
            Expr::Cmp(op, a, b) => {
                let a = int(a, fuel)?;
                Value::Bool(op.apply(a, int(b, fuel)?))
            }
            Expr::And(a, b) => {
                let a = a.eval_in(x, fuel)?;
                if a.truthy() {
                    b.eval_in(x, fuel)?
                } else {
                    a
                }
            }
            Expr::Or(a, b) => {
                let a = a.eval_in(x, fuel)?;
                if a.truthy() {
                    a
                } else {
                    b.eval_in(x, fuel)?
                }
            }
            Expr::If { then, cond, orelse } => {
                if cond.eval_in(x, fuel)?.truthy() {
                    then.eval_in(x, fuel)?
                } else {
                    orelse.eval_in(x, fuel)?
                }
            }
            Expr::Abs(a) => Value::Int(int(a, fuel)?.abs()),
            Expr::Min(args) | Expr::Max(args) if args.len() < 2 => {
                return Err(EvalError::TypeError);
            }
            Expr::Min(args) | Expr::Max(args) => {
                let is_min = matches!(self, Expr::Min(_));
                let mut best: Option<Value> = None;
                for a in args {
                    let v = a.eval_in(x, fuel)?;
                    // Python keeps the first extreme: it replaces only on a strict improvement.
                    let better = match best {
                        None => true,
                        Some(b) if is_min => v.int() < b.int(),
                        Some(b) => v.int() > b.int(),
                    };
                    if better {
                        best = Some(v);
                    }
                }
                best.ok_or(EvalError::TypeError)?
            }
        })
    }

    /// The children, left to right as written.
    pub fn children(&self) -> Vec<&Expr> {
        match self {
            Expr::Int(_) | Expr::X => vec![],
            Expr::Neg(a) | Expr::Not(a) | Expr::Abs(a) => vec![a],
            Expr::Bin(_, a, b) | Expr::Cmp(_, a, b) | Expr::And(a, b) | Expr::Or(a, b) => {
                vec![a, b]
            }
            Expr::If { then, cond, orelse } => vec![then, cond, orelse],
            Expr::Min(args) | Expr::Max(args) => args.iter().collect(),
        }
    }

    /// Depth of the tree: 0 for `x` and literals, one more than the deepest child otherwise.
    /// The generator's difficulty knob.
    pub fn depth(&self) -> usize {
        self.children().iter().map(|c| c.depth() + 1).max().unwrap_or(0)
    }

    /// Number of nodes.
    pub fn size(&self) -> usize {
        1 + self.children().iter().map(|c| c.size()).sum::<usize>()
    }

    /// Whether `x` occurs in it.
    pub fn uses_x(&self) -> bool {
        matches!(self, Expr::X) || self.children().iter().any(|c| c.uses_x())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn int(v: i64) -> Box<Expr> {
        Box::new(Expr::Int(v))
    }

    #[test]
    fn floor_division_and_modulo_follow_python_on_negatives() {
        // (a, b, a // b, a % b) as CPython prints them.
        for (a, b, q, r) in [
            (7, 2, 3, 1),
            (-7, 2, -4, 1),
            (7, -2, -4, -1),
            (-7, -2, 3, -1),
            (6, -3, -2, 0),
            (-6, 3, -2, 0),
            (0, -5, 0, 0),
        ] {
            assert_eq!(BinOp::FloorDiv.apply(a, b), Ok(q), "{a} // {b}");
            assert_eq!(BinOp::Mod.apply(a, b), Ok(r), "{a} % {b}");
        }
        assert_eq!(BinOp::FloorDiv.apply(1, 0), Err(EvalError::ZeroDivision));
        assert_eq!(BinOp::Mod.apply(1, 0), Err(EvalError::ZeroDivision));
    }

    #[test]
    fn values_beyond_the_bound_overflow() {
        assert_eq!(BinOp::Mul.apply(INT_MAX, 2), Err(EvalError::Overflow));
        assert_eq!(BinOp::Mul.apply(i64::MAX, 2), Err(EvalError::Overflow));
        assert_eq!(BinOp::Add.apply(INT_MAX, 1), Err(EvalError::Overflow));
        assert_eq!(BinOp::Add.apply(INT_MAX, 0), Ok(INT_MAX));
        assert_eq!(Expr::X.eval(INT_MAX + 1, 10), Err(EvalError::Overflow));
        assert_eq!(Expr::Int(-INT_MAX - 1).eval(0, 10), Err(EvalError::Overflow));
    }

    #[test]
    fn and_or_return_an_operand_and_short_circuit() {
        let div0 = Box::new(Expr::Bin(BinOp::FloorDiv, int(1), int(0)));
        assert_eq!(Expr::Or(int(0), int(5)).eval(0, 10), Ok(Value::Int(5)));
        assert_eq!(Expr::And(int(0), div0.clone()).eval(0, 10), Ok(Value::Int(0)));
        assert_eq!(Expr::Or(int(3), div0.clone()).eval(0, 10), Ok(Value::Int(3)));
        assert_eq!(Expr::And(int(3), div0).eval(0, 10), Err(EvalError::ZeroDivision));
    }

    #[test]
    fn min_and_max_return_the_first_extreme_argument() {
        let t = Expr::Cmp(CmpOp::Eq, int(1), int(1)); // True
        let e = Expr::Min(vec![t.clone(), Expr::Int(1)]);
        assert_eq!(e.eval(0, 10), Ok(Value::Bool(true)));
        let e = Expr::Max(vec![Expr::Int(1), t]);
        assert_eq!(e.eval(0, 10), Ok(Value::Int(1)));
    }

    #[test]
    fn booleans_take_part_in_arithmetic() {
        let t = Box::new(Expr::Cmp(CmpOp::Lt, int(0), int(1)));
        assert_eq!(Expr::Bin(BinOp::Add, t.clone(), int(1)).eval(0, 10), Ok(Value::Int(2)));
        assert_eq!(Expr::Neg(t.clone()).eval(0, 10), Ok(Value::Int(-1)));
        assert_eq!(Expr::Abs(t.clone()).eval(0, 10), Ok(Value::Int(1)));
        assert_eq!(Expr::Not(t).eval(0, 10), Ok(Value::Bool(false)));
    }

    #[test]
    fn fuel_bounds_the_steps() {
        let e = Expr::Bin(BinOp::Add, Box::new(Expr::X), int(1));
        assert_eq!(e.eval(1, 3), Ok(Value::Int(2)));
        assert_eq!(e.eval(1, 2), Err(EvalError::OutOfFuel));
    }
}
