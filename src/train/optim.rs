//! Optimisers. Each step reads the mean-loss gradient `g` and updates every parameter tensor `θ` in place.
//!
//! - SGD with momentum `μ`: `v ← μ·v + g + λ·θ`, `θ ← θ − η·v` (Nesterov: `θ ← θ − η·(g + λ·θ + μ·v)`).
//! - Adam (Kingma & Ba) with decoupled weight decay (AdamW, Loshchilov & Hutter):
//!   `m ← β₁m + (1−β₁)g`, `v ← β₂v + (1−β₂)g²`, `θ ← θ − η·λ·θ − η·m̂/(√v̂ + ε)` with bias-corrected
//!   `m̂ = m/(1−β₁ᵗ)`, `v̂ = v/(1−β₂ᵗ)`.
//!
//! Weight decay `λ` applies to weights only (parameters named `weight`), never to biases.

use serde::{Deserialize, Serialize};

use crate::nn::{Gradients, Model};

/// Which optimiser, with its hyper-parameters (the learning rate lives in the training config).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Optimizer {
    Sgd {
        momentum: f32,
        #[serde(default)]
        nesterov: bool,
    },
    Adam {
        beta1: f32,
        beta2: f32,
        eps: f32,
    },
}

impl Default for Optimizer {
    /// Adam with the usual `β₁ = 0.9, β₂ = 0.999, ε = 1e-8`.
    fn default() -> Self {
        Optimizer::Adam {
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
        }
    }
}

/// Moment buffers of one optimiser for one model.
#[derive(Debug, Clone)]
pub struct OptimizerState {
    opt: Optimizer,
    /// Momentum (SGD) or first moment (Adam), one buffer per parameter tensor.
    m: Vec<Vec<f32>>,
    /// Second moment (Adam only).
    v: Vec<Vec<f32>>,
    /// `true` for tensors that get weight decay.
    decay: Vec<bool>,
    /// Steps taken, and `β₁ᵗ`, `β₂ᵗ` kept by repeated multiplication (exact, platform-independent).
    t: u64,
    b1t: f64,
    b2t: f64,
}

impl OptimizerState {
    pub fn new(opt: &Optimizer, model: &Model) -> OptimizerState {
        let params = model.params();
        let zeros = || params.iter().map(|p| vec![0.0f32; p.data.len()]).collect::<Vec<_>>();
        let v = if matches!(opt, Optimizer::Adam { .. }) {
            zeros()
        } else {
            Vec::new()
        };
        OptimizerState {
            opt: opt.clone(),
            m: zeros(),
            v,
            decay: params.iter().map(|p| p.name == "weight").collect(),
            t: 0,
            b1t: 1.0,
            b2t: 1.0,
        }
    }

    /// Steps taken so far.
    pub fn steps(&self) -> u64 {
        self.t
    }

    /// One update of `model` with gradient `g`, learning rate `lr` and weight decay `wd`.
    pub fn step(&mut self, model: &mut Model, g: &Gradients, lr: f32, wd: f32) {
        self.t += 1;
        let mut params = model.params_mut();
        assert_eq!(params.len(), g.0.len(), "gradients belong to another model");
        match self.opt {
            Optimizer::Sgd { momentum, nesterov } => {
                for (k, p) in params.iter_mut().enumerate() {
                    let wd = if self.decay[k] { wd } else { 0.0 };
                    for ((w, &gi), v) in p.iter_mut().zip(&g.0[k]).zip(self.m[k].iter_mut()) {
                        let gi = gi + wd * *w;
                        *v = momentum * *v + gi;
                        *w -= lr * if nesterov { gi + momentum * *v } else { *v };
                    }
                }
            }
            Optimizer::Adam { beta1, beta2, eps } => {
                self.b1t *= f64::from(beta1);
                self.b2t *= f64::from(beta2);
                let step = (f64::from(lr) / (1.0 - self.b1t)) as f32;
                let inv_bc2 = (1.0 / (1.0 - self.b2t).sqrt()) as f32;
                for (k, p) in params.iter_mut().enumerate() {
                    let decay = if self.decay[k] { 1.0 - lr * wd } else { 1.0 };
                    let (m, v) = (&mut self.m[k], &mut self.v[k]);
                    for (((w, &gi), mi), vi) in p.iter_mut().zip(&g.0[k]).zip(m.iter_mut()).zip(v.iter_mut()) {
                        *mi = beta1 * *mi + (1.0 - beta1) * gi;
                        *vi = beta2 * *vi + (1.0 - beta2) * gi * gi;
                        *w = *w * decay - step * *mi / (vi.sqrt() * inv_bc2 + eps);
                    }
                }
            }
        }
    }
}
