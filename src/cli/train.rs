//! `advlab train`: trains one architecture on one dataset from a seed and writes a weight file whose metadata
//! holds the recipe and the measured test accuracy.

use std::time::Instant;

use serde_json::json;

use super::{jf, print_json, Args};
use crate::data::{load, DatasetName, Split};
use crate::lessons::downsample;
use crate::model_file::{save_file, ModelMeta};
use crate::nn::{architecture, LayerSpec, Model, ARCHITECTURES};
use crate::train::augment::random_shift;
use crate::train::{evaluate, train_with, TrainConfig};
use crate::{Error, Result};

pub fn run(argv: &[String]) -> Result<()> {
    let args = Args::parse(argv, &["json", "quiet"])?;
    let arch = args.required("arch")?.to_string();
    let spec = architecture(&arch).ok_or_else(|| {
        Error::param(
            "arch",
            format!("must be one of {}, got `{arch}`", ARCHITECTURES.join(", ")),
        )
    })?;
    let dataset: DatasetName = args.required("dataset")?.parse()?;
    let out = args.required("out")?.to_string();
    let defaults = TrainConfig::default();
    let cfg = TrainConfig {
        epochs: args.get_or("epochs", defaults.epochs)?,
        batch_size: args.get_or("batch", defaults.batch_size)?,
        lr: args.get_or("lr", defaults.lr)?,
        weight_decay: args.get_or("weight-decay", defaults.weight_decay)?,
        seed: args.get_or("seed", 0u64)?,
        ..defaults
    };
    let limit: Option<usize> = args.get("train-n")?;
    let shift: usize = args.get_or("shift", 0)?;
    // Box-averaged R×R inputs (the resolution lesson): R divides 28; the first dense layer takes R·R inputs.
    let resolution: usize = args.get_or("resolution", 28)?;
    let name = args
        .str("name")
        .map(str::to_string)
        .unwrap_or_else(|| format!("{}-{arch}", dataset.as_str()));
    let json_out = args.flag("json");
    let quiet = args.flag("quiet");
    args.finish()?;
    if cfg.epochs == 0 {
        return Err(Error::param("epochs", "must be at least 1"));
    }
    cfg.validate()?;

    let convolutional = spec.iter().any(|l| matches!(l, LayerSpec::Conv2d { .. }));
    if resolution == 0 || 28 % resolution != 0 || (resolution != 28 && convolutional) {
        return Err(Error::param(
            "resolution",
            format!("must divide 28 (and the arch have no convolution), got {resolution}"),
        ));
    }

    let started = Instant::now();
    let mut train_set = load(dataset, Split::Train, limit)?;
    let mut test_set = load(dataset, Split::Test, None)?;
    let spec = if resolution == 28 {
        spec
    } else {
        train_set.images = downsample(train_set.images.view(), resolution)?;
        test_set.images = downsample(test_set.images.view(), resolution)?;
        with_inputs(spec, resolution * resolution)
    };
    let mut model = Model::init(&spec, [1, resolution, resolution], cfg.seed)?;
    if shift > 4 {
        return Err(Error::param("shift", format!("at most 4 pixels, got {shift}")));
    }
    let mut augment = random_shift(shift);
    let report = train_with(
        &mut model,
        train_set.images.view(),
        &train_set.labels,
        &cfg,
        &mut augment,
        &mut |_, e| {
            if !quiet {
                eprintln!(
                    "{name}: epoch {}/{}  loss {:.4}  train acc {:.4}  lr {:.2e}  {:.1} s",
                    e.epoch,
                    e.epochs,
                    e.loss,
                    e.accuracy,
                    e.lr,
                    e.seconds.unwrap_or(0.0)
                );
            }
            true
        },
    )?;
    let test = evaluate(&model, test_set.images.view(), &test_set.labels)?;
    let seconds = started.elapsed().as_secs_f64();
    let mut meta = ModelMeta::for_model(
        &model,
        &name,
        dataset.as_str(),
        dataset.class_names().iter().map(|s| s.to_string()).collect(),
    );
    meta.training = json!({
        "arch": arch,
        "config": cfg,
        "init_seed": cfg.seed,
        "augment": { "random_shift": shift },
        "resolution": resolution,
        "train_images": train_set.labels.len(),
        "epochs": report.epochs,
        "seconds": seconds,
    });
    meta.metrics = json!({
        "test_n": test.total,
        "clean_accuracy": jf(test.accuracy),
        "test_loss": jf(test.loss),
        "parameters": model.params().iter().map(|p| p.data.len()).sum::<usize>(),
        "flops_per_image": model.flops_per_image(),
    });
    save_file(&out, &model, &meta)?;
    let summary = json!({
        "model": name, "dataset": dataset.as_str(), "arch": arch, "out": out,
        "clean_accuracy": jf(test.accuracy), "n": test.total, "seconds": seconds,
    });
    if json_out {
        print_json(&summary)?;
    } else {
        eprintln!(
            "{name}: test accuracy {:.2} % on {} images, {:.0} s → {out}",
            test.accuracy * 100.0,
            test.total,
            seconds
        );
    }
    Ok(())
}

/// The architecture with its first dense layer taking `inputs` features (a flattened `R×R` image).
fn with_inputs(mut spec: Vec<LayerSpec>, inputs: usize) -> Vec<LayerSpec> {
    if let Some(LayerSpec::Dense { inputs: i, .. }) = spec.iter_mut().find(|l| matches!(l, LayerSpec::Dense { .. })) {
        *i = inputs;
    }
    spec
}
