//! APGD and AutoAttack (Croce & Hein, ICML 2020): the step-size checkpoints against the paper's recurrence, the DLR
//! loss's gradient against finite differences (in the logits and through a model), APGD's behaviour (first success
//! returned, targets, budgets, resolve defaults), the audit of one image and its flags on models built to trip
//! each check, and the summary's rules on hand-made outcomes.

mod common;
use advlab::attacks::apgd::{checkpoints, ApgdT};
use advlab::attacks::autoattack::{
    audit_all, audit_image, info, looks_like_probabilities, summarize, AuditOutcome, AuditParams, BrokenBy, Stage,
    StageOutcome, STAGES,
};
use advlab::attacks::dlr::{dlr, dlr_targeted};
use advlab::attacks::{self, by_name, catalog, image_seed, AttackKind, AttackParams, Classifier, Goal, Norm, Progress};
use advlab::nn::{architecture, Model};
use advlab::Error;
use common::Generic;
use ndarray::{s, Array2, Array4, ArrayView2, ArrayView4, Axis};
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::json;
use std::sync::atomic::{AtomicU64, Ordering};

const SHAPE: [usize; 3] = [1, 28, 28];

fn unif(rng: &mut ChaCha8Rng) -> f32 {
    (rng.next_u32() >> 8) as f32 / 16_777_216.0
}

fn noise_image(seed: u64) -> Array4<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    Array4::from_shape_fn((1, 1, 28, 28), |_| unif(&mut rng))
}

fn cnn(seed: u64) -> Model {
    Model::init(&architecture("cnn").unwrap(), SHAPE, seed).unwrap()
}

// ------------------------------------------------------------------------------------------------ the schedule

/// The paper's recurrence in floating point, written independently of the engine's integer version: `p₀ = 0`,
/// `p₁ = 0.22`, `pⱼ₊₁ = pⱼ + max(pⱼ − pⱼ₋₁ − 0.03, 0.06)`, `wⱼ = ⌈pⱼ·N⌉` (with a tolerance for the rounding of the
/// decimal constants), kept while `pⱼ ≤ 1`, repeats dropped.
fn paper_checkpoints(n: usize) -> Vec<usize> {
    let mut p = vec![0.0f64, 0.22];
    while *p.last().unwrap() <= 1.0 + 1e-9 {
        let j = p.len() - 1;
        let next = p[j] + (p[j] - p[j - 1] - 0.03).max(0.06);
        p.push(next);
    }
    let mut w: Vec<usize> = Vec::new();
    for &pj in p.iter().filter(|&&pj| pj <= 1.0 + 1e-9) {
        let wj = (pj * n as f64 - 1e-7).ceil().max(0.0) as usize;
        if w.last() != Some(&wj) {
            w.push(wj);
        }
    }
    w
}

#[test]
fn checkpoints_follow_the_papers_recurrence() {
    assert_eq!(checkpoints(100), [0, 22, 41, 57, 70, 80, 87, 93, 99]);
    assert_eq!(paper_checkpoints(100), [0, 22, 41, 57, 70, 80, 87, 93, 99]);
    for n in 1..=1000 {
        let w = checkpoints(n);
        assert_eq!(w, paper_checkpoints(n), "N = {n}");
        assert_eq!(w[0], 0);
        assert!(
            w.windows(2).all(|p| p[0] < p[1]) && *w.last().unwrap() <= n,
            "N = {n}: {w:?}"
        );
    }
    // Small budgets collapse repeats: N = 5 gives ⌈1.1⌉, ⌈2.05⌉, ⌈2.85⌉, ⌈3.5⌉, ⌈4⌉, ⌈4.35⌉, … = 2, 3, 3, 4, 4, 5, ….
    assert_eq!(checkpoints(5), [0, 2, 3, 4, 5]);
}

// ------------------------------------------------------------------------------------------------ the DLR loss

fn random_logits(rng: &mut ChaCha8Rng, k: usize) -> Vec<f32> {
    // Well separated values (gaps ≥ 0.05), so a finite-difference step never reorders them.
    let mut z: Vec<f32> = (0..k).map(|i| i as f32 * 0.37 + 0.05 * unif(rng)).collect();
    for i in (1..k).rev() {
        let j = (rng.next_u32() as usize) % (i + 1);
        z.swap(i, j);
    }
    z
}

/// A loss of the logits, writing its gradient when asked.
type LogitLoss<'a> = dyn Fn(&[f32], Option<&mut [f32]>) -> f32 + 'a;

