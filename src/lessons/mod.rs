//! The math behind the page's guided lessons, in plain Rust (no wasm types; the boundary is `web/lessons.rs`).
//!
//! * **Linear view** (Goodfellow et al. 2015, §3): for a linear model `z = W x + b`, the FGSM direction that
//!   pushes the logit difference `z_t − z_y` of a target `t` over the true class `y` is `s = sign(w_t − w_y)`.
//!   Moving by `η·s` (ignoring clipping) changes `z_t − z_y` by exactly
//!   `Δ = η·Σᵢ |w_t,i − w_y,i| = η·m·n`, with `n` the number of inputs and `m = (1/n)·Σᵢ |w_t,i − w_y,i|`, the mean
//!   weight size. A tiny η summed over many inputs moves the output a lot: [`linear_decomposition`].
//! * **Resolution**: the same model class trained on box-averaged `R×R` inputs ([`downsample`]), so `n` grows
//!   from 49 to 784 and the flip η falls.
//! * **Robustness curves** (Madry et al. 2018): correct counts against η for a chunk of images
//!   ([`robustness_counts`]), with the conventions of [`crate::attacks::evaluate`] so that a curve assembled
//!   from chunks equals `advlab eval` on the same images.
//! * **One pixel** (Su et al. 2019): which pixel positions an attack changed ([`changed_pixels`]).

use ndarray::{s, Array1, Array2, Array4, ArrayView4, Axis};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::attacks::{
    apply_direction_into, argmax, argmax_except, fgsm_direction, image_seed, Attack, AttackParams, Classifier, Goal,
};
use crate::nn::{LayerSpec, Model};
use crate::{Error, Result};

/// Box-averages `[N, C, S, S]` images to `[N, C, r, r]` (`S` a multiple of `r`): each output pixel is the mean of
/// an `(S/r)×(S/r)` block. `r = S` returns a copy.
pub fn downsample(images: ArrayView4<f32>, r: usize) -> Result<Array4<f32>> {
    let [n, c, h, w] = [
        images.shape()[0],
        images.shape()[1],
        images.shape()[2],
        images.shape()[3],
    ];
    if r == 0 || h != w || h % r != 0 {
        return Err(Error::param(
            "resolution",
            format!("{h}×{w} images cannot be box-averaged to {r}×{r}"),
        ));
    }
    let f = h / r;
    let inv = 1.0 / (f * f) as f32;
    let mut out = Array4::<f32>::zeros((n, c, r, r));
    for i in 0..n {
        for ch in 0..c {
            for y in 0..r {
                for x in 0..r {
                    let block = images.slice(s![i, ch, y * f..(y + 1) * f, x * f..(x + 1) * f]);
                    out[[i, ch, y, x]] = block.sum() * inv;
                }
            }
        }
    }
    Ok(out)
}

/// The weights of a linear model (`Flatten` then one `Dense`): `W: [K, n]` and `b: [K]`.
pub fn linear_weights(model: &Model) -> Result<(Array2<f32>, Array1<f32>)> {
    let linear = matches!(model.spec(), [LayerSpec::Flatten, LayerSpec::Dense { .. }]);
    if !linear {
        return Err(Error::param(
            "model",
            "the linear view needs a linear model (flatten + one dense layer)",
        ));
    }
    let p = model.params();
    let (w, b) = (&p[0], &p[1]);
    let w =
        Array2::from_shape_vec((w.shape[0], w.shape[1]), w.data.to_vec()).map_err(|e| Error::Shape(e.to_string()))?;
    Ok((w, Array1::from(b.data.to_vec())))
}

