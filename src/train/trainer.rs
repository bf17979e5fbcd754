//! The training loop and evaluation.

use ndarray::{Array4, ArrayView4, Axis};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::optim::{Optimizer, OptimizerState};
use super::schedule::Schedule;
use crate::error::{check_range, Error, Result};
use crate::nn::loss::cross_entropy_rows;
use crate::nn::Model;

/// The recipe of a training run (serialisable: it is stored in the weight file's `training` metadata).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TrainConfig {
    /// Passes over the training set.
    pub epochs: usize,
    /// Images per optimisation step (the last batch of an epoch may be smaller).
    pub batch_size: usize,
    /// Base learning rate (the schedule scales it).
    pub lr: f32,
    /// Decoupled (Adam) or L2 (SGD) weight decay on weights; 0 disables it.
    pub weight_decay: f32,
    /// Seed of the shuffle and of the batch-transform stream (model initialisation has its own seed).
    pub seed: u64,
    pub schedule: Schedule,
    pub optimizer: Optimizer,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            epochs: 5,
            batch_size: 64,
            lr: 1e-3,
            weight_decay: 0.0,
            seed: 0,
            schedule: Schedule::default(),
            optimizer: Optimizer::default(),
        }
    }
}

impl TrainConfig {
    /// The measured recipe for a shipped architecture (`linear`, `mlp`, `cnn`) on `mnist` or `fashion`: Adam,
    /// lr 1e-3, batch 64, cosine decay, seed 1, with the epoch count that reaches the targets (see the
    /// [module docs](super) for the accuracies and times measured).
    pub fn recommended(arch: &str, dataset: &str) -> Option<TrainConfig> {
        let epochs = match (arch, dataset) {
            ("linear", "mnist" | "fashion") => 5,
            ("mlp", "mnist") => 10,
            ("mlp", "fashion") => 15,
            ("cnn", "mnist") => 8,
            ("cnn", "fashion") => 10,
            _ => return None,
        };
        Some(TrainConfig {
            epochs,
            batch_size: 64,
            lr: 1e-3,
            seed: 1,
            ..TrainConfig::default()
        })
    }

    /// Rejects values outside their domain with [`Error::InvalidParameter`].
    pub fn validate(&self) -> Result<()> {
        if self.batch_size == 0 {
            return Err(Error::param("batch_size", "must be at least 1"));
        }
        check_range("lr", self.lr, f32::MIN_POSITIVE, 10.0)?;
        check_range("weight_decay", self.weight_decay, 0.0, 1.0)?;
        match self.optimizer {
            Optimizer::Sgd { momentum, .. } => {
                check_range("momentum", momentum, 0.0, 0.999_999)?;
            }
            Optimizer::Adam { beta1, beta2, eps } => {
                check_range("beta1", beta1, 0.0, 0.999_999)?;
                check_range("beta2", beta2, 0.0, 0.999_999_9)?;
                check_range("eps", eps, f32::MIN_POSITIVE, 1.0)?;
            }
        }
        if let Schedule::Step { every_epochs, gamma } = self.schedule {
            if every_epochs == 0 {
                return Err(Error::param("every_epochs", "must be at least 1"));
            }
            check_range("gamma", gamma, f32::MIN_POSITIVE, 1.0)?;
        }
        Ok(())
    }
}

/// A mini-batch: images `[B, C, H, W]` and one label per image.
#[derive(Debug, Clone)]
pub struct Batch {
    pub images: Array4<f32>,
    pub labels: Vec<usize>,
}

/// Hook that turns each clean batch into the batch actually trained on (e.g. adversarial training replaces or
/// extends it with attacks on the current model). Draws randomness only from the given stream.
pub type BatchTransform<'a> = dyn FnMut(&Model, Batch, &mut ChaCha8Rng) -> Result<Batch> + 'a;

/// What one epoch did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochReport {
    /// 1-based.
    pub epoch: usize,
    pub epochs: usize,
    /// Mean training loss over the epoch's batches (weighted by batch size).
    pub loss: f32,
    /// Fraction of training images classified correctly while training (before each step).
    pub accuracy: f32,
    /// Learning rate of the epoch's last step.
    pub lr: f32,
    /// Optimisation steps so far.
    pub steps: usize,
    /// Wall time of the epoch (native only; `None` on wasm32, where the caller can time it).
    pub seconds: Option<f64>,
}

/// What a whole run did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainReport {
    pub epochs: Vec<EpochReport>,
    /// `true` when `on_epoch` asked to stop before the last epoch.
    pub stopped_early: bool,
}

/// Trains `model` on `images` `[N, C, H, W]` / `labels` with `cfg`. `on_epoch` gets the model and the report after
/// each epoch; returning `false` stops (the model keeps the weights trained so far).
pub fn train(
    model: &mut Model,
    images: ArrayView4<f32>,
    labels: &[usize],
    cfg: &TrainConfig,
    on_epoch: &mut dyn FnMut(&Model, &EpochReport) -> bool,
) -> Result<TrainReport> {
    train_with(model, images, labels, cfg, &mut |_, b, _| Ok(b), on_epoch)
}

