//! Ensemble adversarial training (Tramèr, Kurakin, Papernot, Goodfellow, Boneh & McDaniel 2018, "Ensemble
//! Adversarial Training: Attacks and Defenses", §3.3 and Algorithm 1) as a
//! [`BatchTransform`](super::BatchTransform) hook.
//!
//! Training on adversarial examples of the model itself teaches it to mask its own gradient (the loss surface
//! curves near the data, so single-step attacks crafted on it are weak) while black-box attacks transferred from
//! other models still work. Tramèr et al. decouple the adversary from the model being trained: each batch, the
//! adversarial half is crafted on one source drawn from `{current model, static pre-trained models}`, alternating
//! between them; the other half stays clean. The attack is R+FGSM:
//!
//! `x' = x + α·sign(N(0, I))`,  `x_adv = clip_[0,1](x' + (ε − α)·sign(∇ₓ′ L(f_src(x'), y)))`,  `α = ε/2`,
//!
//! so `‖x_adv − x‖∞ ≤ ε`. The static models never change; their gradients are pure transfer examples.

use ndarray::{Array4, Axis, Zip};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::adversarial::{project, sign};
use super::trainer::Batch;
use crate::error::{check_range, Error, Result};
use crate::nn::Model;

/// The recipe of an ensemble-adversarial-training hook (serialised into `training.adversarial`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnsembleConfig {
    /// L∞ budget ε.
    pub eps: f32,
    /// Size of the random step of R+FGSM (Tramèr: α = ε/2).
    pub alpha: f32,
    /// Names of the static source models, for the record.
    pub sources: Vec<String>,
    /// Fraction of each batch replaced by adversarial examples (Tramèr: one half).
    pub adversarial_fraction: f32,
    /// Whether the current model is one of the sources it alternates over (Tramèr's Algorithm 1: yes).
    pub include_current: bool,
}

impl EnsembleConfig {
    /// Tramèr's recipe: R+FGSM with α = ε/2, half the batch adversarial, current model included.
    pub fn new(eps: f32, sources: Vec<String>) -> EnsembleConfig {
        EnsembleConfig {
            eps,
            alpha: eps / 2.0,
            sources,
            adversarial_fraction: 0.5,
            include_current: true,
        }
    }

    pub fn validate(&self, static_models: usize) -> Result<()> {
        check_range("eps", self.eps, 0.0, 1.0)?;
        check_range("alpha", self.alpha, 0.0, self.eps)?;
        check_range("adversarial_fraction", self.adversarial_fraction, 0.0, 1.0)?;
        if static_models == 0 && !self.include_current {
            return Err(Error::param(
                "sources",
                "ensemble training needs at least one source model",
            ));
        }
        Ok(())
    }
}

/// R+FGSM (Tramèr 2018, eq. 6) of `x` on `source`: a random signed step of `alpha`, then an FGSM step of
/// `eps − alpha` from there; the result lies in `[0, 1]` and within ε of `x`.
pub fn r_fgsm(
    source: &Model,
    x: &Array4<f32>,
    labels: &[usize],
    eps: f32,
    alpha: f32,
    rng: &mut ChaCha8Rng,
) -> Array4<f32> {
    let mut start = x.clone();
    start.iter_mut().for_each(|v| {
        // sign(N(0, 1)) is a fair ±1 coin.
        let s = if rng.random::<bool>() { 1.0 } else { -1.0 };
        *v = (*v + alpha * s).clamp(0.0, 1.0);
    });
    let (_, g) = source.input_gradient(start.view(), labels);
    let mut adv = start;
    Zip::from(&mut adv)
        .and(&g)
        .for_each(|a, &gi| *a += (eps - alpha) * sign(gi));
    project(&mut adv, x, eps);
    adv
}

/// The ensemble-adversarial-training hook. Batch `t` takes its source from the cycle
/// `[current?, static_0, static_1, …]` (index `t mod len`), replaces a random-free, fixed part of the batch (its
/// last `⌈adversarial_fraction·B⌉` images) by R+FGSM examples on that source, and keeps the rest clean.
/// Static models must take the trained model's input shape and class count.
pub fn ensemble(
    cfg: EnsembleConfig,
    static_models: Vec<Model>,
) -> impl FnMut(&Model, Batch, &mut ChaCha8Rng) -> Result<Batch> {
    let mut t = 0usize;
    move |model, batch, rng| {
        cfg.validate(static_models.len())?;
        for s in &static_models {
            if s.input_shape() != model.input_shape() || s.num_classes() != model.num_classes() {
                return Err(Error::param(
                    "sources",
                    "a source model's input shape or class count differs from the trained model's",
                ));
            }
        }
        let cycle = static_models.len() + usize::from(cfg.include_current);
        let pick = t % cycle;
        t += 1;
        let source = if cfg.include_current {
            if pick == 0 {
                model
            } else {
                &static_models[pick - 1]
            }
        } else {
            &static_models[pick]
        };
        let n = batch.labels.len();
        let adv_n = ((cfg.adversarial_fraction * n as f32).ceil() as usize).min(n);
        if adv_n == 0 {
            // Keep the stream's consumption independent of the batch split.
            let _: u32 = rng.random();
            return Ok(batch);
        }
        let keep = n - adv_n;
        let x = batch.images.slice_axis(Axis(0), (keep..n).into()).to_owned();
        let adv = r_fgsm(source, &x, &batch.labels[keep..], cfg.eps, cfg.alpha, rng);
        let mut images = batch.images;
        images.slice_axis_mut(Axis(0), (keep..n).into()).assign(&adv);
        Ok(Batch {
            images,
            labels: batch.labels,
        })
    }
}
