//! Defences: the adversarial-training hooks (plain FGSM, FGSM-RS, PGD, ensemble R+FGSM) keep their bounds and
//! are reproducible, a tiny adversarial-training run is bit-reproducible, the in-browser lesson's trainer learns,
//! the shipped robust models still meet their targets on a CI-sized subset of the test split (the full-split
//! numbers are in each file's metadata and the README; scripts/eval-defences.sh measures them), and the
//! FGSM-trained model shows catastrophic overfitting: robust to FGSM, not to PGD.

use advlab::attacks::{by_name, evaluate as attack_eval, transfer, AttackParams};
use advlab::data::{load, DatasetName, Split};
use advlab::model_file::load_file;
use advlab::nn::{architecture, Model};
use advlab::train::adversarial::{adversarial, craft, AdvConfig, AdvMethod};
use advlab::train::ensemble::{ensemble, r_fgsm, EnsembleConfig};
use advlab::train::stepwise::{Lesson, LessonConfig};
use advlab::train::{accuracy, train_with, Batch, TrainConfig};
use ndarray::{s, Array4};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn mnist(n: usize) -> (Array4<f32>, Vec<usize>) {
    let d = load(DatasetName::Mnist, Split::Test, Some(n)).unwrap();
    (d.images, d.labels)
}

fn shipped(id: &str) -> Model {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("www/models/{id}.safetensors"));
    load_file(p).unwrap_or_else(|e| panic!("{id}: {e}")).0
}

fn max_abs_diff(a: &Array4<f32>, b: &Array4<f32>) -> f32 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

fn in_unit(a: &Array4<f32>) -> bool {
    a.iter().all(|v| (0.0..=1.0).contains(v))
}

/// Tiny linear training runs on 1000 MNIST training images (3 epochs, seed 4): with the hook `adv` twice, which
/// must give bit-identical weights, and once plain. Returns (the adversarially trained model, the plain one).
fn tiny_linear_runs(adv: AdvConfig) -> (Model, Model) {
    let d = load(DatasetName::Mnist, Split::Train, Some(1000)).unwrap();
    let cfg = TrainConfig {
        epochs: 3,
        batch_size: 32,
        lr: 0.01,
        seed: 4,
        ..TrainConfig::default()
    };
    let spec = architecture("linear").unwrap();
    let run = |adv: Option<AdvConfig>| {
        let mut m = Model::init(&spec, [1, 28, 28], 4).unwrap();
        let mut hook: Box<advlab::train::BatchTransform<'static>> = match adv {
            Some(a) => Box::new(adversarial(a)),
            None => Box::new(|_: &Model, b: Batch, _: &mut ChaCha8Rng| Ok(b)),
        };
        train_with(&mut m, d.images.view(), &d.labels, &cfg, &mut *hook, &mut |_, _| true).unwrap();
        m
    };
    let (a, b) = (run(Some(adv)), run(Some(adv)));
    for (p, q) in a.params().iter().zip(b.params()) {
        assert_eq!(p.data, q.data, "same seed, same weights");
    }
    (a, run(None))
}

fn hooks(eps: f32) -> Vec<(&'static str, AdvConfig)> {
    vec![("fgsm-rs", AdvConfig::fgsm_rs(eps)), ("pgd", AdvConfig::pgd(eps, 5))]
}

#[test]
fn adversarial_hooks_keep_the_bound_and_the_pixel_range_and_raise_the_loss() {
    let model = shipped("mnist-mlp");
    let (x, y) = mnist(64);
    for eps in [0.1f32, 0.3] {
        for (name, cfg) in hooks(eps) {
            let mut hook = adversarial(cfg);
            let clean = Batch {
                images: x.clone(),
                labels: y.clone(),
            };
            let kept = clean.clone();
            let out = hook(&model, clean, &mut ChaCha8Rng::seed_from_u64(3)).unwrap();
            // The input is consumed, not edited behind the caller's back: the copy still equals the data.
            assert_eq!(kept.images, x);
            assert_eq!(out.labels, y, "{name}: labels kept in order");
            let d = max_abs_diff(&out.images, &x);
            assert!(d <= eps + 1e-6, "{name} ε={eps}: moved {d}");
            assert!(d > 0.5 * eps, "{name} ε={eps}: barely moved ({d})");
            assert!(in_unit(&out.images), "{name}: left [0, 1]");
            // Adversarial means the model's loss goes up — a lot, for an undefended MLP.
            let (l0, l1) = (model.loss(x.view(), &y), model.loss(out.images.view(), &y));
            assert!(l1 > l0 + 0.5, "{name} ε={eps}: loss {l0} → {l1}");
        }
    }
    // PGD is the stronger inner maximiser.
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let f = craft(&model, &x, &y, AdvConfig::fgsm_rs(0.1).method, 0.1, &mut rng);
    let p = craft(&model, &x, &y, AdvConfig::pgd(0.1, 10).method, 0.1, &mut rng);
    assert!(model.loss(p.view(), &y) > model.loss(f.view(), &y));
}

