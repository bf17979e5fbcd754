//! Weight-file round trip and every way a file can be broken: each must fail with `Error::ModelFile` naming the
//! problem, without panicking or allocating what a lying header claims.

use advlab::model_file::{load, save, ModelMeta, METADATA_KEY};
use advlab::nn::{architecture, LayerSpec, Model};
use advlab::Error;
use ndarray::Array4;

fn meta_for(model: &Model) -> ModelMeta {
    let mut m = ModelMeta::for_model(model, "test-cnn", "mnist", (0..10).map(|i| i.to_string()).collect());
    m.training = serde_json::json!({"seed": 7, "epochs": 1});
    m.metrics = serde_json::json!({"accuracy": 0.5});
    m
}

fn cnn() -> (Model, ModelMeta) {
    let model = Model::init(&architecture("cnn").unwrap(), [1, 28, 28], 3).unwrap();
    let meta = meta_for(&model);
    (model, meta)
}

/// `(header JSON, data)` of a valid file.
fn split(bytes: &[u8]) -> (serde_json::Value, Vec<u8>) {
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    (
        serde_json::from_slice(&bytes[8..8 + n]).unwrap(),
        bytes[8 + n..].to_vec(),
    )
}

fn join(header: &serde_json::Value, data: &[u8]) -> Vec<u8> {
    let h = serde_json::to_vec(header).unwrap();
    let mut out = (h.len() as u64).to_le_bytes().to_vec();
    out.extend(h);
    out.extend(data);
    out
}

/// Loads and expects a `ModelFile` error containing `needle`.
fn expect_err(bytes: &[u8], needle: &str) {
    match load(bytes) {
        Ok(_) => panic!("loaded a broken file (expected an error about `{needle}`)"),
        Err(Error::ModelFile(m)) => assert!(m.contains(needle), "message `{m}` does not mention `{needle}`"),
        Err(e) => panic!("wrong error kind: {e:?}"),
    }
}

fn with_meta(bytes: &[u8], f: impl FnOnce(&mut serde_json::Value)) -> Vec<u8> {
    let (mut h, data) = split(bytes);
    let mut meta: serde_json::Value = serde_json::from_str(h["__metadata__"][METADATA_KEY].as_str().unwrap()).unwrap();
    f(&mut meta);
    h["__metadata__"][METADATA_KEY] = serde_json::Value::String(meta.to_string());
    join(&h, &data)
}

#[test]
fn roundtrip_preserves_weights_metadata_and_outputs() {
    let (model, meta) = cnn();
    let bytes = save(&model, &meta).unwrap();
    assert!(bytes.len() > 158_442 * 4 && bytes.len() < 158_442 * 4 + 4096);
    let (back, meta2) = load(&bytes).unwrap();
    assert_eq!(meta, meta2);
    assert_eq!(back.spec(), model.spec());
    for (a, b) in model.params().iter().zip(back.params()) {
        assert_eq!(a.data, b.data);
        assert_eq!(a.shape, b.shape);
    }
    let x = Array4::from_shape_fn((2, 1, 28, 28), |(n, _, i, j)| ((n + i * j) % 7) as f32 / 7.0);
    assert_eq!(model.logits(x.view()), back.logits(x.view()));
    // Standard layout: 8-byte little-endian length, JSON header with the expected names, dtype and shapes.
    let (h, _) = split(&bytes);
    assert_eq!(h["layers.0.weight"]["dtype"], "F32");
    assert_eq!(h["layers.0.weight"]["shape"], serde_json::json!([32, 1, 3, 3]));
    assert_eq!(h["layers.7.weight"]["shape"], serde_json::json!([128, 1152]));
    assert_eq!(h["layers.9.bias"]["shape"], serde_json::json!([10]));
    assert_eq!(h["__metadata__"].as_object().unwrap().len(), 1);
    // Every architecture round-trips.
    for name in advlab::nn::ARCHITECTURES {
        let m = Model::init(&architecture(name).unwrap(), [1, 28, 28], 1).unwrap();
        let (b, _) = load(&save(&m, &meta_for(&m)).unwrap()).unwrap();
        assert_eq!(b.params().len(), m.params().len());
    }
}

#[test]
fn save_rejects_inconsistent_metadata_and_nan() {
    let (mut model, mut meta) = cnn();
    meta.class_names.pop();
    assert!(matches!(save(&model, &meta), Err(Error::ModelFile(m)) if m.contains("class names")));
    let mut meta = meta_for(&model);
    meta.input_shape = [1, 32, 32];
    assert!(matches!(save(&model, &meta), Err(Error::ModelFile(m)) if m.contains("input_shape")));
    let meta = meta_for(&model);
    let mut w = model.params()[0].data.to_vec();
    w[3] = f32::NAN;
    model.set_param(0, &w).unwrap();
    assert!(matches!(save(&model, &meta), Err(Error::ModelFile(m)) if m.contains("non-finite")));
}

