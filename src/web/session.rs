//! The page's engine: loaded models, and the calls the worker makes on them.

use std::collections::HashMap;

use js_sys::Float32Array;
use ndarray::ArrayView4;
use wasm_bindgen::prelude::*;

use super::dto::JsObject;
use super::dto::{ModelInfo, Prediction};
use super::errors::{to_js, IntoJs};
use crate::data::{preprocess_rgba, Invert, Options};
use crate::model_file::{self, ModelMeta};
use crate::nn::{self, Model};
use crate::{Error, Result};

struct Loaded {
    model: Model,
    meta: ModelMeta,
    untrained: bool,
}

/// One session per worker: models are loaded once and kept by id.
#[wasm_bindgen]
#[derive(Default)]
pub struct Session {
    models: HashMap<String, Loaded>,
}

fn to_value<T: serde::Serialize>(v: &T) -> std::result::Result<JsValue, JsError> {
    serde_wasm_bindgen::to_value(v).map_err(|e| JsError::new(&format!("error.internal: {e}")))
}

impl Session {
    fn get(&self, id: &str) -> Result<&Loaded> {
        self.models
            .get(id)
            .ok_or_else(|| Error::param("model", format!("no model `{id}` is loaded")))
    }

    fn info(id: &str, l: &Loaded) -> ModelInfo {
        ModelInfo {
            id: id.to_string(),
            name: l.meta.name.clone(),
            dataset: l.meta.dataset.clone(),
            class_names: l.meta.class_names.clone(),
            input_shape: l.model.input_shape(),
            parameters: l.model.params().iter().map(|p| p.data.len()).sum(),
            flops: l.model.flops_per_image(),
            untrained: l.untrained,
        }
    }
}

/// Checks a flat pixel buffer against a model's input shape and views it as `[1, C, H, W]`.
pub(crate) fn image_view<'a>(model: &Model, pixels: &'a [f32]) -> Result<ArrayView4<'a, f32>> {
    let [c, h, w] = model.input_shape();
    if pixels.len() != c * h * w {
        return Err(Error::Shape(format!(
            "the image has {} values, the model expects {c}×{h}×{w}",
            pixels.len()
        )));
    }
    if let Some(bad) = pixels.iter().find(|p| !p.is_finite() || **p < 0.0 || **p > 1.0) {
        return Err(Error::param("image", format!("pixels must lie in [0, 1], found {bad}")));
    }
    ArrayView4::from_shape((1, c, h, w), pixels).map_err(|e| Error::Shape(e.to_string()))
}

#[wasm_bindgen]
impl Session {
    #[wasm_bindgen(constructor)]
    pub fn new() -> Session {
        Session::default()
    }

    /// Parses and validates a safetensors weight file and keeps it under `id`. Returns its [`ModelInfo`].
    #[wasm_bindgen(js_name = loadModel)]
    pub fn load_model(&mut self, id: &str, bytes: &[u8]) -> std::result::Result<JsValue, JsError> {
        let (model, meta) = model_file::load(bytes).js()?;
        let loaded = Loaded {
            model,
            meta,
            untrained: false,
        };
        let info = Self::info(id, &loaded);
        self.models.insert(id.to_string(), loaded);
        to_value(&info)
    }

    /// A seeded, untrained linear model: lets the page work before any weights are shipped or loaded.
    #[wasm_bindgen(js_name = loadPlaceholder)]
    pub fn load_placeholder(&mut self, id: &str, seed: u64) -> std::result::Result<JsValue, JsError> {
        let spec = nn::architecture("linear").ok_or_else(|| to_js(Error::param("arch", "linear")))?;
        let model = Model::init(&spec, [1, 28, 28], seed).js()?;
        let meta = ModelMeta {
            name: "placeholder (untrained)".into(),
            dataset: "mnist".into(),
            class_names: (0..10).map(|d| d.to_string()).collect(),
            input_shape: [1, 28, 28],
            architecture: spec,
            training: serde_json::json!({ "untrained": true, "seed": seed }),
            metrics: serde_json::json!({}),
        };
        let loaded = Loaded {
            model,
            meta,
            untrained: true,
        };
        let info = Self::info(id, &loaded);
        self.models.insert(id.to_string(), loaded);
        to_value(&info)
    }

    /// Class probabilities of one image (`C·H·W` values in `[0, 1]`, row-major).
    pub fn predict(&self, id: &str, pixels: &[f32]) -> std::result::Result<JsValue, JsError> {
        let l = self.get(id).js()?;
        let x = image_view(&l.model, pixels).js()?;
        let probs = l.model.probabilities(x);
        to_value(&Prediction::from_probs(probs.row(0).to_vec()))
    }

    /// The MNIST recipe on an RGBA buffer from a canvas: `{pixels: Float32Array(784), inverted, empty}`.
    /// `invert` is `auto` (dark-on-light photos are inverted), `yes` or `no`.
    pub fn preprocess(
        &self,
        rgba: &[u8],
        width: u32,
        height: u32,
        invert: &str,
    ) -> std::result::Result<JsValue, JsError> {
        let invert: Invert = invert.parse().js()?;
        let pre = preprocess_rgba(rgba, width, height, &Options { invert }).js()?;
        Ok(JsObject::new()
            .set("pixels", Float32Array::from(&pre.pixels[..]))
            .set("inverted", pre.inverted)
            .set("empty", pre.empty)
            .into())
    }

    /// Drops a model.
    #[wasm_bindgen(js_name = unloadModel)]
    pub fn unload_model(&mut self, id: &str) {
        self.models.remove(id);
    }
}