fn check_logit_gradient(f: &LogitLoss, z: &[f32], what: &str) {
    let mut g = vec![0.0f32; z.len()];
    f(z, Some(&mut g));
    let h = 1e-3f32;
    for j in 0..z.len() {
        let mut zp = z.to_vec();
        let mut zm = z.to_vec();
        zp[j] += h;
        zm[j] -= h;
        let fd = (f(&zp, None) as f64 - f(&zm, None) as f64) / (2.0 * h as f64);
        let scale = fd.abs().max(g[j].abs() as f64).max(0.05);
        assert!(
            (fd - g[j] as f64).abs() <= 2e-2 * scale,
            "{what}: ∂/∂z_{j}: analytic {} vs finite difference {fd}",
            g[j]
        );
    }
}

#[test]
fn dlr_gradients_match_finite_differences() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let mut nonzero = 0;
    for case in 0..200 {
        let k = [4, 5, 10, 10, 1000][case % 5];
        let z = random_logits(&mut rng, k);
        let y = (rng.next_u32() as usize) % k;
        let t = (y + 1 + (rng.next_u32() as usize) % (k - 1)) % k;
        check_logit_gradient(&|z, g| dlr(z, y, g), &z, &format!("DLR K={k} y={y}"));
        check_logit_gradient(
            &|z, g| dlr_targeted(z, y, t, g),
            &z,
            &format!("DLR-T K={k} y={y} t={t}"),
        );
        let mut g = vec![0.0f32; k];
        dlr(&z, y, Some(&mut g));
        nonzero += g.iter().filter(|&&v| v != 0.0).count();
        // Only the formula's classes carry a gradient: y, the runner-up, π1, π3 (targeted: y, t, π1, π3, π4).
        assert!(g.iter().filter(|&&v| v != 0.0).count() <= 4);
    }
    assert!(nonzero > 400);
}

/// DLR-T's input gradient through a real network, by the model's own path (one forward, one backward) and by
/// the trait's generic path (logits, then the VJP), against central differences on the pixels.
#[test]
fn dlr_input_gradient_through_a_model_matches_finite_differences() {
    let m = Model::init(&architecture("mlp").unwrap(), SHAPE, 4).unwrap();
    let x = noise_image(9);
    let z = Classifier::logits(&m, x.view()).row(0).to_vec();
    let y = attacks::argmax(&z);
    let t = attacks::argmax_except(&z, y);
    let loss = |z: &[f32], g: Option<&mut [f32]>| dlr_targeted(z, y, t, g);
    let dloss = |_: usize, z: &[f32], d: &mut [f32]| {
        loss(z, Some(d));
    };
    let (z1, g1) = m.logits_and_loss_gradient(x.view(), &dloss);
    let (z2, g2) = Generic(&m).logits_and_loss_gradient(x.view(), &dloss);
    assert_eq!(z1, z2);
    let scale = g1.iter().fold(0f32, |a, v| a.max(v.abs()));
    assert!(scale > 0.0);
    let err = g1.iter().zip(g2.iter()).fold(0f32, |a, (p, q)| a.max((p - q).abs()));
    assert!(err <= 1e-5 * scale, "model path vs generic path: {err} (scale {scale})");
    let f = |x: &Array4<f32>| -> f64 { loss(Classifier::logits(&m, x.view()).row(0).as_slice().unwrap(), None) as f64 };
    let h = 1e-2f32;
    let mut checked = 0;
    // The pixels with the largest gradient, where a finite difference is well above rounding.
    let mut order: Vec<usize> = (0..784).collect();
    order.sort_by(|&a, &b| {
        g1.as_slice().unwrap()[b]
            .abs()
            .total_cmp(&g1.as_slice().unwrap()[a].abs())
    });
    for &i in order.iter().take(40) {
        let (r, c) = (i / 28, i % 28);
        let mut xp = x.clone();
        let mut xm = x.clone();
        xp[[0, 0, r, c]] += h;
        xm[[0, 0, r, c]] -= h;
        let fd = (f(&xp) - f(&xm)) / (2.0 * h as f64);
        let a = g1[[0, 0, r, c]] as f64;
        assert!(
            (fd - a).abs() <= 0.05 * a.abs().max(fd.abs()) + 1e-5,
            "pixel {i}: {a} vs {fd}"
        );
        checked += 1;
    }
    assert_eq!(checked, 40);
}

// ------------------------------------------------------------------------------------------------ APGD

