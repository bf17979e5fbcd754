//! Auto-PGD: APGD-CE and APGD-T (Croce & Hein, "Reliable evaluation of adversarial robustness with an ensemble of
//! diverse parameter-free attacks", ICML 2020, §3, Algorithm 1), in L∞ and L2.
//!
//! PGD with a budget of iterations instead of a step size. From a random start `x⁽⁰⁾` (L∞: `x + ε·t/‖t‖∞`,
//! `t ~ U(−1,1)ⁿ`; L2: `x + ε·t/‖t‖₂`, `t ~ N(0, I)`, as the authors' code; then projected), step `η⁽⁰⁾ = 2ε`,
//! momentum `α = 0.75`:
//!
//! ```text
//! z⁽ᵏ⁺¹⁾ = P(x⁽ᵏ⁾ + η⁽ᵏ⁾·s(∇f(x⁽ᵏ⁾)))                       s(g) = sign(g) (L∞), g/‖g‖₂ (L2)
//! x⁽ᵏ⁺¹⁾ = P(x⁽ᵏ⁾ + α·(z⁽ᵏ⁺¹⁾ − x⁽ᵏ⁾) + (1 − α)·(x⁽ᵏ⁾ − x⁽ᵏ⁻¹⁾))   (k = 0: x⁽¹⁾ = z⁽¹⁾)
//! ```
//!
//! `P` is the projection onto `{x' : ‖x' − x‖ ≤ ε} ∩ [0,1]ⁿ` ([`norms::project`]: exact in L∞; in L2 the radial
//! shrink, then the clip, as in the authors' code). `f` is the loss the attack climbs, and `x_max`, `f_max` the
//! best point and loss so far.
//!
//! **Step-size schedule** ([`checkpoints`]): at the checkpoints `wⱼ = ⌈pⱼ·N_iter⌉`, `p₀ = 0`, `p₁ = 0.22`,
//! `pⱼ₊₁ = pⱼ + max(pⱼ − pⱼ₋₁ − 0.03, 0.06)` (for `N_iter = 100`: 0, 22, 41, 57, 70, 80, 87, 93, 99), the step is
//! halved and the iterate restarts from `x_max` (with the gradient there) when
//!
//! 1. `Σ_{i=wⱼ₋₁}^{wⱼ−1} 1[f(x⁽ⁱ⁺¹⁾) > f(x⁽ⁱ⁾)] < ρ·(wⱼ − wⱼ₋₁)`, `ρ = 0.75` (the loss rose on fewer than 75 % of
//!    the steps since the last checkpoint), or
//! 2. `η⁽ʷʲ⁻¹⁾ = η⁽ʷʲ⁾` and `f_max⁽ʷʲ⁻¹⁾ = f_max⁽ʷʲ⁾` (the step was not reduced at the last checkpoint, and the best
//!    loss has not risen since).
//!
//! Where the paper and the authors' code differ, this follows the paper: the checkpoints come from the recurrence
//! above for every `N_iter` (the code decrements an integer period, which agrees at `N_iter = 100`); condition 1 is
//! a strict `<`; condition 2 can fire at the first checkpoint (the step at `w₀ = 0` is the initial one, not a
//! reduced one); after a restart, `f(x⁽ʷʲ⁾)` counts as `f_max` (the restarted iterate is `x_max`).
//!
//! **Losses and goals.** APGD-CE (`"apgd-ce"`) climbs the cross-entropy `CE(x, y)` (targeted: `−CE(x, t)`).
//! APGD-T (`"apgd-t"`) climbs the targeted DLR loss ([`dlr::dlr_targeted`]) towards each of the `top_k − 1`
//! classes with the highest clean logits after `y` in turn (AutoAttack: 9), each run with its own random start and
//! `N_iter` iterations, so it costs up to 9·`N_iter` gradients. Untargeted, any misclassification ends it (as in
//! AutoAttack, where APGD-T serves the untargeted evaluation); with a [`Goal::Targeted`] goal it runs once, on
//! that target, with `y` the clean prediction.
//!
//! **Output**: the first iterate that reaches the goal (the attack stops there), else `x_max`, the point of the
//! best loss (APGD-T: of the run whose `x_max` came closest to the goal by [`Goal::margin`]). `N_iter` is
//! `params.steps` (100 through [`super::AttackParams::resolve`]); `params.step_size` is not used. Queries: the
//! clean pass, then one forward and backward per iterate, the start included.

use std::cmp::Ordering;

