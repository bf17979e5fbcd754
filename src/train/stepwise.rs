//! A training run that advances a few batches at a time, for callers that must yield between chunks (the page's
//! training worker, which answers "pause" and "stop" between two chunks and reports a live loss curve).
//!
//! It is [`train_with`](super::train_with)'s loop, not a copy: both drive one [`TrainLoop`] batch by batch (the
//! ChaCha8 shuffle per epoch on stream 0 of the seed, the batch hook on stream 1, the re-check of the hook's batch,
//! the config's optimiser and schedule), so a run stepped in chunks ends with bit-identical weights
//! (`tests/training.rs` pins it). With `adversarial` set, each batch is replaced by FGSM-RS examples on the
//! current model ([`super::adversarial`], Wong et al. 2020), i.e. adversarial training.

use ndarray::{Array4, Axis};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use super::adversarial::{adversarial, AdvConfig};
use super::trainer::{evaluate, Batch, Evaluation, TrainConfig, TrainLoop};
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

/// A batch hook the run owns (see [`super::BatchTransform`]).
pub type Hook = Box<dyn FnMut(&Model, Batch, &mut ChaCha8Rng) -> Result<Batch>>;

/// The state of an incremental training run.
pub struct Stepwise {
    pub model: Model,
    images: Array4<f32>,
    labels: Vec<usize>,
    run: TrainLoop,
    hook: Option<Hook>,
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
        let mut run = Stepwise::with_hook(model, images, labels, cfg, None)?;
        if let Some(a) = &adversarial_cfg {
            a.validate()?;
        }
        run.hook = adversarial_cfg.map(|a| Box::new(adversarial(a)) as Hook);
        Ok(run)
    }

    /// [`Stepwise::new`] with any batch hook (or none).
    pub fn with_hook(
        model: Model,
        images: Array4<f32>,
        labels: Vec<usize>,
        cfg: TrainConfig,
        hook: Option<Hook>,
    ) -> Result<Stepwise> {
        cfg.validate()?;
        if cfg.epochs == 0 {
            return Err(Error::param("epochs", "must be at least 1"));
        }
        let run = TrainLoop::new(&model, images.view(), &labels, &cfg)?;
        Ok(Stepwise {
            model,
            images,
            labels,
            run,
            hook,
        })
    }

    pub fn is_done(&self) -> bool {
        self.run.is_done()
    }

    pub fn progress(&self) -> f32 {
        self.run.batches() as f32 / self.run.total().max(1) as f32
    }

    /// Trains up to `n_batches` more batches (fewer at the end of the run).
    pub fn step(&mut self, n_batches: usize) -> Result<ChunkReport> {
        let (mut loss_sum, mut correct, mut seen) = (0.0f64, 0usize, 0usize);
        let mut identity = |_: &Model, b: Batch, _: &mut ChaCha8Rng| Ok(b);
        for _ in 0..n_batches {
            if self.run.is_done() {
                break;
            }
            let hook: &mut super::BatchTransform = match self.hook.as_mut() {
                Some(h) => h.as_mut(),
                None => &mut identity,
            };
            if let Some(b) = self
                .run
                .next_batch(&mut self.model, self.images.view(), &self.labels, hook)?
            {
                loss_sum += b.loss_sum;
                correct += b.correct;
                seen += b.images;
            }
        }
        Ok(ChunkReport {
            loss: (loss_sum / seen.max(1) as f64) as f32,
            accuracy: correct as f32 / seen.max(1) as f32,
            progress: self.progress(),
            epoch: self.run.epoch().max(1),
            steps: self.run.steps(),
            done: self.is_done(),
        })
    }

    /// Loss and accuracy of the current model on a labelled set.
    pub fn evaluate(&self, images: &Array4<f32>, labels: &[usize]) -> Result<Evaluation> {
        evaluate(&self.model, images.view(), labels)
    }

    pub fn config(&self) -> &TrainConfig {
        self.run.config()
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
