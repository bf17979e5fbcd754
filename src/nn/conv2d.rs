//! 2-D convolution (cross-correlation, as in every ML framework) with stride and zero padding.
//!
//! Forward: `y[n,o,i,j] = b[o] + Σ_{c,u,v} W[o,c,u,v]·x[n,c,s·i+u−p, s·j+v−p]` (terms outside the image are 0),
//! `Ho = (H + 2p − k)/s + 1`; with TensorFlow's "same" padding `Ho = ⌈H/s⌉`, `p` (top/left) is half of
//! `max((Ho − 1)·s + k − H, 0)` rounded down and the rest pads the bottom/right ([`Padding`]).
//! Computed as `Y = W · im2col(x)` (one sgemm per block of images, see [`super::im2col`]); a 1×1 convolution with
//! stride 1 and no padding is a plain matrix product per image, `Y_n = W · X_n` with `X_n: [C, H·W]` (no im2col).
//!
//! Backward, with `G = ∂L/∂Y` rearranged to `[O, B·Ho·Wo]`:
//! `∂L/∂W = G · im2col(x)ᵀ`, `∂L/∂b[o] = Σ_{n,i,j} G[n,o,i,j]`, `∂L/∂x = col2im(Wᵀ · G)`.
//!
//! Images are processed in blocks of [`CONV_BLOCK`], which bounds the column matrix's memory whatever the batch.

use std::cell::RefCell;
use std::sync::OnceLock;

use ndarray::linalg::general_mat_mul;
use ndarray::{Array1, Array2, ArrayView2, ArrayViewMut2};

use super::im2col::{col2im, im2col, ConvGeom};
use super::init::{glorot_bound, he_bound, Init};
use super::layer::{Clamp, Layer, ParamInfo, Saved, Shape, TOO_BIG};
use super::{winograd, Padding};

/// Images per im2col block: large enough that the GEMM is efficient (8 × 144 = 1152 columns for the shipped CNN's
/// second convolution), small enough that the column matrix stays in L2 cache. 8 was fastest of 4/8/16/32 measured.
pub const CONV_BLOCK: usize = 8;

/// Up to this many images, a 3×3 stride-1 forward pass in the wasm build uses Winograd F(2×2, 3×3)
/// ([`winograd`]: 2.25× fewer multiplications, no column matrix, no packing). Baseline wasm SIMD has no fused
/// multiply-add, so multiplications are what a forward pass waits for: the shipped CNN's second convolution
/// drops from 106 to 55 µs in Chromium. Larger batches keep im2col + sgemm, whose packing then pays off, so batched
/// evaluation and training are unchanged, and a slider move or a single-image attack gets the fast path.
/// Natively, matrixmultiply's AVX2/FMA kernels make im2col the faster path (batch-1 FGSM 248 µs against
/// 302 µs with Winograd), so the native build never takes it ([`WINOGRAD`]).
pub const WINOGRAD_MAX_BATCH: usize = 4;

/// Whether this build takes the Winograd path at all: the wasm build only (see [`WINOGRAD_MAX_BATCH`]).
pub const WINOGRAD: bool = cfg!(target_arch = "wasm32");

thread_local! {
    /// Per-thread im2col scratch, reused across calls (saves allocating and zeroing megabytes per block).
    static COLS: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
    /// Per-thread Winograd scratch.
    static WINO: RefCell<winograd::Scratch> = RefCell::new(winograd::Scratch::default());
}

/// Runs `f` on a scratch buffer of `len` floats with arbitrary contents ([`im2col`] overwrites all of it).
/// `f` must not re-enter (it only runs im2col and a single-threaded sgemm).
fn with_cols<R>(len: usize, f: impl FnOnce(&mut [f32]) -> R) -> R {
    COLS.with(|c| {
        let mut v = c.borrow_mut();
        if v.len() < len {
            v.resize(len, 0.0);
        }
        f(&mut v[..len])
    })
}

