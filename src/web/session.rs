//! The page's engine: loaded models, and the calls the worker makes on them.

use std::collections::HashMap;

use js_sys::Float32Array;
use ndarray::ArrayView4;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use wasm_bindgen::prelude::*;

use super::dto::JsObject;
use super::dto::{ModelInfo, Prediction};
use super::errors::{to_js, IntoJs};
use crate::attacks::{
    apply_direction_into, by_name, catalog, fgsm_direction, flip_eta, flip_step, norms, random_direction, AttackParams,
    EtaCaps, Goal, Norm, Progress,
};
use crate::data::{familiar, preprocess_rgba, Invert, Options};
use crate::model_file::{self, ModelMeta};
use crate::nn::{self, Model};
use crate::{Error, Result};

pub(crate) struct Loaded {
    pub(crate) model: Model,
    pub(crate) meta: ModelMeta,
    pub(crate) untrained: bool,
}

/// The cached state of a direction attack: one image, one model, one goal. A slider move only applies it.
struct Direction {
    model: String,
    /// The clean image, flat.
    x: Vec<f32>,
    /// The adversarial direction `s` (FGSM: `±sign ∇ₓJ`, or its L2 normalisation).
    s: Vec<f32>,
    /// A random direction of the same norm (seeded ±1 signs), for the "random noise is not adversarial" curve.
    random: Vec<f32>,
    clean_class: usize,
    /// The largest η of this norm for the model's input shape ([`EtaCaps::for_shape`]).
    eta_cap: f32,
    /// Output buffers reused by every slider move.
    adv: Vec<f32>,
    /// Probabilities already computed for this direction, by η's bits ([`Session::warm_slider`]): a slider move to
    /// one of them skips its forward pass. Each entry comes from the same batch-1 pass `adversarialAt` would run,
    /// so a cached answer is bit for bit the computed one.
    probs_at: Vec<(u32, Vec<f32>)>,
}

/// The confidence curve's forward passes run in batches of at most this many input values (a photo: 4 images a
/// batch, a digit: all of them), so the curve's activations stay small: a 13-point photo curve in one batch
/// took the photo engine from 70 to 172 MB of wasm memory.
const CURVE_BATCH_VALUES: usize = 4 * 3 * 224 * 224;

/// One session per worker: models are loaded once and kept by id.
#[wasm_bindgen]
#[derive(Default)]
pub struct Session {
    models: HashMap<String, Loaded>,
    direction: Option<Direction>,
}

fn parse_norm(norm: &str) -> Result<Norm> {
    match norm {
        "linf" => Ok(Norm::Linf),
        "l2" => Ok(Norm::L2),
        other => Err(Error::param("norm", format!("must be linf or l2, got `{other}`"))),
    }
}

fn goal_for(model: &Model, clean_class: usize, target: i32) -> Result<Goal> {
    if target < 0 {
        return Ok(Goal::Untargeted {
            true_class: clean_class,
        });
    }
    let t = target as usize;
    let goal = Goal::Targeted { target: t };
    goal.check(model.num_classes(), clean_class)?;
    Ok(goal)
}

/// The page's progress callback, throttled here and nowhere else (www/worker.js posts every call it gets): at most
/// one call per 50 ms, plus the last one (`last` = true). A throwing or non-boolean callback does not cancel; only an
/// explicit `false` does.
pub(crate) fn throttled(progress: &js_sys::Function) -> impl FnMut(bool, &dyn Fn() -> JsValue) -> bool + '_ {
    let mut prev = f64::NEG_INFINITY;
    move |last: bool, arg: &dyn Fn() -> JsValue| -> bool {
        let now = js_sys::Date::now();
        if now - prev < 50.0 && !last {
            return true;
        }
        prev = now;
        progress
            .call1(&JsValue::NULL, &arg())
            .map(|v| v.as_bool() != Some(false))
            .unwrap_or(true)
    }
}

