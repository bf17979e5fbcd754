//! Neural-network core: layers with forward and backward passes, the [`Model`] that chains them, and the loss.
//!
//! Tensors are NCHW `f32`. Every layer implements the forward map `y = f(x; θ)` and the vector-Jacobian
//! products `∂L/∂x = Jₓᵀ·∂L/∂y` and `∂L/∂θ = J_θᵀ·∂L/∂y`. Plain ndarray, no wasm types.
//!
//! A layer is one file behind one trait, [`layer::Layer`] (forward, input VJP, parameter VJP, output shape,
//! parameters); `layer::build` is the registry that turns a [`LayerSpec`] (the serialised form, in the weight
//! file's metadata) into one. Adding a layer touches its file, its `LayerSpec` variant and one registry line.
//!
//! | module | layer (`type`) | forward | backward (VJP) |
//! |---|---|---|---|
//! | [`dense`] | `dense` | `y = x Wᵀ + b` | `∂x = ∂y W`, `∂W = ∂yᵀ x`, `∂b = Σₙ ∂y` |
//! | [`conv2d`] | `conv2d` | `y[n,o,i,j] = b[o] + Σ W[o,c,u,v]·x[n,c,s·i+u−p, s·j+v−p]`; padding a number or TF `"same"` (`Ho = ⌈H/s⌉`, `p = ⌊pad_total/2⌋` above/left, the rest below/right) | im2col + GEMM, col2im; a 1×1 convolution is `Yₙ = W Xₙ` (no im2col), `∂Xₙ = Wᵀ Gₙ`, `∂W = Σₙ Gₙ Xₙᵀ` |
//! | [`depthwise`] | `depthwise_conv2d` | `y[c,i,j] = b[c] + Σ_{u,v} W[c,u,v]·x[c, s·i+u−p, s·j+v−p]` (Howard et al. 2017, MobileNets) | `∂W[c,u,v] = Σ G[c,i,j]·x[c,s·i+u−p,s·j+v−p]`, `∂x` scatter-adds `W[c,u,v]·G[c,i,j]`, `∂b[c] = Σ G[c]` |
//! | [`maxpool`] | `max_pool2d` | `y = max` over each `size×size` window | route `∂y` to the arg-max |
//! | [`relu`] | `relu` | `y = max(0, x)` | `∂x = ∂y·[y > 0]` (in place) |
//! | [`relu6`] | `relu6` | `y = min(max(x, 0), 6)` (MobileNets; EfficientNet-Lite) | `∂x = ∂y·[0 < y < 6]` (in place) |
//! | [`normalize`] | `normalize` | `y[c] = (x[c] − mean[c]) / std[c]` | `∂x[c] = ∂y[c] / std[c]` |
//! | [`residual`] | `residual` | `y = x + body(x)` (He et al. 2016; the inverted residual of Sandler et al. 2018, MobileNetV2) | `∂x = ∂y + J_bodyᵀ ∂y` |
//! | [`global_avg_pool`] | `global_avg_pool` | `y[c] = (1/HW) Σ_{h,w} x[c,h,w]` | `∂x[c,h,w] = ∂y[c] / HW` |
//! | [`flatten`] | `flatten` | NCHW → `N×(C·H·W)` (same memory) | identity |
//! | [`loss`] | softmax cross-entropy | `L = logsumexp(z) − z_y` | `∂L/∂z = softmax(z) − onehot(y)` |
//!
//! The photo model, [`architecture`]`("efficientnet-lite0")` (Tan & Le 2019, "EfficientNet: Rethinking Model
//! Scaling for Convolutional Neural Networks", in its Lite form: ReLU6, no squeeze-excite), is built from these:
//! MBConv blocks `conv 1×1 → relu6 → depthwise → relu6 → conv 1×1`, with a skip connection where the shape allows,
//! batch norm folded into the convolutions at conversion so that inference and the input gradient are exact.
//!
//! Inside the model every activation is stored as a standard-layout `[N, features]` matrix: an NCHW tensor
//! flattened per image has exactly that memory layout, so `Flatten` costs nothing. Element-wise layers (ReLU, ReLU6,
//! normalisation, flatten) work in the buffer they receive, at inference and when recording for a backward pass
//! (ReLU's masks are read from the output). Batched work is split into fixed chunks of [`CHUNK`] images which run
//! in parallel natively (rayon) and in order on wasm32; gradients of the chunks are summed in chunk order, so
//! results never depend on thread timing.

