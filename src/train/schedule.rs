//! Learning-rate schedules, evaluated per optimisation step.

use serde::{Deserialize, Serialize};

/// How the learning rate evolves from the base rate `lr` over the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Schedule {
    /// `lr` throughout.
    Constant,
    /// Linear warm-up over `warmup_steps`, then half a cosine from `lr` down to 0 at the last step:
    /// `lr_t = lr · ½(1 + cos(π·(t − w)/(T − w)))`.
    Cosine {
        #[serde(default)]
        warmup_steps: usize,
    },
    /// `lr · gammaᵏ` in epoch `e`, with `k = ⌊e / every_epochs⌋`.
    Step { every_epochs: usize, gamma: f32 },
}

impl Default for Schedule {
    fn default() -> Self {
        Schedule::Cosine { warmup_steps: 0 }
    }
}

impl Schedule {
    /// Learning rate of step `step` (0-based) out of `total` steps, with `per_epoch` steps in each epoch.
    pub fn lr(&self, base: f32, step: usize, total: usize, per_epoch: usize) -> f32 {
        match *self {
            Schedule::Constant => base,
            Schedule::Cosine { warmup_steps } => {
                if step < warmup_steps {
                    return base * (step + 1) as f32 / warmup_steps as f32;
                }
                let span = total.saturating_sub(warmup_steps).max(1) as f64;
                let t = (step - warmup_steps) as f64 / span;
                (f64::from(base) * 0.5 * (1.0 + (std::f64::consts::PI * t).cos())) as f32
            }
            Schedule::Step { every_epochs, gamma } => {
                let k = (step / per_epoch.max(1)) / every_epochs.max(1);
                base * gamma.powi(k.min(i32::MAX as usize) as i32)
            }
        }
    }
}
