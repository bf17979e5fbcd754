//! Bad input gives a clear error, never a panic: parameters (η < 0, NaN, ∞, budgets), goals (target = prediction,
//! out of range), image shapes, and the JSON the page sends.

use advlab::attacks::{
    self, by_name, fgsm_direction, flip_eta, AttackParams, Classifier, Goal, Norm, ATTACK_NAMES, FLIP_STEP,
};
use advlab::Error;
use ndarray::{Array1, Array2, Array4, ArrayView2, ArrayView4};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Softmax regression `Z = W x + b` on `[1, 28, 28]` images with `k` classes.
struct Linear {
    w: Array2<f32>,
    b: Array1<f32>,
}

impl Linear {
    fn new(k: usize) -> Linear {
        Linear {
            w: Array2::from_shape_fn((k, 784), |(i, j)| {
                (((i * 7919 + j * 104_729) % 1000) as f32 / 1000.0 - 0.5) * 0.2
            }),
            b: Array1::from_shape_fn(k, |i| i as f32 * 0.01),
        }
    }
}

impl Classifier for Linear {
    fn num_classes(&self) -> usize {
        self.w.nrows()
    }
    fn input_shape(&self) -> [usize; 3] {
        [1, 28, 28]
    }
    fn logits(&self, x: ArrayView4<f32>) -> Array2<f32> {
        let n = x.shape()[0];
        let x = x.as_standard_layout();
        x.view().into_shape_with_order((n, 784)).unwrap().dot(&self.w.t()) + &self.b
    }
    fn logits_vjp(&self, x: ArrayView4<f32>, d: ArrayView2<f32>) -> (Array2<f32>, Array4<f32>) {
        let n = x.shape()[0];
        (
            self.logits(x),
            d.dot(&self.w).into_shape_with_order((n, 1, 28, 28)).unwrap(),
        )
    }
}

fn img() -> Array4<f32> {
    Array4::from_shape_fn((1, 1, 28, 28), |(_, _, r, c)| ((r * 28 + c) % 17) as f32 / 16.0)
}

fn run_all(model: &dyn Classifier, x: ArrayView4<f32>, goal: Goal, p: &AttackParams) -> Vec<(String, Error)> {
    ATTACK_NAMES
        .iter()
        .map(|&name| {
            let mut rng = ChaCha8Rng::seed_from_u64(0);
            let r = by_name(name).unwrap().run(model, x, goal, p, &mut rng, &mut |_| true);
            (name.to_string(), r.expect_err(name))
        })
        .collect()
}

fn assert_param(errs: &[(String, Error)], field: &str) {
    for (name, e) in errs {
        match e {
            Error::InvalidParameter { name: f, reason } => {
                assert_eq!(f, field, "{name}: {e}");
                assert!(!reason.is_empty());
            }
            _ => panic!("{name}: expected a parameter error on `{field}`, got {e:?}"),
        }
    }
}

fn untargeted(model: &dyn Classifier, x: &Array4<f32>) -> Goal {
    Goal::Untargeted {
        true_class: model.predict(x.view())[0],
    }
}

#[test]
fn bad_eta_is_a_clear_error_for_every_attack() {
    let m = Linear::new(10);
    let x = img();
    let g = untargeted(&m, &x);
    for eta in [-0.1, -0.0001, f32::NAN, f32::INFINITY, f32::NEG_INFINITY, 1.5] {
        let p = AttackParams {
            eta,
            ..Default::default()
        };
        let errs = run_all(&m, x.view(), g, &p);
        assert_param(&errs, "eta");
        let msg = errs[0].1.to_string();
        assert!(msg.contains("eta"), "{msg}");
    }
    // L2 allows larger radii, not unbounded ones.
    assert!(AttackParams::new(2.0, Norm::L2).validate().is_ok());
    assert!(AttackParams::new(100.0, Norm::L2).validate().is_err());
}

