//! Helpers shared by the commands: loading models and test images, parsing attack settings.

use std::path::Path;

use ndarray::{s, Array4};
use serde_json::{json, Map, Value};

use super::Args;
use crate::attacks::AttackParams;
use crate::data::image_io::{read_image, write_png_gray, write_png_rgba};
use crate::data::photo::SIDE as PHOTO_SIDE;
use crate::data::preprocess::SIDE as MNIST_SIDE;
use crate::data::{load, preprocess_photo, preprocess_rgba, DatasetName, Options, Split};
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

/// The test digits as `model` reads them: box-averaged to its `r×r` input when that is smaller than the dataset's
/// 28×28 (the linear lesson's models, www/models/lessons/mnist-linear-{7,14}, trained by `advlab train --resolution
/// r` on the same averaging), else unchanged.
fn at_input_size(model: &Model, images: Array4<f32>) -> Result<Array4<f32>> {
    let [_, r, _] = model.input_shape();
    if r == images.shape()[2] {
        Ok(images)
    } else {
        crate::lessons::downsample(images.view(), r)
    }
}

/// The first `n` test images of `dataset` as `model` reads them ([`at_input_size`]), and their labels.
pub fn test_split(model: &Model, dataset: DatasetName, n: usize) -> Result<(Array4<f32>, Vec<usize>)> {
    if n == 0 {
        return Err(Error::param("n", "must be at least 1"));
    }
    let d = load(dataset, Split::Test, Some(n))?;
    Ok((at_input_size(model, d.images)?, d.labels))
}

/// Test image `index` of `dataset` as one image of `model`'s input ([`at_input_size`]), with its label.
pub fn test_sample(model: &Model, dataset: DatasetName, index: usize) -> Result<(Array4<f32>, usize)> {
    if index >= 10_000 {
        return Err(Error::param(
            "sample",
            format!("the test split has 10000 images, got index {index}"),
        ));
    }
    let d = load(dataset, Split::Test, Some(index + 1))?;
    Ok((
        at_input_size(model, d.images.slice(s![index..index + 1, .., .., ..]).to_owned())?,
        d.labels[index],
    ))
}

/// `--eta`, `--norm`, `--seed` and `--params` (a JSON object of further attack fields) as the overrides object of
/// [`AttackParams::resolve`]; the flags win over the same field inside `--params`. Resolve it once the model (and so
/// the input shape) is known: [`resolve_params`].
pub fn attack_overrides(args: &Args) -> Result<Value> {
    param_overrides(args, true)
}

/// The overrides object of `--params` (a JSON object), `--norm`, `--eta` and `--seed`, the flags winning over the
/// same field inside `--params`; `--eta` must be given when `eta_required` (an attack), else it may be left to the
/// dataset's ε (`eval --attack autoattack`).
pub fn param_overrides(args: &Args, eta_required: bool) -> Result<Value> {
    let mut o = match args.str("params") {
        Some(json) => match serde_json::from_str::<Value>(json) {
            Ok(Value::Object(o)) => o,
            Ok(_) => return Err(Error::param("params", "must be a JSON object such as {\"steps\": 40}")),
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
    match args.get::<f32>("eta")? {
        Some(eta) if !eta.is_finite() => {
            return Err(Error::param("eta", format!("must be a finite number, got {eta}")))
        }
        Some(eta) => {
            o.insert("eta".into(), json!(eta));
        }
        None if eta_required => return Err(Error::param("eta", "is required")),
        None => {}
    }
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

/// Reads the PNG or JPEG at `path` (EXIF orientation honoured) and turns it into the model's input `[1, C, H, W]`
/// by the model's preprocessing recipe: `imagenet` (short side 256, centre crop 224, `/255`, NCHW) or `mnist`
/// (grey, polarity, crop, fit 20×20, centre of mass). The errors name the file: a bad photo is
/// [`Error::Image`], a recipe whose output does not fit the model's input is [`Error::Shape`].
pub fn load_image(path: &str, model: &Model, meta: &ModelMeta) -> Result<Array4<f32>> {
    let bytes = std::fs::read(path).map_err(|e| Error::Io(format!("{path}: {e}")))?;
    let named = |e: Error| match e {
        Error::Image(m) => Error::Image(format!("{path}: {m}")),
        other => other,
    };
    let (w, h, rgba) = read_image(&bytes).map_err(named)?;
    let (shape, pixels) = if meta.is_photo() {
        let x = preprocess_photo(w, h, &rgba).map_err(named)?;
        ((1, 3, PHOTO_SIDE, PHOTO_SIDE), x)
    } else {
        let pre = preprocess_rgba(&rgba, w, h, &Options::default()).map_err(named)?;
        if pre.empty {
            return Err(Error::Image(format!("{path}: no ink found: the image is blank")));
        }
        ((1, 1, MNIST_SIDE, MNIST_SIDE), pre.pixels)
    };
    if [shape.1, shape.2, shape.3] != model.input_shape() {
        return Err(Error::Shape(format!(
            "{path}: the `{}` recipe gives {:?} images, the model expects {:?}",
            if meta.is_photo() { "imagenet" } else { "mnist" },
            [shape.1, shape.2, shape.3],
            model.input_shape()
        )));
    }
    Array4::from_shape_vec(shape, pixels).map_err(|e| Error::Shape(e.to_string()))
}

/// Writes the image `x` (`[1, C, H, W]` in `[0, 1]`, C = 1 grey or 3 RGB) as a PNG, rounding to 8 bits.
pub fn write_image(path: &str, x: ndarray::ArrayView4<f32>) -> Result<()> {
    let (_, c, h, w) = x.dim();
    let q = |v: f32| (v * 255.0).round().clamp(0.0, 255.0) as u8;
    let png = match c {
        1 => write_png_gray(w as u32, h as u32, &x.iter().map(|&v| q(v)).collect::<Vec<_>>())?,
        3 => {
            let mut rgba = Vec::with_capacity(w * h * 4);
            for y in 0..h {
                for i in 0..w {
                    rgba.extend_from_slice(&[q(x[[0, 0, y, i]]), q(x[[0, 1, y, i]]), q(x[[0, 2, y, i]]), 255]);
                }
            }
            write_png_rgba(w as u32, h as u32, &rgba)?
        }
        _ => return Err(Error::Shape(format!("cannot write a {c}-channel image as PNG"))),
    };
    std::fs::write(path, png).map_err(|e| Error::Io(format!("{path}: {e}")))
}
