//! The real EfficientNet-Lite0 weight file (built by the `photo` branch's converter) against its independent
//! float64 NumPy reference. Ignored by default: it needs the converted file and the reference JSON.
//!
//! `ADVLAB_PHOTO_MODEL=…/imagenet-efficientnet-lite0.safetensors ADVLAB_PHOTO_REF=…/photo-reference.json
//!  cargo test --test photo_reference -- --ignored --nocapture`

use advlab::model_file::load_file;
use advlab::nn::{architecture, Model};
use ndarray::Array4;

fn env_path(var: &str, default: &str) -> std::path::PathBuf {
    std::env::var_os(var).map_or_else(|| default.into(), Into::into)
}

/// `x[c][h][w] = ((3h + 5w + 80c + ((h·w) >> 6)) % 256) / 255`, the reference's synthetic input.
fn synthetic() -> Array4<f32> {
    Array4::from_shape_fn((1, 3, 224, 224), |(_, c, h, w)| {
        ((3 * h + 5 * w + 80 * c + ((h * w) >> 6)) % 256) as f32 / 255.0
    })
}

/// An RGB(A) 8-bit PNG as x = byte/255 in NCHW.
fn png_input(path: &std::path::Path) -> Array4<f32> {
    let dec = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).expect("png file")));
    let mut r = dec.read_info().expect("png header");
    let mut buf = vec![0u8; r.output_buffer_size()];
    let info = r.next_frame(&mut buf).expect("png data");
    let ch = info.color_type.samples();
    assert!(ch >= 3 && info.width == 224 && info.height == 224, "a 224×224 RGB PNG");
    Array4::from_shape_fn((1, 3, 224, 224), |(_, c, h, w)| {
        f32::from(buf[(h * 224 + w) * ch + c]) / 255.0
    })
}

fn max_abs(a: &[f32], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(&x, &y)| (f64::from(x) - y).abs())
        .fold(0.0, f64::max)
}

fn argmax(z: &[f32]) -> usize {
    (0..z.len()).max_by(|&i, &j| z[i].total_cmp(&z[j])).unwrap()
}

#[test]
#[ignore]
fn real_model_matches_the_numpy_reference() {
    let model_path = env_path(
        "ADVLAB_PHOTO_MODEL",
        "/work/wt/photo/www/models/imagenet-efficientnet-lite0.safetensors",
    );
    let ref_path = env_path("ADVLAB_PHOTO_REF", "/work/wt/out/photo-reference.json");
    let (model, meta): (Model, _) = load_file(&model_path).expect("the converted model loads");
    assert_eq!(
        model.spec(),
        architecture("efficientnet-lite0").unwrap(),
        "architecture per §B"
    );
    assert_eq!((meta.input_shape, model.num_classes()), ([3, 224, 224], 1000));
    let r: serde_json::Value = serde_json::from_slice(&std::fs::read(&ref_path).expect("reference")).unwrap();
    let tol = r["tolerance"]["logits_max_abs"].as_f64().unwrap();
    let crops = ref_path.parent().unwrap().join("photo-ref-crops");
    let mut worst = 0.0f64;
    for inp in r["inputs"].as_array().unwrap() {
        let name = inp["name"].as_str().unwrap();
        let x = if name == "synthetic" {
            synthetic()
        } else if name.ends_with(".png") {
            png_input(&crops.join(name))
        } else {
            png_input(&crops.join(format!("{name}.crop224.png")))
        };
        let want: Vec<f64> = inp["logits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        let z = model.logits(x.view());
        let z = z.as_slice().unwrap();
        let d = max_abs(z, &want);
        worst = worst.max(d);
        let top5: Vec<usize> = {
            let mut i: Vec<usize> = (0..1000).collect();
            i.sort_by(|&a, &b| z[b].total_cmp(&z[a]));
            i.truncate(5);
            i
        };
        eprintln!(
            "{name}: top-1 {} ({}), top-5 {top5:?}, logits[..4] {:?}, max |Δlogit| vs NumPy f64 {d:.2e}",
            argmax(z),
            meta.class_names[argmax(z)],
            &z[..4]
        );
        if let Some(t) = inp["top1"].as_u64() {
            assert_eq!(argmax(z) as u64, t, "{name}: top-1");
        }
    }
    assert!(worst <= tol, "logits differ by {worst:.2e} > {tol}");
    // Input gradient of the cross-entropy for class 404 at the synthetic input: cosine with the reference.
    let g = &r["gradient"];
    let want: Vec<f64> = g["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    let cls = g["class"].as_u64().unwrap() as usize;
    let (loss, dx) = model.input_gradient(synthetic().view(), &[cls]);
    let dx = dx.as_slice().unwrap();
    let dot: f64 = dx.iter().zip(&want).map(|(&a, &b)| f64::from(a) * b).sum();
    let na = dx.iter().map(|&a| f64::from(a).powi(2)).sum::<f64>().sqrt();
    let nb = want.iter().map(|b| b * b).sum::<f64>().sqrt();
    let cos = dot / (na * nb);
    eprintln!(
        "gradient (class {cls}): loss {loss} vs {}, ‖g‖₂ {na:.6} vs {nb:.6}, cosine {cos:.8}",
        g["loss_value"]
    );
    assert!(
        cos >= r["tolerance"]["gradient_cosine_min"].as_f64().unwrap(),
        "cosine {cos}"
    );
}
