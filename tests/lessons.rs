//! The lessons' math (src/lessons): box-averaging, the linear decomposition Δ = η·Σ|w_t − w_y|, robustness counts
//! that add up to `evaluate`, the changed pixels, and the shipped resolution models.

use advlab::attacks::{by_name, evaluate, AttackParams};
use advlab::lessons::{
    changed_pixels, downsample, flip_etas, linear_decomposition, linear_weights, median, robustness_counts,
};
use advlab::model_file;
use advlab::nn::{architecture, LayerSpec, Model};
use ndarray::{s, Array4};

fn linear(side: usize, seed: u64) -> Model {
    let spec = vec![
        LayerSpec::Flatten,
        LayerSpec::Dense {
            inputs: side * side,
            outputs: 10,
        },
    ];
    Model::init(&spec, [1, side, side], seed).unwrap()
}

/// Deterministic pseudo-random images in [0, 1].
fn images(n: usize, side: usize, seed: u32) -> Array4<f32> {
    let mut state = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    Array4::from_shape_fn((n, 1, side, side), |_| {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        (state % 1000) as f32 / 999.0
    })
}

#[test]
fn downsample_averages_blocks() {
    let x = Array4::from_shape_fn((2, 1, 28, 28), |(n, _, y, x)| (n * 1000 + y * 28 + x) as f32 / 4000.0);
    let d = downsample(x.view(), 7).unwrap();
    assert_eq!(d.shape(), &[2, 1, 7, 7]);
    for n in 0..2 {
        for (y, xx) in [(0, 0), (3, 5), (6, 6)] {
            let block = x.slice(s![n, 0, y * 4..y * 4 + 4, xx * 4..xx * 4 + 4]);
            let mean = block.sum() / 16.0;
            assert!((d[[n, 0, y, xx]] - mean).abs() < 1e-6);
        }
    }
    assert_eq!(downsample(x.view(), 28).unwrap(), x);
    assert!(downsample(x.view(), 5).is_err());
}

#[test]
fn delta_is_eta_times_l1_of_the_weight_difference_and_moves_the_logits_by_that_much() {
    let model = linear(14, 3);
    let (w, _) = linear_weights(&model).unwrap();
    // Mid-grey image: no pixel is clipped for η ≤ 0.5, so the linear prediction is exact.
    let x = vec![0.5f32; 196];
    let eta = 0.05;
    let d = linear_decomposition(&model, &x, Some(4), eta).unwrap();
    let y = d.true_class;
    assert_ne!(y, 4);
    let l1: f64 = (0..196).map(|i| (w[[4, i]] as f64 - w[[y, i]] as f64).abs()).sum();
    assert!((d.l1 as f64 - l1).abs() < 1e-4);
    assert!((d.delta as f64 - eta as f64 * l1).abs() < 1e-5);
    assert!((d.m * d.n as f32 * eta - d.delta).abs() < 1e-5);
    assert_eq!(d.n, 196);
    assert!(((d.gap_after - d.gap_before) - d.delta).abs() < 1e-3 * d.delta.max(1.0));
    // The direction is the sign of the weight difference.
    for i in 0..196 {
        let diff = w[[4, i]] - w[[y, i]];
        assert_eq!(d.direction[i], diff.signum() * (diff != 0.0) as u8 as f32);
    }
    // Untargeted: the runner-up class.
    let z = model.logits(ndarray::ArrayView4::from_shape((1, 1, 14, 14), &x[..]).unwrap());
    let d2 = linear_decomposition(&model, &x, None, eta).unwrap();
    let mut order: Vec<usize> = (0..10).collect();
    order.sort_by(|&a, &b| z[[0, b]].total_cmp(&z[[0, a]]));
    assert_eq!(d2.true_class, order[0]);
    assert_eq!(d2.target, order[1]);
    // Errors: the predicted class as target, a non-linear model.
    assert!(linear_decomposition(&model, &x, Some(y), eta).is_err());
    let mlp = Model::init(&architecture("mlp").unwrap(), [1, 28, 28], 1).unwrap();
    assert!(linear_weights(&mlp).is_err());
}

#[test]
fn clipping_only_shrinks_the_change() {
    let model = linear(7, 5);
    let x: Vec<f32> = images(1, 7, 9).iter().copied().collect();
    let d = linear_decomposition(&model, &x, None, 0.3).unwrap();
    assert!(d.gap_after - d.gap_before <= d.delta + 1e-4);
}