/// Convolution layer; `W` is stored as `[O, C·k·k]`, which is `[O, C, k, k]` row-major.
#[derive(Debug, Clone)]
pub struct Conv2d {
    pub(crate) g: ConvGeom,
    /// Read-only outside this module: writes go through [`Conv2d::params_mut`], which drops the derived `wino`, `wt`.
    pub(crate) w: Array2<f32>,
    pub(crate) b: Array1<f32>,
    /// The Winograd-transformed filters of `w`, computed on first use.
    wino: OnceLock<Vec<f32>>,
    /// `Wᵀ: [C, O]` of a 1×1 convolution, computed on first use: `∂X = Wᵀ G` is then a plain row-major product.
    wt: OnceLock<Vec<f32>>,
}

impl Conv2d {
    /// The layer for `spec` on `input`, validated, parameters not yet allocated ([`Layer::allocate`]).
    pub(crate) fn new(
        in_channels: usize,
        out_channels: usize,
        kernel: usize,
        stride: usize,
        padding: Padding,
        input: Shape,
    ) -> Result<Conv2d, String> {
        let [c, h, w] = input.image()?;
        if in_channels == 0 || out_channels == 0 || kernel == 0 || stride == 0 {
            return Err("channels, kernel and stride must be at least 1".into());
        }
        if in_channels != c {
            return Err(format!("expects {in_channels} input channels but receives {input}"));
        }
        let ((p, ho), (pl, wo)) = (padding.resolve(h, kernel, stride)?, padding.resolve(w, kernel, stride)?);
        let ckk = kernel
            .checked_mul(kernel)
            .and_then(|k| k.checked_mul(c))
            .ok_or(TOO_BIG)?;
        let wn = ckk.checked_mul(out_channels).ok_or(TOO_BIG)?;
        wn.checked_add(out_channels).ok_or(TOO_BIG)?;
        let out = ho
            .checked_mul(wo)
            .and_then(|p| p.checked_mul(out_channels))
            .ok_or(TOO_BIG)?;
        if out > super::layer::MAX_ACTIVATION || ckk > super::layer::MAX_ACTIVATION {
            return Err(TOO_BIG.into());
        }
        let g = ConvGeom {
            c,
            h,
            w,
            o: out_channels,
            k: kernel,
            s: stride,
            p,
            pl,
            ho,
            wo,
        };
        Ok(Conv2d {
            g,
            w: Array2::zeros((0, 0)),
            b: Array1::zeros(0),
            wino: OnceLock::new(),
            wt: OnceLock::new(),
        })
    }

    /// Whether this is a 1×1, stride-1, unpadded convolution: one matrix product per image.
    fn pointwise(&self) -> bool {
        let g = &self.g;
        g.k == 1 && g.s == 1 && g.p == 0 && g.pl == 0
    }

    /// Zero parameters for the given geometry.
    pub fn zeros(g: ConvGeom) -> Conv2d {
        Conv2d {
            g,
            w: Array2::zeros((g.o, g.ckk())),
            b: Array1::zeros(g.o),
            wino: OnceLock::new(),
            wt: OnceLock::new(),
        }
    }

    /// Mutable weights and biases (optimisers, initialisation, loading); forgets the derived Winograd filters.
    pub fn params_mut(&mut self) -> (&mut [f32], &mut [f32]) {
        self.wino = OnceLock::new();
        self.wt = OnceLock::new();
        (
            self.w.as_slice_mut().expect("standard layout"),
            self.b.as_slice_mut().expect("standard layout"),
        )
    }

    pub fn geometry(&self) -> &ConvGeom {
        &self.g
    }

    /// `x: [N, C·H·W]` (standard layout) → `y: [N, O·Ho·Wo]`.
    pub fn forward(&self, x: ArrayView2<f32>) -> Array2<f32> {
        self.forward_then(x, None)
    }

