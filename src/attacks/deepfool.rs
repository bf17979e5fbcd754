//! DeepFool (Moosavi-Dezfooli, Fawzi & Frossard, "DeepFool: a simple and accurate method to fool deep neural
//! networks", CVPR 2016), multiclass, for the ℓ₂ and ℓ∞ norms.
//!
//! At the current point `x_i`, with `k̂` the original class, linearise every boundary `k ≠ k̂`:
//! `f'_k = Z_k − Z_k̂`, `w'_k = ∇Z_k − ∇Z_k̂`. Step to the nearest one,
//!
//! ```text
//! l = argmin_{k≠k̂} |f'_k| / ‖w'_k‖_q,       q = p/(p−1)   (p = 2 → q = 2, p = ∞ → q = 1)
//! r_i = (|f'_l| + 10⁻⁴) / ‖w'_l‖_q^q · |w'_l|^{q−1} ⊙ sign(w'_l)
//!     = (|f'_l| + 10⁻⁴) / ‖w'_l‖₂² · w'_l            (ℓ₂)
//!     = (|f'_l| + 10⁻⁴) / ‖w'_l‖₁ · sign(w'_l)        (ℓ∞)
//! x_{i+1} = clip₍₀,₁₎(x + (1 + overshoot)·Σ r_i)
//! ```
//!
//! until the label changes or `params.steps` iterations are done. The overshoot (default 0.02) pushes past the
//! boundary. The `+10⁻⁴` follows the authors' code.
//!
//! DeepFool is a minimum-norm attack: η > 0 is ignored unless `params.bounded`, which projects every iterate
//! onto the η-ball of `params.norm` (η = 0 returns `x`, as for every attack).
//!
//! Targeted variant (not in the paper): step to the boundary between the target `t` and its strongest rival
//! `j = argmax_{j≠t} Z_j`, `f = Z_t − Z_j`, `w = ∇(Z_t − Z_j)`, same step formula.
//!
//! Candidate classes: the boundaries linearised are those of the original class's `top_k − 1` strongest rivals by
//! *clean* logit (`params.top_k`, default 10: the original class and 9 others, as in the authors' code for
//! ImageNet), fixed for the whole run; with `K ≤ top_k` that is every class. So 1000 ImageNet classes cost what
//! MNIST's 10 do.
//!
//! Cost per iteration: untargeted, one batch of `top_k − 1` vector-Jacobian products (all candidate boundaries
//! at once) and one forward; targeted, one forward and one vector-Jacobian product.

use ndarray::Array2;
use rand_chacha::ChaCha8Rng;

use super::Progress;
use super::{
    argmax_except, norms, repeat, report, std_layout, Attack, AttackKind, AttackParams, Context, Crafted, Goal, Norm,
};
use crate::error::Result;

/// DeepFool (`"deepfool"`).
pub struct DeepFool;

/// `‖w‖_q` for the dual norm `q` of `norm`.
fn dual_norm(norm: Norm, w: &[f32]) -> f32 {
    match norm {
        Norm::L2 => norms::l2(w),
        Norm::Linf => norms::l1(w),
    }
}

/// The classes DeepFool linearises against `c`: every `j ≠ c` when `K ≤ top_k`, else the `top_k − 1` largest
/// clean logits but `c` (ties to the lower index); in increasing index order either way.
pub fn candidates(clean_logits: &[f32], c: usize, top_k: usize) -> Vec<usize> {
    let k = clean_logits.len();
    let mut others: Vec<usize> = (0..k).filter(|&j| j != c).collect();
    if k > top_k {
        others.sort_by(|&a, &b| clean_logits[b].total_cmp(&clean_logits[a]).then(a.cmp(&b)));
        others.truncate(top_k.saturating_sub(1));
        others.sort_unstable();
    }
    others
}

impl Attack for DeepFool {
    fn name(&self) -> &'static str {
        "deepfool"
    }
    fn kind(&self) -> AttackKind {
        AttackKind::Iterative
    }
    fn is_bounded(&self, params: &AttackParams) -> bool {
        params.bounded
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
        let c = ctx.goal.class();
        let scale = 1.0 + p.overshoot;
        let mut r_tot = vec![0.0f32; n];
        let mut adv = ctx.x.clone();
        let mut z = ctx.clean_logits.clone();
        let mut queries = 1;
        let mut steps = 0;
        let mut w = vec![0.0f32; n];
        let others = candidates(&ctx.clean_logits, c, p.top_k);
        while steps < p.steps {
            if ctx.goal.is_success_logits(&z) {
                break;
            }
            if steps > 0 {
                report(
                    progress,
                    Progress {
                        step: steps,
                        total: p.steps,
                        queries,
                        success: false,
                    },
                )?;
            }
            steps += 1;
            // (f, w) of the boundary to cross.
            let f = match ctx.goal {
                Goal::Untargeted { .. } => {
                    let mut d = Array2::<f32>::zeros((others.len(), k));
                    for (row, &j) in others.iter().enumerate() {
                        d[[row, j]] = 1.0;
                        d[[row, c]] = -1.0;
                    }
                    let (zz, g) = model.logits_vjp(repeat(&adv, others.len()).view(), d.view());
                    queries += others.len();
                    let g = std_layout(g);
                    let g = g.as_slice().expect("standard layout");
                    let zz = zz.row(0);
                    let mut best: Option<(f32, usize, f32)> = None;
                    for (row, &j) in others.iter().enumerate() {
                        let wj = &g[row * n..(row + 1) * n];
                        let q = dual_norm(p.norm, wj);
                        if q > 0.0 {
                            let fj = zz[j] - zz[c];
                            let dist = fj.abs() / q;
                            if best.is_none_or(|(b, _, _)| dist < b) {
                                best = Some((dist, row, fj));
                            }
                        }
                    }
                    let Some((_, row, fj)) = best else { break };
                    w.copy_from_slice(&g[row * n..(row + 1) * n]);
                    fj
                }
                Goal::Targeted { target } => {
                    let j = argmax_except(&z, target);
                    let mut d = Array2::<f32>::zeros((1, k));
                    d[[0, target]] = 1.0;
                    d[[0, j]] = -1.0;
                    let (zz, g) = model.logits_vjp(adv.view(), d.view());
                    queries += 1;
                    w.copy_from_slice(std_layout(g).as_slice().expect("standard layout"));
                    zz[[0, target]] - zz[[0, j]]
                }
            };
            let q = dual_norm(p.norm, &w);
            if q <= 0.0 || !q.is_finite() {
                break;
            }
            let m = f.abs() + 1e-4;
            match p.norm {
                Norm::L2 => {
                    let s = m / (q * q);
                    r_tot.iter_mut().zip(&w).for_each(|(r, &wi)| *r += s * wi);
                }
                Norm::Linf => {
                    let s = m / q;
                    r_tot.iter_mut().zip(&w).for_each(|(r, &wi)| *r += s * norms::sign(wi));
                }
            }
            let a = adv.as_slice_mut().expect("standard layout");
            for ((ai, &xi), &ri) in a.iter_mut().zip(x).zip(&r_tot) {
                *ai = xi + scale * ri;
            }
            if p.bounded {
                norms::project(a, x, p.eta, p.norm);
            } else {
                norms::clip01(a);
            }
            // Keep Σ r_i consistent with the clipped/projected iterate.
            for ((ri, &ai), &xi) in r_tot.iter_mut().zip(a.iter()).zip(x) {
                *ri = (ai - xi) / scale;
            }
            z = model.logits(adv.view()).row(0).to_vec();
            queries += 1;
        }
        Ok(Crafted {
            adversarial: adv,
            queries,
            steps,
        })
    }
}