#[test]
fn robustness_chunks_add_up_to_evaluate() {
    let model = linear(28, 11);
    let x = images(12, 28, 2);
    // Labels = the model's own predictions for most images, so most are attacked.
    let mut labels = model.predict(x.view());
    labels[3] = (labels[3] + 1) % 10;
    let etas = [0.0f32, 0.02, 0.1];
    for name in ["fgsm", "pgd"] {
        let attack = by_name(name).unwrap();
        let params = AttackParams {
            steps: 5,
            seed: 7,
            ..AttackParams::default()
        };
        let mut whole = vec![0u32; etas.len()];
        for (a, b) in [(0, 5), (5, 12)] {
            let c = robustness_counts(
                &model,
                x.slice(s![a..b, .., .., ..]),
                &labels[a..b],
                attack.as_ref(),
                &params,
                &etas,
                a,
                &mut |_| true,
            )
            .unwrap();
            for (w, v) in whole.iter_mut().zip(c) {
                *w += v;
            }
        }
        assert_eq!(whole[0], 11, "{name}: η = 0 counts the correctly classified images");
        for (k, &eta) in etas.iter().enumerate().skip(1) {
            let p = AttackParams { eta, ..params.clone() };
            let r = evaluate(&model, x.view(), &labels, attack.as_ref(), &p, false, params.seed).unwrap();
            assert_eq!(whole[k] as f32 / 12.0, r.adversarial_accuracy, "{name} at η = {eta}");
        }
    }
    // Cancel.
    let attack = by_name("fgsm").unwrap();
    let r = robustness_counts(
        &model,
        x.view(),
        &labels,
        attack.as_ref(),
        &AttackParams::default(),
        &etas,
        0,
        &mut |i| i < 2,
    );
    assert!(r.is_err());
}

#[test]
fn changed_pixels_lists_positions() {
    let a = vec![0.0f32; 2 * 9];
    let mut b = a.clone();
    b[4] = 1.0; // channel 0, position 4
    b[9 + 7] = 0.5; // channel 1, position 7
    b[9 + 4] = 0.2; // channel 1, position 4 again
    assert_eq!(changed_pixels(&a, &b, 2).unwrap(), vec![4, 7]);
    assert!(changed_pixels(&a, &b[..17], 2).is_err());
}

#[test]
fn median_of_present_values() {
    assert_eq!(median(&[Some(3.0), None, Some(1.0), Some(2.0)]), Some(2.0));
    assert_eq!(median(&[Some(4.0), Some(1.0)]), Some(2.5));
    assert_eq!(median(&[None]), None);
}

/// The shipped resolution models: 7×7, 14×14, 28×28 linear MNIST models whose median flip η on the shipped test
/// images falls as the number of inputs n grows (the lesson's claim, Goodfellow et al. 2015 §3).
#[test]
fn shipped_resolution_models_flip_sooner_as_n_grows() {
    let root = env!("CARGO_MANIFEST_DIR");
    let samples = std::fs::read(format!("{root}/www/samples/mnist-test-images.idx")).unwrap();
    let n = 100;
    let px: Vec<f32> = samples[16..16 + n * 784].iter().map(|&b| b as f32 / 255.0).collect();
    let x = Array4::from_shape_vec((n, 1, 28, 28), px).unwrap();
    let mut medians = vec![];
    for r in [7, 14, 28] {
        let bytes = std::fs::read(format!("{root}/www/models/lessons/mnist-linear-{r}.safetensors")).unwrap();
        let (model, meta) = model_file::load(&bytes).unwrap();
        assert_eq!(meta.input_shape, [1, r, r]);
        let small = downsample(x.view(), r).unwrap();
        let f = flip_etas(&model, small.view(), 1.0, 0.001).unwrap();
        medians.push(median(&f).unwrap());
    }
    assert!(medians[0] > medians[1] && medians[1] > medians[2], "{medians:?}");
}

/// `advlab train --resolution R`: box-averaged R×R inputs for the dense architectures; R must divide 28 and the
/// architecture must have no convolution.
#[test]
fn train_resolution_option() {
    use std::process::Command;
    let dir = std::env::temp_dir().join(format!("advlab-lessons-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("m.safetensors");
    let run = |extra: &[&str]| {
        let mut args = vec![
            "train",
            "--dataset",
            "mnist",
            "--epochs",
            "1",
            "--train-n",
            "600",
            "--quiet",
            "--json",
        ];
        args.extend_from_slice(extra);
        args.extend_from_slice(&["--out", out.to_str().unwrap()]);
        Command::new(env!("CARGO_BIN_EXE_advlab")).args(&args).output().unwrap()
    };
    for bad in [
        &["--arch", "linear", "--resolution", "5"][..],
        &["--arch", "cnn", "--resolution", "14"][..],
    ] {
        let o = run(bad);
        assert!(!o.status.success());
        assert!(String::from_utf8_lossy(&o.stderr).contains("resolution"), "{bad:?}");
    }
    let o = run(&["--arch", "linear", "--resolution", "7"]);
    if !o.status.success() && String::from_utf8_lossy(&o.stderr).contains("build.sh data") {
        eprintln!("MNIST is not in .data/: the training half of this test is skipped");
        return;
    }
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (model, meta) = model_file::load(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(meta.input_shape, [1, 7, 7]);
    assert_eq!(linear_weights(&model).unwrap().0.dim(), (10, 49));
    assert_eq!(meta.training["resolution"], 7);
    std::fs::remove_dir_all(&dir).ok();
}
