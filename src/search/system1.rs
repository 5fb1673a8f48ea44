//! System 1: the policy answering directly, one forward step per token — greedy, temperature
//! sampling, best-of-N (reranked by the value head or by the rules), and beam search.
//!
//! All decoders run many prompts in lockstep, one batched evaluator call per token step, with the
//! model's cache following each sequence (a child extends its parent). A forced token (the only
//! legal one) is appended without asking the model; the next call computes its position.

use std::time::Instant;

use ponder_env::{State, Token};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::compute::Compute;
use super::evaluator::{CacheId, Evaluations, Evaluator, Leaf, NO_CACHE};

/// A System 1 decoder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Decoder {
    /// The most probable legal token at every step.
    Greedy,
    /// Sampling from the policy at a temperature.
    Sample { temperature: f32 },
    /// `n` samples, keeping the best by `rerank`.
    BestOfN { n: u32, temperature: f32, rerank: Rerank },
    /// Beam search of `width` by total log-probability.
    Beam { width: u32 },
}

/// How best-of-N picks its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rerank {
    /// The model's value of each finished answer (its confidence that the answer is right).
    Value,
    /// The rules' check (game24's "equals 24", code's shown examples), then the value head.
    Rules,
}

/// One decoded answer.
#[derive(Debug, Clone)]
pub struct Decoded<S> {
    /// The final state (terminal, or cut at the step limit).
    pub state: S,
    /// Sum of the log-probabilities of the chosen tokens (forced tokens count 0).
    pub logprob: f32,
    /// The value head's judgement of the final state, where it was asked (best-of-N).
    pub value: Option<f32>,
    /// What decoding this prompt cost.
    pub compute: Compute,
    /// The evaluator's cache of a prefix of `state` (valid until `decode` returns).
    cache: CacheId,
}

/// One sequence being decoded.
#[derive(Debug, Clone)]
struct Seq<S> {
    state: S,
    cache: CacheId,
    logprob: f32,
    prompt: usize,
    compute: Compute,
}

/// Decodes every start state with `decoder`; `seed` fixes sampling. Returns one answer per start.
pub fn decode<S: State, E: Evaluator<S> + ?Sized>(
    starts: &[S],
    ev: &mut E,
    decoder: &Decoder,
    seed: u64,
) -> Vec<Decoded<S>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut caches = Vec::new();
    let result = match decoder {
        Decoder::Greedy => sample_all(starts, 1, 0.0, ev, &mut rng, &mut caches)
            .into_iter()
            .map(|mut v| v.remove(0))
            .collect(),
        Decoder::Sample { temperature } => sample_all(starts, 1, *temperature, ev, &mut rng, &mut caches)
            .into_iter()
            .map(|mut v| v.remove(0))
            .collect(),
        Decoder::BestOfN { n, temperature, rerank } => {
            // Every sample keeps its key/value cache until it is reranked: bound the samples in
            // flight (N = 4,096 on 32-task chunks, two threads, was killed for memory), a chunk of starts
            // at a time.
            let n = (*n).max(1) as usize;
            let mut best = Vec::with_capacity(starts.len());
            for chunk in starts.chunks((MAX_SAMPLES_IN_FLIGHT / n).max(1)) {
                let groups = sample_all(chunk, n, *temperature, ev, &mut rng, &mut caches);
                best.extend(best_of(groups, *rerank, ev, &mut caches));
                ev.release(&caches);
                caches.clear();
            }
            best
        }
        Decoder::Beam { width } => beam(starts, (*width).max(1) as usize, ev, &mut caches),
    };
    ev.release(&caches);
    result
}

/// Best-of-N: at most this many samples (each with its cache) decode at once, unless one start
/// alone asks for more.
const MAX_SAMPLES_IN_FLIGHT: usize = 2048;

/// Applies forced tokens (the only legal one) without the model.
fn advance_forced<S: State>(s: &mut S, legal: &mut Vec<Token>) {
    s.legal_actions(legal);
    while legal.len() == 1 {
        s.apply(legal[0]);
        s.legal_actions(legal);
    }
}

