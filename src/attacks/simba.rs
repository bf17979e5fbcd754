//! SimBA, the Simple Black-box Attack (Guo et al., "Simple Black-box Adversarial Attacks", ICML 2019), in the
//! pixel (Cartesian) basis or the low-frequency DCT basis (SimBA-DCT).
//!
//! **Basis** (`params.basis`, default `auto`): pixels for images of fewer than [`DCT_MIN_PIXELS`] positions
//! (MNIST's 28×28), DCT above (the paper's choice for ImageNet: at 224×224 the pixel basis would need ~10⁵
//! queries per pass, while most of a natural image's sensitivity lies in low frequencies).
//!
//! Pick basis directions `q = e_i` in a random order (without replacement); try `x' − εq`, then `x' + εq`, and keep
//! the first that lowers the model's probability of the true class `p(y | x')` (untargeted) or raises that of the
//! target `p(t | x')` (targeted), compared as log-probabilities (see [`prob_objective`]). Only output probabilities are used; every tried image is one query.
//!
//! * L∞ variant (default): coordinate `i` may take the values `xᵢ ± η` (clipped to `[0,1]`): each step jumps to a
//!   corner of the η-box, so the result stays inside it. Once every pixel has been tried, further passes (in a
//!   new random order) try the other corner of each coordinate, while the budget lasts.
//! * L2 variant: steps of `α = params.step_size` (the paper's ε) around the current value; a step that would leave
//!   the L2 ball of radius η is not tried.
//!
//! Stops at success, when `params.max_queries` queries (the clean evaluation included) are spent, or when a whole
//! pass improves nothing. Each query is a forward pass on one image: the algorithm is sequential (every accepted
//! step changes the point the next candidates start from).

use rand_chacha::ChaCha8Rng;

use super::{norms, report, Attack, AttackKind, Context, Crafted, Goal, Norm, Progress, SimbaBasis};
use crate::error::Result;

/// SimBA (`"simba"`).
pub struct SimBA;

/// `auto` uses the DCT basis from this many `H·W` positions on (32×32 and larger).
pub const DCT_MIN_PIXELS: usize = 1024;

/// Whether `basis` means DCT for images of shape `[C, H, W]`.
pub fn uses_dct(basis: SimbaBasis, shape: [usize; 3]) -> bool {
    match basis {
        SimbaBasis::Pixel => false,
        SimbaBasis::Dct => true,
        SimbaBasis::Auto => shape[1] * shape[2] >= DCT_MIN_PIXELS,
    }
}

/// The quantity SimBA lowers: `log p(y|x')` untargeted, `−log p(t|x')` targeted.
///
/// The paper states the objective with probabilities; the log is monotone, so it ranks candidates identically,
/// but computed as `log p_c = −log1p(Σ_{j≠c} exp(z_j − z_c))` it does not saturate: for a confident CNN `p(y|x')`
/// rounds to exactly 1.0 in f32 (and a plain log-softmax to exactly 0), every candidate would tie, and the search
/// would stop after one pass having accepted nothing.
pub(crate) fn prob_objective(goal: Goal, z: &[f32], _buf: &mut Vec<f32>) -> f32 {
    let log_p = |c: usize| -> f32 {
        let zc = z[c] as f64;
        let rest: f64 = z
            .iter()
            .enumerate()
            .filter(|&(j, _)| j != c)
            .map(|(_, &v)| (v as f64 - zc).exp())
            .sum();
        -(rest.ln_1p()) as f32
    };
    match goal {
        Goal::Untargeted { true_class } => log_p(true_class),
        Goal::Targeted { target } => -log_p(target),
    }
}

