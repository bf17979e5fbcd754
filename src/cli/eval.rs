//! `advlab eval` (clean accuracy, optionally under an attack) and `advlab transfer` (craft on A, test on B), with
//! the evaluation protocol of DESIGN.md: the first `n` test images, per-image seeds derived from `--seed`.
//!
//! `eval --attack autoattack [--eta E] [--norm linf|l2] [--seed S] [--params '{"steps":…,"targets":…,
//! "square_queries":…}']` runs AutoAttack's standard sequence ([`crate::attacks::autoattack`]) on every image,
//! each stage on the points still robust, and prints the robust accuracy after each stage and the flags; `--json`
//! keeps `adversarial_accuracy` (AutoAttack's) and adds `fgsm_accuracy`, `stages`, per-image `images` and `flags`.
//! ε defaults to the dataset's (MNIST 0.3, Fashion-MNIST 0.1).

use std::time::Instant;

use serde_json::{json, Value};

use super::common::{
    attack_overrides, dataset_of, load_image, load_model, param_overrides, resolve_params, test_split,
};
use super::{jf, print_json, Args};
use crate::attacks::autoattack::{audit_all, summarize, AuditParams, AuditSummary};
use crate::attacks::{by_name, evaluate, transfer};
use crate::model_file::ModelMeta;
use crate::nn::Model;
use crate::train;
use crate::{Error, Result};

