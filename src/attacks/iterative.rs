//! Iterative gradient attacks: BIM / I-FGSM, PGD (L∞ and L2, random start) and MI-FGSM.
//!
//! All three iterate `x_{t+1} = Π_{B_η(x) ∩ [0,1]ⁿ}(x_t + α·step(g_t))` for `T = params.steps` steps of
//! `α = params.step_size`, where `g_t = ∇ₓJ(x_t, y)` (untargeted, ascent) or `−∇ₓJ(x_t, t)` (targeted: descent on
//! the target's loss), `J` the softmax cross-entropy, and `step(g) = sign(g)` (L∞) or `g/‖g‖₂` (L2). `Π` is
//! [`norms::project`]. Each returns the last iterate.
//!
//! * **BIM** (Kurakin, Goodfellow & Bengio, "Adversarial examples in the physical world", ICLR 2017 workshop):
//!   `x₀ = x`, `x_{t+1} = Clip_{x,ε}(x_t + α·sign(∇ₓJ(x_t, y)))`.
//! * **PGD** (Madry et al., "Towards Deep Learning Models Resistant to Adversarial Attacks", ICLR 2018): the same
//!   with `x₀` uniform in the ε-ball when `params.random_start` (see [`norms::random_start`]). The protocol:
//!   40 steps of 0.01 (L∞), ε = 2.0 (L2).
//! * **MI-FGSM** (Dong et al., "Boosting Adversarial Attacks with Momentum", CVPR 2018):
//!   `g_{t+1} = μ·g_t + ∇ₓJ(x_t)/‖∇ₓJ(x_t)‖₁`, `x_{t+1} = Clip_{x,ε}(x_t + α·sign(g_{t+1}))` (L2: `α·g/‖g‖₂`).

use rand_chacha::ChaCha8Rng;

use super::{norms, report, std_layout, Attack, AttackKind, Context, Crafted, Norm, Progress};
use crate::error::Result;

/// BIM / I-FGSM (`"bim"`).
pub struct Bim;
/// PGD with random start (`"pgd"`).
pub struct Pgd;
/// MI-FGSM (`"mifgsm"`).
pub struct MiFgsm;

fn iterate(
    ctx: &Context,
    rng: &mut ChaCha8Rng,
    progress: &mut dyn FnMut(Progress) -> bool,
    random_start: bool,
    momentum: Option<f32>,
) -> Result<Crafted> {
    let p = ctx.params;
    let x = ctx.x_flat();
    let label = [ctx.goal.class()];
    let dir = if ctx.goal.is_targeted() { -1.0f32 } else { 1.0 };
    let mut adv = ctx.x.clone();
    if random_start {
        let start = norms::random_start(rng, x, p.eta, p.norm);
        adv.as_slice_mut().expect("standard layout").copy_from_slice(&start);
    }
    let mut velocity = momentum.map(|_| vec![0.0f32; x.len()]);
    let mut step_dir = vec![0.0f32; x.len()];
    for t in 0..p.steps {
        if t > 0 {
            report(
                progress,
                Progress {
                    step: t,
                    total: p.steps,
                    queries: 1 + t,
                    success: false,
                },
            )?;
        }
        let g = std_layout(ctx.model.ce_gradient(adv.view(), &label));
        let g = g.as_slice().expect("standard layout");
        match (&mut velocity, momentum) {
            (Some(v), Some(mu)) => {
                let l1 = norms::l1(g);
                let inv = if l1 > 0.0 { 1.0 / l1 } else { 0.0 };
                for (vi, &gi) in v.iter_mut().zip(g) {
                    *vi = mu * *vi + dir * gi * inv;
                }
                step_dir.copy_from_slice(v);
            }
            _ => step_dir.iter_mut().zip(g).for_each(|(s, &gi)| *s = dir * gi),
        }
        match p.norm {
            Norm::Linf => step_dir.iter_mut().for_each(|s| *s = norms::sign(*s)),
            Norm::L2 => norms::normalize_l2(&mut step_dir),
        }
        let a = adv.as_slice_mut().expect("standard layout");
        for (ai, &si) in a.iter_mut().zip(&step_dir) {
            *ai += p.step_size * si;
        }
        norms::project(a, x, p.eta, p.norm);
    }
    Ok(Crafted {
        adversarial: adv,
        queries: 1 + p.steps,
        steps: p.steps,
    })
}

impl Attack for Bim {
    fn name(&self) -> &'static str {
        "bim"
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
        iterate(ctx, rng, progress, false, None)
    }
}

impl Attack for Pgd {
    fn name(&self) -> &'static str {
        "pgd"
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
        iterate(ctx, rng, progress, ctx.params.random_start, None)
    }
}

impl Attack for MiFgsm {
    fn name(&self) -> &'static str {
        "mifgsm"
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
        iterate(ctx, rng, progress, false, Some(ctx.params.momentum))
    }
}
