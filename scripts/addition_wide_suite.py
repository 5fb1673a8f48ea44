#!/usr/bin/env python3
"""A wider addition test than the 520-sum held-out suite, for a tighter interval on accuracy.

Writes JSONL tasks for `ponder eval --tasks`: N sums per operand length, both operands of that
length (as the held-out suite draws them: a leading digit of 1-9, 0-9 for one digit), drawn with
Python's own generator from `--seed`, so the file does not depend on Ponder's sampler. Sums in
the held-out suite are left out. Short lengths repeat sums the training generator also drew
(there are only 8,100 two-digit pairs); from 4 digits on, overlap with training is negligible.

    python3 scripts/addition_wide_suite.py --per-length 1000 --seed 1 > /tmp/addition-wide.jsonl
    ./target/release/ponder eval --checkpoint results/addition-curriculum/checkpoints/latest \
        --tasks /tmp/addition-wide.jsonl --mode system1 --out /tmp/addition-wide.eval.jsonl
"""

import argparse
import json
import os
import random

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def operand(rng, digits):
    lo = 10 ** (digits - 1) if digits > 1 else 0
    return rng.randint(lo, 10**digits - 1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--per-length", type=int, default=1000, help="sums per operand length")
    ap.add_argument("--digits", default="1-6", help="operand lengths, LO-HI")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    lo, hi = (int(x) for x in args.digits.split("-"))
    with open(os.path.join(ROOT, "environments", "suites", "addition.test.jsonl")) as f:
        held_out = {json.loads(line)["prompt"] for line in f if line.strip()}
    # One digit has only 100 sums: take each of those outside the suite once, not N with repeats.
    one_digit_left = 100 - sum(1 for p in held_out if len(p) == 3)
    rng = random.Random(args.seed)
    for d in range(lo, hi + 1):
        seen = set()
        want = min(args.per_length, one_digit_left) if d == 1 else args.per_length
        tries = 0
        while len(seen) < want and tries < 100 * want:
            tries += 1
            a, b = operand(rng, d), operand(rng, d)
            prompt = f"{a}+{b}"
            if prompt in held_out or prompt in seen:
                continue
            seen.add(prompt)
            print(json.dumps({"id": f"wide-d{d:02}-{len(seen) - 1:04}", "prompt": prompt, "answer": str(a + b)}))


if __name__ == "__main__":
    main()
