//! `advlab attack`: one image (a PNG through the preprocessing recipe, or a test-set sample), one attack.
//!
//! The untargeted goal is to change the model's *clean prediction* (for a sample that is usually its label): this
//! is what the page does with a drawing, which has no label. The parameters are
//! [`crate::attacks::AttackParams::resolve`]'s, as on the page. For a direction attack (FGSM,
//! [`AttackKind::Direction`]) the JSON also gives `flip_eta`, the smallest η on the grid k·0.001 ≤ `--max-eta`
//! (default [`crate::attacks::flip_search_max`]: 0.5 under L∞, 5 under L2, the page slider's end) at which the prediction flips;
//! the page's `flip-eta` shows the same number.

use serde_json::json;

use super::common::{attack_overrides, dataset_of, load_model, resolve_params, test_sample};
use super::{jf, jfs, print_json, Args};
use crate::attacks::{by_name, fgsm_direction, flip_eta, AttackKind, EtaCaps, Goal, FLIP_STEP};
use crate::data::image_io::{read_png, write_png_gray};
use crate::data::{preprocess_rgba, Options};
use crate::{Error, Result};
use ndarray::Array4;
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
    let max_eta = max_eta.unwrap_or_else(|| crate::attacks::flip_search_max(params.norm, shape));
    crate::error::check_range("max-eta", max_eta, 0.0, EtaCaps::for_shape(shape).cap(params.norm))?;
    let (x, label) = match (image, sample) {
        (Some(_), Some(_)) => return Err(Error::param("image", "give either --image or --sample, not both")),
        (None, None) => return Err(Error::param("image", "give --image IN.png or --sample INDEX")),
        (Some(png), None) => {
            let bytes = std::fs::read(&png).map_err(|e| Error::Io(format!("{png}: {e}")))?;
            let (w, h, rgba) = read_png(&bytes)?;
            let pre = preprocess_rgba(&rgba, w, h, &Options::default())?;
            if pre.empty {
                return Err(Error::Image(format!("{png}: no ink found: the image is blank")));
            }
            (
                Array4::from_shape_vec((1, 1, 28, 28), pre.pixels).map_err(|e| Error::Shape(e.to_string()))?,
                None,
            )
        }
        (None, Some(i)) => {
            let (x, y) = test_sample(dataset_of(&meta)?, i)?;
            (x, Some(y))
        }
    };
    if model.input_shape() != [1, 28, 28] {
        return Err(Error::Shape(format!(
            "the model expects {:?} images",
            model.input_shape()
        )));
    }
    let clean_pred = model.predict(x.view())[0];
    let goal = Goal::new(clean_pred, target);
    let attack = by_name(&name)?;
    let mut rng = ChaCha8Rng::seed_from_u64(params.seed);
    let r = attack.run(&model, x.view(), goal, &params, &mut rng, &mut |_| true)?;
    let flip = if attack.kind() == AttackKind::Direction {
        let s = fgsm_direction(&model, x.view(), goal, params.norm)?;
        flip_eta(&model, x.view(), goal, s.view(), max_eta, FLIP_STEP)?
    } else {
        None
    };
    if let Some(out) = &out {
        let gray: Vec<u8> = r
            .adversarial
            .iter()
            .map(|v| (v * 255.0).round().clamp(0.0, 255.0) as u8)
            .collect();
        std::fs::write(out, write_png_gray(28, 28, &gray)?).map_err(|e| Error::Io(format!("{out}: {e}")))?;
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