pub fn run(argv: &[String]) -> Result<()> {
    let args = Args::parse(argv, &["json", "targeted"])?;
    let path = args.required("model")?.to_string();
    let n: usize = args.get_or("n", 10_000)?;
    let images_dir = args.str("images").map(str::to_string);
    let labels_csv = args.str("labels").map(str::to_string);
    let attack = args.str("attack").map(str::to_string);
    let targeted = args.flag("targeted");
    let json_out = args.flag("json");
    let autoattack = attack.as_deref() == Some(AUTOATTACK);
    let overrides = match attack {
        // The budgets `steps`, `targets`, `square_queries` in --params; ε may be left to the dataset's.
        Some(_) if autoattack => Some(param_overrides(&args, false)?),
        Some(_) => Some(attack_overrides(&args)?),
        None => None,
    };
    args.finish()?;
    if attack.is_none() && targeted {
        return Err(Error::param("targeted", "needs --attack"));
    }
    if autoattack && targeted {
        return Err(Error::param(
            "targeted",
            "AutoAttack is untargeted (APGD-T aims at 9 classes in turn to misclassify)",
        ));
    }

    let started = Instant::now();
    let (model, meta) = load_model(&path)?;
    let audit = match &overrides {
        Some(o) if autoattack => Some(AuditParams::resolve(model.input_shape(), &meta.dataset, o)?),
        _ => None,
    };
    let params = match (&attack, &overrides) {
        (Some(name), Some(o)) if !autoattack => Some(resolve_params(name, &model, o)?),
        _ => None,
    };
    let (images, labels, files) = match &images_dir {
        Some(dir) => {
            let (x, y, f) = labelled_images(dir, labels_csv.as_deref(), n, &model, &meta)?;
            (x, y, Some(f))
        }
        None if labels_csv.is_some() => return Err(Error::param("labels", "needs --images DIR")),
        None if meta.is_photo() => {
            return Err(Error::param(
                "images",
                "a photo model has no test split: give --images DIR",
            ))
        }
        None => {
            let (x, y) = test_split(&model, dataset_of(&meta)?, n)?;
            (x, y, None)
        }
    };
    let n = labels.len();
    let clean = train::evaluate(&model, images.view(), &labels)?;
    let mut out = json!({
        "model": meta.name,
        "dataset": meta.dataset,
        "n": n,
        "clean_accuracy": jf(clean.accuracy),
    });
    if let (Some(dir), Some(files)) = (&images_dir, &files) {
        let preds = model.predict(images.view());
        let o = out.as_object_mut().expect("object");
        o.insert("images".into(), json!(dir));
        o.insert(
            "per_image".into(),
            json!(files
                .iter()
                .zip(&labels)
                .zip(&preds)
                .map(|((f, &y), &p)| json!({"file": f, "label": y, "pred": p, "correct": y == p}))
                .collect::<Vec<_>>()),
        );
    }
    if let Some(p) = &audit {
        let outcomes = audit_all(&model, images.view(), &labels, p)?;
        let summary = summarize(&outcomes);
        let o = out.as_object_mut().expect("object");
        // `images` is the per-image list here; the folder given by --images moves aside.
        if let Some(dir) = o.remove("images") {
            o.insert("images_dir".into(), dir);
        }
        o.insert("attack".into(), json!(AUTOATTACK));
        o.insert("norm".into(), json!(p.norm.as_str()));
        o.insert("eta".into(), json!(jf(p.eta)));
        o.insert("seed".into(), json!(p.seed));
        o.insert("adversarial_accuracy".into(), json!(summary.autoattack_accuracy));
        o.insert("fgsm_accuracy".into(), json!(summary.fgsm_accuracy));
        o.insert("queries_mean".into(), json!(summary.queries_mean));
        o.insert(
            "stages".into(),
            json!(summary
                .stages
                .iter()
                .map(|s| json!({
                    "name": s.name,
                    "robust_accuracy": s.robust_accuracy,
                    "attacked": s.attacked,
                    "queries": s.queries,
                    "queries_mean": s.queries_mean,
                }))
                .collect::<Vec<_>>()),
        );
        o.insert(
            "images".into(),
            json!(outcomes
                .iter()
                .map(
                    |r| json!({"label": r.label, "clean_class": r.clean_class, "broken_by": r.broken_by,
                                 "fgsm_robust": r.fgsm_robust, "queries": r.queries})
                )
                .collect::<Vec<_>>()),
        );
        o.insert("flags".into(), flags_json(&summary));
        o.insert("seconds".into(), json!(started.elapsed().as_secs_f64()));
        if json_out {
            return print_json(&out);
        }
        print_audit(&out, &summary);
        return Ok(());
    }
    if let (Some(name), Some(params)) = (attack, params) {
        let attack = by_name(&name)?;
        let r = evaluate(
            &model,
            images.view(),
            &labels,
            attack.as_ref(),
            &params,
            targeted,
            params.seed,
        )?;
        let o = out.as_object_mut().expect("object");
        o.insert("attack".into(), json!(name));
        o.insert("norm".into(), json!(params.norm.as_str()));
        o.insert("eta".into(), json!(jf(params.eta)));
        o.insert("targeted".into(), json!(targeted));
        o.insert("seed".into(), json!(params.seed));
        o.insert("adversarial_accuracy".into(), json!(jf(r.adversarial_accuracy)));
        o.insert("success_rate".into(), json!(jf(r.success_rate)));
        o.insert("mean_linf".into(), json!(jf(r.mean_linf)));
        o.insert("mean_l2".into(), json!(jf(r.mean_l2)));
        o.insert("mean_l0".into(), json!(jf(r.mean_l0)));
        o.insert("mean_rho".into(), json!(jf(r.mean_rho)));
        o.insert("mean_queries".into(), json!(jf(r.mean_queries)));
        o.insert("attacked".into(), json!(r.attacked));
        o.insert("outcomes".into(), json!(r.outcomes));
    }
    out.as_object_mut()
        .expect("object")
        .insert("seconds".into(), json!(started.elapsed().as_secs_f64()));
    report(&out, json_out)
}

/// `--attack autoattack`: the standard sequence of [`crate::attacks::autoattack`], not an entry of the catalog.
const AUTOATTACK: &str = "autoattack";

