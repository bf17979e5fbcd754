//! The photo model's architecture, `nn::architecture("efficientnet-lite0")` (CONTRACTS.md §B): its exact layout,
//! parameter count and output, a weight-file round trip in F16 with nested tensor names, and (ignored by default)
//! the native timing and peak memory of one 224×224 forward pass and input gradient:
//! `cargo test --release --test efficientnet -- --ignored --nocapture`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use advlab::model_file::{load, save_with, Dtype, ModelMeta};
use advlab::nn::{architecture, LayerSpec, Model, Padding};
use ndarray::Array4;

/// Counts live heap bytes and their peak, for the memory measurement.
struct Counting;
static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(l) };
        if !p.is_null() {
            let now = LIVE.fetch_add(l.size(), Ordering::Relaxed) + l.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        unsafe { System.dealloc(p, l) };
        LIVE.fetch_sub(l.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const INPUT: [usize; 3] = [3, 224, 224];

fn spec() -> Vec<LayerSpec> {
    architecture("efficientnet-lite0").expect("known architecture")
}

/// The stride of every depthwise layer in order (one per MBConv block), and the blocks wrapped in a residual.
fn blocks(spec: &[LayerSpec]) -> (Vec<usize>, Vec<usize>) {
    let (mut strides, mut residual) = (Vec::new(), Vec::new());
    for l in spec {
        match l {
            LayerSpec::DepthwiseConv2d { stride, .. } => strides.push(*stride),
            LayerSpec::Residual { layers } => {
                residual.push(strides.len());
                for b in layers {
                    if let LayerSpec::DepthwiseConv2d { stride, .. } = b {
                        strides.push(*stride);
                    }
                }
            }
            _ => {}
        }
    }
    (strides, residual)
}

fn image() -> Array4<f32> {
    Array4::from_shape_fn((1, 3, 224, 224), |(_, c, i, j)| {
        ((c * 7 + i * 3 + j * 5) % 256) as f32 / 255.0
    })
}

#[test]
fn architecture_matches_the_contract() {
    let spec = spec();
    let m = Model::init(&spec, INPUT, 0).unwrap();
    assert_eq!(m.num_classes(), 1000);
    // 4 652 008 trainable values in the PyTorch checkpoint, of which 2 × 21 008 are batch-norm γ, β; folding
    // leaves one bias per batch-norm channel: 4 652 008 − 21 008.
    assert_eq!(
        m.num_params(),
        4_631_000,
        "EfficientNet-Lite0, batch norm folded (a bias on every conv)"
    );
    // 0.385 GMAC: the "0.4 GMAC" of the paper's table (convolutions and the classifier; adds not counted).
    assert_eq!(m.flops_per_image(), 770_375_104);
    let (strides, residual) = blocks(&spec);
    assert_eq!(strides.len(), 16, "16 MBConv blocks");
    let two: Vec<usize> = (0..16).filter(|&b| strides[b] == 2).collect();
    assert_eq!(two, [1, 3, 5, 11], "stride-2 blocks");
    assert_eq!(
        residual,
        [2, 4, 6, 7, 9, 10, 12, 13, 14],
        "skip connections where stride 1 and in = out"
    );
    // Head and stem, in the serialised form the converter writes.
    let json = serde_json::to_value(&spec).unwrap();
    assert_eq!(json[0]["type"], "normalize");
    assert_eq!(
        json[1],
        serde_json::json!({"type": "conv2d", "in_channels": 3, "out_channels": 32, "kernel": 3, "stride": 2, "padding": "same"})
    );
    assert_eq!(json[json.as_array().unwrap().len() - 2]["type"], "global_avg_pool");
    let back: Vec<LayerSpec> = serde_json::from_value(json).unwrap();
    assert_eq!(back, spec);
    // (255·x − 127)/128 is the first layer.
    let LayerSpec::Normalize { mean, std } = &spec[0] else {
        panic!("normalize first")
    };
    assert!(
        mean.iter().all(|&v| (v - 127.0 / 255.0).abs() < 1e-7) && std.iter().all(|&v| (v - 128.0 / 255.0).abs() < 1e-7)
    );
    // Spatial sizes: 224 → 112 (stem) → 112, 56, 28, 14, 14, 7, 7; the head sees 320×7×7.
    let sizes = m.activation_sizes();
    assert_eq!(sizes[0], 3 * 224 * 224);
    assert!(sizes.contains(&(320 * 7 * 7)) && sizes.contains(&(1280 * 7 * 7)));
    assert_eq!(*sizes.last().unwrap(), 1000);
    // "same" padding with stride 2 on an even size pads one pixel at the bottom/right only.
    assert_eq!(Padding::Same.resolve(224, 3, 2).unwrap(), (0, 112));
    assert_eq!(Padding::Same.resolve(112, 3, 2).unwrap(), (0, 56));
    assert_eq!(Padding::Same.resolve(28, 5, 2).unwrap(), (1, 14));
    assert_eq!(Padding::Same.resolve(7, 5, 1).unwrap(), (2, 7));
}

#[test]
fn forward_and_gradient_are_finite_and_deterministic() {
    let m = Model::init(&spec(), INPUT, 1).unwrap();
    let x = image();
    let z = m.logits(x.view());
    assert_eq!(z.dim(), (1, 1000));
    assert!(z.iter().all(|v| v.is_finite()));
    assert!(z.iter().any(|&v| v != z[[0, 0]]), "logits depend on the class");
    let (loss, dx) = m.input_gradient(x.view(), &[404]);
    assert!(loss.is_finite() && dx.iter().all(|v| v.is_finite()));
    assert!(dx.iter().any(|&v| v != 0.0), "the gradient reaches the pixels");
    assert_eq!(m.logits(x.view()), z, "same input, same logits");
    // A recorded forward pass gives the same logits as inference (in-place layers change nothing).
    assert_eq!(m.forward_cached(x.view()).logits(), z.view());
}

#[test]
fn f16_weight_file_round_trip_with_nested_names() {
    let m = Model::init(&spec(), INPUT, 2).unwrap();
    let mut meta = ModelMeta::for_model(
        &m,
        "imagenet-efficientnet-lite0",
        "imagenet",
        (0..1000)
            .map(|i| format!("class {i} with a fairly long english name"))
            .collect(),
    );
    meta.preprocess = "imagenet".into();
    meta.license = "Apache-2.0".into();
    meta.class_names_i18n.insert(
        "nl".into(),
        (0..1000)
            .map(|i| format!("klasse {i} met een nogal lange nederlandse naam"))
            .collect(),
    );
    meta.class_groups = vec![
        advlab::model_file::ClassGroup {
            name: "dog".into(),
            classes: (151..=268).collect(),
        },
        advlab::model_file::ClassGroup {
            name: "pig".into(),
            classes: vec![341, 342, 343],
        },
    ];
    let bytes = save_with(&m, &meta, Dtype::F16).unwrap();
    let f16_mb = bytes.len() as f64 / 1e6;
    assert!(f16_mb < 9.5, "F16 file is {f16_mb:.2} MB");
    let (back, meta2) = load(&bytes).unwrap();
    assert_eq!(meta2, meta);
    assert_eq!(back.spec(), m.spec());
    let names: Vec<String> = back.params().iter().map(|p| p.tensor.clone()).collect();
    assert!(
        names.contains(&"layers.11.layers.2.weight".to_string()),
        "nested names: {:?}",
        &names[..12]
    );
    for (a, b) in m.params().iter().zip(back.params()) {
        for (&x, &y) in a.data.iter().zip(b.data) {
            assert!(
                (x - y).abs() <= x.abs() * (1.0 / 2048.0) + 6e-8,
                "{}: {x} → {y}",
                a.tensor
            );
        }
    }
    let x = image();
    let (z, z16) = (m.logits(x.view()), back.logits(x.view()));
    let d = z.iter().zip(&z16).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
    let scale = z.iter().fold(0.0f32, |a, v| a.max(v.abs()));
    assert!(
        d <= 0.02 * scale.max(1.0),
        "F16 weights move the logits by {d} (scale {scale})"
    );
}

/// CPU time of this process in ms (user + system, from /proc/self/stat; 10 ms ticks): on a shared machine the
/// wall clock measures the other processes too.
fn cpu_ms() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks: f64 =
        f.get(11).and_then(|u| u.parse().ok()).unwrap_or(0.0) + f.get(12).and_then(|s| s.parse().ok()).unwrap_or(0.0);
    ticks * 10.0
}

/// Native timing and peak heap of one 224×224 image (run in release/test profile, ignored by default).
#[test]
#[ignore]
fn timing_and_peak_memory() {
    let m = Model::init(&spec(), INPUT, 3).unwrap();
    let x = image();
    let _ = m.logits(x.view());
    let _ = m.input_gradient(x.view(), &[404]);
    let reps = 10;
    let mut fwd = Vec::new();
    let mut grad = Vec::new();
    for _ in 0..reps {
        let t = Instant::now();
        std::hint::black_box(m.logits(x.view()));
        fwd.push(t.elapsed().as_secs_f64() * 1e3);
        let t = Instant::now();
        std::hint::black_box(m.input_gradient(x.view(), &[404]));
        grad.push(t.elapsed().as_secs_f64() * 1e3);
    }
    fwd.sort_by(f64::total_cmp);
    grad.sort_by(f64::total_cmp);
    let cpu_reps = 30;
    let c0 = cpu_ms();
    for _ in 0..cpu_reps {
        std::hint::black_box(m.logits(x.view()));
    }
    let c1 = cpu_ms();
    for _ in 0..cpu_reps {
        std::hint::black_box(m.input_gradient(x.view(), &[404]));
    }
    let c2 = cpu_ms();
    eprintln!(
        "CPU time per image: forward {:.1} ms, input gradient {:.1} ms ({cpu_reps} runs each)",
        (c1 - c0) / cpu_reps as f64,
        (c2 - c1) / cpu_reps as f64
    );
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let _ = m.logits(x.view());
    let peak_fwd = PEAK.load(Ordering::Relaxed) - base;
    PEAK.store(LIVE.load(Ordering::Relaxed), Ordering::Relaxed);
    let cache = m.forward_cached(x.view());
    let recorded = cache.bytes();
    drop(cache);
    PEAK.store(LIVE.load(Ordering::Relaxed), Ordering::Relaxed);
    let base = LIVE.load(Ordering::Relaxed);
    let _ = m.input_gradient(x.view(), &[404]);
    let peak_grad = PEAK.load(Ordering::Relaxed) - base;
    eprintln!(
        "efficientnet-lite0, batch 1, native: forward median {:.1} ms (min {:.1}), input gradient median {:.1} ms (min {:.1}); \
         {:.2} GFLOP/image; peak heap above the weights: forward {:.1} MB, forward+backward {:.1} MB (recorded activations {:.1} MB); weights {:.1} MB",
        fwd[reps / 2],
        fwd[0],
        grad[reps / 2],
        grad[0],
        m.flops_per_image() as f64 / 1e9,
        peak_fwd as f64 / 1e6,
        peak_grad as f64 / 1e6,
        recorded as f64 / 1e6,
        m.num_params() as f64 * 4.0 / 1e6,
    );
}

/// Where a forward pass spends its time, by top-level layer (ignored by default; for tuning).
#[test]
#[ignore]
fn profile_forward_layers() {
    // Residual bodies inlined (same shapes), so that every primitive layer is timed on its own.
    let flat: Vec<LayerSpec> = spec()
        .into_iter()
        .flat_map(|l| match l {
            LayerSpec::Residual { layers } => layers,
            other => vec![other],
        })
        .collect();
    let m = Model::init(&flat, INPUT, 3).unwrap();
    let x = image();
    let t0 = Instant::now();
    let now = || t0.elapsed().as_secs_f64() * 1e3;
    let _ = now;
    let prof = m.profile_layers(x.view(), 40, &cpu_ms);
    let total: f64 = prof.iter().map(|p| p.1).sum();
    let mut by_kind: std::collections::BTreeMap<String, f64> = Default::default();
    for (i, (name, t)) in prof.iter().enumerate() {
        let mut kind: String = name.split(' ').next().unwrap_or_default().to_string();
        if name.contains(r#""kernel":1,"#) {
            kind.push_str(" 1x1");
        }
        *by_kind.entry(kind).or_default() += t;
        if *t > 0.025 * total {
            eprintln!("layer {i:2} {:>7.2} ms  {}", t, &name[..name.len().min(110)]);
        }
    }
    eprintln!("total {total:.1} ms; by kind: {by_kind:.2?}");
}
