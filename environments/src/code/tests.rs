//! Tests of the code environment as a whole: the token automaton against the parser, the
//! verifier, the generator and suite, and the automaton on its own. Fuzzing is in `fuzz.rs`, the
//! differential test against CPython in `pydiff.rs`.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::*;
use crate::vocab::EOS;

fn env(spec: &str) -> Code {
    match spec.parse::<crate::AnyEnv>() {
        Ok(crate::AnyEnv::Code(c)) => c,
        other => panic!("{spec}: {other:?}"),
    }
}

fn tok(text: &str) -> Vec<Token> {
    parse::to_tokens(text).unwrap()
}

/// Plays `tokens` then `<eos>` through the automaton, checking each is legal.
fn play(e: &Code, prompt: &str, tokens: &[Token]) -> CodeState {
    let mut s = e.start(prompt).unwrap();
    let mut legal = Vec::new();
    for &t in tokens.iter().chain([&EOS]) {
        s.legal_actions(&mut legal);
        assert!(legal.contains(&t), "{:?} illegal after {:?}", vocab::symbol(t), s.answer_tokens());
        s.apply(t);
    }
    s
}

#[test]
fn conforms() {
    crate::conformance::check(&env("code"), 30);
    crate::conformance::check(&env("code:depth=1-2,examples=2,tests=3,xmax=3,len=24"), 30);
}

#[test]
fn the_worked_example_of_the_docs() {
    let e = env("code");
    let prompt = "f(-4) = 4\nf(0) = 0\nf(3) = 3";
    let s = play(&e, prompt, &tok("x if x>0 else -x"));
    assert_eq!(s.tokens()[0], BOS);
    assert_eq!(vocab::decode(&s.tokens()[1..s.answer_start - 1]), prompt);
    assert_eq!(s.answer_tokens().len(), 8);
    assert_eq!(e.answer(&s), "x if x>0 else -x");
    assert_eq!(s.rules_value(), Some(1.0));
    assert_eq!(s.render(), format!("{prompt}\nf(x) = x if x>0 else -x"));
    let task = e.task("t", prompt, &serde_json::json!({"tests": [[-7, 7], [5, 5]]})).unwrap();
    assert_eq!(e.grade(&task, &e.answer(&s)), Grade::right());
    assert_eq!(e.grade(&task, "abs(x)"), Grade::right());
    let wrong = e.grade(&task, "max(x, 0)");
    assert_eq!(wrong.reason.as_deref(), Some("hidden test f(-7): expected 7, got 0"));
}

#[test]
fn rules_check_only_the_shown_examples() {
    let e = env("code");
    let prompt = "f(1) = 2\nf(2) = 4";
    assert_eq!(play(&e, prompt, &tok("2*x")).rules_value(), Some(1.0));
    assert_eq!(play(&e, prompt, &tok("x+x")).rules_value(), Some(1.0));
    assert_eq!(play(&e, prompt, &tok("x+1")).rules_value(), Some(0.0));
    assert_eq!(play(&e, prompt, &tok("2//(x-1)")).rules_value(), Some(0.0), "ZeroDivisionError at 1");
    // Booleans equal their integers: the prompt prints True as 1.
    assert_eq!(play(&e, "f(0) = 0\nf(5) = 1", &tok("x>2")).rules_value(), Some(1.0));
    let s = e.start(prompt).unwrap();
    assert_eq!(s.rules_value(), None, "not finished");
}

#[test]
fn grading_names_the_parse_error_or_the_failing_input() {
    let e = env("code");
    let task = e.task("t", "f(1) = 1", &serde_json::json!({"tests": [[2, 1], [0, 0]]})).unwrap();
    let why = |a: &str| e.grade(&task, a).reason.unwrap_or_default();
    assert_eq!(why("x <"), "does not parse: at byte 3: expected an operand, found the end");
    assert_eq!(why("1<x<3"), "does not parse: at byte 3: chained comparisons (a < b < c) are not supported; write (a < b) and (b < c)");
    assert_eq!(why("2//x"), "hidden test f(0): ZeroDivisionError");
    assert_eq!(why("x*1000000000000000000*2"), "hidden test f(2): integer overflow (beyond 10^18)");
    let long = format!("min({})", vec!["x"; 20_000].join(","));
    assert_eq!(why(&long), "hidden test f(2): out of fuel");
    assert_eq!(e.grade(&task, "x>1 or x"), Grade::right(), "True == 1, and `or` returns 0 at 0");
}