#[test]
fn apgd_is_in_the_catalog_with_its_own_iteration_count() {
    let c = catalog(SHAPE);
    let names: Vec<&str> = c.iter().map(|a| a.name).collect();
    for name in ["apgd-ce", "apgd-t"] {
        let a = c
            .iter()
            .find(|a| a.name == name)
            .unwrap_or_else(|| panic!("{name} in {names:?}"));
        assert_eq!(a.kind, AttackKind::Iterative);
        assert_eq!(a.norms, [Norm::Linf, Norm::L2]);
        assert!(a.targeted && a.budget.is_none() && a.refused.is_none());
        let p = AttackParams::resolve(name, SHAPE, &json!({"eta": 0.3})).unwrap();
        assert_eq!((p.steps, p.top_k), (100, 10), "{name}");
        // The defences protocol is PGD-40's; APGD keeps its 100 iterations.
        let p = AttackParams::resolve(name, SHAPE, &json!({"eta": 0.3, "protocol": "defences"})).unwrap();
        assert_eq!(p.steps, 100);
        let p = AttackParams::resolve(name, SHAPE, &json!({"eta": 0.3, "steps": 7})).unwrap();
        assert_eq!(p.steps, 7);
    }
    // Other attacks keep the protocol's 40.
    assert_eq!(AttackParams::resolve("pgd", SHAPE, &json!({})).unwrap().steps, 40);
    assert!(AttackParams::resolve("apgd-ce", SHAPE, &json!({"eta": 1.5})).is_err());
}

#[test]
fn apgd_t_aims_at_the_top_other_classes_in_order() {
    let z = [0.5f32, 3.0, -1.0, 2.0, 2.5, 0.0];
    let (y, t) = ApgdT::targets(Goal::Untargeted { true_class: 1 }, &z, 1, 10);
    assert_eq!((y, t), (1, vec![4, 3, 0, 5, 2]));
    let (_, t) = ApgdT::targets(Goal::Untargeted { true_class: 1 }, &z, 1, 3);
    assert_eq!(t, vec![4, 3]);
    assert_eq!(ApgdT::targets(Goal::Targeted { target: 5 }, &z, 1, 10), (1, vec![5]));
}

fn run(
    name: &str,
    model: &dyn Classifier,
    x: &Array4<f32>,
    goal: Goal,
    p: &AttackParams,
) -> (attacks::AttackResult, Vec<Progress>) {
    let mut seen = Vec::new();
    let mut rng = ChaCha8Rng::seed_from_u64(p.seed);
    let r = by_name(name)
        .unwrap()
        .run(model, x.view(), goal, p, &mut rng, &mut |pr| {
            seen.push(pr);
            true
        })
        .unwrap();
    (r, seen)
}

/// On a random CNN: a success comes back at once (queries below the budget, `flipped`), a failure spends the
/// whole budget and returns a point inside the ball; APGD-T plans 9 runs; progress only goes forward.
#[test]
fn apgd_budgets_progress_and_early_stop() {
    let m = cnn(3);
    let mut broke = [0usize; 2];
    for i in 0..12 {
        let x = noise_image(100 + i);
        let y = m.predict(x.view())[0];
        let goal = Goal::Untargeted { true_class: y };
        for (a, name) in ["apgd-ce", "apgd-t"].into_iter().enumerate() {
            let eta = [0.002, 0.05][i as usize % 2];
            let p = AttackParams {
                eta,
                steps: 12,
                seed: i,
                ..AttackParams::default()
            };
            let (r, seen) = run(name, &m, &x, goal, &p);
            let runs = if name == "apgd-t" { 9 } else { 1 };
            let max_queries = 1 + runs * (1 + 12);
            assert_eq!(seen[0].total, runs * 12, "{name}");
            assert!(
                seen.windows(2).all(|w| w[0].step < w[1].step && w[1].step < w[1].total),
                "{name}"
            );
            assert!(r.linf <= eta + 1e-6);
            if r.flipped {
                broke[a] += 1;
                assert!(r.queries <= max_queries);
            } else {
                assert_eq!(
                    (r.queries, r.steps),
                    (max_queries, runs * 12),
                    "{name}: a failure spends the budget"
                );
            }
        }
    }
    // ε = 0.05 breaks a random CNN; 0.002 mostly does not.
    assert!(broke[0] >= 5 && broke[1] >= 5, "{broke:?}");
}

