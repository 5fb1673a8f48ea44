use std::collections::HashSet;

use super::*;
use crate::vocab::{EOS, STEP};
use crate::{conformance, State};

const EXPR: Game24 = Game24 { format: Format::Expr };
const STEPS: Game24 = Game24 { format: Format::Steps };

/// Writes `text` (`<step>` for step ends, `<eos>` at the end) token by token, asserting each
/// token is legal.
fn write(env: &Game24, prompt: &str, text: &str) -> Game24State {
    let mut s = env.start(prompt).unwrap();
    let mut legal = Vec::new();
    let mut toks = Vec::new();
    for (k, piece) in text.split("<step>").enumerate() {
        if k > 0 {
            toks.push(STEP);
        }
        match piece.strip_suffix("<eos>") {
            Some(p) => {
                toks.extend(vocab::encode(p).unwrap());
                toks.push(EOS);
            }
            None => toks.extend(vocab::encode(piece).unwrap()),
        }
    }
    for t in toks {
        s.legal_actions(&mut legal);
        assert!(
            legal.contains(&t),
            "{:?} not legal after {s:?}; legal: {:?}",
            vocab::symbol(t),
            vocab::decode(&legal)
        );
        s.apply(t);
    }
    s
}

fn legal_text(s: &Game24State) -> Vec<&'static str> {
    let mut legal = Vec::new();
    s.legal_actions(&mut legal);
    legal.into_iter().map(vocab::symbol).collect()
}

#[test]
fn there_are_1362_solvable_puzzles_and_a_273_puzzle_test_split() {
    assert_eq!(multisets().len(), 1820);
    let all = all_puzzles();
    assert_eq!(all.len(), 1362);
    assert_eq!(all[0], [1, 1, 1, 8]);
    assert_eq!(all[1361], [12, 13, 13, 13]);
    assert!(all.windows(2).all(|w| w[0] < w[1]), "ascending lexicographic order");
    assert!(all.iter().all(|p| p.windows(2).all(|w| w[0] <= w[1])));
    let (test, train) = (test_split(), train_split());
    assert_eq!(test.len(), 273);
    assert_eq!(train.len(), 1089);
    assert_eq!(test[0], [1, 1, 1, 8]);
    assert_eq!(test[1], all[5]);
    assert_eq!(test[272], all[1360]);
    let test_set: HashSet<_> = test.iter().collect();
    assert!(train.iter().all(|p| !test_set.contains(p)));
}

#[test]
fn solve_agrees_with_the_count_and_its_solutions_are_legal_expr_answers() {
    let solvable: HashSet<[u32; 4]> = all_puzzles().iter().copied().collect();
    for p in multisets() {
        match solve(&p) {
            Some(text) => {
                assert!(solvable.contains(&p), "{p:?}");
                assert_eq!(check(&p, &text), Ok(()), "{p:?}: {text}");
                let s = write(&EXPR, &puzzle_text(&p), &(text + "<eos>"));
                assert_eq!(s.rules_value(), Some(1.0));
            }
            None => assert!(!solvable.contains(&p), "{p:?}"),
        }
    }
}

#[test]
fn every_solvable_puzzle_has_a_solution_without_negative_numbers() {
    // What lets the steps format forbid negative intermediate results.
    assert!(all_puzzles().iter().all(|p| solver::solvable(p, true)));
}

#[test]
fn the_suite_file_is_the_test_split_and_generate_never_draws_from_it() {
    let want: String = test_suite().iter().map(|t| crate::suite::task_line(t) + "\n").collect();
    assert!(
        SUITE == want,
        "suites/game24.test.jsonl differs from test_suite(); the file is the contract: restore \
         it, or run `cargo run -p ponder-env --example write_math_suites` for a new split"
    );
    for env in [EXPR, STEPS] {
        let held = env.held_out();
        assert_eq!(held.len(), 273);
        assert_eq!(held[0].prompt, "1 1 1 8");
        assert_eq!(held[0].id, "test-0000");
        assert_eq!(held[272].prompt, puzzle_text(&all_puzzles()[1360]));
        let held: HashSet<String> = held.into_iter().map(|t| t.prompt).collect();
        let drawn: HashSet<String> = (0..4000).map(|i| env.generate(1, i, 0).prompt).collect();
        assert!(drawn.is_disjoint(&held));
        // 4,000 uniform draws from 1,089 puzzles show about 1,061 of them.
        assert!(drawn.len() > 1030, "uniform over the training split: {}", drawn.len());
    }
    assert_eq!(EXPR.generate(4, 2, 0), EXPR.generate(4, 2, 0));
    assert_ne!(EXPR.generate(4, 2, 0).prompt, EXPR.generate(4, 3, 0).prompt);
}

