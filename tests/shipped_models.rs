//! The shipped models (www/models/) are what the page runs. CI re-measures their accuracy on the whole 10 000-image
//! test split (a few seconds; more than the 2000 the issue asks for) and checks it against the targets and against
//! the number recorded in the file at training time. No retraining.

use advlab::data::{load, DatasetName, Split};
use advlab::model_file::load_file;
use advlab::train::evaluate;

/// (model id, dataset, required clean accuracy on the full test split).
const TARGETS: &[(&str, &str, f32)] = &[
    ("mnist-linear", "mnist", 0.920),
    ("mnist-mlp", "mnist", 0.980),
    ("mnist-cnn", "mnist", 0.992),
    ("fashion-linear", "fashion", 0.840),
    ("fashion-mlp", "fashion", 0.890),
    ("fashion-cnn", "fashion", 0.915),
];

fn models_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("www/models")
}

#[test]
fn every_shipped_model_meets_its_accuracy_on_the_full_test_split() {
    for &(id, dataset, target) in TARGETS {
        let path = models_dir().join(format!("{id}.safetensors"));
        let (model, meta) = load_file(&path).unwrap_or_else(|e| panic!("{id}: {e}"));
        assert_eq!(meta.name, id);
        assert_eq!(meta.dataset, dataset);
        let name: DatasetName = dataset.parse().unwrap();
        assert_eq!(
            meta.class_names,
            name.class_names().iter().map(|s| s.to_string()).collect::<Vec<_>>()
        );
        let test = load(name, Split::Test, None).unwrap();
        let e = evaluate(&model, test.images.view(), &test.labels).unwrap();
        assert_eq!(e.total, 10_000);
        assert!(
            e.accuracy >= target,
            "{id}: {:.4} on the 10 000 test images, target {target}",
            e.accuracy
        );
        // The number in the file (README table, page menu) is the one measured here.
        let recorded = meta.metrics["clean_accuracy"].as_f64().unwrap_or(0.0);
        assert_eq!(
            meta.metrics["test_n"].as_u64(),
            Some(10_000),
            "{id}: metadata accuracy must be on the full split"
        );
        assert!(
            (recorded - e.accuracy as f64).abs() < 1e-4,
            "{id}: file says {recorded}, measured {}",
            e.accuracy
        );
    }
}

/// The digit models are committed, so the index and the folder must agree exactly. A photo entry
/// (`"engine": "photo"`) names a file that build.sh generates, git-ignored (`ensure_photo_model`, from the
/// EfficientNet-Lite0 wheel): it may be missing before the first build. Any other weight file in the folder must be listed.
#[test]
fn the_index_lists_exactly_the_shipped_files() {
    let index: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(models_dir().join("index.json")).unwrap()).unwrap();
    let entries = index["models"].as_array().unwrap();
    let file_of = |m: &serde_json::Value| m["file"].as_str().unwrap().to_string();
    let is_photo = |m: &serde_json::Value| m["engine"].as_str() == Some("photo");
    let listed: Vec<String> = entries.iter().map(file_of).collect();
    let photo: Vec<String> = entries.iter().filter(|m| is_photo(m)).map(file_of).collect();
    assert!(!photo.is_empty(), "index.json lists no photo model");
    let on_disk: Vec<String> = std::fs::read_dir(models_dir())
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|f| f.ends_with(".safetensors"))
        .collect();
    let mut digits_on_disk: Vec<String> = on_disk.iter().filter(|f| !photo.contains(f)).cloned().collect();
    digits_on_disk.sort();
    let mut digits_listed: Vec<String> = entries.iter().filter(|m| !is_photo(m)).map(file_of).collect();
    digits_listed.sort();
    assert_eq!(digits_listed, digits_on_disk);
    for &(id, _, _) in TARGETS {
        assert!(
            listed.contains(&format!("{id}.safetensors")),
            "{id} is not in index.json"
        );
    }
    assert_eq!(index["default"], "mnist-cnn");
}

#[test]
fn the_cnns_fit_the_browser_budget() {
    for id in ["mnist-cnn", "fashion-cnn"] {
        let path = models_dir().join(format!("{id}.safetensors"));
        let bytes = std::fs::metadata(&path).unwrap().len();
        assert!(bytes < 1_000_000, "{id}: {bytes} bytes");
        let (model, _) = load_file(&path).unwrap();
        assert!(
            model.flops_per_image() < 5_000_000,
            "{id}: {} FLOP",
            model.flops_per_image()
        );
    }
}
