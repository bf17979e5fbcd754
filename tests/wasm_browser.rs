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
    // The native gradient checks, repeated on the simd128 build the page runs (a wrong kernel gives O(1) errors).
    // Pseudo-random pixels avoid max-pool ties; h = 1e-3 keeps ReLU/max-pool kinks rare while f32 rounding in
    // the difference stays near 1e-3 relative, hence the 1e-2 bound.
    let spec = nn::architecture("cnn").unwrap();
    let model = Model::init(&spec, [1, 28, 28], 3).unwrap();
    let mut state = 12345u64;
    let x = Array4::from_shape_fn((1, 1, 28, 28), |_| {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 40) as f32 / (1u64 << 24) as f32
    });
    let mut dl = Array2::zeros((1, 10));
    dl[[0, 4]] = 1.0;
    dl[[0, 1]] = -0.5;
    let (_, g) = model.logits_vjp(x.view(), dl.view());
    let f = |x: &Array4<f32>| {
        let z = model.logits(x.view());
        (z[[0, 4]] - 0.5 * z[[0, 1]]) as f64
    };
    let h = 1e-3f32;
    let (mut num, mut den) = (0.0f64, 0.0f64);
    for k in 0..16 {
        let (i, j) = (3 + (k * 5) % 22, 2 + (k * 11) % 24);
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

fn f32_array(v: &JsValue, key: &str) -> Vec<f32> {
    js_sys::Float32Array::new(&get(v, key)).to_vec()
}

#[wasm_bindgen_test]
fn slider_direction_keeps_the_bound_and_eta_zero_is_the_image() {
    let mut s = Session::new();
    s.load_placeholder("p", 5).unwrap();
    let x: Vec<f32> = (0..784).map(|i| ((i * 13) % 29) as f32 / 28.0).collect();
    let prep = s.prepare_direction("p", &x, "linf", -1, 0.5, 7).unwrap();
    assert!(get(&prep, "trueClass").as_f64().is_some());
    let at0 = s.adversarial_at(0.0).unwrap();
    assert_eq!(f32_array(&at0, "adversarial"), x);
    for &eta in &[0.005f32, 0.1, 0.3] {
        let r = s.adversarial_at(eta).unwrap();
        let adv = f32_array(&r, "adversarial");
        let delta = f32_array(&r, "perturbation");
        for ((a, d), x0) in adv.iter().zip(&delta).zip(&x) {
            assert!((0.0..=1.0).contains(a));
            assert!(d.abs() <= eta + 1e-6);
            assert!((a - x0 - d).abs() < 1e-6);
        }
        assert!(get(&r, "linf").as_f64().unwrap() <= eta as f64 + 1e-6);
    }
    let msg = message(s.adversarial_at(f32::NAN).unwrap_err());
    assert!(msg.starts_with("error.parameter:"), "{msg}");
    let msg = message(s.adversarial_at(-0.1).unwrap_err());
    assert!(msg.starts_with("error.parameter:"), "{msg}");
}

#[wasm_bindgen_test]
fn a_warmed_slider_position_answers_bit_for_bit_what_a_fresh_forward_pass_does() {
    let mut s = Session::new();
    s.load_placeholder("p", 5).unwrap();
    let x: Vec<f32> = (0..784).map(|i| ((i * 13) % 29) as f32 / 28.0).collect();
    s.prepare_direction("p", &x, "linf", -1, 0.5, 7).unwrap();
    let etas = [0.0f32, 0.013, 0.1, 0.37];
    let probs = |r: &JsValue| -> Vec<f64> {
        js_sys::Array::from(&get(&get(r, "prediction"), "probs"))
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect()
    };
    let fresh: Vec<Vec<f64>> = etas.iter().map(|&e| probs(&s.adversarial_at(e).unwrap())).collect();
    assert_eq!(s.warm_slider(&etas).unwrap(), 4);
    assert_eq!(s.warm_slider(&etas[1..3]).unwrap(), 0, "already warm");
    for (&e, want) in etas.iter().zip(&fresh) {
        let r = s.adversarial_at(e).unwrap();
        assert_eq!(&probs(&r), want, "η = {e}");
        assert!(get(&r, "linf").as_f64().unwrap() <= e as f64 + 1e-6);
    }
    // A new image forgets the warm positions; a bad η is a named error.
    s.prepare_direction("p", &x.iter().map(|v| 1.0 - v).collect::<Vec<_>>(), "linf", -1, 0.5, 7)
        .unwrap();
    assert_eq!(s.warm_slider(&etas[..1]).unwrap(), 1);
    let msg = message(s.warm_slider(&[f32::NAN]).unwrap_err());
    assert!(msg.starts_with("error.parameter:"), "{msg}");
}

#[wasm_bindgen_test]
fn iterative_attack_runs_in_the_browser_and_can_be_cancelled() {
    let mut s = Session::new();
    s.load_placeholder("p", 9).unwrap();
    let x: Vec<f32> = (0..784).map(|i| ((i * 7) % 31) as f32 / 30.0).collect();
    let noop = js_sys::Function::new_no_args("return true;");
    let r = s
        .run_attack(
            "p",
            &x,
            "pgd",
            r#"{"eta":0.1,"steps":5,"step_size":0.03,"seed":3}"#,
            -1,
            &noop,
        )
        .unwrap();
    let adv = f32_array(&r, "adversarial");
    assert_eq!(adv.len(), 784);
    assert!(adv
        .iter()
        .zip(&x)
        .all(|(a, b)| (a - b).abs() <= 0.1 + 1e-6 && (0.0..=1.0).contains(a)));
    let stop = js_sys::Function::new_no_args("return false;");
    let msg = message(
        s.run_attack("p", &x, "pgd", r#"{"eta":0.1,"steps":50,"seed":3}"#, -1, &stop)
            .unwrap_err(),
    );
    assert!(msg.starts_with("error.cancelled"), "{msg}");
    let msg = message(s.run_attack("p", &x, "pgd", r#"{"eta":"abc"}"#, -1, &noop).unwrap_err());
    assert!(msg.starts_with("error.parameter:"), "{msg}");
}

/// The audit at the boundary: auditImage on the placeholder with small budgets (options as a JSON string with a
/// u64 seed, as the page sends them, and as a plain object), its outcome read back by auditSummary, auditInfo.
#[wasm_bindgen_test]
fn audit_image_and_summary_in_the_browser() {
    let mut s = Session::new();
    s.load_placeholder("p", 9).unwrap();
    let x: Vec<f32> = (0..784).map(|i| ((i * 7) % 31) as f32 / 30.0).collect();
    let pred = get(&s.predict("p", &x).unwrap(), "class").as_f64().unwrap() as u32;
    let calls = js_sys::Array::new();
    let record = js_sys::Function::new_with_args("p", "this.push(p.stage); return true;").bind0(&calls);
    let options =
        JsValue::from_str(r#"{"eta":0.3,"seed":18446744073709551615,"steps":3,"targets":2,"square_queries":30}"#);
    let o = s.audit_image("p", &x, pred, options, &record).unwrap();
    assert_eq!(get(&o, "clean_correct").as_bool(), Some(true));
    assert_eq!(get(&o, "label").as_f64(), Some(pred as f64));
    let stages = js_sys::Array::from(&get(&o, "stages"));
    assert_eq!(stages.length(), 3);
    let names: Vec<String> = stages.iter().map(|st| get(&st, "name").as_string().unwrap()).collect();
    assert_eq!(names, ["apgd-ce", "apgd-t", "square"]);
    // broken_by is a stage name or null, never undefined.
    let broken = get(&o, "broken_by");
    assert!(broken.is_null() || broken.as_string().is_some(), "{broken:?}");
    assert!(calls.length() > 0);
    // A plain object works as well; the summary reads the outcomes back.
    let opts = js_sys::JSON::parse(r#"{"eta":0.3,"steps":3,"targets":2,"square_queries":30}"#).unwrap();
    let o2 = s
        .audit_image("p", &x, pred, opts, &js_sys::Function::new_no_args("return true;"))
        .unwrap();
    let list = js_sys::Array::of2(&o, &o2);
    let sum = s.audit_summary(list.into()).unwrap();
    assert_eq!(get(&sum, "n").as_f64(), Some(2.0));
    assert_eq!(get(&sum, "clean_accuracy").as_f64(), Some(1.0));
    assert_eq!(js_sys::Array::from(&get(&sum, "stages")).length(), 3);
    assert!(js_sys::Array::is_array(&get(&sum, "flags")));
    let info = s.audit_info().unwrap();
    let eta = js_sys::Array::from(&get(&info, "default_eta")).get(0);
    assert_eq!(get(&eta, "eta").as_f64(), Some(0.3));
    // Named errors: a bad ε, a broken outcome, a cancel.
    let msg = message(
        s.audit_image("p", &x, pred, JsValue::from_str(r#"{"eta":2}"#), &record)
            .unwrap_err(),
    );
    assert!(msg.starts_with("error.parameter:"), "{msg}");
    let msg = message(s.audit_summary(JsValue::from_str(r#"[{"label":1}]"#)).unwrap_err());
    assert!(msg.starts_with("error.parameter:"), "{msg}");
    let stop = js_sys::Function::new_no_args("return false;");
    let msg = message(
        s.audit_image("p", &x, pred, JsValue::from_str(r#"{"eta":0.3,"steps":50}"#), &stop)
            .unwrap_err(),
    );
    assert!(msg.starts_with("error.cancelled"), "{msg}");
}

/// Deterministic pseudo-random pixels in [0, 1).
fn pixels(n: usize, seed: u64) -> Array4<f32> {
    let mut state = seed;
    Array4::from_shape_fn((n, 1, 28, 28), |_| {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 40) as f32 / (1u64 << 24) as f32
    })
}

fn assert_close(a: &Array2<f32>, b: &Array2<f32>, what: &str) {
    let scale = b.iter().fold(1.0f32, |m, v| m.max(v.abs()));
    for (x, y) in a.iter().zip(b) {
        assert!((x - y).abs() <= 1e-5 * scale, "{what}: {x} vs {y}");
    }
}

#[wasm_bindgen_test]
fn single_image_fast_path_equals_the_batched_path_and_follows_weight_changes() {
    // One image takes Winograd F(2×2, 3×3) convolutions and the blocked matrix-vector product; eight take im2col +
    // sgemm. Both must give the same logits, and a weight update (as browser training makes) must reach the
    // cached Winograd filters.
    assert!(
        nn::conv2d::WINOGRAD_MAX_BATCH >= 1,
        "the wasm build takes the Winograd path"
    );
    for arch in ["cnn", "cnn-wide"] {
        let spec = nn::architecture(arch).unwrap();
        let mut model = Model::init(&spec, [1, 28, 28], 11).unwrap();
        let x = pixels(8, 99);
        let check = |model: &Model, what: &str| {
            let batched = model.logits(x.view());
            for i in 0..8 {
                let one = model.logits(x.slice(ndarray::s![i..i + 1, .., .., ..]));
                assert_close(
                    &one,
                    &batched.slice(ndarray::s![i..i + 1, ..]).to_owned(),
                    &format!("{arch} {what} image {i}"),
                );
            }
        };
        check(&model, "initial weights");
        // Change the second convolution's weights (parameter 2 = its W): scale and shift every value.
        let w: Vec<f32> = model.params()[2].data.iter().map(|v| v * 1.5 - 0.01).collect();
        model.set_param(2, &w).unwrap();
        check(&model, "after set_param");
    }
}

#[wasm_bindgen_test]
fn a_convolution_with_its_relu6_fused_gives_the_layer_by_layer_values_under_simd() {
    // Chain::forward lets a convolution apply the next ReLU6 as it writes its output (the 1×1 product's epilogue
    // in simd128, the depthwise rows, the single-image im2col path). Each prefix of the net ending in a ReLU6 must
    // equal the prefix without it, clamped afterwards, bit for bit, at batch 1 and 3.
    use advlab::nn::{LayerSpec, Padding};
    let dw = |c, k, s| LayerSpec::DepthwiseConv2d {
        channels: c,
        kernel: k,
        stride: s,
        padding: Padding::Same,
    };
    let spec = vec![
        LayerSpec::conv2d(3, 8, 3, 2, Padding::Same),
        LayerSpec::Relu6,
        LayerSpec::conv2d(8, 20, 1, 1, Padding::Fixed(0)),
        LayerSpec::Relu6,
        dw(20, 3, 1),
        LayerSpec::Relu6,
        dw(20, 5, 2),
        LayerSpec::Relu6,
    ];
    let full = Model::init(&[&spec[..], &[LayerSpec::Flatten]].concat(), [3, 18, 18], 3).unwrap();
    let mut state = 5u64;
    let x = Array4::from_shape_fn((3, 3, 18, 18), |_| {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 40) as f32 / (1u64 << 24) as f32 * 4.0 - 1.0
    });
    for end in (1..spec.len()).step_by(2) {
        let prefix = |with_relu: bool| {
            let mut s = spec[..if with_relu { end + 1 } else { end }].to_vec();
            s.push(LayerSpec::Flatten);
            let mut m = Model::init(&s, [3, 18, 18], 0).unwrap();
            for (i, p) in full.params().iter().enumerate().take(m.params().len()) {
                m.set_param(i, &p.data).unwrap();
            }
            m
        };
        let (plain, fused) = (prefix(false), prefix(true));
        for n in [1, 3] {
            let xs = x.slice(ndarray::s![..n, .., .., ..]);
            let want = plain.logits(xs).mapv(|v| v.max(0.0).min(6.0));
            let got = fused.logits(xs);
            assert_eq!(got, want, "layers 0..={end}, batch {n}");
            assert!(
                got.iter().any(|&v| v == 0.0) && got.iter().any(|&v| v > 0.0 && v < 6.0),
                "layers 0..={end}"
            );
        }
    }
}

/// A small model of the photo layers (normalise, stride-2 "same" convolution, ReLU6, an inverted-residual block
/// with a depthwise convolution, global pool, dense) on 3×32×32, with the article's class groups, saved F16.
fn tiny_photo_model_bytes() -> Vec<u8> {
    use advlab::model_file::{self, ClassGroup, Dtype, ModelMeta};
    use advlab::nn::{LayerSpec, Padding};
    let spec = vec![
        LayerSpec::Normalize {
            mean: vec![0.5, 0.45, 0.4],
            std: vec![0.25, 0.25, 0.3],
        },
        LayerSpec::conv2d(3, 8, 3, 2, Padding::Same),
        LayerSpec::Relu6,
        LayerSpec::Residual {
            layers: vec![
                LayerSpec::conv2d(8, 16, 1, 1, Padding::Fixed(0)),
                LayerSpec::Relu6,
                LayerSpec::DepthwiseConv2d {
                    channels: 16,
                    kernel: 3,
                    stride: 1,
                    padding: Padding::Same,
                },
                LayerSpec::Relu6,
                LayerSpec::conv2d(16, 8, 1, 1, Padding::Fixed(0)),
            ],
        },
        LayerSpec::GlobalAvgPool,
        LayerSpec::Dense { inputs: 8, outputs: 5 },
    ];
    let model = Model::init(&spec, [3, 32, 32], 11).unwrap();
    let names = ["beagle", "pug", "hog", "airliner", "cat"].map(String::from).to_vec();
    let mut meta = ModelMeta::for_model(&model, "tiny-photo", "imagenet", names);
    meta.preprocess = "imagenet".into();
    meta.license = "Apache-2.0".into();
    meta.class_names_i18n.insert(
        "nl".into(),
        ["beagle", "mopshond", "varken", "lijnvliegtuig", "kat"]
            .map(String::from)
            .to_vec(),
    );
    meta.class_groups = vec![
        ClassGroup {
            name: "dog".into(),
            classes: vec![0, 1],
        },
        ClassGroup {
            name: "pig".into(),
            classes: vec![2],
        },
    ];
    model_file::save_with(&model, &meta, Dtype::F16).unwrap()
}

#[wasm_bindgen_test]
fn the_photo_engine_loads_photo_layers_predicts_groups_and_attacks_with_progress_and_cancel() {
    let mut s = Session::new();
    let info = s.load_model("t", &tiny_photo_model_bytes()).unwrap();
    assert_eq!(get(&info, "preprocess").as_string().as_deref(), Some("imagenet"));
    let photo = s.photo_info("t").unwrap();
    assert_eq!(get(&photo, "license").as_string().as_deref(), Some("Apache-2.0"));
    let nl = js_sys::Array::from(&get(&get(&photo, "classNamesI18n"), "nl"));
    assert_eq!(nl.get(2).as_string().as_deref(), Some("varken"));
    assert_eq!(js_sys::Array::from(&get(&photo, "classGroups")).length(), 2);

    let x: Vec<f32> = (0..3 * 32 * 32).map(|i| ((i * 37) % 101) as f32 / 100.0).collect();
    let pred = s.predict("t", &x).unwrap();
    let probs: Vec<f64> = js_sys::Array::from(&get(&pred, "probs"))
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    let class = get(&pred, "class").as_f64().unwrap() as usize;
    let groups = js_sys::Array::from(&get(&pred, "groups"));
    let names: Vec<String> = groups.iter().map(|g| get(&g, "name").as_string().unwrap()).collect();
    assert_eq!(names, ["dog", "pig", "other"]);
    let p = |i: u32| get(&groups.get(i), "probability").as_f64().unwrap();
    assert!((p(0) - (probs[0] + probs[1])).abs() < 1e-6 && (p(1) - probs[2]).abs() < 1e-6);
    assert!((p(0) + p(1) + p(2) - 1.0).abs() < 1e-5);
    let want = match class {
        0 | 1 => "dog",
        2 => "pig",
        _ => "other",
    };
    assert_eq!(get(&pred, "group").as_string().as_deref(), Some(want));

    // The slider: one FGSM direction, then each move keeps the bound, [0, 1], and the photo flip grid 0.0001.
    let prep = s.prepare_direction("t", &x, "linf", -1, 16.0 / 255.0, 3).unwrap();
    if let Some(f) = get(&prep, "flipEta").as_f64() {
        let k = f / 1e-4;
        assert!((k - k.round()).abs() < 1e-3 && f <= 16.0 / 255.0 + 1e-7, "{f}");
    }
    let r = s.adversarial_at(2.0 / 255.0).unwrap();
    assert!(get(&r, "linf").as_f64().unwrap() <= 2.0 / 255.0 + 1e-6);
    assert!(f32_array(&r, "adversarial").iter().all(|a| (0.0..=1.0).contains(a)));
    assert!(get(&get(&r, "prediction"), "groups").is_object());

    // PGD-10 with progress, deterministic, input untouched; a `false` from the callback cancels.
    let calls = js_sys::Array::new();
    let record = js_sys::Function::new_with_args("p", "this.push(p.step); return true;");
    let record = record.bind0(&calls);
    let params = r#"{"eta":0.0157,"steps":10,"seed":5}"#;
    let before = x.clone();
    let target = ((class + 1) % 5) as i32;
    let a = s.run_attack("t", &x, "pgd", params, target, &record).unwrap();
    let b = s
        .run_attack(
            "t",
            &x,
            "pgd",
            params,
            target,
            &js_sys::Function::new_no_args("return true;"),
        )
        .unwrap();
    assert_eq!(x, before);
    assert!(calls.length() >= 1, "progress was reported");
    assert_eq!(f32_array(&a, "adversarial"), f32_array(&b, "adversarial"));
    assert!(get(&a, "linf").as_f64().unwrap() <= 0.0157 + 1e-6);
    let stop = js_sys::Function::new_no_args("return false;");
    let msg = message(s.run_attack("t", &x, "pgd", params, target, &stop).unwrap_err());
    assert!(msg.starts_with("error.cancelled"), "{msg}");

    // The photo recipe: a 64×48 RGBA photo gives 3·224·224 values and the square the model sees.
    let rgba: Vec<u8> = (0..64 * 48 * 4).map(|i| (i * 7 % 256) as u8).collect();
    let prep = s.prepare_photo(&rgba, 64, 48).unwrap();
    assert_eq!(f32_array(&prep, "pixels").len(), 3 * 224 * 224);
    let crop = get(&prep, "crop");
    let c = |k: &str| get(&crop, k).as_f64().unwrap();
    // Short side 48 → 256 (factor 48/256), long 64 → 341; the 224 crop starts at ⌊(341 − 224)/2⌋ = 58.
    assert!((c("side") - 224.0 * 48.0 / 256.0).abs() < 1e-4 && (c("left") - 58.0 * 48.0 / 256.0).abs() < 1e-4);
    assert_eq!(c("top"), 16.0 * 48.0 / 256.0);
    let msg = message(s.prepare_photo(&rgba[..100], 64, 48).unwrap_err());
    assert!(msg.starts_with("error.image"), "{msg}");
    let msg = message(s.prepare_photo(&rgba[..16 * 16 * 4], 16, 16).unwrap_err());
    assert!(msg.starts_with("error.image"), "{msg}");
}