/// The decomposition of the logit change along the linear FGSM direction (see the module docs).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Decomposition {
    /// The clean prediction `y` (the class the attack moves away from).
    pub true_class: usize,
    /// The class `t` pushed up.
    pub target: usize,
    pub eta: f32,
    /// Number of inputs.
    pub n: usize,
    /// `Σᵢ |w_t,i − w_y,i|`.
    pub l1: f32,
    /// `m = l1 / n`, the mean weight-difference size.
    pub m: f32,
    /// `Δ = η·l1 = η·m·n`: the change of `z_t − z_y` along `η·sign(w_t − w_y)` without clipping.
    pub delta: f32,
    /// `z_t − z_y` at the clean image.
    pub gap_before: f32,
    /// `z_t − z_y` at `clip(x + η·s)`: equals `gap_before + Δ` when no pixel is clipped, less otherwise.
    pub gap_after: f32,
    /// The prediction at `clip(x + η·s)`.
    pub pred_after: usize,
    /// `s = sign(w_t − w_y)` (0 where the weights are equal), flat.
    pub direction: Vec<f32>,
}

/// The linear view of `x` (flat, `n` values) for a linear model: `target = None` takes the runner-up class.
/// Sums are accumulated in f64.
pub fn linear_decomposition(model: &Model, x: &[f32], target: Option<usize>, eta: f32) -> Result<Decomposition> {
    let (w, b) = linear_weights(model)?;
    let (k, n) = w.dim();
    if x.len() != n {
        return Err(Error::Shape(format!(
            "the image has {} values, the model expects {n}",
            x.len()
        )));
    }
    crate::error::check_range("eta", eta, 0.0, 1.0)?;
    let logits = |v: &[f32]| -> Vec<f32> {
        (0..k)
            .map(|c| {
                let dot: f64 = w.row(c).iter().zip(v).map(|(&a, &b)| a as f64 * b as f64).sum();
                (dot + b[c] as f64) as f32
            })
            .collect()
    };
    let z = logits(x);
    let y = argmax(&z);
    let t = match target {
        Some(t) if t >= k => return Err(Error::param("target", format!("class {t} of {k}"))),
        Some(t) if t == y => return Err(Error::param("target", "the model already predicts this class")),
        Some(t) => t,
        None => argmax_except(&z, y),
    };
    let diff: Vec<f32> = w.row(t).iter().zip(w.row(y)).map(|(a, b)| a - b).collect();
    let l1: f64 = diff.iter().map(|d| d.abs() as f64).sum();
    let direction: Vec<f32> = diff
        .iter()
        .map(|&d| {
            if d > 0.0 {
                1.0
            } else if d < 0.0 {
                -1.0
            } else {
                0.0
            }
        })
        .collect();
    let mut adv = vec![0.0f32; n];
    apply_direction_into(&mut adv, x, &direction, eta);
    let za = logits(&adv);
    Ok(Decomposition {
        true_class: y,
        target: t,
        eta,
        n,
        l1: l1 as f32,
        m: (l1 / n as f64) as f32,
        delta: (eta as f64 * l1) as f32,
        gap_before: z[t] - z[y],
        gap_after: za[t] - za[y],
        pred_after: argmax(&za),
        direction,
    })
}

