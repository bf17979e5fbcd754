//! [`Model`]: a validated chain of layers, its parameters, and batched forward/backward passes.

use ndarray::{concatenate, s, Array2, Array4, ArrayView2, ArrayView4, Axis};

use super::conv2d::Conv2d;
use super::dense::Dense;
use super::flatten::flatten;
use super::im2col::ConvGeom;
use super::init::{glorot_bound, he_bound, Init};
use super::loss::{cross_entropy_rows, softmax_rows};
use super::maxpool::MaxPool2d;
use super::par::map_chunks;
use super::{relu, Gradients, LayerSpec, ParamRef};
use crate::error::{Error, Result};

/// Images per parallel work item. Fixed (not derived from the thread count) so that chunked reductions are
/// bit-identical on every machine with the same seed. 16 measured fastest (of 4/8/16/32) for the CNN: a chunk's
/// activations stay cache-sized and a 64-image batch still splits into 4 parallel items.
pub const CHUNK: usize = 16;

/// Largest accepted parameter count (50 M, 200 MB of f32): a spec above it is rejected, not allocated.
pub const MAX_PARAMS: usize = 50_000_000;

/// Largest accepted activation size of one image at any layer (16 M values).
const MAX_ACTIVATION: usize = 1 << 24;

/// Shape of one image's activation between layers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    Image([usize; 3]),
    Flat(usize),
}

