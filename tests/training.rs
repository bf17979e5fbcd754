//! Training: determinism (bit-identical weights for a seed, whatever the thread count), learning on a small
//! separable problem, the batch-transform hook, early stop and config validation.

use advlab::nn::{LayerSpec, Model};
use advlab::train::{accuracy, evaluate, train, train_with, Batch, Optimizer, Schedule, TrainConfig};
use advlab::Error;
use ndarray::Array4;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Three classes of 8×8 images: a bright 3×3 blob in one of three places, plus noise.
fn dataset(n: usize, seed: u64) -> (Array4<f32>, Vec<usize>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let labels: Vec<usize> = (0..n).map(|i| i % 3).collect();
    let mut x = Array4::from_shape_fn((n, 1, 8, 8), |_| rng.random_range(0.0..0.4));
    for (i, &y) in labels.iter().enumerate() {
        let (r, c) = [(1, 1), (1, 4), (4, 2)][y];
        for u in 0..3 {
            for v in 0..3 {
                x[[i, 0, r + u, c + v]] += 0.6;
            }
        }
    }
    (x, labels)
}

fn small_cnn() -> Vec<LayerSpec> {
    vec![
        LayerSpec::Conv2d {
            in_channels: 1,
            out_channels: 4,
            kernel: 3,
            stride: 1,
            padding: advlab::nn::Padding::Fixed(1),
        },
        LayerSpec::Relu,
        LayerSpec::MaxPool2d { size: 2 },
        LayerSpec::Flatten,
        LayerSpec::Dense { inputs: 64, outputs: 3 },
    ]
}

fn cfg() -> TrainConfig {
    TrainConfig {
        epochs: 4,
        batch_size: 48,
        lr: 0.01,
        seed: 5,
        ..TrainConfig::default()
    }
}

fn weights(m: &Model) -> Vec<u32> {
    m.params()
        .iter()
        .flat_map(|p| p.data.iter().map(|v| v.to_bits()))
        .collect()
}

fn run(cfg: &TrainConfig) -> (Model, Vec<f32>) {
    let (x, y) = dataset(150, 1);
    let mut model = Model::init(&small_cnn(), [1, 8, 8], 9).unwrap();
    let report = train(&mut model, x.view(), &y, cfg, &mut |_, _| true).unwrap();
    (model, report.epochs.iter().map(|e| e.loss).collect())
}

#[test]
fn same_seed_gives_bit_identical_weights_whatever_the_threads() {
    let (a, la) = run(&cfg());
    let (b, lb) = run(&cfg());
    assert_eq!(weights(&a), weights(&b));
    assert_eq!(la, lb);
    let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
    let (c, _) = pool.install(|| run(&cfg()));
    assert_eq!(weights(&a), weights(&c), "one thread vs the default pool");
    let (d, _) = run(&TrainConfig { seed: 6, ..cfg() });
    assert_ne!(weights(&a), weights(&d), "the seed changes the shuffle");
}

#[test]
fn loss_decreases_and_the_problem_is_learned() {
    let (x, y) = dataset(150, 2);
    for opt in [
        Optimizer::default(),
        Optimizer::Sgd {
            momentum: 0.9,
            nesterov: true,
        },
    ] {
        let (model, losses) = run(&TrainConfig {
            optimizer: opt.clone(),
            lr: 0.02,
            epochs: 8,
            ..cfg()
        });
        assert!(losses.windows(2).all(|w| w[1] < w[0]), "{opt:?}: losses {losses:?}");
        assert!(losses[losses.len() - 1] < 0.5 * losses[0], "{opt:?}: losses {losses:?}");
        let acc = accuracy(&model, x.view(), &y);
        assert!(acc > 0.95, "{opt:?}: held-out accuracy {acc}");
        let e = evaluate(&model, x.view(), &y).unwrap();
        assert_eq!(e.accuracy, acc);
        assert!(e.loss < losses[0]);
    }
    let (_, l) = run(&TrainConfig {
        schedule: Schedule::Step {
            every_epochs: 2,
            gamma: 0.5,
        },
        weight_decay: 1e-3,
        ..cfg()
    });
    assert!(l[3] < l[0]);
}

