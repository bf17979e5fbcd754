//! Plain data that crosses the boundary as JS objects (camelCase), through serde-wasm-bindgen.

use serde::Serialize;

/// What the page needs to know about a loaded model.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelInfo {
    pub id: String,
    pub name: String,
    pub dataset: String,
    pub class_names: Vec<String>,
    pub input_shape: [usize; 3],
    pub parameters: usize,
    pub flops: usize,
    /// True for the seeded random placeholder: its answers mean nothing.
    pub untrained: bool,
}

/// One classification.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Prediction {
    pub class: usize,
    pub confidence: f32,
    pub probs: Vec<f32>,
}

impl Prediction {
    /// The class of a probability vector: [`crate::nn::argmax`] (first index on ties, NaN never wins: the engine's
    /// one rule), with its probability.
    pub fn from_probs(probs: Vec<f32>) -> Prediction {
        let class = crate::nn::argmax(&probs);
        let confidence = probs.get(class).copied().unwrap_or(f32::NAN);
        Prediction {
            class,
            confidence,
            probs,
        }
    }
}

/// A plain JS object built field by field: used where a value must stay a typed array (serde would make a copy
/// into a plain JS array).
pub struct JsObject(js_sys::Object);

impl JsObject {
    pub fn new() -> Self {
        JsObject(js_sys::Object::new())
    }

    pub fn set(self, key: &str, value: impl Into<wasm_bindgen::JsValue>) -> Self {
        // Reflect::set on a fresh plain object cannot fail.
        let _ = js_sys::Reflect::set(&self.0, &key.into(), &value.into());
        self
    }
}

impl Default for JsObject {
    fn default() -> Self {
        Self::new()
    }
}

impl From<JsObject> for wasm_bindgen::JsValue {
    fn from(o: JsObject) -> Self {
        o.0.into()
    }
}
