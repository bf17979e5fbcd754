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
    /// The image recipe: `mnist` (drawn digits) or `imagenet` (photos: `Session.preparePhoto`).
    pub preprocess: String,
}

/// The probability of one class group (the article's "dog" / "pig" / "other"): the sum of its classes' softmax.
#[derive(Serialize)]
pub struct GroupProbability {
    pub name: String,
    pub probability: f32,
}

/// One classification.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Prediction {
    pub class: usize,
    pub confidence: f32,
    pub probs: Vec<f32>,
    /// The top class's group, for a model with class groups (photo engine only: the lab's models have none).
    #[cfg(feature = "photo")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Every group's probability ([`crate::model_file::ModelMeta::group_probabilities`], "other" last).
    #[cfg(feature = "photo")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<GroupProbability>,
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
            #[cfg(feature = "photo")]
            group: None,
            #[cfg(feature = "photo")]
            groups: Vec::new(),
        }
    }

    /// [`Prediction::from_probs`] with `meta`'s class groups: the top class's group and each group's probability.
    #[cfg(feature = "photo")]
    pub fn for_model(meta: &crate::model_file::ModelMeta, probs: Vec<f32>) -> Prediction {
        let mut p = Prediction::from_probs(probs);
        p.group = meta.group_of(p.class);
        p.groups = meta
            .group_probabilities(&p.probs)
            .into_iter()
            .map(|(name, probability)| GroupProbability { name, probability })
            .collect();
        p
    }

    /// [`Prediction::from_probs`]: the lab engine's models have no class groups.
    #[cfg(not(feature = "photo"))]
    pub fn for_model(_meta: &crate::model_file::ModelMeta, probs: Vec<f32>) -> Prediction {
        Prediction::from_probs(probs)
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
