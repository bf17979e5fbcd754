//! [`Model`]: a validated chain of layers ([`super::layer`]), its parameters, and batched forward/backward passes.

use ndarray::{concatenate, s, Array2, Array4, ArrayView2, ArrayView4, Axis};

use super::flatten::flatten;
use super::init::Init;
use super::layer::{plan_model, Chain, Layer, ParamInfo, Shape, Tape};
use super::loss::{cross_entropy_rows, softmax_rows};
use super::par::map_chunks;
use super::{Gradients, LayerSpec, ParamRef};
use crate::error::{Error, Result};

/// Images per parallel work item. Fixed (not derived from the thread count) so that chunked reductions are
/// bit-identical on every machine with the same seed. 16 measured fastest (of 4/8/16/32) for the CNN: a chunk's
/// activations stay cache-sized and a 64-image batch still splits into 4 parallel items.
pub const CHUNK: usize = 16;

/// Largest accepted parameter count (50 M, 200 MB of f32): a spec above it is rejected, not allocated.
pub const MAX_PARAMS: usize = 50_000_000;

/// Everything [`Model::from_spec`] checks and derives before allocating any weight.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    /// `shapes[i]` is the input of top-level layer `i`; the last entry is the output.
    pub shapes: Vec<Shape>,
    /// `(top-level layer, tensor)` of every parameter tensor, in [`Model::params`] order; tensor paths are full
    /// names (`layers.<i>.weight`).
    pub params: Vec<(usize, ParamInfo)>,
}

/// Validates `spec` on `input_shape` without allocating weights: shapes chain, sizes are non-zero and bounded.
pub(crate) fn plan(spec: &[LayerSpec], input_shape: [usize; 3]) -> Result<Plan> {
    let chain = plan_model(spec, input_shape)?;
    Ok(Plan {
        params: chain.param_info(),
        shapes: chain.shapes,
    })
}

/// A sequence of layers mapping `[N, C, H, W]` images to `[N, classes]` logits.
#[derive(Debug, Clone)]
pub struct Model {
    spec: Vec<LayerSpec>,
    input_shape: [usize; 3],
    chain: Chain,
    /// `(top-level layer, tensor)` for [`Model::params`].
    info: Vec<(usize, ParamInfo)>,
}

/// Activations kept by [`Model::forward_cached`] for [`Model::backward`].
#[derive(Debug, Clone)]
pub struct ForwardCache(Tape);