/// Samples `n` answers per start at `temperature` (0 = greedy), all in lockstep.
fn sample_all<S: State, E: Evaluator<S> + ?Sized>(
    starts: &[S],
    n: usize,
    temperature: f32,
    ev: &mut E,
    rng: &mut ChaCha8Rng,
    caches: &mut Vec<CacheId>,
) -> Vec<Vec<Decoded<S>>> {
    let mut seqs: Vec<Seq<S>> = starts
        .iter()
        .enumerate()
        .flat_map(|(p, s)| {
            (0..n).map(move |_| Seq {
                state: s.clone(),
                cache: NO_CACHE,
                logprob: 0.0,
                prompt: p,
                compute: Compute::default(),
            })
        })
        .collect();
    let mut legal: Vec<Vec<Token>> = vec![Vec::new(); seqs.len()];
    let mut out = Evaluations::default();
    loop {
        let mut active = Vec::new();
        for (i, s) in seqs.iter_mut().enumerate() {
            advance_forced(&mut s.state, &mut legal[i]);
            if !legal[i].is_empty() {
                active.push(i);
            }
        }
        if active.is_empty() {
            break;
        }
        let t0 = Instant::now();
        {
            let leaves: Vec<Leaf<'_, S>> = active
                .iter()
                .map(|&i| Leaf { state: &seqs[i].state, legal: &legal[i], parent: seqs[i].cache, keep: true })
                .collect();
            ev.evaluate(&leaves, &mut out);
        }
        let share = t0.elapsed().as_secs_f64() / active.len() as f64;
        let mut offset = 0;
        for (k, &i) in active.iter().enumerate() {
            let l = &legal[i];
            let p = &out.priors[offset..offset + l.len()];
            offset += l.len();
            let j = choose(p, temperature, rng);
            let s = &mut seqs[i];
            s.logprob += p[j].max(1e-30).ln();
            s.state.apply(l[j]);
            if out.caches[k] != NO_CACHE {
                caches.push(out.caches[k]);
            }
            s.cache = out.caches[k];
            s.compute.model_calls += 1;
            s.compute.forward_positions += out.positions[k] as u64;
            s.compute.seconds += share;
        }
    }
    let mut groups: Vec<Vec<Decoded<S>>> = (0..starts.len()).map(|_| Vec::with_capacity(n)).collect();
    for s in seqs {
        groups[s.prompt].push(Decoded {
            state: s.state,
            logprob: s.logprob,
            value: None,
            compute: s.compute,
            cache: s.cache,
        });
    }
    groups
}

/// Index of the chosen token: argmax at temperature 0, else a sample from p^(1/T).
fn choose(p: &[f32], temperature: f32, rng: &mut impl Rng) -> usize {
    if temperature <= 1e-6 {
        let mut best = 0;
        for (i, &x) in p.iter().enumerate() {
            if x > p[best] {
                best = i;
            }
        }
        return best;
    }
    let w: Vec<f64> = p.iter().map(|&x| (x.max(0.0) as f64).powf(1.0 / temperature as f64)).collect();
    let total: f64 = w.iter().sum();
    if total <= 0.0 {
        return rng.random_range(0..p.len());
    }
    let mut x = rng.random_range(0.0..total);
    for (i, wi) in w.iter().enumerate() {
        if x < *wi {
            return i;
        }
        x -= wi;
    }
    p.len() - 1
}

/// Scores every answer of every group with the value head (one batched call) and keeps the best.
fn best_of<S: State, E: Evaluator<S> + ?Sized>(
    groups: Vec<Vec<Decoded<S>>>,
    rerank: Rerank,
    ev: &mut E,
    caches: &mut Vec<CacheId>,
) -> Vec<Decoded<S>> {
    let flat: Vec<&Decoded<S>> = groups.iter().flatten().collect();
    let mut out = Evaluations::default();
    let t0 = Instant::now();
    {
        // The final states are terminal: no legal tokens, only a value is asked for.
        let leaves: Vec<Leaf<'_, S>> =
            flat.iter().map(|d| Leaf { state: &d.state, legal: &[], parent: d.cache, keep: false }).collect();
        ev.evaluate(&leaves, &mut out);
    }
    caches.extend(out.caches.iter().copied().filter(|&c| c != NO_CACHE));
    let share = t0.elapsed().as_secs_f64() / flat.len().max(1) as f64;
    let mut k = 0;
    groups
        .into_iter()
        .map(|g| {
            let mut total = Compute::default();
            let mut scored: Vec<(f32, Decoded<S>)> = Vec::with_capacity(g.len());
            for mut d in g {
                let v = out.values[k];
                d.compute.model_calls += 1;
                d.compute.forward_positions += out.positions[k] as u64;
                d.compute.seconds += share;
                k += 1;
                total += d.compute;
                let rules = match rerank {
                    Rerank::Rules => d.state.rules_value().unwrap_or(0.0),
                    Rerank::Value => 0.0,
                };
                d.value = Some(v);
                // Rules first (a checked answer beats any unchecked one), then the value head.
                scored.push((rules * 10.0 + v, d));
            }
            let mut best = scored
                .into_iter()
                .reduce(|a, b| if b.0 > a.0 { b } else { a })
                .expect("best-of-N has at least one sample")
                .1;
            best.compute = total;
            best
        })
        .collect()
}

