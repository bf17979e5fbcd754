//! The attack catalog and the one params entry point (`AttackParams::resolve`): η caps from the input shape, the
//! L2 step rule, norm defaults, budgets and refusals, the JSON shapes the page reads.

use advlab::attacks::{
    self, by_name, catalog, default_eta, AttackKind, AttackParams, Classifier, EtaCaps, Goal, Norm, ATTACK_NAMES,
};
use advlab::Error;
use ndarray::{Array2, Array4, ArrayView2, ArrayView4};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde_json::json;

const MNIST: [usize; 3] = [1, 28, 28];
const PHOTO: [usize; 3] = [3, 224, 224];

fn param_name(e: &Error) -> &str {
    match e {
        Error::InvalidParameter { name, .. } => name,
        other => panic!("expected a parameter error, got {other:?}"),
    }
}

#[test]
fn catalog_lists_every_attack_with_its_kind() {
    let c = catalog(MNIST);
    let names: Vec<&str> = c.iter().map(|a| a.name).collect();
    assert_eq!(names, ATTACK_NAMES);
    let kind = |n: &str| c.iter().find(|a| a.name == n).unwrap().kind;
    assert_eq!(kind("fgsm"), AttackKind::Direction);
    for n in ["bim", "pgd", "mifgsm", "deepfool", "cw", "jsma"] {
        assert_eq!(kind(n), AttackKind::Iterative, "{n}");
    }
    for n in ["simba", "square", "one_pixel"] {
        assert_eq!(kind(n), AttackKind::Query, "{n}");
    }
    // Exactly one direction attack, and uses_direction agrees with the trait.
    for a in &c {
        assert_eq!(attacks::uses_direction(a.name), a.kind == AttackKind::Direction);
        assert_eq!(a.norms, by_name(a.name).unwrap().supported_norms());
        assert!(a.targeted);
        assert_eq!(a.refused, None, "{} on MNIST", a.name);
        assert_eq!(a.eta_max, EtaCaps { linf: 1.0, l2: 28.0 });
        assert_eq!(a.default_eta, 0.1);
    }
    let op = c.iter().find(|a| a.name == "one_pixel").unwrap().budget.unwrap();
    assert_eq!((op.param, op.min, op.max, op.default), ("pixels", 1, 5, 1));
    let sq = c.iter().find(|a| a.name == "simba").unwrap().budget.unwrap();
    assert_eq!((sq.param, sq.default), ("max_queries", 10_000));
    assert!(c.iter().find(|a| a.name == "pgd").unwrap().budget.is_none());
}

#[test]
fn caps_and_defaults_follow_the_input_size() {
    let caps = EtaCaps::for_shape(PHOTO);
    assert_eq!(caps.linf, 1.0);
    assert!((caps.l2 - 150_528f32.sqrt()).abs() < 1e-3);
    assert_eq!(caps.cap(Norm::L2), caps.l2);
    // η₀·√n stays ≈ 2.8 (MNIST's 0.1·28).
    assert_eq!(default_eta(Norm::Linf, MNIST), 0.1);
    assert_eq!(default_eta(Norm::Linf, PHOTO), 0.007);
    assert_eq!(default_eta(Norm::Linf, [3, 32, 32]), 0.051);
    assert_eq!(default_eta(Norm::Linf, [1, 8, 8]), 0.1);
    assert_eq!(default_eta(Norm::L2, MNIST), 2.0);
    assert_eq!(default_eta(Norm::L2, [1, 1, 1]), 1.0);
    let c = catalog(PHOTO);
    for a in &c {
        assert_eq!(a.default_eta, 0.007);
        assert_eq!(a.eta_max, caps);
        // The photo slider ends at 16/255 (L2: ten times), where the digits' ends at 0.5.
        assert_eq!(
            a.slider_end,
            EtaCaps {
                linf: 16.0 / 255.0,
                l2: 160.0 / 255.0
            }
        );
        assert_eq!(a.refused.is_some(), a.name == "jsma", "{}", a.name);
    }
    // JSMA runs up to 4096 inputs (3×32×32 included), not above.
    assert!(catalog([3, 32, 32]).iter().all(|a| a.refused.is_none()));
    assert!(catalog([1, 64, 65]).iter().any(|a| a.refused.is_some()));
}

#[test]
fn catalog_json_shape() {
    let v = serde_json::to_value(catalog(MNIST)).unwrap();
    assert_eq!(
        v[0],
        json!({"name": "fgsm", "kind": "direction", "norms": ["linf", "l2"], "targeted": true,
               "eta_max": {"linf": 1.0, "l2": 28.0}, "slider_end": {"linf": 0.5, "l2": 5.0}, "default_eta": 0.1f32,
               "budget": null, "refused": null})
    );
    let op = v.as_array().unwrap().iter().find(|a| a["name"] == "one_pixel").unwrap();
    assert_eq!(op["kind"], "query");
    assert_eq!(
        op["budget"],
        json!({"param": "pixels", "min": 1, "max": 5, "default": 1})
    );
    let v = serde_json::to_value(catalog(PHOTO)).unwrap();
    let jsma = v.as_array().unwrap().iter().find(|a| a["name"] == "jsma").unwrap();
    assert!(jsma["refused"].as_str().unwrap().contains("150528"));
}

