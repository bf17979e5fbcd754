//! Finite-difference checks of every layer's VJPs (input and parameters) and of whole models.
//!
//! The numerical side uses an independent, naive f64 re-implementation of the forward pass (`reference`), with
//! central differences at h = 1e-6: f32 rounding noise would swamp the differences otherwise, and at that step
//! no ReLU or max-pool kink is crossed. The analytic side is the crate's f32 backward pass. The check is
//! `‖a − n‖₂ / max(‖a‖₂, ‖n‖₂) < 1e-3`. The reference is also compared with the crate's forward pass.

use advlab::nn::{LayerSpec, Model, Padding};
use ndarray::{Array2, Array4};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use LayerSpec::*;

const H: f64 = 1e-6;
const TOL: f64 = 1e-3;

/// A deliberate mistake the reference can make, to show the check catches that kind of error.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Bug {
    None,
    /// A residual block forgets its skip connection.
    NoSkip,
    /// "same" padding split evenly (the PyTorch habit) instead of TensorFlow's extra pad at the bottom/right.
    SymmetricSame,
    /// ReLU6 without its upper clamp.
    Relu6Unbounded,
}

/// `(pad before, output size)` of one axis, written out independently of the crate.
fn pad_out(pad: Padding, len: usize, k: usize, s: usize, bug: Bug) -> (usize, usize) {
    match pad {
        Padding::Fixed(p) => (p, (len + 2 * p - k) / s + 1),
        Padding::Same => {
            let out = len.div_ceil(s);
            let total = ((out - 1) * s + k).saturating_sub(len);
            (
                if bug == Bug::SymmetricSame {
                    total.div_ceil(2)
                } else {
                    total / 2
                },
                out,
            )
        }
    }
}

/// Naive f64 forward pass of one image (`x` is C·H·W) through `spec`, with the model's parameters.
fn reference(spec: &[LayerSpec], shape: [usize; 3], params: &[Vec<f64>], x: &[f64]) -> Vec<f64> {
    reference_with(spec, shape, params, x, Bug::None)
}

fn reference_with(spec: &[LayerSpec], shape: [usize; 3], params: &[Vec<f64>], x: &[f64], bug: Bug) -> Vec<f64> {
    let mut p = 0;
    let out = run(spec, shape, params, &mut p, x, bug).0;
    assert_eq!(p, params.len(), "every parameter used");
    out
}