    /// [`Conv2d::forward`], then `clamp` on every output (the next layer's ReLU6, fused: see
    /// [`Layer::forward_clamped`]). The 1×1 and single-image paths apply it as they add the bias.
    fn forward_then(&self, x: ArrayView2<f32>, clamp: Option<Clamp>) -> Array2<f32> {
        let g = &self.g;
        let (n, pos) = (x.nrows(), g.positions());
        let x = x.as_standard_layout();
        let xs = x.as_slice().expect("standard layout");
        if self.pointwise() {
            return self.forward_pointwise(xs, n, clamp);
        }
        let then = |mut y: Array2<f32>| {
            if let Some(c) = clamp {
                y.mapv_inplace(|v| c.apply(v));
            }
            y
        };
        if WINOGRAD && n <= WINOGRAD_MAX_BATCH && winograd::applies(g) {
            let u = self
                .wino
                .get_or_init(|| winograd::transform_filters(self.w.as_slice().expect("standard"), g.o, g.c));
            let bias = self.b.as_slice().expect("standard");
            let mut y = Array2::<f32>::zeros((n, g.o * pos));
            WINO.with(|s| {
                let s = &mut s.borrow_mut();
                for (xi, yi) in xs
                    .chunks_exact(g.input_len())
                    .zip(y.as_slice_mut().expect("fresh").chunks_exact_mut(g.o * pos))
                {
                    winograd::forward_image(xi, g, u, bias, yi, s);
                }
            });
            return then(y);
        }
        let mut ys = Vec::with_capacity(n * g.o * pos);
        for start in (0..n).step_by(CONV_BLOCK) {
            let nb = CONV_BLOCK.min(n - start);
            let yb = with_cols(g.ckk() * nb * pos, |cols| {
                im2col(&xs[start * g.input_len()..(start + nb) * g.input_len()], nb, g, cols);
                let cols = ArrayView2::from_shape((g.ckk(), nb * pos), &*cols).expect("cols shape");
                self.w.dot(&cols) // [O, nb·pos]
            });
            if n == 1 {
                // One image: [O, 1·pos] already is the output layout; add the bias in place, no copy.
                let mut yb = yb;
                for (mut row, &bias) in yb.rows_mut().into_iter().zip(&self.b) {
                    match clamp {
                        Some(c) => row.mapv_inplace(|v| c.apply(v + bias)),
                        None => row += bias,
                    }
                }
                return yb.into_shape_with_order((1, g.o * pos)).expect("O·pos values");
            }
            let yb = yb.as_slice().expect("fresh array");
            // [O, nb, pos] → [nb, O, pos], adding the bias.
            for bi in 0..nb {
                for o in 0..g.o {
                    let bias = self.b[o];
                    ys.extend(yb[(o * nb + bi) * pos..][..pos].iter().map(|&v| v + bias));
                }
            }
        }
        then(Array2::from_shape_vec((n, g.o * pos), ys).expect("n·O·pos values"))
    }

    /// `Y_n = W · X_n + b` per image for a 1×1 convolution: `X_n` already is the `[C, H·W]` column matrix.
    /// In the wasm build the bias and `clamp` are the product's epilogue ([`kernels::gemm_bias`]), so the
    /// output is written once.
    fn forward_pointwise(&self, xs: &[f32], n: usize, clamp: Option<Clamp>) -> Array2<f32> {
        let (c, o, pos) = (self.g.c, self.g.o, self.g.positions());
        let w = self.w.as_slice().expect("standard");
        let b = self.b.as_slice().expect("standard");
        let mut y = Array2::<f32>::zeros((n, o * pos));
        let ys = y.as_slice_mut().expect("fresh");
        for (xi, yi) in xs.chunks_exact(c * pos).zip(ys.chunks_exact_mut(o * pos)) {
            matmul_then(w, xi, yi, o, c, pos, Some(b), clamp);
        }
        y
    }

