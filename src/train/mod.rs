//! Training: seeded mini-batch optimisation of a [`Model`](crate::nn::Model) with softmax cross-entropy.
//!
//! - [`optim`]: SGD with momentum (optionally Nesterov) and Adam/AdamW (the default), with optional weight decay
//!   on weights (never on biases).
//! - [`schedule`]: learning-rate schedules: constant, cosine with linear warm-up (the default), step decay.
//! - [`augment`]: ready-made batch transforms (random shifts).
//! - [`adversarial`]: adversarial training hooks, FGSM with random start (Wong 2020) and PGD (Madry 2018).
//! - [`ensemble`]: ensemble adversarial training with static source models and R+FGSM (Tramèr 2018).
//! - [`trainer`]: the one training loop, [`TrainLoop`] (one batch at a time), driven epoch by epoch by [`train`] /
//!   [`train_with`] (the CLI), and evaluation ([`accuracy`], [`evaluate`]).
//! - [`stepwise`]: the same [`TrainLoop`] a few batches at a time (the page's training worker yields between chunks).
//!
//! Determinism: the shuffle and the batch-transform hook draw from two ChaCha8 streams of the config's seed, and
//! the model's batched gradient sums fixed-size chunks in order, so the same seed and data give bit-identical
//! weights, whatever the thread count (natively) — and wasm32 runs the same chunks one after another.
//!
//! ## Measured recipes ([`TrainConfig::recommended`])
//!
//! Adam, lr 1e-3, batch 64, cosine decay to 0, seed 1 (init seed 1), full 60 000-image training sets, test
//! accuracy on all 10 000 test images (`examples/train_check.rs`):
//!
//! | model | epochs | MNIST | epochs | Fashion-MNIST |
//! |---|---|---|---|---|
//! | linear | 5 | 92.08 % | 5 | 83.52 % |
//! | mlp | 10 | 98.26 % | 15 | 89.95 % |
//! | cnn | 8 | 99.29 % (6 epochs: 99.22 %) | 10 | 92.46 % |
//!
//! Time: one CNN epoch costs 17.6 CPU-seconds (60 000 images, x86-64 AVX2, one thread; the two-thread run
//! spends 18.0 CPU-seconds, i.e. ≈ 9 s of wall time on two free cores). An MLP epoch is ≈ 1.5 s, a linear one
//! 0.13 s. All six recipes together: ≈ 6 CPU-minutes.
//!
//! Adversarial training plugs in through [`train_with`]'s `batch_transform`: it receives the current model and the
//! clean batch and returns the batch to train on (replaced or extended with adversarial examples).

pub mod adversarial;
pub mod augment;
pub mod ensemble;
pub mod optim;
pub mod schedule;
pub mod stepwise;
pub mod trainer;

pub use optim::{Optimizer, OptimizerState};
pub use schedule::Schedule;
pub use trainer::{
    accuracy, evaluate, train, train_with, Batch, BatchStats, BatchTransform, EpochReport, Evaluation, TrainConfig,
    TrainLoop, TrainReport,
};