fn run(
    spec: &[LayerSpec],
    shape: [usize; 3],
    params: &[Vec<f64>],
    p: &mut usize,
    x: &[f64],
    bug: Bug,
) -> (Vec<f64>, [usize; 3]) {
    let [mut c, mut h, mut w] = shape;
    let mut a = x.to_vec();
    let inside = |r: isize, q: isize, h: usize, w: usize| r >= 0 && q >= 0 && (r as usize) < h && (q as usize) < w;
    for l in spec {
        match l {
            &Dense { inputs, outputs } => {
                let (wt, b) = (&params[*p], &params[*p + 1]);
                *p += 2;
                a = (0..outputs)
                    .map(|o| b[o] + (0..inputs).map(|i| wt[o * inputs + i] * a[i]).sum::<f64>())
                    .collect();
                (c, h, w) = (outputs, 1, 1);
            }
            &Conv2d {
                in_channels,
                out_channels,
                kernel: k,
                stride: s,
                padding,
            } => {
                let (wt, b) = (&params[*p], &params[*p + 1]);
                *p += 2;
                let ((pt, ho), (pl, wo)) = (pad_out(padding, h, k, s, bug), pad_out(padding, w, k, s, bug));
                let mut y = vec![0.0; out_channels * ho * wo];
                for o in 0..out_channels {
                    for i in 0..ho {
                        for j in 0..wo {
                            let mut acc = b[o];
                            for ci in 0..in_channels {
                                for u in 0..k {
                                    for v in 0..k {
                                        let (hi, wi) =
                                            ((s * i + u) as isize - pt as isize, (s * j + v) as isize - pl as isize);
                                        if inside(hi, wi, h, w) {
                                            acc += wt[((o * in_channels + ci) * k + u) * k + v]
                                                * a[(ci * h + hi as usize) * w + wi as usize];
                                        }
                                    }
                                }
                            }
                            y[(o * ho + i) * wo + j] = acc;
                        }
                    }
                }
                a = y;
                (c, h, w) = (out_channels, ho, wo);
            }
            &DepthwiseConv2d {
                channels,
                kernel: k,
                stride: s,
                padding,
            } => {
                let (wt, b) = (&params[*p], &params[*p + 1]);
                *p += 2;
                let ((pt, ho), (pl, wo)) = (pad_out(padding, h, k, s, bug), pad_out(padding, w, k, s, bug));
                let mut y = vec![0.0; channels * ho * wo];
                for ci in 0..channels {
                    for i in 0..ho {
                        for j in 0..wo {
                            let mut acc = b[ci];
                            for u in 0..k {
                                for v in 0..k {
                                    let (hi, wi) =
                                        ((s * i + u) as isize - pt as isize, (s * j + v) as isize - pl as isize);
                                    if inside(hi, wi, h, w) {
                                        acc += wt[(ci * k + u) * k + v] * a[(ci * h + hi as usize) * w + wi as usize];
                                    }
                                }
                            }
                            y[(ci * ho + i) * wo + j] = acc;
                        }
                    }
                }
                a = y;
                (h, w) = (ho, wo);
            }
            &MaxPool2d { size } => {
                let (ho, wo) = (h / size, w / size);
                let mut y = vec![f64::NEG_INFINITY; c * ho * wo];
                for ci in 0..c {
                    for i in 0..ho {
                        for j in 0..wo {
                            for u in 0..size {
                                for v in 0..size {
                                    let q = a[(ci * h + i * size + u) * w + j * size + v];
                                    let t = &mut y[(ci * ho + i) * wo + j];
                                    *t = t.max(q);
                                }
                            }
                        }
                    }
                }
                a = y;
                (h, w) = (ho, wo);
            }
            Relu => a.iter_mut().for_each(|v| *v = v.max(0.0)),
            Relu6 => a.iter_mut().for_each(|v| {
                *v = if bug == Bug::Relu6Unbounded {
                    v.max(0.0)
                } else {
                    v.clamp(0.0, 6.0)
                }
            }),
            Flatten => {}
            Normalize { mean, std } => {
                let hw = h * w;
                for (i, v) in a.iter_mut().enumerate() {
                    *v = (*v - f64::from(mean[i / hw])) / f64::from(std[i / hw]);
                }
            }
            GlobalAvgPool => {
                let hw = h * w;
                a = (0..c)
                    .map(|ci| a[ci * hw..(ci + 1) * hw].iter().sum::<f64>() / hw as f64)
                    .collect();
                (h, w) = (1, 1);
            }
            Residual { layers } => {
                let (body, s2) = run(layers, [c, h, w], params, p, &a, bug);
                assert_eq!(s2, [c, h, w]);
                if bug == Bug::NoSkip {
                    a = body;
                } else {
                    a.iter_mut().zip(body).for_each(|(x, b)| *x += b);
                }
            }
        }
    }
    (a, [c, h, w])
}

fn f64s(v: &[f32]) -> Vec<f64> {
    v.iter().map(|&x| f64::from(x)).collect()
}

fn rel_err(a: &[f64], n: &[f64]) -> f64 {
    let norm = |v: &[f64]| v.iter().map(|x| x * x).sum::<f64>().sqrt();
    let diff: Vec<f64> = a.iter().zip(n).map(|(x, y)| x - y).collect();
    let d = norm(a).max(norm(n));
    if d == 0.0 {
        0.0
    } else {
        norm(&diff) / d
    }
}

/// Objective evaluated by the reference: either `Σ r ⊙ logits` or the mean cross-entropy.
enum Objective {
    Linear(Array2<f32>),
    CrossEntropy(Vec<usize>),
}

struct Case {
    model: Model,
    x: Array4<f32>,
    /// The reference's deliberate mistake (`Bug::None` for the real checks).
    bug: Bug,
}

