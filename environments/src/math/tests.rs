use super::*;
use crate::{conformance, State};

fn env(spec: &str) -> Arith {
    match spec.parse::<crate::AnyEnv>().unwrap() {
        crate::AnyEnv::Arith(a) => a,
        other => panic!("{spec} parsed as {other:?}"),
    }
}

/// Writes `text` (with `<step>` for step ends) token by token, asserting each is legal.
fn write(env: &Arith, prompt: &str, text: &str) -> ArithState {
    let mut s = env.start(prompt).unwrap();
    let mut legal = Vec::new();
    for piece in text.split_inclusive("<step>") {
        let (plain, step) = match piece.strip_suffix("<step>") {
            Some(p) => (p, true),
            None => (piece, false),
        };
        let mut toks = vocab::encode(plain).unwrap();
        if step {
            toks.push(STEP);
        }
        for t in toks {
            s.legal_actions(&mut legal);
            assert!(legal.contains(&t), "{} not legal after {s:?}; legal: {legal:?}", vocab::symbol(t));
            s.apply(t);
        }
    }
    s
}

fn finish(mut s: ArithState) -> ArithState {
    let mut legal = Vec::new();
    s.legal_actions(&mut legal);
    assert!(legal.contains(&vocab::EOS), "cannot end after {s:?}");
    s.apply(vocab::EOS);
    assert!(s.is_terminal());
    s
}

/// The correct scratchpad and answer, computed independently of the template builder.
fn teacher(op: Op, a: &str, b: &str, pad: Scratchpad) -> String {
    let digit = |x: &str, i: usize| {
        if i < x.len() {
            u64::from(x.as_bytes()[x.len() - 1 - i] - b'0')
        } else {
            0
        }
    };
    let cols = match op {
        Op::Add => a.len().max(b.len()),
        Op::Mul => a.len() + b.len() - 1,
    };
    let mut steps = Vec::new();
    let mut carry = 0;
    // The bounds of the carry into and the sum of each column, for the aligned widths.
    let mut max_carry = 0u64;
    for k in 0..cols {
        let (text, sum) = match op {
            Op::Add => (format!("{}+{}", digit(a, k), digit(b, k)), digit(a, k) + digit(b, k)),
            Op::Mul => {
                let pairs: Vec<(u64, u64)> = (0..a.len())
                    .filter(|&i| k >= i && k - i < b.len())
                    .map(|i| (digit(a, i), digit(b, k - i)))
                    .collect();
                let text: Vec<String> = pairs.iter().map(|(x, y)| format!("{x}*{y}")).collect();
                (text.join("+"), pairs.iter().map(|(x, y)| x * y).sum())
            }
        };
        let s = sum + carry;
        let terms = text.matches(op.symbol()).count() as u64;
        let max_sum = terms * if op == Op::Add { 18 } else { 81 } + max_carry;
        if pad == Scratchpad::Aligned {
            let (wc, ws) = (max_carry.to_string().len(), max_sum.to_string().len());
            steps.push(format!("{text}+{carry:0>wc$}={s:0>ws$}<step>"));
        } else {
            steps.push(format!("{text}+{carry}={s}<step>"));
        }
        max_carry = max_sum / 10;
        carry = s / 10;
    }
    if pad == Scratchpad::Msd {
        steps.reverse();
    }
    let answer = op.apply(a, b).unwrap();
    match pad {
        Scratchpad::None => answer,
        _ => format!("{}={answer}", steps.concat()),
    }
}

#[test]
fn the_documented_examples_are_legal_answers() {
    let add = env("addition");
    let s = finish(write(&add, "347+85", "432"));
    assert_eq!(vocab::decode(s.tokens()), "<bos>347+85<sep>432<eos>");
    assert_eq!(add.answer(&s), "432");
    assert_eq!(s.rules_value(), None);

    for (spec, prompt, text) in [
        ("addition:scratchpad=lsd", "347+85", "7+5+0=12<step>4+8+1=13<step>3+0+1=4<step>=432"),
        ("addition:scratchpad=msd", "347+85", "3+0+1=4<step>4+8+1=13<step>7+5+0=12<step>=432"),
        ("multiplication:scratchpad=lsd", "12*34", "2*4+0=8<step>2*3+1*4+0=10<step>1*3+1=4<step>=408"),
        ("addition:scratchpad=aligned", "347+85", "7+5+0=12<step>4+8+1=13<step>3+0+1=04<step>=432"),
        (
            "multiplication:scratchpad=aligned",
            "12*34",
            "2*4+0=08<step>2*3+1*4+0=010<step>1*3+01=04<step>=408",
        ),
    ] {
        let e = env(spec);
        let (a, b) = prompt.split_once(e.op().symbol()).unwrap();
        assert_eq!(teacher(e.op(), a, b, e.scratchpad()), text);
        let s = finish(write(&e, prompt, text));
        assert_eq!(e.answer(&s), &text[text.len() - 3..], "{spec}");
        assert_eq!(s.rules_value(), None, "a scratchpad does not let the rules check a sum");
        let task = e.task("t", prompt, &serde_json::Value::Null).unwrap();
        assert!(e.grade(&task, &e.answer(&s)).correct);
    }
}

