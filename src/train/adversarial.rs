//! Adversarial training as [`BatchTransform`](super::BatchTransform) hooks: each clean batch is replaced by
//! L∞ adversarial examples crafted on the *current* model, so the optimiser minimises the robust loss
//! `E max_{‖δ‖∞ ≤ ε} L(f(x + δ), y)` (Madry et al. 2018, "Towards Deep Learning Models Resistant to Adversarial
//! Attacks", eq. 2.1).
//!
//! - [`fgsm`]: plain FGSM, no random start (Goodfellow, Shlens & Szegedy 2015, "Explaining and Harnessing
//!   Adversarial Examples", §5): `x' = clip_[0,1](x + ε·sign(∇ₓ L(x, y)))`. Goodfellow's objective (eq. 6) is
//!   `J̃(θ, x, y) = α·J(θ, x, y) + (1 − α)·J(θ, x', y)` with `α = 0.5`; with `clean_fraction = 0.5` each batch is
//!   half clean, half FGSM (Kurakin, Goodfellow & Bengio 2017, "Adversarial Machine Learning at Scale", Alg. 1),
//!   which is eq. 6 with `α = 0.5` in expectation. One extra gradient for the adversarial half. It is the weak
//!   recipe on purpose: the single, deterministic step lets the network learn a loss surface on which FGSM's
//!   linear step is useless (catastrophic overfitting, Wong et al. 2020 §4) and whose FGSM examples even give
//!   the label away (label leaking, Kurakin et al. 2017 §4.2), while iterative attacks still break it.
//! - [`fgsm_rs`]: FGSM with a random start (Wong, Rice & Kolter 2020, "Fast is better than free"):
//!   `δ₀ ~ U[-ε, ε]ⁿ`, `δ = clip_ε(δ₀ + α·sign(∇ₓ L(x + δ₀)))`, `x' = clip_[0,1](x + δ)`, with `α = 1.25 ε`.
//!   One extra gradient per batch (≈ 2× the cost of clean training).
//! - [`pgd`]: projected gradient descent with a random start (Madry 2018): `k` steps
//!   `δ ← clip_ε(δ + α·sign(∇ₓ L(x + δ)))`, each followed by the projection onto `[0,1]`. `k + 1` times the cost.
//!
//! All three can ramp ε linearly from 0 over the first `warmup_batches` batches (a common stabiliser for the
//! large ε = 0.3 of MNIST: the network first learns the digits, then the adversary grows), and can keep a fraction
//! of each batch clean. They never mutate their input (the clean batch is consumed and a new one returned), keep
//! every example within `‖x' − x‖∞ ≤ ε` and inside `[0, 1]`, and draw randomness only from the hook's stream, so a
//! seed reproduces the run bit for bit.

use ndarray::{Array4, Axis, Zip};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::trainer::Batch;
use crate::error::{check_range, Error, Result};
use crate::nn::Model;

/// Which inner maximisation an adversarial-training run uses.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "kebab-case")]
pub enum AdvMethod {
    /// Plain FGSM from the clean image, step ε, no random start (Goodfellow et al. 2015).
    Fgsm,
    /// FGSM with random start, step `alpha` (Wong et al. 2020).
    FgsmRs { alpha: f32 },
    /// PGD with random start, `steps` steps of size `alpha` (Madry et al. 2018).
    Pgd { steps: usize, alpha: f32 },
}

/// The recipe of an adversarial-training hook (serialised into the weight file's `training.adversarial`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AdvConfig {
    /// L∞ budget ε of the training adversary (pixels in [0, 1]).
    pub eps: f32,
    #[serde(flatten)]
    pub method: AdvMethod,
    /// ε grows linearly from 0 to `eps` over this many batches (0: full ε from the start).
    pub warmup_batches: usize,
    /// Fraction of each batch left clean (0: train on adversarial examples only, as Madry and Wong do).
    pub clean_fraction: f32,
}

impl AdvConfig {
    /// Plain FGSM at ε, Goodfellow et al.'s eq. 6 with `α = 0.5`: half of each batch clean, half FGSM.
    pub fn fgsm(eps: f32) -> AdvConfig {
        AdvConfig {
            eps,
            method: AdvMethod::Fgsm,
            warmup_batches: 0,
            clean_fraction: 0.5,
        }
    }

    /// FGSM-RS with Wong et al.'s step `α = 1.25 ε`.
    pub fn fgsm_rs(eps: f32) -> AdvConfig {
        AdvConfig {
            eps,
            method: AdvMethod::FgsmRs { alpha: 1.25 * eps },
            warmup_batches: 0,
            clean_fraction: 0.0,
        }
    }

    /// PGD-`steps` with step `α = 2.5 ε / steps` (Madry et al.'s rule of thumb).
    pub fn pgd(eps: f32, steps: usize) -> AdvConfig {
        AdvConfig {
            eps,
            method: AdvMethod::Pgd {
                steps,
                alpha: 2.5 * eps / steps.max(1) as f32,
            },
            warmup_batches: 0,
            clean_fraction: 0.0,
        }
    }

