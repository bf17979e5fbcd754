//! Helpers shared by the commands: loading models and test images, parsing attack settings.

use std::path::Path;

use ndarray::{s, Array4};
use serde_json::{json, Map, Value};

use super::Args;
use crate::attacks::AttackParams;
use crate::data::{load, DatasetName, Split};
use crate::model_file::{load_file, ModelMeta};
use crate::nn::Model;
use crate::{Error, Result};

/// Loads a weight file; the error names the path.
pub fn load_model(path: &str) -> Result<(Model, ModelMeta)> {
    if !Path::new(path).exists() {
        return Err(Error::Io(format!("no model file at {path}")));
    }
    load_file(path).map_err(|e| match e {
        Error::ModelFile(m) => Error::ModelFile(format!("{path}: {m}")),
        other => other,
    })
}

/// The dataset a model was trained on, from its metadata.
pub fn dataset_of(meta: &ModelMeta) -> Result<DatasetName> {
    meta.dataset
        .parse()
        .map_err(|_| Error::ModelFile(format!("unknown dataset `{}` in metadata", meta.dataset)))
}

/// The first `n` test images and labels of `dataset`.
pub fn test_split(dataset: DatasetName, n: usize) -> Result<(Array4<f32>, Vec<usize>)> {
    if n == 0 {
        return Err(Error::param("n", "must be at least 1"));
    }
    let d = load(dataset, Split::Test, Some(n))?;
    Ok((d.images, d.labels))
}

/// Test image `index` of `dataset` as `[1, 1, 28, 28]`, with its label.
pub fn test_sample(dataset: DatasetName, index: usize) -> Result<(Array4<f32>, usize)> {
    if index >= 10_000 {
        return Err(Error::param(
            "sample",
            format!("the test split has 10000 images, got index {index}"),
        ));
    }
    let d = load(dataset, Split::Test, Some(index + 1))?;
    Ok((
        d.images.slice(s![index..index + 1, .., .., ..]).to_owned(),
        d.labels[index],
    ))
}

/// `--eta`, `--norm`, `--seed` and `--params` (a JSON object of further attack fields) as the overrides object of
/// [`AttackParams::resolve`]; the flags win over the same field inside `--params`. Resolve it once the model (and so
/// the input shape) is known: [`resolve_params`].
pub fn attack_overrides(args: &Args) -> Result<Value> {
    let mut o = match args.str("params") {
        Some(json) => match serde_json::from_str::<Value>(json) {
            Ok(Value::Object(o)) => o,
            Ok(_) => return Err(Error::param("params", "must be a JSON object such as {\"eta\": 0.1}")),
            Err(e) => return Err(Error::param("params", e.to_string())),
        },
        None => Map::new(),
    };
    if let Some(norm) = args.str("norm") {
        if !matches!(norm, "linf" | "l2") {
            return Err(Error::param("norm", format!("must be linf or l2, got `{norm}`")));
        }
        o.insert("norm".into(), json!(norm));
    }
    let eta = args
        .get::<f32>("eta")?
        .ok_or_else(|| Error::param("eta", "is required"))?;
    if !eta.is_finite() {
        return Err(Error::param("eta", format!("must be a finite number, got {eta}")));
    }
    o.insert("eta".into(), json!(eta));
    if let Some(seed) = args.get::<u64>("seed")? {
        o.insert("seed".into(), json!(seed));
    }
    Ok(Value::Object(o))
}

/// [`AttackParams::resolve`] for attack `name` on `model`'s input shape: the page's rules (norm-aware defaults, the
/// shape's η caps), so `advlab attack --norm l2` and the page compute the same parameters.
pub fn resolve_params(name: &str, model: &Model, overrides: &Value) -> Result<AttackParams> {
    AttackParams::resolve(name, model.input_shape(), overrides)
}
