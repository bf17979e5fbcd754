//! Neural-network core: layers with forward and backward passes, the [`Model`] that chains them, and the loss.
//!
//! Tensors are NCHW `f32`. Every layer implements the forward map `y = f(x; θ)` and the vector-Jacobian
//! products `∂L/∂x = Jₓᵀ·∂L/∂y` and `∂L/∂θ = J_θᵀ·∂L/∂y`. Plain ndarray, no wasm types.
//!
//! STUB: the contract below is fixed; bodies are being implemented.

use ndarray::{Array2, Array4, ArrayView2, ArrayView4};
use serde::{Deserialize, Serialize};

use crate::error::Result;

/// One layer's architecture, as stored in the weight file's metadata (`"architecture": [...]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LayerSpec {
    /// `y = W x + b`, `W: [out, in]`.
    Dense { inputs: usize, outputs: usize },
    /// 2-D convolution, `W: [out_ch, in_ch, k, k]`, `b: [out_ch]`.
    Conv2d {
        in_channels: usize,
        out_channels: usize,
        kernel: usize,
        stride: usize,
        padding: usize,
    },
    /// Non-overlapping max pooling with window = stride = `size`.
    MaxPool2d { size: usize },
    /// `max(0, x)`.
    Relu,
    /// NCHW → N×(C·H·W).
    Flatten,
}

/// A trainable parameter tensor of one layer: name (`weight`/`bias`), shape, and row-major data.
pub struct ParamRef<'a> {
    pub layer: usize,
    pub name: &'static str,
    pub shape: Vec<usize>,
    pub data: &'a [f32],
}

/// Gradients of all parameters, in the same order as [`Model::params`].
#[derive(Debug, Clone)]
pub struct Gradients(pub Vec<Vec<f32>>);

/// A sequence of layers mapping `[N, C, H, W]` images to `[N, classes]` logits.
#[derive(Debug, Clone)]
pub struct Model {
    _private: (),
}

impl Model {
    /// Builds a model with zero-initialised parameters; validates that the shapes chain.
    pub fn from_spec(_spec: &[LayerSpec], _input_shape: [usize; 3]) -> Result<Model> {
        unimplemented!()
    }
    /// He/Glorot initialisation from a seed (deterministic).
    pub fn init(_spec: &[LayerSpec], _input_shape: [usize; 3], _seed: u64) -> Result<Model> {
        unimplemented!()
    }
    pub fn spec(&self) -> &[LayerSpec] {
        unimplemented!()
    }
    /// `[C, H, W]`.
    pub fn input_shape(&self) -> [usize; 3] {
        unimplemented!()
    }
    pub fn num_classes(&self) -> usize {
        unimplemented!()
    }
    /// Multiply-accumulate count ×2 of one forward pass on one image.
    pub fn flops_per_image(&self) -> usize {
        unimplemented!()
    }
    pub fn params(&self) -> Vec<ParamRef<'_>> {
        unimplemented!()
    }
    /// Overwrites parameter `index` (order of [`Model::params`]); errors on length mismatch.
    pub fn set_param(&mut self, _index: usize, _data: &[f32]) -> Result<()> {
        unimplemented!()
    }
    pub fn logits(&self, _x: ArrayView4<f32>) -> Array2<f32> {
        unimplemented!()
    }
    pub fn probabilities(&self, _x: ArrayView4<f32>) -> Array2<f32> {
        unimplemented!()
    }
    /// Mean softmax cross-entropy.
    pub fn loss(&self, _x: ArrayView4<f32>, _labels: &[usize]) -> f32 {
        unimplemented!()
    }
    /// `(logits, ∂(Σ dlogits ⊙ logits)/∂x)`: one forward and one backward pass.
    pub fn logits_vjp(&self, _x: ArrayView4<f32>, _dlogits: ArrayView2<f32>) -> (Array2<f32>, Array4<f32>) {
        unimplemented!()
    }
    /// `(mean loss, ∂loss/∂x)` for the cross-entropy loss.
    pub fn input_gradient(&self, _x: ArrayView4<f32>, _labels: &[usize]) -> (f32, Array4<f32>) {
        unimplemented!()
    }
    /// `(mean loss, ∂loss/∂θ)` for training.
    pub fn param_gradient(&self, _x: ArrayView4<f32>, _labels: &[usize]) -> (f32, Gradients) {
        unimplemented!()
    }
}

/// The shipped architectures by name (`linear`, `mlp`, `cnn`).
pub fn architecture(_name: &str) -> Option<Vec<LayerSpec>> {
    unimplemented!()
}