#[test]
fn scratchpad_copies_are_forced_and_results_are_free() {
    let e = env("addition:scratchpad=lsd");
    let mut s = e.start("347+85").unwrap();
    let mut legal = Vec::new();
    s.legal_actions(&mut legal);
    assert_eq!(legal, vec![vocab::digit(7)], "the first operand digit is copied from the prompt");
    let s2 = write(&e, "347+85", "7+5+");
    s2.legal_actions(&mut legal);
    assert_eq!(legal, vec![vocab::digit(0)], "no carry into the first column");
    let s3 = write(&e, "347+85", "7+5+0=");
    s3.legal_actions(&mut legal);
    assert_eq!(legal.len(), 10, "any column sum is the policy's to write: {legal:?}");
    s = write(&e, "347+85", "7+5+0=3<step>4+8+");
    s.legal_actions(&mut legal);
    assert_eq!(legal, vec![vocab::digit(0), vocab::digit(1)], "a carry is 0 or 1, even a wrong one");
    assert!(!s.at_step_boundary());
    let s = write(&e, "347+85", "7+5+0=3<step>");
    assert!(s.at_step_boundary());
    assert!(e.start("347+85").unwrap().at_step_boundary());
}

#[test]
fn teacher_scratchpads_fit_the_grammar_up_to_twenty_digits() {
    let mut rng = item_rng(1, 2, 3);
    for op in [Op::Add, Op::Mul] {
        for pad in [Scratchpad::None, Scratchpad::Lsd, Scratchpad::Msd, Scratchpad::Aligned] {
            let e = Arith::new(op, 1, 20, pad).unwrap();
            for i in 0..60u32 {
                let (da, db) = (1 + i % 20, 1 + (i * 7) % 20);
                let a = bignum::text(&random_operand(&mut rng, da));
                let b = bignum::text(&random_operand(&mut rng, db));
                let prompt = format!("{a}{}{b}", op.symbol());
                let s = finish(write(&e, &prompt, &teacher(op, &a, &b, pad)));
                assert!(
                    s.tokens().len() - prompt.len() - 2 <= e.max_actions(),
                    "{prompt} longer than max_actions"
                );
                let task = e.task("t", &prompt, &serde_json::Value::Null).unwrap();
                assert!(e.grade(&task, &e.answer(&s)).correct, "{prompt}: {}", e.answer(&s));
            }
        }
    }
}

#[test]
fn hinted_states_force_the_worked_solution_and_replay_as_unhinted_attempts() {
    for op in [Op::Add, Op::Mul] {
        for pad in [Scratchpad::Lsd, Scratchpad::Msd, Scratchpad::Aligned] {
            let e = Arith::new(op, 1, 12, pad).unwrap();
            for i in 0..40u64 {
                let task = e.generate(9, i, (i % 12) as u32);
                let mut h = e.hinted_start(&task).expect("a scratchpad env offers a hint");
                assert_eq!(h.tokens(), e.start(&task.prompt).unwrap().tokens(), "the hint adds no tokens");
                // Every token is forced, and they spell the worked solution.
                let mut legal = Vec::new();
                h.legal_actions(&mut legal);
                while legal.len() == 1 {
                    h.apply(legal[0]);
                    h.legal_actions(&mut legal);
                }
                assert!(h.is_terminal(), "{}: nothing is left to choose", task.prompt);
                let (a, b) = task.prompt.split_once(op.symbol()).unwrap();
                let want = teacher(op, a, b, pad);
                assert_eq!(vocab::decode(crate::answer_tokens(h.tokens())), want, "{}", task.prompt);
                // The same tokens are a legal plain attempt, graded right.
                let plain = finish(write(&e, &task.prompt, &want));
                assert_eq!(plain.tokens(), h.tokens());
                assert!(e.grade(&task, &e.answer(&h)).correct);
            }
        }
        assert!(Arith::new(op, 1, 3, Scratchpad::None).unwrap().hinted_start(&task_of(op)).is_none());
    }
}

fn task_of(op: Op) -> Task {
    Arith::new(op, 1, 3, Scratchpad::None).unwrap().generate(0, 0, 0)
}