/// APGD-CE is at least as strong as PGD-10 with the same gradients on a random CNN, image by image in sum (it
/// keeps the first success, and its step schedule adapts): a sanity check that the schedule does not hurt.
#[test]
fn apgd_ce_is_not_weaker_than_pgd_with_the_same_budget() {
    let m = cnn(8);
    let (mut apgd, mut pgd) = (0, 0);
    for i in 0..40 {
        let x = noise_image(300 + i);
        let goal = Goal::Untargeted {
            true_class: m.predict(x.view())[0],
        };
        let p = AttackParams {
            eta: 0.01,
            steps: 10,
            step_size: 0.0025,
            seed: i,
            ..AttackParams::default()
        };
        apgd += run("apgd-ce", &m, &x, goal, &p).0.flipped as usize;
        pgd += run("pgd", &m, &x, goal, &p).0.flipped as usize;
    }
    eprintln!("flipped of 40 at ε = 0.01: APGD-CE {apgd}, PGD-10 {pgd}");
    assert!(apgd >= pgd && apgd > 0, "APGD-CE {apgd} < PGD {pgd}");
}

// ------------------------------------------------------------------------------------------------ the audit

fn small(eta: f32, norm: Norm, seed: u64) -> AuditParams {
    AuditParams::resolve(
        SHAPE,
        "mnist",
        &json!({"eta": eta, "norm": norm, "seed": seed, "steps": 10, "targets": 3, "square_queries": 300}),
    )
    .unwrap()
}

#[test]
fn audit_params_resolve_defaults_and_errors() {
    let p = AuditParams::resolve(SHAPE, "mnist", &json!(null)).unwrap();
    assert_eq!(
        (p.eta, p.norm, p.steps, p.targets, p.square_queries),
        (0.3, Norm::Linf, 100, 9, 5000)
    );
    assert_eq!(AuditParams::resolve(SHAPE, "fashion", &json!({})).unwrap().eta, 0.1);
    assert_eq!(
        AuditParams::resolve(SHAPE, "mnist", &json!({"norm": "l2"}))
            .unwrap()
            .eta,
        2.0
    );
    let name = |v| match AuditParams::resolve(SHAPE, "mnist", &v).unwrap_err() {
        Error::InvalidParameter { name, .. } => name,
        e => panic!("{e:?}"),
    };
    assert_eq!(name(json!({"eta": 1.5})), "eta");
    assert_eq!(name(json!({"eta": -0.1})), "eta");
    assert_eq!(name(json!({"eta": 30.0, "norm": "l2"})), "eta");
    assert_eq!(name(json!({"etaa": 0.1})), "options");
    assert_eq!(name(json!({"eta": "0.1"})), "eta");
    assert_eq!(name(json!({"norm": "l1"})), "norm");
    assert_eq!(name(json!({"seed": -1})), "seed");
    assert_eq!(name(json!({"targets": 1.5})), "targets");
    assert_eq!(name(json!({"targets": 0})), "targets");
    assert_eq!(name(json!([1])), "options");
    assert_eq!(name(json!({"square_queries": 0})), "max_queries");
    assert_eq!(name(json!({"steps": 0})), "steps");
    // The stage parameters come from the one entry point.
    let sp = p.stage_params(Stage::ApgdT, SHAPE).unwrap();
    assert_eq!((sp.steps, sp.top_k, sp.eta), (100, 10, 0.3));
    // Built directly, they are what the one entry point gives for the same overrides (but the step size, which
    // these attacks do not read).
    for norm in [Norm::Linf, Norm::L2] {
        let p = AuditParams::resolve(SHAPE, "mnist", &json!({"norm": norm, "seed": 5, "targets": 4})).unwrap();
        for stage in STAGES {
            let mut o = json!({"eta": p.eta, "norm": norm, "seed": 5});
            match stage {
                Stage::ApgdCe => o["steps"] = json!(100),
                Stage::ApgdT => {
                    o["steps"] = json!(100);
                    o["top_k"] = json!(5);
                }
                Stage::Square => {
                    o = json!({"eta": p.eta.min(1.0), "norm": "linf", "seed": 5, "max_queries": 5000, "p_init": 0.8})
                }
            }
            let want = AttackParams::resolve(stage.name(), SHAPE, &o).unwrap();
            let got = p.stage_params(stage, SHAPE).unwrap();
            assert_eq!(
                AttackParams {
                    step_size: want.step_size,
                    ..got
                },
                want,
                "{stage:?} {norm:?}"
            );
        }
    }
    assert_eq!(name(json!({"square_queries": 10_000_001})), "max_queries");
    let sq = p.stage_params(Stage::Square, SHAPE).unwrap();
    assert_eq!((sq.max_queries, sq.p_init), (5000, 0.8));
    let i = serde_json::to_value(info()).unwrap();
    assert_eq!(
        i["stages"][1],
        json!({"name": "apgd-t", "budget": "iterations × targets", "iterations": 100,
                                     "targets": 9, "queries": null, "norms": ["linf", "l2"]})
    );
    assert_eq!(
        i["default_eta"],
        json!([{"dataset": "mnist", "eta": 0.3}, {"dataset": "fashion", "eta": 0.1}])
    );
    assert_eq!(
        (i["fgsm_gap_points"].as_f64(), i["square_share"].as_f64()),
        (Some(20.0), Some(0.002))
    );
}