/// A beam candidate: total log-probability, the beam it extends, and the token and cache that
/// extend it (None: a finished beam carried over).
type Candidate = (f32, usize, Option<(Token, CacheId)>);

/// Beam search by total log-probability, `width` beams per start, in lockstep.
fn beam<S: State, E: Evaluator<S> + ?Sized>(
    starts: &[S],
    width: usize,
    ev: &mut E,
    caches: &mut Vec<CacheId>,
) -> Vec<Decoded<S>> {
    let mut beams: Vec<Vec<Seq<S>>> = starts
        .iter()
        .enumerate()
        .map(|(p, s)| {
            vec![Seq {
                state: s.clone(),
                cache: NO_CACHE,
                logprob: 0.0,
                prompt: p,
                compute: Compute::default(),
            }]
        })
        .collect();
    let mut spent: Vec<Compute> = vec![Compute::default(); starts.len()];
    let mut out = Evaluations::default();
    let mut legal_buf: Vec<Token> = Vec::new();
    loop {
        // Forced tokens first; then collect the live (non-terminal) beams.
        let mut live: Vec<(usize, usize, Vec<Token>)> = Vec::new();
        for (p, bs) in beams.iter_mut().enumerate() {
            for (b, s) in bs.iter_mut().enumerate() {
                advance_forced(&mut s.state, &mut legal_buf);
                if !legal_buf.is_empty() {
                    live.push((p, b, legal_buf.clone()));
                }
            }
        }
        if live.is_empty() {
            break;
        }
        let t0 = Instant::now();
        {
            let leaves: Vec<Leaf<'_, S>> = live
                .iter()
                .map(|(p, b, l)| Leaf {
                    state: &beams[*p][*b].state,
                    legal: l,
                    parent: beams[*p][*b].cache,
                    keep: true,
                })
                .collect();
            ev.evaluate(&leaves, &mut out);
        }
        let share = t0.elapsed().as_secs_f64() / live.len() as f64;
        // Candidates per prompt: finished beams carry over; live ones extend by each legal token.
        let mut cands: Vec<Vec<Candidate>> = beams
            .iter()
            .map(|bs| {
                bs.iter()
                    .enumerate()
                    .filter(|(_, s)| s.state.is_terminal())
                    .map(|(b, s)| (s.logprob, b, None))
                    .collect()
            })
            .collect();
        let mut offset = 0;
        for (k, (p, b, l)) in live.iter().enumerate() {
            let pr = &out.priors[offset..offset + l.len()];
            offset += l.len();
            if out.caches[k] != NO_CACHE {
                caches.push(out.caches[k]);
            }
            spent[*p].model_calls += 1;
            spent[*p].forward_positions += out.positions[k] as u64;
            spent[*p].seconds += share;
            let base = beams[*p][*b].logprob;
            for (&t, &q) in l.iter().zip(pr) {
                if q > 0.0 {
                    cands[*p].push((base + q.ln(), *b, Some((t, out.caches[k]))));
                }
            }
        }
        for (p, mut c) in cands.into_iter().enumerate() {
            // Highest log-probability first; ties by beam then token, for determinism.
            c.sort_by(|x, y| {
                y.0.total_cmp(&x.0).then(x.1.cmp(&y.1)).then(x.2.map(|a| a.0).cmp(&y.2.map(|a| a.0)))
            });
            c.truncate(width);
            beams[p] = c
                .into_iter()
                .map(|(lp, b, ext)| {
                    let mut s = beams[p][b].clone();
                    s.logprob = lp;
                    if let Some((t, cache)) = ext {
                        s.state.apply(t);
                        s.cache = cache;
                    }
                    s
                })
                .collect();
        }
    }
    beams
        .into_iter()
        .zip(spent)
        .map(|(bs, compute)| {
            let best = bs.into_iter().next().expect("a beam survives");
            Decoded { state: best.state, logprob: best.logprob, value: None, compute, cache: NO_CACHE }
        })
        .collect()
}