#[test]
fn answers_have_no_leading_zeros_and_a_bounded_length() {
    let e = env("addition");
    let mut legal = Vec::new();
    let s = write(&e, "5+7", "0");
    s.legal_actions(&mut legal);
    assert_eq!(legal, vec![vocab::EOS]);
    let s = write(&e, "5+7", "99");
    s.legal_actions(&mut legal);
    assert_eq!(legal, vec![vocab::EOS], "a sum of one-digit numbers has at most two digits");
    let e = env("multiplication");
    let s = write(&e, "99*99", "9999");
    s.legal_actions(&mut legal);
    assert_eq!(legal, vec![vocab::EOS]);
    assert_eq!(env("addition:digits=1-6").max_actions(), 8);
    assert_eq!(env("multiplication:digits=1-3").max_actions(), 7);
    assert_eq!(env("addition:digits=1-6,scratchpad=lsd").max_actions(), 63);
    assert_eq!(env("multiplication:digits=1-3,scratchpad=lsd").max_actions(), 75);
    assert_eq!(env("multiplication:digits=1-20,scratchpad=msd").max_actions(), 1945);
}

#[test]
fn grade_checks_the_exact_value_and_names_what_is_wrong() {
    let e = env("multiplication:digits=1-20");
    let t = e.task("t", "99999999999999999999*99999999999999999999", &serde_json::Value::Null).unwrap();
    assert!(e.grade(&t, "9999999999999999999800000000000000000001").correct);
    assert!(e.grade(&t, " 09999999999999999999800000000000000000001\n").correct, "leading zeros tolerated");
    let g = e.grade(&t, "9999999999999999999800000000000000000000");
    assert!(!g.correct && g.reward == 0.0 && g.reason.unwrap().contains("wrong"));
    assert!(e.grade(&t, "").reason.unwrap().contains("empty"));
    let r = e.grade(&t, "12a4").reason.unwrap();
    assert!(r.contains("'a'") && r.contains("byte 2"), "{r}");
    assert!(e.grade(&t, "-1").reason.unwrap().contains("'-'"));
}

#[test]
fn newest_levels_give_every_sum_an_operand_of_the_levels_length() {
    let e = env("addition:digits=2-6,levels=newest");
    assert_eq!(e.curriculum_levels(), 5);
    let mut both = 0;
    let mut left_longer = 0;
    let mut right_longer = 0;
    for i in 0..600 {
        let t = e.generate(3, i, 3);
        assert_eq!(t, e.generate(3, i, 3));
        let (a, b) = t.prompt.split_once('+').unwrap();
        assert_eq!(a.len().max(b.len()), 5, "level 3 of 2-6 is a 5-digit sum: {}", t.prompt);
        assert!(a.len().min(b.len()) >= 2, "{}", t.prompt);
        both += usize::from(a.len() == b.len());
        left_longer += usize::from(a.len() > b.len());
        right_longer += usize::from(a.len() < b.len());
    }
    // The other operand is uniform over 2..=5 digits and either side is the longer one.
    assert!((100..=200).contains(&both), "two 5-digit operands in {both} of 600");
    assert!(left_longer > 150 && right_longer > 150, "{left_longer} {right_longer}");
    // The default draws both lengths up to the level's; its spec does not name `levels`.
    let upto = env("addition:digits=2-6");
    let max5 = (0..600).filter(|&i| upto.generate(3, i, 3).prompt.split('+').any(|x| x.len() == 5)).count();
    assert!(max5 < 500, "upto: {max5} of 600 have a 5-digit operand");
    assert_eq!(e.spec(), "addition:digits=2-6,scratchpad=none,levels=newest");
    assert_eq!(env(&e.spec()), e);
    assert_ne!(e, upto);
}

#[test]
fn bad_specs_and_prompts_are_errors_naming_the_problem() {
    for (spec, word) in [
        ("addition:digits=0-3", "digits"),
        ("addition:digits=5-2", "digits"),
        ("addition:digits=1-31", "digits"),
        ("multiplication:digits=x", "digits"),
        ("addition:scratchpad=rev", "scratchpad"),
        ("addition:levels=all", "levels"),
        ("addition:carry=1", "carry"),
    ] {
        let e = spec.parse::<crate::AnyEnv>().unwrap_err().to_string();
        assert!(e.contains(word), "{spec}: {e}");
    }
    let e = env("addition:digits=1-6");
    for (prompt, word) in [
        ("12*34", "addition"),
        ("", "347+85"),
        ("1+", "347+85"),
        ("+1", "347+85"),
        ("1+2+3", "347+85"),
        (" 1+2", "347+85"),
        ("007+1", "leading zero"),
        ("1234567+1", "7 digits"),
        ("٣+1", "347+85"),
    ] {
        let err = e.start(prompt).unwrap_err().to_string();
        assert!(err.contains(word), "{prompt:?}: {err}");
        assert!(e.task("t", prompt, &serde_json::Value::Null).is_err());
    }
    assert!(env("multiplication").start("12+34").unwrap_err().to_string().contains("12*34"));
}

