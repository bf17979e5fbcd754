//! Strength of the attacks against the shipped models, on the first test images (the protocol uses the
//! first 1000; the expensive optimisation and query attacks run on fewer here to keep CI short, and the README's
//! "Reproducing the papers" table gives the 1000-image numbers from `advlab eval`).

use advlab::attacks::{by_name, evaluate, AttackParams, EvalReport, Norm};
use advlab::data::{load, DatasetName, Split};
use advlab::model_file::load_file;
use advlab::nn::Model;

fn model(id: &str) -> Model {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("www/models/{id}.safetensors"));
    load_file(path).unwrap().0
}

fn run(id: &str, attack: &str, params: AttackParams, targeted: bool, n: usize) -> EvalReport {
    let m = model(id);
    let d = load(DatasetName::Mnist, Split::Test, Some(n)).unwrap();
    let a = by_name(attack).unwrap();
    let r = evaluate(&m, d.images.view(), &d.labels, a.as_ref(), &params, targeted, 0).unwrap();
    eprintln!("{id} {attack} η={} targeted={targeted} n={n}: {r:?}", params.eta);
    assert_eq!(r.n, n);
    r
}

#[test]
fn fgsm_fools_the_linear_model_at_eta_0_25() {
    // Goodfellow et al. 2015 §4: 99.9 % error for softmax regression at ε = 0.25.
    let r = run("mnist-linear", "fgsm", AttackParams::new(0.25, Norm::Linf), false, 1000);
    assert!(
        1.0 - r.adversarial_accuracy >= 0.95,
        "error {}",
        1.0 - r.adversarial_accuracy
    );
    assert!(r.mean_linf <= 0.25 + 1e-6);
}

#[test]
fn pgd_40_breaks_the_cnn_at_eta_0_3() {
    // Madry et al. 2018: PGD-40, step 0.01, random start.
    let r = run("mnist-cnn", "pgd", AttackParams::new(0.3, Norm::Linf), false, 1000);
    assert!(r.adversarial_accuracy <= 0.01, "accuracy {}", r.adversarial_accuracy);
}

#[test]
fn targeted_pgd_reaches_the_target() {
    let r = run("mnist-cnn", "pgd", AttackParams::new(0.3, Norm::Linf), true, 1000);
    assert!(r.success_rate >= 0.95, "success {}", r.success_rate);
}

#[test]
fn deepfool_succeeds_and_cw_finds_smaller_perturbations() {
    let n = 200;
    let deepfool = run("mnist-cnn", "deepfool", AttackParams::new(28.0, Norm::L2), false, n);
    assert!(
        deepfool.success_rate >= 0.99,
        "DeepFool success {}",
        deepfool.success_rate
    );
    let cw = run("mnist-cnn", "cw", AttackParams::new(28.0, Norm::L2), false, n);
    assert!(cw.success_rate >= 0.95, "C&W success {}", cw.success_rate);
    assert!(
        cw.mean_l2 < deepfool.mean_l2,
        "C&W {} vs DeepFool {}",
        cw.mean_l2,
        deepfool.mean_l2
    );
}

#[test]
fn score_based_black_box_attacks_succeed_within_10000_queries() {
    for attack in ["simba", "square"] {
        let r = run("mnist-cnn", attack, AttackParams::new(0.3, Norm::Linf), false, 300);
        assert!(r.success_rate >= 0.90, "{attack} success {}", r.success_rate);
        assert!(
            r.mean_queries > 0.0 && r.mean_queries <= 10_000.0,
            "{attack} queries {}",
            r.mean_queries
        );
    }
}
