//! The article's claims, measured on the photo model (issue 15): a barely visible perturbation turns an animal
//! photo into "airliner", and a photo flips at a far smaller η than an MNIST digit (the η·m·n argument of
//! Goodfellow et al. 2015, "Explaining and Harnessing Adversarial Examples": the change of a linear score under
//! η·sign(w) is η·‖w‖₁ ≈ η·m·n, so with n = 150 528 photo inputs instead of 784 a much smaller η suffices).
//!
//! Needs the git-ignored photo model and the labelled photos of PyPI foolbox 3.3.4 (`./build.sh test` makes both,
//! see tests/photo_cli.rs). The 224×224 cases are few and small: one PGD-40 and 24 FGSM flip searches.
//! `cargo test --test photo_article -- --nocapture` prints the measured numbers.

use std::path::PathBuf;

use advlab::attacks::{fgsm_direction, flip_eta, run, AttackParams, Goal, Norm, FLIP_STEP};
use advlab::data::image_io::read_image;
use advlab::data::{load, preprocess_photo, DatasetName, Split};
use advlab::model_file::load_file;
use advlab::nn::Model;
use ndarray::{s, Array4};
use serde_json::json;

const PHOTO: &str = "www/models/imagenet-efficientnet-lite0.safetensors";
const CNN: &str = "www/models/mnist-cnn.safetensors";
/// The article's airliner, ImageNet class 404.
const AIRLINER: usize = 404;
/// The photo flip-η grid of `advlab attack` (src/cli/common.rs): 0.0001, up to 4/255.
const PHOTO_STEP: f32 = 0.0001;
/// MNIST test digits for the comparison.
const MNIST_N: usize = 100;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn photo_model() -> Model {
    let p = root().join(PHOTO);
    load_file(&p)
        .unwrap_or_else(|e| panic!("{}: {e}; `./build.sh test` converts it", p.display()))
        .0
}

fn photo(path: &std::path::Path) -> Array4<f32> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let (w, h, rgba) = read_image(&bytes).unwrap();
    Array4::from_shape_vec((1, 3, 224, 224), preprocess_photo(w, h, &rgba).unwrap()).unwrap()
}

/// The CC0 samples (www/samples/photos/) and the 20 labelled ImageNet validation photos of PyPI foolbox 3.3.4.
fn sample_photos() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = ["chelsea.jpg", "coffee.jpg", "rocket.jpg", "camera.png"]
        .iter()
        .map(|f| root().join("www/samples/photos").join(f))
        .collect();
    let data = std::env::var_os("ADVLAB_DATA").map_or_else(|| root().join(".data"), PathBuf::from);
    let dir = data.join("photo/foolbox/data");
    let mut labelled: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| {
            panic!(
                "{}: {e}; `./build.sh test` fetches foolbox 3.3.4's photos",
                dir.display()
            )
        })
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "jpg"))
        .collect();
    labelled.sort();
    assert_eq!(labelled.len(), 20, "foolbox 3.3.4 ships 20 labelled photos");
    v.extend(labelled);
    v
}