/// The flags with their numbers and their explanation (`message`, [`crate::attacks::autoattack::Flag::explain`]), as JSON (an empty list when nothing looks wrong).
fn flags_json(summary: &AuditSummary) -> Value {
    json!(summary
        .flags
        .iter()
        .map(|f| {
            let mut v = serde_json::to_value(f).unwrap_or_else(|_| json!({"key": f.key}));
            v["message"] = json!(f.explain());
            v
        })
        .collect::<Vec<_>>())
}

/// The human report of `eval --attack autoattack`: accuracy after each stage, then the flags in words.
fn print_audit(out: &Value, summary: &AuditSummary) {
    let pct = |v: f64| format!("{:5.1} %", 100.0 * v);
    println!(
        "AutoAttack on {} ({} images, {} ε = {}, seed {})",
        out["model"].as_str().unwrap_or("?"),
        summary.n,
        out["norm"].as_str().unwrap_or("?"),
        out["eta"],
        out["seed"]
    );
    println!("  {:<22} {}", "clean", pct(summary.clean_accuracy));
    println!(
        "  {:<22} {}   (reference row, not part of AutoAttack)",
        "FGSM",
        pct(summary.fgsm_accuracy)
    );
    for s in &summary.stages {
        println!(
            "  {:<22} {}   ({} images attacked, {:.0} queries each)",
            format!("after {}", s.name.name()),
            pct(s.robust_accuracy),
            s.attacked,
            s.queries_mean
        );
    }
    println!("  {:<22} {}", "AutoAttack", pct(summary.autoattack_accuracy));
    if summary.flags.is_empty() {
        println!("flags: none (nothing looks wrong with this evaluation)");
    }
    for f in &summary.flags {
        println!("flag {}: {}", f.key, f.explain());
    }
    println!("{:.1} s", out["seconds"].as_f64().unwrap_or(0.0));
}

pub fn run_transfer(argv: &[String]) -> Result<()> {
    let args = Args::parse(argv, &["json", "targeted"])?;
    let from = args.required("from")?.to_string();
    let to = args.required("to")?.to_string();
    let name = args.required("attack")?.to_string();
    let n: usize = args.get_or("n", 1000)?;
    let targeted = args.flag("targeted");
    let json_out = args.flag("json");
    let overrides = attack_overrides(&args)?;
    args.finish()?;

    let started = Instant::now();
    let (source, smeta) = load_model(&from)?;
    let params = resolve_params(&name, &source, &overrides)?;
    let (target, tmeta) = load_model(&to)?;
    if smeta.dataset != tmeta.dataset {
        return Err(Error::param(
            "to",
            format!(
                "{} is a {} model, {} a {} model",
                from, smeta.dataset, to, tmeta.dataset
            ),
        ));
    }
    let (images, labels) = test_split(&source, dataset_of(&smeta)?, n)?;
    let attack = by_name(&name)?;
    let t = transfer(
        &source,
        &target,
        images.view(),
        &labels,
        attack.as_ref(),
        &params,
        targeted,
        params.seed,
    )?;
    let out = json!({
        "from": smeta.name,
        "to": tmeta.name,
        "dataset": smeta.dataset,
        "attack": name,
        "norm": params.norm.as_str(),
        "eta": jf(params.eta),
        "targeted": targeted,
        "seed": params.seed,
        "n": t.n,
        "source_clean_accuracy": jf(t.source_clean_accuracy),
        "source_adversarial_accuracy": jf(t.source_adversarial_accuracy),
        "source_success_rate": jf(t.source_success_rate),
        "target_clean_accuracy": jf(t.target_clean_accuracy),
        "target_adversarial_accuracy": jf(t.target_adversarial_accuracy),
        "transfer_rate": jf(t.transfer_rate),
        "seconds": started.elapsed().as_secs_f64(),
    });
    report(&out, json_out)
}

/// The label in a file name like foolbox's `imagenet_06_243.jpg`: the number after the last `_` of the stem.
pub fn label_from_name(file: &str) -> Option<usize> {
    let stem = std::path::Path::new(file).file_stem()?.to_str()?;
    stem.rsplit_once('_')?.1.parse().ok()
}