impl Case {
    fn new(spec: Vec<LayerSpec>, shape: [usize; 3], n: usize, seed: u64) -> Case {
        let mut model = Model::init(&spec, shape, seed).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0xabc);
        // Non-zero biases so that they matter (init leaves them at 0).
        let nparams = model.params().len();
        for k in 0..nparams {
            let p = model.params()[k].data.to_vec();
            if model.params()[k].name == "bias" {
                let b: Vec<f32> = p.iter().map(|_| rng.random_range(-0.3..0.3)).collect();
                model.set_param(k, &b).unwrap();
            }
        }
        let [c, h, w] = shape;
        let x = Array4::from_shape_fn((n, c, h, w), |_| rng.random_range(0.0..1.0));
        Case {
            model,
            x,
            bug: Bug::None,
        }
    }

    fn params64(&self) -> Vec<Vec<f64>> {
        self.model.params().iter().map(|p| f64s(p.data)).collect()
    }

    /// Objective through the f64 reference at the given parameters and inputs.
    fn eval(&self, obj: &Objective, params: &[Vec<f64>], x: &[f64]) -> f64 {
        let shape = self.model.input_shape();
        let per = shape.iter().product::<usize>();
        let n = x.len() / per;
        let mut total = 0.0;
        for i in 0..n {
            let z = reference_with(self.model.spec(), shape, params, &x[i * per..(i + 1) * per], self.bug);
            total += match obj {
                Objective::Linear(r) => z.iter().zip(r.row(i)).map(|(a, &b)| a * f64::from(b)).sum::<f64>(),
                Objective::CrossEntropy(y) => {
                    let m = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                    let lse = m + z.iter().map(|v| (v - m).exp()).sum::<f64>().ln();
                    (lse - z[y[i]]) / n as f64
                }
            };
        }
        total
    }

    /// Central differences at up to `max` coordinates of `v` (evenly spread), through `f`.
    fn fd(&self, v: &[f64], max: usize, f: impl Fn(&[f64]) -> f64) -> (Vec<usize>, Vec<f64>) {
        let step = v.len().div_ceil(max).max(1);
        let idx: Vec<usize> = (0..v.len()).step_by(step).collect();
        let mut w = v.to_vec();
        let num = idx
            .iter()
            .map(|&i| {
                w[i] = v[i] + H;
                let up = f(&w);
                w[i] = v[i] - H;
                let down = f(&w);
                w[i] = v[i];
                (up - down) / (2.0 * H)
            })
            .collect();
        (idx, num)
    }

    /// Checks ∂/∂x and ∂/∂θ of the objective; returns the worst relative error.
    fn check(&self, obj: &Objective, what: &str) -> f64 {
        let (dx, grads) = match obj {
            Objective::Linear(r) => {
                let cache = self.model.forward_cached(self.x.view());
                self.model.backward(&cache, r.view())
            }
            Objective::CrossEntropy(y) => {
                let (l1, dx) = self.model.input_gradient(self.x.view(), y);
                let (l2, g) = self.model.param_gradient(self.x.view(), y);
                assert_eq!(l1, l2);
                let lref = self.eval(obj, &self.params64(), &f64s(self.x.as_slice().unwrap()));
                assert!(
                    (f64::from(l1) - lref).abs() < 1e-5 * lref.abs().max(1.0),
                    "{what}: loss {l1} vs {lref}"
                );
                assert!((self.model.loss(self.x.view(), y) - l1).abs() < 1e-6);
                (dx, g)
            }
        };
        let params = self.params64();
        let x = f64s(self.x.as_slice().unwrap());
        let mut worst = 0.0f64;
        let (idx, num) = self.fd(&x, 400, |xx| self.eval(obj, &params, xx));
        let ana: Vec<f64> = idx.iter().map(|&i| f64::from(dx.as_slice().unwrap()[i])).collect();
        let e = rel_err(&ana, &num);
        assert!(e < TOL, "{what}: input gradient relative error {e:.2e}");
        worst = worst.max(e);
        for (k, p) in self.model.params().iter().enumerate() {
            let (idx, num) = self.fd(&params[k], 300, |pk| {
                let mut ps = params.clone();
                ps[k] = pk.to_vec();
                self.eval(obj, &ps, &x)
            });
            let ana: Vec<f64> = idx.iter().map(|&i| f64::from(grads.0[k][i])).collect();
            let e = rel_err(&ana, &num);
            assert!(
                e < TOL,
                "{what}: layers.{}.{} gradient relative error {e:.2e}",
                p.layer,
                p.name
            );
            assert!(
                num.iter().any(|v| v.abs() > 1e-8),
                "{what}: {} gradient is trivially zero",
                p.name
            );
            worst = worst.max(e);
        }
        worst
    }

    /// Relative error of the crate's input and parameter gradients against the (possibly buggy) reference, for
    /// `Σ r ⊙ logits`, without asserting: the worst over the input and every tensor.
    fn linear_error(&self) -> f64 {
        let mut rng = ChaCha8Rng::seed_from_u64(99);
        let (n, k) = (self.x.shape()[0], self.model.num_classes());
        let r = Array2::from_shape_fn((n, k), |_| rng.random_range(-1.0..1.0));
        let obj = Objective::Linear(r.clone());
        let cache = self.model.forward_cached(self.x.view());
        let (dx, grads) = self.model.backward(&cache, r.view());
        let params = self.params64();
        let x = f64s(self.x.as_slice().unwrap());
        let (idx, num) = self.fd(&x, 400, |xx| self.eval(&obj, &params, xx));
        let ana: Vec<f64> = idx.iter().map(|&i| f64::from(dx.as_slice().unwrap()[i])).collect();
        let mut worst = rel_err(&ana, &num);
        for k in 0..params.len() {
            let (idx, num) = self.fd(&params[k], 300, |pk| {
                let mut ps = params.clone();
                ps[k] = pk.to_vec();
                self.eval(&obj, &ps, &x)
            });
            let ana: Vec<f64> = idx.iter().map(|&i| f64::from(grads.0[k][i])).collect();
            worst = worst.max(rel_err(&ana, &num));
        }
        worst
    }

    fn check_linear(&self, what: &str) -> f64 {
        let mut rng = ChaCha8Rng::seed_from_u64(99);
        let (n, k) = (self.x.shape()[0], self.model.num_classes());
        let r = Array2::from_shape_fn((n, k), |_| rng.random_range(-1.0..1.0));
        self.check(&Objective::Linear(r), what)
    }

    fn check_ce(&self, what: &str) -> f64 {
        let k = self.model.num_classes();
        let y = (0..self.x.shape()[0]).map(|i| (i * 7 + 3) % k).collect();
        self.check(&Objective::CrossEntropy(y), what)
    }

    /// The crate's f32 forward pass agrees with the f64 reference.
    fn check_forward(&self) {
        let z = self.model.logits(self.x.view());
        let params = self.params64();
        let per = self.model.input_shape().iter().product::<usize>();
        let x = f64s(self.x.as_slice().unwrap());
        for i in 0..self.x.shape()[0] {
            let r = reference(
                self.model.spec(),
                self.model.input_shape(),
                &params,
                &x[i * per..(i + 1) * per],
            );
            let a = f64s(z.row(i).as_slice().unwrap());
            assert!(
                rel_err(&a, &r) < 1e-5,
                "forward differs from the reference: {a:?} vs {r:?}"
            );
        }
    }
}

