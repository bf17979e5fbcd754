//! The [`Layer`] trait every layer implements, the registry that turns a [`LayerSpec`] into a layer (`build`),
//! and `Chain`, a validated sequence of layers with its forward record (`Tape`) and backpropagation. The
//! [`Model`](super::Model) is a chain; so is the body of a [`residual`](super::residual) block.
//!
//! Adding a layer: write its file (the struct, a constructor that validates the spec against the input shape
//! without allocating the weights, and `impl Layer`), add its [`LayerSpec`] variant, and add one line to `build`.
//!
//! Every activation is a standard-layout `[N, features]` matrix (an NCHW image flattened per row). A layer
//! computes `y = f(x; θ)` ([`Layer::forward`]) and the vector-Jacobian products `∂L/∂x = Jₓᵀ ∂L/∂y` and
//! `∂L/∂θ = J_θᵀ ∂L/∂y` ([`Layer::backward`]).

use ndarray::{Array2, ArrayView2};

use super::init::Init;
use super::LayerSpec;
use crate::error::{Error, Result};

/// Largest accepted activation size of one image at any layer (16 M values).
pub(crate) const MAX_ACTIVATION: usize = 1 << 24;

/// Message for sizes whose arithmetic overflows or exceeds the limits.
pub(crate) const TOO_BIG: &str = "absurdly large (overflows the size limits)";

/// Shape of one image's activation between layers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// `[C, H, W]`.
    Image([usize; 3]),
    /// A flat feature vector.
    Flat(usize),
}

impl Shape {
    /// Number of values.
    pub fn len(&self) -> usize {
        match *self {
            Shape::Image([c, h, w]) => c * h * w,
            Shape::Flat(d) => d,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `[C, H, W]`, or an error naming what the layer needs.
    pub(crate) fn image(&self) -> std::result::Result<[usize; 3], String> {
        match *self {
            Shape::Image(s) => Ok(s),
            Shape::Flat(_) => Err(format!("needs image input but receives {self}")),
        }
    }
}

impl std::fmt::Display for Shape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Shape::Image([c, h, w]) => write!(f, "{c}×{h}×{w}"),
            Shape::Flat(d) => write!(f, "{d} features"),
        }
    }
}

/// One parameter tensor of a layer: its path inside the layer (`weight`, or `layers.2.bias` inside a residual
/// block), its leaf name (`weight`/`bias`) and its shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamInfo {
    pub path: String,
    pub leaf: &'static str,
    pub shape: Vec<usize>,
}

impl ParamInfo {
    pub(crate) fn new(leaf: &'static str, shape: Vec<usize>) -> ParamInfo {
        ParamInfo {
            path: leaf.to_string(),
            leaf,
            shape,
        }
    }

    /// Number of values (the constructors checked that the product does not overflow).
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What a layer keeps from a forward pass for its backward pass, besides its input and output.
#[derive(Debug, Clone, Default)]
pub enum Saved {
    #[default]
    Nothing,
    /// Indices into the input (max-pool arg-max).
    Indices(Vec<u32>),
    /// The forward record of an inner chain (a residual block's body).
    Tape(Tape),
}

/// The forward record of a `Chain`: `acts[i]` is the input of layer `i` (empty when layer `i` ran in place),
/// the last entry the output; `saved[i]` is what layer `i` kept.
#[derive(Debug, Clone, Default)]
pub struct Tape {
    pub(crate) acts: Vec<Array2<f32>>,
    pub(crate) saved: Vec<Saved>,
    /// Batch size (`acts[0]` may have been consumed by an in-place first layer).
    pub(crate) rows: usize,
}

impl Tape {
    /// The chain's output.
    pub(crate) fn output(&self) -> &Array2<f32> {
        self.acts.last().expect("a tape holds the output")
    }
}

/// A clamping activation `y = min(max(x, lo), hi)` (ReLU6: `lo = 0`, `hi = 6`), which the layer before it can
/// apply while it writes its output ([`Layer::forward_clamped`]) instead of a second pass over the activation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Clamp {
    pub lo: f32,
    pub hi: f32,
}