/// `file,label` lines (a first line whose label is not a number is a header); `#` starts a comment line.
fn read_labels_csv(path: &str) -> Result<Vec<(String, usize)>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::Io(format!("{path}: {e}")))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((f, l)) = line.rsplit_once(',') else {
            return Err(Error::param(
                "labels",
                format!("{path} line {}: expected `file,label`", i + 1),
            ));
        };
        match l.trim().parse() {
            Ok(l) => out.push((f.trim().trim_matches('"').to_string(), l)),
            Err(_) if i == 0 => {}
            Err(_) => {
                return Err(Error::param(
                    "labels",
                    format!("{path} line {}: label `{}` is not a class number", i + 1, l.trim()),
                ))
            }
        }
    }
    Ok(out)
}

/// The photos of `dir` (PNG/JPEG, sorted by name, at most `n`) through the model's recipe, stacked, with their
/// labels: from `labels_csv` (or `dir/labels.csv` when present), else from the file names
/// ([`label_from_name`]). A label outside the model's classes, a file without a label or a bad photo is an
/// error naming the file.
fn labelled_images(
    dir: &str,
    labels_csv: Option<&str>,
    n: usize,
    model: &Model,
    meta: &ModelMeta,
) -> Result<(ndarray::Array4<f32>, Vec<usize>, Vec<String>)> {
    if n == 0 {
        return Err(Error::param("n", "must be at least 1"));
    }
    let default_csv = std::path::Path::new(dir).join("labels.csv");
    let csv = match labels_csv {
        Some(p) => Some(p.to_string()),
        None if default_csv.is_file() => Some(default_csv.to_string_lossy().into_owned()),
        None => None,
    };
    let mut entries: Vec<(String, usize)> = match csv {
        Some(csv) => read_labels_csv(&csv)?,
        None => {
            let rd = std::fs::read_dir(dir).map_err(|e| Error::Io(format!("{dir}: {e}")))?;
            let mut v = Vec::new();
            for e in rd {
                let name = e.map_err(|e| Error::Io(format!("{dir}: {e}")))?.file_name();
                let name = name.to_string_lossy().into_owned();
                let lower = name.to_ascii_lowercase();
                if !(lower.ends_with(".jpg") || lower.ends_with(".jpeg") || lower.ends_with(".png")) {
                    continue;
                }
                let label = label_from_name(&name).ok_or_else(|| {
                    Error::param(
                        "images",
                        format!(
                            "{name}: no label in the file name (expected e.g. imagenet_06_243.jpg) and no labels.csv"
                        ),
                    )
                })?;
                v.push((name, label));
            }
            v
        }
    };
    entries.sort();
    entries.truncate(n);
    if entries.is_empty() {
        return Err(Error::param("images", format!("{dir}: no labelled PNG or JPEG photos")));
    }
    let [c, h, w] = model.input_shape();
    let mut x = ndarray::Array4::<f32>::zeros((entries.len(), c, h, w));
    let mut labels = Vec::with_capacity(entries.len());
    for (i, (file, label)) in entries.iter().enumerate() {
        if *label >= model.num_classes() {
            return Err(Error::param(
                "labels",
                format!(
                    "{file}: label {label} is not one of the model's {} classes",
                    model.num_classes()
                ),
            ));
        }
        let path = std::path::Path::new(dir).join(file);
        let xi = load_image(&path.to_string_lossy(), model, meta)?;
        x.slice_mut(ndarray::s![i..i + 1, .., .., ..]).assign(&xi);
        labels.push(*label);
    }
    Ok((x, labels, entries.into_iter().map(|(f, _)| f).collect()))
}

fn report(out: &Value, json_out: bool) -> Result<()> {
    if json_out {
        return print_json(out);
    }
    for (k, v) in out.as_object().expect("object") {
        println!("{k:>28}  {v}");
    }
    Ok(())
}
