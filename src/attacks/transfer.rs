//! Evaluation over a data set and transfer between models (DESIGN.md's evaluation protocol).
//!
//! Conventions, shared by [`evaluate`] and [`transfer`]:
//! * only images the (source) model classifies correctly are attacked; the others keep `x' = x` and count as
//!   errors under attack;
//! * targeted runs aim image `i` at class `(labels[i] + 1) % K`;
//! * image `i` is attacked with its own RNG seeded by [`image_seed`]`(seed, i)`, so a report does not depend on
//!   the order or the number of threads (natively, images run in parallel with rayon; in wasm, in order).

use ndarray::{s, Array4, ArrayView4, Axis};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use super::{Attack, AttackParams, AttackResult, Classifier, Goal};
use crate::error::{Error, Result};

/// Images per forward pass for clean accuracy.
const BATCH: usize = 256;

/// The seed of image `i`'s RNG: SplitMix64 of `seed` mixed with SplitMix64 of `i`.
pub fn image_seed(seed: u64, i: usize) -> u64 {
    fn splitmix64(mut z: u64) -> u64 {
        z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    splitmix64(seed ^ splitmix64(i as u64))
}

/// The result of [`evaluate`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvalReport {
    pub attack: String,
    pub targeted: bool,
    pub eta: f32,
    /// Images evaluated.
    pub n: usize,
    /// Images correctly classified before the attack (the ones attacked).
    pub attacked: usize,
    pub clean_accuracy: f32,
    /// Accuracy on the adversarial images, over all `n`.
    pub adversarial_accuracy: f32,
    /// Share of the attacked images where the attack reaches its goal.
    pub success_rate: f32,
    /// Mean `‖δ‖∞`, `‖δ‖₂`, `‖δ‖₀` over the successful attacks (0 when none).
    pub mean_linf: f32,
    pub mean_l2: f32,
    pub mean_l0: f32,
    /// Mean relative size `ρ = ‖δ‖₂ / ‖x‖₂` over the successful attacks (DeepFool's robustness measure,
    /// Moosavi-Dezfooli et al. 2016, eq. 15).
    pub mean_rho: f32,
    /// Mean queries over the attacked images.
    pub mean_queries: f32,
    /// One character per image, in order: `1` when the image is still classified correctly after the attack, `0`
    /// otherwise (also when it was misclassified to begin with). Lets two attacks on the same images be combined
    /// per image, e.g. the worst case of a white-box and a black-box attack.
    pub outcomes: String,
}

/// The result of [`transfer`]: adversarials crafted on `source`, evaluated on `target`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TransferStats {
    pub n: usize,
    pub source_clean_accuracy: f32,
    pub source_adversarial_accuracy: f32,
    /// Share of the attacked images where the attack reaches its goal on the source.
    pub source_success_rate: f32,
    pub target_clean_accuracy: f32,
    /// Accuracy of the target model on the adversarial images (all `n`).
    pub target_adversarial_accuracy: f32,
    /// Share of the source-successful adversarials that also reach the goal on the target.
    pub transfer_rate: f32,
}

pub(crate) fn par_map<T: Send>(n: usize, f: impl Fn(usize) -> T + Sync + Send) -> Vec<T> {
    #[cfg(not(target_arch = "wasm32"))]
    {
        use rayon::prelude::*;
        (0..n).into_par_iter().map(f).collect()
    }
    #[cfg(target_arch = "wasm32")]
    {
        (0..n).map(f).collect()
    }
}

/// Predictions in batches.
fn predict_all(model: &dyn Classifier, images: ArrayView4<f32>) -> Vec<usize> {
    let n = images.shape()[0];
    let mut out = Vec::with_capacity(n);
    let mut i = 0;
    while i < n {
        let j = (i + BATCH).min(n);
        out.extend(model.predict(images.slice(s![i..j, .., .., ..])));
        i = j;
    }
    out
}

fn check_data(model: &dyn Classifier, images: ArrayView4<f32>, labels: &[usize]) -> Result<()> {
    let [c, h, w] = model.input_shape();
    let sh = images.shape();
    if sh[1..] != [c, h, w] {
        return Err(Error::Shape(format!("expected images [N, {c}, {h}, {w}], got {sh:?}")));
    }
    if sh[0] != labels.len() {
        return Err(Error::Shape(format!("{} images but {} labels", sh[0], labels.len())));
    }
    let k = model.num_classes();
    if let Some(&l) = labels.iter().find(|&&l| l >= k) {
        return Err(Error::param(
            "labels",
            format!("label {l} out of range for {k} classes"),
        ));
    }
    Ok(())
}

fn goal_of(label: usize, targeted: bool, k: usize) -> Goal {
    if targeted {
        Goal::Targeted {
            target: (label + 1) % k,
        }
    } else {
        Goal::Untargeted { true_class: label }
    }
}

/// Attacks every correctly classified image; `None` for the others.
#[allow(clippy::too_many_arguments)]
fn attack_all(
    model: &dyn Classifier,
    images: ArrayView4<f32>,
    labels: &[usize],
    preds: &[usize],
    attack: &dyn Attack,
    params: &AttackParams,
    targeted: bool,
    seed: u64,
) -> Result<Vec<Option<AttackResult>>> {
    let k = model.num_classes();
    par_map(labels.len(), |i| {
        if preds[i] != labels[i] {
            return Ok(None);
        }
        let mut rng = ChaCha8Rng::seed_from_u64(image_seed(seed, i));
        let x = images.slice(s![i..i + 1, .., .., ..]);
        attack
            .run(model, x, goal_of(labels[i], targeted, k), params, &mut rng, &mut |_| {
                true
            })
            .map(Some)
    })
    .into_iter()
    .collect()
}

