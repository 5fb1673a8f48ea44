//! Differential test against CPython: thousands of random expressions, evaluated here and by one
//! `python3` process, must agree exactly — value, type (`int` or `bool`) and error-ness.
//!
//! Two sources of expressions: random trees printed by [`Expr`]'s `Display` (every node kind,
//! division and modulo by negatives and zero, booleans in arithmetic), and random walks of the
//! legal-token automaton (which checks that whatever the policy may write, Python reads the same
//! way). `PONDER_SKIP_PYTHON=1` skips the test where there is no `python3`.

use std::io::Write;
use std::process::{Command, Stdio};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::gen::FUEL;
use super::lang::{BinOp, CmpOp, EvalError, Expr, Value};
use super::parse::{parse, parse_tokens};
use super::prefix::Prefix;

/// Reads `expr<TAB>x1,x2,...` lines; writes one line per expression: a result per input (`i7`,
/// `b1`, `Z` for ZeroDivisionError, `E<name>` for any other exception), or `syntax`.
const SCRIPT: &str = r#"
import sys, warnings
warnings.simplefilter("error")
env = {"__builtins__": {}, "abs": abs, "min": min, "max": max}
out = []
for line in sys.stdin:
    src, xs = line.rstrip("\n").split("\t")
    try:
        code = compile(src, "<answer>", "eval")
    except SyntaxError:
        out.append("syntax")
        continue
    res = []
    for x in xs.split(","):
        try:
            v = eval(code, env, {"x": int(x)})
            res.append(("b" if type(v) is bool else "i" if type(v) is int else "?") + str(int(v)))
        except ZeroDivisionError:
            res.append("Z")
        except Exception as e:
            res.append("E" + type(e).__name__)
    out.append(" ".join(res))
sys.stdout.write("\n".join(out) + "\n")
"#;

/// Hand-picked corners of Python's semantics.
const TRICKY: &[&str] = &[
    "-7//2",
    "7//-2",
    "-7%2",
    "7%-2",
    "-x%-3",
    "x*-1//-2",
    "--x",
    "x--x",
    "-x//2",
    "-(x//2)",
    "x//(x>0)",
    "x%(x<0)",
    "(x==x)//(x!=x)",
    "min(x>0, 1)",
    "min(1, x>0)",
    "max(x>0, 1)",
    "max(1, x>0)",
    "min(x<0, 0, x<1)",
    "-(x>0)",
    "abs(x<0)",
    "not x",
    "not not x",
    "x and 0",
    "0 or x",
    "x or 0 and 1//0",
    "x and x-1 or 9",
    "x if x else 1//x",
    "(x>1)+(x>2)*(x>3)",
    "1 if x<0 else 2 if x<5 else 3",
    "(x<1)<(x<2)",
    "not x==1",
    "not x<1 and x",
    "(not x)+1",
    "x>0 or x",
    "x<0 and x",
    "-x if x<0 else x",
    "abs(x)//x",
    "x%abs(x)",
    "max(x, -x)%3",
];

/// A random tree of any shape, with small literals (zero included) so that division by zero,
/// by negatives and by booleans all occur.
fn wild<R: Rng>(rng: &mut R, depth: usize) -> Expr {
    if depth == 0 || rng.random_bool(0.3) {
        return match rng.random_range(0..10) {
            0..=4 => Expr::X,
            5 => Expr::Int(rng.random_range(0..1000)),
            _ => Expr::Int(rng.random_range(0..4)),
        };
    }
    let d = depth - 1;
    let kind = rng.random_range(0..13);
    let bin = BinOp::ALL[rng.random_range(0..5)];
    let cmp = CmpOp::ALL[rng.random_range(0..6)];
    let mut b = || Box::new(wild(rng, d));
    match kind {
        0..=3 => Expr::Bin(bin, b(), b()),
        4 => Expr::Neg(b()),
        5 => Expr::Not(b()),
        6 => Expr::Cmp(cmp, b(), b()),
        7 => Expr::And(b(), b()),
        8 => Expr::Or(b(), b()),
        9 => Expr::If { then: b(), cond: b(), orelse: b() },
        10 => Expr::Abs(b()),
        k => {
            let args = (0..2 + kind % 3).map(|_| *b()).collect();
            if k == 11 {
                Expr::Min(args)
            } else {
                Expr::Max(args)
            }
        }
    }
}