fn check_consistent(o: &AuditOutcome, p: &AuditParams) {
    assert_eq!(o.stages.len(), 3);
    assert_eq!(o.stages.iter().map(|s| s.name).collect::<Vec<_>>(), STAGES);
    assert_eq!(o.clean_correct, o.clean_class == o.label);
    assert_eq!(o.queries, o.stages.iter().map(|s| s.queries).sum::<usize>());
    let mut robust = o.clean_correct;
    for s in &o.stages {
        if !robust {
            assert!(s.skipped && !s.robust && s.queries == 0, "{o:?}");
        }
        if s.skipped {
            assert_eq!(s.robust, robust);
            assert_eq!(s.queries, 0);
        } else {
            assert!(s.queries > 0);
        }
        if robust && !s.robust {
            assert_eq!(o.broken_by, Some(BrokenBy::from(s.name)), "{o:?}");
        }
        robust = s.robust;
    }
    if !o.clean_correct {
        assert_eq!(o.broken_by, Some(BrokenBy::Clean));
    }
    assert_eq!(o.broken_by.is_none(), robust);
    if p.norm == Norm::L2 {
        assert!(o.stages[2].skipped);
    }
}

#[test]
fn audit_of_one_image_is_consistent_deterministic_and_cancellable() {
    let m = cnn(21);
    for i in 0..10u64 {
        let x = noise_image(500 + i);
        let pred = m.predict(x.view())[0];
        // Half the images with the model's own class as the label, half with a wrong one.
        let label = if i % 3 == 2 { (pred + 1) % 10 } else { pred };
        let norm = if i % 2 == 0 { Norm::Linf } else { Norm::L2 };
        let eta = if norm == Norm::Linf {
            [0.004, 0.03][i as usize % 4 / 2]
        } else {
            0.3
        };
        let p = small(eta, norm, i);
        let mut reports = 0;
        let o = audit_image(&m, x.view(), label, &p, &mut |_| {
            reports += 1;
            true
        })
        .unwrap();
        check_consistent(&o, &p);
        assert!(!o.probability_outputs && !o.repeat_differs && !o.zero_gradient, "{o:?}");
        assert_eq!(o, audit_image(&m, x.view(), label, &p, &mut |_| true).unwrap());
        if o.clean_correct {
            assert!(reports > 0);
            // Each stage is the attack itself with the image's seed.
            let sp = p.stage_params(Stage::ApgdCe, SHAPE).unwrap();
            let r = attacks::run(
                "apgd-ce",
                &m,
                x.view(),
                Goal::Untargeted { true_class: label },
                &sp,
                &mut |_| true,
            )
            .unwrap();
            assert_eq!(o.stages[0].robust, !r.flipped);
            assert_eq!(o.stages[0].queries, r.queries);
            let e = audit_image(&m, x.view(), label, &p, &mut |_| false).unwrap_err();
            assert_eq!(e, Error::Cancelled);
        }
    }
    assert!(matches!(
        audit_image(&m, noise_image(1).view(), 10, &small(0.1, Norm::Linf, 0), &mut |_| true),
        Err(Error::InvalidParameter { .. })
    ));
}

#[test]
fn audit_all_matches_image_by_image_with_per_image_seeds() {
    let m = cnn(22);
    let n = 6;
    let mut images = Array4::<f32>::zeros((n, 1, 28, 28));
    for i in 0..n {
        images
            .index_axis_mut(Axis(0), i)
            .assign(&noise_image(700 + i as u64).index_axis(Axis(0), 0));
    }
    let labels: Vec<usize> = m.predict(images.view());
    let p = small(0.02, Norm::Linf, 4);
    let all = audit_all(&m, images.view(), &labels, &p).unwrap();
    for (i, o) in all.iter().enumerate() {
        let pi = AuditParams {
            seed: image_seed(4, i),
            ..p.clone()
        };
        let lone = audit_image(&m, images.slice(s![i..i + 1, .., .., ..]), labels[i], &pi, &mut |_| {
            true
        })
        .unwrap();
        assert_eq!(o, &lone, "image {i}");
    }
    let sum = summarize(&all);
    assert_eq!(sum.n, n);
    assert_eq!(sum.clean_accuracy, 1.0);
    let accs: Vec<f64> = sum.stages.iter().map(|s| s.robust_accuracy).collect();
    assert!(accs.windows(2).all(|w| w[0] >= w[1]), "{accs:?}");
    assert_eq!(sum.autoattack_accuracy, accs[2]);
    assert_eq!(sum.stages[0].attacked, n);
}