#[test]
fn task_records_name_bad_fields() {
    let e = env("code");
    let err = |extra: serde_json::Value| e.task("t7", "f(1) = 1", &extra).unwrap_err().to_string();
    assert!(err(serde_json::json!({})).contains("missing field \"tests\""));
    assert!(err(serde_json::json!({"tests": 3})).contains("\"tests\" must be a list"));
    assert!(err(serde_json::json!({"tests": [[1, 2], [3]]})).contains("item 1 ([3])"));
    assert!(err(serde_json::json!({"tests": []})).contains("empty"));
    assert!(
        err(serde_json::json!({"tests": [[1, 1]], "program": "x+"})).contains("\"program\" does not parse")
    );
    assert!(err(serde_json::json!({"tests": [[1, true]]})).contains("task \"t7\""));
    assert!(e.task("t", "f(1) = 1\nf(1) = 2", &serde_json::json!({"tests": [[1, 1]]})).is_err());
}

#[test]
fn prompts_are_read_strictly() {
    assert_eq!(parse_examples("f(3) = 7\r\nf(-2) = -3\n"), Ok(vec![(3, 7), (-2, -3)]));
    for bad in
        ["", "f(3)=7", "f(03) = 7", "f(-0) = 1", "f(3) = +7", "g(3) = 7", "f(3) = 7\n\nf(4) = 8", "f(x) = 1"]
    {
        assert!(parse_examples(bad).is_err(), "{bad:?}");
    }
    let e = parse_examples("f(1) = 1\nf(2) = oops").unwrap_err().to_string();
    assert!(e.contains("line 2"), "{e}");
}

#[test]
fn spec_parameters_are_validated_and_round_trip() {
    let e = env("code:depth=2-3,xmax=10");
    assert_eq!(e.spec(), "code:depth=2-3,examples=5,tests=10,xmax=10,len=40");
    assert_eq!(env(&e.spec()), e);
    assert_eq!(e.curriculum_levels(), 2);
    assert_eq!(e.max_actions(), 41);
    for bad in ["code:depth=0-2", "code:depth=1-6", "code:len=10", "code:xmax=2,examples=5"] {
        assert!(bad.parse::<crate::AnyEnv>().is_err(), "{bad}");
    }
}

#[test]
fn every_prefix_of_every_generated_program_is_legal() {
    for spec in ["code", "code:depth=5-5,len=24", "code:depth=1-5,len=64"] {
        let e = env(spec);
        for i in 0..150 {
            let task = e.generate(11, i, u32::MAX);
            let TruthInner::Hidden { program, tests } = &task.truth.0 else { unreachable!() };
            let p = parse(program).unwrap();
            assert!(p.tokens().len() <= e.cfg.max_len);
            let s = play(&e, &task.prompt, &p.tokens());
            assert_eq!(s.rules_value(), Some(1.0), "{program} reproduces its examples");
            assert_eq!(e.answer(&s), *program);
            assert_eq!(e.grade(&task, program), Grade::right());
            assert_eq!(tests.len(), 10);
        }
    }
}

#[test]
fn random_legal_walks_end_in_expressions_that_parse() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let mut legal = Vec::new();
    for len in [24, 40, 64] {
        let e = env(&format!("code:len={len}"));
        for _ in 0..700 {
            let mut s = e.start("f(1) = 1").unwrap();
            for steps in 0.. {
                s.legal_actions(&mut legal);
                if legal.is_empty() {
                    break;
                }
                assert!(steps <= len, "a walk ends within len + 1 actions");
                s.apply(legal[rng.random_range(0..legal.len())]);
            }
            assert_eq!(s.tokens().last(), Some(&EOS));
            let from_tokens = parse_tokens(s.answer_tokens()).expect("a legal walk parses");
            assert_eq!(parse(&e.answer(&s)), Ok(from_tokens.clone()), "text and tokens agree");
            assert_eq!(from_tokens.to_string(), render(&from_tokens.tokens()));
        }
    }
}