impl Clamp {
    /// Compare-and-select, `x > lo ? x : lo`, then `y < hi ? y : hi`: NaN maps to `lo` (as ReLU's), and the
    /// simd128 `f32x4.pmax(lo, x)` / `f32x4.pmin(hi, y)` compute exactly this, so fused and unfused results are
    /// bit-identical.
    #[inline(always)]
    pub fn apply(self, x: f32) -> f32 {
        let y = if x > self.lo { x } else { self.lo };
        if y < self.hi {
            y
        } else {
            self.hi
        }
    }
}

/// One layer: its shapes and parameters, forward pass and VJPs. Implementations live one per file.
pub trait Layer: Send + Sync {
    /// Shape of one image's output (fixed at construction, which validated the input shape).
    fn output_shape(&self) -> Shape;

    /// The parameter tensors, in the order of [`Layer::params`].
    fn param_info(&self) -> Vec<ParamInfo> {
        Vec::new()
    }

    /// 2 × multiply-accumulates of the forward pass per image.
    fn flops(&self) -> usize {
        0
    }

    /// Allocates the (zero) parameters. Constructors only describe the layer, so that a whole model can be
    /// validated before anything large is allocated.
    fn allocate(&mut self) {}

    /// Row-major data of each parameter tensor.
    fn params(&self) -> Vec<&[f32]> {
        Vec::new()
    }

    /// Mutable data of each parameter tensor (optimisers, loading, initialisation).
    fn params_mut(&mut self) -> Vec<&mut [f32]> {
        Vec::new()
    }

    /// Draws the initial weights from `rng` (biases stay 0); `last` is true for the model's last parametric layer
    /// (Glorot instead of He, see [`super::init`]).
    fn init(&mut self, _rng: &mut Init, _last: bool) {}

    /// `y = f(x)` for `x: [N, input features]`; when `keep`, also what [`Layer::backward`] needs besides `x`, `y`.
    fn forward(&self, x: ArrayView2<f32>, keep: bool) -> (Array2<f32>, Saved);

    /// Whether the layer can overwrite its input with its output and its VJP needs neither `x` nor `Saved`
    /// (element-wise maps, flatten, normalisation). The chain then runs it in place, at inference and when
    /// recording (unless the previous layer's VJP needs that buffer as its output).
    fn in_place(&self) -> bool {
        false
    }

    /// [`Layer::forward`] in place; only called when [`Layer::in_place`].
    fn forward_in_place(&self, x: &mut Array2<f32>) {
        *x = self.forward(x.view(), false).0;
    }

    /// Whether the VJP reads the output `y` (ReLU's mask `y > 0`).
    fn needs_output(&self) -> bool {
        false
    }

    /// The clamp this layer computes, if it is a clamping activation that runs in place (ReLU6). The chain then
    /// asks the layer before it to apply the clamp as it writes its output ([`Layer::forward_clamped`]).
    fn clamp(&self) -> Option<Clamp> {
        None
    }

    /// `clamp(forward(x))` in one pass over the output, or `None` when this layer does not fuse a clamp (the
    /// default: the chain then runs the activation itself). A layer that fuses must give exactly the values of its
    /// forward pass followed by [`Clamp::apply`].
    fn forward_clamped(&self, _x: ArrayView2<f32>, _keep: bool, _clamp: Clamp) -> Option<(Array2<f32>, Saved)> {
        None
    }

    /// The layers this one runs inside it, in order (a residual block's body), for a per-layer profile; empty
    /// for a plain layer.
    fn parts(&self) -> Vec<&dyn Layer> {
        Vec::new()
    }

    /// VJPs for `dy = ∂L/∂y`: adds `∂L/∂θ` into `grads` (one buffer per parameter tensor) when given, and returns
    /// `∂L/∂x` when `need_dx` (else `None`). `x` is empty when the layer ran in place; `y` is only meaningful
    /// when [`Layer::needs_output`].
    fn backward(
        &self,
        x: ArrayView2<f32>,
        y: ArrayView2<f32>,
        saved: &Saved,
        dy: Array2<f32>,
        need_dx: bool,
        grads: Option<&mut [Vec<f32>]>,
    ) -> Option<Array2<f32>>;