/// A model that ends in a softmax: its outputs are probabilities.
struct Softmaxed(Model);

impl Classifier for Softmaxed {
    fn num_classes(&self) -> usize {
        10
    }
    fn input_shape(&self) -> [usize; 3] {
        SHAPE
    }
    fn logits(&self, x: ArrayView4<f32>) -> Array2<f32> {
        self.0.probabilities(x)
    }
    fn logits_vjp(&self, x: ArrayView4<f32>, d: ArrayView2<f32>) -> (Array2<f32>, Array4<f32>) {
        // Through the softmax: ∂p/∂z = diag(p) − p pᵀ.
        let p = self.0.probabilities(x);
        let mut dz = d.to_owned();
        for (mut dr, pr) in dz.rows_mut().into_iter().zip(p.rows()) {
            let dot: f32 = dr.iter().zip(pr.iter()).map(|(a, b)| a * b).sum();
            dr.zip_mut_with(&pr, |g, &pi| *g = pi * (*g - dot));
        }
        let (_, g) = Classifier::logits_vjp(&self.0, x, dz.view());
        (p, g)
    }
}

/// A model with a little noise on every forward pass (a counter, so the runs are reproducible).
struct Noisy(Model, AtomicU64);

impl Classifier for Noisy {
    fn num_classes(&self) -> usize {
        10
    }
    fn input_shape(&self) -> [usize; 3] {
        SHAPE
    }
    fn logits(&self, x: ArrayView4<f32>) -> Array2<f32> {
        let c = self.1.fetch_add(1, Ordering::Relaxed);
        let mut z = Classifier::logits(&self.0, x);
        z.mapv_inplace(|v| v + 1e-3 * ((c % 7) as f32));
        z
    }
    fn logits_vjp(&self, x: ArrayView4<f32>, d: ArrayView2<f32>) -> (Array2<f32>, Array4<f32>) {
        let (_, g) = Classifier::logits_vjp(&self.0, x, d);
        (self.logits(x), g)
    }
}

/// Gradient masking in its plainest form: the pixels are quantised to quarters before a linear score, so the
/// gradient is zero almost everywhere. Class 0 wins while the mean quantised pixel stays below 0.625; the clean
/// images sit at 0.5. Random noise of ±ε leaves the mean where it is, and one gradient step goes nowhere, but
/// raising half the pixels by ε = 0.3 breaks it: only a search that tries, like Square, finds that.
struct Staircase;

impl Classifier for Staircase {
    fn num_classes(&self) -> usize {
        10
    }
    fn input_shape(&self) -> [usize; 3] {
        SHAPE
    }
    fn logits(&self, x: ArrayView4<f32>) -> Array2<f32> {
        let n = x.shape()[0];
        Array2::from_shape_fn((n, 10), |(i, k)| {
            if k == 0 {
                let mean = x
                    .slice(s![i, .., .., ..])
                    .iter()
                    .map(|&v| (4.0 * v).round() / 4.0)
                    .sum::<f32>()
                    / 784.0;
                11.5 - 20.0 * mean
            } else {
                -1.0 - 0.01 * k as f32
            }
        })
    }
    fn logits_vjp(&self, x: ArrayView4<f32>, _d: ArrayView2<f32>) -> (Array2<f32>, Array4<f32>) {
        (self.logits(x), Array4::zeros(x.raw_dim()))
    }
}

fn flags(outcomes: &[AuditOutcome]) -> Vec<&'static str> {
    summarize(outcomes).flags.iter().map(|f| f.key).collect()
}

