//! FGSM and the linear view: *direction attacks*.
//!
//! Goodfellow, Shlens & Szegedy, "Explaining and Harnessing Adversarial Examples", ICLR 2015:
//!
//! ```text
//! x' = clip₍₀,₁₎(x + η·s),   s = sign(∇ₓ J(x, y))            (untargeted: climb the loss of the true class)
//!                            s = −sign(∇ₓ J(x, t))           (targeted: descend the loss of the target)
//!                            L2 variant: s = g/‖g‖₂ with g = ±∇ₓJ
//! ```
//!
//! The direction `s` does not depend on η, so the page computes it once per image, model and goal
//! ([`fgsm_direction`]) and a slider move is one forward pass on [`apply_direction`]. The *linear view*
//! ([`linear_view`]) is the paper's explanation: to first order the logit margin moves by `η·∇m·s`, which for the
//! sign direction is `−η‖∇m‖₁`: a tiny η times a large ‖w‖₁ over 784 pixels.

use ndarray::{Array2, Array4, ArrayView4};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use super::Progress;
use super::{
    argmax, argmax_except, check_image, norms, std_layout, Attack, AttackKind, Classifier, Context, Crafted, Goal, Norm,
};
use crate::error::{Error, Result};

/// FGSM (`"fgsm"`), L∞ or L2. One gradient.
pub struct Fgsm;

/// The unit direction `s` for `goal`, without validation (the image is in standard layout).
pub(crate) fn direction_unchecked(model: &dyn Classifier, x: ArrayView4<f32>, goal: Goal, norm: Norm) -> Array4<f32> {
    let mut g = std_layout(model.ce_gradient(x, &[goal.class()]));
    let flip = if goal.is_targeted() { -1.0 } else { 1.0 };
    let s = g.as_slice_mut().expect("standard layout");
    match norm {
        Norm::Linf => s.iter_mut().for_each(|v| *v = flip * norms::sign(*v)),
        Norm::L2 => {
            s.iter_mut().for_each(|v| *v *= flip);
            norms::normalize_l2(s);
        }
    }
    g
}

/// The FGSM direction `s` of image `x` (`[1, C, H, W]`) for `goal`: `±sign(∇ₓJ)` (L∞) or `±∇ₓJ/‖∇ₓJ‖₂` (L2).
///
/// Errors: wrong image shape ([`Error::Shape`]), pixels outside `[0,1]`, a class out of range, or a target the
/// model already predicts ([`Error::InvalidParameter`]).
pub fn fgsm_direction(model: &dyn Classifier, x: ArrayView4<f32>, goal: Goal, norm: Norm) -> Result<Array4<f32>> {
    check_image(model, x)?;
    let x = x.as_standard_layout();
    let pred = argmax(model.logits(x.view()).row(0).as_slice().expect("contiguous"));
    goal.check(model.num_classes(), pred)?;
    Ok(direction_unchecked(model, x.view(), goal, norm))
}

/// `clip₍₀,₁₎(x + η·s)`, elementwise as `x + (η·s)`: the one formula the slider, [`Fgsm`] and
/// [`super::flip_eta`] share, so that they agree bit for bit.
pub fn apply_direction(x: ArrayView4<f32>, s: ArrayView4<f32>, eta: f32) -> Array4<f32> {
    let mut out = x.as_standard_layout().into_owned();
    out.zip_mut_with(&s, |a, &si| *a = step_clip(*a, si, eta));
    out
}

#[inline(always)]
fn step_clip(x: f32, s: f32, eta: f32) -> f32 {
    (x + eta * s).clamp(0.0, 1.0)
}

/// [`apply_direction`] on flat slices, writing into `out`.
pub fn apply_direction_into(out: &mut [f32], x: &[f32], s: &[f32], eta: f32) {
    for ((o, &xi), &si) in out.iter_mut().zip(x).zip(s) {
        *o = step_clip(xi, si, eta);
    }
}

