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

/// A small photo-style model: normalisation, a "same" stride-2 stem, a residual block, global pooling.
fn photo_like() -> (Model, ModelMeta) {
    use advlab::nn::Padding::Same;
    let spec = vec![
        LayerSpec::Normalize {
            mean: vec![0.5; 3],
            std: vec![0.25; 3],
        },
        LayerSpec::conv2d(3, 4, 3, 2, Same),
        LayerSpec::Relu6,
        LayerSpec::Residual {
            layers: vec![
                LayerSpec::conv2d(4, 8, 1, 1, Same),
                LayerSpec::Relu6,
                LayerSpec::DepthwiseConv2d {
                    channels: 8,
                    kernel: 3,
                    stride: 1,
                    padding: Same,
                },
                LayerSpec::Relu6,
                LayerSpec::conv2d(8, 4, 1, 1, Same),
            ],
        },
        LayerSpec::GlobalAvgPool,
        LayerSpec::Dense { inputs: 4, outputs: 3 },
    ];
    let model = Model::init(&spec, [3, 8, 8], 5).unwrap();
    let mut meta = ModelMeta::for_model(
        &model,
        "photo-test",
        "imagenet",
        vec!["a".into(), "b".into(), "c".into()],
    );
    meta.preprocess = "imagenet".into();
    meta.license = "Apache-2.0".into();
    meta.provenance = serde_json::json!({"package": "x", "sha256": "00"});
    meta.class_names_i18n
        .insert("nl".into(), vec!["een".into(), "twee".into(), "drie".into()]);
    meta.class_groups = vec![advlab::model_file::ClassGroup {
        name: "dog".into(),
        classes: vec![1, 2],
    }];
    (model, meta)
}

#[test]
fn old_files_get_the_new_fields_defaults() {
    let (model, meta) = cnn();
    let bytes = save(&model, &meta).unwrap();
    let stripped = with_meta(&bytes, |m| {
        for k in [
            "license",
            "provenance",
            "preprocess",
            "class_names_i18n",
            "class_groups",
        ] {
            m.as_object_mut().unwrap().remove(k);
        }
    });
    let (_, m) = load(&stripped).unwrap();
    assert_eq!((m.preprocess.as_str(), m.license.as_str()), ("mnist", ""));
    assert!(m.class_names_i18n.is_empty() && m.class_groups.is_empty() && m.provenance.is_null());
}

#[test]
fn f16_tensors_nested_names_and_new_metadata() {
    use advlab::model_file::{save_with, Dtype};
    let (model, meta) = photo_like();
    let f32_bytes = save(&model, &meta).unwrap();
    let bytes = save_with(&model, &meta, Dtype::F16).unwrap();
    let (h, data) = split(&bytes);
    assert_eq!(h["layers.3.layers.2.weight"]["dtype"], "F16");
    assert_eq!(h["layers.3.layers.2.weight"]["shape"], serde_json::json!([8, 1, 3, 3]));
    assert_eq!(h["layers.3.layers.4.bias"]["shape"], serde_json::json!([4]));
    assert_eq!(data.len() * 2, split(&f32_bytes).1.len(), "F16 halves the tensor bytes");
    let (back, meta2) = load(&bytes).unwrap();
    assert_eq!(meta2, meta);
    for (a, b) in model.params().iter().zip(back.params()) {
        assert_eq!(a.tensor, b.tensor);
        for (&x, &y) in a.data.iter().zip(b.data) {
            assert!((x - y).abs() <= x.abs() / 2048.0 + 6e-8, "{}: {x} vs {y}", a.tensor);
        }
    }
    let (b32, _) = load(&f32_bytes).unwrap();
    assert_eq!(b32.params()[4].data, model.params()[4].data, "F32 stays exact");
    // An F16 weight beyond ±65504 cannot be saved as F16.
    let mut big = model.clone();
    let mut w = big.params()[0].data.to_vec();
    w[0] = 70_000.0;
    big.set_param(0, &w).unwrap();
    assert!(matches!(save_with(&big, &meta, Dtype::F16), Err(Error::ModelFile(m)) if m.contains("F16 range")));
    assert!(save_with(&big, &meta, Dtype::F32).is_ok());
}

