//! One-pixel attack (Su, Vargas & Sakurai, "One Pixel Attack for Fooling Deep Neural Networks", IEEE TEVC 2019):
//! differential evolution over `k = params.pixels` pixels.
//!
//! A candidate is `k` tuples `(col, row, v₁ … v_C)`: the pixel and its new value per channel (grayscale: one
//! value in `[0, 1]`). DE/rand/1 without crossover, as in the paper:
//!
//! ```text
//! child_i = x_{r1} + F·(x_{r2} − x_{r3}),   r1, r2, r3, i distinct,   F = params.mutation (0.5)
//! ```
//!
//! a gene that leaves its bounds is redrawn uniformly inside them (as SciPy's DE does); a child replaces its parent
//! when its fitness is lower. Fitness is the probability of the true class (untargeted) or minus that of the target
//! (targeted). The population (`params.population`, default 100; the paper uses 400) is initialised uniformly and
//! evaluated in batches. The search stops at the first generation with a successful child, or when the next
//! generation would exceed `params.max_queries` (the clean evaluation included).
//!
//! This is an L0 attack: `‖δ‖₀ ≤ k·C`. η caps each changed value: `v ∈ [xᵢ − η, xᵢ + η] ∩ [0, 1]` (η = 1 is the
//! paper's attack), so `‖δ‖∞ ≤ η` too; only [`super::Norm::Linf`] is accepted.

use ndarray::Array4;
use rand_chacha::ChaCha8Rng;

use super::simba::prob_objective;
use super::{norms, report, Attack, AttackKind, Context, Crafted, Norm, Progress};
use crate::error::{Error, Result};

/// One-pixel attack by differential evolution (`"one_pixel"`).
pub struct OnePixel;

/// Images per forward pass when evaluating a population.
const BATCH: usize = 64;