/// A random walk of legal tokens (the automaton's choice, uniform), rendered as text: shapes
/// that no tree generator would think of, such as `not not x<=---0 or 7`.
fn legal_walk<R: Rng>(rng: &mut R) -> String {
    let mut p = Prefix::new(rng.random_range(1..30));
    let mut tokens = Vec::new();
    let mut legal = Vec::new();
    loop {
        p.legal(&mut legal);
        let Some(&t) = legal.get(rng.random_range(0..legal.len().max(1))) else {
            break;
        };
        if t == crate::vocab::EOS {
            break;
        }
        p.apply(t);
        tokens.push(t);
    }
    super::render(&tokens)
}

fn ours(e: &Expr, x: i64) -> Option<String> {
    match e.eval(x, FUEL) {
        Ok(Value::Int(v)) => Some(format!("i{v}")),
        Ok(Value::Bool(v)) => Some(format!("b{}", v as u8)),
        Err(EvalError::ZeroDivision) => Some("Z".into()),
        // Outside the sandbox Python carries on; nothing to compare.
        Err(EvalError::Overflow) => None,
        Err(e) => Some(format!("ours failed: {e}")),
    }
}

#[test]
fn agrees_with_cpython() {
    if std::env::var("PONDER_SKIP_PYTHON").as_deref() == Ok("1") {
        eprintln!("note: PONDER_SKIP_PYTHON=1: skipping the differential test against CPython");
        return;
    }
    let mut rng = ChaCha8Rng::seed_from_u64(2024);
    let mut cases: Vec<(String, Expr, Vec<i64>)> = Vec::new();
    let mut walks = 0;
    for text in TRICKY {
        let e = parse(text).unwrap_or_else(|err| panic!("{text:?}: {err}"));
        cases.push((text.to_string(), e, vec![-7, -2, -1, 0, 1, 2, 3, 7]));
    }
    while cases.len() < 10_000 {
        let text = if cases.len() % 3 == 2 {
            walks += 1;
            legal_walk(&mut rng)
        } else {
            let depth = rng.random_range(1..7);
            let e = wild(&mut rng, depth);
            if e.size() > 60 {
                continue;
            }
            let t = e.to_string();
            assert_eq!(parse(&t).as_ref(), Ok(&e), "{t}");
            assert_eq!(parse_tokens(&e.tokens()).as_ref(), Ok(&e), "{t}");
            t
        };
        let e = parse(&text).unwrap_or_else(|err| panic!("{text:?}: {err}"));
        let mut xs: Vec<i64> = (0..4).map(|_| rng.random_range(-30..=30)).collect();
        xs.push([0, 1, -1][cases.len() % 3]);
        cases.push((text, e, xs));
    }
    let mut child = match Command::new("python3")
        .args(["-c", SCRIPT])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
    {
        Ok(c) => c,
        Err(e) => panic!(
            "the differential test needs `python3` (CPython 3) on PATH, and running it failed: {e}. \
             Install python3, or set PONDER_SKIP_PYTHON=1 to skip this test."
        ),
    };
    let mut input = String::new();
    for (text, _, xs) in &cases {
        let xs: Vec<String> = xs.iter().map(|x| x.to_string()).collect();
        input.push_str(&format!("{text}\t{}\n", xs.join(",")));
    }
    let mut stdin = child.stdin.take().expect("piped stdin");
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let output = child.wait_with_output().expect("python3 ran");
    writer.join().expect("writer thread").expect("wrote to python3");
    assert!(output.status.success(), "python3 failed: {output:?}");
    let stdout = String::from_utf8(output.stdout).expect("utf-8");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), cases.len(), "one line per expression");
    let (mut compared, mut overflow, mut errors) = (0, 0, 0);
    for ((text, e, xs), line) in cases.iter().zip(&lines) {
        assert_ne!(*line, "syntax", "we accept {text:?} but Python does not");
        let theirs: Vec<&str> = line.split(' ').collect();
        assert_eq!(theirs.len(), xs.len());
        for (&x, &py) in xs.iter().zip(&theirs) {
            match ours(e, x) {
                None => overflow += 1,
                Some(v) => {
                    assert_eq!(v, py, "{text:?} at x = {x}: ours {v}, CPython {py}");
                    compared += 1;
                    errors += usize::from(py == "Z");
                }
            }
        }
    }
    eprintln!(
        "{} expressions ({walks} from legal-token walks), {compared} evaluations agree \
         ({errors} ZeroDivisionError), {overflow} skipped for overflow",
        cases.len()
    );
    assert!(overflow * 100 < compared, "too many overflows to be a fair test: {overflow}");
    assert!(errors * 20 > compared, "too few division errors: {errors}");
}
