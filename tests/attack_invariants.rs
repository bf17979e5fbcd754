//! The attack contract (src/attacks/mod.rs), checked for every attack on ≥ 100 images per attack and norm:
//! output in [0,1]; ‖δ‖ within η; no NaN; input unchanged; same seed → bitwise same result; η = 0 → x exactly;
//! `flipped` exactly when the goal is met; cancellation → Err(Cancelled).
//!
//! The model is a small random two-layer ReLU network written here (so these tests do not depend on `nn`), with
//! small step counts and budgets to keep the file fast.

mod common;
use advlab::attacks::{
    self, apply_direction, by_name, fgsm_direction, flip_eta, linear_view, AttackParams, AttackResult, Classifier,
    Goal, Norm, ATTACK_NAMES, FLIP_STEP,
};
use advlab::Error;
use common::Generic;
use ndarray::{s, Array1, Array2, Array4, ArrayView2, ArrayView4, Axis};
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

const C: usize = 1;
const H: usize = 28;
const W: usize = 28;
const N: usize = C * H * W;

/// `Z = W₂ relu(W₁ x + b₁) + b₂`.
struct Mlp {
    w1: Array2<f32>,
    b1: Array1<f32>,
    w2: Array2<f32>,
    b2: Array1<f32>,
}

fn unif(rng: &mut ChaCha8Rng) -> f32 {
    (rng.next_u32() >> 8) as f32 / 16_777_216.0
}

impl Mlp {
    fn new(seed: u64, hidden: usize, classes: usize) -> Mlp {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let a1 = (6.0 / N as f32).sqrt();
        let a2 = (6.0 / hidden as f32).sqrt();
        Mlp {
            w1: Array2::from_shape_fn((hidden, N), |_| a1 * (2.0 * unif(&mut rng) - 1.0)),
            b1: Array1::from_shape_fn(hidden, |_| 0.1 * (2.0 * unif(&mut rng) - 1.0)),
            w2: Array2::from_shape_fn((classes, hidden), |_| a2 * (2.0 * unif(&mut rng) - 1.0)),
            b2: Array1::from_shape_fn(classes, |_| 0.1 * (2.0 * unif(&mut rng) - 1.0)),
        }
    }
    fn hidden(&self, x: ArrayView4<f32>) -> Array2<f32> {
        let n = x.shape()[0];
        let x = x.as_standard_layout();
        let flat = x.view().into_shape_with_order((n, N)).unwrap();
        let mut h = flat.dot(&self.w1.t()) + &self.b1;
        h.mapv_inplace(|v| v.max(0.0));
        h
    }
}

impl Classifier for Mlp {
    fn num_classes(&self) -> usize {
        self.w2.nrows()
    }
    fn input_shape(&self) -> [usize; 3] {
        [C, H, W]
    }
    fn logits(&self, x: ArrayView4<f32>) -> Array2<f32> {
        self.hidden(x).dot(&self.w2.t()) + &self.b2
    }
    fn logits_vjp(&self, x: ArrayView4<f32>, d: ArrayView2<f32>) -> (Array2<f32>, Array4<f32>) {
        let n = x.shape()[0];
        let h = self.hidden(x);
        let z = h.dot(&self.w2.t()) + &self.b2;
        let mut dh = d.dot(&self.w2);
        dh.zip_mut_with(&h, |g, &hv| {
            if hv <= 0.0 {
                *g = 0.0
            }
        });
        let dx = dh.dot(&self.w1).into_shape_with_order((n, C, H, W)).unwrap();
        (z, dx)
    }
}

/// Image `i` of a mixed test set: uniform noise, sparse "strokes" on black, and a few constant images.
fn image(i: usize) -> Array4<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(1000 + i as u64);
    let mut x = Array4::<f32>::zeros((1, C, H, W));
    match i % 5 {
        0 | 1 => x.mapv_inplace(|_| unif(&mut rng)),
        2 | 3 => {
            // A few thick random strokes of ink, MNIST-like: mostly exact 0 and 1.
            for _ in 0..4 {
                let (mut r, mut c) = (4 + (rng.next_u32() % 20) as i32, 4 + (rng.next_u32() % 20) as i32);
                for _ in 0..12 {
                    for (dr, dc) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
                        let (rr, cc) = ((r + dr).clamp(0, 27) as usize, (c + dc).clamp(0, 27) as usize);
                        x[[0, 0, rr, cc]] = 1.0;
                    }
                    r = (r + (rng.next_u32() % 3) as i32 - 1).clamp(0, 27);
                    c = (c + (rng.next_u32() % 3) as i32 - 1).clamp(0, 27);
                }
            }
        }
        _ => x.fill(if i.is_multiple_of(2) { 0.0 } else { 1.0 }),
    }
    x
}