#[test]
fn empty_and_truncated_files() {
    let (model, meta) = cnn();
    let bytes = save(&model, &meta).unwrap();
    expect_err(&[], "empty");
    expect_err(&bytes[..5], "truncated");
    expect_err(&bytes[..100], "header claims");
    expect_err(&bytes[..bytes.len() - 1], "bytes of tensor data");
    expect_err(&bytes[..bytes.len() / 2], "bytes of tensor data");
    let mut longer = bytes.clone();
    longer.extend([0u8; 4]);
    expect_err(&longer, "bytes of tensor data");
}

#[test]
fn corrupt_header() {
    let (model, meta) = cnn();
    let bytes = save(&model, &meta).unwrap();
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let mut b = bytes.clone();
    b[8] = b'x';
    expect_err(&b, "JSON");
    let mut b = bytes.clone();
    b[8 + n - 1] = b'{';
    b[8 + n - 2] = b'{';
    expect_err(&b, "JSON");
    let mut b = bytes.clone();
    b[9] = 0xff;
    expect_err(&b, "UTF-8");
    let mut b = bytes.clone();
    b[..8].copy_from_slice(&u64::MAX.to_le_bytes());
    expect_err(&b, "header claims");
    let mut junk = 4u64.to_le_bytes().to_vec();
    junk.extend(b"[1,2");
    expect_err(&junk, "JSON");
    expect_err(&join(&serde_json::json!({}), &[]), "__metadata__");
}

#[test]
fn header_lying_about_lengths_and_offsets() {
    let (model, meta) = cnn();
    let bytes = save(&model, &meta).unwrap();
    // Claims 4 GB of tensor data: fails on the length check, before any allocation.
    let (mut h, data) = split(&bytes);
    h["layers.7.weight"]["shape"] = serde_json::json!([1_000_000_000]);
    let end = h["layers.7.weight"]["data_offsets"][0].as_u64().unwrap() + 4_000_000_000;
    h["layers.7.weight"]["data_offsets"][1] = end.into();
    expect_err(&join(&h, &data), "header lies");
    // Byte range inconsistent with shape.
    let (mut h, data) = split(&bytes);
    h["layers.9.bias"]["shape"] = serde_json::json!([11]);
    expect_err(&join(&h, &data), "header lies");
    // Overlapping offsets.
    let (mut h, data) = split(&bytes);
    h["layers.9.bias"]["data_offsets"] = serde_json::json!([0, 40]);
    expect_err(&join(&h, &data), "offsets");
    // Overflowing shape.
    let (mut h, data) = split(&bytes);
    h["layers.9.bias"]["shape"] = serde_json::json!([usize::MAX, 16]);
    expect_err(&join(&h, &data), "overflow");
}

/// Replaces tensor `name` by one with the given dtype/shape/bytes (appended at the end of the data).
fn replace_tensor(bytes: &[u8], name: &str, dtype: &str, shape: serde_json::Value, raw: &[u8]) -> Vec<u8> {
    let (h, data) = split(bytes);
    let (s, e) = (
        h[name]["data_offsets"][0].as_u64().unwrap() as usize,
        h[name]["data_offsets"][1].as_u64().unwrap() as usize,
    );
    let mut h = h.clone();
    let mut new_data = Vec::new();
    // Rebuild the data with the tensor cut out, shifting the other offsets.
    for (k, v) in h.as_object_mut().unwrap().iter_mut() {
        if k == "__metadata__" || k == name {
            continue;
        }
        let (a, b) = (
            v["data_offsets"][0].as_u64().unwrap() as usize,
            v["data_offsets"][1].as_u64().unwrap() as usize,
        );
        let shift = |x: usize| if x >= e { x - (e - s) } else { x };
        v["data_offsets"] = serde_json::json!([shift(a), shift(b)]);
    }
    new_data.extend(&data[..s]);
    new_data.extend(&data[e..]);
    let start = new_data.len();
    new_data.extend(raw);
    h[name] = serde_json::json!({"dtype": dtype, "shape": shape, "data_offsets": [start, start + raw.len()]});
    join(&h, &new_data)
}