impl ForwardCache {
    /// `[N, classes]`.
    pub fn logits(&self) -> ArrayView2<'_, f32> {
        self.0.output().view()
    }
    fn into_logits(mut self) -> Array2<f32> {
        self.0.acts.pop().expect("a tape holds the logits")
    }
    /// Batch size.
    pub fn len(&self) -> usize {
        self.0.rows
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Bytes held by the recorded activations (and arg-max indices, and those of nested blocks): the memory a
    /// backward pass needs beyond the parameters.
    pub fn bytes(&self) -> usize {
        fn tape_bytes(t: &Tape) -> usize {
            let acts: usize = t.acts.iter().map(|a| a.len() * 4).sum();
            let saved: usize = t
                .saved
                .iter()
                .map(|s| match s {
                    super::layer::Saved::Nothing => 0,
                    super::layer::Saved::Indices(i) => i.len() * 4,
                    super::layer::Saved::Tape(t) => tape_bytes(t),
                })
                .sum();
            acts + saved
        }
        tape_bytes(&self.0)
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
    /// padding ≥ kernel, a residual body that changes the shape, more than [`MAX_PARAMS`] parameters, an output
    /// that is not a flat vector of ≥ 2 scores.
    pub fn from_spec(spec: &[LayerSpec], input_shape: [usize; 3]) -> Result<Model> {
        let mut chain = plan_model(spec, input_shape)?;
        chain.allocate();
        Ok(Model {
            spec: spec.to_vec(),
            input_shape,
            info: chain.param_info(),
            chain,
        })
    }

    /// He/Glorot initialisation from a seed (deterministic; see [`super::init`]): the layers draw their weights in
    /// order, the last parametric layer with Glorot's bound.
    pub fn init(spec: &[LayerSpec], input_shape: [usize; 3], seed: u64) -> Result<Model> {
        let mut m = Model::from_spec(spec, input_shape)?;
        let c = &mut m.chain;
        let last = (0..c.layers.len()).rposition(|i| c.offsets[i + 1] > c.offsets[i]);
        let mut rng = Init::new(seed);
        for (i, layer) in c.layers.iter_mut().enumerate() {
            layer.init(&mut rng, Some(i) == last);
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
        self.chain.output_shape().len()
    }

    /// Multiply-accumulate count ×2 of one forward pass on one image (convolutions and dense layers).
    pub fn flops_per_image(&self) -> usize {
        self.chain.flops
    }

    /// Total number of trainable scalars.
    pub fn num_params(&self) -> usize {
        self.chain.num_params
    }

    /// Feature count of each top-level layer's input per image, then of the output (`len = layers + 1`).
    pub fn activation_sizes(&self) -> Vec<usize> {
        self.chain.shapes.iter().map(Shape::len).collect()
    }

    /// Every parameter tensor, in a fixed order (top-level layers in order, a residual block's body inside it).
    pub fn params(&self) -> Vec<ParamRef<'_>> {
        self.info
            .iter()
            .zip(self.chain.params())
            .map(|((layer, p), data)| ParamRef {
                layer: *layer,
                name: p.leaf,
                tensor: p.path.clone(),
                shape: p.shape.clone(),
                data,
            })
            .collect()
    }

    /// Mutable row-major data of every parameter tensor, in [`Model::params`] order (for optimisers).
    pub fn params_mut(&mut self) -> Vec<&mut [f32]> {
        self.chain.params_mut()
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

    /// With `keep`, every activation a VJP needs; without, only the logits (element-wise layers run in place).
    fn forward_rows(&self, x: ArrayView2<f32>, keep: bool) -> ForwardCache {
        ForwardCache(self.chain.forward(x.as_standard_layout().into_owned(), keep))
    }

    /// Time per layer of one forward pass over `x`, averaged over `reps` runs, in the units of `now` (a clock the
    /// caller supplies, so this module needs no platform timer). For the benchmarks: where a forward pass spends
    /// its time. Each layer is named `kind {json}`, e.g. `conv2d {"type":"conv2d",…}`; the body of a residual
    /// block is timed layer by layer as `residual/kind {json}`, and its skip addition as `residual/add`. A
    /// convolution that applies the next ReLU6 as it writes (as the chain runs it) carries that time, and the
    /// ReLU6 shows 0.
    pub fn profile_layers(&self, x: ArrayView4<f32>, reps: usize, now: &dyn Fn() -> f64) -> Vec<(String, f64)> {
        let layers: Vec<&dyn Layer> = self.chain.layers.iter().map(|l| l.as_ref()).collect();
        let mut out = Vec::with_capacity(layers.len());
        profile_chain(
            &layers,
            &self.spec,
            "",
            flatten(x).into_owned(),
            reps.max(1),
            now,
            &mut out,
        );
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

    /// The one backpropagation routine: the chain's layers in reverse, each applying its VJP.
    fn backward_impl(
        &self,
        cache: &ForwardCache,
        dlogits: ArrayView2<f32>,
        need_dx: bool,
        grads: Option<&mut Gradients>,
    ) -> Option<Array2<f32>> {
        assert_eq!(
            dlogits.dim(),
            cache.logits().dim(),
            "dlogits must have the logits' shape"
        );
        let need_dx = need_dx || grads.is_none();
        let g = dlogits.as_standard_layout().into_owned();
        self.chain
            .backward(&cache.0, g, need_dx, grads.map(|g| g.0.as_mut_slice()))
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
            return self.forward_rows(x.view(), false).into_logits();
        }
        let parts = map_chunks(n, CHUNK, |r| self.forward_rows(x.slice(s![r, ..]), false).into_logits());
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
            (cache.logits().to_owned(), dx)
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

/// [`Model::profile_layers`] over one chain of layers with their specs, from the input `x`; returns the output.
fn profile_chain(
    layers: &[&dyn Layer],
    specs: &[LayerSpec],
    prefix: &str,
    mut x: Array2<f32>,
    reps: usize,
    now: &dyn Fn() -> f64,
    out: &mut Vec<(String, f64)>,
) -> Array2<f32> {
    // `kind {json}`: the weight file's own form (LayerSpec's Debug is not linked into the wasm).
    let name = |spec: &LayerSpec| {
        format!(
            "{prefix}{} {}",
            spec.kind(),
            serde_json::to_string(spec).unwrap_or_default()
        )
    };
    let mut fused_into_previous = false;
    for (i, (layer, spec)) in layers.iter().zip(specs).enumerate() {
        if std::mem::take(&mut fused_into_previous) {
            out.push((name(spec), 0.0));
            continue;
        }
        if let LayerSpec::Residual { layers: body } = spec {
            let input = x.clone();
            x = profile_chain(&layer.parts(), body, "residual/", x, reps, now, out);
            let t0 = now();
            let mut y = &x + &input;
            for _ in 1..reps {
                y = std::hint::black_box(&x + &input);
            }
            out.push(("residual/add".into(), (now() - t0) / reps as f64));
            x = y;
            continue;
        }
        // As the chain runs it: the next layer's clamp offered to this one (which may decline it).
        let clamp = layers.get(i + 1).and_then(|n| n.clamp());
        let t0 = now();
        let first = clamp.and_then(|c| layer.forward_clamped(x.view(), false, c));
        fused_into_previous = first.is_some();
        let run = |x: &Array2<f32>| match clamp.filter(|_| fused_into_previous) {
            Some(c) => {
                layer
                    .forward_clamped(x.view(), false, c)
                    .expect("took the clamp above")
                    .0
            }
            None => layer.forward(x.view(), false).0,
        };
        let mut y = match first {
            Some((y, _)) => y,
            None => run(&x),
        };
        for _ in 1..reps {
            y = std::hint::black_box(run(&x));
        }
        out.push((name(spec), (now() - t0) / reps as f64));
        x = y;
    }
    x
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
            padding: crate::nn::Padding::Fixed(p),
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
        // Huge kernels, paddings and strides overflow nothing (checked arithmetic), whatever the padding kind.
        use crate::nn::Padding::{Fixed, Same};
        let big = usize::MAX / 2;
        for (k, s, p) in [
            (big, 1, Fixed(big - 1)),
            (usize::MAX, 1, Same),
            (3, usize::MAX, Same),
            (big, big, Same),
        ] {
            if k > 3 {
                shape_err(
                    &[LayerSpec::conv2d(1, 2, k, s, p), Flatten],
                    [1, 28, 28],
                    "absurdly large",
                );
            }
            let dw = DepthwiseConv2d {
                channels: 1,
                kernel: k,
                stride: s,
                padding: p,
            };
            shape_err(&[dw, Flatten], [1, 28, 28], "");
        }
        // The new layers' own rules.
        shape_err(&[Relu6], [1, 28, 28], "flat");
        shape_err(&[GlobalAvgPool, GlobalAvgPool], [3, 4, 4], "needs image input");
        shape_err(
            &[
                Residual {
                    layers: vec![conv(1, 2, 1, 1, 0)],
                },
                Flatten,
            ],
            [1, 4, 4],
            "same shape",
        );
        shape_err(&[Residual { layers: vec![] }, Flatten], [1, 4, 4], "no layers");
        let norm = |m: Vec<f32>, s: Vec<f32>| Normalize { mean: m, std: s };
        shape_err(&[norm(vec![0.0], vec![1.0]), Flatten], [3, 4, 4], "per channel");
        shape_err(&[norm(vec![0.0], vec![-1.0]), Flatten], [1, 4, 4], "positive");
        shape_err(&[norm(vec![f32::NAN], vec![1.0]), Flatten], [1, 4, 4], "finite");
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

#[cfg(test)]
mod profile {
    use super::Model;
    use crate::nn::{architecture, LayerSpec};

    fn cpu_ms() -> f64 {
        let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
        let f: Vec<&str> = stat.rsplit(')').next().unwrap_or("").split_whitespace().collect();
        let t = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
        (t(11) + t(12)) * 10.0
    }

    /// CPU time of each layer's input VJP in EfficientNet-Lite0 (residual bodies inlined), by kind. For tuning:
    /// `cargo test --lib profile_backward -- --ignored --nocapture --test-threads=1`.
    #[test]
    #[ignore]
    fn profile_backward() {
        let flat: Vec<LayerSpec> = architecture("efficientnet-lite0")
            .unwrap()
            .into_iter()
            .flat_map(|l| match l {
                LayerSpec::Residual { layers } => layers,
                o => vec![o],
            })
            .collect();
        let m = Model::init(&flat, [3, 224, 224], 1).unwrap();
        let x = ndarray::Array2::from_shape_fn((1, 3 * 224 * 224), |(_, i)| (i % 251) as f32 / 251.0);
        let tape = m.chain.forward(x, true);
        let mut by: std::collections::BTreeMap<String, f64> = Default::default();
        let mut g = ndarray::Array2::<f32>::ones((1, 1000));
        for (i, l) in m.chain.layers.iter().enumerate().rev() {
            let (xa, ya) = (tape.acts[i].view(), tape.acts[i + 1].view());
            let reps = 20;
            let t0 = cpu_ms();
            for _ in 1..reps {
                std::hint::black_box(l.backward(xa, ya, &tape.saved[i], g.clone(), true, None));
            }
            let next = l.backward(xa, ya, &tape.saved[i], g, true, None).unwrap();
            let mut kind: String = format!("{:?}", m.spec[i])
                .chars()
                .take_while(|c| c.is_alphanumeric())
                .collect();
            if format!("{:?}", m.spec[i]).contains("kernel: 1,") {
                kind.push_str(" 1x1");
            }
            *by.entry(kind).or_default() += (cpu_ms() - t0) / reps as f64;
            g = next;
        }
        eprintln!("backward by kind (ms): {by:.2?}, total {:.1}", by.values().sum::<f64>());
    }
}