    /// A boxed copy (the model is `Clone`).
    fn box_clone(&self) -> Box<dyn Layer>;
}

impl Clone for Box<dyn Layer> {
    fn clone(&self) -> Self {
        self.box_clone()
    }
}

/// Why a layer of the photo models (depthwise, ReLU6, normalise, global pool, residual) fails to build in an
/// engine compiled without the `photo` feature: the default page's lean wasm, which loads the photo engine for
/// photos.
pub const PHOTO_ENGINE_ONLY: &str = "this layer needs the photo engine (the wasm built with the `photo` feature)";

/// The registry: the one place where a [`LayerSpec`] becomes a layer on a given input shape. Validates
/// without allocating the weights; errors are messages for `Chain::build` to prefix with the layer.
pub(crate) fn build(spec: &LayerSpec, input: Shape) -> std::result::Result<Box<dyn Layer>, String> {
    use super::*;
    Ok(match spec {
        LayerSpec::Dense { inputs, outputs } => Box::new(dense::Dense::new(*inputs, *outputs, input)?),
        LayerSpec::Conv2d {
            in_channels,
            out_channels,
            kernel,
            stride,
            padding,
        } => Box::new(conv2d::Conv2d::new(
            *in_channels,
            *out_channels,
            *kernel,
            *stride,
            *padding,
            input,
        )?),
        LayerSpec::Relu => Box::new(relu::Relu(input)),
        LayerSpec::Flatten => Box::new(flatten::Flatten(input.len())),
        LayerSpec::MaxPool2d { size } => Box::new(maxpool::MaxPool2d::layer(*size, input)?),
        #[cfg(feature = "photo")]
        LayerSpec::DepthwiseConv2d {
            channels,
            kernel,
            stride,
            padding,
        } => Box::new(depthwise::DepthwiseConv2d::new(
            *channels, *kernel, *stride, *padding, input,
        )?),
        #[cfg(feature = "photo")]
        LayerSpec::Relu6 => Box::new(relu6::Relu6(input)),
        #[cfg(feature = "photo")]
        LayerSpec::Normalize { mean, std } => Box::new(normalize::Normalize::new(mean, std, input)?),
        #[cfg(feature = "photo")]
        LayerSpec::GlobalAvgPool => Box::new(global_avg_pool::GlobalAvgPool::new(input)?),
        #[cfg(feature = "photo")]
        LayerSpec::Residual { layers } => Box::new(residual::Residual::new(layers, input)?),
        #[cfg(not(feature = "photo"))]
        LayerSpec::DepthwiseConv2d { .. }
        | LayerSpec::Relu6
        | LayerSpec::Normalize { .. }
        | LayerSpec::GlobalAvgPool
        | LayerSpec::Residual { .. } => return Err(PHOTO_ENGINE_ONLY.to_string()),
    })
}

/// A validated sequence of layers.
#[derive(Clone)]
pub(crate) struct Chain {
    pub(crate) layers: Vec<Box<dyn Layer>>,
    /// `shapes[i]` is the input of layer `i`; the last entry is the output.
    pub(crate) shapes: Vec<Shape>,
    /// `offsets[i]..offsets[i + 1]` are layer `i`'s tensors in the chain's parameter list.
    pub(crate) offsets: Vec<usize>,
    /// Which layers run in place (see [`Layer::in_place`]).
    in_place: Vec<bool>,
    /// `fused[i]`: the clamp of layer `i + 1` (an in-place activation), offered to layer `i` to apply as it writes
    /// its output; when layer `i` takes it, layer `i + 1` does no work of its own. The tape is the one of the
    /// unfused chain.
    fused: Vec<Option<Clamp>>,
    pub(crate) num_params: usize,
    pub(crate) flops: usize,
}

/// The shapes and sizes, not the weights. (`Layer` has no `Debug` bound: every layer's derived `Debug`, with
/// ndarray's array formatter, would be linked into the wasm through the trait's vtables.)
impl std::fmt::Debug for Chain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Chain")
            .field("layers", &self.layers.len())
            .field("shapes", &self.shapes)
            .field("num_params", &self.num_params)
            .field("flops", &self.flops)
            .finish()
    }
}