#[test]
fn the_checks_fire_on_models_built_to_trip_them() {
    let p = small(0.3, Norm::Linf, 1);
    let images: Vec<Array4<f32>> = (0..4).map(|i| noise_image(900 + i)).collect();
    let audit = |m: &dyn Classifier, x: &Array4<f32>| {
        let label = m.predict(x.view())[0];
        audit_image(m, x.view(), label, &p, &mut |_| true).unwrap()
    };

    let soft = Softmaxed(cnn(30));
    let out: Vec<AuditOutcome> = images.iter().map(|x| audit(&soft, x)).collect();
    assert!(out.iter().all(|o| o.probability_outputs && !o.repeat_differs));
    assert!(flags(&out).contains(&"probability_outputs"));

    let noisy = Noisy(cnn(31), AtomicU64::new(0));
    let out: Vec<AuditOutcome> = images.iter().map(|x| audit(&noisy, x)).collect();
    assert!(out.iter().all(|o| o.repeat_differs && !o.probability_outputs));
    assert!(flags(&out).contains(&"randomness"));

    // The staircase: no gradient, FGSM and APGD stay put, Square breaks it.
    let stairs: Vec<Array4<f32>> = (0..6)
        .map(|i| {
            let mut rng = ChaCha8Rng::seed_from_u64(40 + i);
            // Pixels near 0.5 (quantised to exactly 0.5), a little noise that does not cross a quarter.
            Array4::from_shape_fn((1, 1, 28, 28), |_| 0.45 + 0.1 * unif(&mut rng))
        })
        .collect();
    let out: Vec<AuditOutcome> = stairs.iter().map(|x| audit(&Staircase, x)).collect();
    for o in &out {
        assert!(o.clean_correct && o.zero_gradient && o.fgsm_robust, "{o:?}");
        assert!(
            o.stages[0].robust && o.stages[1].robust,
            "APGD moved without a gradient: {o:?}"
        );
        assert_eq!(o.broken_by, Some(BrokenBy::Square), "{o:?}");
    }
    let sum = summarize(&out);
    let keys: Vec<&str> = sum.flags.iter().map(|f| f.key).collect();
    assert_eq!(keys, ["blackbox_beats_whitebox", "zero_gradients", "fgsm_gap"]);
    assert_eq!((sum.flags[0].images, sum.flags[0].of), (Some(6), 6));
    assert_eq!(sum.fgsm_accuracy, 1.0);
    assert_eq!(sum.autoattack_accuracy, 0.0);
    for f in &sum.flags {
        let text = f.explain();
        assert!(text.len() > 80 && !text.starts_with(f.key), "{}: {text}", f.key);
    }
    assert!(sum.flags[0].explain().contains("broke 6 of 6 images"));

    // A healthy network raises nothing.
    let m = cnn(32);
    let out: Vec<AuditOutcome> = images.iter().map(|x| audit(&m, x)).collect();
    assert_eq!(flags(&out), Vec::<&str>::new());
}

fn outcome(clean: bool, fgsm: bool, broken_by: Option<BrokenBy>) -> AuditOutcome {
    let broken_by = if clean { broken_by } else { Some(BrokenBy::Clean) };
    let mut robust = clean;
    let stages = STAGES
        .iter()
        .map(|&name| {
            let ran = robust;
            if broken_by == Some(BrokenBy::from(name)) {
                robust = false;
            }
            StageOutcome {
                name,
                robust,
                queries: if ran { 10 } else { 0 },
                skipped: !ran,
            }
        })
        .collect();
    AuditOutcome {
        label: 0,
        clean_class: if clean { 0 } else { 1 },
        clean_correct: clean,
        fgsm_robust: fgsm,
        stages,
        broken_by,
        queries: 0,
        zero_gradient: false,
        probability_outputs: false,
        repeat_differs: false,
    }
}

/// `n` outcomes: `clean` correct, of which `fgsm` survive FGSM, `by[s]` broken by stage `s`.
fn population(n: usize, clean: usize, fgsm: usize, by: [usize; 3]) -> Vec<AuditOutcome> {
    let mut v = Vec::new();
    let stages = [BrokenBy::ApgdCe, BrokenBy::ApgdT, BrokenBy::Square];
    let mut i = 0;
    for (s, &k) in stages.iter().zip(&by) {
        for _ in 0..k {
            v.push(outcome(true, i < fgsm, Some(*s)));
            i += 1;
        }
    }
    while v.len() < clean {
        v.push(outcome(true, i < fgsm, None));
        i += 1;
    }
    while v.len() < n {
        v.push(outcome(false, false, None));
    }
    v
}