#[test]
fn hooks_are_deterministic_per_seed_and_differ_across_seeds() {
    let model = shipped("mnist-linear");
    let (x, y) = mnist(32);
    let run = |cfg: AdvConfig, seed: u64| {
        let mut hook = adversarial(cfg);
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let b = || Batch {
            images: x.clone(),
            labels: y.clone(),
        };
        let a = hook(&model, b(), &mut rng).unwrap().images;
        let c = hook(&model, b(), &mut rng).unwrap().images;
        (a, c)
    };
    for (name, cfg) in hooks(0.2) {
        assert_eq!(run(cfg, 1), run(cfg, 1), "{name}");
        assert_ne!(
            run(cfg, 1).0,
            run(cfg, 2).0,
            "{name}: the random start depends on the seed"
        );
    }
    // Ensemble hook, likewise.
    let sources = vec![shipped("mnist-mlp"), shipped("mnist-cnn")];
    let ens = |seed| {
        let mut hook = ensemble(EnsembleConfig::new(0.3, vec!["a".into(), "b".into()]), sources.clone());
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        (0..3)
            .map(|_| {
                hook(
                    &model,
                    Batch {
                        images: x.clone(),
                        labels: y.clone(),
                    },
                    &mut rng,
                )
                .unwrap()
                .images
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(ens(5), ens(5));
    assert_ne!(ens(5), ens(6));
}

#[test]
fn warmup_ramps_eps_and_clean_fraction_keeps_the_first_images() {
    let mut cfg = AdvConfig::fgsm_rs(0.3);
    cfg.warmup_batches = 10;
    assert!((cfg.eps_at(0) - 0.03).abs() < 1e-6);
    assert!((cfg.eps_at(4) - 0.15).abs() < 1e-6);
    assert_eq!(cfg.eps_at(9), 0.3);
    assert_eq!(cfg.eps_at(1000), 0.3);
    let model = shipped("mnist-linear");
    let (x, y) = mnist(10);
    let mut hook = adversarial(AdvConfig {
        clean_fraction: 0.5,
        ..AdvConfig::pgd(0.2, 3)
    });
    let out = hook(
        &model,
        Batch {
            images: x.clone(),
            labels: y.clone(),
        },
        &mut ChaCha8Rng::seed_from_u64(0),
    )
    .unwrap();
    assert_eq!(out.images.slice(s![..5, .., .., ..]), x.slice(s![..5, .., .., ..]));
    assert_ne!(out.images.slice(s![5.., .., .., ..]), x.slice(s![5.., .., .., ..]));
    assert!(AdvConfig::pgd(0.3, 0).validate().is_err());
    assert!(AdvConfig::fgsm_rs(1.5).validate().is_err());
}

/// Plain FGSM (Goodfellow et al. 2015): no random start, one step of exactly ε from the clean image, half of the
/// batch kept clean (eq. 6 with α = 0.5), and nothing drawn from the stream, so the seed does not matter.
#[test]
fn plain_fgsm_hook_is_goodfellow_eq6_without_a_random_start() {
    let model = shipped("mnist-mlp");
    let (x, y) = mnist(64);
    let eps = 0.3;
    let cfg = AdvConfig::fgsm(eps);
    assert_eq!(cfg.method, AdvMethod::Fgsm);
    assert_eq!(cfg.clean_fraction, 0.5);
    cfg.validate().unwrap();
    let batch = || Batch {
        images: x.clone(),
        labels: y.clone(),
    };
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let untouched = rng.clone();
    let out = adversarial(cfg)(&model, batch(), &mut rng).unwrap();
    assert_eq!(rng, untouched, "plain FGSM draws no randomness");
    let other = adversarial(cfg)(&model, batch(), &mut ChaCha8Rng::seed_from_u64(99)).unwrap();
    assert_eq!(out.images, other.images, "the seed does not matter");
    assert_eq!(out.labels, y);
    // The first half stays clean; the second is clip(x + ε·sign(∇ₓJ(x, y))), computed here from the gradient.
    assert_eq!(out.images.slice(s![..32, .., .., ..]), x.slice(s![..32, .., .., ..]));
    let tail = x.slice(s![32.., .., .., ..]).to_owned();
    let (_, g) = model.input_gradient(tail.view(), &y[32..]);
    let mut want = tail.clone();
    ndarray::Zip::from(&mut want).and(&g).for_each(|a, &gi| {
        let step = if gi > 0.0 {
            eps
        } else if gi < 0.0 {
            -eps
        } else {
            0.0
        };
        *a = (*a + step).clamp(0.0, 1.0);
    });
    assert!(max_abs_diff(&out.images.slice(s![32.., .., .., ..]).to_owned(), &want) <= 1e-6);
    assert!(max_abs_diff(&out.images, &x) <= eps + 1e-6);
    assert!(in_unit(&out.images));
    let adv = out.images.slice(s![32.., .., .., ..]).to_owned();
    assert!(model.loss(adv.view(), &y[32..]) > model.loss(tail.view(), &y[32..]) + 0.5);
    // craft() is the same step, at any ε, and ε = 0 is the identity.
    let c = craft(
        &model,
        &tail,
        &y[32..],
        AdvMethod::Fgsm,
        eps,
        &mut ChaCha8Rng::seed_from_u64(0),
    );
    assert_eq!(c, adv);
    assert_eq!(
        craft(
            &model,
            &tail,
            &y[32..],
            AdvMethod::Fgsm,
            0.0,
            &mut ChaCha8Rng::seed_from_u64(0)
        ),
        tail
    );
    // The recipe as the weight file records it.
    assert_eq!(
        serde_json::to_value(cfg).unwrap(),
        serde_json::json!({ "eps": 0.3f32, "method": "fgsm", "warmup_batches": 0, "clean_fraction": 0.5 })
    );
}

/// A tiny plain-FGSM training run raises the accuracy under FGSM (a linear model cannot mask its gradient, so
/// here the gain is real), and it is bit-reproducible.
#[test]
fn a_tiny_plain_fgsm_training_run_raises_fgsm_accuracy() {
    let (tx, ty) = mnist(300);
    let eps = 0.1;
    let (a, plain) = tiny_linear_runs(AdvConfig::fgsm(eps));
    let fgsm = |m: &Model| {
        let r = attack_eval(
            m,
            tx.view(),
            &ty,
            by_name("fgsm").unwrap().as_ref(),
            &params(eps, 1),
            false,
            1,
        )
        .unwrap();
        r.adversarial_accuracy
    };
    let (fa, fp) = (fgsm(&a), fgsm(&plain));
    eprintln!("FGSM η={eps} on 300 test images: FGSM-trained {fa:.3}, plain {fp:.3}");
    assert!(fa > fp + 0.2, "FGSM training {fa} vs plain {fp}");
    assert!(accuracy(&a, tx.view(), &ty) > 0.7);
}

/// `advlab train --adv fgsm` writes the recipe (method, ε, the clean half, the paper) into `training.adversarial`
/// and refuses a step size, which plain FGSM does not have.
#[test]
fn advlab_train_adv_fgsm_records_the_recipe() {
    let out = std::env::temp_dir().join(format!("advlab-fgsm-recipe-{}.safetensors", std::process::id()));
    let run = |extra: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_advlab"))
            .args([
                "train",
                "--arch",
                "linear",
                "--dataset",
                "mnist",
                "--train-n",
                "256",
                "--epochs",
                "1",
                "--seed",
                "1",
                "--adv",
                "fgsm",
                "--adv-eta",
                "0.3",
                "--quiet",
                "--out",
            ])
            .arg(&out)
            .args(extra)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .unwrap()
    };
    let ok = run(&[]);
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    let (_, meta) = load_file(&out).unwrap();
    let rec = &meta.training["adversarial"];
    assert_eq!(rec["kind"], "fgsm");
    assert_eq!(rec["paper"], "Goodfellow, Shlens & Szegedy 2015");
    assert_eq!(rec["config"]["method"], "fgsm");
    assert!((rec["config"]["eps"].as_f64().unwrap() - 0.3).abs() < 1e-6);
    assert_eq!(rec["config"]["clean_fraction"], 0.5);
    assert_eq!(rec["config"]["warmup_batches"], 0);
    // --adv-clean overrides the clean half (0: adversarial examples only).
    let ok = run(&["--adv-clean", "0"]);
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    assert_eq!(
        load_file(&out).unwrap().1.training["adversarial"]["config"]["clean_fraction"],
        0.0
    );
    let bad = run(&["--adv-alpha", "0.1"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("adv-alpha"));
    let _ = std::fs::remove_file(&out);
}

#[test]
fn ensemble_hook_alternates_sources_keeps_half_clean_and_uses_r_fgsm() {
    let current = shipped("mnist-linear");
    let statics = vec![shipped("mnist-mlp"), shipped("mnist-cnn")];
    let (x, y) = mnist(20);
    let eps = 0.3;
    let mut hook = ensemble(
        EnsembleConfig::new(eps, vec!["mlp".into(), "cnn".into()]),
        statics.clone(),
    );
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    for t in 0..6 {
        let mut twin = rng.clone();
        let out = hook(
            &current,
            Batch {
                images: x.clone(),
                labels: y.clone(),
            },
            &mut rng,
        )
        .unwrap();
        // First half clean, second half R+FGSM on the source of the cycle [current, mlp, cnn].
        assert_eq!(out.images.slice(s![..10, .., .., ..]), x.slice(s![..10, .., .., ..]));
        let src = match t % 3 {
            0 => &current,
            1 => &statics[0],
            _ => &statics[1],
        };
        let tail = x.slice(s![10.., .., .., ..]).to_owned();
        let want = r_fgsm(src, &tail, &y[10..], eps, eps / 2.0, &mut twin);
        assert_eq!(out.images.slice(s![10.., .., .., ..]), want.view(), "batch {t}");
        assert!(max_abs_diff(&out.images, &x) <= eps + 1e-6);
        assert!(in_unit(&out.images));
    }
    // R+FGSM: a random ±α step then an (ε − α) gradient-sign step, so most pixels move by exactly 0, α or ε
    // before clipping; none moves further than ε.
    let adv = r_fgsm(&statics[0], &x, &y, eps, eps / 2.0, &mut ChaCha8Rng::seed_from_u64(1));
    assert!(max_abs_diff(&adv, &x) <= eps + 1e-6);
    assert!(statics[0].loss(adv.view(), &y) > statics[0].loss(x.view(), &y));
}

#[test]
fn a_tiny_adversarial_training_run_is_reproducible_and_learns_robustness() {
    let (tx, ty) = mnist(300);
    let eps = 0.1;
    let (a, plain) = tiny_linear_runs(AdvConfig::fgsm_rs(eps));
    // Robust accuracy under PGD-10 at ε: the adversarially trained model beats the plain one.
    let pgd = |m: &Model| {
        let adv = craft(
            m,
            &tx,
            &ty,
            AdvMethod::Pgd {
                steps: 10,
                alpha: 0.025,
            },
            eps,
            &mut ChaCha8Rng::seed_from_u64(0),
        );
        accuracy(m, adv.view(), &ty)
    };
    let (ra, rp) = (pgd(&a), pgd(&plain));
    assert!(ra > rp + 0.1, "adversarial training {ra} vs plain {rp}");
    assert!(accuracy(&a, tx.view(), &ty) > 0.6);
}

#[test]
fn the_lesson_trainer_learns_from_idx_bytes_and_is_resumable() {
    let d = load(DatasetName::Mnist, Split::Train, Some(1200)).unwrap();
    let px: Vec<u8> = d.images.iter().map(|v| (v * 255.0).round() as u8).collect();
    let lb: Vec<u8> = d.labels.iter().map(|&l| l as u8).collect();
    let images = advlab::data::idx::IdxU8 {
        dims: vec![1200, 28, 28],
        data: px,
    }
    .to_bytes()
    .unwrap();
    let labels = advlab::data::idx::IdxU8 {
        dims: vec![1200],
        data: lb,
    }
    .to_bytes()
    .unwrap();
    let cfg = LessonConfig {
        arch: "mlp".into(),
        hidden: 32,
        seed: 2,
        adversarial_eps: None,
        heldout: 200,
        epochs: 2,
        batch_size: 32,
        lr: 0.005,
    };
    // Chunks of 7 or one big chunk: same weights.
    let mut a = Lesson::from_idx(&images, &labels, &cfg).unwrap();
    let mut last = None;
    while !a.run.is_done() {
        let r = a.run.step(7).unwrap();
        assert!(r.progress <= 1.0 && r.loss.is_finite());
        last = Some(r);
    }
    let last = last.unwrap();
    assert!(last.done && (last.progress - 1.0).abs() < 1e-6 && last.epoch == 2);
    assert_eq!(last.steps, 2 * 1000usize.div_ceil(32));
    let mut b = Lesson::from_idx(&images, &labels, &cfg).unwrap();
    b.run.step(10_000).unwrap();
    for (p, q) in a.run.model.params().iter().zip(b.run.model.params()) {
        assert_eq!(p.data, q.data);
    }
    assert!(a.evaluate_heldout().unwrap().accuracy > 0.8);
    assert_eq!(a.evaluate_heldout().unwrap().total, 200);
    assert!(Lesson::from_idx(
        &images,
        &labels,
        &LessonConfig {
            hidden: 0,
            ..cfg.clone()
        }
    )
    .is_err());
    assert!(Lesson::from_idx(&images, &labels, &LessonConfig { heldout: 1200, ..cfg }).is_err());
}

fn params(eta: f32, steps: usize) -> AttackParams {
    AttackParams {
        eta,
        steps,
        step_size: eta / 4.0,
        seed: 1,
        ..AttackParams::default()
    }
}

/// PGD-40 with a random start and step η/15: the protocol of the README's table (scripts/eval-defences.sh).
fn pgd40(eta: f32) -> AttackParams {
    AttackParams {
        eta,
        steps: 40,
        step_size: (eta / 15.0).max(0.0025),
        random_start: true,
        seed: 1,
        ..AttackParams::default()
    }
}

/// The acceptance lines on a CI-sized subset (the first 300 test images): clean, FGSM and PGD-40 (random start,
/// step η/15, the protocol of the full-split numbers in the README) against the issue's own targets.
#[test]
fn shipped_robust_models_meet_their_targets_on_a_subset() {
    let check = |id: &str, ds: DatasetName, n: usize, eta: f32, clean_min: f32, fgsm_min: f32, pgd_min: f32| {
        let m = shipped(id);
        let d = load(ds, Split::Test, Some(n)).unwrap();
        let clean = accuracy(&m, d.images.view(), &d.labels);
        let f = attack_eval(
            &m,
            d.images.view(),
            &d.labels,
            by_name("fgsm").unwrap().as_ref(),
            &params(eta, 1),
            false,
            1,
        )
        .unwrap();
        let p = attack_eval(
            &m,
            d.images.view(),
            &d.labels,
            by_name("pgd").unwrap().as_ref(),
            &pgd40(eta),
            false,
            1,
        )
        .unwrap();
        eprintln!(
            "{id}: clean {clean:.3}  FGSM {:.3}  PGD-40 {:.3}",
            f.adversarial_accuracy, p.adversarial_accuracy
        );
        assert!(clean >= clean_min, "{id}: clean {clean}");
        assert!(
            f.adversarial_accuracy >= fgsm_min,
            "{id}: FGSM {}",
            f.adversarial_accuracy
        );
        assert!(
            p.adversarial_accuracy >= pgd_min,
            "{id}: PGD-40 {}",
            p.adversarial_accuracy
        );
    };
    check(
        "mnist-cnn-adv",
        DatasetName::Mnist,
        300,
        0.3,
        CLEAN_ADV,
        FGSM_ADV,
        PGD_ADV,
    );
    check(
        "fashion-cnn-adv",
        DatasetName::Fashion,
        300,
        0.1,
        CLEAN_FASHION,
        0.0,
        PGD_FASHION,
    );
}

/// Transfer from the standard models: the ensemble-trained CNN resists far better than the standard CNN.
#[test]
fn ensemble_model_resists_transfer_from_the_standard_models() {
    let (x, y) = mnist(200);
    let cnn = shipped("mnist-cnn");
    let ens = shipped("mnist-cnn-ens");
    let mut gap = 0.0;
    for src in ["mnist-mlp", "mnist-cnn"] {
        let s = shipped(src);
        let p = params(0.3, 1);
        let fgsm = by_name("fgsm").unwrap();
        let to_cnn = transfer(&s, &cnn, x.view(), &y, fgsm.as_ref(), &p, false, 1).unwrap();
        let to_ens = transfer(&s, &ens, x.view(), &y, fgsm.as_ref(), &p, false, 1).unwrap();
        eprintln!(
            "FGSM from {src}: mnist-cnn {:.3}, mnist-cnn-ens {:.3}",
            to_cnn.target_adversarial_accuracy, to_ens.target_adversarial_accuracy
        );
        assert!(to_ens.target_adversarial_accuracy > to_cnn.target_adversarial_accuracy);
        gap += to_ens.target_adversarial_accuracy - to_cnn.target_adversarial_accuracy;
    }
    assert!(gap / 2.0 >= ENS_GAP, "mean transfer gap {}", gap / 2.0);
}

/// Catastrophic overfitting (Wong et al. 2020 §4) in the shipped `mnist-cnn-fgsm`: trained with plain FGSM at
/// ε = 0.3, it looks robust to FGSM and is not robust at all under PGD-40 (the README's protocol), on the first
/// 1000 test images. And label leaking (Kurakin et al. 2017 §4.2), on the full split: FGSM crafted with the true
/// label on *every* test image (the ones it gets wrong too) leaves it more accurate than on the clean images,
/// because the perturbation itself now tells the model the answer.
#[test]
fn the_fgsm_trained_model_fools_fgsm_and_falls_to_pgd() {
    let m = shipped("mnist-cnn-fgsm");
    let (x, y) = mnist(1000);
    let eta = 0.3;
    let run = |attack: &str, p: &AttackParams| {
        attack_eval(&m, x.view(), &y, by_name(attack).unwrap().as_ref(), p, false, 1)
            .unwrap()
            .adversarial_accuracy
    };
    let (fgsm, pgd) = (run("fgsm", &params(eta, 1)), run("pgd", &pgd40(eta)));
    let clean = accuracy(&m, x.view(), &y);
    eprintln!("mnist-cnn-fgsm on 1000: clean {clean:.4}  FGSM {fgsm:.4}  PGD-40 {pgd:.4}");
    assert!(clean >= 0.98, "clean {clean}");
    assert!(fgsm >= FGSM_FGSM, "FGSM {fgsm}");
    assert!(pgd <= PGD_FGSM_MAX, "PGD-40 {pgd}");
    let (ax, ay) = mnist(10_000);
    let leaked = craft(&m, &ax, &ay, AdvMethod::Fgsm, eta, &mut ChaCha8Rng::seed_from_u64(0));
    let (all_clean, all_fgsm) = (accuracy(&m, ax.view(), &ay), accuracy(&m, leaked.view(), &ay));
    eprintln!("mnist-cnn-fgsm on 10000: clean {all_clean:.4}  FGSM images of every test image {all_fgsm:.4}");
    assert!(
        all_fgsm > all_clean,
        "no label leaking: FGSM {all_fgsm}, clean {all_clean}"
    );
}

// The issue's own targets, checked on the first 300 test images (the README gives the full-split numbers:
// mnist-cnn-adv clean 98.89 %, FGSM 96.1 %, PGD-40 93.7 %; fashion-cnn-adv PGD-40 74.9 %).
const CLEAN_ADV: f32 = 0.98;
const FGSM_ADV: f32 = 0.90;
const PGD_ADV: f32 = 0.85;
const CLEAN_FASHION: f32 = 0.80;
const PGD_FASHION: f32 = 0.65;
const ENS_GAP: f32 = 0.40;
// mnist-cnn-fgsm (first 1000 test images): FGSM ≥ 90 %, PGD-40 ≤ 10 %.
const FGSM_FGSM: f32 = 0.90;
const PGD_FGSM_MAX: f32 = 0.10;

#[test]
fn robust_models_fit_the_budget_and_record_their_recipe() {
    for id in ["mnist-cnn-adv", "mnist-cnn-ens", "mnist-cnn-fgsm", "fashion-cnn-adv"] {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("www/models/{id}.safetensors"));
        let bytes = std::fs::metadata(&path).unwrap().len();
        assert!(bytes < 2_000_000, "{id}: {bytes} bytes");
        let (model, meta) = load_file(&path).unwrap();
        assert!(
            model.flops_per_image() < 20_000_000,
            "{id}: {} FLOP",
            model.flops_per_image()
        );
        let kind = meta.training["adversarial"]["kind"].as_str().unwrap_or("");
        assert!(
            ["fgsm", "fgsm-rs", "pgd", "ensemble"].contains(&kind),
            "{id}: recipe {kind:?}"
        );
        assert_eq!(meta.metrics["test_n"].as_u64(), Some(10_000));
        assert!(
            meta.metrics["robustness"]["pgd40"]["accuracy"].is_number(),
            "{id}: robustness metrics"
        );
    }
}
