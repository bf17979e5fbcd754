//! `advlab attack`: one image (a PNG or JPEG through the model's preprocessing recipe: MNIST's for digits, the
//! ImageNet crop for photos), or a test-set sample, and one attack.
//!
//! The untargeted goal is to change the model's *clean prediction* (for a sample that is usually its label): this
//! is what the page does with a drawing, which has no label. The parameters are
//! [`crate::attacks::AttackParams::resolve`]'s, as on the page. For a direction attack (FGSM,
//! [`AttackKind::Direction`]) the JSON also gives `flip_eta`, the smallest η on the grid k·0.001 ≤ `--max-eta`
//! (default [`crate::attacks::flip_search_max`], the page slider's end: digits 0.5 under L∞ and 5 under L2)
//! at which the prediction flips; the page's `flip-eta` shows the same number. On a photo the grid is
//! k·0.0001 ([`crate::attacks::flip_step`]) up to 16/255; `--out` writes the 224×224 adversarial crop as an
//! RGB PNG.

use serde_json::json;

use super::common::{attack_overrides, dataset_of, load_image, load_model, resolve_params, test_sample, write_image};
use super::{jf, jfs, print_json, Args};
use crate::attacks::{by_name, fgsm_direction, flip_eta, flip_search_max, flip_step, AttackKind, EtaCaps, Goal};
use crate::{Error, Result};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

pub fn run(argv: &[String]) -> Result<()> {
    let args = Args::parse(argv, &["json"])?;
    let path = args.required("model")?.to_string();
    let name = args.required("attack")?.to_string();
    let image = args.str("image").map(str::to_string);
    let sample: Option<usize> = args.get("sample")?;
    let target: Option<usize> = args.get("target")?;
    let out = args.str("out").map(str::to_string);
    let max_eta: Option<f32> = args.get("max-eta")?;
    let json_out = args.flag("json");
    let overrides = attack_overrides(&args)?;
    args.finish()?;
    let (model, meta) = load_model(&path)?;
    let params = resolve_params(&name, &model, &overrides)?;
    // The default follows the page's slider in the resolved norm; an explicit value may go up to the norm's cap.
    let shape = model.input_shape();
    let max_eta = max_eta.unwrap_or_else(|| flip_search_max(params.norm, shape));
    crate::error::check_range("max-eta", max_eta, 0.0, EtaCaps::for_shape(shape).cap(params.norm))?;
    let (x, label) = match (image, sample) {
        (Some(_), Some(_)) => return Err(Error::param("image", "give either --image or --sample, not both")),
        (None, None) => return Err(Error::param("image", "give --image IN.png|IN.jpg or --sample INDEX")),
        (Some(file), None) => (load_image(&file, &model, &meta)?, None),
        (None, Some(i)) => {
            if meta.is_photo() {
                return Err(Error::param("sample", "a photo model has no test split: give --image"));
            }
            let (x, y) = test_sample(&model, dataset_of(&meta)?, i)?;
            (x, Some(y))
        }
    };
    let clean_pred = model.predict(x.view())[0];
    let goal = Goal::new(clean_pred, target);
    let attack = by_name(&name)?;
    let mut rng = ChaCha8Rng::seed_from_u64(params.seed);
    let r = attack.run(&model, x.view(), goal, &params, &mut rng, &mut |_| true)?;
    let flip = if attack.kind() == AttackKind::Direction {
        let s = fgsm_direction(&model, x.view(), goal, params.norm)?;
        flip_eta(&model, x.view(), goal, s.view(), max_eta, flip_step(shape))?
    } else {
        None
    };
    if let Some(out) = &out {
        write_image(out, r.adversarial.view())?;
    }
    let doc = json!({
        "model": meta.name,
        "attack": name,
        "norm": params.norm.as_str(),
        "eta": jf(params.eta),
        "seed": params.seed,
        "sample": sample,
        "label": label,
        "target": target,
        "pred_before": r.pred_before,
        "pred_after": r.pred_after,
        "confidence_before": jf(r.probs_before[r.pred_before]),
        "confidence_after": jf(r.probs_after[r.pred_after]),
        "probs_before": jfs(&r.probs_before),
        "probs_after": jfs(&r.probs_after),
        "name_before": meta.class_names.get(r.pred_before),
        "name_after": meta.class_names.get(r.pred_after),
        "group_before": meta.group_of(r.pred_before),
        "group_after": meta.group_of(r.pred_after),
        "flipped": r.flipped,
        "linf": jf(r.linf),
        "l2": jf(r.l2),
        "l0": r.l0,
        "queries": r.queries,
        "steps": r.steps,
        "flip_eta": flip.map(jf),
        "out": out,
        // Every parameter the attack ran with, as AttackParams::resolve made them (the page asks the same).
        "params": serde_json::to_value(&params).map_err(|e| Error::param("params", e.to_string()))?,
    });
    if json_out {
        print_json(&doc)
    } else {
        let names = &meta.class_names;
        println!(
            "{} → {} ({}) at η = {}{}",
            names[r.pred_before],
            names[r.pred_after],
            if r.flipped { "fooled" } else { "not fooled" },
            params.eta,
            flip.map(|f| format!("; the prediction flips from η = {f}"))
                .unwrap_or_default()
        );
        Ok(())
    }
}
