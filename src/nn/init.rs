//! Deterministic parameter initialisation.
//!
//! Weights are drawn from `U(−a, a)`: He/Kaiming-uniform `a = √(6/fan_in)` for layers followed by a ReLU (keeps
//! the activation variance constant through the net), Glorot/Xavier-uniform `a = √(6/(fan_in + fan_out))` for the
//! last layer (logits). Biases start at 0. The stream is ChaCha8 seeded with the model seed; uniforms are built
//! from the top 24 bits of each `u32`, so the same seed gives the same weights on every platform, wasm32 included.

use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Seeded source of uniform initial weights.
pub struct Init(ChaCha8Rng);

impl Init {
    pub fn new(seed: u64) -> Init {
        Init(ChaCha8Rng::seed_from_u64(seed))
    }

    /// A draw from `U(−a, a)` (on the 2⁻²⁴ grid, exactly reproducible).
    pub fn uniform(&mut self, a: f32) -> f32 {
        let u = (self.0.next_u32() >> 8) as f32 * (1.0 / 16_777_216.0); // [0, 1)
        (2.0 * u - 1.0) * a
    }

    /// Fills `w` from `U(−a, a)`.
    pub fn fill(&mut self, w: &mut [f32], a: f32) {
        w.iter_mut().for_each(|v| *v = self.uniform(a));
    }
}

/// He-uniform bound `√(6/fan_in)`.
pub fn he_bound(fan_in: usize) -> f32 {
    (6.0 / fan_in as f64).sqrt() as f32
}

/// Glorot-uniform bound `√(6/(fan_in + fan_out))`.
pub fn glorot_bound(fan_in: usize, fan_out: usize) -> f32 {
    (6.0 / (fan_in + fan_out) as f64).sqrt() as f32
}