#[test]
fn batch_transform_hook_sees_the_model_and_is_deterministic() {
    let (x, y) = dataset(150, 1);
    let go = || {
        let mut model = Model::init(&small_cnn(), [1, 8, 8], 9).unwrap();
        let mut calls = 0;
        // Append a noisy copy of each batch (as adversarial training will append attacked copies).
        let mut hook = |m: &Model, b: Batch, rng: &mut ChaCha8Rng| {
            calls += 1;
            assert_eq!(m.num_classes(), 3);
            let noisy = b
                .images
                .mapv(|v| (v + rng.random_range(-0.05f32..0.05)).clamp(0.0, 1.0));
            let images = ndarray::concatenate(ndarray::Axis(0), &[b.images.view(), noisy.view()]).unwrap();
            Ok(Batch {
                images,
                labels: [b.labels.clone(), b.labels].concat(),
            })
        };
        train_with(&mut model, x.view(), &y, &cfg(), &mut hook, &mut |_, _| true).unwrap();
        (weights(&model), calls)
    };
    let (a, calls) = go();
    assert_eq!(calls, 4 * 150usize.div_ceil(48));
    assert_eq!(a, go().0);
    // A hook error aborts training with that error.
    let mut model = Model::init(&small_cnn(), [1, 8, 8], 9).unwrap();
    let r = train_with(
        &mut model,
        x.view(),
        &y,
        &cfg(),
        &mut |_, _, _| Err(Error::Cancelled),
        &mut |_, _| true,
    );
    assert_eq!(r.unwrap_err(), Error::Cancelled);
}

#[test]
fn on_epoch_can_stop_and_reports_progress() {
    let (x, y) = dataset(90, 1);
    let mut model = Model::init(&small_cnn(), [1, 8, 8], 9).unwrap();
    let mut seen = Vec::new();
    let r = train(&mut model, x.view(), &y, &cfg(), &mut |m, e| {
        seen.push((e.epoch, e.steps));
        assert!(e.seconds.is_some() && e.lr > 0.0 && m.num_params() == 4 * 9 + 4 + 64 * 3 + 3);
        e.epoch < 2
    })
    .unwrap();
    assert!(r.stopped_early);
    assert_eq!(seen, vec![(1, 2), (2, 4)]);
}