use ndarray::{Array4, ArrayView4};
use rand_chacha::ChaCha8Rng;

use super::{
    dlr, norms, report, softmax_in_place, std_layout, Attack, AttackKind, Context, Crafted, Goal, Norm, Progress,
};
use crate::error::Result;

/// The momentum `α` of Algorithm 1.
pub const MOMENTUM: f32 = 0.75;
/// `ρ` of condition 1: the share of steps that must raise the loss for the step size to be kept.
pub const RHO: f64 = 0.75;
/// `N_iter` of AutoAttack's standard version, the default of [`super::AttackParams::resolve`].
pub const DEFAULT_STEPS: usize = 100;

/// APGD on the cross-entropy (`"apgd-ce"`).
pub struct ApgdCe;
/// APGD on the targeted DLR loss, against the top `top_k − 1` other classes (`"apgd-t"`).
pub struct ApgdT;

/// The checkpoints `w₀ = 0 < w₁ < …` of `n_iter` iterations (see the module docs), each at most `n_iter`; equal
/// `⌈pⱼ·N⌉` of small budgets collapse into one. The `pⱼ` are kept in hundredths, where the recurrence is exact
/// (in binary floating point `0.22 + 0.19` is not `0.41`, and `⌈41.000000000000007⌉ = 42`).
///
/// ```
/// assert_eq!(advlab::attacks::apgd::checkpoints(100), [0, 22, 41, 57, 70, 80, 87, 93, 99]);
/// ```
pub fn checkpoints(n_iter: usize) -> Vec<usize> {
    let mut w = vec![0usize];
    let (mut prev, mut cur) = (0usize, 22usize);
    while cur <= 100 {
        let wj = (cur * n_iter).div_ceil(100);
        if wj > *w.last().expect("w₀") {
            w.push(wj);
        }
        let next = cur + (cur - prev).saturating_sub(3).max(6);
        prev = cur;
        cur = next;
    }
    w
}

/// The loss a run climbs.
#[derive(Debug, Clone, Copy)]
enum Loss {
    /// `CE(z, y) = log Σ exp z − z_y`.
    Ce { y: usize },
    /// `−CE(z, t)`.
    CeTowards { t: usize },
    /// [`dlr::dlr_targeted`]`(z, y, t)`.
    DlrTowards { y: usize, t: usize },
}

impl Loss {
    /// The loss of logits `z`, and `∂loss/∂z` into `grad` when given.
    fn eval(self, z: &[f32], grad: Option<&mut [f32]>) -> f32 {
        let ce = |z: &[f32], c: usize, grad: Option<&mut [f32]>, sign: f32| -> f32 {
            let m = z.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
            let lse = m + z.iter().map(|&v| (v as f64 - m).exp()).sum::<f64>().ln();
            if let Some(g) = grad {
                g.copy_from_slice(z);
                softmax_in_place(g);
                g[c] -= 1.0;
                g.iter_mut().for_each(|v| *v *= sign);
            }
            sign * (lse - z[c] as f64) as f32
        };
        match self {
            Loss::Ce { y } => ce(z, y, grad, 1.0),
            Loss::CeTowards { t } => ce(z, t, grad, -1.0),
            Loss::DlrTowards { y, t } => dlr::dlr_targeted(z, y, t, grad),
        }
    }
}

/// What one run of Algorithm 1 hands back.
struct Run {
    /// The first successful iterate, else `x_max`.
    x: Vec<f32>,
    success: bool,
    /// [`Goal::margin`] at `x` (negative on success).
    margin: f32,
    iterations: usize,
    /// Forward-and-backward passes of this run.
    queries: usize,
}

/// Where a run sits in the whole attack, for the progress reports.
#[derive(Clone, Copy)]
struct Plan {
    /// Iterations done by earlier runs.
    offset: usize,
    /// Iterations planned in all.
    total: usize,
    /// Queries spent before this run.
    queries: usize,
}

/// The random start of the authors' code: on the sphere of the norm, then projected (see the module docs).
fn start(rng: &mut ChaCha8Rng, x: &[f32], eps: f32, norm: Norm) -> Vec<f32> {
    let mut t = vec![0.0f32; x.len()];
    let len = match norm {
        Norm::Linf => {
            t.iter_mut().for_each(|v| *v = 2.0 * norms::uniform(rng) - 1.0);
            norms::linf(&t)
        }
        Norm::L2 => {
            norms::fill_normal(rng, &mut t);
            norms::l2(&t)
        }
    };
    let scale = if len > 0.0 { eps / len } else { 0.0 };
    let mut adv: Vec<f32> = x.iter().zip(&t).map(|(&xi, &ti)| xi + scale * ti).collect();
    norms::project(&mut adv, x, eps, norm);
    adv
}

