//! Neural-network core: layers with forward and backward passes, the [`Model`] that chains them, and the loss.
//!
//! Tensors are NCHW `f32`. Every layer implements the forward map `y = f(x; θ)` and the vector-Jacobian
//! products `∂L/∂x = Jₓᵀ·∂L/∂y` and `∂L/∂θ = J_θᵀ·∂L/∂y`. Plain ndarray, no wasm types.
//!
//! | module | layer | forward | backward (VJP) |
//! |---|---|---|---|
//! | [`dense`] | `Dense` | `y = x Wᵀ + b` | `∂x = ∂y W`, `∂W = ∂yᵀ x`, `∂b = Σₙ ∂y` |
//! | [`conv2d`] | `Conv2d` | `y[n,o,i,j] = b[o] + Σ W[o,c,u,v]·x[n,c,s·i+u−p, s·j+v−p]` | im2col + GEMM, col2im |
//! | [`maxpool`] | `MaxPool2d` | `y = max` over each `size×size` window | route `∂y` to the arg-max |
//! | [`relu`] | `Relu` | `y = max(0, x)` | `∂x = ∂y·[x > 0]` |
//! | [`flatten`] | `Flatten` | NCHW → `N×(C·H·W)` (same memory) | identity |
//! | [`loss`] | softmax cross-entropy | `L = logsumexp(z) − z_y` | `∂L/∂z = softmax(z) − onehot(y)` |
//!
//! Inside the model every activation is stored as a standard-layout `[N, features]` matrix: an NCHW tensor
//! flattened per image has exactly that memory layout, so `Flatten` costs nothing. Batched work is split into
//! fixed chunks of [`CHUNK`] images which run in parallel natively (rayon) and in order on wasm32; gradients of
//! the chunks are summed in chunk order, so results never depend on thread timing.

pub mod conv2d;
pub mod dense;
pub mod flatten;
pub mod im2col;
pub mod init;
pub mod kernels;
pub mod loss;
pub mod maxpool;
pub(crate) mod model;
pub mod ops;
pub(crate) mod par;
pub mod relu;
pub mod winograd;

use serde::{Deserialize, Serialize};

pub use loss::softmax_cross_entropy;
pub use model::{BatchGradient, ForwardCache, Model, CHUNK, MAX_PARAMS};
pub use ops::{argmax, argmax_rows, sign, softmax_in_place, softmax_rows};

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

impl LayerSpec {
    /// Short lowercase name as in the serialised `type` tag (`dense`, `conv2d`, …), for messages.
    pub fn kind(&self) -> &'static str {
        match self {
            LayerSpec::Dense { .. } => "dense",
            LayerSpec::Conv2d { .. } => "conv2d",
            LayerSpec::MaxPool2d { .. } => "max_pool2d",
            LayerSpec::Relu => "relu",
            LayerSpec::Flatten => "flatten",
        }
    }
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

impl Gradients {
    /// Zero gradients shaped like `model`'s parameters.
    pub fn zeros_like(model: &Model) -> Gradients {
        Gradients(model.params().iter().map(|p| vec![0.0; p.data.len()]).collect())
    }

    /// `self += other`, element by element (same layout required).
    pub fn add_assign(&mut self, other: &Gradients) {
        assert_eq!(self.0.len(), other.0.len(), "gradient lists differ in length");
        for (a, b) in self.0.iter_mut().zip(&other.0) {
            assert_eq!(a.len(), b.len(), "gradient tensors differ in length");
            for (x, y) in a.iter_mut().zip(b) {
                *x += *y;
            }
        }
    }

    /// `self *= s`.
    pub fn scale(&mut self, s: f32) {
        self.0.iter_mut().flatten().for_each(|x| *x *= s);
    }

    /// Euclidean norm over all parameters, accumulated in f64.
    pub fn global_norm(&self) -> f64 {
        self.0
            .iter()
            .flatten()
            .map(|&x| f64::from(x) * f64::from(x))
            .sum::<f64>()
            .sqrt()
    }
}

/// The shipped architectures by name (`"linear"`, `"mlp"`, `"cnn"`), all for `[1, 28, 28]` inputs and 10 classes.
///
/// - `linear`: flatten → dense 784→10. 7 850 parameters, 15.7 kFLOP per image. The model whose adversarial
///   direction is exactly `sign(W_t − W_y)`: the page's "linear view".
/// - `mlp`: flatten → dense 784→256 → relu → dense 256→128 → relu → dense 128→10. 235 146 parameters (0.94 MB),
///   0.47 MFLOP per image. Two hidden layers are what it takes for ≥ 98 % on MNIST and ≥ 89 % on
///   Fashion-MNIST within about ten epochs while staying under 1 MB.
/// - `cnn`: conv 3×3 1→32 pad 1 → relu → max-pool 2 (14×14) → conv 3×3 32→32 pad 0 → relu → max-pool 2 (6×6)
///   → flatten → dense 1152→128 → relu → dense 128→10. 158 442 parameters (0.63 MB), 3.40 MFLOP per image
///   (2×MACs; the second convolution is 78 % of it). Chosen over a 32→64 second convolution (5.3 MFLOP, over
///   budget) and over a pad-1 second convolution (dense 1568→128: more parameters for no measured gain): it is
///   the classic small LeNet/Keras-style net that reaches ≥ 99.2 % on MNIST and ≥ 91.5 % on Fashion-MNIST in a
///   few epochs, and its three ReLU/max-pool stages make gradient-based attacks behave as in the literature.
pub fn architecture(name: &str) -> Option<Vec<LayerSpec>> {
    use LayerSpec::*;
    let conv = |i, o, p| Conv2d {
        in_channels: i,
        out_channels: o,
        kernel: 3,
        stride: 1,
        padding: p,
    };
    match name {
        "linear" => Some(vec![
            Flatten,
            Dense {
                inputs: 784,
                outputs: 10,
            },
        ]),
        "mlp" => Some(vec![
            Flatten,
            Dense {
                inputs: 784,
                outputs: 256,
            },
            Relu,
            Dense {
                inputs: 256,
                outputs: 128,
            },
            Relu,
            Dense {
                inputs: 128,
                outputs: 10,
            },
        ]),
        "cnn" => Some(vec![
            conv(1, 32, 1),
            Relu,
            MaxPool2d { size: 2 },
            conv(32, 32, 0),
            Relu,
            MaxPool2d { size: 2 },
            Flatten,
            Dense {
                inputs: 1152,
                outputs: 128,
            },
            Relu,
            Dense {
                inputs: 128,
                outputs: 10,
            },
        ]),
        // Adversarial training needs capacity (Madry et al. 2018, §4: robustness grows with width). Twice the
        // channels in the second convolution of `cnn`: 315 146 parameters (1.26 MB), 6.4 MFLOP per image.
        "cnn-wide" => Some(vec![
            conv(1, 32, 1),
            Relu,
            MaxPool2d { size: 2 },
            conv(32, 64, 0),
            Relu,
            MaxPool2d { size: 2 },
            Flatten,
            Dense {
                inputs: 2304,
                outputs: 128,
            },
            Relu,
            Dense {
                inputs: 128,
                outputs: 10,
            },
        ]),
        _ => None,
    }
}

/// The wider architectures [`architecture`] also accepts, for the adversarially trained models (`cnn-wide`).
pub const ROBUST_ARCHITECTURES: [&str; 1] = ["cnn-wide"];

/// Names accepted by [`architecture`] for the standard models.
pub const ARCHITECTURES: [&str; 3] = ["linear", "mlp", "cnn"];