fn conv(i: usize, o: usize, k: usize, s: usize, p: usize) -> LayerSpec {
    Conv2d {
        in_channels: i,
        out_channels: o,
        kernel: k,
        stride: s,
        padding: Padding::Fixed(p),
    }
}

#[test]
fn dense_layer() {
    let c = Case::new(vec![Flatten, Dense { inputs: 12, outputs: 5 }], [3, 2, 2], 3, 1);
    c.check_forward();
    c.check_linear("dense");
}

#[test]
fn conv_layers_with_stride_and_padding() {
    for (i, &(k, s, p, h, w)) in [
        (3, 1, 0, 6, 6),
        (3, 1, 1, 6, 7),
        (3, 2, 1, 7, 9),
        (2, 2, 0, 6, 5),
        (4, 3, 2, 8, 7),
        (1, 1, 0, 3, 4),
        (5, 1, 2, 5, 5),
    ]
    .iter()
    .enumerate()
    {
        let c = Case::new(vec![conv(2, 3, k, s, p), Flatten], [2, h, w], 2, 10 + i as u64);
        c.check_forward();
        c.check_linear(&format!("conv k{k} s{s} p{p} on {h}x{w}"));
    }
}

/// Distinct inputs with gaps ≫ h and away from 0: no max-pool tie and no ReLU kink can be crossed.
fn distinct_input(c: &mut Case, seed: u64) {
    let n = c.x.len();
    let mut vals: Vec<f32> = (0..n).map(|i| 0.05 + 0.05 * i as f32).collect();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    for i in (1..n).rev() {
        vals.swap(i, rng.random_range(0..=i));
    }
    let sign = |i: usize| if i.is_multiple_of(3) { -1.0 } else { 1.0 };
    c.x.iter_mut()
        .zip(vals)
        .enumerate()
        .for_each(|(i, (x, v))| *x = sign(i) * v);
}