/// Checks a direction against an image.
pub(crate) fn check_direction(x: ArrayView4<f32>, s: ArrayView4<f32>) -> Result<()> {
    if x.shape() != s.shape() {
        return Err(Error::Shape(format!(
            "direction {:?} does not match the image {:?}",
            s.shape(),
            x.shape()
        )));
    }
    if s.iter().any(|v| !v.is_finite()) {
        return Err(Error::param("direction", "must be finite"));
    }
    Ok(())
}

impl Attack for Fgsm {
    fn name(&self) -> &'static str {
        "fgsm"
    }
    fn kind(&self) -> AttackKind {
        AttackKind::Direction
    }
    fn total_steps(&self, _ctx: &Context) -> usize {
        1
    }
    fn craft(
        &self,
        ctx: &Context,
        _rng: &mut ChaCha8Rng,
        _progress: &mut dyn FnMut(Progress) -> bool,
    ) -> Result<Crafted> {
        let p = ctx.params;
        let s = direction_unchecked(ctx.model, ctx.x.view(), ctx.goal, p.norm);
        let adversarial = apply_direction(ctx.x.view(), s.view(), p.eta);
        Ok(Crafted {
            adversarial,
            queries: 2,
            steps: 1,
        })
    }
}

/// The first-order picture along a direction `s`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LinearView {
    /// The goal's logit margin `m(x)` at the clean image (`m < 0`: already fooled; see [`Goal::margin`]).
    pub margin: f32,
    /// `∇m·s`: how fast the margin moves per unit η to first order (for the sign direction, `−‖∇m‖₁` when `s`
    /// is aligned with `−∇m`).
    pub slope: f32,
    /// `‖∇m‖₁`, the "sum over 784 small changes" of Goodfellow et al.
    pub grad_l1: f32,
    /// The η at which the linearised margin reaches 0: `m / (−∇m·s)`, when the slope is negative.
    pub predicted_flip_eta: Option<f32>,
}

/// The linear view (Goodfellow et al. 2015, §3): linearise the margin `m` of `goal` at `x` and predict the η at
/// which `x + η·s` flips (ignoring clipping). One forward and one backward pass.
pub fn linear_view(model: &dyn Classifier, x: ArrayView4<f32>, goal: Goal, s: ArrayView4<f32>) -> Result<LinearView> {
    check_image(model, x)?;
    check_direction(x, s)?;
    let x = x.as_standard_layout();
    let k = model.num_classes();
    let z = model.logits(x.view());
    let z = z.row(0).to_vec();
    goal.check(k, argmax(&z))?;
    let c = goal.class();
    let j = argmax_except(&z, c);
    // m = Z_c − Z_j (untargeted) or Z_j − Z_c (targeted).
    let sgn = if goal.is_targeted() { -1.0 } else { 1.0 };
    let mut d = Array2::<f32>::zeros((1, k));
    d[[0, c]] = sgn;
    d[[0, j]] = -sgn;
    let (_, g) = model.logits_vjp(x.view(), d.view());
    let g = std_layout(g);
    let gs = g.as_slice().expect("standard layout");
    let s = s.as_standard_layout();
    let slope = gs.iter().zip(s.iter()).map(|(&a, &b)| a as f64 * b as f64).sum::<f64>() as f32;
    let margin = goal.margin(&z);
    let predicted_flip_eta = (slope < 0.0 && margin > 0.0).then(|| margin / -slope);
    Ok(LinearView {
        margin,
        slope,
        grad_l1: norms::l1(gs),
        predicted_flip_eta,
    })
}

/// A random direction with the norm of an FGSM direction: seeded ±1 signs (L∞, `‖r‖∞ = 1`), scaled by `1/√n`
/// for L2 (`‖r‖₂ = 1`). Moving along it by η shows that random noise of the same size barely moves the model,
/// unlike the adversarial direction (Goodfellow et al. 2015, §3; Szegedy et al. 2014).
pub fn random_direction(n: usize, norm: Norm, seed: u64) -> Vec<f32> {
    use rand::{RngCore, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let scale = match norm {
        Norm::Linf => 1.0,
        Norm::L2 => 1.0 / (n.max(1) as f32).sqrt(),
    };
    (0..n)
        .map(|_| if rng.next_u32() & 1 == 0 { scale } else { -scale })
        .collect()
}