#[test]
fn hostile_files_for_the_new_layers() {
    use advlab::model_file::{save_with, Dtype};
    let (model, meta) = photo_like();
    let bytes = save_with(&model, &meta, Dtype::F16).unwrap();
    // F16 NaN and ∞ are rejected like F32 ones.
    for (bits, at) in [(0x7e00u16, 2usize), (0x7c00, 3), (0xfc00, 0)] {
        let mut raw = [0u8; 8];
        raw[2 * at..2 * at + 2].copy_from_slice(&bits.to_le_bytes());
        expect_err(
            &replace_tensor(&bytes, "layers.3.layers.4.bias", "F16", serde_json::json!([4]), &raw),
            &format!("index {at}"),
        );
    }
    expect_err(
        &replace_tensor(
            &bytes,
            "layers.3.layers.2.weight",
            "F16",
            serde_json::json!([8, 3, 3]),
            &[0u8; 144],
        ),
        "shape",
    );
    expect_err(
        &replace_tensor(
            &bytes,
            "layers.3.layers.2.weight",
            "BF16",
            serde_json::json!([8, 1, 3, 3]),
            &[0u8; 144],
        ),
        "expected F32 or F16",
    );
    let (mut h, data) = split(&bytes);
    h.as_object_mut().unwrap().remove("layers.3.layers.0.weight");
    let missing = join(&h, &data);
    assert!(matches!(load(&missing), Err(Error::ModelFile(_))));
    expect_err(&bytes[..bytes.len() - 3], "bytes of tensor data");
    expect_err(&bytes[..bytes.len() / 2], "truncated");
    // Mismatched architectures, named.
    expect_err(
        &with_meta(&bytes, |m| m["architecture"][3]["layers"][4]["out_channels"] = 5.into()),
        "skip connection",
    );
    expect_err(
        &with_meta(&bytes, |m| m["architecture"][3]["layers"][2]["channels"] = 6.into()),
        "layer 3 (residual): layer 2 (depthwise_conv2d): expects 6 channels",
    );
    expect_err(
        &with_meta(&bytes, |m| m["architecture"][3]["layers"] = serde_json::json!([])),
        "no layers",
    );
    expect_err(
        &with_meta(&bytes, |m| m["architecture"][1]["padding"] = "valid".into()),
        "metadata is invalid",
    );
    expect_err(
        &with_meta(&bytes, |m| {
            m["architecture"][0]["std"] = serde_json::json!([0.25, 0.0, 0.25])
        }),
        "positive",
    );
    expect_err(
        &with_meta(&bytes, |m| m["architecture"][0]["mean"] = serde_json::json!([0.5])),
        "one mean and one std per channel",
    );
    expect_err(
        &with_meta(&bytes, |m| {
            m["architecture"][4] = serde_json::json!({"type": "flatten"})
        }),
        "dense",
    );
    // An extra nested tensor (the file has a layer the metadata does not).
    let (mut h, mut data) = split(&bytes);
    h["layers.3.layers.5.bias"] =
        serde_json::json!({"dtype": "F16", "shape": [4], "data_offsets": [data.len(), data.len() + 8]});
    data.extend([0u8; 8]);
    expect_err(&join(&h, &data), "unexpected tensor(s) `layers.3.layers.5.bias`");
    // The new metadata fields are checked against the class count.
    expect_err(
        &with_meta(&bytes, |m| m["class_names_i18n"]["nl"] = serde_json::json!(["een"])),
        "class_names_i18n",
    );
    expect_err(
        &with_meta(&bytes, |m| m["class_groups"][0]["classes"] = serde_json::json!([1, 3])),
        "class 3",
    );
    expect_err(&with_meta(&bytes, |m| m["preprocess"] = "jpeg".into()), "preprocess");
}

#[test]
fn headers_hold_two_thousand_class_names() {
    // 1000 English + 1000 Dutch names of 60 characters: about 130 kB of header, well inside the limit.
    let spec = vec![
        LayerSpec::Flatten,
        LayerSpec::Dense {
            inputs: 4,
            outputs: 1000,
        },
    ];
    let model = Model::init(&spec, [1, 2, 2], 0).unwrap();
    let name = |i: usize, lang: &str| format!("{lang} {i:04} {}", "x".repeat(50));
    let mut meta = ModelMeta::for_model(&model, "many", "imagenet", (0..1000).map(|i| name(i, "en")).collect());
    meta.class_names_i18n
        .insert("nl".into(), (0..1000).map(|i| name(i, "nl")).collect());
    let bytes = save(&model, &meta).unwrap();
    let header = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    assert!(
        header > 120_000 && header < advlab::model_file::MAX_HEADER_BYTES / 4,
        "header {header} bytes"
    );
    assert_eq!(load(&bytes).unwrap().1.class_names_i18n["nl"][999], name(999, "nl"));
}

/// F16 conversion against its definition: every finite half converts exactly and back; f32 values just below,
/// at and just above each midpoint between neighbouring halves round to the nearest (ties to even).
#[test]
fn f16_conversion_is_exact_and_rounds_to_nearest_even() {
    use advlab::model_file::{f16_to_f32, f32_to_f16};
    for h in 0u16..0x7c00 {
        for s in [0u16, 0x8000] {
            let v = f16_to_f32(h | s);
            assert_eq!(f32_to_f16(v), Some(h | s), "half {:#06x}", h | s);
        }
        if h + 1 < 0x7c00 {
            let (a, b) = (f64::from(f16_to_f32(h)), f64::from(f16_to_f32(h + 1)));
            let mid = (a + b) / 2.0; // exact in f32 (one more mantissa bit than the half)
            let m = mid as f32;
            assert_eq!(f64::from(m), mid);
            let even = if h % 2 == 0 { h } else { h + 1 };
            assert_eq!(f32_to_f16(m), Some(even), "tie between {h:#06x} and its successor");
            assert_eq!(f32_to_f16(f32::from_bits(m.to_bits() - 1)), Some(h));
            assert_eq!(f32_to_f16(f32::from_bits(m.to_bits() + 1)), Some(h + 1));
        }
    }
    assert_eq!(f16_to_f32(0x3c00), 1.0);
    assert_eq!(f16_to_f32(0x0001), 2f32.powi(-24));
    assert_eq!(f32_to_f16(65504.0), Some(0x7bff));
    assert_eq!(f32_to_f16(65519.99), Some(0x7bff));
    assert_eq!(f32_to_f16(65520.0), None);
    assert_eq!(f32_to_f16(f32::NAN), None);
    assert!(f16_to_f32(0x7e00).is_nan() && f16_to_f32(0xfc00) == f32::NEG_INFINITY);
    assert_eq!(f32_to_f16(1e-9), Some(0), "below half the smallest subnormal");
}