fn median(mut v: Vec<f32>) -> f32 {
    v.sort_by(f32::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn clean_pred(model: &Model, x: &Array4<f32>) -> usize {
    model.predict(x.view())[0]
}

/// The article's headline: targeted PGD turns the CC0 cat into "airliner" with L∞ ≤ 2/255.
#[test]
fn targeted_pgd_turns_the_cat_into_an_airliner_within_two_grey_levels() {
    let model = photo_model();
    let x = photo(&root().join("www/samples/photos/chelsea.jpg"));
    let before = x.clone();
    assert_eq!(clean_pred(&model, &x), 282, "Chelsea is a tiger cat");
    let eta = 2.0 / 255.0;
    let params = AttackParams::resolve(
        "pgd",
        model.input_shape(),
        &json!({"eta": eta, "steps": 40, "step_size": 0.0005, "seed": 0}),
    )
    .unwrap();
    let r = run(
        "pgd",
        &model,
        x.view(),
        Goal::new(282, Some(AIRLINER)),
        &params,
        &mut |_| true,
    )
    .unwrap();
    assert_eq!(x, before, "the input is not mutated");
    assert!(
        r.flipped,
        "PGD-40 at η = 2/255 did not reach airliner: {}",
        r.pred_after
    );
    assert_eq!(clean_pred(&model, &r.adversarial), AIRLINER);
    let linf = (&r.adversarial - &x).iter().fold(0f32, |m, d| m.max(d.abs()));
    assert!(linf <= eta + 1e-6, "L∞ {linf}");
    assert!(r.adversarial.iter().all(|v| (0.0..=1.0).contains(v)));
    println!(
        "pgd chelsea -> airliner: eta {eta:.5} (2/255), linf {linf:.5}, p(airliner) {:.3}",
        r.probs_after[AIRLINER]
    );
}

/// FGSM flips the top-1 of ≥ 90 % of the sample photos at η ≤ 4/255, and the median photo flips at a smaller η
/// than the median MNIST digit on mnist-cnn (the flip η of `advlab attack`: the page slider's grid).
#[test]
fn fgsm_flips_photos_at_a_far_smaller_eta_than_digits() {
    let model = photo_model();
    let max = 4.0 / 255.0;
    let mut flips = Vec::new();
    let mut missed = Vec::new();
    for p in sample_photos() {
        let x = photo(&p);
        let goal = Goal::new(clean_pred(&model, &x), None);
        let d = fgsm_direction(&model, x.view(), goal, Norm::Linf).unwrap();
        match flip_eta(&model, x.view(), goal, d.view(), max, PHOTO_STEP).unwrap() {
            Some(e) => flips.push(e),
            None => missed.push(p.file_name().unwrap().to_string_lossy().into_owned()),
        }
    }
    let n = flips.len() + missed.len();
    assert_eq!(n, 24);
    let rate = flips.len() as f32 / n as f32;
    assert!(
        rate >= 0.9,
        "FGSM flipped {}/{n} photos at η ≤ 4/255; not: {missed:?}",
        flips.len()
    );
    // A photo that does not flip by 4/255 counts as +∞: the median of all n.
    let photo_median = median(
        flips
            .iter()
            .copied()
            .chain(missed.iter().map(|_| f32::INFINITY))
            .collect(),
    );

    let (cnn, _) = load_file(root().join(CNN)).unwrap();
    let digits = load(DatasetName::Mnist, Split::Test, Some(MNIST_N)).unwrap().images;
    let mut digit_flips = Vec::new();
    for i in 0..MNIST_N {
        let x = digits.slice(s![i..i + 1, .., .., ..]).to_owned();
        let goal = Goal::new(cnn.predict(x.view())[0], None);
        let d = fgsm_direction(&cnn, x.view(), goal, Norm::Linf).unwrap();
        let e = flip_eta(&cnn, x.view(), goal, d.view(), 0.5, FLIP_STEP).unwrap();
        digit_flips.push(e.unwrap_or(f32::INFINITY));
    }
    let digit_median = median(digit_flips.clone());
    println!(
        "fgsm photos: {}/{n} flip at eta <= 4/255; median flip eta {photo_median:.5} ({:.2}/255), eta*n = {:.0} \
         (n = 150528); not flipped: {missed:?}",
        flips.len(),
        photo_median * 255.0,
        photo_median * 150_528.0
    );
    println!(
        "fgsm mnist-cnn, first {MNIST_N} test digits: {} flip at eta <= 0.5; median flip eta {digit_median:.4} \
         ({:.1}/255), eta*n = {:.0} (n = 784); ratio digit/photo {:.0}",
        digit_flips.iter().filter(|e| e.is_finite()).count(),
        digit_median * 255.0,
        digit_median * 784.0,
        digit_median / photo_median
    );
    assert!(
        photo_median < digit_median,
        "photo {photo_median} vs digit {digit_median}"
    );
}
