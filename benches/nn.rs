//! Criterion benches of the nn core: the forward pass (slider moves), the input gradient (attacks) and the
//! parameter gradient (training) of the shipped architectures, plus the layout choice for dense products.
//!
//! `cargo bench --bench nn` (add `-- cnn` to filter; `-- efficientnet` for the photo model at 224×224, batch 1).

use advlab::nn::{architecture, Model};
use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use ndarray::{Array2, Array4};

fn batch(n: usize) -> (Array4<f32>, Vec<usize>) {
    let x = Array4::from_shape_fn((n, 1, 28, 28), |(i, _, r, c)| {
        ((i * 31 + r * 7 + c * 3) % 17) as f32 / 17.0
    });
    (x, (0..n).map(|i| i % 10).collect())
}

fn models(c: &mut Criterion) {
    for name in ["linear", "mlp", "cnn"] {
        let model = Model::init(&architecture(name).unwrap(), [1, 28, 28], 1).unwrap();
        let mut g = c.benchmark_group(name);
        g.sample_size(20);
        for n in [1usize, 64] {
            let (x, y) = batch(n);
            g.throughput(Throughput::Elements(n as u64));
            g.bench_with_input(BenchmarkId::new("logits", n), &n, |b, _| {
                b.iter(|| model.logits(black_box(x.view())))
            });
            g.bench_with_input(BenchmarkId::new("input_gradient", n), &n, |b, _| {
                b.iter(|| model.input_gradient(black_box(x.view()), &y))
            });
            if n > 1 {
                g.bench_with_input(BenchmarkId::new("param_gradient", n), &n, |b, _| {
                    b.iter(|| model.loss_and_gradients(black_box(x.view()), &y))
                });
            }
        }
        g.finish();
    }
}

/// The photo model (random weights: the time does not depend on their values), one 224×224 image: a slider move
/// (forward) and the FGSM direction (input gradient).
fn photo(c: &mut Criterion) {
    let model = Model::init(&architecture("efficientnet-lite0").unwrap(), [3, 224, 224], 1).unwrap();
    let x = Array4::from_shape_fn((1, 3, 224, 224), |(_, ch, r, q)| {
        ((ch * 7 + r * 3 + q * 5) % 256) as f32 / 255.0
    });
    let mut g = c.benchmark_group("efficientnet-lite0");
    g.sample_size(10);
    g.bench_function("logits/1", |b| b.iter(|| model.logits(black_box(x.view()))));
    g.bench_function("input_gradient/1", |b| {
        b.iter(|| model.input_gradient(black_box(x.view()), &[404]))
    });
    g.finish();
}

/// `X Wᵀ` through the transposed view (what `Dense` does) versus a pre-transposed contiguous copy: matrixmultiply
/// packs both operands anyway, so the difference should be noise.
fn dense_layout(c: &mut Criterion) {
    let mut g = c.benchmark_group("dense_1152x128");
    let x = Array2::from_shape_fn((16, 1152), |(i, j)| ((i + j) % 13) as f32);
    let w = Array2::from_shape_fn((128, 1152), |(i, j)| ((i * j) % 7) as f32);
    let wt = w.t().as_standard_layout().into_owned();
    g.bench_function("x.dot(w.t())", |b| b.iter(|| black_box(&x).dot(&w.t())));
    g.bench_function("x.dot(wt_contiguous)", |b| b.iter(|| black_box(&x).dot(&wt)));
    g.finish();
}

criterion_group!(benches, models, photo, dense_layout);
criterion_main!(benches);