/// A random token sequence over the language's tokens, sometimes a mutation of a valid one.
fn random_sequence(rng: &mut ChaCha8Rng) -> Vec<Token> {
    let alphabet: Vec<Token> = vocab::encode("0123456789x+-*%(),<>")
        .unwrap()
        .into_iter()
        .chain(
            ["//", "<=", ">=", "==", "!=", "and", "or", "not", "if", "else", "abs", "min", "max"]
                .map(vocab::word),
        )
        .collect();
    let mut seq = if rng.random_bool(0.5) {
        let depth = rng.random_range(0..5);
        random_program(rng, depth).tokens()
    } else {
        (0..rng.random_range(1..12)).map(|_| alphabet[rng.random_range(0..alphabet.len())]).collect()
    };
    for _ in 0..rng.random_range(0..3) {
        let i = rng.random_range(0..=seq.len());
        let t = alphabet[rng.random_range(0..alphabet.len())];
        match rng.random_range(0..3) {
            0 => seq.insert(i, t),
            1 if i < seq.len() => seq[i] = t,
            _ if i < seq.len() => drop(seq.remove(i)),
            _ => {}
        }
    }
    seq
}

#[test]
fn the_automaton_accepts_exactly_what_the_parser_accepts() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let (mut valid, mut total) = (0, 0);
    for _ in 0..15_000 {
        let seq = random_sequence(&mut rng);
        if seq.len() > 40 {
            continue;
        }
        let mut p = Prefix::new(40);
        for &t in seq.iter().chain([&EOS]) {
            p.apply(t);
        }
        let accepted = !p.is_broken();
        let parsed = parse_tokens(&seq);
        assert_eq!(accepted, parsed.is_ok(), "{:?}: {parsed:?}", render(&seq));
        valid += usize::from(accepted);
        total += 1;
    }
    assert!(valid > total / 4 && valid < total * 3 / 4, "{valid} of {total} valid: a poor mix");
}

#[test]
fn generate_is_deterministic_and_follows_the_curriculum() {
    let e = env("code:depth=1-4");
    assert_eq!(e.generate(1, 2, 3), e.generate(1, 2, 3));
    assert_ne!(e.generate(1, 2, 3).prompt, e.generate(1, 3, 3).prompt);
    let depth = |t: &Task| match &t.truth.0 {
        TruthInner::Hidden { program, .. } => parse(program).unwrap().depth(),
        _ => unreachable!(),
    };
    assert!((0..50).all(|i| depth(&e.generate(4, i, 0)) == 1));
    assert!((0..50).all(|i| depth(&e.generate(4, i, 1)) <= 2));
    let top: Vec<usize> = (0..200).map(|i| depth(&e.generate(4, i, 3))).collect();
    assert!((1..=4).all(|d| top.contains(&d)), "the last level spans every depth");
}

#[test]
fn suite_file_is_what_the_generator_draws() {
    let drawn: Vec<String> = Code::draw_suite().iter().map(crate::suite::task_line).collect();
    let text = drawn.join("\n") + "\n";
    if std::env::var("PONDER_WRITE_SUITES").as_deref() == Ok("1") {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/suites/code.test.jsonl");
        std::fs::write(path, &text).unwrap();
        return;
    }
    assert_eq!(SUITE, text, "suites/code.test.jsonl is stale: rerun with PONDER_WRITE_SUITES=1");
}

#[test]
fn held_out_is_filtered_and_never_generated() {
    let all = env("code:depth=1-5").held_out();
    assert_eq!(all.len(), 200);
    assert_eq!(env("code").held_out().len(), 160);
    assert_eq!(env("code:depth=2-2").held_out().len(), 40);
    assert!(env("code:xmax=10").held_out().len() < 160);
    let e = env("code:depth=1-5");
    let prompts: HashSet<&str> = all.iter().map(|t| t.prompt.as_str()).collect();
    for i in 0..500 {
        assert!(!prompts.contains(e.generate(0xC0DE_7E57, i, 4).prompt.as_str()));
    }
    // The suite's own draws are redrawn when training asks for them.
    let d = gen::draw(&mut gen::item_rng(SUITE_SEED, 1000), &Code::suite_config(), 1);
    assert!(prompts.contains(format_examples(&d.shown).as_str()));
    for t in &all {
        let TruthInner::Hidden { program, .. } = &t.truth.0 else { unreachable!() };
        assert_eq!(e.grade(t, program), Grade::right(), "{}", t.id);
    }
}