#[test]
fn bad_data_and_config_are_errors() {
    let (x, y) = dataset(30, 1);
    let mut m = Model::init(&small_cnn(), [1, 8, 8], 9).unwrap();
    let mut ok = |_: &Model, _: &advlab::train::EpochReport| true;
    let bad = |c: TrainConfig| TrainConfig { epochs: 1, ..c };
    for c in [
        bad(TrainConfig { batch_size: 0, ..cfg() }),
        bad(TrainConfig { lr: f32::NAN, ..cfg() }),
        bad(TrainConfig { lr: -1.0, ..cfg() }),
        bad(TrainConfig {
            optimizer: Optimizer::Sgd {
                momentum: 1.5,
                nesterov: false,
            },
            ..cfg()
        }),
        bad(TrainConfig {
            schedule: Schedule::Step {
                every_epochs: 0,
                gamma: 0.1,
            },
            ..cfg()
        }),
    ] {
        assert!(
            matches!(
                train(&mut m, x.view(), &y, &c, &mut ok),
                Err(Error::InvalidParameter { .. })
            ),
            "{c:?}"
        );
    }
    assert!(matches!(
        train(&mut m, x.view(), &y[..29], &cfg(), &mut ok),
        Err(Error::Shape(_))
    ));
    let mut y2 = y.clone();
    y2[4] = 3;
    assert!(matches!(
        train(&mut m, x.view(), &y2, &cfg(), &mut ok),
        Err(Error::InvalidParameter { .. })
    ));
    let wrong = Array4::<f32>::zeros((30, 1, 9, 8));
    assert!(matches!(
        train(&mut m, wrong.view(), &y, &cfg(), &mut ok),
        Err(Error::Shape(_))
    ));
    assert_eq!(accuracy(&m, wrong.view(), &y), 0.0);
    let empty = Array4::<f32>::zeros((0, 1, 8, 8));
    assert!(train(&mut m, empty.view(), &[], &cfg(), &mut ok).is_err());
    // Divergence (a non-finite loss) is reported, not silently turned into NaN weights.
    let w: Vec<f32> = m.params()[0].data.iter().map(|_| f32::INFINITY).collect();
    m.set_param(0, &w).unwrap();
    let r = train(&mut m, x.view(), &y, &cfg(), &mut ok);
    assert!(
        matches!(r, Err(Error::InvalidParameter { ref name, .. }) if name == "lr"),
        "{r:?}"
    );
    // The config round-trips through JSON (it is stored in the weight file's metadata).
    let c = cfg();
    let back: TrainConfig = serde_json::from_str(&serde_json::to_string(&c).unwrap()).unwrap();
    assert_eq!(back, c);
    let partial: TrainConfig =
        serde_json::from_str(r#"{"epochs": 3, "optimizer": {"type": "sgd", "momentum": 0.9}}"#).unwrap();
    assert_eq!(partial.epochs, 3);
    assert_eq!(partial.batch_size, TrainConfig::default().batch_size);
}

#[test]
fn random_shift_moves_content_within_bounds() {
    let model = Model::init(&small_cnn(), [1, 8, 8], 9).unwrap();
    let mut x = Array4::<f32>::zeros((20, 1, 8, 8));
    for i in 0..20 {
        x[[i, 0, 4, 3]] = 1.0;
    }
    let mut hook = advlab::train::augment::random_shift(2);
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let b = hook(
        &model,
        Batch {
            images: x.clone(),
            labels: vec![1; 20],
        },
        &mut rng,
    )
    .unwrap();
    assert_eq!(b.labels, vec![1; 20]);
    let mut moved = 0;
    for i in 0..20 {
        let img = b.images.slice(ndarray::s![i, 0, .., ..]);
        assert_eq!(img.sum(), 1.0, "the pixel stays inside the image");
        let (r, c): (usize, usize) = img.indexed_iter().find(|(_, &v)| v == 1.0).unwrap().0;
        assert!((2..=6).contains(&r) && (1..=5).contains(&c));
        moved += usize::from((r, c) != (4, 3));
    }
    assert!(moved > 10);
    // Pixels shifted out of the frame are dropped, zeros come in.
    let edge = Array4::<f32>::ones((30, 1, 8, 8));
    let b = hook(
        &model,
        Batch {
            images: edge,
            labels: vec![0; 30],
        },
        &mut rng,
    )
    .unwrap();
    assert!(b.images.iter().any(|&v| v == 0.0) && b.images.iter().all(|&v| v == 0.0 || v == 1.0));
    let mut none = advlab::train::augment::random_shift(0);
    let same = none(
        &model,
        Batch {
            images: x.clone(),
            labels: vec![1; 20],
        },
        &mut rng,
    )
    .unwrap();
    assert_eq!(same.images, x);
}

#[test]
fn recommended_recipes_exist_and_are_valid() {
    for arch in advlab::nn::ARCHITECTURES {
        for ds in ["mnist", "fashion"] {
            let c = TrainConfig::recommended(arch, ds).unwrap();
            c.validate().unwrap();
            assert!(c.epochs >= 5);
        }
    }
    assert!(TrainConfig::recommended("cnn", "cifar").is_none());
}

/// The page's chunked trainer (`Stepwise`) and the CLI's epoch loop (`train_with`) are one loop: on a seed, with
/// or without an adversarial hook, and whatever the chunk size, they end with bit-identical weights.
#[test]
fn stepwise_is_the_batch_loop_bit_for_bit() {
    use advlab::train::adversarial::{adversarial, AdvConfig};
    use advlab::train::stepwise::Stepwise;
    let (x, y) = dataset(150, 1);
    let c = TrainConfig { epochs: 3, ..cfg() };
    for adv in [None, Some(AdvConfig::fgsm_rs(0.1))] {
        let mut batch = Model::init(&small_cnn(), [1, 8, 8], 9).unwrap();
        let report = match &adv {
            None => train(&mut batch, x.view(), &y, &c, &mut |_, _| true).unwrap(),
            Some(a) => train_with(&mut batch, x.view(), &y, &c, &mut adversarial(*a), &mut |_, _| true).unwrap(),
        };
        let steps = report.epochs.last().unwrap().steps;
        assert_eq!(steps, 3 * 150usize.div_ceil(48));
        for chunk in [1, 3, 5, 100] {
            let model = Model::init(&small_cnn(), [1, 8, 8], 9).unwrap();
            let mut s = Stepwise::new(model, x.clone(), y.clone(), c.clone(), adv).unwrap();
            let mut last = None;
            while !s.is_done() {
                last = Some(s.step(chunk).unwrap());
            }
            let last = last.unwrap();
            assert!(last.done && last.steps == steps && last.epoch == 3, "{last:?}");
            assert_eq!(
                weights(&s.model),
                weights(&batch),
                "adversarial {adv:?}, chunks of {chunk}"
            );
        }
    }
}

/// Both drivers re-check the hook's batch against the model and skip an empty one, the same way.
#[test]
fn stepwise_rechecks_the_hooks_batch() {
    use advlab::train::stepwise::Stepwise;
    let (x, y) = dataset(60, 2);
    let c = TrainConfig {
        epochs: 2,
        batch_size: 16,
        ..cfg()
    };
    let model = || Model::init(&small_cnn(), [1, 8, 8], 3).unwrap();
    // A hook that breaks the shape: a named error, not a panic.
    let wrong = |_: &Model, b: Batch, _: &mut ChaCha8Rng| {
        Ok(Batch {
            images: Array4::zeros((b.labels.len(), 1, 8, 7)),
            labels: b.labels,
        })
    };
    let mut s = Stepwise::with_hook(model(), x.clone(), y.clone(), c.clone(), Some(Box::new(wrong))).unwrap();
    assert!(matches!(s.step(1), Err(Error::Shape(_))));
    let mut m = model();
    assert!(matches!(
        train_with(&mut m, x.view(), &y, &c, &mut { wrong }, &mut |_, _| true),
        Err(Error::Shape(_))
    ));
    // A label out of range: a parameter error in both.
    let bad_label = |_: &Model, mut b: Batch, _: &mut ChaCha8Rng| {
        b.labels[0] = 99;
        Ok(b)
    };
    let mut s = Stepwise::with_hook(model(), x.clone(), y.clone(), c.clone(), Some(Box::new(bad_label))).unwrap();
    assert!(s.step(1).is_err());
    // Every third batch emptied: skipped by both, with the same weights and step counts after.
    let drop_some = || {
        let mut k = 0usize;
        move |_: &Model, b: Batch, _: &mut ChaCha8Rng| {
            k += 1;
            Ok(if k.is_multiple_of(3) {
                Batch {
                    images: Array4::zeros((0, 1, 8, 8)),
                    labels: vec![],
                }
            } else {
                b
            })
        }
    };
    let mut a = model();
    let r = train_with(&mut a, x.view(), &y, &c, &mut drop_some(), &mut |_, _| true).unwrap();
    let mut s = Stepwise::with_hook(model(), x.clone(), y.clone(), c.clone(), Some(Box::new(drop_some()))).unwrap();
    let mut last = s.step(2).unwrap();
    while !s.is_done() {
        last = s.step(2).unwrap();
    }
    assert_eq!(last.steps, r.epochs.last().unwrap().steps);
    assert_eq!(last.steps, 2 * 4 - 2, "8 batches, 2 of them empty");
    assert_eq!(weights(&s.model), weights(&a));
}
