//! The page's in-browser training lesson (`#lesson=train`): a [`Trainer`] owned by `www/training/worker.js`, which
//! calls [`Trainer::step`] a few batches at a time and yields between chunks, so "pause" and "stop" are answered
//! and the page never freezes. The trained model is exported as a safetensors file the page loads and attacks.

use serde_json::json;
use wasm_bindgen::prelude::*;

use super::errors::IntoJs;
use crate::model_file::{self, ModelMeta};
use crate::train::stepwise::{Lesson, LessonConfig};

fn to_value<T: serde::Serialize>(v: &T) -> Result<JsValue, JsError> {
    serde_wasm_bindgen::to_value(v).map_err(|e| JsError::new(&format!("error.internal: {e}")))
}

/// One training run of the lesson.
#[wasm_bindgen]
pub struct Trainer {
    lesson: Lesson,
    cfg: LessonConfig,
}

#[wasm_bindgen]
impl Trainer {
    /// `arch`: `linear` or `mlp` (one hidden layer of `hidden` units). `adversarial`: FGSM-RS training at `eta`
    /// (half of each batch). `images`/`labels`: IDX u8 files; the last `heldout` images are not trained on.
    #[wasm_bindgen(constructor)]
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        arch: &str,
        hidden: usize,
        seed: u64,
        adversarial: bool,
        eta: f32,
        images: &[u8],
        labels: &[u8],
        heldout: usize,
        epochs: usize,
        batch: usize,
        lr: f32,
    ) -> Result<Trainer, JsError> {
        let cfg = LessonConfig {
            arch: arch.to_string(),
            hidden,
            seed,
            adversarial_eps: adversarial.then_some(eta),
            heldout,
            epochs,
            batch_size: batch,
            lr,
        };
        let lesson = Lesson::from_idx(images, labels, &cfg).js()?;
        Ok(Trainer { lesson, cfg })
    }

    /// Trains up to `n_batches` batches: `{loss, accuracy, progress, epoch, steps, done}`.
    pub fn step(&mut self, n_batches: usize) -> Result<JsValue, JsError> {
        let r = self.lesson.run.step(n_batches).js()?;
        to_value(&r)
    }

    /// `{loss, accuracy, correct, total}` on the held-out images.
    pub fn evaluate(&self) -> Result<JsValue, JsError> {
        let e = self.lesson.evaluate_heldout().js()?;
        to_value(&e)
    }

    /// The current model as a safetensors weight file (the page loads it like a shipped model).
    pub fn export(&self) -> Result<Vec<u8>, JsError> {
        let model = &self.lesson.run.model;
        let mut meta = ModelMeta::for_model(
            model,
            &format!("trained-{}", self.cfg.arch),
            "mnist",
            (0..10).map(|d| d.to_string()).collect(),
        );
        meta.training = json!({
            "arch": self.cfg.arch, "hidden": self.cfg.hidden, "seed": self.cfg.seed,
            "adversarial_eps": self.cfg.adversarial_eps, "config": self.lesson.run.config(),
            "in_browser": true,
        });
        let e = self.lesson.evaluate_heldout().js()?;
        meta.metrics = json!({ "heldout_accuracy": e.accuracy, "heldout_n": e.total });
        model_file::save(model, &meta).js()
    }
}