#[test]
fn maxpool_layer() {
    for (i, &(size, h, w)) in [(2, 6, 6), (2, 7, 9), (3, 6, 8)].iter().enumerate() {
        let mut c = Case::new(vec![MaxPool2d { size }, Flatten], [2, h, w], 2, 20 + i as u64);
        distinct_input(&mut c, i as u64);
        c.check_forward();
        c.check_linear(&format!("maxpool {size} on {h}x{w}"));
    }
}

#[test]
fn relu_and_flatten_layers() {
    let mut c = Case::new(vec![Relu, Flatten], [2, 3, 4], 2, 30);
    distinct_input(&mut c, 3);
    c.check_forward();
    c.check_linear("relu");
    let mut c = Case::new(vec![Flatten, Relu], [1, 4, 4], 2, 31);
    distinct_input(&mut c, 4);
    c.check_linear("flatten then relu");
}

#[test]
fn cross_entropy_loss() {
    let c = Case::new(vec![Flatten, Dense { inputs: 16, outputs: 4 }], [1, 4, 4], 5, 40);
    c.check_ce("softmax cross-entropy");
    // Direct: ∂L/∂z = (softmax(z) − onehot(y)) / N, and stable for huge logits.
    let z = Array2::from_shape_vec((2, 3), vec![1000.0f32, 0.0, -1000.0, 1.0, 2.0, 3.0]).unwrap();
    let (l, g) = advlab::nn::softmax_cross_entropy(z.view(), &[1, 2]);
    assert!(
        l.is_finite() && (l - (1000.0 + 0.40760596) / 2.0).abs() < 1e-3,
        "loss {l}"
    );
    assert!((g[[0, 0]] - 0.5).abs() < 1e-6 && (g[[0, 1]] + 0.5).abs() < 1e-6);
    assert!(g.iter().all(|v| v.is_finite()));
}

#[test]
fn linear_model() {
    let c = Case::new(vec![Flatten, Dense { inputs: 36, outputs: 5 }], [1, 6, 6], 3, 50);
    c.check_forward();
    c.check_linear("linear");
    c.check_ce("linear");
}

#[test]
fn mlp_model() {
    let spec = vec![
        Flatten,
        Dense {
            inputs: 36,
            outputs: 16,
        },
        Relu,
        Dense {
            inputs: 16,
            outputs: 12,
        },
        Relu,
        Dense { inputs: 12, outputs: 4 },
    ];
    let c = Case::new(spec, [1, 6, 6], 6, 60);
    c.check_forward();
    c.check_linear("mlp");
    c.check_ce("mlp");
}

#[test]
fn cnn_model() {
    let spec = vec![
        conv(2, 4, 3, 1, 1),
        Relu,
        MaxPool2d { size: 2 },
        conv(4, 5, 3, 2, 1),
        Relu,
        Flatten,
        Dense { inputs: 20, outputs: 6 },
        Relu,
        Dense { inputs: 6, outputs: 3 },
    ];
    let c = Case::new(spec, [2, 9, 9], 3, 70);
    c.check_forward();
    c.check_linear("cnn");
    c.check_ce("cnn");
}

