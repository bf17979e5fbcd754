//! The flip point on the η slider: the smallest grid η at which a direction attack fools the model.

use ndarray::{Array4, ArrayView4};

use super::fgsm::{apply_direction_into, check_direction};
use super::{argmax, check_image, Classifier, Goal};
use crate::error::{Error, Result};

/// The slider's grid step.
pub const FLIP_STEP: f32 = 0.001;

/// Input values evaluated per forward pass: 64 digits (64·784), or one 224×224 photo, so a photo's search holds
/// one image's activations at a time (a batch of 64 photos would need gigabytes) and stops after its first flip.
const BATCH_VALUES: usize = 64 * 784;

/// Largest grid index searched (η up to 1000 steps of 0.001… far past any useful η for a 0.001 step; guards
/// against a huge `max_eta / step`).
const MAX_GRID: usize = 1_000_000;

/// The smallest `η = k·step` (`k = 1, 2, …`, computed as `k as f32 * step`, with `η ≤ max_eta`) at which the
/// prediction on [`super::apply_direction`]`(x, s, η)` differs from the clean prediction (untargeted) or equals the target
/// (targeted). `None` when no grid point up to `max_eta` does.
///
/// Grid points are evaluated in batches of `max(1, 50 176 / (C·H·W))` (64 for digits, 1 for photos) with an
/// early exit; the arithmetic is plain `f32`, so the answer is
/// the same natively and in wasm (given a model whose forward pass is).
pub fn flip_eta(
    model: &dyn Classifier,
    x: ArrayView4<f32>,
    goal: Goal,
    direction: ArrayView4<f32>,
    max_eta: f32,
    step: f32,
) -> Result<Option<f32>> {
    check_image(model, x)?;
    check_direction(x, direction)?;
    if !max_eta.is_finite() || max_eta < 0.0 {
        return Err(Error::param(
            "max_eta",
            format!("must be a finite number ≥ 0, got {max_eta}"),
        ));
    }
    if !step.is_finite() || step <= 0.0 {
        return Err(Error::param("step", format!("must be a finite number > 0, got {step}")));
    }
    let x = x.as_standard_layout();
    let clean = argmax(model.logits(x.view()).row(0).as_slice().expect("contiguous"));
    goal.check(model.num_classes(), clean)?;
    let fooled = |pred: usize| match goal {
        Goal::Untargeted { .. } => pred != clean,
        Goal::Targeted { target } => pred == target,
    };
    if max_eta / step > MAX_GRID as f32 {
        return Err(Error::param(
            "max_eta",
            format!("grid too fine: more than {MAX_GRID} points"),
        ));
    }
    // The largest k with k·step ≤ max_eta, exactly as f32 computes k·step.
    let mut k_max = (max_eta / step) as usize;
    while k_max > 0 && k_max as f32 * step > max_eta {
        k_max -= 1;
    }
    while ((k_max + 1) as f32 * step) <= max_eta {
        k_max += 1;
    }
    let [c, h, w] = model.input_shape();
    let direction = direction.as_standard_layout();
    let ds = direction.as_slice().expect("standard layout");
    let batch_points = (BATCH_VALUES / (c * h * w)).max(1);
    let mut k = 1;
    while k <= k_max {
        let n = batch_points.min(k_max - k + 1);
        let mut batch = Array4::<f32>::zeros((n, c, h, w));
        let xs = x.as_slice().expect("standard layout");
        for (i, out) in batch
            .as_slice_mut()
            .expect("standard layout")
            .chunks_exact_mut(xs.len())
            .enumerate()
        {
            apply_direction_into(out, xs, ds, (k + i) as f32 * step);
        }
        let z = model.logits(batch.view());
        for (i, row) in z.rows().into_iter().enumerate() {
            if fooled(argmax(row.as_slice().expect("contiguous"))) {
                return Ok(Some((k + i) as f32 * step));
            }
        }
        k += n;
    }
    Ok(None)
}
