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

/// Weight files that build.sh generates (git-ignored) and that the page's index does not list yet: the photo model
/// of issue 15 (`ensure_photo_model`), until the page can load it. Remove it here when adding it to index.json.
const BUILT_NOT_LISTED: &[&str] = &["imagenet-efficientnet-lite0.safetensors"];

#[test]
fn the_index_lists_exactly_the_shipped_files() {
    let index: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(models_dir().join("index.json")).unwrap()).unwrap();
    let listed: Vec<String> = index["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["file"].as_str().unwrap().to_string())
        .collect();
    let mut on_disk: Vec<String> = std::fs::read_dir(models_dir())
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|f| f.ends_with(".safetensors") && !BUILT_NOT_LISTED.contains(&f.as_str()))
        .collect();
    on_disk.sort();
    let mut sorted = listed.clone();
    sorted.sort();
    assert_eq!(sorted, on_disk);
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
