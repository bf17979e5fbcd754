//! `advlab train`: trains one architecture on one dataset from a seed and writes a weight file whose metadata
//! holds the recipe and the measured test accuracy.

use std::time::Instant;

use serde_json::json;

use super::{jf, print_json, Args};
use crate::data::{load, DatasetName, Split};
use crate::lessons::downsample;
use crate::model_file::{save_file, ModelMeta};
use crate::nn::{architecture, LayerSpec, Model, ARCHITECTURES, ROBUST_ARCHITECTURES};
use crate::train::adversarial::{adversarial, AdvConfig, AdvMethod};
use crate::train::augment::random_shift;
use crate::train::ensemble::{ensemble, EnsembleConfig};
use crate::train::{evaluate, train_with, Batch, TrainConfig};
use crate::{Error, Result};

pub fn run(argv: &[String]) -> Result<()> {
    let args = Args::parse(argv, &["json", "quiet"])?;
    let arch = args.required("arch")?.to_string();
    let spec = architecture(&arch).ok_or_else(|| {
        Error::param(
            "arch",
            format!(
                "must be one of {}, {}, got `{arch}`",
                ARCHITECTURES.join(", "),
                ROBUST_ARCHITECTURES.join(", ")
            ),
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
    let adv = args.str("adv").unwrap_or("none").to_string();
    let adv_eta: f32 = args.get_or("adv-eta", 0.3)?;
    let adv_steps: usize = args.get_or("adv-steps", 7)?;
    let adv_alpha: Option<f32> = args.get("adv-alpha")?;
    let adv_warmup_epochs: f32 = args.get_or("adv-warmup-epochs", 0.0)?;
    let adv_clean: Option<f32> = args.get("adv-clean")?;
    // Early stopping on robust accuracy (Rice, Wong & Kolter 2020; Wong 2020 §5 against catastrophic
    // overfitting): after each epoch, PGD-10 on the first `adv-check` test images; the best epoch's weights are kept.
    let adv_check: usize = args.get_or("adv-check", 0)?;
    let sources: Vec<String> = args
        .str("sources")
        .map(|s| s.split(',').filter(|p| !p.is_empty()).map(str::to_string).collect())
        .unwrap_or_default();
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
    let per_epoch = train_set.labels.len().div_ceil(cfg.batch_size);
    let warmup_batches = (adv_warmup_epochs.max(0.0) * per_epoch as f32).round() as usize;
    let (mut defence, adversarial_record): (Box<crate::train::BatchTransform>, serde_json::Value) = match adv.as_str() {
        "none" => (
            Box::new(|_: &Model, b: Batch, _: &mut _| Ok(b)),
            serde_json::Value::Null,
        ),
        "fgsm" | "fgsm-rs" | "pgd" => {
            let mut c = match adv.as_str() {
                "pgd" => AdvConfig::pgd(adv_eta, adv_steps),
                "fgsm-rs" => AdvConfig::fgsm_rs(adv_eta),
                _ => AdvConfig::fgsm(adv_eta),
            };
            if let Some(a) = adv_alpha {
                c.method = match c.method {
                    AdvMethod::Fgsm => {
                        return Err(Error::param(
                            "adv-alpha",
                            "plain FGSM (--adv fgsm) takes one step of exactly ε; use --adv-eta",
                        ))
                    }
                    AdvMethod::FgsmRs { .. } => AdvMethod::FgsmRs { alpha: a },
                    AdvMethod::Pgd { steps, .. } => AdvMethod::Pgd { steps, alpha: a },
                };
            }
            c.warmup_batches = warmup_batches;
            // Plain FGSM keeps Goodfellow's half-clean batch unless told otherwise; the others train on
            // adversarial examples only by default.
            c.clean_fraction = adv_clean.unwrap_or(c.clean_fraction);
            c.validate()?;
            let paper = match adv.as_str() {
                "pgd" => "Madry et al. 2018",
                "fgsm-rs" => "Wong, Rice & Kolter 2020",
                _ => "Goodfellow, Shlens & Szegedy 2015",
            };
            (
                Box::new(adversarial(c)),
                json!({ "kind": adv, "paper": paper, "config": c }),
            )
        }
        "ensemble" => {
            if sources.is_empty() {
                return Err(Error::param(
                    "sources",
                    "--adv ensemble needs --sources a.safetensors,b.safetensors",
                ));
            }
            let mut models = Vec::new();
            let mut names = Vec::new();
            for p in &sources {
                let (m, meta) = super::common::load_model(p)?;
                if meta.dataset != dataset.as_str() {
                    return Err(Error::param(
                        "sources",
                        format!("{p} is a {} model, training on {}", meta.dataset, dataset.as_str()),
                    ));
                }
                models.push(m);
                names.push(meta.name);
            }
            let mut c = EnsembleConfig::new(adv_eta, names);
            if let Some(a) = adv_alpha {
                c.alpha = a;
            }
            c.validate(models.len())?;
            let rec = json!({ "kind": "ensemble", "paper": "Tramèr et al. 2018", "config": c });
            (Box::new(ensemble(c, models)), rec)
        }
        other => {
            return Err(Error::param(
                "adv",
                format!("must be one of none, fgsm, fgsm-rs, pgd, ensemble, got `{other}`"),
            ))
        }
    };
    // Augment first, then attack the augmented batch.
    let mut hook = |m: &Model, b: Batch, rng: &mut rand_chacha::ChaCha8Rng| {
        let b = augment(m, b, rng)?;
        defence(m, b, rng)
    };
    let check_n = adv_check.min(test_set.labels.len());
    let check_x = test_set.images.slice(ndarray::s![..check_n, .., .., ..]).to_owned();
    let check_y = test_set.labels[..check_n].to_vec();
    let mut best: Option<(f32, usize, Model)> = None;
    let mut check_rng = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(cfg.seed ^ 0x5eed);
    let report = train_with(
        &mut model,
        train_set.images.view(),
        &train_set.labels,
        &cfg,
        &mut hook,
        &mut |m, e| {
            if check_n > 0 {
                let method = AdvMethod::Pgd {
                    steps: 10,
                    alpha: 2.5 * adv_eta / 10.0,
                };
                let adv = crate::train::adversarial::craft(m, &check_x, &check_y, method, adv_eta, &mut check_rng);
                let robust = crate::train::accuracy(m, adv.view(), &check_y);
                let clean = crate::train::accuracy(m, check_x.view(), &check_y);
                eprintln!(
                    "{name}: epoch {} check on {check_n}: clean {clean:.4}  PGD-10 η={adv_eta} {robust:.4}",
                    e.epoch
                );
                if best.as_ref().is_none_or(|b| robust >= b.0) {
                    best = Some((robust, e.epoch, m.clone()));
                }
            }
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
    let kept_epoch = match best {
        Some((_, epoch, m)) => {
            model = m;
            Some(epoch)
        }
        None => None,
    };
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
        "adversarial": adversarial_record,
        "early_stopping": { "check_images": check_n, "kept_epoch": kept_epoch },
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
