//! The robustness audit at the boundary: AutoAttack on one image ([`crate::attacks::autoattack`]), the summary
//! over many, and what the page shows before it starts. The page runs `auditImage` image by image (in as many
//! workers as it likes: each image's outcome depends only on its pixels, label and options), collects the
//! outcomes and asks `auditSummary` for the numbers and the flags, so the rules stay in Rust.
//!
//! Values cross as plain JS objects (snake_case, `null` for "none"; the summary's numbers are `f64`, so `0.888`
//! arrives as `0.888`). Inputs are read through `JSON.stringify` and `serde_json` by hand-written readers
//! ([`AuditParams::resolve`], [`AuditOutcome::from_json`]), not serde derives: the page's wasm stays smaller.

use wasm_bindgen::prelude::*;

use super::dto::JsObject;
use super::errors::{to_js, IntoJs};
use super::session::{image_view, throttled, Session};
use crate::attacks::autoattack::{self, AuditOutcome, AuditParams, AuditProgress};
use crate::Error;

/// A Rust value as a plain JS object (serde-wasm-bindgen, the engine's other DTOs' path; `None` becomes `null`).
fn to_plain<T: serde::Serialize>(v: &T) -> Result<JsValue, JsError> {
    v.serialize(&serde_wasm_bindgen::Serializer::new().serialize_missing_as_null(true))
        .map_err(|e| JsError::new(&format!("error.internal: {e}")))
}

/// A JS value (`undefined`/`null`, a JSON string, or a plain object) as a `serde_json` value; `field` names it in
/// the error.
fn from_plain(v: &JsValue, field: &str) -> crate::Result<serde_json::Value> {
    if v.is_undefined() || v.is_null() {
        return Ok(serde_json::Value::Null);
    }
    let text = match v.as_string() {
        Some(s) => s,
        None => js_sys::JSON::stringify(v)
            .ok()
            .and_then(|s| s.as_string())
            .ok_or_else(|| Error::param(field, "must be a plain object"))?,
    };
    serde_json::from_str(&text).map_err(|e| Error::param(field, e.to_string()))
}

#[wasm_bindgen]
impl Session {
    /// `auditImage(id: string, pixels: Float32Array, label: number, options: {eta?, norm?, seed?},
    /// progress: Function) → AuditOutcome`
    ///
    /// AutoAttack's standard sequence on one image of model `id` (the loaded model's id, as every Session method
    /// takes it) with the true class `label`: the clean prediction, then APGD-CE → APGD-T → Square, each only while
    /// the image is still classified correctly, plus the checks (FGSM at the same ε, zero gradient, probability
    /// outputs, a repeated forward pass). `options` is `{eta, norm, seed}` (a plain object or its JSON; each may be
    /// left out: ε then is the dataset's, 0.3 MNIST / 0.1 Fashion-MNIST, the norm `"linf"`, the seed 0; the budgets
    /// `steps`, `targets`, `square_queries` may be set too, the standard ones otherwise). `progress({stage, step,
    /// total, queries})` is called at most every 50 ms (`stage`: `"apgd-ce"`, `"apgd-t"`, `"square"`; `step`/`total`
    /// within that stage's attack); returning `false` cancels (`error.cancelled`).
    ///
    /// Returns `{label, clean_class, clean_correct, fgsm_robust, stages: [{name, robust, queries, skipped}],
    /// broken_by, queries, zero_gradient, probability_outputs, repeat_differs}`. `stages` always lists the three
    /// stages in order; one not run (the image was already broken or misclassified, or Square under L2, which has
    /// no L2 version) has `skipped: true`, `queries: 0` and carries `robust` over. `broken_by` is `"clean"` (the
    /// clean prediction was wrong), the stage that broke it, or `null` (robust to AutoAttack).
    #[wasm_bindgen(js_name = auditImage)]
    pub fn audit_image(
        &self,
        id: &str,
        pixels: &[f32],
        label: u32,
        options: JsValue,
        progress: &js_sys::Function,
    ) -> Result<JsValue, JsError> {
        let l = self.get(id).js()?;
        let overrides = from_plain(&options, "options").js()?;
        let p = AuditParams::resolve(l.model.input_shape(), &l.meta.dataset, &overrides).js()?;
        let x = image_view(&l.model, pixels).js()?;
        let mut post = throttled(progress);
        let mut report = |pr: AuditProgress| -> bool {
            post(false, &|| {
                JsObject::new()
                    .set("stage", pr.stage.name())
                    .set("step", pr.step as u32)
                    .set("total", pr.total as u32)
                    .set("queries", pr.queries as u32)
                    .into()
            })
        };
        let o = autoattack::audit_image(&l.model, x, label as usize, &p, &mut report).js()?;
        to_plain(&o)
    }

    /// `auditSummary(outcomes: AuditOutcome[]) → {n, clean_accuracy, fgsm_accuracy, stages: [{name,
    /// robust_accuracy, attacked, queries, queries_mean}], autoattack_accuracy, queries_mean, flags: [{key, images?,
    /// of?, points?, fgsm_accuracy?, autoattack_accuracy?, clean_accuracy?, message}]}`
    ///
    /// The numbers over the outcomes of `auditImage` and the flags raised (an empty list when nothing looks wrong);
    /// the same function `advlab eval --attack autoattack` prints. Accuracies are shares in `[0, 1]`; `points` are
    /// accuracy points; `key` is one of `blackbox_beats_whitebox`, `zero_gradients`, `probability_outputs`,
    /// `randomness`, `fgsm_gap` (the page translates it; `message` is the English explanation).
    #[wasm_bindgen(js_name = auditSummary)]
    pub fn audit_summary(&self, outcomes: JsValue) -> Result<JsValue, JsError> {
        let v = from_plain(&outcomes, "outcomes").js()?;
        let list = v
            .as_array()
            .ok_or_else(|| to_js(Error::param("outcomes", "must be a list of auditImage outcomes")))?;
        let outcomes: Vec<AuditOutcome> = list
            .iter()
            .map(AuditOutcome::from_json)
            .collect::<crate::Result<_>>()
            .js()?;
        to_plain(&autoattack::summarize(&outcomes))
    }

    /// `auditInfo() → {stages: [{name, budget, iterations, targets, queries, norms}], default_eta: [{dataset, eta}],
    /// fgsm_gap_points, square_share, probability_tolerance}`: the stages with their standard budgets, the default
    /// ε per dataset (MNIST 0.3, Fashion-MNIST 0.1) and the flags' thresholds.
    #[wasm_bindgen(js_name = auditInfo)]
    pub fn audit_info(&self) -> Result<JsValue, JsError> {
        to_plain(&autoattack::info())
    }
}
