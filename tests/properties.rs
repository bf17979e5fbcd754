//! Property tests (proptest): the attack contract and the input parsers on arbitrary inputs, with shrinking to a
//! minimal failing image / η / target / seed when a property breaks.
//!
//! Attacks (fgsm, pgd and apgd-ce / apgd-t with few steps, simba and square with small budgets, one_pixel with a tiny population) on
//! random-init `linear` and `cnn` models from `advlab::nn`: for any image `x ∈ [0,1]^784`, η (0, tiny, ≥ 1
//! included), target and seed, the output `x'` is in `[0,1]`, finite, `‖x' − x‖_p ≤ η` (for one_pixel: at most
//! `pixels` changed pixels), the input is unchanged, and the same seed gives the bitwise same output.
//! Preprocessing of arbitrary RGBA buffers and sizes never panics (errors allowed) and yields 784 values in `[0,1]`;
//! `AttackParams::from_json` never panics on arbitrary strings or JSON-like objects.
//!
//! The same contract on colour images: a random conv model on `[3, 16, 16]` (conv 3→4, ReLU, max-pool, dense → 20
//! classes) under FGSM, PGD and MI-FGSM (L∞ and L2), SimBA in both bases, Square and one-pixel (k ≤ 5, a pixel
//! being one (h, w) position across the three channels).

use advlab::attacks::{self, AttackParams, Goal, Norm};
use advlab::data::{preprocess_rgba, Invert, Options};
use advlab::nn::{architecture, Model};
use ndarray::Array4;
use proptest::prelude::*;
use std::sync::OnceLock;

const CASES: u32 = 64;

fn model(arch: &str) -> &'static Model {
    static LINEAR: OnceLock<Model> = OnceLock::new();
    static CNN: OnceLock<Model> = OnceLock::new();
    let cell = if arch == "linear" { &LINEAR } else { &CNN };
    cell.get_or_init(|| Model::init(&architecture(arch).expect("shipped architecture"), [1, 28, 28], 11).unwrap())
}

/// An image in [0,1]: either arbitrary values or a mostly-black "drawing" with a few saturated pixels
/// (the boundaries 0 and 1 are where clipping bugs live).
fn image() -> impl Strategy<Value = Vec<f32>> {
    prop_oneof![
        prop::collection::vec(0.0f32..=1.0, 784),
        prop::collection::vec(
            prop_oneof![4 => Just(0.0f32), 1 => Just(1.0f32), 1 => 0.0f32..=1.0],
            784
        ),
    ]
}

/// η values including 0 and values ≥ 1.
fn eta() -> impl Strategy<Value = f32> {
    prop_oneof![Just(0.0f32), Just(1e-6f32), 0.0f32..=1.0, Just(1.0f32)]
}

fn target() -> impl Strategy<Value = Option<usize>> {
    prop_oneof![Just(None), (0usize..10).prop_map(Some)]
}