/// More images than one parallel chunk: the chunked, ordered reduction equals the per-image sum.
#[test]
fn chunked_batches_match_single_images() {
    let spec = advlab::nn::architecture("cnn").unwrap();
    let c = Case::new(spec, [1, 28, 28], advlab::nn::CHUNK * 2 + 5, 80);
    let n = c.x.shape()[0];
    let y: Vec<usize> = (0..n).map(|i| i % 10).collect();
    let (loss, g) = c.model.param_gradient(c.x.view(), &y);
    let (loss2, dx) = c.model.input_gradient(c.x.view(), &y);
    assert_eq!(loss, loss2);
    let mut sum = advlab::nn::Gradients::zeros_like(&c.model);
    let mut lsum = 0.0f64;
    for i in 0..n {
        let xi = c.x.slice(ndarray::s![i..i + 1, .., .., ..]);
        let (l, gi) = c.model.param_gradient(xi, &y[i..i + 1]);
        let (_, dxi) = c.model.input_gradient(xi, &y[i..i + 1]);
        lsum += f64::from(l);
        sum.add_assign(&gi);
        let a = f64s(
            dx.slice(ndarray::s![i..i + 1, .., .., ..])
                .to_owned()
                .as_slice()
                .unwrap(),
        );
        let b: Vec<f64> = f64s(dxi.as_slice().unwrap()).iter().map(|v| v / n as f64).collect();
        assert!(rel_err(&a, &b) < 1e-5);
    }
    sum.scale(1.0 / n as f32);
    assert!((lsum / n as f64 - f64::from(loss)).abs() < 1e-5);
    for (a, b) in g.0.iter().zip(&sum.0) {
        assert!(rel_err(&f64s(a), &f64s(b)) < 1e-4);
    }
    // logits_vjp with dlogits = ∂loss/∂logits reproduces the input gradient.
    let z = c.model.logits(c.x.view());
    let (_, dz) = advlab::nn::softmax_cross_entropy(z.view(), &y);
    let (z2, dx2) = c.model.logits_vjp(c.x.view(), dz.view());
    assert_eq!(z, z2);
    assert!(rel_err(&f64s(dx.as_slice().unwrap()), &f64s(dx2.as_slice().unwrap())) < 1e-6);
}

fn same_conv(i: usize, o: usize, k: usize, s: usize) -> LayerSpec {
    LayerSpec::conv2d(i, o, k, s, Padding::Same)
}

fn dw(c: usize, k: usize, s: usize, padding: Padding) -> LayerSpec {
    DepthwiseConv2d {
        channels: c,
        kernel: k,
        stride: s,
        padding,
    }
}

/// TensorFlow "same" padding, asymmetric for stride 2 and even sizes, and the 1×1 convolution (the GEMM path, and
/// the im2col path when strided).
#[test]
fn conv_same_padding_and_pointwise() {
    for (i, &(k, s, h, w)) in [
        (3, 2, 8, 8),
        (3, 2, 7, 9),
        (5, 2, 8, 6),
        (3, 1, 5, 6),
        (1, 1, 4, 5),
        (1, 2, 5, 4),
        (4, 2, 6, 7),
    ]
    .iter()
    .enumerate()
    {
        let c = Case::new(vec![same_conv(3, 4, k, s), Flatten], [3, h, w], 2, 100 + i as u64);
        c.check_forward();
        c.check_linear(&format!("conv same k{k} s{s} on {h}x{w}"));
    }
    // The 1×1 path with more than one image per block and a fixed padding of 0.
    let c = Case::new(vec![conv(5, 3, 1, 1, 0), Flatten], [5, 3, 3], 11, 120);
    c.check_forward();
    c.check_linear("pointwise, 11 images");
    // "same" on a stride-2 even size pads one pixel at the bottom/right only: out = 4 for 8.
    let m = Model::from_spec(&[same_conv(1, 1, 3, 2), Flatten], [1, 8, 8]).unwrap();
    assert_eq!(m.activation_sizes(), vec![64, 16, 16]);
}

#[test]
fn depthwise_layers() {
    for (i, &(k, s, pad, h, w)) in [
        (3, 1, Padding::Same, 6, 7),
        (3, 2, Padding::Same, 8, 8),
        (3, 2, Padding::Same, 7, 9),
        (5, 1, Padding::Same, 6, 6),
        (5, 2, Padding::Same, 9, 8),
        (3, 1, Padding::Fixed(0), 5, 6),
        (5, 2, Padding::Fixed(2), 7, 7),
        (3, 3, Padding::Same, 8, 7),
    ]
    .iter()
    .enumerate()
    {
        let c = Case::new(vec![dw(3, k, s, pad), Flatten], [3, h, w], 2, 200 + i as u64);
        c.check_forward();
        c.check_linear(&format!("depthwise k{k} s{s} {pad:?} on {h}x{w}"));
    }
}

