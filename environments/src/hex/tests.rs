//! Rules tests for Hex; the solver's tests live beside it.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::*;

fn pos(size: usize, history: &str) -> HexState {
    Hex::new(size).unwrap().start(history).unwrap()
}

fn names(tokens: &[Token]) -> Vec<&'static str> {
    tokens.iter().map(|&t| vocab::symbol(t)).collect()
}

fn board(diagram: &str) -> HexState {
    HexState::from_diagram(diagram).unwrap_or_else(|e| panic!("{e}\n{diagram}"))
}

#[test]
fn cells_are_named_as_hexgui_writes_them() {
    let p = pos(11, "a1 k11 c2");
    assert_eq!(names(p.tokens()), ["<bos>", "a1", "k11", "c2"]);
    assert_eq!((p.at(0, 0), p.at(10, 10), p.at(1, 2)), (Some(0), Some(1), Some(0)));
}

#[test]
fn legal_actions_are_the_empty_cells_sorted_by_token() {
    let mut legal = Vec::new();
    pos(3, "b2 a1").legal_actions(&mut legal);
    assert_eq!(names(&legal), ["b1", "c1", "a2", "c2", "a3", "b3", "c3"]);
    pos(11, "").legal_actions(&mut legal);
    assert_eq!(legal.len(), 121);
    assert!(legal.windows(2).all(|w| w[0] < w[1]));
}

#[test]
fn neighbours_follow_the_rhombus() {
    let cells = |set: u128| {
        let mut out = Vec::new();
        for i in 0..MAX_CELLS {
            if set >> i & 1 == 1 {
                out.push(vocab::cell_name(i / MAX_SIDE, i % MAX_SIDE));
            }
        }
        out
    };
    // b2 touches its row, its column, c1 above-right and a3 below-left.
    assert_eq!(cells(neighbours(MAX_SIDE + 1, 3)), ["b1", "c1", "a2", "c2", "a3", "b3"]);
    // The acute corners have two neighbours, the obtuse ones three.
    assert_eq!(cells(neighbours(0, 3)), ["b1", "a2"]);
    assert_eq!(cells(neighbours(2, 3)), ["b1", "b2", "c2"]);
    // No wrapping from the last column into the next row on the largest board.
    assert_eq!(cells(neighbours(MAX_SIDE + 10, 11)), ["k1", "j2", "j3", "k3"]);
}

#[test]
fn x_wins_by_joining_top_and_bottom() {
    let p = pos(3, "a1 b1 a2 b2");
    assert!(!p.is_terminal());
    let p = pos(3, "a1 b1 a2 b2 a3");
    assert_eq!((p.winner(), p.rules_value()), (Some(0), Some(1.0)));
    let mut legal = vec![1];
    p.legal_actions(&mut legal);
    assert!(legal.is_empty());
}

#[test]
fn o_wins_by_joining_left_and_right() {
    // O: a2 b2 c1 (c1 touches b2 above-right).
    let p = pos(3, "a1 a2 b1 b2 a3 c1");
    assert_eq!((p.winner(), p.rules_value()), (Some(1), Some(-1.0)), "\n{}", p.render());
}

#[test]
fn the_long_diagonal_is_not_adjacent() {
    // X a1 a2 and b3: a2 and b3 do not touch, so the top and bottom groups stay apart.
    let p = pos(3, "a1 c1 a2 c2 b3");
    assert!(!p.is_terminal(), "\n{}", p.render());
    // But c2 and b3 touch: X c1 c2 b3 joins top to bottom.
    let p = pos(3, "c1 a1 c2 a2 b3");
    assert_eq!(p.winner(), Some(0), "\n{}", p.render());
}

#[test]
fn snake_shaped_chains_win_for_x() {
    let p = board(
        "
        X O O O O
         X X X X .
          O O O X .
           O X X X .
            O X . . .
        ",
    );
    assert_eq!(p.winner(), Some(0), "\n{}", p.render());
    // The same snake joined in its middle, d3 last: the two halves meet only then.
    let history = "a1 b1 a2 c1 b2 d1 c2 e1 d2 a3 d4 b3 c4 c3 b4 a4 b5 a5";
    let before = pos(5, history);
    assert!(!before.is_terminal(), "\n{}", before.render());
    let mut after = before;
    after.apply(vocab::cell(2, 3));
    assert_eq!(after.rules_value(), Some(1.0), "\n{}", after.render());
}

#[test]
fn snake_shaped_chains_win_for_o() {
    let p = board(
        "
        X . X X X
         O O . O O
          . O X O .
           X O O O .
            X . X . X
        ",
    );
    assert_eq!(p.to_play(), 0);
    assert_eq!((p.winner(), p.rules_value()), (Some(1), Some(-1.0)), "\n{}", p.render());
}