/// Runs `name` and checks the contract; returns the adversarial image for the determinism check.
fn check_attack(
    name: &str,
    arch: &str,
    x: &[f32],
    params: &AttackParams,
    target: Option<usize>,
) -> Result<Vec<f32>, TestCaseError> {
    let m = model(arch);
    let xa = Array4::from_shape_vec((1, 1, 28, 28), x.to_vec()).unwrap();
    let before = xa.clone();
    let clean = attacks::Classifier::logits(m, xa.view());
    let pred = clean
        .row(0)
        .iter()
        .enumerate()
        .fold(0, |b, (i, &v)| if v > clean[[0, b]] { i } else { b });
    let goal = Goal::new(pred, target);
    let r = attacks::run(name, m, xa.view(), goal, params, &mut |_| true);
    if target == Some(pred) {
        // Documented: a target the model already predicts is a parameter error, not an attack.
        prop_assert!(
            matches!(r, Err(advlab::Error::InvalidParameter { .. })),
            "{}: target = prediction accepted",
            name
        );
        return Ok(x.to_vec());
    }
    let r = r.map_err(|e| TestCaseError::fail(format!("{name}: {e}")))?;
    prop_assert_eq!(&xa, &before, "{} changed its input", name);
    let adv = r.adversarial.as_slice().unwrap().to_vec();
    prop_assert_eq!(adv.len(), 784);
    for (i, &v) in adv.iter().enumerate() {
        prop_assert!(v.is_finite(), "{} pixel {} is {}", name, i, v);
        prop_assert!((0.0..=1.0).contains(&v), "{} pixel {} = {} outside [0,1]", name, i, v);
    }
    let d: Vec<f32> = adv.iter().zip(x).map(|(a, b)| a - b).collect();
    if name == "one_pixel" {
        let changed = (0..784).filter(|&i| d[i] != 0.0).count();
        prop_assert!(
            changed <= params.pixels,
            "one_pixel changed {} pixels > {}",
            changed,
            params.pixels
        );
    } else {
        match params.norm {
            Norm::Linf => {
                let linf = d.iter().fold(0.0f32, |m, v| m.max(v.abs()));
                prop_assert!(
                    linf <= params.eta + 1e-5,
                    "{} ‖δ‖∞ = {} > η = {}",
                    name,
                    linf,
                    params.eta
                );
            }
            Norm::L2 => {
                let l2 = d.iter().map(|v| v * v).sum::<f32>().sqrt();
                prop_assert!(
                    l2 <= params.eta * (1.0 + 1e-4) + 1e-5,
                    "{} ‖δ‖₂ = {} > η = {}",
                    name,
                    l2,
                    params.eta
                );
            }
        }
    }
    if params.eta == 0.0 && name != "one_pixel" {
        prop_assert_eq!(&adv[..], x, "{} with η = 0 must return x", name);
    }
    prop_assert!(r.probs_after.iter().all(|p| p.is_finite()));
    Ok(adv)
}