/// Correct counts under `attack` at each η of `etas`, for images `[N, C, H, W]` whose first one is image
/// `start` of the evaluation set. The conventions are [`crate::attacks::evaluate`]'s: only correctly classified
/// images are attacked (the others count as wrong at every η), image `i` uses the RNG
/// `image_seed(seed, start + i)`, `η = 0` is the clean accuracy. Summing the counts of the chunks `[0, a)`,
/// `[a, b)`, … and dividing by N gives `evaluate`'s adversarial accuracy at each η.
///
/// FGSM computes its direction once per image and applies it at every η (bit-identical to running the attack
/// per η, one backward pass instead of `etas.len()`). `progress(done)` after each image; `false` cancels.
#[allow(clippy::too_many_arguments)]
pub fn robustness_counts(
    model: &dyn Classifier,
    images: ArrayView4<f32>,
    labels: &[usize],
    attack: &dyn Attack,
    params: &AttackParams,
    etas: &[f32],
    start: usize,
    progress: &mut dyn FnMut(usize) -> bool,
) -> Result<Vec<u32>> {
    if images.shape()[0] != labels.len() {
        return Err(Error::Shape(format!(
            "{} images but {} labels",
            images.shape()[0],
            labels.len()
        )));
    }
    let [c, h, w] = model.input_shape();
    if images.shape()[1..] != [c, h, w] {
        return Err(Error::Shape(format!(
            "expected images [N, {c}, {h}, {w}], got {:?}",
            images.shape()
        )));
    }
    let mut counts = vec![0u32; etas.len()];
    let sz = c * h * w;
    for (i, &y) in labels.iter().enumerate() {
        let x = images.slice(s![i..i + 1, .., .., ..]);
        let x = x.as_standard_layout();
        if model.predict(x.view())[0] != y {
            if !progress(i + 1) {
                return Err(Error::Cancelled);
            }
            continue;
        }
        let goal = Goal::Untargeted { true_class: y };
        if attack.name() == "fgsm" {
            let s = fgsm_direction(model, x.view(), goal, params.norm)?;
            let xs = x.as_slice().expect("standard layout");
            let ss = s.as_slice().expect("standard layout");
            let mut batch = vec![0.0f32; etas.len() * sz];
            for (k, &eta) in etas.iter().enumerate() {
                apply_direction_into(&mut batch[k * sz..(k + 1) * sz], xs, ss, eta);
            }
            let b = Array4::from_shape_vec((etas.len(), c, h, w), batch).map_err(|e| Error::Shape(e.to_string()))?;
            for (k, p) in model.predict(b.view()).into_iter().enumerate() {
                counts[k] += (p == y) as u32;
            }
        } else {
            for (k, &eta) in etas.iter().enumerate() {
                let p = AttackParams { eta, ..params.clone() };
                let mut rng = ChaCha8Rng::seed_from_u64(image_seed(params.seed, start + i));
                let r = attack.run(model, x.view(), goal, &p, &mut rng, &mut |_| true)?;
                counts[k] += (r.pred_after == y) as u32;
            }
        }
        if !progress(i + 1) {
            return Err(Error::Cancelled);
        }
    }
    Ok(counts)
}

/// Untargeted FGSM flip η of each image (`[N, C, H, W]`) on `model`, searched on the grid `k·step ≤ max_eta`
/// ([`crate::attacks::flip_eta`]); `None` where the grid holds no flip.
pub fn flip_etas(model: &dyn Classifier, images: ArrayView4<f32>, max_eta: f32, step: f32) -> Result<Vec<Option<f32>>> {
    images
        .axis_iter(Axis(0))
        .map(|img| {
            let x = img.insert_axis(Axis(0));
            let x = x.as_standard_layout();
            let y = model.predict(x.view())[0];
            let goal = Goal::Untargeted { true_class: y };
            let s = fgsm_direction(model, x.view(), goal, crate::attacks::Norm::Linf)?;
            crate::attacks::flip_eta(model, x.view(), goal, s.view(), max_eta, step)
        })
        .collect()
}

/// The pixel positions (`y·W + x`) where `after` differs from `before` in any channel; both flat `[C, H, W]`.
pub fn changed_pixels(before: &[f32], after: &[f32], channels: usize) -> Result<Vec<usize>> {
    if before.len() != after.len() || channels == 0 || !before.len().is_multiple_of(channels) {
        return Err(Error::Shape(format!(
            "{} and {} values in {channels} channels",
            before.len(),
            after.len()
        )));
    }
    let plane = before.len() / channels;
    Ok((0..plane)
        .filter(|&p| (0..channels).any(|c| before[c * plane + p] != after[c * plane + p]))
        .collect())
}

/// The median of the values that are present; `None` when none is.
pub fn median(values: &[Option<f32>]) -> Option<f32> {
    let mut v: Vec<f32> = values.iter().flatten().copied().collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f32::total_cmp);
    let m = v.len() / 2;
    Some(if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    })
}