#[test]
fn zero_budgets_and_bad_settings_are_errors() {
    let m = Linear::new(10);
    let x = img();
    let g = untargeted(&m, &x);
    let cases: Vec<(&str, AttackParams)> = vec![
        (
            "max_queries",
            AttackParams {
                max_queries: 0,
                ..Default::default()
            },
        ),
        (
            "steps",
            AttackParams {
                steps: 0,
                ..Default::default()
            },
        ),
        (
            "step_size",
            AttackParams {
                step_size: 0.0,
                ..Default::default()
            },
        ),
        (
            "step_size",
            AttackParams {
                step_size: f32::NAN,
                ..Default::default()
            },
        ),
        (
            "pixels",
            AttackParams {
                pixels: 0,
                ..Default::default()
            },
        ),
        (
            "confidence",
            AttackParams {
                confidence: -1.0,
                ..Default::default()
            },
        ),
        (
            "binary_search_steps",
            AttackParams {
                binary_search_steps: 0,
                ..Default::default()
            },
        ),
        (
            "cw_steps",
            AttackParams {
                cw_steps: 0,
                ..Default::default()
            },
        ),
        (
            "learning_rate",
            AttackParams {
                learning_rate: 0.0,
                ..Default::default()
            },
        ),
        (
            "gamma",
            AttackParams {
                gamma: 0.0,
                ..Default::default()
            },
        ),
        (
            "theta",
            AttackParams {
                theta: 0.0,
                ..Default::default()
            },
        ),
        (
            "p_init",
            AttackParams {
                p_init: 1.5,
                ..Default::default()
            },
        ),
        (
            "population",
            AttackParams {
                population: 3,
                ..Default::default()
            },
        ),
        (
            "mutation",
            AttackParams {
                mutation: f32::INFINITY,
                ..Default::default()
            },
        ),
        (
            "momentum",
            AttackParams {
                momentum: -1.0,
                ..Default::default()
            },
        ),
        (
            "overshoot",
            AttackParams {
                overshoot: f32::NAN,
                ..Default::default()
            },
        ),
    ];
    for (field, p) in cases {
        assert_param(&run_all(&m, x.view(), g, &p), field);
    }
    // Attack-specific limits, checked at run time.
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let p = AttackParams {
        pixels: 785,
        ..Default::default()
    };
    let e = by_name("one_pixel")
        .unwrap()
        .run(&m, x.view(), g, &p, &mut rng, &mut |_| true)
        .unwrap_err();
    assert!(
        matches!(e, Error::InvalidParameter { ref name, .. } if name == "pixels"),
        "{e:?}"
    );
    let p = AttackParams {
        max_queries: 3,
        ..Default::default()
    };
    let e = by_name("one_pixel")
        .unwrap()
        .run(&m, x.view(), g, &p, &mut rng, &mut |_| true)
        .unwrap_err();
    assert!(
        matches!(e, Error::InvalidParameter { ref name, .. } if name == "max_queries"),
        "{e:?}"
    );
    // A budget of one query is legal: only the clean evaluation, x comes back.
    for name in ["simba", "square"] {
        let p = AttackParams {
            max_queries: 1,
            ..Default::default()
        };
        let r = by_name(name)
            .unwrap()
            .run(&m, x.view(), g, &p, &mut rng, &mut |_| true)
            .unwrap();
        assert_eq!(r.adversarial, x);
        assert_eq!(r.queries, 1);
    }
}

#[test]
fn bad_goals_are_clear_errors() {
    let m = Linear::new(10);
    let x = img();
    let p0 = m.predict(x.view())[0];
    let p = AttackParams::default();
    assert_param(&run_all(&m, x.view(), Goal::Targeted { target: p0 }, &p), "target");
    assert_param(&run_all(&m, x.view(), Goal::Targeted { target: 10 }, &p), "target");
    assert_param(
        &run_all(&m, x.view(), Goal::Targeted { target: usize::MAX }, &p),
        "target",
    );
    assert_param(
        &run_all(&m, x.view(), Goal::Untargeted { true_class: 10 }, &p),
        "true_class",
    );
    // The class count comes from the model: class 4 exists for 10 classes, not for 3.
    let m3 = Linear::new(3);
    let p3 = m3.predict(x.view())[0];
    let other = (p3 + 1) % 3;
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let ok = by_name("pgd").unwrap().run(
        &m3,
        x.view(),
        Goal::Targeted { target: other },
        &p,
        &mut rng,
        &mut |_| true,
    );
    assert!(ok.is_ok());
    assert_param(&run_all(&m3, x.view(), Goal::Targeted { target: 4 }, &p), "target");
    assert_param(&run_all(&m3, x.view(), Goal::Targeted { target: 3 }, &p), "target");
    // Direction and flip search check the goal too.
    assert!(fgsm_direction(&m, x.view(), Goal::Targeted { target: p0 }, Norm::Linf).is_err());
    assert!(fgsm_direction(&m3, x.view(), Goal::Targeted { target: 7 }, Norm::Linf).is_err());
}