pub mod conv2d;
pub mod dense;
#[cfg(feature = "photo")]
pub mod depthwise;
pub mod flatten;
#[cfg(feature = "photo")]
pub mod global_avg_pool;
pub mod im2col;
pub mod init;
pub mod kernels;
pub mod layer;
pub mod loss;
pub mod maxpool;
pub(crate) mod model;
#[cfg(feature = "photo")]
pub mod normalize;
pub mod ops;
pub(crate) mod par;
pub mod relu;
#[cfg(feature = "photo")]
pub mod relu6;
#[cfg(feature = "photo")]
pub mod residual;
pub mod spec_json;
pub mod winograd;

pub use layer::{Layer, ParamInfo, Shape};
pub use loss::softmax_cross_entropy;
pub use model::{BatchGradient, ForwardCache, Model, CHUNK, MAX_PARAMS};
pub use ops::{argmax, argmax_rows, sign, softmax_in_place, softmax_rows};

/// Zero padding of a convolution: a number of pixels on every side (serialised as that number), or TensorFlow's
/// `"same"`: output size `⌈in/stride⌉`, `pad_total = max((out − 1)·stride + kernel − in, 0)`, of which
/// `⌊pad_total/2⌋` goes above/left and the rest below/right (asymmetric for stride 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Padding {
    Fixed(usize),
    Same,
}

impl From<usize> for Padding {
    fn from(p: usize) -> Padding {
        Padding::Fixed(p)
    }
}

impl Padding {
    /// `(padding before, output size)` along an axis of `len` inputs, or why the kernel does not fit.
    pub fn resolve(self, len: usize, kernel: usize, stride: usize) -> std::result::Result<(usize, usize), String> {
        match self {
            Padding::Fixed(p) => {
                if p >= kernel {
                    return Err(format!("padding {p} must be smaller than kernel {kernel}"));
                }
                let padded = p
                    .checked_mul(2)
                    .and_then(|d| len.checked_add(d))
                    .ok_or(layer::TOO_BIG)?;
                if kernel > padded {
                    return Err(format!(
                        "kernel {kernel} is larger than the padded input ({len} + 2·{p} = {padded})"
                    ));
                }
                Ok((p, (padded - kernel) / stride + 1))
            }
            Padding::Same => {
                let out = len.div_ceil(stride);
                // (out − 1)·stride < len, so only the kernel can overflow the sum.
                let reach = ((out - 1) * stride).checked_add(kernel).ok_or(layer::TOO_BIG)?;
                Ok((reach.saturating_sub(len) / 2, out))
            }
        }
    }
}

/// One layer's architecture, as stored in the weight file's metadata (`"architecture": [...]`).
/// Its JSON form (a `"type"` tag in snake case, then the fields) is [`spec_json`]'s.
#[derive(Debug, Clone, PartialEq)]
pub enum LayerSpec {
    /// `y = W x + b`, `W: [out, in]`.
    Dense { inputs: usize, outputs: usize },
    /// 2-D convolution, `W: [out_ch, in_ch, k, k]`, `b: [out_ch]`; `padding` a number or `"same"`.
    Conv2d {
        in_channels: usize,
        out_channels: usize,
        kernel: usize,
        stride: usize,
        padding: Padding,
    },
    /// Non-overlapping max pooling with window = stride = `size`.
    MaxPool2d { size: usize },
    /// `max(0, x)`.
    Relu,
    /// NCHW → N×(C·H·W).
    Flatten,
    /// One `k×k` filter per channel, `W: [C, 1, k, k]`, `b: [C]` (PyTorch's layout for `groups = C`).
    DepthwiseConv2d {
        channels: usize,
        kernel: usize,
        stride: usize,
        padding: Padding,
    },
    /// `min(max(x, 0), 6)`.
    Relu6,
    /// `(x[c] − mean[c]) / std[c]` per channel; no tensors.
    Normalize { mean: Vec<f32>, std: Vec<f32> },
    /// `y = x + body(x)`; the body maps the shape to itself. Its tensors are `layers.<i>.layers.<j>.<name>`.
    Residual { layers: Vec<LayerSpec> },
    /// `[C, H, W]` → `C` (mean over `H·W`).
    GlobalAvgPool,
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
            LayerSpec::DepthwiseConv2d { .. } => "depthwise_conv2d",
            LayerSpec::Relu6 => "relu6",
            LayerSpec::Normalize { .. } => "normalize",
            LayerSpec::Residual { .. } => "residual",
            LayerSpec::GlobalAvgPool => "global_avg_pool",
        }
    }

    /// A convolution (shorthand for tests and architectures).
    pub fn conv2d(
        in_channels: usize,
        out_channels: usize,
        kernel: usize,
        stride: usize,
        padding: Padding,
    ) -> LayerSpec {
        LayerSpec::Conv2d {
            in_channels,
            out_channels,
            kernel,
            stride,
            padding,
        }
    }
}

