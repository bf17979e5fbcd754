//! The `advlab` binary end to end: JSON outputs carry the documented fields, and bad input of every kind is a
//! clear message with exit code 2, never a panic.

use std::process::{Command, Output};

fn advlab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_advlab"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap()
}

fn advlab_env(args: &[&str], key: &str, value: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_advlab"))
        .args(args)
        .env(key, value)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap()
}

fn json(out: &Output) -> serde_json::Value {
    assert!(out.status.success(), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Exit code 2, the message on stderr contains `needle`, and nothing panicked.
fn refused(out: &Output, needle: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {err}");
    assert!(err.contains(needle), "expected {needle:?} in {err:?}");
    assert!(!err.contains("panicked"), "{err}");
}

const LINEAR: &str = "www/models/mnist-linear.safetensors";
const CNN: &str = "www/models/mnist-cnn.safetensors";

#[test]
fn eval_reports_clean_and_adversarial_numbers() {
    let v = json(&advlab(&[
        "eval", "--model", LINEAR, "--n", "200", "--attack", "fgsm", "--eta", "0.25", "--json",
    ]));
    for key in [
        "model",
        "dataset",
        "n",
        "clean_accuracy",
        "attack",
        "eta",
        "adversarial_accuracy",
        "success_rate",
    ] {
        assert!(v.get(key).is_some(), "missing {key} in {v}");
    }
    for key in ["mean_linf", "mean_l2", "mean_queries", "seconds"] {
        assert!(v[key].is_number(), "missing {key} in {v}");
    }
    assert_eq!(v["n"], 200);
    assert_eq!(v["eta"], 0.25);
    assert!(v["mean_linf"].as_f64().unwrap() <= 0.25 + 1e-6);
    assert!(v["adversarial_accuracy"].as_f64().unwrap() < v["clean_accuracy"].as_f64().unwrap());
    // One outcome per image, adding up to the adversarial accuracy.
    let outcomes = v["outcomes"].as_str().expect("outcomes string");
    assert_eq!(outcomes.len(), 200);
    let ones = outcomes.chars().filter(|&c| c == '1').count() as f64;
    assert!((ones / 200.0 - v["adversarial_accuracy"].as_f64().unwrap()).abs() < 1e-6);
}

/// The linear lesson's models read the digits box-averaged to r×r: `eval` and `attack --sample` feed them so (they were trained so), and
/// a coarser input needs a larger η to fall, the lesson's point (w·(x+ηs) = w·x + η‖w‖₁ grows with the pixel count).
#[test]
fn eval_box_averages_the_digits_for_the_lessons_small_models() {
    let acc = |r: usize, eta: &str| {
        let file = format!("www/models/lessons/mnist-linear-{r}.safetensors");
        let v = json(&advlab(&[
            "eval", "--model", &file, "--n", "300", "--attack", "fgsm", "--eta", eta, "--json",
        ]));
        assert_eq!(v["n"], 300);
        (
            v["clean_accuracy"].as_f64().unwrap(),
            v["adversarial_accuracy"].as_f64().unwrap(),
        )
    };
    let (clean7, fgsm7) = acc(7, "0.03");
    let (clean28, fgsm28) = acc(28, "0.03");
    assert!(clean7 > 0.8 && clean28 > 0.8, "clean {clean7} (7×7), {clean28} (28×28)");
    assert!(fgsm7 > fgsm28 + 0.2, "FGSM η = 0.03: 7×7 keeps {fgsm7}, 28×28 {fgsm28}");
    // `attack --sample` reads the same averaged digit (test image 0 is a 7).
    let v = json(&advlab(&[
        "attack",
        "--model",
        "www/models/lessons/mnist-linear-7.safetensors",
        "--sample",
        "0",
        "--attack",
        "fgsm",
        "--eta",
        "0.1",
        "--json",
    ]));
    assert_eq!(v["label"], 7);
}

#[test]
fn attack_on_a_sample_gives_the_flip_point_and_writes_the_png() {
    let out = std::env::temp_dir().join(format!("advlab-cli-{}.png", std::process::id()));
    let v = json(&advlab(&[
        "attack",
        "--model",
        CNN,
        "--sample",
        "3",
        "--attack",
        "fgsm",
        "--eta",
        "0.2",
        "--out",
        out.to_str().unwrap(),
        "--json",
    ]));
    let flip = v["flip_eta"].as_f64().expect("flip_eta");
    assert!(flip > 0.0 && flip <= 0.5);
    // On the 0.001 grid.
    assert!(((flip * 1000.0).round() - flip * 1000.0).abs() < 1e-3, "{flip}");
    // η above the flip point flips the prediction.
    if flip < 0.2 {
        assert_ne!(v["pred_before"], v["pred_after"]);
    }
    let png = std::fs::read(&out).unwrap();
    assert_eq!(&png[1..4], b"PNG");
    std::fs::remove_file(out).ok();
}

#[test]
fn bad_parameters_are_named() {
    refused(
        &advlab(&[
            "attack", "--model", CNN, "--sample", "0", "--attack", "fgsm", "--eta", "-0.1",
        ]),
        "eta",
    );
    refused(
        &advlab(&[
            "attack", "--model", CNN, "--sample", "0", "--attack", "fgsm", "--eta", "NaN",
        ]),
        "eta",
    );
    refused(
        &advlab(&[
            "attack", "--model", CNN, "--sample", "0", "--attack", "fgsm", "--eta", "inf",
        ]),
        "eta",
    );
    refused(
        &advlab(&[
            "attack", "--model", CNN, "--sample", "0", "--attack", "fgsm", "--eta", "abc",
        ]),
        "eta",
    );
    refused(
        &advlab(&[
            "attack", "--model", CNN, "--sample", "0", "--attack", "nope", "--eta", "0.1",
        ]),
        "attack",
    );
    refused(
        &advlab(&[
            "attack", "--model", CNN, "--sample", "0", "--attack", "pgd", "--eta", "0.1", "--target", "12",
        ]),
        "target",
    );
    // Sample 0 is a 7: the model already predicts it.
    refused(
        &advlab(&[
            "attack", "--model", CNN, "--sample", "0", "--attack", "pgd", "--eta", "0.1", "--target", "7",
        ]),
        "target",
    );
    refused(
        &advlab(&[
            "eval",
            "--model",
            CNN,
            "--n",
            "5",
            "--attack",
            "simba",
            "--eta",
            "0.1",
            "--params",
            r#"{"max_queries":0}"#,
        ]),
        "max_queries",
    );
    refused(&advlab(&["eval", "--model", CNN, "--bogus", "1"]), "bogus");
    refused(&advlab(&["frobnicate"]), "unknown command");
}

#[test]
fn bad_files_are_named() {
    let dir = std::env::temp_dir().join(format!("advlab-cli-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad_model = dir.join("bad.safetensors");
    let good = std::fs::read(CNN).unwrap();
    std::fs::write(&bad_model, &good[..good.len() / 3]).unwrap();
    refused(
        &advlab(&["eval", "--model", bad_model.to_str().unwrap(), "--n", "10"]),
        "bad model file",
    );
    refused(
        &advlab(&["eval", "--model", "/nonexistent/model.safetensors"]),
        "no model file",
    );

    let not_png = dir.join("photo.png");
    std::fs::write(&not_png, b"GIF89a definitely not a png").unwrap();
    refused(
        &advlab(&[
            "attack",
            "--model",
            CNN,
            "--image",
            not_png.to_str().unwrap(),
            "--attack",
            "fgsm",
            "--eta",
            "0.1",
        ]),
        "bad image",
    );

    // A data folder whose IDX files have the wrong magic.
    let data = dir.join("data");
    std::fs::create_dir_all(data.join("mnist")).unwrap();
    for f in [
        "t10k-images-idx3-ubyte",
        "t10k-labels-idx1-ubyte",
        "train-images-idx3-ubyte",
        "train-labels-idx1-ubyte",
    ] {
        std::fs::write(
            data.join("mnist").join(f),
            [0u8, 0, 9, 3, 0, 0, 0, 1, 0, 0, 0, 28, 0, 0, 0, 28],
        )
        .unwrap();
    }
    refused(
        &advlab_env(
            &["eval", "--model", CNN, "--n", "10"],
            "ADVLAB_DATA",
            data.to_str().unwrap(),
        ),
        "IDX",
    );
    std::fs::remove_dir_all(dir).ok();
}