    /// Rejects values outside their domain with [`Error::InvalidParameter`].
    pub fn validate(&self) -> Result<()> {
        check_range("eps", self.eps, 0.0, 1.0)?;
        check_range("clean_fraction", self.clean_fraction, 0.0, 1.0)?;
        match self.method {
            AdvMethod::Fgsm => {}
            AdvMethod::FgsmRs { alpha } => {
                check_range("alpha", alpha, 0.0, 2.0)?;
            }
            AdvMethod::Pgd { steps, alpha } => {
                if steps == 0 || steps > 1000 {
                    return Err(Error::param("steps", format!("must lie in 1..=1000, got {steps}")));
                }
                check_range("alpha", alpha, 0.0, 2.0)?;
            }
        }
        Ok(())
    }

    /// ε in effect at batch `t` (0-based) of the run.
    pub fn eps_at(&self, t: usize) -> f32 {
        if self.warmup_batches == 0 || t >= self.warmup_batches {
            self.eps
        } else {
            self.eps * (t + 1) as f32 / self.warmup_batches as f32
        }
    }
}

/// Projects `adv` onto the ε-ball around `x` intersected with `[0, 1]`, in place.
pub fn project(adv: &mut Array4<f32>, x: &Array4<f32>, eps: f32) {
    Zip::from(adv).and(x).for_each(|a, &c| {
        *a = a.clamp(c - eps, c + eps).clamp(0.0, 1.0);
    });
}

/// One signed-gradient ascent step of size `alpha` on the cross-entropy of `model` at `adv`, then the projection
/// onto the ε-ball around `x` and `[0, 1]`.
pub fn signed_step(model: &Model, adv: &mut Array4<f32>, x: &Array4<f32>, labels: &[usize], alpha: f32, eps: f32) {
    let (_, g) = model.input_gradient(adv.view(), labels);
    Zip::from(&mut *adv).and(&g).for_each(|a, &gi| {
        *a += alpha * sign(gi);
    });
    project(adv, x, eps);
}

/// `sign` with `sign(0) = 0` (a flat pixel is not moved): [`crate::nn::ops::sign`].
pub use crate::nn::ops::sign;

/// `x + U[-ε, ε]`, projected onto `[0, 1]`.
pub fn uniform_start(x: &Array4<f32>, eps: f32, rng: &mut ChaCha8Rng) -> Array4<f32> {
    let mut adv = x.clone();
    if eps > 0.0 {
        adv.iter_mut()
            .for_each(|a| *a = (*a + rng.random_range(-eps..=eps)).clamp(0.0, 1.0));
    }
    adv
}

/// Crafts the adversarial version of `x` under `model` with `method` at budget `eps` (random start included,
/// except for [`AdvMethod::Fgsm`], which starts at `x` and draws nothing from `rng`).
pub fn craft(
    model: &Model,
    x: &Array4<f32>,
    labels: &[usize],
    method: AdvMethod,
    eps: f32,
    rng: &mut ChaCha8Rng,
) -> Array4<f32> {
    if eps == 0.0 {
        return x.clone();
    }
    match method {
        AdvMethod::Fgsm => {
            let mut adv = x.clone();
            signed_step(model, &mut adv, x, labels, eps, eps);
            adv
        }
        AdvMethod::FgsmRs { alpha } => {
            let mut adv = uniform_start(x, eps, rng);
            signed_step(model, &mut adv, x, labels, alpha, eps);
            adv
        }
        AdvMethod::Pgd { steps, alpha } => {
            let mut adv = uniform_start(x, eps, rng);
            for _ in 0..steps {
                signed_step(model, &mut adv, x, labels, alpha, eps);
            }
            adv
        }
    }
}

/// The adversarial-training hook for [`train_with`](super::train_with): every batch is replaced by its
/// adversarial version on the current model (its first `⌊clean_fraction·B⌋` images stay clean). Invalid configs
/// are reported at the first batch.
pub fn adversarial(cfg: AdvConfig) -> impl FnMut(&Model, Batch, &mut ChaCha8Rng) -> Result<Batch> {
    let mut t = 0usize;
    move |model, batch, rng| {
        cfg.validate()?;
        let eps = cfg.eps_at(t);
        t += 1;
        let n = batch.labels.len();
        let keep = ((cfg.clean_fraction * n as f32).floor() as usize).min(n);
        if keep == n {
            return Ok(batch);
        }
        let x = batch.images.slice_axis(Axis(0), (keep..n).into()).to_owned();
        let adv = craft(model, &x, &batch.labels[keep..], cfg.method, eps, rng);
        let mut images = batch.images;
        images.slice_axis_mut(Axis(0), (keep..n).into()).assign(&adv);
        Ok(Batch {
            images,
            labels: batch.labels,
        })
    }
}
