//! Speed and accuracy check on the real data (not a test): trains one shipped architecture and prints per-epoch
//! time, training loss and test accuracy.
//!
//! `cargo run --release --example train_check -- <mnist|fashion> <linear|mlp|cnn> [epochs] [lr] [batch] [limit]`
//!
//! Reads the raw IDX files under `.data/<dataset>/` (plain or `.gz`) itself, so it does not depend on `advlab::data`.
//! With `SHIFT=k` it trains on images randomly shifted by up to k pixels.
//! With `SAVE=path.safetensors` in the environment it writes the trained model, its recipe and test accuracy.

use std::io::Read;
use std::time::Instant;

use advlab::nn::{architecture, Model};
use advlab::train::{evaluate, train_with, TrainConfig};
use ndarray::Array4;

fn read(path: &str) -> Vec<u8> {
    let mut raw = Vec::new();
    if let Ok(mut f) = std::fs::File::open(path) {
        f.read_to_end(&mut raw).unwrap();
        return raw;
    }
    let f =
        std::fs::File::open(format!("{path}.gz")).unwrap_or_else(|e| panic!("{path}(.gz): {e}"));
    flate2::read::GzDecoder::new(f)
        .read_to_end(&mut raw)
        .unwrap();
    raw
}

fn be(b: &[u8], i: usize) -> usize {
    u32::from_be_bytes(b[4 * i..4 * i + 4].try_into().unwrap()) as usize
}

fn load(dir: &str, split: &str, limit: usize) -> (Array4<f32>, Vec<usize>) {
    let img = read(&format!("{dir}/{split}-images-idx3-ubyte"));
    let lab = read(&format!("{dir}/{split}-labels-idx1-ubyte"));
    assert_eq!((be(&img, 0), be(&lab, 0)), (0x803, 0x801), "IDX magic");
    let (n, h, w) = (be(&img, 1).min(limit), be(&img, 2), be(&img, 3));
    let x = Array4::from_shape_fn((n, 1, h, w), |(i, _, r, c)| {
        f32::from(img[16 + (i * h + r) * w + c]) / 255.0
    });
    (x, lab[8..8 + n].iter().map(|&v| usize::from(v)).collect())
}

fn main() {
    let a: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize, d: &str| a.get(i).cloned().unwrap_or_else(|| d.to_string());
    let (ds, arch) = (arg(0, "mnist"), arg(1, "cnn"));
    let cfg = TrainConfig {
        epochs: arg(2, "2").parse().unwrap(),
        lr: arg(3, "0.001").parse().unwrap(),
        batch_size: arg(4, "64").parse().unwrap(),
        seed: 1,
        ..TrainConfig::default()
    };
    let limit: usize = arg(5, "60000").parse().unwrap();
    let dir = format!(".data/{ds}");
    let t = Instant::now();
    let (x, y) = load(&dir, "train", limit);
    let (xt, yt) = load(&dir, "t10k", 10_000);
    println!(
        "loaded {} train / {} test in {:.1}s",
        y.len(),
        yt.len(),
        t.elapsed().as_secs_f64()
    );
    let mut model = Model::init(&architecture(&arch).unwrap(), [1, 28, 28], 1).unwrap();
    println!(
        "{ds} {arch}: {} params, {} FLOP/image, cfg {}",
        model.num_params(),
        model.flops_per_image(),
        serde_json::to_string(&cfg).unwrap()
    );
    let total = Instant::now();
    let shift: usize = std::env::var("SHIFT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    println!("random shift ±{shift}px");
    let mut hook = advlab::train::augment::random_shift(shift);
    train_with(&mut model, x.view(), &y, &cfg, &mut hook, &mut |m, r| {
        let t = Instant::now();
        let e = evaluate(m, xt.view(), &yt).unwrap();
        println!(
            "epoch {}/{}: {:.2}s train, loss {:.4}, train acc {:.4}, lr {:.2e} | test acc {:.4} loss {:.4} ({:.2}s)",
            r.epoch,
            r.epochs,
            r.seconds.unwrap(),
            r.loss,
            r.accuracy,
            r.lr,
            e.accuracy,
            e.loss,
            t.elapsed().as_secs_f64()
        );
        true
    })
    .unwrap();
    println!("total {:.1}s", total.elapsed().as_secs_f64());
    if let Ok(path) = std::env::var("SAVE") {
        let e = evaluate(&model, xt.view(), &yt).unwrap();
        let classes = (0..10).map(|i| i.to_string()).collect();
        let mut meta =
            advlab::model_file::ModelMeta::for_model(&model, &format!("{ds}-{arch}"), &ds, classes);
        meta.training = serde_json::json!({"config": cfg, "init_seed": 1, "train_images": y.len(), "random_shift": shift});
        meta.metrics = serde_json::json!({"test_accuracy": e.accuracy, "test_loss": e.loss, "test_images": e.total});
        advlab::model_file::save_file(&path, &model, &meta).unwrap();
        println!("saved {path}");
    }
}