impl Attack for SimBA {
    fn name(&self) -> &'static str {
        "simba"
    }
    fn kind(&self) -> AttackKind {
        AttackKind::Query
    }
    fn total_steps(&self, ctx: &Context) -> usize {
        ctx.params.max_queries
    }
    fn craft(
        &self,
        ctx: &Context,
        rng: &mut ChaCha8Rng,
        progress: &mut dyn FnMut(Progress) -> bool,
    ) -> Result<Crafted> {
        if uses_dct(ctx.params.basis, ctx.shape()) {
            return dct::craft(ctx, rng, progress);
        }
        let p = ctx.params;
        let x = ctx.x_flat();
        let n = x.len();
        let eps = p.eta;
        let goal = ctx.goal;
        let mut buf = Vec::with_capacity(ctx.clean_logits.len());
        let mut best = prob_objective(goal, &ctx.clean_logits, &mut buf);
        let mut adv = ctx.x.clone();
        let mut queries = 1;
        let mut steps = 0;
        let mut l2sq = 0.0f64;
        let mut success = false;
        'passes: while !success && queries < p.max_queries {
            let mut improved = false;
            for i in norms::permutation(rng, n) {
                if queries >= p.max_queries {
                    break 'passes;
                }
                steps += 1;
                report_every_64(progress, steps, p.max_queries, queries, success)?;
                let old = adv.as_slice().expect("standard layout")[i];
                let (c1, c2) = match p.norm {
                    Norm::Linf => ((x[i] - eps).max(0.0), (x[i] + eps).min(1.0)),
                    Norm::L2 => ((old - p.step_size).max(0.0), (old + p.step_size).min(1.0)),
                };
                for cand in [c1, c2] {
                    if cand == old || queries >= p.max_queries {
                        continue;
                    }
                    let d_old = (old - x[i]) as f64;
                    let d_new = (cand - x[i]) as f64;
                    let l2_new = l2sq - d_old * d_old + d_new * d_new;
                    if p.norm == Norm::L2 && l2_new.max(0.0).sqrt() > eps as f64 * (1.0 - 1e-6) {
                        continue;
                    }
                    adv.as_slice_mut().expect("standard layout")[i] = cand;
                    let z = ctx.model.logits(adv.view());
                    let z = z.row(0);
                    let z = z.as_slice().expect("contiguous");
                    queries += 1;
                    let obj = prob_objective(goal, z, &mut buf);
                    if obj < best {
                        best = obj;
                        l2sq = l2_new;
                        improved = true;
                        success = goal.is_success_logits(z);
                        break;
                    }
                    adv.as_slice_mut().expect("standard layout")[i] = old;
                }
                if success {
                    break 'passes;
                }
            }
            if !improved {
                break;
            }
        }
        Ok(Crafted {
            adversarial: adv,
            queries,
            steps,
        })
    }
}

/// SimBA-DCT (Guo et al. 2019, §3 "Cartesian and discrete cosine bases").
///
/// The directions are the orthonormal 2-D DCT-II basis images of each channel,
///
/// ```text
/// q_{c,u,v}[c, h, w] = a_u(h)·b_v(w),   a_u(h) = s_u·cos(π(2h + 1)u / 2H),   s_0 = √(1/H), s_u = √(2/H)
/// ```
///
/// (`b_v` likewise over `W`; zero on the other channels), so `‖q‖₂ = 1`. They are tried lowest frequencies first,
/// as in the authors' code: band 0 holds `u < F_H, v < F_W` with `F = ⌈side/8⌉` (28 at 224), band `b` widens it by
/// `b·⌈F/4⌉` (7 at 224); each band is shuffled (channels mixed), and a new shuffle starts every pass.
///
/// A step is `x' ← Π(x' ∓ α·q)`, minus first: L∞ `α = η / ‖q‖∞` (the step's largest entry is η) and Π the
/// projection onto the η-box ∩ `[0,1]`; L2 `α = params.step_size` (the paper's ε) with Π the clip to `[0,1]`,
/// and a step leaving the L2 ball of radius η is not tried. A step that Π leaves unchanged costs no query. At
/// most `max_queries` directions are examined (each costs `O(H·W)` even when it costs no query), so a full L2
/// ball cannot keep a 224×224 search busy for minutes.
mod dct {
    use super::*;

    /// `s_u·cos(π(2i + 1)u / 2N)` for `u, i < N`, row `u`.
    pub(super) fn cos_table(n: usize) -> Vec<f32> {
        let mut t = vec![0.0f32; n * n];
        for u in 0..n {
            let s = if u == 0 {
                (1.0 / n as f64).sqrt()
            } else {
                (2.0 / n as f64).sqrt()
            };
            for i in 0..n {
                t[u * n + i] =
                    (s * (std::f64::consts::PI * (2 * i + 1) as f64 * u as f64 / (2 * n) as f64).cos()) as f32;
            }
        }
        t
    }

    /// The frequency band of `(u, v)` (see the module docs).
    fn band(u: usize, v: usize, h: usize, w: usize) -> usize {
        let (fh, fw) = (h.div_ceil(8), w.div_ceil(8));
        let (sh, sw) = (fh.div_ceil(4).max(1), fw.div_ceil(4).max(1));
        let over = |f: usize, f0: usize, s: usize| if f < f0 { 0 } else { (f + 1 - f0).div_ceil(s) };
        over(u, fh, sh).max(over(v, fw, sw))
    }

    /// One pass's order of `(c, u, v)` directions: bands in order, each shuffled.
    fn pass_order(rng: &mut ChaCha8Rng, [c, h, w]: [usize; 3]) -> Vec<(usize, usize, usize)> {
        let mut bands: Vec<Vec<(usize, usize, usize)>> = Vec::new();
        for ch in 0..c {
            for u in 0..h {
                for v in 0..w {
                    let b = band(u, v, h, w);
                    if bands.len() <= b {
                        bands.resize_with(b + 1, Vec::new);
                    }
                    bands[b].push((ch, u, v));
                }
            }
        }
        let mut order = Vec::with_capacity(c * h * w);
        for b in bands {
            for i in norms::permutation(rng, b.len()) {
                order.push(b[i]);
            }
        }
        order
    }