fn run_twice(
    name: &str,
    arch: &str,
    x: &[f32],
    params: &AttackParams,
    target: Option<usize>,
) -> Result<(), TestCaseError> {
    let a = check_attack(name, arch, x, params, target)?;
    let b = check_attack(name, arch, x, params, target)?;
    prop_assert!(
        a.iter().zip(&b).all(|(p, q)| p.to_bits() == q.to_bits()),
        "{}: same seed, different output",
        name
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: CASES, ..ProptestConfig::default() })]

    #[test]
    fn fgsm_contract(x in image(), eta in eta(), t in target(), seed in any::<u64>(), l2 in any::<bool>(), cnn in any::<bool>()) {
        let norm = if l2 { Norm::L2 } else { Norm::Linf };
        let eta = if l2 { eta * 5.0 } else { eta };
        let params = AttackParams { eta, norm, seed, ..AttackParams::default() };
        run_twice("fgsm", if cnn { "cnn" } else { "linear" }, &x, &params, t)?;
    }

    #[test]
    fn linf_eta_above_one_is_refused(x in image(), eta in 1.0001f32..100.0, name in prop::sample::select(vec!["fgsm", "pgd", "simba", "square"])) {
        let m = model("linear");
        let xa = Array4::from_shape_vec((1, 1, 28, 28), x).unwrap();
        let params = AttackParams { eta, steps: 2, max_queries: 10, ..AttackParams::default() };
        let r = attacks::run(name, m, xa.view(), Goal::new(0, None), &params, &mut |_| true);
        prop_assert!(matches!(r, Err(advlab::Error::InvalidParameter { .. })), "{} with L∞ η = {}: {:?}", name, eta, r.map(|r| r.linf));
    }

    #[test]
    fn pgd_contract(x in image(), eta in eta(), t in target(), seed in any::<u64>(), steps in 1usize..4, random_start in any::<bool>()) {
        let params = AttackParams { eta, steps, step_size: 0.05, random_start, seed, ..AttackParams::default() };
        run_twice("pgd", "linear", &x, &params, t)?;
    }

    /// APGD-CE and APGD-T (Croce & Hein 2020) with a few iterations, L∞ and L2, on both models; APGD-T without a
    /// target walks its top-k other classes, with one it attacks that class only.
    #[test]
    fn apgd_contract(x in image(), eta in eta(), t in target(), seed in any::<u64>(), steps in 1usize..6, l2 in any::<bool>(),
                     targeted in any::<bool>(), top_k in 2usize..5, cnn in any::<bool>()) {
        let norm = if l2 { Norm::L2 } else { Norm::Linf };
        let eta = if l2 { eta * 5.0 } else { eta };
        let params = AttackParams { eta, norm, steps, top_k, seed, ..AttackParams::default() };
        let name = if targeted { "apgd-t" } else { "apgd-ce" };
        run_twice(name, if cnn { "cnn" } else { "linear" }, &x, &params, t)?;
    }

    #[test]
    fn simba_contract(x in image(), eta in eta(), t in target(), seed in any::<u64>(), q in 1usize..60) {
        let params = AttackParams { eta, max_queries: q, seed, ..AttackParams::default() };
        run_twice("simba", "linear", &x, &params, t)?;
    }

    #[test]
    fn square_contract(x in image(), eta in eta(), t in target(), seed in any::<u64>(), q in 1usize..40) {
        let params = AttackParams { eta, max_queries: q, seed, ..AttackParams::default() };
        run_twice("square", "linear", &x, &params, t)?;
    }

    #[test]
    fn one_pixel_contract(x in image(), t in target(), seed in any::<u64>(), pixels in 1usize..4, population in 4usize..10) {
        let params = AttackParams { pixels, population, max_queries: 60, steps: 2, seed, ..AttackParams::default() };
        run_twice("one_pixel", "linear", &x, &params, t)?;
    }

    #[test]
    fn preprocess_never_panics(w in 0u32..80, h in 0u32..80, extra in -3i64..4, seed in any::<u64>(), mode in 0u8..3) {
        // A buffer of roughly the right size (sometimes off by a few bytes) with arbitrary content.
        let len = ((i64::from(w) * i64::from(h) * 4) + extra).max(0) as usize;
        let mut s = seed | 1;
        let rgba: Vec<u8> = (0..len).map(|_| { s ^= s << 13; s ^= s >> 7; s ^= s << 17; (s >> 24) as u8 }).collect();
        let invert = [Invert::Auto, Invert::Yes, Invert::No][mode as usize];
        if let Ok(p) = preprocess_rgba(&rgba, w, h, &Options { invert }) {
            prop_assert_eq!(p.pixels.len(), 784);
            prop_assert!(p.pixels.iter().all(|v| v.is_finite() && (0.0..=1.0).contains(v)));
        }
    }

    #[test]
    fn preprocess_any_bytes_and_dims(rgba in prop::collection::vec(any::<u8>(), 0..2048), w in any::<u32>(), h in any::<u32>()) {
        if let Ok(p) = preprocess_rgba(&rgba, w, h, &Options { invert: Invert::Auto }) {
            prop_assert_eq!(p.pixels.len(), 784);
            prop_assert!(p.pixels.iter().all(|v| v.is_finite() && (0.0..=1.0).contains(v)));
        }
    }

    #[test]
    fn params_from_arbitrary_strings(s in any::<String>()) {
        let _ = AttackParams::from_json(&s);
    }

    #[test]
    fn params_from_json_like_objects(
        fields in prop::collection::vec((prop::sample::select(vec!["eta", "norm", "steps", "step_size", "max_queries", "pixels", "seed", "population", "gamma", "theta", "bogus"]),
            prop_oneof![any::<f64>().prop_map(|v| v.to_string()), any::<i64>().prop_map(|v| v.to_string()), Just("\"l2\"".into()), Just("null".into()), Just("1e400".into()), Just("-0".into()), Just("[]".into())]), 0..6)
    ) {
        let body: Vec<String> = fields.iter().map(|(k, v)| format!("\"{k}\": {v}")).collect();
        let json = format!("{{{}}}", body.join(", "));
        if let Ok(p) = AttackParams::from_json(&json) {
            // Whatever is accepted is valid and survives a round trip.
            prop_assert!(p.validate().is_ok());
            prop_assert!(p.eta.is_finite() && p.eta >= 0.0);
            let again = AttackParams::from_json(&p.to_json());
            prop_assert!(again.is_ok(), "{} → {} does not parse back", json, p.to_json());
        }
    }
}

