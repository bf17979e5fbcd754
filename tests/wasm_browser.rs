//! Layer 2: the engine compiled to wasm32 (+simd128), run in headless Chromium by wasm-bindgen-test-runner.
//!
//! Run through `./build.sh test` (which sets the runner and CHROMEDRIVER). Natively this file is empty.
#![cfg(target_arch = "wasm32")]

use advlab::nn::{self, Model};
use advlab::web::Session;
use ndarray::{Array2, Array4};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn message(err: wasm_bindgen::JsError) -> String {
    let v: JsValue = err.into();
    v.dyn_into::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .unwrap_or_default()
}

fn get(obj: &JsValue, key: &str) -> JsValue {
    js_sys::Reflect::get(obj, &JsValue::from_str(key)).unwrap()
}

#[wasm_bindgen_test]
fn corrupt_model_file_is_a_readable_error_not_a_panic() {
    let mut s = Session::new();
    let err = s.load_model("x", b"definitely not safetensors").unwrap_err();
    let msg = message(err);
    assert!(msg.starts_with("error.model_file:"), "got {msg:?}");
}

#[wasm_bindgen_test]
fn placeholder_predicts_a_distribution() {
    let mut s = Session::new();
    let info = s.load_placeholder("p", 7).unwrap();
    assert_eq!(get(&info, "untrained").as_bool(), Some(true));
    let pixels: Vec<f32> = (0..784).map(|i| ((i * 37) % 100) as f32 / 100.0).collect();
    let pred = s.predict("p", &pixels).unwrap();
    let probs: Vec<f64> = js_sys::Array::from(&get(&pred, "probs"))
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert_eq!(probs.len(), 10);
    let total: f64 = probs.iter().sum();
    assert!((total - 1.0).abs() < 1e-5, "sum {total}");
    let class = get(&pred, "class").as_f64().unwrap() as usize;
    let best = probs.iter().cloned().fold(f64::MIN, f64::max);
    assert_eq!(probs[class], best);
}

#[wasm_bindgen_test]
fn wrong_image_size_and_out_of_range_pixels_are_refused() {
    let mut s = Session::new();
    s.load_placeholder("p", 1).unwrap();
    let msg = message(s.predict("p", &[0.5; 100]).unwrap_err());
    assert!(msg.starts_with("error.shape:"), "got {msg:?}");
    let mut nan = vec![0.0f32; 784];
    nan[3] = f32::NAN;
    let msg = message(s.predict("p", &nan).unwrap_err());
    assert!(msg.starts_with("error.parameter:"), "got {msg:?}");
    let msg = message(s.predict("missing", &[0.0; 784]).unwrap_err());
    assert!(msg.starts_with("error.parameter:"), "got {msg:?}");
}

#[wasm_bindgen_test]
fn input_gradient_matches_finite_differences_under_simd() {
    // The same check as the native gradient tests, but on the simd128 build the page runs.
    let spec = nn::architecture("cnn").unwrap();
    let model = Model::init(&spec, [1, 28, 28], 3).unwrap();
    let x = Array4::from_shape_fn((1, 1, 28, 28), |(_, _, i, j)| (((i * 31 + j * 17) % 97) as f32) / 97.0);
    let mut dl = Array2::zeros((1, 10));
    dl[[0, 4]] = 1.0;
    dl[[0, 1]] = -0.5;
    let (_, g) = model.logits_vjp(x.view(), dl.view());
    let f = |x: &Array4<f32>| {
        let z = model.logits(x.view());
        (z[[0, 4]] - 0.5 * z[[0, 1]]) as f64
    };
    let h = 1e-2f32;
    let (mut num, mut den) = (0.0f64, 0.0f64);
    for &(i, j) in &[(5usize, 7usize), (14, 14), (20, 3), (9, 22), (13, 15)] {
        let mut xp = x.clone();
        xp[[0, 0, i, j]] += h;
        let mut xm = x.clone();
        xm[[0, 0, i, j]] -= h;
        let fd = (f(&xp) - f(&xm)) / (2.0 * h as f64);
        let an = g[[0, 0, i, j]] as f64;
        num += (fd - an).powi(2);
        den += fd.powi(2).max(an.powi(2));
    }
    let rel = (num / den.max(1e-12)).sqrt();
    assert!(rel < 1e-2, "relative error {rel}");
}
