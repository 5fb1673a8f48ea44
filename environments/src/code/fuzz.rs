//! Fuzzing everything that reads untrusted input: the parser and interpreter never panic on any
//! text or token sequence, printing then parsing gives back the tree, and the automaton and the
//! environment stay consistent whatever is thrown at them. (A failing case found here is kept as
//! a named test in `tests.rs`.)

use proptest::prelude::*;

use super::*;

fn env() -> Code {
    match "code".parse::<crate::AnyEnv>() {
        Ok(crate::AnyEnv::Code(c)) => c,
        other => panic!("{other:?}"),
    }
}

/// A strategy for expressions as the parser builds them (literals non-negative).
fn arb_expr() -> impl Strategy<Value = Expr> {
    let leaf = prop_oneof![Just(Expr::X), (0i64..1000).prop_map(Expr::Int)];
    leaf.prop_recursive(6, 48, 3, |inner| {
        let b = || inner.clone().prop_map(Box::new);
        let bin = prop::sample::select(BinOp::ALL.to_vec());
        let cmp = prop::sample::select(CmpOp::ALL.to_vec());
        prop_oneof![
            b().prop_map(Expr::Neg),
            b().prop_map(Expr::Not),
            b().prop_map(Expr::Abs),
            (bin, b(), b()).prop_map(|(o, l, r)| Expr::Bin(o, l, r)),
            (cmp, b(), b()).prop_map(|(o, l, r)| Expr::Cmp(o, l, r)),
            (b(), b()).prop_map(|(l, r)| Expr::And(l, r)),
            (b(), b()).prop_map(|(l, r)| Expr::Or(l, r)),
            (b(), b(), b()).prop_map(|(then, cond, orelse)| Expr::If { then, cond, orelse }),
            prop::collection::vec(inner.clone(), 2..4).prop_map(Expr::Min),
            prop::collection::vec(inner.clone(), 2..4).prop_map(Expr::Max),
        ]
    })
}

/// Text made of the language's pieces and near-misses, glued with or without spaces.
fn arb_text() -> impl Strategy<Value = String> {
    let pieces = [
        "x", "0", "7", "42", "(", ")", ",", "+", "-", "*", "//", "/", "%", "<", "<=", ">", ">=", "==", "!=",
        "=", "!", "and", "or", "not", "if", "else", "abs", "min", "max", "True", "**", " ", "\n", "\t", "é",
        "00", "1e3", "_",
    ];
    prop::collection::vec((prop::sample::select(pieces.to_vec()), any::<bool>()), 0..40).prop_map(|v| {
        v.into_iter().map(|(p, space)| if space { format!("{p} ") } else { p.to_string() }).collect()
    })
}

proptest! {
    #[test]
    fn printing_then_parsing_gives_back_the_tree(e in arb_expr(), x in -50i64..50) {
        prop_assert_eq!(parse(&e.to_string()), Ok(e.clone()));
        prop_assert_eq!(parse_tokens(&e.tokens()), Ok(e.clone()));
        let _ = e.eval(x, 1000);
    }

    #[test]
    fn parsing_any_text_never_panics(s in "\\PC{0,60}", t in arb_text(), x in any::<i64>()) {
        for text in [&s, &t] {
            if let Ok(e) = parse(text) {
                let _ = e.eval(x, gen::FUEL);
                prop_assert_eq!(parse(&e.to_string()), Ok(e.clone()));
            }
        }
    }

    #[test]
    fn any_token_sequence_is_safe(seq in prop::collection::vec(0..vocab::VOCAB_SIZE as Token, 0..50)) {
        let _ = parse_tokens(&seq);
        let _ = render(&seq);
        let mut p = Prefix::new(40);
        let mut out = Vec::new();
        for &t in &seq {
            p.legal(&mut out);
            prop_assert_eq!(out.contains(&t), p.is_legal(t));
            p.apply(t);
        }
        let e = env();
        let mut s = e.start("f(0) = 1").unwrap();
        for &t in &seq {
            if s.is_terminal() { break; }
            s.legal_actions(&mut out);
            if out.contains(&t) { s.apply(t); }
        }
        let _ = e.grade(&e.generate(0, 0, 0), &e.answer(&s));
    }
}