#[test]
fn expr_answers_follow_the_documented_tokens() {
    let s = write(&EXPR, "4 7 8 8", "(7-8/8)*4<eos>");
    assert_eq!(vocab::decode(s.tokens()), "<bos>4 7 8 8<sep>(7-8/8)*4<eos>");
    assert!(s.is_terminal());
    assert_eq!(s.rules_value(), Some(1.0));
    assert_eq!(EXPR.answer(&s), "(7-8/8)*4");
    let s = write(&EXPR, "4 7 8 8", "4+7+8+8<eos>");
    assert_eq!(s.rules_value(), Some(0.0));
    let s = write(&EXPR, "3 3 8 8", "8/(3-3)*8<eos>");
    assert_eq!(s.rules_value(), Some(0.0), "division by zero is not 24");
}

#[test]
fn expr_grammar_offers_only_numbers_left_and_well_formed_continuations() {
    let s = EXPR.start("4 7 8 8").unwrap();
    assert_eq!(legal_text(&s), ["4", "7", "8", "("]);
    let s = write(&EXPR, "4 7 8 8", "8");
    assert_eq!(legal_text(&s), ["+", "-", "*", "/"], "no ')' without '(' and no end with numbers left");
    let s = write(&EXPR, "4 7 8 8", "8*4*");
    assert_eq!(legal_text(&s), ["7", "8", "("], "two numbers left may form a group");
    let s = write(&EXPR, "4 7 8 8", "8*4*7*");
    assert_eq!(legal_text(&s), ["8"], "no '(' with one number left: a group needs an operator");
    let s = write(&EXPR, "4 7 8 8", "(8");
    assert_eq!(legal_text(&s), ["+", "-", "*", "/"], "no ')' before the group has an operator");
    let s = write(&EXPR, "4 7 8 8", "((8+4)");
    assert_eq!(legal_text(&s), ["+", "-", "*", "/"], "the outer group still needs an operator of its own");
    let s = write(&EXPR, "4 7 8 8", "((8+4)*7");
    assert_eq!(legal_text(&s), ["+", "-", "*", "/", ")"]);
    let s = write(&EXPR, "4 7 8 8", "(8+4)*7*8");
    assert_eq!(legal_text(&s), ["<eos>"]);
    // Two-digit numbers are two tokens; a typed 1 may still become 12 or 13.
    let s = write(&EXPR, "1 2 12 13", "1");
    assert_eq!(legal_text(&s), ["2", "3", "+", "-", "*", "/"]);
    let s = write(&EXPR, "2 2 12 13", "1");
    assert_eq!(legal_text(&s), ["2", "3"], "no 1 in the puzzle");
    let s = write(&EXPR, "2 2 12 13", "12+1");
    assert_eq!(legal_text(&s), ["3"]);
    assert!(EXPR.start("4 7 8 8").unwrap().at_step_boundary());
}

/// Every legal prefix of every answer, depth first.
fn walk(s: &Game24State, visit: &mut impl FnMut(&Game24State)) {
    let mut legal = Vec::new();
    s.legal_actions(&mut legal);
    assert_eq!(legal.is_empty(), s.is_terminal(), "dead end at {s:?}");
    visit(s);
    for a in legal {
        let mut c = s.clone();
        c.apply(a);
        walk(&c, visit);
    }
}

#[test]
fn every_expr_prefix_completes_and_every_answer_uses_the_numbers_once() {
    for prompt in ["4 7 8 8", "1 1 12 13"] {
        let numbers = parse_prompt(prompt).unwrap();
        let (mut answers, mut wins) = (0, 0);
        walk(&EXPR.start(prompt).unwrap(), &mut |s| {
            if s.is_terminal() {
                let answer = EXPR.answer(s);
                assert!(answer.len() < EXPR.max_actions(), "{answer}");
                let verdict = check(&numbers, &answer);
                match verdict {
                    Ok(()) => wins += 1,
                    Err(ref why) => {
                        assert!(why.starts_with("equals") || why == "division by zero", "{answer}: {why}")
                    }
                }
                assert_eq!(s.rules_value(), Some(if verdict.is_ok() { 1.0 } else { 0.0 }));
                answers += 1;
            }
        });
        assert!(answers > 1000, "{prompt}: {answers}");
        assert_eq!(wins > 0, solve(&numbers).is_some(), "{prompt}");
    }
}