    /// The VJPs of [`Conv2d::forward_pointwise`]: `∂W += Σₙ Gₙ Xₙᵀ`, `∂b += Σ Gₙ`, `∂Xₙ = Wᵀ Gₙ`.
    fn backward_pointwise(
        &self,
        xs: &[f32],
        dys: &[f32],
        n: usize,
        need_dx: bool,
        grads: Option<(&mut [f32], &mut [f32])>,
    ) -> Option<Array2<f32>> {
        let (c, o, pos) = (self.g.c, self.g.o, self.g.positions());
        if let Some((dw, db)) = grads {
            let mut dw = ArrayViewMut2::from_shape((o, c), dw).expect("dW buffer has W's size");
            for (xi, gi) in xs.chunks_exact(c * pos).zip(dys.chunks_exact(o * pos)) {
                let xi = ArrayView2::from_shape((c, pos), xi).expect("X shape");
                let gi = ArrayView2::from_shape((o, pos), gi).expect("G shape");
                general_mat_mul(1.0, &gi, &xi.t(), 1.0, &mut dw);
                for (acc, row) in db.iter_mut().zip(gi.rows()) {
                    *acc += row.iter().sum::<f32>();
                }
            }
        }
        need_dx.then(|| {
            let wt = self.wt.get_or_init(|| self.w.t().iter().copied().collect());
            let mut dx = Array2::<f32>::zeros((n, c * pos));
            let dxs = dx.as_slice_mut().expect("fresh");
            for (di, gi) in dxs.chunks_exact_mut(c * pos).zip(dys.chunks_exact(o * pos)) {
                matmul(wt, gi, di, c, o, pos);
            }
            dx
        })
    }

    /// VJPs for `dy = ∂L/∂Y: [N, O·Ho·Wo]`. Accumulates `∂L/∂W`, `∂L/∂b` into `grads` when given; returns
    /// `∂L/∂X: [N, C·H·W]` when `need_dx`.
    pub fn backward(
        &self,
        x: ArrayView2<f32>,
        dy: ArrayView2<f32>,
        need_dx: bool,
        mut grads: Option<(&mut [f32], &mut [f32])>,
    ) -> Option<Array2<f32>> {
        let g = &self.g;
        let (n, pos) = (x.nrows(), g.positions());
        let x = x.as_standard_layout();
        let xs = x.as_slice().expect("standard layout");
        let dy = dy.as_standard_layout();
        let dys = dy.as_slice().expect("standard layout");
        if self.pointwise() {
            return self.backward_pointwise(xs, dys, n, need_dx, grads);
        }
        let mut dx = need_dx.then(|| Array2::<f32>::zeros((n, g.input_len())));
        for start in (0..n).step_by(CONV_BLOCK) {
            let nb = CONV_BLOCK.min(n - start);
            // G as [O, nb·pos], contiguous.
            let mut gp = vec![0.0f32; g.o * nb * pos];
            for bi in 0..nb {
                for o in 0..g.o {
                    gp[(o * nb + bi) * pos..][..pos].copy_from_slice(&dys[((start + bi) * g.o + o) * pos..][..pos]);
                }
            }
            let gp = ArrayView2::from_shape((g.o, nb * pos), &gp).expect("G shape");
            if let Some((dw, db)) = grads.as_mut() {
                for (acc, row) in db.iter_mut().zip(gp.rows()) {
                    *acc += row.iter().sum::<f32>();
                }
                let mut dw = ArrayViewMut2::from_shape(self.w.raw_dim(), dw).expect("dW buffer has W's size");
                with_cols(g.ckk() * nb * pos, |cols| {
                    im2col(&xs[start * g.input_len()..(start + nb) * g.input_len()], nb, g, cols);
                    let cols = ArrayView2::from_shape((g.ckk(), nb * pos), &*cols).expect("cols shape");
                    general_mat_mul(1.0, &gp, &cols.t(), 1.0, &mut dw);
                });
            }
            if let Some(dx) = dx.as_mut() {
                let dcols = self.w.t().dot(&gp); // [CKK, nb·pos]
                let dxs = dx.as_slice_mut().expect("fresh array");
                col2im(
                    dcols.as_slice().expect("fresh array"),
                    nb,
                    g,
                    &mut dxs[start * g.input_len()..(start + nb) * g.input_len()],
                );
            }
        }
        dx
    }
}

/// `m = u · v` for row-major `u: [rows, inner]`, `v: [inner, cols]` (overwrites `m`): the register-blocked
/// [`kernels::gemm`](super::kernels::gemm) in the wasm build (simd128 without packing), matrixmultiply's sgemm
/// natively (AVX2/FMA kernels chosen at run time).
fn matmul(u: &[f32], v: &[f32], m: &mut [f32], rows: usize, inner: usize, cols: usize) {
    matmul_then(u, v, m, rows, inner, cols, None, None);
}