const RGB: [usize; 3] = [3, 16, 16];
const RGB_N: usize = 3 * 16 * 16;

fn rgb_model() -> &'static Model {
    static M: OnceLock<Model> = OnceLock::new();
    M.get_or_init(|| {
        use advlab::nn::LayerSpec::*;
        let spec = vec![
            Conv2d {
                in_channels: 3,
                out_channels: 4,
                kernel: 3,
                stride: 1,
                padding: 1.into(),
            },
            Relu,
            MaxPool2d { size: 2 },
            Flatten,
            Dense {
                inputs: 4 * 8 * 8,
                outputs: 20,
            },
        ];
        Model::init(&spec, RGB, 13).unwrap()
    })
}

fn rgb_image() -> impl Strategy<Value = Vec<f32>> {
    prop_oneof![
        prop::collection::vec(0.0f32..=1.0, RGB_N),
        prop::collection::vec(
            prop_oneof![2 => Just(0.0f32), 2 => Just(1.0f32), 1 => 0.0f32..=1.0],
            RGB_N
        ),
    ]
}

/// The contract on a colour image; returns the adversarial bits for the determinism check.
fn check_rgb(name: &str, x: &[f32], params: &AttackParams, target: Option<usize>) -> Result<Vec<u32>, TestCaseError> {
    let m = rgb_model();
    let xa = Array4::from_shape_vec((1, 3, 16, 16), x.to_vec()).unwrap();
    let before = xa.clone();
    let pred = m.predict(xa.view())[0];
    let target = target.filter(|&t| t != pred);
    let r = attacks::run(name, m, xa.view(), Goal::new(pred, target), params, &mut |_| true)
        .map_err(|e| TestCaseError::fail(format!("{name}: {e}")))?;
    prop_assert_eq!(&xa, &before, "{} changed its input", name);
    let adv = r.adversarial.as_slice().unwrap();
    prop_assert!(
        adv.iter().all(|v| v.is_finite() && (0.0..=1.0).contains(v)),
        "{} left [0,1]",
        name
    );
    let d: Vec<f32> = adv.iter().zip(x).map(|(a, b)| a - b).collect();
    if name == "one_pixel" {
        let positions = (0..256).filter(|&q| (0..3).any(|c| d[c * 256 + q] != 0.0)).count();
        prop_assert!(
            positions <= params.pixels,
            "one_pixel changed {} positions > {}",
            positions,
            params.pixels
        );
    }
    match params.norm {
        Norm::Linf => {
            let linf = d.iter().fold(0.0f32, |m, v| m.max(v.abs()));
            prop_assert!(
                linf <= params.eta + 1e-6,
                "{} ‖δ‖∞ = {} > η = {}",
                name,
                linf,
                params.eta
            );
        }
        Norm::L2 => {
            let l2 = d.iter().map(|&v| (v as f64).powi(2)).sum::<f64>().sqrt();
            prop_assert!(
                l2 <= params.eta as f64 + 1e-5,
                "{} ‖δ‖₂ = {} > η = {}",
                name,
                l2,
                params.eta
            );
        }
    }
    if params.eta == 0.0 {
        prop_assert_eq!(adv, x, "{} with η = 0 must return x", name);
    }
    Ok(adv.iter().map(|v| v.to_bits()).collect())
}

fn rgb_twice(name: &str, x: &[f32], params: &AttackParams, target: Option<usize>) -> Result<(), TestCaseError> {
    let a = check_rgb(name, x, params, target)?;
    let b = check_rgb(name, x, params, target)?;
    prop_assert!(a == b, "{}: same seed, different output", name);
    Ok(())
}