/// [`train`] with a hook that transforms each batch before the gradient step (see [`BatchTransform`]).
///
/// Each epoch shuffles the index order with ChaCha8 (stream 0 of `cfg.seed`); the hook draws from stream 1.
/// Errors: invalid config, data that does not fit the model, a hook error, or a diverging loss (NaN/∞).
/// The batches are [`TrainLoop::next_batch`]'s, the one loop the page's [`super::stepwise::Stepwise`] runs too.
pub fn train_with(
    model: &mut Model,
    images: ArrayView4<f32>,
    labels: &[usize],
    cfg: &TrainConfig,
    batch_transform: &mut BatchTransform,
    on_epoch: &mut dyn FnMut(&Model, &EpochReport) -> bool,
) -> Result<TrainReport> {
    let mut run = TrainLoop::new(model, images, labels, cfg)?;
    let mut report = TrainReport {
        epochs: Vec::new(),
        stopped_early: false,
    };
    for epoch in 0..cfg.epochs {
        #[cfg(not(target_arch = "wasm32"))]
        let start = std::time::Instant::now();
        let (mut loss_sum, mut correct, mut seen, mut lr) = (0.0f64, 0usize, 0usize, cfg.lr);
        for _ in 0..run.per_epoch() {
            if let Some(b) = run.next_batch(model, images, labels, batch_transform)? {
                loss_sum += b.loss_sum;
                correct += b.correct;
                seen += b.images;
                lr = b.lr;
            }
        }
        #[cfg(not(target_arch = "wasm32"))]
        let seconds = Some(start.elapsed().as_secs_f64());
        #[cfg(target_arch = "wasm32")]
        let seconds = None;
        let r = EpochReport {
            epoch: epoch + 1,
            epochs: cfg.epochs,
            loss: (loss_sum / seen.max(1) as f64) as f32,
            accuracy: correct as f32 / seen.max(1) as f32,
            lr,
            steps: run.steps(),
            seconds,
        };
        let go_on = on_epoch(model, &r);
        report.epochs.push(r);
        if !go_on {
            report.stopped_early = epoch + 1 < cfg.epochs;
            break;
        }
    }
    Ok(report)
}

/// What one batch of [`TrainLoop::next_batch`] did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BatchStats {
    /// `Σ` of the per-image losses (the batch's mean loss × its size), in f64.
    pub loss_sum: f64,
    /// Images classified correctly before the step.
    pub correct: usize,
    /// Images trained on (after the hook).
    pub images: usize,
    /// The step's learning rate.
    pub lr: f32,
}

/// The state of one training run, independent of who drives it: the epoch loop of [`train_with`] (the CLI) and
/// the chunked [`super::stepwise::Stepwise`] (the page's trainer) both call [`TrainLoop::next_batch`], so the same
/// seed gives the same weights whichever way the batches are grouped.
///
/// One batch: at the start of an epoch the index order is shuffled (ChaCha8 stream 0 of the seed); the next
/// `batch_size` indices (fewer at the end of an epoch) are selected; the hook turns them into the batch to train
/// on (stream 1); that batch is checked against the model again (shape, labels); an empty batch is skipped;
/// otherwise `(L, ∇θL)` on it, a divergence check, and one optimiser step at `lr = schedule(step)`.
pub struct TrainLoop {
    cfg: TrainConfig,
    opt: OptimizerState,
    shuffle_rng: ChaCha8Rng,
    hook_rng: ChaCha8Rng,
    order: Vec<usize>,
    /// Next position in `order`.
    pos: usize,
    /// Epochs started (1-based number of the current epoch once a batch ran).
    epoch: usize,
    /// Batches consumed (skipped empty batches included): the run is done at `per_epoch · epochs`.
    batches: usize,
    /// Optimiser steps taken (the schedule's clock).
    step: usize,
}

impl TrainLoop {
    /// Validates `cfg` and the data against `model`, and seeds the two streams.
    pub fn new(model: &Model, images: ArrayView4<f32>, labels: &[usize], cfg: &TrainConfig) -> Result<TrainLoop> {
        cfg.validate()?;
        model.check_input(images)?;
        let n = images.len_of(Axis(0));
        model.check_labels(labels, n)?;
        if n == 0 {
            return Err(Error::param("images", "the training set is empty"));
        }
        let shuffle_rng = ChaCha8Rng::seed_from_u64(cfg.seed);
        let mut hook_rng = ChaCha8Rng::seed_from_u64(cfg.seed);
        hook_rng.set_stream(1);
        Ok(TrainLoop {
            cfg: cfg.clone(),
            opt: OptimizerState::new(&cfg.optimizer, model),
            shuffle_rng,
            hook_rng,
            order: (0..n).collect(),
            pos: n, // forces a shuffle before the first batch
            epoch: 0,
            batches: 0,
            step: 0,
        })
    }