    pub(super) fn craft(
        ctx: &Context,
        rng: &mut ChaCha8Rng,
        progress: &mut dyn FnMut(Progress) -> bool,
    ) -> Result<Crafted> {
        let p = ctx.params;
        let shape @ [_, h, w] = ctx.shape();
        let plane = h * w;
        let x = ctx.x_flat();
        let eps = p.eta;
        let goal = ctx.goal;
        let (th, tw) = (cos_table(h), cos_table(w));
        let peak = |t: &[f32], n: usize, u: usize| t[u * n..(u + 1) * n].iter().fold(0f32, |m, v| m.max(v.abs()));
        let mut buf = Vec::new();
        let mut best = prob_objective(goal, &ctx.clean_logits, &mut buf);
        let mut adv = ctx.x.clone();
        let mut cand = vec![0.0f32; plane];
        let mut saved = vec![0.0f32; plane];
        let mut queries = 1;
        let mut steps = 0;
        let mut success = false;
        // Σ δ² per channel (L2 variant), so a step costs O(H·W), not O(C·H·W).
        let mut l2sq = vec![0.0f64; shape[0]];
        'passes: while !success && queries < p.max_queries {
            let mut improved = false;
            for (ch, u, v) in pass_order(rng, shape) {
                if queries >= p.max_queries || steps >= p.max_queries {
                    break 'passes;
                }
                steps += 1;
                report_every_64(progress, steps, p.max_queries, queries, success)?;
                let (a, b) = (&th[u * h..(u + 1) * h], &tw[v * w..(v + 1) * w]);
                let alpha = match p.norm {
                    Norm::Linf => eps / (peak(&th, h, u) * peak(&tw, w, v)),
                    Norm::L2 => p.step_size,
                };
                let off = ch * plane;
                let xs = &x[off..off + plane];
                let l2_rest: f64 = l2sq.iter().enumerate().filter(|&(c, _)| c != ch).map(|(_, v)| v).sum();
                for sgn in [-1.0f32, 1.0] {
                    if queries >= p.max_queries {
                        continue;
                    }
                    let cur = &adv.as_slice().expect("standard layout")[off..off + plane];
                    let mut changed = false;
                    let mut l2_plane = 0.0f64;
                    for (r, &ar) in a.iter().enumerate() {
                        for (col, &bc) in b.iter().enumerate() {
                            let i = r * w + col;
                            let mut val = cur[i] + sgn * alpha * ar * bc;
                            val = match p.norm {
                                Norm::Linf => val.clamp((xs[i] - eps).max(0.0), (xs[i] + eps).min(1.0)),
                                Norm::L2 => val.clamp(0.0, 1.0),
                            };
                            changed |= val != cur[i];
                            let d = (val - xs[i]) as f64;
                            l2_plane += d * d;
                            cand[i] = val;
                        }
                    }
                    if !changed {
                        continue;
                    }
                    if p.norm == Norm::L2 && (l2_rest + l2_plane).sqrt() > eps as f64 * (1.0 - 1e-6) {
                        continue;
                    }
                    saved.copy_from_slice(&cand);
                    adv.as_slice_mut().expect("standard layout")[off..off + plane].swap_with_slice(&mut saved);
                    let z = ctx.model.logits(adv.view());
                    let z = z.row(0);
                    let z = z.as_slice().expect("contiguous");
                    queries += 1;
                    let obj = prob_objective(goal, z, &mut buf);
                    if obj < best {
                        best = obj;
                        l2sq[ch] = l2_plane;
                        improved = true;
                        success = goal.is_success_logits(z);
                        break;
                    }
                    adv.as_slice_mut().expect("standard layout")[off..off + plane].copy_from_slice(&saved);
                }
                if success {
                    break 'passes;
                }
            }
            if !improved {
                break;
            }
        }
        Ok(Crafted {
            adversarial: adv,
            queries,
            steps,
        })
    }
}

/// Progress for SimBA's passes (pixel and DCT alike): every 64th direction tried, often enough for a smooth bar
/// and rare enough to cost nothing next to the forward passes.
fn report_every_64(
    progress: &mut dyn FnMut(Progress) -> bool,
    steps: usize,
    total: usize,
    queries: usize,
    success: bool,
) -> Result<()> {
    if steps.is_multiple_of(64) {
        report(
            progress,
            Progress {
                step: steps,
                total,
                queries,
                success,
            },
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::dct::cos_table;

    /// The DCT table is orthonormal: `Σᵢ a_u(i)·a_v(i) = [u = v]`.
    #[test]
    fn dct_basis_is_orthonormal() {
        for n in [1, 7, 16, 28] {
            let t = cos_table(n);
            for u in 0..n {
                for v in 0..n {
                    let dot: f64 = (0..n).map(|i| t[u * n + i] as f64 * t[v * n + i] as f64).sum();
                    let want = if u == v { 1.0 } else { 0.0 };
                    assert!((dot - want).abs() < 1e-5, "n={n} u={u} v={v}: {dot}");
                }
            }
        }
    }
}
