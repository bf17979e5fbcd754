//! A training run that advances a few batches at a time, for callers that must yield between chunks (the page's
//! training worker, which answers "pause" and "stop" between two chunks and reports a live loss curve).
//!
//! It does what [`train_with`](super::train_with) does — ChaCha8 shuffle per epoch (stream 0 of the seed), a
//! batch hook drawing from stream 1, Adam with the config's schedule — but keeps the loop state in a struct.
//! With `adversarial` set, each batch is replaced by FGSM-RS examples on the current model
//! ([`super::adversarial`], Wong et al. 2020), i.e. adversarial training.

use ndarray::{Array4, Axis};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use super::adversarial::{adversarial, AdvConfig};
use super::optim::OptimizerState;
use super::trainer::{evaluate, Batch, Evaluation, TrainConfig};
use crate::error::{Error, Result};
use crate::nn::Model;

/// What one chunk of batches did.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ChunkReport {
    /// Mean training loss over the chunk's images.
    pub loss: f32,
    /// Fraction of the chunk's (possibly adversarial) images classified correctly before each step.
    pub accuracy: f32,
    /// Fraction of the whole run done, in `[0, 1]`.
    pub progress: f32,
    /// 1-based epoch of the last batch trained.
    pub epoch: usize,
    /// Batches trained so far.
    pub steps: usize,
    pub done: bool,
}

type Hook = Box<dyn FnMut(&Model, Batch, &mut ChaCha8Rng) -> Result<Batch>>;

/// The state of an incremental training run.
pub struct Stepwise {
    pub model: Model,
    images: Array4<f32>,
    labels: Vec<usize>,
    cfg: TrainConfig,
    opt: OptimizerState,
    shuffle_rng: ChaCha8Rng,
    hook_rng: ChaCha8Rng,
    hook: Option<Hook>,
    order: Vec<usize>,
    /// Next position in `order`.
    pos: usize,
    epoch: usize,
    step: usize,
}

impl Stepwise {
    /// Prepares a run of `cfg` on `images`/`labels` (owned), optionally adversarial.
    pub fn new(
        model: Model,
        images: Array4<f32>,
        labels: Vec<usize>,
        cfg: TrainConfig,
        adversarial_cfg: Option<AdvConfig>,
    ) -> Result<Stepwise> {
        cfg.validate()?;
        if cfg.epochs == 0 {
            return Err(Error::param("epochs", "must be at least 1"));
        }
        model.check_input(images.view())?;
        let n = images.len_of(Axis(0));
        model.check_labels(&labels, n)?;
        if n == 0 {
            return Err(Error::param("images", "the training set is empty"));
        }
        if let Some(a) = &adversarial_cfg {
            a.validate()?;
        }
        let shuffle_rng = ChaCha8Rng::seed_from_u64(cfg.seed);
        let mut hook_rng = ChaCha8Rng::seed_from_u64(cfg.seed);
        hook_rng.set_stream(1);
        let opt = OptimizerState::new(&cfg.optimizer, &model);
        Ok(Stepwise {
            model,
            images,
            labels,
            opt,
            shuffle_rng,
            hook_rng,
            hook: adversarial_cfg.map(|a| Box::new(adversarial(a)) as Hook),
            order: (0..n).collect(),
            pos: n, // forces a shuffle before the first batch
            epoch: 0,
            step: 0,
            cfg,
        })
    }

    fn per_epoch(&self) -> usize {
        self.labels.len().div_ceil(self.cfg.batch_size)
    }

    fn total(&self) -> usize {
        self.per_epoch() * self.cfg.epochs
    }

    pub fn is_done(&self) -> bool {
        self.step >= self.total()
    }

    pub fn progress(&self) -> f32 {
        self.step as f32 / self.total().max(1) as f32
    }

    /// Trains up to `n_batches` more batches (fewer at the end of the run).
    pub fn step(&mut self, n_batches: usize) -> Result<ChunkReport> {
        let (mut loss_sum, mut correct, mut seen) = (0.0f64, 0usize, 0usize);
        let n = self.labels.len();
        let mut done_here = 0;
        while done_here < n_batches && !self.is_done() {
            if self.pos >= n {
                self.order.shuffle(&mut self.shuffle_rng);
                self.pos = 0;
                self.epoch += 1;
            }
            let end = (self.pos + self.cfg.batch_size).min(n);
            let idx = &self.order[self.pos..end];
            let mut batch = Batch {
                images: self.images.select(Axis(0), idx),
                labels: idx.iter().map(|&i| self.labels[i]).collect(),
            };
            self.pos = end;
            if let Some(h) = self.hook.as_mut() {
                batch = h(&self.model, batch, &mut self.hook_rng)?;
            }
            let g = self.model.loss_and_gradients(batch.images.view(), &batch.labels);
            if !g.loss.is_finite() {
                return Err(Error::param("lr", "training diverged; lower the learning rate"));
            }
            let lr = self
                .cfg
                .schedule
                .lr(self.cfg.lr, self.step, self.total(), self.per_epoch());
            self.opt.step(&mut self.model, &g.grads, lr, self.cfg.weight_decay);
            let b = batch.labels.len();
            loss_sum += f64::from(g.loss) * b as f64;
            correct += g.correct;
            seen += b;
            self.step += 1;
            done_here += 1;
        }
        Ok(ChunkReport {
            loss: (loss_sum / seen.max(1) as f64) as f32,
            accuracy: correct as f32 / seen.max(1) as f32,
            progress: self.progress(),
            epoch: self.epoch.max(1),
            steps: self.step,
            done: self.is_done(),
        })
    }