#[test]
fn wrong_dtype_shape_missing_extra_and_nan_tensors() {
    let (model, meta) = cnn();
    let bytes = save(&model, &meta).unwrap();
    expect_err(
        &replace_tensor(&bytes, "layers.9.bias", "F64", serde_json::json!([10]), &[0u8; 80]),
        "dtype",
    );
    expect_err(
        &replace_tensor(&bytes, "layers.9.bias", "F32", serde_json::json!([2, 5]), &[0u8; 40]),
        "shape",
    );
    expect_err(
        &replace_tensor(&bytes, "layers.9.bias", "F32", serde_json::json!([12]), &[0u8; 48]),
        "shape",
    );
    let renamed = {
        let r = replace_tensor(&bytes, "layers.9.bias", "F32", serde_json::json!([10]), &[0u8; 40]);
        let (mut h, data) = split(&r);
        let t = h.as_object_mut().unwrap().remove("layers.9.bias").unwrap();
        h["layers.8.bias"] = t;
        join(&h, &data)
    };
    expect_err(&renamed, "unexpected tensor(s) `layers.8.bias`");
    let (mut h, data) = split(&replace_tensor(
        &bytes,
        "layers.9.bias",
        "F32",
        serde_json::json!([0]),
        &[],
    ));
    h.as_object_mut().unwrap().remove("layers.9.bias");
    expect_err(&join(&h, &data), "missing tensor `layers.9.bias`");
    let mut nan = [0u8; 40];
    nan[8..12].copy_from_slice(&f32::NAN.to_le_bytes());
    expect_err(
        &replace_tensor(&bytes, "layers.9.bias", "F32", serde_json::json!([10]), &nan),
        "non-finite",
    );
    let mut inf = [0u8; 40];
    inf[36..40].copy_from_slice(&f32::INFINITY.to_le_bytes());
    expect_err(
        &replace_tensor(&bytes, "layers.9.bias", "F32", serde_json::json!([10]), &inf),
        "index 9",
    );
}

#[test]
fn metadata_missing_or_inconsistent() {
    let (model, meta) = cnn();
    let bytes = save(&model, &meta).unwrap();
    let (mut h, data) = split(&bytes);
    h.as_object_mut().unwrap().remove("__metadata__");
    expect_err(&join(&h, &data), "__metadata__");
    let (mut h, data) = split(&bytes);
    h["__metadata__"] = serde_json::json!({"format": "pt"});
    expect_err(&join(&h, &data), "no `advlab` entry");
    let (mut h, data) = split(&bytes);
    h["__metadata__"][METADATA_KEY] = "{not json".into();
    expect_err(&join(&h, &data), "metadata is invalid");
    expect_err(
        &with_meta(&bytes, |m| {
            m.as_object_mut().unwrap().remove("class_names").map(|_| ()).unwrap()
        }),
        "class_names",
    );
    expect_err(
        &with_meta(&bytes, |m| m["class_names"] = serde_json::json!(["a", "b"])),
        "2 class names",
    );
    expect_err(
        &with_meta(&bytes, |m| m["input_shape"] = serde_json::json!([1, 32, 32])),
        "input_shape [1, 32, 32]",
    );
    expect_err(
        &with_meta(&bytes, |m| m["input_shape"] = serde_json::json!([3, 28, 28])),
        "input channels",
    );
    expect_err(
        &with_meta(&bytes, |m| m["architecture"][9]["outputs"] = 12.into()),
        "class names",
    );
    expect_err(
        &with_meta(&bytes, |m| m["architecture"][1]["type"] = "softmax".into()),
        "metadata is invalid",
    );
    // An absurd architecture is rejected from the metadata alone, before allocating it.
    expect_err(
        &with_meta(&bytes, |m| {
            m["architecture"][7]["outputs"] = 100_000_000.into();
            m["architecture"][9]["inputs"] = 100_000_000.into();
        }),
        "parameters",
    );
    // Architecture that matches the classes but not the tensors.
    expect_err(&with_meta(&bytes, |m| m["architecture"][7]["outputs"] = 64.into()), "");
    let spec: Vec<LayerSpec> = vec![
        LayerSpec::Flatten,
        LayerSpec::Dense {
            inputs: 784,
            outputs: 10,
        },
    ];
    expect_err(
        &with_meta(&bytes, |m| m["architecture"] = serde_json::to_value(&spec).unwrap()),
        "unexpected tensor",
    );
}

#[cfg(not(target_arch = "wasm32"))]
#[test]
fn file_roundtrip_and_missing_file() {
    let (model, meta) = cnn();
    let path = std::env::temp_dir().join(format!("advlab-model-file-test-{}.safetensors", std::process::id()));
    advlab::model_file::save_file(&path, &model, &meta).unwrap();
    let (back, meta2) = advlab::model_file::load_file(&path).unwrap();
    assert_eq!(meta2, meta);
    assert_eq!(back.params()[2].data, model.params()[2].data);
    std::fs::remove_file(&path).unwrap();
    assert!(matches!(advlab::model_file::load_file(&path), Err(Error::Io(_))));
}