#[test]
fn resolve_applies_the_l2_step_rule() {
    // The page's old rule (www/attacks.js): 2.5·η/40 under L2, the default 0.01 under L∞.
    let p = AttackParams::resolve("pgd", MNIST, &json!({"eta": 2.0, "norm": "l2", "seed": 7})).unwrap();
    assert_eq!((p.eta, p.norm, p.seed, p.steps), (2.0, Norm::L2, 7, 40));
    assert_eq!(p.step_size, 2.5 * 2.0 / 40.0);
    let p = AttackParams::resolve("pgd", MNIST, &json!({"eta": 2.0, "norm": "l2", "steps": 10})).unwrap();
    assert_eq!(p.step_size, 0.5);
    // An explicit step wins; L∞ keeps the protocol's 0.01.
    let p = AttackParams::resolve("pgd", MNIST, &json!({"eta": 2.0, "norm": "l2", "step_size": 0.3})).unwrap();
    assert_eq!(p.step_size, 0.3);
    let p = AttackParams::resolve("pgd", MNIST, &json!({"eta": 0.3})).unwrap();
    assert_eq!((p.step_size, p.norm), (0.01, Norm::Linf));
    // η = 0 under L2 keeps a legal step (the attack returns x anyway).
    let p = AttackParams::resolve("bim", MNIST, &json!({"eta": 0.0, "norm": "l2"})).unwrap();
    assert_eq!(p.step_size, 0.01);
    // Defaults: norm = the attack's first, η = the shape's default.
    let p = AttackParams::resolve("fgsm", PHOTO, &json!(null)).unwrap();
    assert_eq!((p.norm, p.eta), (Norm::Linf, 0.007));
    let p = AttackParams::resolve("fgsm", MNIST, &json!({"norm": "l2"})).unwrap();
    assert_eq!(p.eta, 2.0);
    // Resolving the result again changes nothing.
    for (name, o) in [
        ("pgd", json!({"eta": 1.3, "norm": "l2"})),
        ("simba", json!({"eta": 0.2, "norm": "l2", "max_queries": 500})),
        ("one_pixel", json!({"pixels": 5})),
    ] {
        let p = AttackParams::resolve(name, MNIST, &o).unwrap();
        let again: serde_json::Value = serde_json::from_str(&p.to_json()).unwrap();
        assert_eq!(AttackParams::resolve(name, MNIST, &again).unwrap(), p, "{name}");
    }
}

#[test]
fn resolve_checks_caps_norms_budgets_and_refusals() {
    let err = |name: &str, shape, o| AttackParams::resolve(name, shape, &o).unwrap_err();
    // L2 cap √n: 28 on MNIST, √3072 ≈ 55.4 on 3×32×32, ≈ 388 on a photo.
    assert!(AttackParams::resolve("pgd", MNIST, &json!({"eta": 28.0, "norm": "l2"})).is_ok());
    assert_eq!(
        param_name(&err("pgd", MNIST, json!({"eta": 28.1, "norm": "l2"}))),
        "eta"
    );
    assert!(AttackParams::resolve("pgd", [3, 32, 32], &json!({"eta": 55.0, "norm": "l2"})).is_ok());
    assert_eq!(
        param_name(&err("pgd", [3, 32, 32], json!({"eta": 56.0, "norm": "l2"}))),
        "eta"
    );
    assert!(AttackParams::resolve("pgd", PHOTO, &json!({"eta": 100.0, "norm": "l2"})).is_ok());
    assert_eq!(param_name(&err("pgd", PHOTO, json!({"eta": 1.01}))), "eta");
    assert_eq!(param_name(&err("square", MNIST, json!({"norm": "l2"}))), "norm");
    assert_eq!(param_name(&err("nope", MNIST, json!({}))), "attack");
    assert_eq!(param_name(&err("jsma", PHOTO, json!({}))), "attack");
    assert_eq!(param_name(&err("one_pixel", MNIST, json!({"pixels": 6}))), "pixels");
    assert_eq!(param_name(&err("one_pixel", MNIST, json!({"pixels": 0}))), "pixels");
    assert_eq!(
        param_name(&err("simba", MNIST, json!({"max_queries": 0}))),
        "max_queries"
    );
    for bad in [
        json!([]),
        json!(3),
        json!("eta"),
        json!({"etaa": 1}),
        json!({"eta": "0.1"}),
    ] {
        assert_eq!(param_name(&err("fgsm", MNIST, bad.clone())), "params", "{bad}");
    }
}

/// A linear classifier on `[3, 64, 64]` (12 288 inputs), only to see JSMA refuse before any work.
struct Wide;

impl Classifier for Wide {
    fn num_classes(&self) -> usize {
        3
    }
    fn input_shape(&self) -> [usize; 3] {
        [3, 64, 64]
    }
    fn logits(&self, x: ArrayView4<f32>) -> Array2<f32> {
        let n = x.shape()[0];
        Array2::from_shape_fn((n, 3), |(i, k)| x[[i, k, 0, 0]])
    }
    fn logits_vjp(&self, x: ArrayView4<f32>, d: ArrayView2<f32>) -> (Array2<f32>, Array4<f32>) {
        let mut g = Array4::zeros(x.raw_dim());
        for i in 0..x.shape()[0] {
            for k in 0..3 {
                g[[i, k, 0, 0]] = d[[i, k]];
            }
        }
        (self.logits(x), g)
    }
}

#[test]
fn jsma_refuses_large_inputs_at_run_time() {
    let m = Wide;
    let mut x = Array4::<f32>::zeros((1, 3, 64, 64));
    x[[0, 0, 0, 0]] = 1.0;
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let e = by_name("jsma")
        .unwrap()
        .run(
            &m,
            x.view(),
            Goal::Untargeted { true_class: 0 },
            &AttackParams::default(),
            &mut rng,
            &mut |_| true,
        )
        .unwrap_err();
    assert_eq!(param_name(&e), "attack");
    assert!(e.to_string().contains("12288"), "{e}");
    // The same image under FGSM is fine: the refusal is JSMA's alone.
    let r = attacks::run(
        "fgsm",
        &m,
        x.view(),
        Goal::Untargeted { true_class: 0 },
        &AttackParams::default(),
        &mut |_| true,
    );
    assert!(r.is_ok());
}
