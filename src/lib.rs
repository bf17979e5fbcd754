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
