//! Training: seeded mini-batch optimisation of a [`Model`](crate::nn::Model) with softmax cross-entropy.
//!
//! - [`optim`]: SGD with momentum (optionally Nesterov) and Adam/AdamW (the default), with optional weight decay
//!   on weights (never on biases).
//! - [`schedule`]: learning-rate schedules: constant, cosine with linear warm-up (the default), step decay.
//! - [`augment`]: ready-made batch transforms (random shifts).
//! - [`trainer`]: the epoch loop ([`train`], [`train_with`]) and evaluation ([`accuracy`], [`evaluate`]).
//!
//! Determinism: the shuffle and the batch-transform hook draw from two ChaCha8 streams of the config's seed, and
//! the model's batched gradient sums fixed-size chunks in order, so the same seed and data give bit-identical
//! weights, whatever the thread count (natively) — and wasm32 runs the same chunks one after another.
//!
//! Adversarial training plugs in through [`train_with`]'s `batch_transform`: it receives the current model and the
//! clean batch and returns the batch to train on (replaced or extended with adversarial examples).

pub mod augment;
pub mod optim;
pub mod schedule;
pub mod trainer;

pub use optim::{Optimizer, OptimizerState};
pub use schedule::Schedule;
pub use trainer::{
    accuracy, evaluate, train, train_with, Batch, BatchTransform, EpochReport, Evaluation,
    TrainConfig, TrainReport,
};