/// One run of Algorithm 1 on `loss` (see the module docs); stops at the first iterate that reaches the goal.
fn run_once(
    ctx: &Context,
    loss: Loss,
    rng: &mut ChaCha8Rng,
    progress: &mut dyn FnMut(Progress) -> bool,
    plan: Plan,
) -> Result<Run> {
    let p = ctx.params;
    let (eps, norm, n_iter) = (p.eta, p.norm, p.steps);
    let x = ctx.x_flat();
    let [c, h, w] = ctx.shape();
    let goal = ctx.goal;
    // (logits, ∇ₓf, f) at one point: one forward and one backward.
    let eval = |xs: &[f32]| -> (Vec<f32>, Vec<f32>, f32) {
        let view = ArrayView4::from_shape((1, c, h, w), xs).expect("one image of the model's shape");
        let (z, g) = ctx.model.logits_and_loss_gradient(view, &|_, z, d| {
            loss.eval(z, Some(d));
        });
        let z = z.row(0).to_vec();
        let f = loss.eval(&z, None);
        let g = std_layout(g).as_slice().expect("standard layout").to_vec();
        (z, g, f)
    };

    let mut xk = start(rng, x, eps, norm);
    let (z, mut g, f0) = eval(&xk);
    let mut queries = 1;
    if goal.is_success_logits(&z) {
        return Ok(Run {
            x: xk,
            success: true,
            margin: goal.margin(&z),
            iterations: 0,
            queries,
        });
    }
    let (mut f_max, mut x_max, mut g_max, mut margin_max) = (f0, xk.clone(), g.clone(), goal.margin(&z));
    // losses[i] = f(x⁽ⁱ⁾).
    let mut losses = Vec::with_capacity(n_iter + 1);
    losses.push(f0);
    let mut x_prev = xk.clone();
    let w = checkpoints(n_iter);
    let mut next = 1;
    let mut eta = 2.0 * eps;
    let (mut reduced_last, mut f_max_last) = (false, f_max);
    let mut z_step = vec![0.0f32; x.len()];
    for k in 0..n_iter {
        if plan.offset + k > 0 {
            report(
                progress,
                Progress {
                    step: plan.offset + k,
                    total: plan.total,
                    queries: plan.queries + queries,
                    success: false,
                },
            )?;
        }
        // z = P(x + η·s(∇f)).
        z_step.copy_from_slice(&g);
        match norm {
            Norm::Linf => z_step.iter_mut().for_each(|v| *v = norms::sign(*v)),
            Norm::L2 => norms::normalize_l2(&mut z_step),
        }
        for (zi, &xi) in z_step.iter_mut().zip(&xk) {
            *zi = xi + eta * *zi;
        }
        norms::project(&mut z_step, x, eps, norm);
        let x_new = if k == 0 {
            z_step.clone()
        } else {
            let mut v: Vec<f32> = xk
                .iter()
                .zip(&z_step)
                .zip(&x_prev)
                .map(|((&a, &zi), &b)| a + MOMENTUM * (zi - a) + (1.0 - MOMENTUM) * (a - b))
                .collect();
            norms::project(&mut v, x, eps, norm);
            v
        };
        x_prev = std::mem::replace(&mut xk, x_new);
        let (z, gk, f) = eval(&xk);
        queries += 1;
        g = gk;
        if goal.is_success_logits(&z) {
            return Ok(Run {
                x: xk,
                success: true,
                margin: goal.margin(&z),
                iterations: k + 1,
                queries,
            });
        }
        losses.push(f);
        if f > f_max {
            f_max = f;
            x_max.copy_from_slice(&xk);
            g_max.copy_from_slice(&g);
            margin_max = goal.margin(&z);
        }
        if next < w.len() && w[next] == k + 1 {
            let (w0, w1) = (w[next - 1], w[next]);
            let rises = (w0..w1).filter(|&i| losses[i + 1] > losses[i]).count();
            let condition1 = (rises as f64) < RHO * (w1 - w0) as f64;
            let condition2 = !reduced_last && f_max <= f_max_last;
            let reduce = condition1 || condition2;
            if reduce {
                eta /= 2.0;
                xk.copy_from_slice(&x_max);
                g.copy_from_slice(&g_max);
                losses[k + 1] = f_max;
            }
            reduced_last = reduce;
            f_max_last = f_max;
            next += 1;
        }
    }
    Ok(Run {
        x: x_max,
        success: false,
        margin: margin_max,
        iterations: n_iter,
        queries,
    })
}

