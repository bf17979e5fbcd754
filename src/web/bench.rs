//! Benchmark hooks for `www/bench.html` (issue 9): the raw input gradient (to check agreement with TensorFlow.js
//! on the same weights), a bare forward pass returning logits, and the sgemm ceiling of this very build.

use js_sys::Float32Array;
use ndarray::Array2;
use wasm_bindgen::prelude::*;

use super::errors::IntoJs;
use super::session::{image_view, Session};
use crate::Error;

#[wasm_bindgen]
impl Session {
    /// The logits `z = f(x)` of one image (`C·H·W` values in `[0, 1]`), without softmax or any DTO.
    pub fn logits(&self, id: &str, pixels: &[f32]) -> std::result::Result<Float32Array, JsError> {
        let l = self.get(id).js()?;
        let x = image_view(&l.model, pixels).js()?;
        let z = l.model.logits(x);
        Ok(Float32Array::from(z.as_slice().unwrap_or(&[])))
    }

    /// Milliseconds per layer of one forward pass (mean of `reps`), as `[[layer, ms], …]`: where the forward time goes.
    #[wasm_bindgen(js_name = layerTimes)]
    pub fn layer_times(&self, id: &str, pixels: &[f32], reps: usize) -> std::result::Result<JsValue, JsError> {
        let l = self.get(id).js()?;
        let x = image_view(&l.model, pixels).js()?;
        let times = l.model.profile_layers(x, reps.min(100_000), &now_ms);
        serde_wasm_bindgen::to_value(&times).map_err(|e| JsError::new(&e.to_string()))
    }

    /// The input gradient `∇ₓ J(x, y)` of the cross-entropy loss `J = −log softmax(f(x))_y` of one image with
    /// label `label` (Goodfellow et al. 2015, the quantity FGSM takes the sign of), flat `C·H·W`.
    #[wasm_bindgen(js_name = inputGradient)]
    pub fn input_gradient(&self, id: &str, pixels: &[f32], label: u32) -> std::result::Result<Float32Array, JsError> {
        let l = self.get(id).js()?;
        let x = image_view(&l.model, pixels).js()?;
        let label = label as usize;
        l.model.check_labels(&[label], 1).js()?;
        let (_, g) = l.model.input_gradient(x, &[label]);
        Ok(Float32Array::from(g.as_slice().unwrap_or(&[])))
    }
}

/// The sgemm ceiling of this build: `C = A·B` with `A: m×k`, `B: k×n` (ndarray's `dot`, i.e. matrixmultiply, the
/// kernel our dense and im2col convolution layers use), repeated `reps` times. Returns GFLOP/s = `2·m·k·n·reps / t`
/// with `t` from `performance.now()` (or `Date.now()` where there is none).
#[wasm_bindgen(js_name = sgemmGflops)]
pub fn sgemm_gflops(m: usize, k: usize, n: usize, reps: usize) -> std::result::Result<f64, JsError> {
    if m == 0 || k == 0 || n == 0 || reps == 0 || m * k > 1 << 24 || k * n > 1 << 24 {
        return Err(super::errors::to_js(Error::param(
            "sgemm",
            "sizes must be in 1..2^24 elements",
        )));
    }
    let a = Array2::from_shape_fn((m, k), |(i, j)| ((i * 7 + j * 3) % 13) as f32 / 13.0 - 0.5);
    let b = Array2::from_shape_fn((k, n), |(i, j)| ((i * 5 + j * 11) % 17) as f32 / 17.0 - 0.5);
    let mut c = Array2::<f32>::zeros((m, n));
    // One warm-up product, then the timed ones.
    ndarray::linalg::general_mat_mul(1.0, &a, &b, 0.0, &mut c);
    let t0 = now_ms();
    for _ in 0..reps {
        ndarray::linalg::general_mat_mul(1.0, &a, &b, 0.0, &mut c);
    }
    let secs = (now_ms() - t0) / 1000.0;
    // Keep the result observable so the products cannot be optimised away.
    if !c[[0, 0]].is_finite() {
        return Err(super::errors::to_js(Error::param("sgemm", "non-finite product")));
    }
    Ok(2.0 * (m * k * n * reps) as f64 / secs.max(1e-9) / 1e9)
}

fn now_ms() -> f64 {
    let perf = js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str("performance"))
        .ok()
        .filter(|p| !p.is_undefined());
    match perf.and_then(|p| {
        let now = js_sys::Reflect::get(&p, &JsValue::from_str("now")).ok()?;
        now.dyn_into::<js_sys::Function>().ok()?.call0(&p).ok()?.as_f64()
    }) {
        Some(t) => t,
        None => js_sys::Date::now(),
    }
}