/// [`matmul`], then `m[r, ·] = clamp(m[r, ·] + bias[r])`: in the wasm build the product's own epilogue
/// ([`kernels::gemm_bias`](super::kernels::gemm_bias)), so the output is written once; natively a pass after it.
#[allow(clippy::too_many_arguments)]
fn matmul_then(
    u: &[f32],
    v: &[f32],
    m: &mut [f32],
    rows: usize,
    inner: usize,
    cols: usize,
    bias: Option<&[f32]>,
    clamp: Option<Clamp>,
) {
    if cfg!(target_arch = "wasm32") {
        super::kernels::gemm_bias(u, v, m, rows, inner, cols, bias, clamp);
        return;
    }
    let uv = ArrayView2::from_shape((rows, inner), u).expect("u shape");
    let vv = ArrayView2::from_shape((inner, cols), v).expect("v shape");
    let mut mv = ArrayViewMut2::from_shape((rows, cols), &mut *m).expect("m shape");
    general_mat_mul(1.0, &uv, &vv, 0.0, &mut mv);
    if bias.is_none() && clamp.is_none() {
        return;
    }
    for (r, row) in m.chunks_exact_mut(cols).enumerate() {
        let b = bias.map_or(0.0, |b| b[r]);
        match clamp {
            Some(c) => row.iter_mut().for_each(|x| *x = c.apply(*x + b)),
            None => row.iter_mut().for_each(|x| *x += b),
        }
    }
}

impl Layer for Conv2d {
    fn output_shape(&self) -> Shape {
        Shape::Image([self.g.o, self.g.ho, self.g.wo])
    }

    fn param_info(&self) -> Vec<ParamInfo> {
        let g = &self.g;
        vec![
            ParamInfo::new("weight", vec![g.o, g.c, g.k, g.k]),
            ParamInfo::new("bias", vec![g.o]),
        ]
    }

    fn flops(&self) -> usize {
        let g = &self.g;
        (g.o * g.ckk()).saturating_mul(2 * g.positions())
    }

    fn allocate(&mut self) {
        *self = Conv2d::zeros(self.g);
    }

    fn params(&self) -> Vec<&[f32]> {
        vec![
            self.w.as_slice().expect("standard"),
            self.b.as_slice().expect("standard"),
        ]
    }

    fn params_mut(&mut self) -> Vec<&mut [f32]> {
        let (w, b) = Conv2d::params_mut(self);
        vec![w, b]
    }

    fn init(&mut self, rng: &mut Init, last: bool) {
        let (ckk, o, kk) = (self.g.ckk(), self.g.o, self.g.k * self.g.k);
        let a = if last { glorot_bound(ckk, o * kk) } else { he_bound(ckk) };
        rng.fill(Conv2d::params_mut(self).0, a);
    }

    fn forward_clamped(&self, x: ArrayView2<f32>, _keep: bool, clamp: Clamp) -> Option<(Array2<f32>, Saved)> {
        Some((self.forward_then(x, Some(clamp)), Saved::Nothing))
    }

    fn forward(&self, x: ArrayView2<f32>, _keep: bool) -> (Array2<f32>, Saved) {
        (Conv2d::forward(self, x), Saved::Nothing)
    }

    fn backward(
        &self,
        x: ArrayView2<f32>,
        _y: ArrayView2<f32>,
        _saved: &Saved,
        dy: Array2<f32>,
        need_dx: bool,
        grads: Option<&mut [Vec<f32>]>,
    ) -> Option<Array2<f32>> {
        let pg = grads.map(|g| {
            let (w, b) = g.split_at_mut(1);
            (w[0].as_mut_slice(), b[0].as_mut_slice())
        });
        Conv2d::backward(self, x, dy.view(), need_dx, pg)
    }

    fn box_clone(&self) -> Box<dyn Layer> {
        Box::new(self.clone())
    }
}
