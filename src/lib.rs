//! # Adversarial Lab
//!
//! A tiny, invisible perturbation flips a neural network's prediction. This crate holds the whole engine, in plain
//! Rust on [`ndarray`], and compiles both to a native CLI (`advlab`) and to WebAssembly for the page.
//!
//! The map, in the order data flows (the repository's `README.md` has the whole layout, `www/README.md` the page's):
//!
//! | module | what it does |
//! |---|---|
//! | [`data`] | IDX reader, dataset fetch (native), the MNIST preprocessing recipe for drawn or uploaded images |
//! | [`nn`] | layers with forward and backward passes, the [`nn::Model`], softmax cross-entropy |
//! | [`model_file`] | safetensors weight files with a JSON metadata document, validated on read |
//! | [`train`] | optimisers, seeded mini-batch training, adversarial and ensemble-adversarial training |
//! | [`attacks`] | FGSM, PGD, DeepFool, C&W, JSMA, SimBA, Square, one-pixel …, behind one trait |
//! | [`lessons`] | the guided lessons' math: linear decomposition Δ = η·Σ|w_t − w_y|, resolution, robustness counts |
//! | `cli` (native only) | the `advlab` command line: train, eval, transfer, attack |
//! | `web` (wasm32 only) | the only place with `#[wasm_bindgen]`: the session object the page's one worker (`www/worker.js`) drives |
//!
//! Conventions: `f32` throughout, tensors NCHW, pixels and η in `[0, 1]`. Errors are one [`Error`] enum.
//!
//! ## The front door
//!
//! Load a weight file ([`model_file::load`]), classify an image ([`nn::Model::logits`], `[N, K]` for a batch
//! `[N, C, H, W]`), attack it through the [`attacks::Attack`] trait with parameters from the one entry point
//! [`attacks::AttackParams::resolve`] (the page and the CLI call the same):
//!
//! ```
//! use advlab::attacks::{self, Attack, AttackParams, Goal};
//! use advlab::model_file;
//! use ndarray::Array4;
//! use rand::SeedableRng;
//!
//! let bytes = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/www/models/mnist-linear.safetensors"))?;
//! let (model, meta) = model_file::load(&bytes)?;
//! assert_eq!((model.input_shape(), meta.class_names.len()), ([1, 28, 28], 10));
//!
//! // A grey square on black: Z(x) is one row of 10 logits; the prediction is its arg-max.
//! let x = Array4::from_shape_fn((1, 1, 28, 28), |(_, _, r, c)| if (8..20).contains(&r) && (8..20).contains(&c) { 0.8 } else { 0.0 });
//! let z = model.logits(x.view());
//! assert_eq!(z.shape(), [1, 10]);
//! let pred = advlab::nn::ops::argmax(z.row(0).as_slice().unwrap());
//! assert_eq!(pred, model.predict(x.view())[0]);
//!
//! // FGSM at η = 0.1 (L∞), untargeted: x' = clip(x + η·sign ∇ₓJ(x, pred)).
//! let params = AttackParams::resolve("fgsm", model.input_shape(), &serde_json::json!({"eta": 0.1}))?;
//! let fgsm = attacks::by_name("fgsm")?;
//! let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(params.seed);
//! let goal = Goal::Untargeted { true_class: pred };
//! let r = fgsm.run(&model, x.view(), goal, &params, &mut rng, &mut |_| true)?;
//! assert!(r.linf <= 0.1 + 1e-6 && r.adversarial.iter().all(|v| (0.0..=1.0).contains(v)));
//! assert_eq!(r.flipped, r.pred_after != pred);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! A model needs no file: [`nn::Model::init`] builds a seeded random one from an architecture, and
//! [`model_file::save`] writes it (metadata included) in the same format:
//!
//! ```
//! use advlab::model_file::{self, ModelMeta};
//! use advlab::nn::{architecture, Model};
//!
//! let model = Model::init(&architecture("linear").unwrap(), [1, 28, 28], 7)?;
//! let meta = ModelMeta::for_model(&model, "demo", "mnist", (0..10).map(|d| d.to_string()).collect());
//! let (back, _) = model_file::load(&model_file::save(&model, &meta)?)?;
//! let x = ndarray::Array4::<f32>::from_elem((2, 1, 28, 28), 0.5);
//! assert_eq!(back.logits(x.view()), model.logits(x.view()));
//! # Ok::<(), advlab::Error>(())
//! ```

pub mod attacks;
#[cfg(not(target_arch = "wasm32"))]
pub mod cli;
pub mod data;
pub mod error;
pub mod lessons;
pub mod model_file;
pub mod nn;
pub mod train;

#[cfg(target_arch = "wasm32")]
pub mod web;

pub use error::{Error, Result};