impl Shape {
    fn len(&self) -> usize {
        match *self {
            Shape::Image([c, h, w]) => c * h * w,
            Shape::Flat(d) => d,
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

/// Everything [`Model::from_spec`] checks and derives before allocating anything.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    /// `shapes[i]` is the input of layer `i`; the last entry is the output.
    pub shapes: Vec<Shape>,
    /// `(layer, name, shape)` of every parameter tensor, in [`Model::params`] order.
    pub params: Vec<(usize, &'static str, Vec<usize>)>,
    pub flops: usize,
}

fn shape_err(i: usize, spec: &LayerSpec, msg: impl std::fmt::Display) -> Error {
    Error::Shape(format!("layer {i} ({}): {msg}", spec.kind()))
}

/// Validates `spec` on `input_shape` without allocating: shapes chain, sizes are non-zero and bounded.
pub(crate) fn plan(spec: &[LayerSpec], input_shape: [usize; 3]) -> Result<Plan> {
    if input_shape.contains(&0) {
        return Err(Error::Shape(format!(
            "input shape {input_shape:?} has a zero dimension"
        )));
    }
    let too_big = |i, s: &LayerSpec| shape_err(i, s, "absurdly large (overflows the size limits)");
    let in_len = input_shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
    if in_len.is_none_or(|l| l > MAX_ACTIVATION) {
        return Err(Error::Shape(format!("input shape {input_shape:?} is too large")));
    }
    if spec.is_empty() {
        return Err(Error::Shape("the architecture has no layers".into()));
    }
    let mut shapes = vec![Shape::Image(input_shape)];
    let mut params = Vec::new();
    let (mut flops, mut nparams) = (0usize, 0usize);
    for (i, l) in spec.iter().enumerate() {
        let cur = *shapes.last().expect("non-empty");
        let next = match *l {
            LayerSpec::Dense { inputs, outputs } => {
                if inputs == 0 || outputs == 0 {
                    return Err(shape_err(i, l, "inputs and outputs must be at least 1"));
                }
                let Shape::Flat(d) = cur else {
                    return Err(shape_err(
                        i,
                        l,
                        format!("needs flat input but receives {cur}; add a flatten layer"),
                    ));
                };
                if d != inputs {
                    return Err(shape_err(i, l, format!("expects {inputs} inputs but receives {d}")));
                }
                let w = inputs.checked_mul(outputs).ok_or_else(|| too_big(i, l))?;
                nparams = nparams.checked_add(w + outputs).ok_or_else(|| too_big(i, l))?;
                flops = flops.saturating_add(2 * w);
                params.push((i, "weight", vec![outputs, inputs]));
                params.push((i, "bias", vec![outputs]));
                Shape::Flat(outputs)
            }
            LayerSpec::Conv2d {
                in_channels,
                out_channels,
                kernel,
                stride,
                padding,
            } => {
                let Shape::Image([c, h, w]) = cur else {
                    return Err(shape_err(i, l, format!("needs image input but receives {cur}")));
                };
                if in_channels == 0 || out_channels == 0 || kernel == 0 || stride == 0 {
                    return Err(shape_err(i, l, "channels, kernel and stride must be at least 1"));
                }
                if in_channels != c {
                    return Err(shape_err(
                        i,
                        l,
                        format!("expects {in_channels} input channels but receives {cur}"),
                    ));
                }
                if padding >= kernel {
                    return Err(shape_err(
                        i,
                        l,
                        format!("padding {padding} must be smaller than kernel {kernel}"),
                    ));
                }
                if kernel > h + 2 * padding || kernel > w + 2 * padding {
                    return Err(shape_err(
                        i,
                        l,
                        format!(
                            "kernel {kernel} is larger than the padded input {}×{}",
                            h + 2 * padding,
                            w + 2 * padding
                        ),
                    ));
                }
                let (ho, wo) = (
                    (h + 2 * padding - kernel) / stride + 1,
                    (w + 2 * padding - kernel) / stride + 1,
                );
                let ckk = kernel
                    .checked_mul(kernel)
                    .and_then(|k| k.checked_mul(c))
                    .ok_or_else(|| too_big(i, l))?;
                let wn = ckk.checked_mul(out_channels).ok_or_else(|| too_big(i, l))?;
                nparams = nparams.checked_add(wn + out_channels).ok_or_else(|| too_big(i, l))?;
                let out = out_channels.checked_mul(ho * wo).ok_or_else(|| too_big(i, l))?;
                if out > MAX_ACTIVATION || ckk > MAX_ACTIVATION {
                    return Err(too_big(i, l));
                }
                flops = flops.saturating_add(wn.saturating_mul(2 * ho * wo));
                params.push((i, "weight", vec![out_channels, c, kernel, kernel]));
                params.push((i, "bias", vec![out_channels]));
                Shape::Image([out_channels, ho, wo])
            }
            LayerSpec::MaxPool2d { size } => {
                let Shape::Image([c, h, w]) = cur else {
                    return Err(shape_err(i, l, format!("needs image input but receives {cur}")));
                };
                if size == 0 {
                    return Err(shape_err(i, l, "size must be at least 1"));
                }
                if size > h || size > w {
                    return Err(shape_err(
                        i,
                        l,
                        format!("window {size} is larger than the input {h}×{w}"),
                    ));
                }
                Shape::Image([c, h / size, w / size])
            }
            LayerSpec::Relu => cur,
            LayerSpec::Flatten => Shape::Flat(cur.len()),
        };
        if nparams > MAX_PARAMS {
            return Err(shape_err(
                i,
                l,
                format!("the model would have over {MAX_PARAMS} parameters"),
            ));
        }
        shapes.push(next);
    }
    match shapes.last() {
        Some(Shape::Flat(k)) if *k >= 2 => {}
        Some(s) => {
            return Err(Error::Shape(format!(
                "the last layer must output at least 2 class scores (flat), got {s}"
            )))
        }
        None => unreachable!(),
    }
    Ok(Plan { shapes, params, flops })
}

/// One layer with its parameters.
#[derive(Debug, Clone)]
enum Layer {
    Dense(Dense),
    Conv2d(Conv2d),
    MaxPool2d(MaxPool2d),
    Relu,
    Flatten,
}

/// A sequence of layers mapping `[N, C, H, W]` images to `[N, classes]` logits.
#[derive(Debug, Clone)]
pub struct Model {
    spec: Vec<LayerSpec>,
    input_shape: [usize; 3],
    layers: Vec<Layer>,
    plan: Plan,
    /// Index in [`Model::params`] of each layer's weight (its bias follows), `None` for layers without parameters.
    slot: Vec<Option<usize>>,
}

/// Activations kept by [`Model::forward_cached`] for [`Model::backward`].
#[derive(Debug, Clone)]
pub struct ForwardCache {
    /// `acts[i]` is the input of layer `i` as `[N, features]`; the last entry is the logits.
    acts: Vec<Array2<f32>>,
    /// Arg-max indices of each max-pool layer (empty for other layers).
    pool_idx: Vec<Vec<u32>>,
}

impl ForwardCache {
    /// `[N, classes]`.
    pub fn logits(&self) -> ArrayView2<'_, f32> {
        self.acts.last().expect("cache holds the logits").view()
    }
    /// Batch size.
    pub fn len(&self) -> usize {
        self.acts[0].nrows()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Result of [`Model::loss_and_gradients`]: what a training step needs.
#[derive(Debug, Clone)]
pub struct BatchGradient {
    /// Mean cross-entropy over the batch.
    pub loss: f32,
    /// Images whose arg-max logit is the label.
    pub correct: usize,
    /// `∂(mean loss)/∂θ`.
    pub grads: Gradients,
}

impl Model {
    /// Builds a model with zero-initialised parameters; validates that the shapes chain.
    ///
    /// Rejected with [`Error::Shape`]: an empty list, zero sizes, a dense layer on image input (use `flatten`),
    /// channel or feature counts that do not chain, a kernel or pool window larger than its (padded) input,
    /// padding ≥ kernel, more than [`MAX_PARAMS`] parameters, an output that is not a flat vector of ≥ 2 scores.
    pub fn from_spec(spec: &[LayerSpec], input_shape: [usize; 3]) -> Result<Model> {
        let plan = plan(spec, input_shape)?;
        let mut layers = Vec::with_capacity(spec.len());
        let mut slot = Vec::with_capacity(spec.len());
        let mut nslots = 0;
        for (i, l) in spec.iter().enumerate() {
            let layer = match (l, plan.shapes[i]) {
                (&LayerSpec::Dense { inputs, outputs }, _) => Layer::Dense(Dense::zeros(inputs, outputs)),
                (
                    &LayerSpec::Conv2d {
                        out_channels,
                        kernel,
                        stride,
                        padding,
                        ..
                    },
                    Shape::Image([c, h, w]),
                ) => {
                    let Shape::Image([o, ho, wo]) = plan.shapes[i + 1] else {
                        unreachable!("planned")
                    };
                    debug_assert_eq!(o, out_channels);
                    Layer::Conv2d(Conv2d::zeros(ConvGeom {
                        c,
                        h,
                        w,
                        o,
                        k: kernel,
                        s: stride,
                        p: padding,
                        ho,
                        wo,
                    }))
                }
                (&LayerSpec::MaxPool2d { size }, Shape::Image([c, h, w])) => {
                    Layer::MaxPool2d(MaxPool2d::new(c, h, w, size))
                }
                (LayerSpec::Relu, _) => Layer::Relu,
                (LayerSpec::Flatten, _) => Layer::Flatten,
                _ => unreachable!("plan() checked the input kinds"),
            };
            if matches!(layer, Layer::Dense(_) | Layer::Conv2d(_)) {
                slot.push(Some(nslots));
                nslots += 2;
            } else {
                slot.push(None);
            }
            layers.push(layer);
        }
        Ok(Model {
            spec: spec.to_vec(),
            input_shape,
            layers,
            plan,
            slot,
        })
    }

    /// He/Glorot initialisation from a seed (deterministic; see [`super::init`]).
    pub fn init(spec: &[LayerSpec], input_shape: [usize; 3], seed: u64) -> Result<Model> {
        let mut m = Model::from_spec(spec, input_shape)?;
        let last = m.slot.iter().rposition(Option::is_some);
        let mut rng = Init::new(seed);
        for (i, layer) in m.layers.iter_mut().enumerate() {
            let (w, fan_in, fan_out) = match layer {
                Layer::Dense(d) => {
                    let (fi, fo) = (d.inputs(), d.outputs());
                    (d.w.as_slice_mut().expect("standard"), fi, fo)
                }
                Layer::Conv2d(c) => {
                    let (ckk, o, kk) = (c.g.ckk(), c.g.o, c.g.k * c.g.k);
                    (c.params_mut().0, ckk, o * kk)
                }
                _ => continue,
            };
            let a = if Some(i) == last {
                glorot_bound(fan_in, fan_out)
            } else {
                he_bound(fan_in)
            };
            rng.fill(w, a);
        }
        Ok(m)
    }

    pub fn spec(&self) -> &[LayerSpec] {
        &self.spec
    }

    /// `[C, H, W]`.
    pub fn input_shape(&self) -> [usize; 3] {
        self.input_shape
    }

    pub fn num_classes(&self) -> usize {
        self.plan.shapes.last().map_or(0, Shape::len)
    }

    /// Multiply-accumulate count ×2 of one forward pass on one image (convolutions and dense layers).
    pub fn flops_per_image(&self) -> usize {
        self.plan.flops
    }

    /// Total number of trainable scalars.
    pub fn num_params(&self) -> usize {
        self.params().iter().map(|p| p.data.len()).sum()
    }

    /// Feature count of each layer's input per image, then of the output (`len = layers + 1`).
    pub fn activation_sizes(&self) -> Vec<usize> {
        self.plan.shapes.iter().map(Shape::len).collect()
    }

    pub fn params(&self) -> Vec<ParamRef<'_>> {
        let mut data = Vec::new();
        for layer in &self.layers {
            let (w, b) = match layer {
                Layer::Dense(d) => (&d.w, &d.b),
                Layer::Conv2d(c) => (&c.w, &c.b),
                _ => continue,
            };
            data.push(w.as_slice().expect("standard"));
            data.push(b.as_slice().expect("standard"));
        }
        self.plan
            .params
            .iter()
            .zip(data)
            .map(|((layer, name, shape), data)| ParamRef {
                layer: *layer,
                name,
                shape: shape.clone(),
                data,
            })
            .collect()
    }

    /// Mutable row-major data of every parameter tensor, in [`Model::params`] order (for optimisers).
    pub fn params_mut(&mut self) -> Vec<&mut [f32]> {
        let mut out = Vec::new();
        for layer in &mut self.layers {
            let (w, b) = match layer {
                Layer::Dense(d) => (&mut d.w, &mut d.b),
                Layer::Conv2d(c) => {
                    let (w, b) = c.params_mut();
                    out.push(w);
                    out.push(b);
                    continue;
                }
                _ => continue,
            };
            out.push(w.as_slice_mut().expect("standard"));
            out.push(b.as_slice_mut().expect("standard"));
        }
        out
    }

    /// Overwrites parameter `index` (order of [`Model::params`]); errors on length mismatch.
    pub fn set_param(&mut self, index: usize, data: &[f32]) -> Result<()> {
        let mut params = self.params_mut();
        let n = params.len();
        let p = params
            .get_mut(index)
            .ok_or_else(|| Error::param("index", format!("parameter {index} does not exist (the model has {n})")))?;
        if p.len() != data.len() {
            return Err(Error::Shape(format!(
                "parameter {index} has {} values, got {}",
                p.len(),
                data.len()
            )));
        }
        p.copy_from_slice(data);
        Ok(())
    }

    /// `Ok` when `x` is `[N, C, H, W]` with this model's `[C, H, W]`.
    pub fn check_input(&self, x: ArrayView4<f32>) -> Result<()> {
        let [c, h, w] = self.input_shape;
        if x.shape()[1..] != [c, h, w] {
            return Err(Error::Shape(format!(
                "the model takes images of shape [N, {c}, {h}, {w}], got {:?}",
                x.shape()
            )));
        }
        Ok(())
    }

    /// `Ok` when there are `n` labels, each below [`Model::num_classes`].
    pub fn check_labels(&self, labels: &[usize], n: usize) -> Result<()> {
        if labels.len() != n {
            return Err(Error::Shape(format!("{n} images but {} labels", labels.len())));
        }
        let k = self.num_classes();
        if let Some(&bad) = labels.iter().find(|&&y| y >= k) {
            return Err(Error::param(
                "labels",
                format!("label {bad} is out of range for {k} classes"),
            ));
        }
        Ok(())
    }

    /// Forward pass over `x` on the calling thread, keeping what [`Model::backward`] needs.
    pub fn forward_cached(&self, x: ArrayView4<f32>) -> ForwardCache {
        self.forward_rows(flatten(x).view(), true)
    }

    fn forward_rows(&self, x: ArrayView2<f32>, keep: bool) -> ForwardCache {
        let mut acts = vec![x.to_owned()];
        let mut pool_idx = Vec::with_capacity(self.layers.len());
        for layer in &self.layers {
            if !keep && matches!(layer, Layer::Relu) {
                // Inference: nothing reads the pre-activation again, so rectify it in place.
                relu::forward_in_place(acts.last_mut().expect("input"));
                pool_idx.push(Vec::new());
                continue;
            }
            let cur = acts.last().expect("input").view();
            let (next, idx) = match layer {
                Layer::Dense(d) => (d.forward(cur), Vec::new()),
                Layer::Conv2d(c) => (c.forward(cur), Vec::new()),
                Layer::MaxPool2d(p) if keep => p.forward(cur),
                Layer::MaxPool2d(p) => (p.forward_values(cur), Vec::new()),
                Layer::Relu => (relu::forward(cur), Vec::new()),
                Layer::Flatten => {
                    if !keep {
                        pool_idx.push(Vec::new());
                        continue;
                    }
                    (cur.to_owned(), Vec::new())
                }
            };
            if !keep {
                acts.clear();
            }
            acts.push(next);
            pool_idx.push(if keep { idx } else { Vec::new() });
        }
        ForwardCache { acts, pool_idx }
    }

    /// Time per layer of one forward pass over `x`, averaged over `reps` runs, in the units of `now` (a clock the
    /// caller supplies, so this module needs no platform timer). For the benchmarks: where a forward pass spends
    /// its time.
    pub fn profile_layers(&self, x: ArrayView4<f32>, reps: usize, now: &dyn Fn() -> f64) -> Vec<(String, f64)> {
        let reps = reps.max(1);
        let mut cur = flatten(x).into_owned();
        let mut out = Vec::with_capacity(self.layers.len());
        for (layer, spec) in self.layers.iter().zip(&self.spec) {
            let run = |cur: ArrayView2<f32>| match layer {
                Layer::Dense(d) => d.forward(cur),
                Layer::Conv2d(c) => c.forward(cur),
                Layer::MaxPool2d(p) => p.forward_values(cur),
                Layer::Relu => relu::forward(cur),
                Layer::Flatten => cur.to_owned(),
            };
            let t0 = now();
            let mut next = run(cur.view());
            for _ in 1..reps {
                next = std::hint::black_box(run(cur.view()));
            }
            out.push((format!("{spec:?}"), (now() - t0) / reps as f64));
            cur = next;
        }
        out
    }

    /// `(∂L/∂x, ∂L/∂θ)` given `dlogits = ∂L/∂logits` and the cache of the same batch. Parameter gradients are
    /// those of `L` itself (not averaged): scale `dlogits` for a mean.
    pub fn backward(&self, cache: &ForwardCache, dlogits: ArrayView2<f32>) -> (Array4<f32>, Gradients) {
        let mut grads = Gradients::zeros_like(self);
        let dx = self
            .backward_impl(cache, dlogits, true, Some(&mut grads))
            .expect("dx requested");
        (self.to_images(dx), grads)
    }

    /// `∂L/∂x` only (skips all parameter gradients: what attacks need).
    pub fn backward_input(&self, cache: &ForwardCache, dlogits: ArrayView2<f32>) -> Array4<f32> {
        self.to_images(self.backward_impl(cache, dlogits, false, None).expect("dx requested"))
    }

    /// `∂L/∂θ` only, accumulated into `grads` (skips the input gradient of the first parametric layer).
    pub fn backward_params(&self, cache: &ForwardCache, dlogits: ArrayView2<f32>, grads: &mut Gradients) {
        self.backward_impl(cache, dlogits, false, Some(grads));
    }

    /// The one backpropagation routine: walks the layers in reverse, applying each layer's VJP.
    fn backward_impl(
        &self,
        cache: &ForwardCache,
        dlogits: ArrayView2<f32>,
        need_dx: bool,
        mut grads: Option<&mut Gradients>,
    ) -> Option<Array2<f32>> {
        assert_eq!(cache.acts.len(), self.layers.len() + 1, "cache from another model");
        assert_eq!(
            dlogits.dim(),
            cache.logits().dim(),
            "dlogits must have the logits' shape"
        );
        // Below the first parametric layer, input gradients are only needed for ∂L/∂x.
        let first_param = self.slot.iter().position(Option::is_some).unwrap_or(0);
        let want_params = grads.is_some();
        let mut g = dlogits.to_owned();
        for (i, layer) in self.layers.iter().enumerate().rev() {
            let x = cache.acts[i].view();
            let need_in = need_dx || (want_params && i > first_param);
            let pg = match (self.slot[i], grads.as_deref_mut()) {
                (Some(k), Some(gr)) => {
                    let (a, b) = gr.0.split_at_mut(k + 1);
                    Some((a[k].as_mut_slice(), b[0].as_mut_slice()))
                }
                _ => None,
            };
            let next = match layer {
                Layer::Dense(d) => d.backward(x, g.view(), need_in, pg),
                Layer::Conv2d(c) => c.backward(x, g.view(), need_in, pg),
                Layer::MaxPool2d(p) => need_in.then(|| p.backward(g.view(), &cache.pool_idx[i])),
                Layer::Relu => need_in.then(|| relu::backward(x, g.view())),
                Layer::Flatten => Some(g),
            };
            match next {
                Some(n) => g = n,
                None => return None,
            }
        }
        Some(g)
    }

    fn to_images(&self, x: Array2<f32>) -> Array4<f32> {
        let [c, h, w] = self.input_shape;
        let n = x.nrows();
        x.into_shape_with_order((n, c, h, w))
            .expect("input rows have C·H·W features")
    }

    /// `[N, classes]`. Runs in parallel over chunks of [`CHUNK`] images natively.
    pub fn logits(&self, x: ArrayView4<f32>) -> Array2<f32> {
        let x = flatten(x);
        let n = x.nrows();
        if n <= CHUNK {
            return self.forward_rows(x.view(), false).acts.pop().expect("logits");
        }
        let parts = map_chunks(n, CHUNK, |r| {
            self.forward_rows(x.slice(s![r, ..]), false).acts.pop().expect("logits")
        });
        cat_rows(parts, self.num_classes())
    }

    /// Row-wise softmax of the logits.
    pub fn probabilities(&self, x: ArrayView4<f32>) -> Array2<f32> {
        softmax_rows(self.logits(x).view())
    }

    /// Arg-max class of each image.
    pub fn predict(&self, x: ArrayView4<f32>) -> Vec<usize> {
        super::argmax_rows(self.logits(x).view())
    }

    /// Mean softmax cross-entropy.
    pub fn loss(&self, x: ArrayView4<f32>, labels: &[usize]) -> f32 {
        let n = x.len_of(Axis(0));
        if n == 0 {
            return 0.0;
        }
        let z = self.logits(x);
        let (sum, _, _) = cross_entropy_rows(z.view(), labels, 1.0);
        (sum / n as f64) as f32
    }

    /// `(logits, ∂(Σ dlogits ⊙ logits)/∂x)`: one forward and one backward pass.
    pub fn logits_vjp(&self, x: ArrayView4<f32>, dlogits: ArrayView2<f32>) -> (Array2<f32>, Array4<f32>) {
        let xf = flatten(x);
        let n = xf.nrows();
        assert_eq!(dlogits.dim(), (n, self.num_classes()), "dlogits must be [N, classes]");
        let parts = map_chunks(n, CHUNK, |r| {
            let cache = self.forward_rows(xf.slice(s![r.clone(), ..]), true);
            let dx = self
                .backward_impl(&cache, dlogits.slice(s![r, ..]), true, None)
                .expect("dx");
            (cache.acts.last().expect("logits").clone(), dx)
        });
        let (z, dx): (Vec<_>, Vec<_>) = parts.into_iter().unzip();
        (
            cat_rows(z, self.num_classes()),
            self.to_images(cat_rows(dx, xf.ncols())),
        )
    }

    /// `(mean loss, ∂loss/∂x)` for the cross-entropy loss.
    pub fn input_gradient(&self, x: ArrayView4<f32>, labels: &[usize]) -> (f32, Array4<f32>) {
        let xf = flatten(x);
        let n = xf.nrows();
        assert_eq!(labels.len(), n, "one label per image");
        if n == 0 {
            return (0.0, x.to_owned());
        }
        let scale = 1.0 / n as f32;
        let parts = map_chunks(n, CHUNK, |r| {
            let cache = self.forward_rows(xf.slice(s![r.clone(), ..]), true);
            let (sum, dz, _) = cross_entropy_rows(cache.logits(), &labels[r], scale);
            (sum, self.backward_impl(&cache, dz.view(), true, None).expect("dx"))
        });
        let loss = parts.iter().map(|p| p.0).sum::<f64>() / n as f64;
        let dx = cat_rows(parts.into_iter().map(|p| p.1).collect(), xf.ncols());
        (loss as f32, self.to_images(dx))
    }

    /// `(mean loss, ∂loss/∂θ)` for training.
    pub fn param_gradient(&self, x: ArrayView4<f32>, labels: &[usize]) -> (f32, Gradients) {
        let b = self.loss_and_gradients(x, labels);
        (b.loss, b.grads)
    }

    /// Mean loss, correct count and `∂(mean loss)/∂θ`: chunks of [`CHUNK`] images in parallel natively, their
    /// gradients summed in chunk order (bit-identical whatever the threads do).
    pub fn loss_and_gradients(&self, x: ArrayView4<f32>, labels: &[usize]) -> BatchGradient {
        let xf = flatten(x);
        let n = xf.nrows();
        assert_eq!(labels.len(), n, "one label per image");
        if n == 0 {
            return BatchGradient {
                loss: 0.0,
                correct: 0,
                grads: Gradients::zeros_like(self),
            };
        }
        let scale = 1.0 / n as f32;
        let parts = map_chunks(n, CHUNK, |r| {
            let cache = self.forward_rows(xf.slice(s![r.clone(), ..]), true);
            let (sum, dz, correct) = cross_entropy_rows(cache.logits(), &labels[r], scale);
            let mut grads = Gradients::zeros_like(self);
            self.backward_params(&cache, dz.view(), &mut grads);
            (sum, correct, grads)
        });
        let mut it = parts.into_iter();
        let (mut sum, mut correct, mut grads) = it.next().expect("n > 0");
        for (s, c, g) in it {
            sum += s;
            correct += c;
            grads.add_assign(&g);
        }
        BatchGradient {
            loss: (sum / n as f64) as f32,
            correct,
            grads,
        }
    }
}

/// Stacks row blocks (all with `cols` columns) in order.
fn cat_rows(parts: Vec<Array2<f32>>, cols: usize) -> Array2<f32> {
    match parts.len() {
        0 => Array2::zeros((0, cols)),
        1 => parts.into_iter().next().expect("one part"),
        _ => {
            let views: Vec<_> = parts.iter().map(|p| p.view()).collect();
            concatenate(Axis(0), &views).expect("blocks share the column count")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Error, Model};
    use crate::nn::architecture;
    use crate::nn::LayerSpec::{self, *};

    fn conv(i: usize, o: usize, k: usize, s: usize, p: usize) -> LayerSpec {
        Conv2d {
            in_channels: i,
            out_channels: o,
            kernel: k,
            stride: s,
            padding: p,
        }
    }

    fn shape_err(spec: &[LayerSpec], input: [usize; 3], needle: &str) {
        match Model::from_spec(spec, input) {
            Err(Error::Shape(m)) => {
                assert!(m.contains(needle), "`{m}` does not mention `{needle}`")
            }
            other => panic!("expected a shape error about `{needle}`, got {other:?}"),
        }
    }

    #[test]
    fn shipped_architectures() {
        let expect = [
            ("linear", 7_850, 15_680),
            ("mlp", 235_146, 469_504),
            ("cnn", 158_442, 3_403_264),
        ];
        for (name, params, flops) in expect {
            let m = Model::init(&architecture(name).unwrap(), [1, 28, 28], 0).unwrap();
            assert_eq!(
                (m.num_params(), m.flops_per_image(), m.num_classes()),
                (params, flops, 10),
                "{name}"
            );
            assert!(m.num_params() * 4 < 1 << 20, "{name} must stay under 1 MB");
        }
        assert!(architecture("resnet").is_none());
        let m = Model::init(&architecture("cnn").unwrap(), [1, 28, 28], 0).unwrap();
        assert_eq!(
            m.activation_sizes(),
            vec![784, 25088, 25088, 6272, 4608, 4608, 1152, 1152, 128, 128, 10]
        );
        let names: Vec<_> = m
            .params()
            .iter()
            .map(|p| format!("{}.{}{:?}", p.layer, p.name, p.shape))
            .collect();
        assert_eq!(names[0], "0.weight[32, 1, 3, 3]");
        assert_eq!(names[7], "9.bias[10]");
        // The serialised form is the documented one.
        let json = serde_json::to_string(&architecture("cnn").unwrap()[..3]).unwrap();
        assert_eq!(
            json,
            r#"[{"type":"conv2d","in_channels":1,"out_channels":32,"kernel":3,"stride":1,"padding":1},{"type":"relu"},{"type":"max_pool2d","size":2}]"#
        );
    }

    #[test]
    fn init_is_seeded_and_scaled() {
        let spec = architecture("mlp").unwrap();
        let a = Model::init(&spec, [1, 28, 28], 1).unwrap();
        let b = Model::init(&spec, [1, 28, 28], 1).unwrap();
        let c = Model::init(&spec, [1, 28, 28], 2).unwrap();
        assert_eq!(a.params()[0].data, b.params()[0].data);
        assert_ne!(a.params()[0].data, c.params()[0].data);
        let w = a.params()[0].data;
        let bound = (6.0f32 / 784.0).sqrt();
        assert!(w.iter().all(|v| v.abs() <= bound) && w.iter().any(|v| v.abs() > 0.9 * bound));
        assert!(a.params()[1].data.iter().all(|&v| v == 0.0));
    }

    #[test]
    fn bad_specs_are_rejected() {
        let d = |i, o| Dense { inputs: i, outputs: o };
        shape_err(&[], [1, 28, 28], "no layers");
        shape_err(&[Flatten, d(784, 10)], [1, 0, 28], "zero");
        shape_err(&[d(784, 10)], [1, 28, 28], "add a flatten layer");
        shape_err(
            &[Flatten, d(780, 10)],
            [1, 28, 28],
            "expects 780 inputs but receives 784",
        );
        shape_err(&[Flatten, d(784, 0)], [1, 28, 28], "at least 1");
        shape_err(
            &[conv(3, 4, 3, 1, 0), Flatten, d(2704, 10)],
            [1, 28, 28],
            "input channels",
        );
        shape_err(
            &[conv(1, 4, 30, 1, 0), Flatten],
            [1, 28, 28],
            "larger than the padded input",
        );
        shape_err(&[conv(1, 4, 3, 0, 0), Flatten], [1, 28, 28], "stride");
        shape_err(&[conv(1, 4, 3, 1, 3), Flatten], [1, 28, 28], "padding");
        shape_err(&[conv(1, 0, 3, 1, 0), Flatten], [1, 28, 28], "at least 1");
        shape_err(&[MaxPool2d { size: 29 }, Flatten], [1, 28, 28], "larger than the input");
        shape_err(&[MaxPool2d { size: 0 }, Flatten], [1, 28, 28], "at least 1");
        shape_err(&[Flatten, MaxPool2d { size: 2 }], [1, 28, 28], "needs image input");
        shape_err(&[Flatten, conv(1, 1, 1, 1, 0)], [1, 28, 28], "needs image input");
        shape_err(&[Flatten, d(784, 1)], [1, 28, 28], "at least 2 class scores");
        shape_err(&[conv(1, 10, 28, 1, 0)], [1, 28, 28], "flat");
        shape_err(
            &[Flatten, d(784, 100_000), Relu, d(100_000, 10)],
            [1, 28, 28],
            "parameters",
        );
        shape_err(&[Flatten, d(784, usize::MAX / 2)], [1, 28, 28], "absurdly large");
        shape_err(
            &[conv(1, usize::MAX / 4, 3, 1, 0), Flatten],
            [1, 28, 28],
            "absurdly large",
        );
        shape_err(&[Flatten, d(usize::MAX, 2)], [usize::MAX, 2, 2], "too large");
    }

    #[test]
    fn param_and_input_checks() {
        let mut m = Model::from_spec(&architecture("linear").unwrap(), [1, 28, 28]).unwrap();
        assert!(matches!(m.set_param(0, &[0.0; 3]), Err(Error::Shape(_))));
        assert!(matches!(
            m.set_param(2, &[0.0; 10]),
            Err(Error::InvalidParameter { .. })
        ));
        m.set_param(1, &[0.5; 10]).unwrap();
        assert_eq!(m.params()[1].data, &[0.5; 10]);
        let x = ndarray::Array4::<f32>::zeros((2, 1, 28, 27));
        assert!(matches!(m.check_input(x.view()), Err(Error::Shape(_))));
        assert!(m
            .check_input(ndarray::Array4::<f32>::zeros((0, 1, 28, 28)).view())
            .is_ok());
        assert!(matches!(m.check_labels(&[1, 2], 3), Err(Error::Shape(_))));
        assert!(matches!(
            m.check_labels(&[1, 10], 2),
            Err(Error::InvalidParameter { .. })
        ));
        // Empty batches are fine everywhere.
        let e = ndarray::Array4::<f32>::zeros((0, 1, 28, 28));
        assert_eq!(m.logits(e.view()).dim(), (0, 10));
        assert_eq!(m.input_gradient(e.view(), &[]).1.dim(), (0, 1, 28, 28));
        assert_eq!(m.param_gradient(e.view(), &[]).0, 0.0);
        assert_eq!(m.loss(e.view(), &[]), 0.0);
        // Non-standard-layout input gives the same logits as its standard copy.
        let x = ndarray::Array4::from_shape_fn((3, 1, 28, 28), |(n, _, i, j)| (n * i + j) as f32 / 100.0);
        let mut xt = ndarray::Array4::<f32>::zeros((28, 28, 1, 3));
        xt.assign(&x.view().permuted_axes([2, 3, 1, 0]));
        let back = xt.view().permuted_axes([3, 2, 0, 1]);
        assert!(!back.is_standard_layout());
        assert_eq!(m.logits(back), m.logits(x.view()));
    }
}
