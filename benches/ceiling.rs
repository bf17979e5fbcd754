//! The sgemm ceiling of this build and how close the shipped CNN comes to it (issue 9), plus the FGSM numbers the
//! JAX comparison (`benches/peers/jax_fgsm.py`) uses: batch-1 FGSM and batched FGSM throughput over the 10 000
//! MNIST test images (the 500 shipped samples tiled when `.data/mnist` is absent).
//!
//! FGSM (Goodfellow et al. 2015): `x' = clip₍₀,₁₎(x + η·sign ∇ₓJ(x, y))`, J the cross-entropy loss, η = 0.1.
//!
//! `cargo bench --bench ceiling`. Criterion's "elem/s" of the sgemm group are FLOP/s (2·m·k·n per product).

use std::time::Instant;

use advlab::data::idx::parse_images;
use advlab::nn::Model;
use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use ndarray::{linalg::general_mat_mul, Array2, Array4, ArrayView4};

const ETA: f32 = 0.1;
/// CNN-like products: conv 2 of mnist-cnn as im2col (32 filters × 288 × 121 positions), conv 1 (32 × 9 × 784),
/// the dense layer at batch 64, and a square one.
const SIZES: [(usize, usize, usize); 4] = [(32, 288, 121), (32, 9, 784), (64, 1152, 128), (256, 256, 256)];

fn matrices(m: usize, k: usize, n: usize) -> (Array2<f32>, Array2<f32>, Array2<f32>) {
    let a = Array2::from_shape_fn((m, k), |(i, j)| ((i * 7 + j * 3) % 13) as f32 / 13.0 - 0.5);
    let b = Array2::from_shape_fn((k, n), |(i, j)| ((i * 5 + j * 11) % 17) as f32 / 17.0 - 0.5);
    (a, b, Array2::zeros((m, n)))
}

/// Median seconds of `reps` runs of `f`.
fn median_secs(reps: usize, mut f: impl FnMut()) -> f64 {
    let mut t: Vec<f64> = (0..reps)
        .map(|_| {
            let t0 = Instant::now();
            f();
            t0.elapsed().as_secs_f64()
        })
        .collect();
    t.sort_by(|a, b| a.partial_cmp(b).unwrap());
    t[t.len() / 2]
}

fn shipped_cnn() -> Model {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/www/models/mnist-cnn.safetensors");
    advlab::model_file::load_file(path)
        .expect("www/models/mnist-cnn.safetensors")
        .0
}

/// The 10 000 MNIST test images as `[N, 1, 28, 28]` in `[0, 1]`.
fn test_images() -> Array4<f32> {
    let root = env!("CARGO_MANIFEST_DIR");
    let (n, h, w, px) = std::fs::read(format!("{root}/.data/mnist/t10k-images-idx3-ubyte"))
        .ok()
        .and_then(|b| parse_images(&b).ok())
        .unwrap_or_else(|| {
            let b = std::fs::read(format!("{root}/www/samples/mnist-test-images.idx")).expect("samples");
            parse_images(&b).expect("samples IDX")
        });
    let x: Vec<f32> = (0..10_000)
        .flat_map(|i| {
            px[(i % n) * h * w..(i % n + 1) * h * w]
                .iter()
                .map(|&p| p as f32 / 255.0)
        })
        .collect();
    Array4::from_shape_vec((10_000, 1, h, w), x).unwrap()
}

/// FGSM on a batch, untargeted away from the model's own predictions.
fn fgsm(model: &Model, x: ArrayView4<f32>) -> Array4<f32> {
    let labels = model.predict(x);
    let (_, g) = model.input_gradient(x, &labels);
    let mut adv = x.to_owned();
    adv.zip_mut_with(&g, |a, &gi| {
        *a = (*a + ETA * gi.signum() * (gi != 0.0) as u8 as f32).clamp(0.0, 1.0)
    });
    adv
}

fn ceiling(c: &mut Criterion) {
    let mut g = c.benchmark_group("sgemm");
    g.sample_size(20);
    for (m, k, n) in SIZES {
        let (a, b, mut out) = matrices(m, k, n);
        g.throughput(Throughput::Elements((2 * m * k * n) as u64));
        g.bench_with_input(BenchmarkId::from_parameter(format!("{m}x{k}x{n}")), &m, |bch, _| {
            bch.iter(|| general_mat_mul(1.0, black_box(&a), black_box(&b), 0.0, &mut out))
        });
    }
    g.finish();

    // The summary the README quotes: best GFLOP/s over the sizes, and the CNN forward pass against it.
    let mut best: f64 = 0.0;
    for (m, k, n) in SIZES {
        let (a, b, mut out) = matrices(m, k, n);
        let reps = (2e7 / (2 * m * k * n) as f64).ceil() as usize;
        let s = median_secs(15, || {
            for _ in 0..reps {
                general_mat_mul(1.0, &a, &b, 0.0, &mut out);
            }
        });
        let gf = 2.0 * (m * k * n * reps) as f64 / s / 1e9;
        println!("sgemm {m}x{k}x{n}: {gf:.2} GFLOP/s");
        best = best.max(gf);
    }
    let model = shipped_cnn();
    let x = test_images();
    let one = x.slice(ndarray::s![0..1, .., .., ..]);
    let s = median_secs(200, || {
        black_box(model.logits(black_box(one)));
    });
    let flops = model.flops_per_image() as f64;
    let gf = flops / s / 1e9;
    println!(
        "mnist-cnn forward, batch 1: {:.1} µs, {gf:.2} GFLOP/s ({:.2} MFLOP) = {:.1} % of the sgemm ceiling {best:.2} GFLOP/s",
        s * 1e6,
        flops / 1e6,
        100.0 * gf / best
    );
}

fn fgsm_bench(c: &mut Criterion) {
    let model = shipped_cnn();
    let x = test_images();
    let mut g = c.benchmark_group("fgsm_mnist_cnn");
    g.sample_size(20);
    let mut k = 0usize;
    g.throughput(Throughput::Elements(1));
    g.bench_function("batch1", |b| {
        b.iter(|| {
            k = (k + 1) % 100;
            black_box(fgsm(&model, x.slice(ndarray::s![k..k + 1, .., .., ..])))
        })
    });
    g.sample_size(10);
    g.throughput(Throughput::Elements(10_000));
    g.bench_function("10000_images_batches_of_500", |b| {
        b.iter(|| {
            for i in (0..10_000).step_by(500) {
                black_box(fgsm(&model, x.slice(ndarray::s![i..i + 500, .., .., ..])));
            }
        })
    });
    g.finish();
}

criterion_group!(benches, ceiling, fgsm_bench);
criterion_main!(benches);
