//! Every attack on colour images (issue 15, "every attack on the photo model"), on small random convolutional
//! models built from `advlab::nn` layers: [3, 16, 16] and [3, 32, 32] inputs with 20–50 classes, and one
//! [3, 224, 224] case per attack with 1000 classes and small budgets. The contract of `src/attacks/mod.rs` holds
//! for C = 3: output in [0,1], the norm bound, the input unchanged, same seed → same bits, η = 0 → x, `flipped`
//! = goal met. Plus what is specific to photos: one-pixel changes whole (h, w) positions (all C channels), SimBA
//! switches to the DCT basis, DeepFool linearises only its top-k candidate classes, JSMA refuses 3×224×224.

use advlab::attacks::deepfool::candidates;
use advlab::attacks::simba::{uses_dct, DCT_MIN_PIXELS};
use advlab::attacks::{
    self, apply_direction, by_name, fgsm_direction, AttackParams, AttackResult, Classifier, Goal, Norm, SimbaBasis,
    ATTACK_NAMES,
};
use advlab::nn::{LayerSpec, Model};
use advlab::Error;
use ndarray::Array4;
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// conv 3→4 (k3, same size) → ReLU → max-pool 2 → dense → `classes`, random weights.
fn conv_model(shape: [usize; 3], classes: usize, seed: u64) -> Model {
    let [c, h, w] = shape;
    let spec = vec![
        LayerSpec::Conv2d {
            in_channels: c,
            out_channels: 4,
            kernel: 3,
            stride: 1,
            padding: 1.into(),
        },
        LayerSpec::Relu,
        LayerSpec::MaxPool2d { size: 2 },
        LayerSpec::Flatten,
        LayerSpec::Dense {
            inputs: 4 * (h / 2) * (w / 2),
            outputs: classes,
        },
    ];
    Model::init(&spec, shape, seed).unwrap()
}

/// A 224×224 model that stays cheap: conv 3→2 (k3, stride 4) → ReLU → max-pool 4 → dense 392 → 1000.
fn photo_model() -> Model {
    let spec = vec![
        LayerSpec::Conv2d {
            in_channels: 3,
            out_channels: 2,
            kernel: 3,
            stride: 4,
            padding: 1.into(),
        },
        LayerSpec::Relu,
        LayerSpec::MaxPool2d { size: 4 },
        LayerSpec::Flatten,
        LayerSpec::Dense {
            inputs: 2 * 14 * 14,
            outputs: 1000,
        },
    ];
    Model::init(&spec, [3, 224, 224], 4).unwrap()
}

fn unif(rng: &mut ChaCha8Rng) -> f32 {
    (rng.next_u32() >> 8) as f32 / 16_777_216.0
}

/// Image `i`: uniform noise, a smooth colour gradient with a bright square, or a saturated (0/1) pattern.
fn image(shape: [usize; 3], i: usize) -> Array4<f32> {
    let [c, h, w] = shape;
    let mut rng = ChaCha8Rng::seed_from_u64(500 + i as u64);
    let tint: Vec<f32> = (0..c).map(|_| unif(&mut rng)).collect();
    Array4::from_shape_fn((1, c, h, w), |(_, ch, r, col)| match i % 3 {
        0 => unif(&mut rng),
        1 => {
            let g = 0.5 * tint[ch] + 0.4 * (r + col) as f32 / (h + w) as f32;
            if (h / 4..h / 2).contains(&r) && (w / 4..w / 2).contains(&col) {
                1.0
            } else {
                g
            }
        }
        _ => ((r / 2 + col / 3 + ch) % 2) as f32,
    })
}

fn goal(model: &dyn Classifier, x: &Array4<f32>, i: usize) -> Goal {
    let p = model.predict(x.view())[0];
    if i.is_multiple_of(2) {
        Goal::Untargeted { true_class: p }
    } else {
        Goal::Targeted {
            target: (p + 1 + i % 5) % model.num_classes(),
        }
    }
}

fn cheap(eta: f32, norm: Norm, seed: u64) -> AttackParams {
    AttackParams {
        eta,
        norm,
        steps: 4,
        step_size: if norm == Norm::L2 { 0.5 } else { 0.02 },
        max_queries: 150,
        cw_steps: 8,
        binary_search_steps: 2,
        population: 12,
        pixels: 3,
        gamma: 0.02,
        bounded: true,
        seed,
        ..AttackParams::default()
    }
}