#[test]
fn summary_rules_on_hand_made_outcomes() {
    // The stage accuracies follow broken_by.
    let s = summarize(&population(10, 8, 6, [3, 1, 1]));
    let accs: Vec<f64> = s.stages.iter().map(|s| s.robust_accuracy).collect();
    assert_eq!(accs, [0.5, 0.4, 0.3]);
    assert_eq!(
        (s.clean_accuracy, s.fgsm_accuracy, s.autoattack_accuracy),
        (0.8, 0.6, 0.3)
    );
    assert_eq!(s.stages.iter().map(|s| s.attacked).collect::<Vec<_>>(), [8, 5, 4]);
    // 1 of 10 broken by Square is 10 % > 0.2 %; FGSM 60 % vs AutoAttack 30 %: 30 points, FGSM ≥ half of clean.
    let keys: Vec<&str> = s.flags.iter().map(|f| f.key).collect();
    assert_eq!(keys, ["blackbox_beats_whitebox", "fgsm_gap"]);
    let gap = &s.flags[1];
    assert_eq!(gap.points, Some(30.0));
    assert_eq!(s.flags[0].points, Some(10.0));

    // Square's threshold is checks.py's 0.2 %: 2 of 1000 pass, 3 of 1000 flag.
    assert!(!flags(&population(1000, 990, 900, [10, 5, 2])).contains(&"blackbox_beats_whitebox"));
    assert!(flags(&population(1000, 990, 900, [10, 5, 3])).contains(&"blackbox_beats_whitebox"));

    // A plain model: FGSM 24 %, AutoAttack 0 %, clean 99 %: FGSM is just weak, no flag.
    assert_eq!(flags(&population(1000, 990, 240, [990, 0, 0])), Vec::<&str>::new());
    // Masking, like mnist-cnn-ens (FGSM 83 %): a made-up population with 5 % left after AutoAttack.
    assert_eq!(flags(&population(1000, 993, 833, [900, 43, 0])), ["fgsm_gap"]);
    // 19.9 points is below the line, 20 is on it.
    assert!(flags(&population(1000, 990, 900, [289, 0, 0])).is_empty());
    assert_eq!(flags(&population(1000, 990, 900, [290, 0, 0])), ["fgsm_gap"]);
    // FGSM above the clean accuracy (it *fixes* misclassified images): flagged whatever the gap.
    let mut v = population(10, 5, 5, [0, 0, 0]);
    v[9].fgsm_robust = true;
    let s = summarize(&v);
    assert_eq!(s.fgsm_accuracy, 0.6);
    assert_eq!(s.flags.iter().map(|f| f.key).collect::<Vec<_>>(), ["fgsm_gap"]);
    assert!(s.flags[0].explain().contains("more than the 50.0 %"));

    // The per-image checks count images.
    let mut v = population(5, 5, 5, [0, 0, 0]);
    v[1].zero_gradient = true;
    v[2].zero_gradient = true;
    v[3].probability_outputs = true;
    v[4].repeat_differs = true;
    let s = summarize(&v);
    assert_eq!(
        s.flags.iter().map(|f| (f.key, f.images)).collect::<Vec<_>>(),
        [
            ("zero_gradients", Some(2)),
            ("probability_outputs", Some(1)),
            ("randomness", Some(1))
        ]
    );
    // Nothing to summarise: zeros, no flags.
    let s = summarize(&[]);
    assert_eq!((s.n, s.autoattack_accuracy, s.flags.len()), (0, 0.0, 0));
    // The JSON the page reads.
    let v = serde_json::to_value(summarize(&population(4, 4, 4, [0, 0, 0]))).unwrap();
    assert_eq!(v["stages"][0]["name"], "apgd-ce");
    assert_eq!(v["flags"], json!([]));
    let o = serde_json::to_value(outcome(true, true, Some(BrokenBy::ApgdT))).unwrap();
    assert_eq!(o["broken_by"], "apgd-t");
    assert_eq!(
        o["stages"][2],
        json!({"name": "square", "robust": false, "queries": 0, "skipped": true})
    );
    let back = AuditOutcome::from_json(&o).unwrap();
    assert_eq!(back, outcome(true, true, Some(BrokenBy::ApgdT)));
    // Every outcome the engine writes reads back the same, and broken ones are named errors.
    for o in population(6, 4, 2, [1, 1, 1]) {
        assert_eq!(AuditOutcome::from_json(&serde_json::to_value(&o).unwrap()).unwrap(), o);
    }
    let mut no_skip = serde_json::to_value(outcome(true, true, None)).unwrap();
    no_skip["stages"][0].as_object_mut().unwrap().remove("skipped");
    assert!(!AuditOutcome::from_json(&no_skip).unwrap().stages[0].skipped);
    for (k, v) in [
        ("broken_by", json!("fab-t")),
        ("queries", json!(-1)),
        ("clean_correct", json!("yes")),
        ("stages", json!([{"name": "pgd", "robust": true, "queries": 1}])),
    ] {
        let mut o = serde_json::to_value(outcome(true, true, None)).unwrap();
        o[k] = v;
        assert!(
            matches!(AuditOutcome::from_json(&o), Err(Error::InvalidParameter { ref name, .. }) if name == "outcomes"),
            "{k}"
        );
    }
    assert!(AuditOutcome::from_json(&json!([])).is_err());
    assert!(looks_like_probabilities(&[0.2, 0.8]) && !looks_like_probabilities(&[0.2, 0.9]));
    assert!(!looks_like_probabilities(&[1.5, -0.5]));
}