    pub fn config(&self) -> &TrainConfig {
        &self.cfg
    }
    /// Batches per epoch, `⌈N / batch_size⌉`.
    pub fn per_epoch(&self) -> usize {
        self.order.len().div_ceil(self.cfg.batch_size)
    }
    /// Batches in the whole run.
    pub fn total(&self) -> usize {
        self.per_epoch().saturating_mul(self.cfg.epochs)
    }
    /// Batches consumed so far.
    pub fn batches(&self) -> usize {
        self.batches
    }
    /// Optimiser steps so far.
    pub fn steps(&self) -> usize {
        self.step
    }
    /// The 1-based epoch of the last batch (0 before the first).
    pub fn epoch(&self) -> usize {
        self.epoch
    }
    pub fn is_done(&self) -> bool {
        self.batches >= self.total()
    }

    /// Trains the next batch of the run on `images`/`labels` (the data given to [`TrainLoop::new`]). `Ok(None)`
    /// when the run is done or the hook returned an empty batch.
    pub fn next_batch(
        &mut self,
        model: &mut Model,
        images: ArrayView4<f32>,
        labels: &[usize],
        hook: &mut BatchTransform,
    ) -> Result<Option<BatchStats>> {
        if self.is_done() {
            return Ok(None);
        }
        let n = self.order.len();
        if images.len_of(Axis(0)) != n || labels.len() != n {
            return Err(Error::Shape(format!(
                "the run was set up for {n} images, got {} images and {} labels",
                images.len_of(Axis(0)),
                labels.len()
            )));
        }
        if self.pos >= n {
            self.order.shuffle(&mut self.shuffle_rng);
            self.pos = 0;
            self.epoch += 1;
        }
        let end = (self.pos + self.cfg.batch_size).min(n);
        let idx = &self.order[self.pos..end];
        let clean = Batch {
            images: images.select(Axis(0), idx),
            labels: idx.iter().map(|&i| labels[i]).collect(),
        };
        self.pos = end;
        self.batches += 1;
        let batch = hook(model, clean, &mut self.hook_rng)?;
        model.check_input(batch.images.view())?;
        model.check_labels(&batch.labels, batch.images.len_of(Axis(0)))?;
        if batch.labels.is_empty() {
            return Ok(None);
        }
        let g = model.loss_and_gradients(batch.images.view(), &batch.labels);
        if !g.loss.is_finite() {
            return Err(Error::param(
                "lr",
                format!(
                    "training diverged at epoch {} step {} (loss {}); lower the learning rate",
                    self.epoch, self.step, g.loss
                ),
            ));
        }
        let lr = self
            .cfg
            .schedule
            .lr(self.cfg.lr, self.step, self.total(), self.per_epoch());
        self.opt.step(model, &g.grads, lr, self.cfg.weight_decay);
        self.step += 1;
        let b = batch.labels.len();
        Ok(Some(BatchStats {
            loss_sum: f64::from(g.loss) * b as f64,
            correct: g.correct,
            images: b,
            lr,
        }))
    }
}

/// Mean loss and accuracy of a model on a labelled set.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    pub loss: f32,
    pub accuracy: f32,
    pub correct: usize,
    pub total: usize,
}

/// Images per evaluation slice (bounds the memory of the logits and activations; each slice runs in parallel).
const EVAL_SLICE: usize = 1024;

/// Loss and accuracy over `images`/`labels`, in slices (parallel natively).
pub fn evaluate(model: &Model, images: ArrayView4<f32>, labels: &[usize]) -> Result<Evaluation> {
    model.check_input(images)?;
    let n = images.len_of(Axis(0));
    model.check_labels(labels, n)?;
    let (mut loss, mut correct) = (0.0f64, 0usize);
    for start in (0..n).step_by(EVAL_SLICE) {
        let end = (start + EVAL_SLICE).min(n);
        let z = model.logits(images.slice(ndarray::s![start..end, .., .., ..]));
        let (l, _, c) = cross_entropy_rows(z.view(), &labels[start..end], 0.0);
        loss += l;
        correct += c;
    }
    let d = n.max(1) as f32;
    Ok(Evaluation {
        loss: (loss / n.max(1) as f64) as f32,
        accuracy: correct as f32 / d,
        correct,
        total: n,
    })
}

/// Fraction of `images` whose predicted class is the label. Never panics: returns 0 for data that does not fit
/// the model (use [`evaluate`] to get the error instead).
pub fn accuracy(model: &Model, images: ArrayView4<f32>, labels: &[usize]) -> f32 {
    evaluate(model, images, labels).map_or(0.0, |e| e.accuracy)
}
