//! The lessons' calls (`www/lessons/`): the linear view, the resolution flip points, robustness-curve chunks for
//! the worker pool, and the changed pixels of a one-pixel attack. The math is in [`crate::lessons`].

use js_sys::{Float32Array, Uint32Array};
use ndarray::{Array4, ArrayView4};
use wasm_bindgen::prelude::*;

use super::dto::JsObject;
use super::errors::{to_js, IntoJs};
use super::session::{image_view, resolve_params, throttled};
use super::Session;
use crate::attacks::{by_name, EtaCaps, FLIP_STEP};
use crate::lessons;
use crate::Error;

type JsResult<T> = std::result::Result<T, JsError>;

/// `n` images of `C×H×W` values, flat, as `[n, C, H, W]`, checked to lie in `[0, 1]`.
fn batch(pixels: &[f32], shape: [usize; 3]) -> crate::Result<ArrayView4<'_, f32>> {
    let [c, h, w] = shape;
    let sz = c * h * w;
    if sz == 0 || !pixels.len().is_multiple_of(sz) {
        return Err(Error::Shape(format!(
            "{} values are not whole {c}×{h}×{w} images",
            pixels.len()
        )));
    }
    if let Some(bad) = pixels.iter().find(|p| !p.is_finite() || **p < 0.0 || **p > 1.0) {
        return Err(Error::param(
            "images",
            format!("pixels must lie in [0, 1], found {bad}"),
        ));
    }
    ArrayView4::from_shape((pixels.len() / sz, c, h, w), pixels).map_err(|e| Error::Shape(e.to_string()))
}

/// Box-averages `n` square grayscale images of side `side` (flat) to `r×r` each ([`lessons::downsample`]).
#[wasm_bindgen(js_name = downsample)]
pub fn downsample_js(pixels: &[f32], side: usize, r: usize) -> JsResult<Float32Array> {
    let x = batch(pixels, [1, side, side]).js()?;
    let d = lessons::downsample(x, r).js()?;
    Ok(Float32Array::from(d.as_slice().unwrap_or(&[])))
}

/// The positions `y·W + x` where `after` differs from `before` (flat `[C, H, W]`): a one-pixel attack's circles.
#[wasm_bindgen(js_name = changedPixels)]
pub fn changed_pixels_js(before: &[f32], after: &[f32], channels: usize) -> JsResult<Uint32Array> {
    let p = lessons::changed_pixels(before, after, channels).js()?;
    let p: Vec<u32> = p.into_iter().map(|v| v as u32).collect();
    Ok(Uint32Array::from(&p[..]))
}

#[wasm_bindgen]
impl Session {
    /// A linear model's weights: `{w: Float32Array(K·n), b: Float32Array(K), classes: K, inputs: n, side}`.
    #[wasm_bindgen(js_name = linearWeights)]
    pub fn linear_weights(&self, id: &str) -> JsResult<JsValue> {
        let l = self.get(id).js()?;
        let (w, b) = lessons::linear_weights(&l.model).js()?;
        let [_, h, _] = l.model.input_shape();
        Ok(JsObject::new()
            .set("w", Float32Array::from(w.as_slice().unwrap_or(&[])))
            .set("b", Float32Array::from(b.as_slice().unwrap_or(&[])))
            .set("classes", w.nrows() as u32)
            .set("inputs", w.ncols() as u32)
            .set("side", h as u32)
            .into())
    }

    /// The decomposition `Δ = η·Σ|w_t − w_y| = η·m·n` of the logit-difference change along `sign(w_t − w_y)`
    /// ([`lessons::linear_decomposition`]); `target` < 0 takes the runner-up class. `pixels` at the model's size.
    #[wasm_bindgen(js_name = linearDecomposition)]
    pub fn linear_decomposition(&self, id: &str, pixels: &[f32], target: i32, eta: f32) -> JsResult<JsValue> {
        let l = self.get(id).js()?;
        image_view(&l.model, pixels).js()?;
        let t = (target >= 0).then_some(target as usize);
        let d = lessons::linear_decomposition(&l.model, pixels, t, eta).js()?;
        Ok(JsObject::new()
            .set("trueClass", d.true_class as u32)
            .set("target", d.target as u32)
            .set("eta", d.eta)
            .set("n", d.n as u32)
            .set("l1", d.l1)
            .set("m", d.m)
            .set("delta", d.delta)
            .set("gapBefore", d.gap_before)
            .set("gapAfter", d.gap_after)
            .set("predAfter", d.pred_after as u32)
            .set("direction", Float32Array::from(&d.direction[..]))
            .into())
    }

    /// Untargeted FGSM flip η (grid step 0.001, up to `maxEta`) of each of the `n` flat 28×28 `images` on model
    /// `id`, after box-averaging them to the model's input size. `NaN` where no grid point flips.
    #[wasm_bindgen(js_name = flipEtas)]
    pub fn flip_etas(&self, id: &str, images: &[f32], max_eta: f32) -> JsResult<Float32Array> {
        let l = self.get(id).js()?;
        // The flip search is FGSM's L∞ direction: its cap for the model's input shape.
        let cap = EtaCaps::for_shape(l.model.input_shape()).linf;
        crate::error::check_range("maxEta", max_eta, 0.0, cap).js()?;
        let x = batch(images, [1, 28, 28]).js()?;
        let [_, h, _] = l.model.input_shape();
        let small: Array4<f32> = lessons::downsample(x, h).js()?;
        let f = lessons::flip_etas(&l.model, small.view(), max_eta, FLIP_STEP).js()?;
        let f: Vec<f32> = f.into_iter().map(|v| v.unwrap_or(f32::NAN)).collect();
        Ok(Float32Array::from(&f[..]))
    }

    /// One chunk of a robustness curve ([`lessons::robustness_counts`]): correct counts at each η of `etas` for
    /// `images` (flat, at the model's size) with `labels`, the first being image `start` of the set. `progress(done)`
    /// (`{done}`, throttled to one call per 50 ms) follows the images; returning `false` cancels. Returns
    /// `Uint32Array(etas.length)`.
    #[wasm_bindgen(js_name = robustnessChunk)]
    #[allow(clippy::too_many_arguments)]
    pub fn robustness_chunk(
        &self,
        id: &str,
        attack: &str,
        params_json: &str,
        etas: &[f32],
        images: &[f32],
        labels: &[u32],
        start: usize,
        progress: &js_sys::Function,
    ) -> JsResult<Uint32Array> {
        let l = self.get(id).js()?;
        let params = resolve_params(attack, l.model.input_shape(), params_json).js()?;
        let attack = by_name(attack).js()?;
        let x = batch(images, l.model.input_shape()).js()?;
        let k = l.model.num_classes() as u32;
        if let Some(bad) = labels.iter().find(|&&y| y >= k) {
            return Err(to_js(Error::param("labels", format!("label {bad} of {k} classes"))));
        }
        let labels: Vec<usize> = labels.iter().map(|&y| y as usize).collect();
        // Each η is the attack's bound in its (resolved) norm: that norm's cap for the model's input shape.
        let cap = EtaCaps::for_shape(l.model.input_shape()).cap(params.norm);
        for &e in etas {
            crate::error::check_range("eta", e, 0.0, cap).js()?;
        }
        let n = labels.len();
        let mut post = throttled(progress);
        let mut report = |done: usize| -> bool { post(done >= n, &|| JsObject::new().set("done", done as u32).into()) };
        let counts =
            lessons::robustness_counts(&l.model, x, &labels, attack.as_ref(), &params, etas, start, &mut report)
                .js()?;
        Ok(Uint32Array::from(&counts[..]))
    }
}