#[test]
fn the_edge_win_agrees_with_a_flood_fill_on_random_games() {
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let mut legal = Vec::new();
    for n in [3, 5, 8, 11] {
        for _ in 0..30 {
            let mut s = HexState::new(n);
            while !s.is_terminal() {
                s.legal_actions(&mut legal);
                s.apply(legal[rng.random_range(0..legal.len())]);
                let mover = 1 - s.to_play();
                assert_eq!(s.is_terminal(), connects(s.stones[mover], n, mover), "\n{}", s.render());
            }
        }
    }
}

#[test]
fn a_full_board_has_exactly_one_winner() {
    // The Hex theorem, on random colourings of whole boards.
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    for (n, &board) in BOARD_MASKS.iter().enumerate().skip(MIN_SIZE) {
        for _ in 0..50 {
            let x: u128 = rng.random::<u128>() & board;
            let o = board & !x;
            assert!(connects(x, n, 0) != connects(o, n, 1), "{n}x{n}: {x:#x}");
        }
    }
}

#[test]
fn render_draws_a_rhombus_and_reads_back() {
    let p = pos(3, "b2 a3 c1");
    let text = p.render();
    assert_eq!(text, "   a b c\n1  . . X\n 2  . X .\n  3  O . .\n");
    assert_eq!(board(&text).render(), text);
    // Two-digit row numbers stay aligned.
    let big = pos(11, "k11").render();
    assert!(big.starts_with("    a b c d e f g h i j k\n 1  . "), "{big}");
    assert!(big.ends_with("          11  . . . . . . . . . . X\n"), "{big}");
    assert_eq!(board(&big).render(), big);
}

#[test]
fn bad_moves_are_errors_naming_the_move() {
    let env = Hex::new(3).unwrap();
    for bad in ["d1", "a4", "a0", "", "1a", "b2x"] {
        let e = pos(3, "").parse_action(bad).unwrap_err();
        assert!(matches!(e, EnvError::BadMove(_)), "{bad:?}: {e}");
        assert!(e.to_string().contains(&format!("{bad:?}")), "{e}");
    }
    assert!(env.start("b2 b2").unwrap_err().to_string().contains("occupied"));
    let e = env.start("a1 b1 a2 b2 a3 c3").unwrap_err().to_string();
    assert!(e.contains("over") && e.contains("move 6"), "{e}");
}

#[test]
fn diagrams_that_no_game_reaches_are_errors() {
    let bad = |d: &str| HexState::from_diagram(d).unwrap_err().to_string();
    assert!(bad("X X .\n. . .\n. . .\n").contains("X = O"));
    assert!(bad("X .\n. .\n").contains("N rows"));
    assert!(bad("X . .\n. . .\n").contains("N rows"));
    // O has joined left and right, but X moved last.
    assert!(bad("X . X\nO O O\nX . X\n").contains("moved last"));
    // Two disjoint X chains: no single stone completed them.
    assert!(bad("X O O X\nX O O X\nX O O X\nX O . X\n").contains("single"));
}

#[test]
fn spec_names_the_size_and_checks_its_range() {
    let env: crate::AnyEnv = "hex:size=4".parse().unwrap();
    assert_eq!(env.spec(), "hex:size=4");
    assert_eq!("hex".parse::<crate::AnyEnv>().unwrap().spec(), "hex:size=5");
    for bad in ["hex:size=2", "hex:size=12", "hex:size=x"] {
        let e = bad.parse::<crate::AnyEnv>().unwrap_err().to_string();
        assert!(e.contains("size") && e.contains("3..=11"), "{e}");
    }
    assert!(Hex::new(12).is_err());
    assert_eq!(Hex::new(7).unwrap().max_actions(), 49);
}

#[test]
fn the_oracle_grades_3x3_and_4x4_only() {
    for n in [3, 4] {
        let env = Hex::new(n).unwrap();
        let oracle = env.oracle().unwrap();
        let graded = env.graded_positions(1, 20);
        assert_eq!(graded, env.graded_positions(1, 20));
        assert_eq!(graded.len(), 20);
        let boards: std::collections::HashSet<_> = graded.iter().map(|p| p.stones).collect();
        assert_eq!(boards.len(), 20, "graded positions are distinct");
        for p in &graded {
            assert!(!p.is_terminal());
            assert!(matches!(oracle.value(p), Some(1 | -1)));
            assert!(!oracle.optimal_actions(p).unwrap().is_empty());
        }
        // A state of another size is beyond this oracle, not a panic.
        assert_eq!(oracle.value(&HexState::new(5)), None);
    }
    let big = Hex::new(5).unwrap();
    assert!(big.oracle().is_none());
    assert!(big.graded_positions(1, 10).is_empty());
}

#[test]
fn hex_conforms_on_every_size() {
    for n in MIN_SIZE..=MAX_SIZE {
        crate::conformance::check(&Hex::new(n).unwrap(), 10);
    }
}
