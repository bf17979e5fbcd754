//! Jacobian-based Saliency Map Attack (Papernot et al., "The Limitations of Deep Learning in Adversarial
//! Settings", IEEE EuroS&P 2016), on pairs of pixels, with the logits `Z` as the network output.
//!
//! Per iteration, for the target `t`, over pairs `{p, q}` of the search domain Γ:
//!
//! ```text
//! α = Σ_{i∈{p,q}} ∂Z_t/∂x_i,     β = Σ_{i∈{p,q}} Σ_{j≠t} ∂Z_j/∂x_i
//! (p*, q*) = argmax_{α>0, β<0} α·|β|                     (θ > 0: the paper's increasing attack)
//! x_{p*}, x_{q*} ← x + θ (clipped),  removed from Γ once they reach their bound
//! ```
//!
//! until the target is predicted or `⌊γ·n/2⌋` iterations have changed (at most) a share γ of the `n` pixel
//! values (`params.gamma`, default 0.145; `params.theta`, default +1). For θ < 0 the signs of the conditions flip.
//! Untargeted (a common variant): `t` is the true class and the conditions are mirrored (`α < 0, β > 0`), pushing
//! the true logit down and the others up.
//!
//! JSMA is an L0 attack: `‖δ‖₀ ≤ γ·n`. η caps the change of each pixel, `|δᵢ| ≤ η` (η = 1: the paper's attack,
//! a pixel goes all the way to 0 or 1), so the L∞ bound holds; only [`super::Norm::Linf`] is accepted.
//!
//! Cost per iteration: one batch of two vector-Jacobian products and an `O(|Γ|²)` pair search.

use ndarray::Array2;
use rand_chacha::ChaCha8Rng;

use super::{repeat, report, std_layout, Attack, AttackKind, Context, Crafted, Norm, Progress};
use crate::error::Result;

/// JSMA (`"jsma"`).
pub struct Jsma;

/// Largest input (`C·H·W`) JSMA accepts. The saliency map scores every pair of the `n` pixels, `n²/2` pairs per
/// iteration over up to `γn/2` iterations: `O(γn³/4)`, about 10¹⁰ pair scores at `n = 4096` (a few seconds
/// natively), 10¹⁵ on a 3×224×224 photo. Larger inputs are refused (and listed as `refused` in the catalog).
pub const JSMA_MAX_INPUTS: usize = 4096;

impl Attack for Jsma {
    fn name(&self) -> &'static str {
        "jsma"
    }
    fn kind(&self) -> AttackKind {
        AttackKind::Iterative
    }
    fn supported_norms(&self) -> &'static [Norm] {
        &[Norm::Linf]
    }
    fn refuses(&self, input_shape: [usize; 3]) -> Option<String> {
        let n = super::catalog::input_len(input_shape);
        (n > JSMA_MAX_INPUTS)
            .then(|| format!("JSMA scores every pair of pixels: too slow for {n} inputs (at most {JSMA_MAX_INPUTS})"))
    }
    fn total_steps(&self, ctx: &Context) -> usize {
        ((ctx.x.len() as f32 * ctx.params.gamma) / 2.0).floor() as usize
    }
    fn craft(
        &self,
        ctx: &Context,
        _rng: &mut ChaCha8Rng,
        progress: &mut dyn FnMut(Progress) -> bool,
    ) -> Result<Crafted> {
        let p = ctx.params;
        let model = ctx.model;
        let k = model.num_classes();
        let x = ctx.x_flat();
        let n = x.len();
        let t = ctx.goal.class();
        let theta = p.theta;
        let up = theta > 0.0;
        // Sign that α must have: towards the target, or away from the true class.
        let alpha_sign = if ctx.goal.is_targeted() == up { 1.0f32 } else { -1.0 };
        let lo: Vec<f32> = x.iter().map(|&v| (v - p.eta).max(0.0)).collect();
        let hi: Vec<f32> = x.iter().map(|&v| (v + p.eta).min(1.0)).collect();
        let movable = |i: usize, v: f32| if up { v < hi[i] } else { v > lo[i] };
        let mut domain: Vec<usize> = (0..n).filter(|&i| movable(i, x[i])).collect();
        let max_iters = self.total_steps(ctx);
        let mut d = Array2::<f32>::ones((2, k));
        d.row_mut(0).fill(0.0);
        d[[0, t]] = 1.0;
        d[[1, t]] = 0.0;
        let mut adv = ctx.x.clone();
        let mut queries = 1;
        let mut steps = 0;
        while steps < max_iters && domain.len() >= 2 {
            let (z, g) = model.logits_vjp(repeat(&adv, 2).view(), d.view());
            queries += 2;
            if ctx.goal.is_success_logits(z.row(0).as_slice().expect("contiguous")) {
                break;
            }
            if steps > 0 {
                report(
                    progress,
                    Progress {
                        step: steps,
                        total: max_iters,
                        queries,
                        success: false,
                    },
                )?;
            }
            steps += 1;
            let g = std_layout(g);
            let g = g.as_slice().expect("standard layout");
            let (alpha, beta) = g.split_at(n);
            let mut best = (0.0f32, usize::MAX, usize::MAX);
            for (a_idx, &pi) in domain.iter().enumerate() {
                let (ap, bp) = (alpha[pi], beta[pi]);
                for &qi in &domain[a_idx + 1..] {
                    let a = ap + alpha[qi];
                    let b = bp + beta[qi];
                    let score = -a * b;
                    if alpha_sign * a > 0.0 && score > best.0 {
                        best = (score, pi, qi);
                    }
                }
            }
            if best.1 == usize::MAX {
                break;
            }
            let a = adv.as_slice_mut().expect("standard layout");
            for i in [best.1, best.2] {
                a[i] = (a[i] + theta).clamp(lo[i], hi[i]);
            }
            domain.retain(|&i| movable(i, a[i]));
        }
        Ok(Crafted {
            adversarial: adv,
            queries,
            steps,
        })
    }
}
