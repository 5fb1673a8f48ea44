#!/usr/bin/env python3
"""PyTorch's equivalents of `benches/model.rs`, on the same machine, and the ratios.

The same model shape as Ponder's default policy (vocab 196, d_model 128, 4 layers, 4 heads,
block 256, tied LM head, value head d -> d -> 1): pre-LayerNorm, causal attention through
`scaled_dot_product_attention`, exact GELU.

    cargo bench --bench model                 # writes target/criterion/
    python3 scripts/bench_pytorch.py          # PyTorch numbers, then Rust / PyTorch ratios

Measures, at each of `--threads` intra-op thread counts (default 1 and 2; ratios use PyTorch's
best; on a loaded 2-core machine OpenMP's spinning threads make 2 far slower than 1):
  train        forward + backward + AdamW, batch 32 x 64 tokens       (tokens/s)
  forward      full forward, batch B x 32 tokens, B in 1, 16, 256     (tokens/s); compared with
               burn's full forward and with the CPU path (which computes the heads at the
               last position only, as search needs)
  cached leaf  one new position per sequence over a KV cache of 25 positions, batch B:
               PyTorch's KV-cached decoding, the counterpart of `tree_leaves` (leaves/s). It is
               the easier task: one contiguous cache per sequence, where the tree cache gathers
               each leaf's chain of rows from a shared arena

Skips cleanly (exit 0) where torch is not installed. Install it outside CI, e.g.
`pip install torch --index-url https://download.pytorch.org/whl/cpu` (CPU wheel, ~200 MB).
"""

import argparse
import glob
import json
import os
import sys
import time


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--threads", default="1,2", help="torch intra-op thread counts (default 1,2)")
    p.add_argument("--criterion-dir", default="target/criterion", help="criterion's output to compare with")
    p.add_argument("--vocab", type=int, default=196)
    p.add_argument("--quick", action="store_true", help="fewer repetitions")
    return p.parse_args()


def criterion_rates(root):
    """{(group, function, parameter): elements per second} from criterion's JSON output."""
    rates = {}
    for bench in glob.glob(os.path.join(root, "**", "new", "benchmark.json"), recursive=True):
        est = os.path.join(os.path.dirname(bench), "estimates.json")
        if not os.path.exists(est):
            continue
        with open(bench) as f:
            b = json.load(f)
        with open(est) as f:
            mean_ns = json.load(f)["mean"]["point_estimate"]
        elements = (b.get("throughput") or {}).get("Elements")
        if elements:
            key = (b["group_id"], b.get("function_id"), b.get("value_str"))
            rates[key] = elements / (mean_ns * 1e-9)
    return rates