fn ratio(a: usize, b: usize) -> f32 {
    if b == 0 {
        0.0
    } else {
        (a as f64 / b as f64) as f32
    }
}

/// Runs `attack` on every image (see the module docs for the conventions) and summarises.
pub fn evaluate(
    model: &dyn Classifier,
    images: ArrayView4<f32>,
    labels: &[usize],
    attack: &dyn Attack,
    params: &AttackParams,
    targeted: bool,
    seed: u64,
) -> Result<EvalReport> {
    params.validate_for(model.input_shape())?;
    check_data(model, images, labels)?;
    if targeted && model.num_classes() < 2 {
        return Err(Error::param("targeted", "needs at least two classes"));
    }
    let n = labels.len();
    let preds = predict_all(model, images);
    let results = attack_all(model, images, labels, &preds, attack, params, targeted, seed)?;
    let correct = results.iter().filter(|r| r.is_some()).count();
    let (mut adv_correct, mut succ, mut linf, mut l2, mut l0, mut q) = (0usize, 0usize, 0f64, 0f64, 0f64, 0f64);
    let mut rho = 0f64;
    let mut outcomes = String::with_capacity(n);
    for (i, (r, &y)) in results.iter().zip(labels).enumerate() {
        outcomes.push(if r.as_ref().is_some_and(|r| r.pred_after == y) {
            '1'
        } else {
            '0'
        });
        let Some(r) = r else { continue };
        adv_correct += (r.pred_after == y) as usize;
        q += r.queries as f64;
        if r.flipped {
            succ += 1;
            linf += r.linf as f64;
            l2 += r.l2 as f64;
            l0 += r.l0 as f64;
            let x_norm = images
                .slice(s![i, .., .., ..])
                .iter()
                .map(|&v| (v as f64) * (v as f64))
                .sum::<f64>()
                .sqrt();
            if x_norm > 0.0 {
                rho += r.l2 as f64 / x_norm;
            }
        }
    }
    let mean = |s: f64, d: usize| if d == 0 { 0.0 } else { (s / d as f64) as f32 };
    Ok(EvalReport {
        attack: attack.name().to_string(),
        targeted,
        eta: params.eta,
        n,
        attacked: correct,
        clean_accuracy: ratio(correct, n),
        adversarial_accuracy: ratio(adv_correct, n),
        success_rate: ratio(succ, correct),
        mean_linf: mean(linf, succ),
        mean_l2: mean(l2, succ),
        mean_l0: mean(l0, succ),
        mean_rho: mean(rho, succ),
        mean_queries: mean(q, correct),
        outcomes,
    })
}

/// Crafts adversarials on `source` and measures how they transfer to `target` (both must take the same input
/// shape and have the same classes). See the module docs for the conventions.
#[allow(clippy::too_many_arguments)]
pub fn transfer(
    source: &dyn Classifier,
    target: &dyn Classifier,
    images: ArrayView4<f32>,
    labels: &[usize],
    attack: &dyn Attack,
    params: &AttackParams,
    targeted: bool,
    seed: u64,
) -> Result<TransferStats> {
    params.validate_for(source.input_shape())?;
    check_data(source, images, labels)?;
    check_data(target, images, labels)?;
    if source.num_classes() != target.num_classes() {
        return Err(Error::Shape(format!(
            "source has {} classes, target {}",
            source.num_classes(),
            target.num_classes()
        )));
    }
    let k = source.num_classes();
    let n = labels.len();
    let preds = predict_all(source, images);
    let results = attack_all(source, images, labels, &preds, attack, params, targeted, seed)?;
    let mut adv: Array4<f32> = images.to_owned();
    for (i, r) in results.iter().enumerate() {
        if let Some(r) = r {
            adv.index_axis_mut(Axis(0), i)
                .assign(&r.adversarial.index_axis(Axis(0), 0));
        }
    }
    let t_clean = predict_all(target, images);
    let t_adv = predict_all(target, adv.view());
    let attacked = results.iter().filter(|r| r.is_some()).count();
    let (mut s_adv_correct, mut s_succ, mut both) = (0, 0, 0);
    for (i, r) in results.iter().enumerate() {
        let Some(r) = r else { continue };
        s_adv_correct += (r.pred_after == labels[i]) as usize;
        if r.flipped {
            s_succ += 1;
            both += goal_of(labels[i], targeted, k).is_success(t_adv[i]) as usize;
        }
    }
    let count = |p: &[usize]| p.iter().zip(labels).filter(|(a, b)| a == b).count();
    Ok(TransferStats {
        n,
        source_clean_accuracy: ratio(attacked, n),
        source_adversarial_accuracy: ratio(s_adv_correct, n),
        source_success_rate: ratio(s_succ, attacked),
        target_clean_accuracy: ratio(count(&t_clean), n),
        target_adversarial_accuracy: ratio(count(&t_adv), n),
        transfer_rate: ratio(both, s_succ),
    })
}