fn run(name: &str, m: &dyn Classifier, x: &Array4<f32>, g: Goal, p: &AttackParams) -> AttackResult {
    let mut rng = ChaCha8Rng::seed_from_u64(p.seed);
    by_name(name)
        .unwrap()
        .run(m, x.view(), g, p, &mut rng, &mut |_| true)
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn bits(r: &AttackResult) -> Vec<u32> {
    r.adversarial
        .iter()
        .chain(&r.probs_after)
        .map(|v| v.to_bits())
        .collect()
}

/// The contract, with the one-pixel and JSMA sparsity rules in C·H·W.
fn check(name: &str, m: &dyn Classifier, x: &Array4<f32>, g: Goal, p: &AttackParams, r: &AttackResult) {
    let ctx = format!("{name} {:?} η={} {g:?}", p.norm, p.eta);
    let [c, h, w] = m.input_shape();
    assert_eq!(r.adversarial.shape(), x.shape(), "{ctx}");
    let adv = r.adversarial.as_slice().unwrap();
    assert!(
        adv.iter().all(|v| v.is_finite() && (0.0..=1.0).contains(v)),
        "{ctx}: out of [0,1]"
    );
    let d: Vec<f32> = adv.iter().zip(x.iter()).map(|(a, b)| a - b).collect();
    assert_eq!(d.as_slice(), r.perturbation.as_slice().unwrap(), "{ctx}");
    if by_name(name).unwrap().is_bounded(p) {
        match p.norm {
            Norm::Linf => {
                let linf = d.iter().fold(0f32, |a, v| a.max(v.abs()));
                assert!(linf <= p.eta + 1e-6, "{ctx}: ‖δ‖∞ = {linf}");
            }
            Norm::L2 => {
                let l2 = d.iter().map(|&v| (v as f64).powi(2)).sum::<f64>().sqrt();
                assert!(l2 <= p.eta as f64 + 1e-5, "{ctx}: ‖δ‖₂ = {l2}");
            }
        }
    }
    let l0 = d.iter().filter(|&&v| v != 0.0).count();
    assert_eq!(l0, r.l0, "{ctx}");
    match name {
        "one_pixel" => {
            // A pixel is an (h, w) position: all C channels may change there, nothing elsewhere.
            let positions = (0..h * w)
                .filter(|&q| (0..c).any(|ch| d[ch * h * w + q] != 0.0))
                .count();
            assert!(positions <= p.pixels, "{ctx}: {positions} positions changed");
            assert!(l0 <= p.pixels * c, "{ctx}");
        }
        "jsma" => assert!(l0 as f32 <= p.gamma * (c * h * w) as f32, "{ctx}: L0 = {l0}"),
        _ => {}
    }
    let pred = m.predict(r.adversarial.view())[0];
    assert_eq!(r.pred_after, pred, "{ctx}");
    assert_eq!(r.flipped, g.is_success(pred), "{ctx}");
}

#[test]
fn every_attack_keeps_the_contract_on_colour_images() {
    for (shape, classes, n) in [([3, 16, 16], 20, 12), ([3, 32, 32], 50, 6)] {
        let m = conv_model(shape, classes, 21);
        let mut flipped = std::collections::BTreeMap::new();
        for &name in ATTACK_NAMES {
            for &norm in by_name(name).unwrap().supported_norms() {
                for i in 0..n {
                    let x = image(shape, i);
                    let copy = x.clone();
                    let g = goal(&m, &x, i);
                    let eta = match norm {
                        Norm::Linf => [0.03, 0.1][i % 2],
                        Norm::L2 => [1.0, 3.0][i % 2],
                    };
                    let p = cheap(eta, norm, i as u64);
                    let r = run(name, &m, &x, g, &p);
                    assert_eq!(x, copy, "{name}: input mutated");
                    check(name, &m, &x, g, &p, &r);
                    *flipped.entry(format!("{name}/{}", norm.as_str())).or_insert(0) += r.flipped as usize;
                    if i % 3 == 0 {
                        let again = run(name, &m, &x, g, &p);
                        assert_eq!(bits(&r), bits(&again), "{name}: not deterministic");
                        let zero = run(name, &m, &x, g, &cheap(0.0, norm, i as u64));
                        assert_eq!(zero.adversarial, x, "{name}: η = 0 must give x");
                    }
                }
            }
        }
        eprintln!("{shape:?}: flipped out of {n}: {flipped:?}");
        // The cheap settings still attack: the gradient attacks fool the random model at η = 0.1 / L2 3.
        for name in ["fgsm/linf", "pgd/linf", "mifgsm/l2", "deepfool/l2"] {
            assert!(flipped[name] > 0, "{shape:?} {name} never succeeded");
        }
    }
}

#[test]
fn fgsm_on_colour_is_the_direction_applied() {
    let shape = [3, 16, 16];
    let m = conv_model(shape, 20, 3);
    for i in 0..6 {
        let x = image(shape, i);
        let g = goal(&m, &x, i);
        for norm in [Norm::Linf, Norm::L2] {
            let s = fgsm_direction(&m, x.view(), g, norm).unwrap();
            let eta = if norm == Norm::L2 { 1.5 } else { 0.05 };
            let r = run("fgsm", &m, &x, g, &cheap(eta, norm, 0));
            assert_eq!(r.adversarial, apply_direction(x.view(), s.view(), eta));
        }
    }
}

#[test]
fn one_pixel_changes_whole_rgb_positions_up_to_five() {
    let shape = [3, 16, 16];
    let m = conv_model(shape, 20, 8);
    let mut all_channels = 0;
    for k in 1..=5 {
        for i in 0..4 {
            let x = image(shape, i);
            let g = goal(&m, &x, i);
            let p = AttackParams {
                pixels: k,
                eta: 1.0,
                ..cheap(1.0, Norm::Linf, k as u64)
            };
            let r = run("one_pixel", &m, &x, g, &p);
            check("one_pixel", &m, &x, g, &p, &r);
            let d = r.perturbation.as_slice().unwrap();
            all_channels += (0..256).filter(|&q| (0..3).all(|ch| d[ch * 256 + q] != 0.0)).count();
        }
    }
    // With η = 1 the evolved values of all three channels differ from the image's almost surely.
    assert!(all_channels > 0, "no position had all three channels changed");
    // The catalog and resolve offer k up to 5.
    assert!(AttackParams::resolve("one_pixel", shape, &serde_json::json!({"pixels": 5})).is_ok());
    assert!(AttackParams::resolve("one_pixel", shape, &serde_json::json!({"pixels": 6})).is_err());
}

#[test]
fn simba_uses_the_dct_basis_on_large_images() {
    assert!(!uses_dct(SimbaBasis::Auto, [1, 28, 28]), "MNIST keeps the pixel basis");
    assert!(uses_dct(SimbaBasis::Auto, [3, 32, 32]));
    assert!(uses_dct(SimbaBasis::Auto, [3, 224, 224]));
    assert!(!uses_dct(SimbaBasis::Pixel, [3, 224, 224]) && uses_dct(SimbaBasis::Dct, [1, 28, 28]));
    assert_eq!(DCT_MIN_PIXELS, 32 * 32);
    let shape = [3, 32, 32];
    let m = conv_model(shape, 20, 5);
    let (mut dct_l0, mut pixel_l0, mut dct_flips) = (0, 0, 0);
    for i in 0..6 {
        let x = image(shape, i);
        let g = goal(&m, &x, i);
        for norm in [Norm::Linf, Norm::L2] {
            let eta = if norm == Norm::L2 { 2.0 } else { 0.05 };
            let mut p = AttackParams {
                max_queries: 300,
                step_size: 0.5,
                ..cheap(eta, norm, i as u64)
            };
            let dct = run("simba", &m, &x, g, &p);
            check("simba", &m, &x, g, &p, &dct);
            assert_eq!(bits(&dct), bits(&run("simba", &m, &x, g, &p)));
            dct_l0 += dct.l0;
            dct_flips += dct.flipped as usize;
            p.basis = SimbaBasis::Pixel;
            let pixel = run("simba", &m, &x, g, &p);
            check("simba", &m, &x, g, &p, &pixel);
            pixel_l0 += pixel.l0;
            // Auto on 32×32 is DCT.
            p.basis = SimbaBasis::Auto;
            assert_eq!(bits(&run("simba", &m, &x, g, &p)), bits(&dct));
        }
    }
    // A DCT direction spreads over a whole channel; a pixel step changes one value.
    assert!(dct_l0 > 10 * pixel_l0.max(1), "DCT L0 {dct_l0} vs pixel L0 {pixel_l0}");
    eprintln!("SimBA-DCT flipped {dct_flips}/12 at 300 queries");
}

#[test]
fn deepfool_linearises_only_its_top_k_candidates() {
    let z = [0.5, 3.0, -1.0, 2.0, 2.0, 0.1];
    assert_eq!(candidates(&z, 1, 3), vec![3, 4]);
    assert_eq!(
        candidates(&z, 1, 10),
        vec![0, 2, 3, 4, 5],
        "K ≤ top_k: every other class"
    );
    assert_eq!(candidates(&z, 0, 2), vec![1]);
    let shape = [3, 16, 16];
    let m = conv_model(shape, 50, 2);
    for i in 0..4 {
        let x = image(shape, 2 * i);
        let g = goal(&m, &x, 2 * i);
        let p = AttackParams {
            bounded: false,
            steps: 6,
            ..cheap(0.1, Norm::L2, 0)
        };
        let top = run("deepfool", &m, &x, g, &p);
        check("deepfool", &m, &x, g, &p, &top);
        // Each iteration costs (top_k − 1) + 1 queries, not (K − 1) + 1.
        assert!(
            top.queries <= 1 + top.steps * 10,
            "{} queries in {} steps",
            top.queries,
            top.steps
        );
        let all = run("deepfool", &m, &x, g, &AttackParams { top_k: 50, ..p.clone() });
        assert!(all.queries <= 1 + all.steps * 50 && (all.steps == 0 || all.queries > 1 + all.steps * 10));
    }
    // With K ≤ top_k nothing changes: MNIST's 10 classes are all linearised at the default top_k = 10.
    let m10 = conv_model(shape, 10, 2);
    let x = image(shape, 0);
    let g = goal(&m10, &x, 0);
    let p = AttackParams {
        bounded: false,
        ..cheap(0.1, Norm::L2, 0)
    };
    assert_eq!(
        bits(&run("deepfool", &m10, &x, g, &p)),
        bits(&run(
            "deepfool",
            &m10,
            &x,
            g,
            &AttackParams {
                top_k: 1000,
                ..p.clone()
            }
        ))
    );
}

/// One 3×224×224 case per attack, 1000 classes, small budgets; JSMA is refused by name.
#[test]
fn every_attack_on_a_224_photo_shape() {
    let m = photo_model();
    let shape = [3, 224, 224];
    let x = image(shape, 1);
    let pred = m.predict(x.view())[0];
    for &name in ATTACK_NAMES {
        let a = by_name(name).unwrap();
        for (gi, g) in [
            Goal::Untargeted { true_class: pred },
            Goal::Targeted {
                target: (pred + 404) % 1000,
            },
        ]
        .into_iter()
        .enumerate()
        {
            let norm = a.supported_norms()[gi % a.supported_norms().len()];
            let eta = if norm == Norm::L2 { 2.0 } else { 2.0 / 255.0 };
            let p = AttackParams {
                steps: 2,
                cw_steps: 3,
                binary_search_steps: 1,
                max_queries: 40,
                population: 8,
                ..cheap(eta, norm, 7)
            };
            let mut rng = ChaCha8Rng::seed_from_u64(7);
            let r = a.run(&m, x.view(), g, &p, &mut rng, &mut |_| true);
            if name == "jsma" {
                assert!(
                    matches!(r, Err(Error::InvalidParameter { ref name, .. }) if name == "attack"),
                    "{r:?}"
                );
                continue;
            }
            let r = r.unwrap_or_else(|e| panic!("{name}: {e}"));
            check(name, &m, &x, g, &p, &r);
        }
    }
    // The page's parameters for this shape come from the same rules.
    let p = AttackParams::resolve("pgd", shape, &serde_json::json!({"norm": "l2"})).unwrap();
    assert_eq!((p.eta, p.step_size), (2.0, 2.5 * 2.0 / 40.0));
    let r = attacks::run(
        "fgsm",
        &m,
        x.view(),
        Goal::Untargeted { true_class: pred },
        &p,
        &mut |_| true,
    )
    .unwrap();
    assert!(r.l2 <= 2.0 + 1e-4);
}