#[test]
fn wrong_images_are_shape_or_parameter_errors() {
    let m = Linear::new(10);
    let p = AttackParams::default();
    let g = Goal::Untargeted { true_class: 0 };
    for shape in [
        (1, 1, 28, 27),
        (2, 1, 28, 28),
        (1, 3, 28, 28),
        (0, 1, 28, 28),
        (1, 1, 1, 784),
    ] {
        let x = Array4::<f32>::zeros(shape);
        for (name, e) in run_all(&m, x.view(), g, &p) {
            assert!(matches!(e, Error::Shape(_)), "{name} {shape:?}: {e:?}");
        }
        assert!(matches!(
            fgsm_direction(&m, x.view(), g, Norm::Linf),
            Err(Error::Shape(_))
        ));
    }
    for bad in [f32::NAN, 1.5, -0.1, f32::INFINITY] {
        let mut x = img();
        x[[0, 0, 3, 3]] = bad;
        assert_param(&run_all(&m, x.view(), g, &p), "image");
    }
    // A non-standard layout is fine (a transposed view of the same pixels).
    let x = img();
    let xt = x.clone().reversed_axes();
    let xt = xt.as_standard_layout().to_owned();
    let back = xt.view().reversed_axes();
    let g = untargeted(&m, &x);
    let r = attacks::run("fgsm", &m, back, g, &AttackParams::default(), &mut |_| true).unwrap();
    let r2 = attacks::run("fgsm", &m, x.view(), g, &AttackParams::default(), &mut |_| true).unwrap();
    assert_eq!(r.adversarial, r2.adversarial);
}

#[test]
fn unknown_attacks_and_unsupported_norms() {
    assert!(matches!(by_name("fgsm2").err(), Some(Error::InvalidParameter { .. })));
    assert!(by_name("").is_err());
    for &n in ATTACK_NAMES {
        assert_eq!(by_name(n).unwrap().name(), n);
    }
    assert!(attacks::uses_direction("fgsm") && !attacks::uses_direction("pgd"));
    let m = Linear::new(10);
    let x = img();
    let g = untargeted(&m, &x);
    for name in ["square", "jsma", "one_pixel"] {
        let e = attacks::run(name, &m, x.view(), g, &AttackParams::new(1.0, Norm::L2), &mut |_| true).unwrap_err();
        assert!(
            matches!(e, Error::InvalidParameter { ref name, .. } if name == "norm"),
            "{e:?}"
        );
    }
}

#[test]
fn flip_eta_rejects_bad_arguments() {
    let m = Linear::new(10);
    let x = img();
    let g = untargeted(&m, &x);
    let s = fgsm_direction(&m, x.view(), g, Norm::Linf).unwrap();
    for (max_eta, step) in [
        (f32::NAN, FLIP_STEP),
        (-1.0, FLIP_STEP),
        (1.0, 0.0),
        (1.0, -0.001),
        (1e30, FLIP_STEP),
    ] {
        assert!(
            matches!(
                flip_eta(&m, x.view(), g, s.view(), max_eta, step),
                Err(Error::InvalidParameter { .. })
            ),
            "{max_eta} {step}"
        );
    }
    let wrong = Array4::<f32>::zeros((1, 1, 28, 27));
    assert!(matches!(
        flip_eta(&m, x.view(), g, wrong.view(), 1.0, FLIP_STEP),
        Err(Error::Shape(_))
    ));
    let mut nan = s.clone();
    nan[[0, 0, 0, 0]] = f32::NAN;
    assert!(flip_eta(&m, x.view(), g, nan.view(), 1.0, FLIP_STEP).is_err());
}

#[test]
fn evaluate_rejects_bad_data() {
    let m = Linear::new(10);
    let images = Array4::<f32>::zeros((3, 1, 28, 28));
    let a = by_name("fgsm").unwrap();
    let p = AttackParams::default();
    assert!(matches!(
        attacks::evaluate(&m, images.view(), &[0, 1], a.as_ref(), &p, false, 0),
        Err(Error::Shape(_))
    ));
    assert!(matches!(
        attacks::evaluate(&m, images.view(), &[0, 1, 10], a.as_ref(), &p, false, 0),
        Err(Error::InvalidParameter { .. })
    ));
    let wrong = Array4::<f32>::zeros((3, 1, 27, 28));
    assert!(matches!(
        attacks::evaluate(&m, wrong.view(), &[0, 1, 2], a.as_ref(), &p, false, 0),
        Err(Error::Shape(_))
    ));
    let bad = AttackParams {
        eta: -1.0,
        ..Default::default()
    };
    assert!(attacks::evaluate(&m, images.view(), &[0, 1, 2], a.as_ref(), &bad, false, 0).is_err());
    let m3 = Linear::new(3);
    assert!(attacks::transfer(&m, &m3, images.view(), &[0, 1, 2], a.as_ref(), &p, false, 0).is_err());
    // Empty data set: a report of zeros, not a division by zero.
    let empty = Array4::<f32>::zeros((0, 1, 28, 28));
    let r = attacks::evaluate(&m, empty.view(), &[], a.as_ref(), &p, false, 0).unwrap();
    assert_eq!((r.n, r.clean_accuracy, r.success_rate), (0, 0.0, 0.0));
}