// The automaton on its own.

fn after(text: &str) -> Prefix {
    let mut p = Prefix::new(40);
    for t in crate::code::parse::to_tokens(text).unwrap() {
        assert!(p.is_legal(t), "{:?} illegal after a prefix of {text:?}", vocab::symbol(t));
        p.apply(t);
    }
    p
}

fn legal_text(p: &Prefix) -> Vec<&'static str> {
    let mut out = Vec::new();
    p.legal(&mut out);
    out.iter().map(|&t| vocab::symbol(t)).collect()
}

#[test]
fn an_operand_is_due_at_the_start() {
    let mut l = legal_text(&Prefix::new(40));
    l.sort();
    let mut want =
        vec!["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "x", "-", "(", "not", "abs", "min", "max"];
    want.sort();
    assert_eq!(l, want);
}

#[test]
fn grammar_rules_prune_tokens() {
    let has = |text: &str, sym: &str| legal_text(&after(text)).contains(&sym);
    assert!(!has("0", "0") && !has("0", "7"), "no leading zeros");
    assert!(has("10", "0"));
    assert!(has("x", "<eos>") && !has("x+", "<eos>") && !has("(x", "<eos>"));
    assert!(!has("x<1", "<") && !has("x<1", "==") && has("(x<1)", "=="), "no chains");
    assert!(has("x<1 and x", ">"), "`and` starts a new comparison");
    assert!(!has("x", "else") && has("x if x", "else") && !has("x if x", "if"));
    assert!(!has("x if x", "<eos>") && has("x if x else 1", "<eos>"));
    assert!(has("x if x else 1", "if"), "conditionals nest to the right");
    assert!(has("not", "not") && has("x and", "not") && !has("x+", "not") && !has("x==", "not"));
    assert!(!has("-", "not"));
    assert!(!has("x", ",") && has("min(x", ",") && !has("min(x", ")") && has("min(x,1", ")"));
    assert!(!has("abs(x", ","));
    assert_eq!(legal_text(&after("abs")), vec!["("]);
    assert!(!has("x", ")") && !has("x", "x") && !has("x", "7"));
}

#[test]
fn literals_stop_at_ten_to_the_eighteen() {
    let p = after("100000000000000000");
    assert!(p.is_legal(vocab::digit(0)));
    let mut q = p.clone();
    q.apply(vocab::digit(0));
    assert!(!q.is_legal(vocab::digit(0)));
}

#[test]
fn the_length_bound_forces_completion() {
    let mut p = Prefix::new(6);
    for t in vocab::encode("min(x").unwrap() {
        p.apply(t);
    }
    // 3 written; `,` operand `)` are due, so `+` (3 more after it) no longer fits.
    assert_eq!((p.len(), p.min_to_complete()), (3, 3));
    assert_eq!(legal_text(&p), vec![","]);
    let mut p = Prefix::new(6);
    for t in vocab::encode("abs(").unwrap() {
        p.apply(t);
    }
    let l = legal_text(&p);
    assert!(l.contains(&"(") && l.contains(&"x") && !l.contains(&"abs") && !l.contains(&"min"), "{l:?}");
}

#[test]
fn an_illegal_token_breaks_the_prefix() {
    let mut p = Prefix::new(10);
    p.apply(vocab::ch(')'));
    assert!(p.is_broken() && p.is_finished());
    let mut out = vec![1];
    p.legal(&mut out);
    assert!(out.is_empty());
}

#[test]
fn legal_lists_exactly_the_tokens_that_are_legal() {
    let mut rng = ChaCha8Rng::seed_from_u64(8);
    let mut legal = Vec::new();
    for _ in 0..300 {
        let mut p = Prefix::new(rng.random_range(1..40));
        while !p.is_finished() {
            p.legal(&mut legal);
            let all: Vec<Token> = (0..vocab::VOCAB_SIZE as Token).filter(|&t| p.is_legal(t)).collect();
            assert_eq!(legal, all);
            p.apply(legal[rng.random_range(0..legal.len())]);
        }
    }
}