impl Attack for OnePixel {
    fn name(&self) -> &'static str {
        "one_pixel"
    }
    fn kind(&self) -> AttackKind {
        AttackKind::Query
    }
    fn supported_norms(&self) -> &'static [Norm] {
        &[Norm::Linf]
    }
    /// Generations: `(max_queries − 1 − P) / P` for a population of `P = min(population, max_queries − 1)`.
    fn total_steps(&self, ctx: &Context) -> usize {
        let p = ctx.params;
        let pop = p.population.min(p.max_queries.saturating_sub(1)).max(1);
        p.max_queries.saturating_sub(1 + pop) / pop
    }
    fn craft(
        &self,
        ctx: &Context,
        rng: &mut ChaCha8Rng,
        progress: &mut dyn FnMut(Progress) -> bool,
    ) -> Result<Crafted> {
        let p = ctx.params;
        let [c, h, w] = ctx.shape();
        let x = ctx.x_flat();
        let goal = ctx.goal;
        let k = p.pixels;
        if k > h * w {
            return Err(Error::param(
                "pixels",
                format!("at most {} pixels in a {h}×{w} image, got {k}", h * w),
            ));
        }
        let pop_size = p.population.min(p.max_queries.saturating_sub(1));
        if pop_size < 4 {
            return Err(Error::param(
                "max_queries",
                format!("one_pixel needs a budget of at least 5 queries, got {}", p.max_queries),
            ));
        }
        let gene = 2 + c;
        let dim = k * gene;
        // Gene bounds: [lo, hi).
        let bound = |g: usize| -> (f32, f32) {
            match g % gene {
                0 => (0.0, w as f32),
                1 => (0.0, h as f32),
                _ => (0.0, 1.0),
            }
        };
        let lo: Vec<f32> = x.iter().map(|&v| (v - p.eta).max(0.0)).collect();
        let hi: Vec<f32> = x.iter().map(|&v| (v + p.eta).min(1.0)).collect();
        let apply = |cand: &[f32], out: &mut [f32]| {
            out.copy_from_slice(x);
            for t in cand.chunks_exact(gene) {
                let col = (t[0] as usize).min(w - 1);
                let row = (t[1] as usize).min(h - 1);
                for ch in 0..c {
                    let i = (ch * h + row) * w + col;
                    out[i] = t[2 + ch].clamp(lo[i], hi[i]);
                }
            }
        };
        let n = x.len();
        let mut batch = Array4::<f32>::zeros((BATCH.min(pop_size), c, h, w));
        let mut buf = Vec::new();
        let mut queries = 1;
        // Fitness and success of each candidate of `pop` (flat, `dim` genes each).
        let mut evaluate = |pop: &[f32], fit: &mut [f32], ok: &mut [bool], queries: &mut usize| {
            for (chunk_idx, chunk) in pop.chunks(BATCH * dim).enumerate() {
                let m = chunk.len() / dim;
                let imgs = batch.as_slice_mut().expect("standard layout");
                for (cand, out) in chunk.chunks_exact(dim).zip(imgs.chunks_exact_mut(n)) {
                    apply(cand, out);
                }
                let z = ctx.model.logits(batch.slice(ndarray::s![..m, .., .., ..]));
                *queries += m;
                for (j, row) in z.rows().into_iter().enumerate() {
                    let row = row.as_slice().expect("contiguous");
                    fit[chunk_idx * BATCH + j] = prob_objective(goal, row, &mut buf);
                    ok[chunk_idx * BATCH + j] = goal.is_success_logits(row);
                }
            }
        };
        let mut pop: Vec<f32> = (0..pop_size * dim)
            .map(|i| {
                let (a, b) = bound(i % dim);
                a + (b - a) * norms::uniform(rng)
            })
            .collect();
        let mut fit = vec![0.0f32; pop_size];
        let mut ok = vec![false; pop_size];
        evaluate(&pop, &mut fit, &mut ok, &mut queries);
        let mut children = vec![0.0f32; pop_size * dim];
        let mut cfit = vec![0.0f32; pop_size];
        let mut cok = vec![false; pop_size];
        let mut steps = 0;
        let mut winner = best_successful(&fit, &ok);
        let generations = (p.max_queries - queries) / pop_size;
        while winner.is_none() && steps < generations {
            if steps > 0 {
                report(
                    progress,
                    Progress {
                        step: steps,
                        total: generations,
                        queries,
                        success: false,
                    },
                )?;
            }
            steps += 1;
            for i in 0..pop_size {
                let mut r = [i; 3];
                for j in 0..3 {
                    loop {
                        let v = norms::below(rng, pop_size);
                        if v != i && !r[..j].contains(&v) {
                            r[j] = v;
                            break;
                        }
                    }
                }
                for g in 0..dim {
                    let v = pop[r[0] * dim + g] + p.mutation * (pop[r[1] * dim + g] - pop[r[2] * dim + g]);
                    let (a, b) = bound(g);
                    children[i * dim + g] = if v >= a && v < b {
                        v
                    } else {
                        a + (b - a) * norms::uniform(rng)
                    };
                }
            }
            evaluate(&children, &mut cfit, &mut cok, &mut queries);
            if let Some(j) = best_successful(&cfit, &cok) {
                pop[j * dim..(j + 1) * dim].copy_from_slice(&children[j * dim..(j + 1) * dim]);
                fit[j] = cfit[j];
                winner = Some(j);
                break;
            }
            for i in 0..pop_size {
                if cfit[i] < fit[i] {
                    fit[i] = cfit[i];
                    pop[i * dim..(i + 1) * dim].copy_from_slice(&children[i * dim..(i + 1) * dim]);
                }
            }
        }
        let best = winner.unwrap_or_else(|| (0..pop_size).fold(0, |b, i| if fit[i] < fit[b] { i } else { b }));
        let mut adv = ctx.x.clone();
        apply(
            &pop[best * dim..(best + 1) * dim],
            adv.as_slice_mut().expect("standard layout"),
        );
        Ok(Crafted {
            adversarial: adv,
            queries,
            steps,
        })
    }
}

/// The successful candidate of lowest fitness, if any.
fn best_successful(fit: &[f32], ok: &[bool]) -> Option<usize> {
    (0..fit.len())
        .filter(|&i| ok[i])
        .fold(None, |b: Option<usize>, i| match b {
            Some(j) if fit[j] <= fit[i] => Some(j),
            _ => Some(i),
        })
}
