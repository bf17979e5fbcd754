//! Helpers shared by the commands: loading models and test images, parsing attack settings.

use std::path::Path;

use ndarray::{s, Array4};

use super::Args;
use crate::attacks::{AttackParams, Norm};
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

/// `--eta`, `--norm`, `--seed` and `--params` (a JSON object of further attack fields) as validated params.
pub fn attack_params(args: &Args) -> Result<AttackParams> {
    let mut p = match args.str("params") {
        Some(json) => AttackParams::from_json(json)?,
        None => AttackParams::default(),
    };
    if let Some(norm) = args.str("norm") {
        p.norm = match norm {
            "linf" => Norm::Linf,
            "l2" => Norm::L2,
            other => return Err(Error::param("norm", format!("must be linf or l2, got `{other}`"))),
        };
    }
    p.eta = args
        .get::<f32>("eta")?
        .ok_or_else(|| Error::param("eta", "is required"))?;
    if let Some(seed) = args.get::<u64>("seed")? {
        p.seed = seed;
    }
    p.validate()?;
    Ok(p)
}