/// A trainable parameter tensor: its top-level layer, leaf name (`weight`/`bias`), full tensor name
/// (`layers.<i>.weight`, or `layers.<i>.layers.<j>.weight` inside a residual block), shape, and row-major data.
pub struct ParamRef<'a> {
    pub layer: usize,
    pub name: &'static str,
    pub tensor: String,
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
        padding: Padding::Fixed(p),
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
        "efficientnet-lite0" => Some(efficientnet_lite0()),
        _ => None,
    }
}

/// EfficientNet-Lite0 (Tan & Le 2019, "EfficientNet: Rethinking Model Scaling for CNNs", with the Lite changes:
/// ReLU6, no squeeze-excite, fixed stem and head) for `[3, 224, 224]` pixels in `[0, 1]` and 1000 ImageNet classes,
/// batch norm folded into the convolutions (CONTRACTS.md §B):
///
/// normalize `(255·x − 127)/128` → conv 3→32 k3 s2 "same" → relu6 → 16 MBConv blocks → conv 320→1280 k1 → relu6
/// → global average pool → dense 1280→1000. Stages `(expand, kernel, first stride, out channels, repeats)`:
/// `(1,3,1,16,1) (6,3,2,24,2) (6,5,2,40,2) (6,3,2,80,3) (6,5,1,112,3) (6,5,2,192,4) (6,3,1,320,1)`.
/// An MBConv block (the inverted residual of Sandler et al. 2018) is [conv 1×1 in→in·e + relu6, when e ≠ 1] →
/// depthwise k×k with the stride → relu6 → conv 1×1 →out (linear bottleneck), wrapped in a `residual` exactly when
/// the stride is 1 and in = out: the stride-2 blocks are 1, 3, 5 and 11. Every convolution uses "same" padding.
/// 4 631 000 parameters (the checkpoint's 4 652 008 less the 21 008 batch-norm channels folded into biases),
/// 0.770 GFLOP (0.385 GMAC) per image.
fn efficientnet_lite0() -> Vec<LayerSpec> {
    use LayerSpec::*;
    const STAGES: [(usize, usize, usize, usize, usize); 7] = [
        (1, 3, 1, 16, 1),
        (6, 3, 2, 24, 2),
        (6, 5, 2, 40, 2),
        (6, 3, 2, 80, 3),
        (6, 5, 1, 112, 3),
        (6, 5, 2, 192, 4),
        (6, 3, 1, 320, 1),
    ];
    // The value a JSON reader gets from the converter's f64 127/255 (f64, then rounded to f32).
    let (mean, std) = ((127.0f64 / 255.0) as f32, (128.0f64 / 255.0) as f32);
    let conv = |i, o, k, s| LayerSpec::conv2d(i, o, k, s, Padding::Same);
    let mut net = vec![
        Normalize {
            mean: vec![mean; 3],
            std: vec![std; 3],
        },
        conv(3, 32, 3, 2),
        Relu6,
    ];
    let mut cin = 32;
    for (e, k, s0, cout, reps) in STAGES {
        for r in 0..reps {
            let s = if r == 0 { s0 } else { 1 };
            let mid = cin * e;
            let mut body = Vec::new();
            if e != 1 {
                body.extend([conv(cin, mid, 1, 1), Relu6]);
            }
            body.extend([
                DepthwiseConv2d {
                    channels: mid,
                    kernel: k,
                    stride: s,
                    padding: Padding::Same,
                },
                Relu6,
                conv(mid, cout, 1, 1),
            ]);
            if s == 1 && cin == cout {
                net.push(Residual { layers: body });
            } else {
                net.extend(body);
            }
            cin = cout;
        }
    }
    net.extend([
        conv(320, 1280, 1, 1),
        Relu6,
        GlobalAvgPool,
        Dense {
            inputs: 1280,
            outputs: 1000,
        },
    ]);
    net
}

/// The wider architectures [`architecture`] also accepts, for the adversarially trained models (`cnn-wide`).
pub const ROBUST_ARCHITECTURES: [&str; 1] = ["cnn-wide"];

/// The ImageNet architectures [`architecture`] accepts, for `[3, 224, 224]` inputs and 1000 classes.
pub const PHOTO_ARCHITECTURES: [&str; 1] = ["efficientnet-lite0"];

/// Names accepted by [`architecture`] for the standard models.
pub const ARCHITECTURES: [&str; 3] = ["linear", "mlp", "cnn"];