def main():
    args = parse_args()
    try:
        import torch
        import torch.nn as nn
        import torch.nn.functional as F
    except ImportError:
        print("torch is not installed: skipping the PyTorch comparison")
        return 0

    torch.manual_seed(0)
    V, T_MAX, C, L, NH = args.vocab, 256, 128, 4, 4
    HD = C // NH

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln_1, self.ln_2 = nn.LayerNorm(C), nn.LayerNorm(C)
            self.c_attn, self.c_proj = nn.Linear(C, 3 * C), nn.Linear(C, C)
            self.fc, self.proj = nn.Linear(C, 4 * C), nn.Linear(4 * C, C)

        def forward(self, x, cache=None, pos=None):
            b, t, _ = x.shape
            q, k, v = self.c_attn(self.ln_1(x)).split(C, dim=2)
            q, k, v = (z.view(b, t, NH, HD).transpose(1, 2) for z in (q, k, v))  # [B, nh, T, hd]
            if cache is None:
                y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            else:  # one new position per row, written into a preallocated cache
                kc, vc = cache
                kc[:, :, pos : pos + 1] = k
                vc[:, :, pos : pos + 1] = v
                y = F.scaled_dot_product_attention(q, kc[:, :, : pos + 1], vc[:, :, : pos + 1])
            x = x + self.c_proj(y.transpose(1, 2).reshape(b, t, C))
            return x + self.proj(F.gelu(self.fc(self.ln_2(x))))

    class Gpt(nn.Module):
        def __init__(self):
            super().__init__()
            self.wte, self.wpe = nn.Embedding(V, C), nn.Embedding(T_MAX, C)
            self.blocks = nn.ModuleList(Block() for _ in range(L))
            self.ln_f = nn.LayerNorm(C)
            self.value_fc, self.value_out = nn.Linear(C, C), nn.Linear(C, 1)

        def forward(self, idx, caches=None, pos=0):
            t = idx.shape[1]
            x = self.wte(idx) + self.wpe(torch.arange(pos, pos + t))
            for i, blk in enumerate(self.blocks):
                x = blk(x, None if caches is None else caches[i], pos)
            h = self.ln_f(x)
            logits = h @ self.wte.weight.t()  # tied head
            value = torch.tanh(self.value_out(F.gelu(self.value_fc(h)))).squeeze(-1)
            return logits, value

    reps = 3 if args.quick else 10

    def measure(threads):
        """PyTorch's rate for every benchmark at `threads` threads."""
        torch.set_num_threads(threads)
        model = Gpt()
        params = sum(p.numel() for p in model.parameters())
        print(f"\nPyTorch {torch.__version__}, {threads} threads, {params} parameters")

        def timed(fn, n):
            fn()  # warm up
            start = time.perf_counter()
            for _ in range(n):
                fn()
            return (time.perf_counter() - start) / n

        results = {}
        # Training: batch 32 x 64, policy CE at every position + value MSE, AdamW.
        opt = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.95), weight_decay=0.1)
        idx = torch.randint(0, V, (32, 64))

        def train_step():
            logits, value = model(idx)
            loss = F.cross_entropy(logits[:, :-1].reshape(-1, V), idx[:, 1:].reshape(-1)) + (value**2).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()

        s = timed(train_step, reps)
        results[("model/train", "batch32x64", None)] = 32 * 64 / s
        print(f"train batch 32x64: {32 * 64 / s:10.0f} tokens/s ({s * 1e3:.1f} ms/step)")

        model.eval()
        with torch.inference_mode():
            for b in (1, 16, 256):
                x = torch.randint(0, V, (b, 32))
                s = timed(lambda: model(x), reps)
                results[("model/forward", "burn_flex", str(b))] = b * 32 / s
                print(f"forward batch {b:3d} x 32: {b * 32 / s:10.0f} tokens/s ({s * 1e3:.2f} ms)")
            for b in (1, 16, 256):
                prefix = 25
                caches = [
                    (torch.randn(b, NH, T_MAX, HD), torch.randn(b, NH, T_MAX, HD)) for _ in range(L)
                ]
                x = torch.randint(0, V, (b, 1))
                s = timed(lambda: model(x, caches, prefix), reps * 10)
                results[("model/tree_leaves", "cached", str(b))] = b / s
                print(f"cached leaf batch {b:3d}: {b / s:10.0f} leaves/s ({s * 1e3:.2f} ms/step)")
        return results

    results = {}
    for threads in [int(t) for t in args.threads.split(",")]:
        for key, rate in measure(threads).items():
            results[key] = max(rate, results.get(key, 0.0))

    rust = criterion_rates(args.criterion_dir)
    if not rust:
        print(f"no criterion results under {args.criterion_dir}: run `cargo bench --bench model` first")
        return 0
    print("\nRust / PyTorch's best (higher is better for Rust):")
    pairs = [
        (("model/train", "batch32x64", None), ("model/train", "batch32x64", None)),
        (("model/train", "batch32x64_autodiff", None), ("model/train", "batch32x64", None)),
    ]
    for b in ("1", "16", "256"):
        pairs.append((("model/forward", "burn_flex", b), ("model/forward", "burn_flex", b)))
        pairs.append((("model/forward", "cpu_path", b), ("model/forward", "burn_flex", b)))
        for fn in ("gemm_threads1", "gemm_threads2"):
            pairs.append((("model/tree_leaves", fn, b), ("model/tree_leaves", "cached", b)))
    pairs.append((("model/tree_leaves", "two_actors", "256"), ("model/tree_leaves", "cached", "256")))
    for rk, pk in pairs:
        if rk in rust and pk in results:
            name = "/".join(x for x in rk if x)
            print(f"  {name:38s} {rust[rk]:10.0f} vs {results[pk]:10.0f}  = {rust[rk] / results[pk]:5.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
