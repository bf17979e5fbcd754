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

/// True for a model whose metadata asks for the ImageNet photo recipe (CONTRACTS.md §C): `[3, 224, 224]` inputs.
pub fn is_photo_model(meta: &ModelMeta) -> bool {
    meta.preprocess == "imagenet"
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
    let (shape, pixels) = if is_photo_model(meta) {
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
            if is_photo_model(meta) { "imagenet" } else { "mnist" },
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

/// The class group of `class` by the metadata's `class_groups` (`"other"` when it is in none), or `None` for a
/// model without groups.
pub fn group_of(meta: &ModelMeta, class: usize) -> Option<String> {
    if meta.class_groups.is_empty() {
        return None;
    }
    Some(
        meta.class_groups
            .iter()
            .find(|g| g.classes.contains(&class))
            .map_or_else(|| OTHER_GROUP.to_string(), |g| g.name.clone()),
    )
}

/// The group named for every class outside the metadata's `class_groups`.
pub const OTHER_GROUP: &str = "other";

/// The probability of each class group (sums of the softmax), `"other"` last, or empty for a model without groups.
pub fn group_probabilities(meta: &ModelMeta, probs: &[f32]) -> Vec<(String, f32)> {
    if meta.class_groups.is_empty() {
        return Vec::new();
    }
    let mut out: Vec<(String, f32)> = meta
        .class_groups
        .iter()
        .map(|g| (g.name.clone(), g.classes.iter().filter_map(|&c| probs.get(c)).sum()))
        .collect();
    let grouped: f32 = out.iter().map(|(_, p)| p).sum();
    out.push((OTHER_GROUP.to_string(), (1.0 - grouped).max(0.0)));
    out
}

/// The default flip-η grid for a model: the page slider's (step 0.001 up to 0.5) for 28×28 digits; for photos,
/// where a flip is a fraction of one grey level, step 0.0001 (1/39 of a grey level) up to 4/255 (157 points, at
/// most three batched forward passes of 64; `--max-eta` searches further).
pub fn flip_grid(model: &Model) -> (f32, f32) {
    if model.input_shape() == [1, MNIST_SIDE, MNIST_SIDE] {
        (crate::attacks::FLIP_STEP, 0.5)
    } else {
        (PHOTO_FLIP_STEP, 4.0 / 255.0)
    }
}

/// The flip-η grid step on photos.
pub const PHOTO_FLIP_STEP: f32 = 0.0001;