fn pred(model: &dyn Classifier, x: ArrayView4<f32>) -> usize {
    model.predict(x)[0]
}

/// Untargeted on the clean prediction for even `i`, targeted on the next class for odd `i`.
fn goal(model: &dyn Classifier, x: ArrayView4<f32>, i: usize) -> Goal {
    let p = pred(model, x);
    if i.is_multiple_of(2) {
        Goal::Untargeted { true_class: p }
    } else {
        Goal::Targeted {
            target: (p + 1 + i % 3) % model.num_classes(),
        }
    }
}

/// Cheap settings for every attack.
fn cheap(eta: f32, norm: Norm, seed: u64) -> AttackParams {
    AttackParams {
        eta,
        norm,
        steps: 5,
        step_size: if norm == Norm::L2 { 0.5 } else { 0.03 },
        max_queries: 200,
        cw_steps: 10,
        binary_search_steps: 2,
        population: 20,
        pixels: 3,
        gamma: 0.05,
        bounded: true,
        seed,
        ..AttackParams::default()
    }
}

fn etas(norm: Norm) -> [f32; 3] {
    match norm {
        Norm::Linf => [0.05, 0.1, 0.3],
        Norm::L2 => [0.5, 1.0, 2.0],
    }
}

fn run(name: &str, model: &dyn Classifier, x: &Array4<f32>, goal: Goal, p: &AttackParams) -> attacks::AttackResult {
    let attack = by_name(name).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(p.seed);
    attack
        .run(model, x.view(), goal, p, &mut rng, &mut |_| true)
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn check_result(name: &str, model: &dyn Classifier, x: &Array4<f32>, goal: Goal, p: &AttackParams, r: &AttackResult) {
    let ctx = format!("{name} {:?} η={} {goal:?}", p.norm, p.eta);
    let adv = r.adversarial.as_slice().unwrap();
    assert_eq!(r.adversarial.shape(), x.shape(), "{ctx}");
    assert!(
        adv.iter().all(|v| v.is_finite() && (-1e-6..=1.0 + 1e-6).contains(v)),
        "{ctx}: out of [0,1]"
    );
    assert!(
        r.probs_after.iter().chain(&r.probs_before).all(|v| v.is_finite()),
        "{ctx}: NaN probabilities"
    );
    let d: Vec<f32> = adv.iter().zip(x.iter()).map(|(a, b)| a - b).collect();
    assert_eq!(
        d.as_slice(),
        r.perturbation.as_slice().unwrap(),
        "{ctx}: perturbation ≠ x' − x"
    );
    let attack = by_name(name).unwrap();
    if attack.is_bounded(p) {
        match p.norm {
            Norm::Linf => {
                let m = d.iter().fold(0f32, |m, v| m.max(v.abs()));
                assert!(m <= p.eta + 1e-6, "{ctx}: ‖δ‖∞ = {m}");
            }
            Norm::L2 => {
                let m = d.iter().map(|&v| (v as f64).powi(2)).sum::<f64>().sqrt();
                assert!(m <= p.eta as f64 + 1e-5, "{ctx}: ‖δ‖₂ = {m}");
            }
        }
    }
    let l0 = d.iter().filter(|&&v| v != 0.0).count();
    assert_eq!(l0, r.l0, "{ctx}");
    match name {
        "one_pixel" => assert!(l0 <= p.pixels * C, "{ctx}: L0 = {l0}"),
        "jsma" => assert!(l0 as f32 <= p.gamma * N as f32, "{ctx}: L0 = {l0}"),
        _ => {}
    }
    let p_after = pred(model, r.adversarial.view());
    assert_eq!(r.pred_after, p_after, "{ctx}");
    assert_eq!(r.pred_before, pred(model, x.view()), "{ctx}");
    assert_eq!(r.flipped, goal.is_success(p_after), "{ctx}: flipped is not `goal met`");
    if let Goal::Targeted { target } = goal {
        assert_eq!(r.flipped, p_after == target, "{ctx}");
    }
}

fn bits(a: &AttackResult) -> Vec<u32> {
    a.adversarial
        .iter()
        .chain(&a.probs_after)
        .map(|v| v.to_bits())
        .collect()
}

/// The core invariants, 100 images for every attack and every norm it supports.
#[test]
fn every_attack_keeps_the_contract_on_100_images() {
    let model = Mlp::new(7, 32, 10);
    let images: Vec<Array4<f32>> = (0..100).map(image).collect();
    let mut flipped = std::collections::BTreeMap::new();
    for &name in ATTACK_NAMES {
        for &norm in by_name(name).unwrap().supported_norms() {
            let mut n_flip = 0;
            for (i, x) in images.iter().enumerate() {
                let copy = x.clone();
                let g = goal(&model, x.view(), i);
                let p = cheap(etas(norm)[i % 3], norm, i as u64);
                let r = run(name, &model, x, g, &p);
                assert_eq!(x, &copy, "{name}: input mutated");
                check_result(name, &model, x, g, &p, &r);
                n_flip += r.flipped as usize;
                // Same seed, same bits (every 5th image, to keep the run short).
                if i % 5 == 0 {
                    let r2 = run(name, &model, x, g, &p);
                    assert_eq!(bits(&r), bits(&r2), "{name}: not deterministic");
                    assert_eq!((r.queries, r.steps), (r2.queries, r2.steps));
                }
            }
            flipped.insert(format!("{name}/{}", norm.as_str()), n_flip);
        }
    }
    eprintln!("flipped out of 100 (random MLP, cheap settings): {flipped:?}");
    // The cheap settings still fool a random network sometimes: a sanity check that the attacks attack.
    for (k, v) in &flipped {
        assert!(*v > 0, "{k} never succeeded");
    }
}

#[test]
fn unbounded_deepfool_stays_in_the_box_and_mostly_succeeds() {
    let model = Mlp::new(8, 32, 10);
    let mut ok = 0;
    for norm in [Norm::L2, Norm::Linf] {
        for i in 0..100 {
            let x = image(i);
            let g = goal(&model, x.view(), i);
            let p = AttackParams {
                bounded: false,
                steps: 50,
                ..cheap(0.1, norm, 0)
            };
            let r = run("deepfool", &model, &x, g, &p);
            check_result("deepfool", &model, &x, g, &p, &r);
            ok += r.flipped as usize;
        }
    }
    assert!(ok >= 150, "DeepFool unbounded succeeded on only {ok}/200");
}

#[test]
fn eta_zero_returns_x_exactly() {
    let model = Mlp::new(9, 32, 10);
    for &name in ATTACK_NAMES {
        for &norm in by_name(name).unwrap().supported_norms() {
            for i in 0..10 {
                let x = image(i);
                let g = goal(&model, x.view(), i);
                let mut p = cheap(0.0, norm, 3);
                p.bounded = false; // DeepFool too
                let r = run(name, &model, &x, g, &p);
                assert_eq!(r.adversarial, x, "{name}");
                assert!(
                    r.perturbation.iter().all(|&v| v == 0.0) && r.l0 == 0 && r.l2 == 0.0,
                    "{name}"
                );
            }
        }
    }
}

#[test]
fn cancellation_stops_every_attack() {
    let model = Mlp::new(10, 32, 10);
    for &name in ATTACK_NAMES {
        let attack = by_name(name).unwrap();
        for i in 0..4 {
            let x = image(i);
            let g = goal(&model, x.view(), i);
            let p = AttackParams {
                steps: 20,
                ..cheap(0.1, Norm::Linf, 1)
            };
            let mut rng = ChaCha8Rng::seed_from_u64(1);
            let r = attack.run(&model, x.view(), g, &p, &mut rng, &mut |_| false);
            assert_eq!(r.unwrap_err(), Error::Cancelled, "{name}");
            // Cancelling later, mid-run, works too for the iterative attacks.
            let mut calls = 0;
            let r = attack.run(&model, x.view(), g, &p, &mut rng, &mut |_| {
                calls += 1;
                calls < 3
            });
            if let Err(e) = r {
                assert_eq!(e, Error::Cancelled, "{name}");
            } else {
                assert!(calls < 3, "{name}: ran on after the callback said stop");
            }
        }
    }
}

#[test]
fn progress_reports_are_sane() {
    let model = Mlp::new(11, 32, 10);
    let x = image(0);
    let g = goal(&model, x.view(), 0);
    for name in ["pgd", "bim", "mifgsm"] {
        let p = AttackParams {
            steps: 7,
            ..cheap(0.1, Norm::Linf, 0)
        };
        let mut seen = vec![];
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let r = by_name(name)
            .unwrap()
            .run(&model, x.view(), g, &p, &mut rng, &mut |pr| {
                seen.push(pr.step);
                true
            });
        r.unwrap();
        assert_eq!(seen, (0..7).collect::<Vec<_>>(), "{name}");
    }
}

#[test]
fn fgsm_is_the_direction_applied_and_flip_eta_is_the_first_grid_flip() {
    let model = Mlp::new(12, 32, 10);
    let mut found = 0;
    for i in 0..100 {
        let x = image(i);
        let g = goal(&model, x.view(), i);
        for norm in [Norm::Linf, Norm::L2] {
            let s = fgsm_direction(&model, x.view(), g, norm).unwrap();
            let eta = etas(norm)[i % 3];
            let r = run("fgsm", &model, &x, g, &cheap(eta, norm, 0));
            assert_eq!(
                r.adversarial,
                apply_direction(x.view(), s.view(), eta),
                "slider ≠ attack"
            );
            if norm == Norm::Linf {
                assert!(s.iter().all(|&v| v == 0.0 || v == 1.0 || v == -1.0));
            } else {
                let n = s.iter().map(|&v| (v as f64).powi(2)).sum::<f64>().sqrt();
                assert!(n == 0.0 || (n - 1.0).abs() < 1e-5);
            }
        }
        if i % 4 != 0 {
            continue;
        }
        // flip_eta against a brute-force scan of the same grid.
        let s = fgsm_direction(&model, x.view(), g, Norm::Linf).unwrap();
        let max_eta = 0.3;
        let got = flip_eta(&model, x.view(), g, s.view(), max_eta, FLIP_STEP).unwrap();
        let clean = pred(&model, x.view());
        let mut want = None;
        for k in 1..=300 {
            let eta = k as f32 * 0.001;
            let p = pred(&model, apply_direction(x.view(), s.view(), eta).view());
            let fooled = match g {
                Goal::Untargeted { .. } => p != clean,
                Goal::Targeted { target } => p == target,
            };
            if fooled {
                want = Some(eta);
                break;
            }
        }
        assert_eq!(got.map(f32::to_bits), want.map(f32::to_bits), "image {i}");
        found += got.is_some() as usize;
        // Determinism.
        assert_eq!(
            got,
            flip_eta(&model, x.view(), g, s.view(), max_eta, FLIP_STEP).unwrap()
        );
        // The linear view along the FGSM direction predicts the margin falls.
        let lv = linear_view(&model, x.view(), g, s.view()).unwrap();
        assert!(lv.slope <= 0.0 && lv.grad_l1 >= 0.0, "{lv:?}");
    }
    assert!(found > 0);
}

#[test]
fn flip_eta_grid_edges() {
    let model = Mlp::new(13, 32, 10);
    let x = image(0);
    let g = goal(&model, x.view(), 0);
    let s = fgsm_direction(&model, x.view(), g, Norm::Linf).unwrap();
    assert_eq!(flip_eta(&model, x.view(), g, s.view(), 0.0, FLIP_STEP).unwrap(), None);
    // A zero direction never flips.
    let zero = Array4::<f32>::zeros(x.raw_dim());
    assert_eq!(
        flip_eta(&model, x.view(), g, zero.view(), 1.0, FLIP_STEP).unwrap(),
        None
    );
}

#[test]
fn evaluate_and_transfer_are_deterministic_and_consistent() {
    let a = Mlp::new(14, 32, 10);
    let b = Mlp::new(15, 32, 10);
    let n = 24;
    let mut images = Array4::<f32>::zeros((n, C, H, W));
    for i in 0..n {
        images
            .index_axis_mut(Axis(0), i)
            .assign(&image(i).index_axis(Axis(0), 0));
    }
    // Labels: the model's prediction for most, a wrong one for a few (those are not attacked).
    let preds = a.predict(images.view());
    let labels: Vec<usize> = preds
        .iter()
        .enumerate()
        .map(|(i, &p)| if i % 6 == 5 { (p + 1) % 10 } else { p })
        .collect();
    for name in ["fgsm", "pgd", "square"] {
        let attack = by_name(name).unwrap();
        let p = cheap(0.2, Norm::Linf, 0);
        for targeted in [false, true] {
            let r1 = attacks::evaluate(&a, images.view(), &labels, attack.as_ref(), &p, targeted, 5).unwrap();
            let r2 = attacks::evaluate(&a, images.view(), &labels, attack.as_ref(), &p, targeted, 5).unwrap();
            assert_eq!(r1, r2);
            assert_eq!(r1.n, n);
            assert_eq!(r1.attacked, 20);
            assert!((r1.clean_accuracy - 20.0 / 24.0).abs() < 1e-6);
            assert!(r1.adversarial_accuracy <= r1.clean_accuracy);
            if !targeted {
                let expect = r1.clean_accuracy * (1.0 - r1.success_rate);
                assert!((r1.adversarial_accuracy - expect).abs() < 1e-5, "{r1:?}");
            }
            assert!(r1.mean_linf <= 0.2 + 1e-6);
            // The per-image outcomes add up to the accuracy, and misclassified images count as not robust.
            assert_eq!(r1.outcomes.len(), n);
            let ones = r1.outcomes.chars().filter(|&c| c == '1').count();
            assert!(
                (ones as f32 / n as f32 - r1.adversarial_accuracy).abs() < 1e-6,
                "{}",
                r1.outcomes
            );
            for (i, c) in r1.outcomes.chars().enumerate() {
                if i % 6 == 5 {
                    assert_eq!(c, '0', "image {i} was misclassified before the attack");
                }
            }
            // Self-transfer is perfect transfer.
            let t = attacks::transfer(&a, &a, images.view(), &labels, attack.as_ref(), &p, targeted, 5).unwrap();
            assert_eq!(t.source_success_rate, r1.success_rate);
            assert_eq!(t.target_adversarial_accuracy, t.source_adversarial_accuracy);
            if t.source_success_rate > 0.0 {
                assert_eq!(t.transfer_rate, 1.0);
            }
            let t = attacks::transfer(&a, &b, images.view(), &labels, attack.as_ref(), &p, targeted, 5).unwrap();
            assert!((0.0..=1.0).contains(&t.transfer_rate));
        }
    }
    // Per-image seeds: image i's result equals a lone run with image_seed(seed, i).
    let attack = by_name("pgd").unwrap();
    let p = cheap(0.2, Norm::Linf, 0);
    let x = images.slice(s![3..4, .., .., ..]).to_owned();
    let mut rng = ChaCha8Rng::seed_from_u64(attacks::image_seed(5, 3));
    let lone = attack.run(
        &a,
        x.view(),
        Goal::Untargeted { true_class: labels[3] },
        &p,
        &mut rng,
        &mut |_| true,
    );
    assert!(lone.is_ok());
}

/// The same contract on the shipped architectures (random initialisation), with lighter budgets: a CNN forward
/// pass costs ~3.4 MFLOP.
#[test]
fn every_attack_keeps_the_contract_on_nn_models() {
    use advlab::nn::{architecture, Model};
    for (arch, images_per_attack) in [("cnn", 100), ("linear", 100), ("mlp", 30)] {
        let model = Model::init(&architecture(arch).unwrap(), [1, 28, 28], 42).unwrap();
        for &name in ATTACK_NAMES {
            let t = std::time::Instant::now();
            for &norm in by_name(name).unwrap().supported_norms() {
                for i in 0..images_per_attack {
                    let x = image(i);
                    let copy = x.clone();
                    let g = goal(&model, x.view(), i);
                    let mut p = cheap(etas(norm)[i % 3], norm, i as u64);
                    p.max_queries = 60;
                    p.population = 10;
                    p.cw_steps = 5;
                    p.steps = 3;
                    let r = run(name, &model, &x, g, &p);
                    assert_eq!(x, copy, "{arch}/{name}: input mutated");
                    check_result(name, &model, &x, g, &p, &r);
                    if i % 10 == 0 {
                        assert_eq!(
                            bits(&r),
                            bits(&run(name, &model, &x, g, &p)),
                            "{arch}/{name}: not deterministic"
                        );
                    }
                }
            }
            eprintln!("{arch}/{name}: {:?}", t.elapsed());
        }
    }
}

/// `Classifier for nn::Model` overrides the cross-entropy gradient with the model's own (one forward instead of
/// two); it must agree with the generic path through `logits_vjp`.
#[test]
fn nn_model_ce_gradient_matches_the_generic_path() {
    use advlab::nn::{architecture, Model};
    let model = Model::init(&architecture("cnn").unwrap(), [1, 28, 28], 3).unwrap();
    let mut batch = Array4::<f32>::zeros((3, C, H, W));
    for i in 0..3 {
        batch
            .index_axis_mut(Axis(0), i)
            .assign(&image(i).index_axis(Axis(0), 0));
    }
    let labels = [1, 4, 9];
    let a = Classifier::ce_gradient(&model, batch.view(), &labels);
    let b = Generic(&model).ce_gradient(batch.view(), &labels);
    let scale = b.iter().fold(0f32, |m, v| m.max(v.abs()));
    let err = a.iter().zip(b.iter()).fold(0f32, |m, (x, y)| m.max((x - y).abs()));
    assert!(scale > 0.0 && err <= 1e-4 * scale, "max |Δ| = {err}, scale {scale}");
}