#[test]
fn params_from_json() {
    // What the page sends: a partial object, the rest are defaults.
    let p = AttackParams::from_json(r#"{"eta": 0.25, "norm": "l2", "steps": 10, "seed": 7}"#).unwrap();
    assert_eq!((p.eta, p.norm, p.steps, p.seed), (0.25, Norm::L2, 10, 7));
    assert_eq!(p.step_size, AttackParams::default().step_size);
    assert_eq!(AttackParams::from_json("{}").unwrap(), AttackParams::default());
    // The defaults follow the protocol: PGD-40 of 0.01 with random start.
    let d = AttackParams::default();
    assert_eq!(
        (d.steps, d.step_size, d.random_start, d.norm),
        (40, 0.01, true, Norm::Linf)
    );
    // Round trip.
    let all = AttackParams {
        eta: 0.3,
        pixels: 3,
        confidence: 2.0,
        bounded: true,
        ..Default::default()
    };
    assert_eq!(AttackParams::from_json(&all.to_json()).unwrap(), all);
    // Garbage, each a parameter error (never a panic).
    for bad in [
        "",
        "null",
        "[]",
        "{",
        "nan",
        "42",
        r#""eta""#,
        r#"{"eta": "0.1"}"#,
        r#"{"eta": null}"#,
        r#"{"eta": 0.1, "etaa": 0.2}"#,
        r#"{"norm": "l1"}"#,
        r#"{"norm": "LINF"}"#,
        r#"{"steps": -1}"#,
        r#"{"steps": 1.5}"#,
        r#"{"steps": 0}"#,
        r#"{"max_queries": 0}"#,
        r#"{"eta": -0.1}"#,
        r#"{"eta": 1e400}"#,
        r#"{"eta": 1e39}"#,
        r#"{"eta": 2.0}"#,
        r#"{"seed": -1}"#,
        r#"{"seed": 18446744073709551616}"#,
        r#"{"random_start": "yes"}"#,
        r#"{"eta": 0.1} trailing"#,
    ] {
        match AttackParams::from_json(bad) {
            Err(Error::InvalidParameter { name, reason }) => {
                assert!(!name.is_empty() && !reason.is_empty())
            }
            other => panic!("{bad:?} gave {other:?}"),
        }
    }
    // The error names the field when the value is out of range.
    match AttackParams::from_json(r#"{"eta": -0.1}"#) {
        Err(Error::InvalidParameter { name, .. }) => assert_eq!(name, "eta"),
        other => panic!("{other:?}"),
    }
    match AttackParams::from_json(r#"{"etaa": 0.1}"#) {
        Err(e) => assert!(e.to_string().contains("etaa"), "{e}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn photos_get_the_madry_step_and_a_fine_flip_grid() {
    use advlab::attacks::{flip_search_max, flip_step, is_photo_shape, PHOTO_FLIP_STEP};
    let photo = [3, 224, 224];
    // L∞ on a photo: α = 2.5·η/steps, since the digit step 0.01 is larger than the radius 2/255 itself.
    let p = AttackParams::resolve("pgd", photo, &serde_json::json!({"eta": 2.0 / 255.0, "steps": 40})).unwrap();
    assert!(
        (p.step_size - 2.5 * (2.0 / 255.0) / 40.0).abs() < 1e-9,
        "{}",
        p.step_size
    );
    // An explicit step wins; digits keep 0.01.
    let p = AttackParams::resolve("pgd", photo, &serde_json::json!({"eta": 0.01, "step_size": 0.002})).unwrap();
    assert_eq!(p.step_size, 0.002);
    let p = AttackParams::resolve("pgd", [1, 28, 28], &serde_json::json!({"eta": 0.1})).unwrap();
    assert_eq!(p.step_size, 0.01);
    // The flip grid: 0.0001 up to 16/255 on photos, 0.001 up to 0.5 on digits (grey inputs of any size).
    assert!(is_photo_shape(photo) && !is_photo_shape([1, 28, 28]) && !is_photo_shape([1, 112, 112]));
    assert_eq!((flip_step(photo), flip_step([1, 28, 28])), (PHOTO_FLIP_STEP, FLIP_STEP));
    assert_eq!(flip_search_max(Norm::Linf, photo), 16.0 / 255.0);
    assert_eq!(flip_search_max(Norm::L2, photo), 160.0 / 255.0);
    assert_eq!(flip_search_max(Norm::Linf, [1, 28, 28]), 0.5);
}