#[test]
fn task_records_recompute_the_truth_and_reject_a_wrong_answer_field() {
    let e = env("addition");
    let t = e.task("a", "347+85", &serde_json::json!({"answer": "432"})).unwrap();
    assert_eq!(t.truth.to_json_fields()["answer"], "432");
    assert!(e.task("a", "347+85", &serde_json::json!({"answer": 432})).is_ok());
    let err = e.task("a", "347+85", &serde_json::json!({"answer": "431"})).unwrap_err().to_string();
    assert!(err.contains("431") && err.contains("432"), "{err}");
}

#[test]
fn generation_is_deterministic_by_level_and_never_held_out() {
    let e = env("addition:digits=3-6");
    assert_eq!(e.curriculum_levels(), 4);
    for i in 0..200 {
        let t = e.generate(5, i, 0);
        assert_eq!(t, e.generate(5, i, 0));
        assert!(t.prompt.split('+').all(|x| x.len() == 3), "level 0 is 3-digit: {}", t.prompt);
        let t = e.generate(5, i, 1);
        assert!(t.prompt.split('+').all(|x| (3..=4).contains(&x.len())), "{}", t.prompt);
        let t = e.generate(5, i, 99);
        assert!(t.prompt.split('+').all(|x| (3..=6).contains(&x.len())), "{}", t.prompt);
    }
    assert_ne!(e.generate(5, 0, 3), e.generate(6, 0, 3));
    assert_ne!(e.generate(5, 0, 3).prompt, e.generate(5, 1, 3).prompt);

    // One digit: 20 of the 100 pairs are held out; training draws only the other 80, and all.
    for op in [Op::Add, Op::Mul] {
        let e = Arith::new(op, 1, 1, Scratchpad::None).unwrap();
        let held: HashSet<String> = e.held_out().into_iter().map(|t| t.prompt).collect();
        assert_eq!(held.len(), 20);
        let drawn: HashSet<String> = (0..3000).map(|i| e.generate(0, i, 0).prompt).collect();
        assert!(drawn.is_disjoint(&held));
        assert_eq!(drawn.len(), 80, "{op:?}");
    }
}

#[test]
fn held_out_suites_match_their_generator_and_filter_by_digits() {
    for (op, text) in [(Op::Add, ADDITION_SUITE), (Op::Mul, MULTIPLICATION_SUITE)] {
        let want: String = test_suite(op).iter().map(|t| crate::suite::task_line(t) + "\n").collect();
        assert!(
            text == want,
            "suites/{}.test.jsonl differs from test_suite(); the file is the contract: if the \
             generator changed, restore it; to write a new suite run \
             `cargo run -p ponder-env --example write_math_suites`",
            op.name()
        );
        let all = suite_tasks(op);
        assert_eq!(all.len(), 20 + 19 * 100);
        let prompts: HashSet<&str> = all.iter().map(|t| t.prompt.as_str()).collect();
        assert_eq!(prompts.len(), all.len(), "prompts are distinct");
    }
    assert_eq!(env("addition").held_out().len(), 20 + 5 * 100);
    assert_eq!(env("multiplication").held_out().len(), 20 + 2 * 100);
    let long = env("addition:digits=12-20").held_out();
    assert_eq!(long.len(), 900);
    assert!(long.iter().all(|t| t.prompt.len() >= 25));
    assert!(long[0].id.starts_with("test-d12-"));
}

#[test]
fn conforms_in_every_format() {
    for spec in [
        "addition:digits=1-3,scratchpad=lsd",
        "addition:digits=1-20,scratchpad=msd",
        "multiplication:digits=1-6,scratchpad=lsd",
        "multiplication:digits=1-1,scratchpad=msd",
        "addition:digits=1-8,scratchpad=aligned,levels=newest",
        "multiplication:digits=1-4,scratchpad=aligned",
        "multiplication:digits=18-20",
    ] {
        conformance::check(&env(spec), 20);
    }
}

#[test]
fn specs_round_trip_with_every_parameter() {
    assert_eq!(env("addition").spec(), "addition:digits=1-6,scratchpad=none");
    assert_eq!(env("multiplication").spec(), "multiplication:digits=1-3,scratchpad=none");
    let e = env("multiplication:scratchpad=msd,digits=2-4");
    assert_eq!(env(&e.spec()), e);
}

proptest::proptest! {
    #[test]
    fn arbitrary_prompts_and_answers_never_panic(text in "\\PC{0,30}", digits in "[0-9+*]{0,30}") {
        for e in [env("addition:scratchpad=lsd"), env("multiplication:digits=1-4")] {
            for t in [&text, &digits] {
                let _ = e.start(t);
                let _ = e.task("t", t, &serde_json::Value::Null);
                let g = e.grade(&e.generate(0, 0, 0), t);
                proptest::prop_assert_eq!(g.correct, g.reward == 1.0);
            }
        }
    }
}