impl Chain {
    /// Builds (without allocating weights) and validates `spec` on `input`: shapes chain, sizes are bounded.
    /// Messages are `layer <i> (<kind>): …`.
    pub(crate) fn build(spec: &[LayerSpec], input: Shape) -> std::result::Result<Chain, String> {
        let mut shapes = vec![input];
        let mut layers: Vec<Box<dyn Layer>> = Vec::with_capacity(spec.len());
        let mut offsets = vec![0];
        let (mut num_params, mut flops) = (0usize, 0usize);
        for (i, l) in spec.iter().enumerate() {
            let err = |m: &dyn std::fmt::Display| format!("layer {i} ({}): {m}", l.kind());
            let layer = build(l, *shapes.last().expect("non-empty")).map_err(|m| err(&m))?;
            let info = layer.param_info();
            for p in &info {
                num_params = num_params.checked_add(p.len()).ok_or_else(|| err(&TOO_BIG))?;
            }
            if num_params > super::MAX_PARAMS {
                return Err(err(&format!(
                    "the model would have over {} parameters",
                    super::MAX_PARAMS
                )));
            }
            let out = layer.output_shape();
            let n_out = match out {
                Shape::Image([c, h, w]) => c.checked_mul(h).and_then(|v| v.checked_mul(w)),
                Shape::Flat(d) => Some(d),
            };
            if n_out.is_none_or(|n| n > MAX_ACTIVATION) {
                return Err(err(&TOO_BIG));
            }
            if n_out == Some(0) {
                return Err(err(&"produces an empty output"));
            }
            flops = flops.saturating_add(layer.flops());
            offsets.push(offsets.last().expect("non-empty") + info.len());
            shapes.push(out);
            layers.push(layer);
        }
        let mut in_place = Vec::with_capacity(layers.len());
        for (i, l) in layers.iter().enumerate() {
            // Layer i − 1's VJP may read layer i's input as its own output: then that buffer must survive.
            let prev_needs = i > 0 && layers[i - 1].needs_output();
            in_place.push(l.in_place() && !prev_needs);
        }
        let fused = (0..layers.len())
            .map(|i| layers.get(i + 1).filter(|_| in_place[i + 1])?.clamp())
            .collect();
        Ok(Chain {
            layers,
            shapes,
            offsets,
            in_place,
            fused,
            num_params,
            flops,
        })
    }

    pub(crate) fn allocate(&mut self) {
        self.layers.iter_mut().for_each(|l| l.allocate());
    }

    pub(crate) fn output_shape(&self) -> Shape {
        *self.shapes.last().expect("non-empty")
    }

    /// Every parameter tensor, paths prefixed with `layers.<i>.`.
    pub(crate) fn param_info(&self) -> Vec<(usize, ParamInfo)> {
        let mut out = Vec::new();
        for (i, l) in self.layers.iter().enumerate() {
            for mut p in l.param_info() {
                p.path = format!("layers.{i}.{}", p.path);
                out.push((i, p));
            }
        }
        out
    }

    pub(crate) fn params(&self) -> Vec<&[f32]> {
        self.layers.iter().flat_map(|l| l.params()).collect()
    }

    pub(crate) fn params_mut(&mut self) -> Vec<&mut [f32]> {
        self.layers.iter_mut().flat_map(|l| l.params_mut()).collect()
    }

    /// Index of the first layer with parameters (below it, only `∂L/∂x` needs input gradients).
    fn first_param(&self) -> Option<usize> {
        (0..self.layers.len()).find(|&i| self.offsets[i + 1] > self.offsets[i])
    }