#[test]
fn steps_answers_follow_the_documented_format_and_rebuild_the_expression() {
    for (prompt, text, expr) in [
        (
            "4 7 8 8",
            "8/8=1 (left: 1 4 7)<step>7-1=6 (left: 4 6)<step>6*4=24 (left: 24)<step><eos>",
            "(7-8/8)*4",
        ),
        (
            "3 3 8 8",
            "8/3=8/3 (left: 8/3 3 8)<step>3-(8/3)=1/3 (left: 1/3 8)<step>\
             8/(1/3)=24 (left: 24)<step><eos>",
            "8/(3-8/3)",
        ),
    ] {
        let s = write(&STEPS, prompt, text);
        assert!(s.is_terminal());
        assert_eq!(s.rules_value(), Some(1.0));
        assert_eq!(STEPS.answer(&s), expr);
        let task = STEPS.task("t", prompt, &serde_json::Value::Null).unwrap();
        assert!(STEPS.grade(&task, &STEPS.answer(&s)).correct);
    }
    let s = write(
        &STEPS,
        "4 7 8 8",
        "8+8=16 (left: 4 7 16)<step>16+7=23 (left: 4 23)<step>23-4=19 (left: 19)<step><eos>",
    );
    assert_eq!(s.rules_value(), Some(0.0));
    assert_eq!(STEPS.answer(&s), "8+8+7-4");
}

#[test]
fn steps_choices_are_operands_and_operators_and_the_rest_is_forced() {
    let s = STEPS.start("4 7 8 8").unwrap();
    assert_eq!(legal_text(&s), ["4", "7", "8"]);
    assert!(s.at_step_boundary());
    let s = write(&STEPS, "4 7 8 8", "4");
    assert_eq!(legal_text(&s), ["+", "*", "/"], "4 minus anything left would be negative");
    assert!(!s.at_step_boundary());
    let s = write(&STEPS, "4 7 8 8", "7-");
    assert_eq!(legal_text(&s), ["4"]);
    let mut s = write(&STEPS, "4 7 8 8", "8/8");
    assert_eq!(legal_text(&s), ["="]);
    let rest = "=1 (left: 1 4 7)";
    for (k, t) in vocab::encode(rest).unwrap().into_iter().chain([STEP]).enumerate() {
        let mut legal = Vec::new();
        s.legal_actions(&mut legal);
        assert_eq!(legal, vec![t], "token {k} of the step's end is forced");
        s.apply(t);
    }
    assert!(s.at_step_boundary());
    // A fraction operand is typed in parentheses; 12 and 1 share a first digit.
    let s = write(&STEPS, "1 3 8 12", "8/3=8/3 (left: 1 8/3 12)<step>");
    assert_eq!(legal_text(&s), ["1", "("]);
    let s = write(&STEPS, "1 3 8 12", "8/3=8/3 (left: 1 8/3 12)<step>1");
    assert_eq!(legal_text(&s), ["2", "+", "*", "/"]);
    let s = write(&STEPS, "1 3 8 12", "8/3=8/3 (left: 1 8/3 12)<step>(8/3)*");
    assert_eq!(legal_text(&s), ["1"]);
    let s = write(
        &STEPS,
        "1 3 8 12",
        "8/3=8/3 (left: 1 8/3 12)<step>(8/3)*12=32 (left: 1 32)<step>32-1=31 (left: 31)<step>",
    );
    assert_eq!(legal_text(&s), ["<eos>"]);
    assert!(s.at_step_boundary());
    // Zero is a number like any other, but no divisor.
    let s = write(&STEPS, "4 4 7 8", "4-4=0 (left: 0 7 8)<step>7/");
    assert_eq!(legal_text(&s), ["8"]);
}

/// The longest step of any puzzle among `prompts`, over every sequence of step choices.
fn longest_step(prompts: &[&str]) -> usize {
    let mut longest = 0;
    for prompt in prompts {
        let start = STEPS.start(prompt).unwrap();
        let base = start.tokens().len();
        walk(&start, &mut |s| {
            if s.at_step_boundary() && !s.is_terminal() {
                let steps = s.tokens()[base..].split(|&t| t == STEP);
                longest = longest.max(steps.map(|x| x.len() + 1).max().unwrap_or(0));
            }
        });
    }
    longest
}

#[test]
fn steps_episodes_fit_max_actions() {
    let longest = longest_step(&["1 11 12 13", "7 11 12 13"]);
    assert!((30..=STEP_MAX_TOKENS).contains(&longest), "longest step {longest}");
}

