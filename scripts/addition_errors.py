#!/usr/bin/env python3
"""Where does an addition policy's worked solution first go wrong? System 1 traces, graded.

Decodes each held-out sum greedily under the environment's legal moves (operand digits forced,
carries, column sums and the answer free, as `ponder eval --mode system1` does) with the
checkpoint's exported weights (`weights.safetensors`, read without the safetensors library), and
compares the trace with the true worked solution step by step. For each sum whose answer is
wrong (what `ponder eval` grades), the first wrong element is a carry, a column sum, or the
final answer itself (every step right, the answer read back wrong); sums answered right from a
wrong worked solution are counted apart.

    python3 scripts/addition_errors.py results/addition-curriculum/checkpoints/latest

Needs PyTorch (pip install torch; not needed by the tests). Handles `scratchpad=lsd` and
`scratchpad=aligned`. Prints a few wrong sums and a markdown table per operand length.
"""
import argparse, json, struct, sys, collections
import numpy as np, torch, torch.nn.functional as F
ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
ap.add_argument('checkpoint', help='a checkpoint directory of an addition run (it holds weights.safetensors)')
ap.add_argument('--suite', default='environments/suites/addition.test.jsonl', help='held-out sums (JSONL)')
ap.add_argument('--max-digits', type=int, default=6, help='grade sums of at most this many digits')
ap.add_argument('--show', type=int, default=12, help='print this many wrong sums')
args = ap.parse_args()
ck, suite = args.checkpoint, args.suite
env = json.load(open(ck + '/meta.json'))['env']
if not env.startswith('addition:') or not any(f'scratchpad={p}' in env for p in ('lsd', 'aligned')):
    sys.exit(f'{ck}: trained on {env}; this script reads addition with scratchpad=lsd or aligned')
aligned = 'scratchpad=aligned' in env
b = open(ck + '/weights.safetensors', 'rb').read()
n = struct.unpack('<Q', b[:8])[0]; h = json.loads(b[8:8 + n]); data = b[8 + n:]
W = {k: torch.from_numpy(np.frombuffer(data[v['data_offsets'][0]:v['data_offsets'][1]], dtype=np.float32).reshape(v['shape']).copy()) for k, v in h.items() if k != '__metadata__'}
cfg = json.loads(h['__metadata__']['ponder.config']); C, L, NH = cfg['d_model'], cfg['n_layer'], cfg['n_head']
sym = json.load(open(ck + '/tokenizer.json'))['symbols']; tid = {s: i for i, s in enumerate(sym)}
def fwd(toks):
    x = W['wte.weight'][toks] + W['wpe.weight'][:len(toks)]
    T = len(toks); mask = torch.triu(torch.ones(T, T, dtype=torch.bool), 1)
    for l in range(L):
        p = f'blocks.{l}.'
        a = F.layer_norm(x, (C,), W[p + 'ln_1.gamma'], W[p + 'ln_1.beta'], 1e-5)
        q, k, v = (a @ W[p + 'attn.c_attn.weight'] + W[p + 'attn.c_attn.bias']).split(C, -1)
        hd = C // NH
        q, k, v = [t.view(T, NH, hd).transpose(0, 1) for t in (q, k, v)]
        s = (q @ k.transpose(-1, -2)) / hd ** 0.5
        s = s.masked_fill(mask, float('-inf')).softmax(-1)
        y = (s @ v).transpose(0, 1).reshape(T, C)
        x = x + y @ W[p + 'attn.c_proj.weight'] + W[p + 'attn.c_proj.bias']
        a = F.layer_norm(x, (C,), W[p + 'ln_2.gamma'], W[p + 'ln_2.beta'], 1e-5)
        x = x + F.gelu(a @ W[p + 'mlp.c_fc.weight'] + W[p + 'mlp.c_fc.bias']) @ W[p + 'mlp.c_proj.weight'] + W[p + 'mlp.c_proj.bias']
    x = F.layer_norm(x, (C,), W['ln_f.gamma'], W['ln_f.beta'], 1e-5)
    return x[-1] @ W['wte.weight'].T
def template(a, b):
    n = max(len(a), len(b)); at = lambda s, i: int(s[len(s) - 1 - i]) if i < len(s) else 0
    g = []; mc = 0
    for k in range(n):
        ms = 18 + mc
        g += [('lit', str(at(a, k))), ('lit', '+'), ('lit', str(at(b, k))), ('lit', '+'), ('num', mc, 'carry'), ('lit', '='), ('num', ms, 'sum'), ('lit', '<step>')]
        mc = ms // 10
    g += [('lit', '='), ('num', 10 ** (n + 1) - 1, 'answer'), ('lit', '<eos>')]
    return g
def decode(a, b):
    toks = [tid['<bos>']] + [tid[c] for c in f'{a}+{b}'] + [tid['<sep>']]
    out = []; g = template(a, b)
    for i, e in enumerate(g):
        if e[0] == 'lit':
            toks.append(tid[e[1]]); continue
        mx = e[1]; width = len(str(mx)); w = ''
        while True:
            fixed = aligned and e[2] != 'answer'
            legal = []
            if fixed:
                if len(w) == width: break
                legal = [d for d in range(10) if int((w + str(d)).ljust(width, '0')) <= mx]
            else:
                if w != '0':
                    k = len(w); M = str(mx)
                    if k + 1 < len(M): legal = list(range(10))
                    elif k + 1 > len(M): legal = []
                    else:
                        lim = 9 if w < M[:k] else (int(M[k]) if w == M[:k] else -1)
                        legal = list(range(lim + 1))
            ends = (not fixed) and len(w) > 0
            logits = fwd(torch.tensor(toks))
            cand = [tid[str(d)] for d in legal] + ([tid[g[i + 1][1]]] if ends else [])
            best = max(cand, key=lambda t: logits[t].item())
            if sym[best] not in '0123456789': break
            w += sym[best]; toks.append(best)
        out.append((e[2], int(w)))
    return out
def truth(a, b):
    n = max(len(a), len(b)); at = lambda s, i: int(s[len(s) - 1 - i]) if i < len(s) else 0
    out = []; c = 0
    for k in range(n):
        s = at(a, k) + at(b, k) + c; out += [('carry', c), ('sum', s)]; c = s // 10
    return out + [('answer', int(a) + int(b))]
kinds = collections.Counter(); total = collections.Counter(); lucky = collections.Counter(); shown = 0
for line in open(suite):
    r = json.loads(line); a, b = r['prompt'].split('+')
    if len(a) > args.max_digits: continue
    total[len(a)] += 1
    got, want = decode(a, b), truth(a, b)
    if got == want: continue
    if got[-1] == want[-1]:
        lucky[len(a)] += 1  # graded right (only the answer is graded), from a wrong worked solution
        continue
    first = next(i for i, (x, y) in enumerate(zip(got, want)) if x != y)
    kind = got[first][0]
    kinds[(len(a), kind)] += 1
    if shown < args.show:
        print(r['prompt'], 'first wrong:', kind, 'got', got[first][1], 'want', want[first][1], '| answer', got[-1][1]); shown += 1
print('| digits | sums | answer wrong | first wrong: a carry | a column sum | the answer (steps right) | answer right, steps wrong |')
print('| ---: | ---: | ---: | ---: | ---: | ---: | ---: |')
for d in sorted(total):
    wrong = sum(v for (dd, _), v in kinds.items() if dd == d)
    print(f'| {d} | {total[d]} | {wrong} | ' + ' | '.join(str(kinds[(d, k)]) for k in ('carry', 'sum', 'answer')) + f' | {lucky[d]} |')
