//! `advlab eval` (clean accuracy, optionally under an attack) and `advlab transfer` (craft on A, test on B), with
//! the evaluation protocol of DESIGN.md: the first `n` test images, per-image seeds derived from `--seed`.

use std::time::Instant;

use serde_json::{json, Value};

use super::common::{attack_overrides, dataset_of, load_model, resolve_params, test_split};
use super::{jf, print_json, Args};
use crate::attacks::{by_name, evaluate, transfer};
use crate::train;
use crate::{Error, Result};

pub fn run(argv: &[String]) -> Result<()> {
    let args = Args::parse(argv, &["json", "targeted"])?;
    let path = args.required("model")?.to_string();
    let n: usize = args.get_or("n", 10_000)?;
    let attack = args.str("attack").map(str::to_string);
    let targeted = args.flag("targeted");
    let json_out = args.flag("json");
    let overrides = match attack {
        Some(_) => Some(attack_overrides(&args)?),
        None => None,
    };
    args.finish()?;
    if attack.is_none() && targeted {
        return Err(Error::param("targeted", "needs --attack"));
    }

    let started = Instant::now();
    let (model, meta) = load_model(&path)?;
    let params = match (&attack, &overrides) {
        (Some(name), Some(o)) => Some(resolve_params(name, &model, o)?),
        _ => None,
    };
    let (images, labels) = test_split(dataset_of(&meta)?, n)?;
    let n = labels.len();
    let clean = train::evaluate(&model, images.view(), &labels)?;
    let mut out = json!({
        "model": meta.name,
        "dataset": meta.dataset,
        "n": n,
        "clean_accuracy": jf(clean.accuracy),
    });
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
    let (images, labels) = test_split(dataset_of(&smeta)?, n)?;
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

fn report(out: &Value, json_out: bool) -> Result<()> {
    if json_out {
        return print_json(out);
    }
    for (k, v) in out.as_object().expect("object") {
        println!("{k:>28}  {v}");
    }
    Ok(())
}