fn crafted(ctx: &Context, run: Run, queries: usize, steps: usize) -> Crafted {
    let [c, h, w] = ctx.shape();
    Crafted {
        adversarial: Array4::from_shape_vec((1, c, h, w), run.x).expect("one image of the model's shape"),
        queries,
        steps,
    }
}

impl Attack for ApgdCe {
    fn name(&self) -> &'static str {
        "apgd-ce"
    }
    fn kind(&self) -> AttackKind {
        AttackKind::Iterative
    }
    fn craft(
        &self,
        ctx: &Context,
        rng: &mut ChaCha8Rng,
        progress: &mut dyn FnMut(Progress) -> bool,
    ) -> Result<Crafted> {
        let loss = match ctx.goal {
            Goal::Untargeted { true_class } => Loss::Ce { y: true_class },
            Goal::Targeted { target } => Loss::CeTowards { t: target },
        };
        let plan = Plan {
            offset: 0,
            total: ctx.params.steps,
            queries: 1,
        };
        let run = run_once(ctx, loss, rng, progress, plan)?;
        let (q, s) = (1 + run.queries, run.iterations);
        Ok(crafted(ctx, run, q, s))
    }
}

impl ApgdT {
    /// `(y, targets)`: untargeted, the true class and the `min(top_k − 1, K − 1)` other classes with the highest
    /// clean logits, highest first (ties to the lower index); targeted, the clean prediction and the target.
    pub fn targets(goal: Goal, clean_logits: &[f32], clean_pred: usize, top_k: usize) -> (usize, Vec<usize>) {
        match goal {
            Goal::Targeted { target } => (clean_pred, vec![target]),
            Goal::Untargeted { true_class } => {
                // Selection, highest first: at most top_k − 1 passes over K logits (no sort code in the wasm).
                let mut picked = vec![true_class];
                let n = top_k.saturating_sub(1).min(clean_logits.len().saturating_sub(1));
                for _ in 0..n {
                    let next =
                        (0..clean_logits.len())
                            .filter(|i| !picked.contains(i))
                            .fold(None, |best: Option<usize>, i| match best {
                                // Only a strictly higher logit replaces the best (ties: the lower index).
                                Some(b) if clean_logits[i].partial_cmp(&clean_logits[b]) != Some(Ordering::Greater) => {
                                    Some(b)
                                }
                                _ => Some(i),
                            });
                    match next {
                        Some(i) => picked.push(i),
                        None => break,
                    }
                }
                picked.remove(0);
                (true_class, picked)
            }
        }
    }
}

impl Attack for ApgdT {
    fn name(&self) -> &'static str {
        "apgd-t"
    }
    fn kind(&self) -> AttackKind {
        AttackKind::Iterative
    }
    fn total_steps(&self, ctx: &Context) -> usize {
        let (_, t) = ApgdT::targets(ctx.goal, &ctx.clean_logits, ctx.clean_pred, ctx.params.top_k);
        t.len() * ctx.params.steps
    }
    fn craft(
        &self,
        ctx: &Context,
        rng: &mut ChaCha8Rng,
        progress: &mut dyn FnMut(Progress) -> bool,
    ) -> Result<Crafted> {
        let (y, targets) = ApgdT::targets(ctx.goal, &ctx.clean_logits, ctx.clean_pred, ctx.params.top_k);
        let total = targets.len() * ctx.params.steps;
        let (mut queries, mut steps) = (1, 0);
        let mut best: Option<Run> = None;
        for (j, &t) in targets.iter().enumerate() {
            let plan = Plan {
                offset: j * ctx.params.steps,
                total,
                queries,
            };
            let run = run_once(ctx, Loss::DlrTowards { y, t }, rng, progress, plan)?;
            queries += run.queries;
            steps += run.iterations;
            if run.success {
                return Ok(crafted(ctx, run, queries, steps));
            }
            if best.as_ref().is_none_or(|b| run.margin < b.margin) {
                best = Some(run);
            }
        }
        match best {
            Some(run) => Ok(crafted(ctx, run, queries, steps)),
            // No other class (K = 1): nothing to aim at.
            None => Ok(Crafted {
                adversarial: ctx.x.clone(),
                queries,
                steps,
            }),
        }
    }
}
