//! Time per attack on one image, on the shipped `mnist-cnn` (the README's attack timing table).
//!
//! `cargo bench --bench attacks`. Each attack runs on the same three test images (from the page's sample gallery,
//! so no dataset download is needed), untargeted, with the evaluation protocol's parameters.

use advlab::attacks::{by_name, AttackParams, Goal, Norm};
use advlab::data::idx::parse_images;
use advlab::model_file::load_file;
use criterion::{black_box, criterion_group, criterion_main, Criterion};
use ndarray::Array4;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn root(p: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(p)
}

fn samples(k: usize) -> Vec<Array4<f32>> {
    let bytes = std::fs::read(root("www/samples/mnist-test-images.idx")).unwrap();
    let (_, h, w, data) = parse_images(&bytes).unwrap();
    (0..k)
        .map(|i| Array4::from_shape_fn((1, 1, h, w), |(_, _, r, c)| data[i * h * w + r * w + c] as f32 / 255.0))
        .collect()
}

fn attacks(c: &mut Criterion) {
    let (model, _) = load_file(root("www/models/mnist-cnn.safetensors")).unwrap();
    let images = samples(3);
    let cases: Vec<(&str, AttackParams)> = vec![
        ("fgsm", AttackParams::new(0.3, Norm::Linf)),
        ("pgd", AttackParams::new(0.3, Norm::Linf)),
        ("deepfool", AttackParams::new(28.0, Norm::L2)),
        ("cw", AttackParams::new(28.0, Norm::L2)),
        ("simba", AttackParams::new(0.3, Norm::Linf)),
        ("square", AttackParams::new(0.3, Norm::Linf)),
        (
            "one_pixel",
            AttackParams {
                pixels: 1,
                max_queries: 2000,
                ..AttackParams::new(1.0, Norm::Linf)
            },
        ),
    ];
    let mut g = c.benchmark_group("attack_per_image_mnist_cnn");
    g.sample_size(10);
    for (name, params) in cases {
        let attack = by_name(name).unwrap();
        let goals: Vec<Goal> = images
            .iter()
            .map(|x| Goal::Untargeted {
                true_class: advlab::attacks::Classifier::predict(&model, x.view())[0],
            })
            .collect();
        let mut k = 0usize;
        // One iteration = one attack on one image (cycling through the three).
        g.bench_function(name, |b| {
            b.iter(|| {
                k = (k + 1) % images.len();
                let mut rng = ChaCha8Rng::seed_from_u64(1);
                let r = attack.run(
                    &model,
                    black_box(images[k].view()),
                    goals[k],
                    &params,
                    &mut rng,
                    &mut |_| true,
                );
                black_box(r.unwrap())
            })
        });
    }
    g.finish();
}

criterion_group!(benches, attacks);
criterion_main!(benches);
