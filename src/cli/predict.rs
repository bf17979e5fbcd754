//! `advlab predict`: the model's top-k classes for one PNG or JPEG (EXIF orientation honoured), through the model's
//! own preprocessing recipe, and for a model with class groups (the photo model: dog / pig / other) the group of
//! the top class and every group's probability (sums of the softmax).

use serde_json::{json, Map, Value};

use super::common::{load_image, load_model};
use super::{jf, print_json, Args};
use crate::{Error, Result};

pub fn run(argv: &[String]) -> Result<()> {
    let args = Args::parse(argv, &["json"])?;
    let path = args.required("model")?.to_string();
    let image = args.required("image")?.to_string();
    let top: usize = args.get_or("top", 5)?;
    let json_out = args.flag("json");
    args.finish()?;
    if top == 0 {
        return Err(Error::param("top", "must be at least 1"));
    }

    let (model, meta) = load_model(&path)?;
    let x = load_image(&image, &model, &meta)?;
    let probs = model.probabilities(x.view());
    let probs = probs.row(0).to_vec();
    if probs.iter().any(|p| !p.is_finite()) {
        return Err(Error::ModelFile(format!(
            "{path}: the model's output on {image} is not finite"
        )));
    }
    let mut order: Vec<usize> = (0..probs.len()).collect();
    // Highest probability first; ties keep the lower class index first.
    order.sort_by(|&a, &b| probs[b].total_cmp(&probs[a]).then(a.cmp(&b)));
    let top_list: Vec<Value> = order
        .iter()
        .take(top)
        .map(|&c| json!({"class": c, "name": meta.class_names.get(c), "probability": jf(probs[c])}))
        .collect();
    let best = order[0];
    let groups: Map<String, Value> = meta
        .group_probabilities(&probs)
        .into_iter()
        .map(|(g, p)| (g, json!(jf(p))))
        .collect();
    let doc = json!({
        "model": meta.name,
        "image": image,
        "top": top_list,
        "group": meta.group_of(best),
        "groups": if groups.is_empty() { Value::Null } else { Value::Object(groups) },
    });
    if json_out {
        return print_json(&doc);
    }
    for t in doc["top"].as_array().expect("array") {
        println!(
            "{:>5}  {:>7.3}  {}",
            t["class"],
            t["probability"].as_f64().unwrap_or(f64::NAN),
            t["name"].as_str().unwrap_or("")
        );
    }
    if let Some(g) = doc["group"].as_str() {
        println!("group: {g}");
    }
    Ok(())
}