fn rgb_target() -> impl Strategy<Value = Option<usize>> {
    prop_oneof![Just(None), (0usize..20).prop_map(Some)]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn gradient_attacks_on_colour(x in rgb_image(), eta in eta(), t in rgb_target(), seed in any::<u64>(), l2 in any::<bool>(),
                                  name in prop::sample::select(vec!["fgsm", "pgd", "mifgsm", "bim"])) {
        let norm = if l2 { Norm::L2 } else { Norm::Linf };
        let eta = if l2 { eta * 8.0 } else { eta };
        let params = AttackParams { eta, norm, seed, steps: 3, step_size: if l2 { 0.5 } else { 0.02 }, ..AttackParams::default() };
        rgb_twice(name, &x, &params, t)?;
    }

    #[test]
    fn simba_on_colour_both_bases(x in rgb_image(), eta in eta(), t in rgb_target(), seed in any::<u64>(), q in 1usize..80,
                                  l2 in any::<bool>(), dct in any::<bool>()) {
        let norm = if l2 { Norm::L2 } else { Norm::Linf };
        let eta = if l2 { eta * 4.0 } else { eta };
        let basis = if dct { advlab::attacks::SimbaBasis::Dct } else { advlab::attacks::SimbaBasis::Auto };
        let params = AttackParams { eta, norm, seed, max_queries: q, step_size: 0.3, basis, ..AttackParams::default() };
        rgb_twice("simba", &x, &params, t)?;
    }

    #[test]
    fn square_and_one_pixel_on_colour(x in rgb_image(), eta in eta(), t in rgb_target(), seed in any::<u64>(), pixels in 1usize..=5, q in 1usize..60) {
        let params = AttackParams { eta, seed, max_queries: q, ..AttackParams::default() };
        rgb_twice("square", &x, &params, t)?;
        let params = AttackParams { eta, seed, pixels, population: 6, max_queries: 40, ..AttackParams::default() };
        rgb_twice("one_pixel", &x, &params, t)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    /// The one params entry point: any attack name, shape and JSON object gives parameters or a named error, never
    /// a panic; what it accepts validates for that shape and resolves to itself again.
    #[test]
    fn resolve_never_panics_and_is_idempotent(
        name in prop::sample::select(vec!["fgsm", "pgd", "deepfool", "cw", "jsma", "simba", "square", "one_pixel", "nope"]),
        shape in prop::sample::select(vec![[1usize, 28, 28], [3, 16, 16], [3, 224, 224]]),
        fields in prop::collection::vec((prop::sample::select(vec!["eta", "norm", "steps", "step_size", "max_queries", "pixels", "seed", "top_k", "basis", "bogus"]),
            prop_oneof![(0.0f64..400.0).prop_map(|v| v.to_string()), (-3i64..50).prop_map(|v| v.to_string()), Just("\"l2\"".into()), Just("\"linf\"".into()), Just("\"dct\"".into()), Just("null".into())]), 0..5)
    ) {
        let body: Vec<String> = fields.iter().map(|(k, v)| format!("\"{k}\": {v}")).collect();
        let json: serde_json::Value = serde_json::from_str(&format!("{{{}}}", body.join(", "))).unwrap();
        match AttackParams::resolve(name, shape, &json) {
            Ok(p) => {
                prop_assert!(p.validate_for(shape).is_ok());
                let caps = advlab::attacks::EtaCaps::for_shape(shape);
                prop_assert!(p.eta >= 0.0 && p.eta <= caps.cap(p.norm));
                let again: serde_json::Value = serde_json::from_str(&p.to_json()).unwrap();
                prop_assert_eq!(AttackParams::resolve(name, shape, &again).unwrap(), p);
            }
            Err(advlab::Error::InvalidParameter { name: field, reason }) => prop_assert!(!field.is_empty() && !reason.is_empty()),
            Err(e) => prop_assert!(false, "{name} {json}: not a parameter error: {e:?}"),
        }
    }
}