/// The attack parameters of a page request: `overrides_json` (a JSON object of [`AttackParams`] fields) resolved
/// for the model's input shape by [`AttackParams::resolve`], the entry point the CLI uses too, so the same link and
/// the same command line give the same numbers (the L2 step rule and the η caps live there).
pub(crate) fn resolve_params(attack: &str, shape: [usize; 3], overrides_json: &str) -> Result<AttackParams> {
    let overrides: serde_json::Value = if overrides_json.trim().is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::from_str(overrides_json).map_err(|e| Error::param("params", e.to_string()))?
    };
    AttackParams::resolve(attack, shape, &overrides)
}

fn to_value<T: serde::Serialize>(v: &T) -> std::result::Result<JsValue, JsError> {
    serde_wasm_bindgen::to_value(v).map_err(|e| JsError::new(&format!("error.internal: {e}")))
}

impl Session {
    pub(crate) fn get(&self, id: &str) -> Result<&Loaded> {
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
            preprocess: l.meta.preprocess.clone(),
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
            ..Default::default()
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

    /// Class probabilities of one image (`C·H·W` values in `[0, 1]`, row-major), with the class groups of a
    /// photo model and, on an input unlike the training data, the overconfidence caveat `unfamiliar`.
    pub fn predict(&self, id: &str, pixels: &[f32]) -> std::result::Result<JsValue, JsError> {
        let l = self.get(id).js()?;
        let x = image_view(&l.model, pixels).js()?;
        let probs = l.model.probabilities(x);
        let out = to_value(&Prediction::for_model(&l.meta, probs.row(0).to_vec()))?;
        // The overconfidence caveat, `unfamiliar: {reason, value, limit}`, on the clean input only (an adversarial
        // image is off the data by design): set by hand, a second serde struct costs the lab's wasm 2 KB.
        if let Some(u) = familiar::unfamiliar(&l.meta.dataset, pixels) {
            let caveat = JsObject::new()
                .set("reason", u.reason)
                .set("value", u.value)
                .set("limit", u.limit);
            // Reflect::set on the plain object serde made cannot fail.
            let _ = js_sys::Reflect::set(&out, &"unfamiliar".into(), &caveat.into());
        }
        Ok(out)
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

    /// The attacks the engine offers for model `id`'s input shape ([`catalog`]): `[{name, kind, norms, targeted,
    /// eta_max: {linf, l2}, default_eta, budget, refused}]`, kind ∈ direction | iterative | query. The page keeps no
    /// copy of these rules: it asks here.
    #[wasm_bindgen(js_name = attackCatalog)]
    pub fn attack_catalog(&self, id: &str) -> std::result::Result<JsValue, JsError> {
        let l = self.get(id).js()?;
        to_value(&catalog(l.model.input_shape()))
    }

    /// Computes and caches the FGSM direction of `pixels` for model `id` (`target` < 0: untargeted, i.e. away from
    /// the clean prediction). Returns `{trueClass, flipEta}`: `flipEta` is the smallest `η = k·step ≤ maxEta` (step [`flip_step`]: 0.001 on digits, 0.0001 on photos) at
    /// which the prediction flips (or reaches the target), else `null`.
    #[wasm_bindgen(js_name = prepareDirection)]
    pub fn prepare_direction(
        &mut self,
        id: &str,
        pixels: &[f32],
        norm: &str,
        target: i32,
        max_eta: f32,
        seed: u64,
    ) -> std::result::Result<JsValue, JsError> {
        let norm = parse_norm(norm).js()?;
        let l = self.get(id).js()?;
        let eta_cap = EtaCaps::for_shape(l.model.input_shape()).cap(norm);
        crate::error::check_range("maxEta", max_eta, 0.0, eta_cap).js()?;
        let x = image_view(&l.model, pixels).js()?;
        let clean_class = l.model.predict(x)[0];
        let goal = goal_for(&l.model, clean_class, target).js()?;
        let s = fgsm_direction(&l.model, x, goal, norm).js()?;
        let flip = flip_eta(&l.model, x, goal, s.view(), max_eta, flip_step(l.model.input_shape())).js()?;
        let n = pixels.len();
        let s: Vec<f32> = s.iter().copied().collect();
        let random = random_direction(n, norm, seed);
        self.direction = Some(Direction {
            model: id.to_string(),
            x: pixels.to_vec(),
            s,
            random,
            clean_class,
            eta_cap,
            adv: vec![0.0; n],
            probs_at: Vec::new(),
        });
        Ok(JsObject::new()
            .set("trueClass", clean_class as u32)
            .set("flipEta", flip.map_or(JsValue::NULL, |f| JsValue::from_f64(f as f64)))
            .into())
    }

    /// One slider move: `x' = clip(x + η·s)` with the cached direction, and one forward pass.
    /// Returns `{adversarial, perturbation: Float32Array, prediction, linf, l2}`.
    #[wasm_bindgen(js_name = adversarialAt)]
    pub fn adversarial_at(&mut self, eta: f32) -> std::result::Result<JsValue, JsError> {
        let (d, l) = prepared_direction(&mut self.direction, &self.models)?;
        crate::error::check_range("eta", eta, 0.0, d.eta_cap).js()?;
        apply_direction_into(&mut d.adv, &d.x, &d.s, eta);
        let probs = match d.probs_at.iter().find(|(bits, _)| *bits == eta.to_bits()) {
            Some((_, p)) => p.clone(),
            None => probabilities_of_one(l, &d.adv)?,
        };
        let delta: Vec<f32> = d.adv.iter().zip(&d.x).map(|(a, x)| a - x).collect();
        Ok(JsObject::new()
            .set("adversarial", Float32Array::from(&d.adv[..]))
            .set("linf", norms::linf(&delta))
            .set("l2", norms::l2(&delta))
            .set("perturbation", Float32Array::from(&delta[..]))
            .set("prediction", to_value(&Prediction::for_model(&l.meta, probs))?)
            .into())
    }

    /// Computes, ahead of the user, the probabilities at the slider positions `etas` along the cached direction
    /// (each one the batch-1 forward pass of `clip(x + η·s)` that [`Session::adversarial_at`] runs), so that a
    /// later move to one of them costs no forward pass: on a photo, 3 ms instead of 36. The page sends a few η at
    /// a time, so a real slider move never waits long behind it. Returns how many were new.
    #[wasm_bindgen(js_name = warmSlider)]
    pub fn warm_slider(&mut self, etas: &[f32]) -> std::result::Result<u32, JsError> {
        let (d, l) = prepared_direction(&mut self.direction, &self.models)?;
        if etas.len() > 1024 {
            return Err(to_js(Error::param("etas", "at most 1024 points")));
        }
        let mut buf = vec![0.0f32; d.x.len()];
        let mut added = 0;
        for &eta in etas {
            crate::error::check_range("eta", eta, 0.0, d.eta_cap).js()?;
            if d.probs_at.iter().any(|(bits, _)| *bits == eta.to_bits()) {
                continue;
            }
            apply_direction_into(&mut buf, &d.x, &d.s, eta);
            let probs = probabilities_of_one(l, &buf)?;
            d.probs_at.push((eta.to_bits(), probs));
            added += 1;
        }
        Ok(added)
    }

    /// The clean class's probability along the cached adversarial direction and along the random direction of
    /// the same norm, at each η of `etas` (one batched forward pass per curve): `{adversarial, random}`.
    #[wasm_bindgen(js_name = confidenceCurve)]
    pub fn confidence_curve(&self, etas: &[f32]) -> std::result::Result<JsValue, JsError> {
        let d = self
            .direction
            .as_ref()
            .ok_or_else(|| to_js(Error::param("eta", "no image is prepared yet")))?;
        let l = self
            .models
            .get(&d.model)
            .ok_or_else(|| to_js(Error::param("model", "the model was unloaded")))?;
        if etas.len() > 1024 {
            return Err(to_js(Error::param("etas", "at most 1024 points")));
        }
        for &e in etas {
            crate::error::check_range("eta", e, 0.0, d.eta_cap).js()?;
        }
        let curve = |dir: &[f32]| -> Result<Vec<f32>> {
            let n = d.x.len();
            let per = (CURVE_BATCH_VALUES / n).max(1);
            let [c, h, w] = l.model.input_shape();
            let mut out = Vec::with_capacity(etas.len());
            for chunk in etas.chunks(per) {
                let mut batch = vec![0.0f32; chunk.len() * n];
                for (k, &eta) in chunk.iter().enumerate() {
                    apply_direction_into(&mut batch[k * n..(k + 1) * n], &d.x, dir, eta);
                }
                let x = ndarray::Array4::from_shape_vec((chunk.len(), c, h, w), batch)
                    .map_err(|e| Error::Shape(e.to_string()))?;
                out.extend(l.model.probabilities(x.view()).column(d.clean_class).iter().copied());
            }
            Ok(out)
        };
        let adv = curve(&d.s).js()?;
        let rnd = curve(&d.random).js()?;
        Ok(JsObject::new()
            .set("adversarial", Float32Array::from(&adv[..]))
            .set("random", Float32Array::from(&rnd[..]))
            .into())
    }

    /// Runs attack `attack` (see `attackCatalog`) on `pixels` with `params_json`, the page's overrides (a JSON object
    /// of `AttackParams` fields, usually `{eta, norm, seed}`) resolved by [`resolve_params`]; `target` < 0 for
    /// untargeted. `progress({step, total, queries, success})` is called at most every 50 ms; returning `false`
    /// cancels.
    #[wasm_bindgen(js_name = runAttack)]
    pub fn run_attack(
        &self,
        id: &str,
        pixels: &[f32],
        attack: &str,
        params_json: &str,
        target: i32,
        progress: &js_sys::Function,
    ) -> std::result::Result<JsValue, JsError> {
        let l = self.get(id).js()?;
        let params = resolve_params(attack, l.model.input_shape(), params_json).js()?;
        let attack = by_name(attack).js()?;
        let x = image_view(&l.model, pixels).js()?;
        let clean_class = l.model.predict(x)[0];
        let goal = goal_for(&l.model, clean_class, target).js()?;
        let mut rng = ChaCha8Rng::seed_from_u64(params.seed);
        let mut post = throttled(progress);
        let mut report = |p: Progress| -> bool {
            post(p.step >= p.total, &|| {
                JsObject::new()
                    .set("step", p.step as u32)
                    .set("total", p.total as u32)
                    .set("queries", p.queries as u32)
                    .set("success", p.success)
                    .into()
            })
        };
        let r = attack.run(&l.model, x, goal, &params, &mut rng, &mut report).js()?;
        Ok(JsObject::new()
            .set(
                "adversarial",
                Float32Array::from(r.adversarial.as_slice().unwrap_or(&[])),
            )
            .set(
                "perturbation",
                Float32Array::from(r.perturbation.as_slice().unwrap_or(&[])),
            )
            .set("probsBefore", to_value(&r.probs_before)?)
            .set("probsAfter", to_value(&r.probs_after)?)
            .set("predBefore", r.pred_before as u32)
            .set("predAfter", r.pred_after as u32)
            .set("flipped", r.flipped)
            .set("linf", r.linf)
            .set("l2", r.l2)
            .set("l0", r.l0 as u32)
            .set("queries", r.queries as u32)
            .set("steps", r.steps as u32)
            .into())
    }

    /// Drops a model.
    #[wasm_bindgen(js_name = unloadModel)]
    pub fn unload_model(&mut self, id: &str) {
        self.models.remove(id);
    }
}

/// The direction `prepareImage` cached and the model it was computed on: the one lookup of `adversarialAt` and
/// `warmSlider`, with the errors the page translates.
fn prepared_direction<'a>(
    direction: &'a mut Option<Direction>,
    models: &'a HashMap<String, Loaded>,
) -> std::result::Result<(&'a mut Direction, &'a Loaded), JsError> {
    let d = direction
        .as_mut()
        .ok_or_else(|| to_js(Error::param("eta", "no image is prepared yet")))?;
    let l = models
        .get(&d.model)
        .ok_or_else(|| to_js(Error::param("model", "the model was unloaded")))?;
    Ok((d, l))
}

/// One image's class probabilities, as a batch of one: the same pass for a slider position computed now or ahead
/// (`warmSlider`), so a cached answer is bit for bit the fresh one.
fn probabilities_of_one(l: &Loaded, image: &[f32]) -> std::result::Result<Vec<f32>, JsError> {
    let [c, h, w] = l.model.input_shape();
    let view = ArrayView4::from_shape((1, c, h, w), image).map_err(|e| to_js(Error::Shape(e.to_string())))?;
    Ok(l.model.probabilities(view).row(0).to_vec())
}