    /// Loss and accuracy of the current model on a labelled set.
    pub fn evaluate(&self, images: &Array4<f32>, labels: &[usize]) -> Result<Evaluation> {
        evaluate(&self.model, images.view(), labels)
    }

    pub fn config(&self) -> &TrainConfig {
        &self.cfg
    }
}

/// The architecture of the page's training lesson: `linear` (784→10) or `mlp` with one hidden layer of `hidden`
/// ReLU units (784→hidden→10; 1 ≤ hidden ≤ 1024).
pub fn lesson_architecture(arch: &str, hidden: usize) -> Result<Vec<crate::nn::LayerSpec>> {
    use crate::nn::LayerSpec::*;
    match arch {
        "linear" => Ok(vec![
            Flatten,
            Dense {
                inputs: 784,
                outputs: 10,
            },
        ]),
        "mlp" => {
            if hidden == 0 || hidden > 1024 {
                return Err(Error::param("hidden", format!("must lie in 1..=1024, got {hidden}")));
            }
            Ok(vec![
                Flatten,
                Dense {
                    inputs: 784,
                    outputs: hidden,
                },
                Relu,
                Dense {
                    inputs: hidden,
                    outputs: 10,
                },
            ])
        }
        other => Err(Error::param("arch", format!("must be linear or mlp, got `{other}`"))),
    }
}

/// A lesson run from IDX bytes (u8 images `[n, 28, 28]`, labels `[n]`): the last `heldout` images are kept out
/// of training for [`Lesson::evaluate_heldout`].
pub struct Lesson {
    pub run: Stepwise,
    heldout_images: Array4<f32>,
    heldout_labels: Vec<usize>,
}

/// Settings of a [`Lesson`].
#[derive(Debug, Clone, PartialEq)]
pub struct LessonConfig {
    pub arch: String,
    pub hidden: usize,
    pub seed: u64,
    /// FGSM-RS adversarial training at this ε (Wong 2020), or clean training when `None`.
    pub adversarial_eps: Option<f32>,
    pub heldout: usize,
    pub epochs: usize,
    pub batch_size: usize,
    pub lr: f32,
}

impl Lesson {
    pub fn from_idx(images_idx: &[u8], labels_idx: &[u8], c: &LessonConfig) -> Result<Lesson> {
        let (n, rows, cols, pixels) = crate::data::idx::parse_images(images_idx)?;
        let labels = crate::data::idx::parse_labels(labels_idx)?;
        if (rows, cols) != (28, 28) {
            return Err(Error::Shape(format!(
                "training images must be 28×28, got {rows}×{cols}"
            )));
        }
        if labels.len() != n {
            return Err(Error::Shape(format!("{n} images but {} labels", labels.len())));
        }
        if c.heldout >= n {
            return Err(Error::param("heldout", format!("must be below the {n} images")));
        }
        let x = Array4::from_shape_vec((n, 1, 28, 28), pixels.iter().map(|&p| f32::from(p) / 255.0).collect())
            .map_err(|e| Error::Shape(e.to_string()))?;
        let y: Vec<usize> = labels.iter().map(|&l| usize::from(l)).collect();
        let split = n - c.heldout;
        let model = Model::init(&lesson_architecture(&c.arch, c.hidden)?, [1, 28, 28], c.seed)?;
        let cfg = TrainConfig {
            epochs: c.epochs,
            batch_size: c.batch_size,
            lr: c.lr,
            seed: c.seed,
            ..TrainConfig::default()
        };
        let adv = c.adversarial_eps.map(|eps| AdvConfig {
            // Half the batch stays clean: the lesson's small models cannot afford to lose clean accuracy.
            clean_fraction: 0.5,
            ..AdvConfig::fgsm_rs(eps)
        });
        let run = Stepwise::new(
            model,
            x.slice_axis(Axis(0), (..split).into()).to_owned(),
            y[..split].to_vec(),
            cfg,
            adv,
        )?;
        Ok(Lesson {
            run,
            heldout_images: x.slice_axis(Axis(0), (split..).into()).to_owned(),
            heldout_labels: y[split..].to_vec(),
        })
    }

    /// Loss and accuracy on the held-out images.
    pub fn evaluate_heldout(&self) -> Result<Evaluation> {
        self.run.evaluate(&self.heldout_images, &self.heldout_labels)
    }
}