/// Over all 1,820 puzzles; two minutes in release:
/// `cargo test --release -p ponder-env -- --ignored`.
#[test]
#[ignore]
fn steps_of_every_puzzle_fit_max_actions() {
    let prompts: Vec<String> = multisets().iter().map(puzzle_text).collect();
    let prompts: Vec<&str> = prompts.iter().map(String::as_str).collect();
    let longest = longest_step(&prompts);
    println!("longest step: {longest} tokens");
    assert!(longest <= STEP_MAX_TOKENS);
}

#[test]
fn rules_value_agrees_with_the_ground_truth_on_random_answers() {
    use rand::{Rng, SeedableRng};
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let mut legal = Vec::new();
    for env in [EXPR, STEPS] {
        let mut wins = 0;
        for i in 0..1500 {
            let task = env.generate(2, i, 0);
            let mut s = env.start(&task.prompt).unwrap();
            while !s.is_terminal() {
                s.legal_actions(&mut legal);
                s.apply(legal[rng.random_range(0..legal.len())]);
            }
            let g = env.grade(&task, &env.answer(&s));
            assert_eq!(s.rules_value(), Some(g.reward), "{s:?} answered {}: {g:?}", env.answer(&s));
            wins += g.correct as u32;
        }
        assert!(wins > 2, "{}: {wins} random wins", env.spec());
    }
}

#[test]
fn grade_names_what_is_wrong() {
    let t = EXPR.task("t", "4 7 8 8", &serde_json::Value::Null).unwrap();
    assert!(EXPR.grade(&t, "(7-8/8)*4").correct);
    assert!(EXPR.grade(&t, " 4 * (7 - 8 / 8) ").correct);
    for (answer, why) in [
        ("(7-8/8)*5", "uses 5 which is not in the puzzle"),
        ("(8-8/8)*4", "uses 8 more often than the puzzle has it (2)"),
        ("8+8+4", "does not use 7"),
        ("4+7+8+8", "equals 27, not 24"),
        ("4/(8-8)*7", "division by zero"),
        ("7/8+4+8", "equals 103/8, not 24"),
        ("(7-8/8*4", "not an expression: expected ')' closing the '(' at byte 0, found the end at byte 8"),
        ("", "at byte 0"),
        ("24", "uses 24 which is not in the puzzle"),
    ] {
        let g = EXPR.grade(&t, answer);
        assert!(!g.correct && g.reward == 0.0);
        let reason = g.reason.unwrap();
        assert!(reason.contains(why), "{answer:?}: {reason}");
    }
}

#[test]
fn bad_prompts_and_specs_are_errors_naming_the_problem() {
    for (prompt, why) in [
        ("4 7 8", "3 space-separated fields"),
        ("4 7 8 8 1", "5 space-separated"),
        ("4  7 8 8", "5 space-separated fields"),
        ("4 7 8 14", "\"14\" is not a number in 1..13"),
        ("0 7 8 8", "\"0\""),
        ("04 7 8 8", "\"04\""),
        ("4 7 8 +8", "\"+8\""),
        ("4 7 8 é", "\"é\""),
        ("", "1 space-separated"),
    ] {
        let e = EXPR.start(prompt).unwrap_err().to_string();
        assert!(e.contains(why), "{prompt:?}: {e}");
        assert!(STEPS.task("t", prompt, &serde_json::Value::Null).is_err());
    }
    assert_eq!(EXPR.start("8 4 8 7").unwrap().numbers, [4, 7, 8, 8], "any order is read");
    let e = "game24:format=tree".parse::<crate::AnyEnv>().unwrap_err().to_string();
    assert!(e.contains("format") && e.contains("steps"), "{e}");
    assert_eq!("game24".parse::<crate::AnyEnv>().unwrap().spec(), "game24:format=expr");
    assert_eq!("game24:format=steps".parse::<crate::AnyEnv>().unwrap().spec(), "game24:format=steps");
}

#[test]
fn conforms_in_both_formats() {
    conformance::check(&EXPR, 40);
    conformance::check(&STEPS, 40);
}

proptest::proptest! {
    #[test]
    fn arbitrary_prompts_and_answers_never_panic(
        text in "\\PC{0,30}",
        answer in "[0-9()+\\-*/ ]{0,30}",
    ) {
        for env in [EXPR, STEPS] {
            let _ = env.start(&text);
            let _ = env.task("t", &text, &serde_json::Value::Null);
            let task = env.generate(0, 0, 0);
            let g = env.grade(&task, &answer);
            proptest::prop_assert_eq!(g.correct, g.reward == 1.0);
            let _ = env.grade(&task, &text);
        }
    }
}