    /// Runs the chain on `x` (consumed). With `keep`, the tape holds every activation the VJPs need; without, only
    /// the output (inference: element-wise layers then work in the buffer they receive).
    pub(crate) fn forward(&self, x: Array2<f32>, keep: bool) -> Tape {
        let rows = x.nrows();
        if !keep {
            let mut cur = x;
            let mut skip = false;
            for (l, fused) in self.layers.iter().zip(&self.fused) {
                if std::mem::take(&mut skip) {
                    continue; // the previous layer applied this activation
                }
                if let Some(y) = fused.and_then(|c| l.forward_clamped(cur.view(), false, c)) {
                    cur = y.0;
                    skip = true;
                } else if l.in_place() {
                    l.forward_in_place(&mut cur);
                } else {
                    cur = l.forward(cur.view(), false).0;
                }
            }
            return Tape {
                acts: vec![cur],
                saved: Vec::new(),
                rows,
            };
        }
        let mut acts = Vec::with_capacity(self.layers.len() + 1);
        let mut saved = Vec::with_capacity(self.layers.len());
        acts.push(x);
        let mut skip = false;
        for ((l, &inp), fused) in self.layers.iter().zip(&self.in_place).zip(&self.fused) {
            if std::mem::take(&mut skip) {
                continue; // pushed with the previous layer
            }
            let last = acts.last_mut().expect("non-empty");
            if let Some((y, s)) = fused.and_then(|c| l.forward_clamped(last.view(), true, c)) {
                // As if the activation had run in place: its input buffer is empty, its output is `y`.
                acts.push(Array2::default((0, 0)));
                acts.push(y);
                saved.push(s);
                saved.push(Saved::Nothing);
                skip = true;
            } else if inp {
                let mut a = std::mem::take(last);
                l.forward_in_place(&mut a);
                acts.push(a);
                saved.push(Saved::Nothing);
            } else {
                let (y, s) = l.forward(last.view(), true);
                acts.push(y);
                saved.push(s);
            }
        }
        Tape { acts, saved, rows }
    }

    /// Backpropagates `dy` through a tape of `Chain::forward` with `keep`. Adds the parameter gradients into
    /// `grads` (this chain's tensors, in order) when given; returns `∂L/∂x` when `need_dx`.
    pub(crate) fn backward(
        &self,
        tape: &Tape,
        dy: Array2<f32>,
        need_dx: bool,
        mut grads: Option<&mut [Vec<f32>]>,
    ) -> Option<Array2<f32>> {
        assert_eq!(tape.acts.len(), self.layers.len() + 1, "tape from another chain");
        assert_eq!(tape.saved.len(), self.layers.len(), "tape from an inference pass");
        let first_param = self.first_param().unwrap_or(0);
        let want_params = grads.is_some();
        let mut g = dy;
        for (i, l) in self.layers.iter().enumerate().rev() {
            let need_in = need_dx || (want_params && i > first_param);
            let (a, b) = (self.offsets[i], self.offsets[i + 1]);
            let lg = match grads.as_deref_mut() {
                Some(gr) if b > a => Some(&mut gr[a..b]),
                _ => None,
            };
            if lg.is_none() && !need_in {
                return None;
            }
            let (x, y) = (tape.acts[i].view(), tape.acts[i + 1].view());
            match l.backward(x, y, &tape.saved[i], g, need_in, lg) {
                Some(n) => g = n,
                None => return None,
            }
        }
        Some(g)
    }
}

/// Checks a whole model's chain: input shape, non-empty spec, flat output of at least 2 scores.
pub(crate) fn plan_model(spec: &[LayerSpec], input_shape: [usize; 3]) -> Result<Chain> {
    if input_shape.contains(&0) {
        return Err(Error::Shape(format!(
            "input shape {input_shape:?} has a zero dimension"
        )));
    }
    let in_len = input_shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
    if in_len.is_none_or(|l| l > MAX_ACTIVATION) {
        return Err(Error::Shape(format!("input shape {input_shape:?} is too large")));
    }
    if spec.is_empty() {
        return Err(Error::Shape("the architecture has no layers".into()));
    }
    let chain = Chain::build(spec, Shape::Image(input_shape)).map_err(Error::Shape)?;
    match chain.output_shape() {
        Shape::Flat(k) if k >= 2 => Ok(chain),
        s => Err(Error::Shape(format!(
            "the last layer must output at least 2 class scores (flat), got {s}"
        ))),
    }
}