#[test]
fn relu6_normalize_and_global_pool() {
    // Inputs spread over [−1, 7.2], away from both kinks (0 and 6).
    let mut c = Case::new(vec![Relu6, Flatten], [2, 3, 4], 2, 300);
    c.x.iter_mut()
        .enumerate()
        .for_each(|(i, v)| *v = -1.03 + 0.173 * ((i * 17) % 48) as f32);
    assert!(c.x.iter().any(|&v| v > 6.0) && c.x.iter().any(|&v| v < 0.0));
    c.check_forward();
    c.check_linear("relu6");
    let norm = Normalize {
        mean: vec![0.2, 0.5, 0.9],
        std: vec![0.25, 2.0, 0.5],
    };
    let c = Case::new(
        vec![norm, GlobalAvgPool, Dense { inputs: 3, outputs: 4 }],
        [3, 4, 5],
        3,
        301,
    );
    c.check_forward();
    c.check_linear("normalize + global average pool");
}

#[test]
fn residual_block() {
    let body = vec![
        conv(3, 5, 1, 1, 0),
        Relu,
        dw(5, 3, 1, Padding::Same),
        conv(5, 3, 1, 1, 0),
    ];
    let c = Case::new(vec![Residual { layers: body }, Flatten], [3, 5, 6], 2, 400);
    c.check_forward();
    c.check_linear("residual");
    let names: Vec<_> = c.model.params().iter().map(|p| p.tensor.clone()).collect();
    assert_eq!(names[0], "layers.0.layers.0.weight");
    assert_eq!(names[5], "layers.0.layers.3.bias");
}

/// A small EfficientNet-style net on [3, 16, 16]: normalisation, a stride-2 "same" stem, an inverted residual
/// block, a stride-2 MBConv without skip, a k=5 depthwise, a head, global pooling and a dense classifier.
fn mbconv_net() -> Vec<LayerSpec> {
    let mb = |cin: usize, e: usize, k: usize, s: usize, cout: usize| {
        vec![
            same_conv(cin, cin * e, 1, 1),
            Relu6,
            dw(cin * e, k, s, Padding::Same),
            Relu6,
            same_conv(cin * e, cout, 1, 1),
        ]
    };
    let mut net = vec![
        Normalize {
            mean: vec![0.5; 3],
            std: vec![0.5; 3],
        },
        same_conv(3, 6, 3, 2),
        Relu6,
        Residual {
            layers: mb(6, 2, 3, 1, 6),
        },
    ];
    net.extend(mb(6, 2, 5, 2, 8));
    net.push(Residual {
        layers: mb(8, 2, 5, 1, 8),
    });
    net.extend([
        same_conv(8, 16, 1, 1),
        Relu6,
        GlobalAvgPool,
        Dense { inputs: 16, outputs: 5 },
    ]);
    net
}

#[test]
fn mbconv_residual_net() {
    let c = Case::new(mbconv_net(), [3, 16, 16], 2, 500);
    c.check_forward();
    c.check_linear("mbconv net");
    c.check_ce("mbconv net");
}

/// The check is not vacuous: the same comparison against a reference with a deliberate mistake fails by far.
#[test]
fn deliberate_errors_are_caught() {
    let mut c = Case::new(mbconv_net(), [3, 16, 16], 1, 501);
    assert!(c.linear_error() < TOL);
    for bug in [Bug::NoSkip, Bug::SymmetricSame] {
        c.bug = bug;
        let e = c.linear_error();
        assert!(e > 10.0 * TOL, "{bug:?} went unnoticed (relative error {e:.2e})");
    }
    // ReLU6's upper clamp only matters where activations exceed 6.
    let mut c = Case::new(vec![Relu6, Flatten], [1, 4, 4], 1, 502);
    c.x.iter_mut()
        .enumerate()
        .for_each(|(i, v)| *v = -1.03 + 0.53 * i as f32);
    assert!(c.linear_error() < TOL);
    c.bug = Bug::Relu6Unbounded;
    assert!(c.linear_error() > 10.0 * TOL, "an unbounded ReLU6 went unnoticed");
}
