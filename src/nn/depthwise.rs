//! Depthwise 2-D convolution: one `k×k` filter per channel, no mixing across channels (Howard et al. 2017,
//! "MobileNets", §3.1; the middle layer of the inverted residual block of Sandler et al. 2018, "MobileNetV2").
//! PyTorch's `Conv2d(C, C, k, groups=C)` with weight `[C, 1, k, k]` and bias `[C]`.
//!
//! Forward: `y[c,i,j] = b[c] + Σ_{u,v} W[c,u,v]·x[c, s·i+u−p, s·j+v−pl]` (0 outside the image), output size and
//! padding from [`Padding`] (TensorFlow "same": `⌈H/s⌉`, asymmetric for stride 2).
//!
//! Backward, with `G = ∂L/∂y`: `∂L/∂b[c] = Σ_{i,j} G[c,i,j]`,
//! `∂L/∂W[c,u,v] = Σ_{i,j} G[c,i,j]·x[c, s·i+u−p, s·j+v−pl]`,
//! `∂L/∂x[c, s·i+u−p, s·j+v−pl] += W[c,u,v]·G[c,i,j]`.
//!
//! Direct loops, channel by channel (a channel plane stays in L2, an output row in L1). The forward pass for
//! `k ∈ {3, 5}` and stride 1 or 2 (every EfficientNet layer) copies each channel into a zero-padded plane once and
//! then sums all `k` taps of a filter row in one pass over the output row (`forward_image_fused`). Other shapes,
//! and the backward pass, take for each output row and each filter tap `(u, v)` one `axpy` over the row, `y[i, j] += W[u,v]·x[r, s·j + off]`. For stride 1 that reads a
//! contiguous input row. For stride `s` > 1 each input row is first split into its `s` phases
//! (`x[r, s·m + t]` for `t < s`), so tap `off` reads phase `off mod s` contiguously at shift `⌊off/s⌋`. Every inner
//! loop is a plain zip of two slices, which LLVM vectorises (simd128 in the wasm build).

use ndarray::{Array1, Array2, ArrayView2};

use super::init::{he_bound, Init};
use super::layer::{Clamp, Layer, ParamInfo, Saved, Shape, MAX_ACTIVATION, TOO_BIG};
use super::Padding;

/// Depthwise convolution geometry on one image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DwGeom {
    pub c: usize,
    pub h: usize,
    pub w: usize,
    pub k: usize,
    pub s: usize,
    /// Zero padding above and to the left; below/right follows from the output size.
    pub p: usize,
    pub pl: usize,
    pub ho: usize,
    pub wo: usize,
}

/// Depthwise convolution layer; `W` is stored as `[C, k·k]`.
#[derive(Debug, Clone)]
pub struct DepthwiseConv2d {
    g: DwGeom,
    w: Array2<f32>,
    b: Array1<f32>,
}

/// Output indices `j ∈ [0, out)` whose source `j + shift` lies in `[0, len)`.
#[inline]
fn span(out: usize, len: usize, shift: isize) -> (usize, usize) {
    let lo = (-shift).max(0) as usize;
    let hi = (len as isize - shift).clamp(0, out as isize) as usize;
    (lo.min(hi), hi)
}

/// `y[j] += a·x[j]` over two equal-length slices (vectorised by LLVM).
#[inline(always)]
fn axpy(y: &mut [f32], a: f32, x: &[f32]) {
    for (y, &x) in y.iter_mut().zip(x) {
        *y += a * x;
    }
}

/// Dot product, four partial sums (vectorised by LLVM).
#[inline(always)]
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; 4];
    let (ca, cb) = (a.chunks_exact(4), b.chunks_exact(4));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for l in 0..4 {
            acc[l] += x[l] * y[l];
        }
    }
    let mut s = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    for (x, y) in ra.iter().zip(rb) {
        s += x * y;
    }
    s
}

impl DwGeom {
    /// Length of phase `t` of a row: `|{m : s·m + t < W}|`.
    fn phase_len(&self, t: usize) -> usize {
        (self.w + self.s - 1 - t) / self.s
    }

    /// Offset of phase `t` inside a phase-split row.
    fn phase_start(&self, t: usize) -> usize {
        (0..t).map(|q| self.phase_len(q)).sum()
    }

    /// For tap column `v`: (phase start inside a split row, phase length, shift).
    fn tap(&self, v: usize) -> (usize, usize, isize) {
        let off = v as isize - self.pl as isize;
        let s = self.s as isize;
        let t = off.rem_euclid(s) as usize;
        (self.phase_start(t), self.phase_len(t), off.div_euclid(s))
    }

    /// Valid output rows for tap row `u` and the input row of output row `i`.
    fn row(&self, i: usize, u: usize) -> Option<usize> {
        let r = (self.s * i + u) as isize - self.p as isize;
        (r >= 0 && (r as usize) < self.h).then_some(r as usize)
    }
}

/// Splits each row of a `[H, W]` plane into its `s` phases (identity layout for `s = 1`).
fn split_phases(g: &DwGeom, plane: &[f32], out: &mut [f32]) {
    if g.s == 2 {
        // The common case as pairs: (even, odd) per step, no index arithmetic.
        let ne = g.phase_len(0);
        for (src, dst) in plane.chunks_exact(g.w).zip(out.chunks_exact_mut(g.w)) {
            let (e, o) = dst.split_at_mut(ne);
            for ((a, b), p) in e.iter_mut().zip(o.iter_mut()).zip(src.chunks_exact(2)) {
                *a = p[0];
                *b = p[1];
            }
            if g.w % 2 == 1 {
                e[ne - 1] = src[g.w - 1];
            }
        }
        return;
    }
    for (src, dst) in plane.chunks_exact(g.w).zip(out.chunks_exact_mut(g.w)) {
        let mut at = 0;
        for t in 0..g.s {
            for m in 0..g.phase_len(t) {
                dst[at + m] = src[g.s * m + t];
            }
            at += g.phase_len(t);
        }
    }
}

/// The inverse of [`split_phases`], adding into `plane`.
fn merge_phases_add(g: &DwGeom, split: &[f32], plane: &mut [f32]) {
    for (src, dst) in split.chunks_exact(g.w).zip(plane.chunks_exact_mut(g.w)) {
        let mut at = 0;
        for t in 0..g.s {
            for m in 0..g.phase_len(t) {
                dst[g.s * m + t] += src[at + m];
            }
            at += g.phase_len(t);
        }
    }
}

impl DepthwiseConv2d {
    /// The layer for `spec` on `input`, validated, parameters not yet allocated.
    pub(crate) fn new(
        channels: usize,
        kernel: usize,
        stride: usize,
        padding: Padding,
        input: Shape,
    ) -> Result<DepthwiseConv2d, String> {
        let [c, h, w] = input.image()?;
        if channels == 0 || kernel == 0 || stride == 0 {
            return Err("channels, kernel and stride must be at least 1".into());
        }
        if channels != c {
            return Err(format!("expects {channels} channels but receives {input}"));
        }
        if stride > h.max(w) {
            // Also bounds the row phases (one per stride step) of the strided path.
            return Err(format!("stride {stride} is larger than the input {h}×{w}"));
        }
        let ((p, ho), (pl, wo)) = (padding.resolve(h, kernel, stride)?, padding.resolve(w, kernel, stride)?);
        let kk = kernel.checked_mul(kernel).ok_or(TOO_BIG)?;
        c.checked_mul(kk).and_then(|n| n.checked_add(c)).ok_or(TOO_BIG)?;
        let out = ho.checked_mul(wo).and_then(|p| p.checked_mul(c));
        if kk > MAX_ACTIVATION || out.is_none_or(|n| n > MAX_ACTIVATION) {
            return Err(TOO_BIG.into());
        }
        Ok(DepthwiseConv2d {
            g: DwGeom {
                c,
                h,
                w,
                k: kernel,
                s: stride,
                p,
                pl,
                ho,
                wo,
            },
            w: Array2::zeros((0, 0)),
            b: Array1::zeros(0),
        })
    }

    pub fn geometry(&self) -> &DwGeom {
        &self.g
    }

    /// The forward pass, then `clamp` on every output when given ([`Layer::forward_clamped`]).
    fn forward_then(&self, x: ArrayView2<f32>, clamp: Option<Clamp>) -> Array2<f32> {
        let g = &self.g;
        let (inp, out) = (g.c * g.h * g.w, g.c * g.ho * g.wo);
        let x = x.as_standard_layout();
        let mut y = Array2::<f32>::zeros((x.nrows(), out));
        let mut split = vec![0.0f32; if g.s == 1 { 0 } else { g.h * g.w }];
        let mut pad = Vec::new();
        for (xi, yi) in x
            .as_slice()
            .expect("standard")
            .chunks_exact(inp)
            .zip(y.as_slice_mut().expect("fresh").chunks_exact_mut(out))
        {
            match (g.k, g.s) {
                (3, 1 | 2) => self.forward_image_fused::<3>(xi, yi, &mut pad, clamp),
                (5, 1 | 2) => self.forward_image_fused::<5>(xi, yi, &mut pad, clamp),
                _ => {
                    self.forward_image(xi, yi, &mut split);
                    if let Some(c) = clamp {
                        yi.iter_mut().for_each(|v| *v = c.apply(*v));
                    }
                }
            }
        }
        y
    }

    /// The padded plane the fused forward reads: `(rows, cols)` = `((Ho − 1)·s + k, (Wo − 1)·s + k)`.
    fn padded_dims(&self) -> (usize, usize) {
        let g = &self.g;
        ((g.ho - 1) * g.s + g.k, (g.wo - 1) * g.s + g.k)
    }

    /// The forward pass of one image for `k = K` and stride 1 or 2 (every EfficientNet layer): each channel is
    /// copied once into a zero-padded plane (stride 2: its even and odd columns side by side), and each output row
    /// takes one pass per filter row `u` that sums all `K` taps, `y[j] += Σ_v W[u,v]·x[r, s·j + v]`, with no
    /// boundary logic inside (`K` contiguous reads per output, vectorised across `j`).
    /// `clamp` (the next layer's ReLU6, fused) is applied to each output row while it is in L1.
    fn forward_image_fused<const K: usize>(&self, x: &[f32], y: &mut [f32], pad: &mut Vec<f32>, clamp: Option<Clamp>) {
        let g = &self.g;
        let (hw, pos) = (g.h * g.w, g.ho * g.wo);
        let (hp, wp) = self.padded_dims();
        // Column layout of a padded row: stride 1 as is; stride 2 the even columns, then the odd ones.
        let ne = wp.div_ceil(2);
        let col = |q: usize| {
            if g.s == 1 || q.is_multiple_of(2) {
                q / g.s
            } else {
                ne + q / 2
            }
        };
        // Where tap v of output column j reads: column `base(v) + j`.
        let base: [usize; K] = std::array::from_fn(col);
        pad.clear();
        pad.resize(hp * wp, 0.0);
        let wts = self.w.as_slice().expect("standard");
        let (rows, cols) = (g.h.min(hp.saturating_sub(g.p)), g.w.min(wp.saturating_sub(g.pl)));
        for c in 0..g.c {
            let plane = &x[c * hw..(c + 1) * hw];
            for r in 0..rows {
                let dst = &mut pad[(r + g.p) * wp..(r + g.p + 1) * wp];
                for (q, &v) in plane[r * g.w..r * g.w + cols].iter().enumerate() {
                    dst[col(q + g.pl)] = v;
                }
            }
            let wc: &[f32] = &wts[c * K * K..(c + 1) * K * K];
            let yc = &mut y[c * pos..(c + 1) * pos];
            yc.fill(self.b[c]);
            for (i, yrow) in yc.chunks_exact_mut(g.wo).enumerate() {
                for u in 0..K {
                    let prow = &pad[(g.s * i + u) * wp..(g.s * i + u + 1) * wp];
                    let xs: [&[f32]; K] = std::array::from_fn(|v| &prow[base[v]..base[v] + g.wo]);
                    let a: [f32; K] = std::array::from_fn(|v| wc[u * K + v]);
                    for (j, yv) in yrow.iter_mut().enumerate() {
                        let mut acc = *yv;
                        for v in 0..K {
                            acc += a[v] * xs[v][j];
                        }
                        *yv = acc;
                    }
                }
                if let Some(c) = clamp {
                    yrow.iter_mut().for_each(|v| *v = c.apply(*v));
                }
            }
            // The padding stays zero: only the interior is rewritten for the next channel.
        }
    }

    /// `∂L/∂x` of one image for `k = K`, stride 1 or 2, in the padded layout of
    /// [`forward_image_fused`](Self::forward_image_fused): per output row and filter row, `K` contiguous `axpy`s
    /// `xpad[s·i + u, s·j + v] += W[u,v]·G[i,j]` without boundary logic; the interior is then copied to `dx`.
    fn backward_dx_fused<const K: usize>(&self, gy: &[f32], dx: &mut [f32], pad: &mut Vec<f32>) {
        let g = &self.g;
        let (hw, pos) = (g.h * g.w, g.ho * g.wo);
        let (hp, wp) = self.padded_dims();
        let ne = wp.div_ceil(2);
        let col = |q: usize| {
            if g.s == 1 || q.is_multiple_of(2) {
                q / g.s
            } else {
                ne + q / 2
            }
        };
        let base: [usize; K] = std::array::from_fn(col);
        pad.clear();
        pad.resize(hp * wp, 0.0);
        let wts = self.w.as_slice().expect("standard");
        let (rows, cols) = (g.h.min(hp.saturating_sub(g.p)), g.w.min(wp.saturating_sub(g.pl)));
        for c in 0..g.c {
            pad.fill(0.0);
            let wc = &wts[c * K * K..(c + 1) * K * K];
            for (i, grow) in gy[c * pos..(c + 1) * pos].chunks_exact(g.wo).enumerate() {
                for u in 0..K {
                    let prow = &mut pad[(g.s * i + u) * wp..(g.s * i + u + 1) * wp];
                    for (v, &b) in base.iter().enumerate() {
                        axpy(&mut prow[b..b + g.wo], wc[u * K + v], grow);
                    }
                }
            }
            let dplane = &mut dx[c * hw..(c + 1) * hw];
            for r in 0..rows {
                let src = &pad[(r + g.p) * wp..(r + g.p + 1) * wp];
                for (q, d) in dplane[r * g.w..r * g.w + cols].iter_mut().enumerate() {
                    *d = src[col(q + g.pl)];
                }
            }
        }
    }

    /// `∂L/∂x` of one image for `k = K` and stride 1 as a correlation: `∂x[r,q] = Σ_{u,v} W[u,v]·G[r+p−u, q+pl−v]`
    /// is the fused forward loop over `G` zero-padded by `K − 1` on every side with the flipped filter
    /// `W[K−1−u, K−1−v]`: all `K` taps of a filter row summed in one pass per input row.
    fn backward_dx_s1<const K: usize>(&self, gy: &[f32], dx: &mut [f32], pad: &mut Vec<f32>) {
        let g = &self.g;
        let (hw, pos) = (g.h * g.w, g.ho * g.wo);
        let (hq, wq) = (g.ho + 2 * (K - 1), g.wo + 2 * (K - 1));
        pad.clear();
        pad.resize(hq * wq, 0.0);
        let wts = self.w.as_slice().expect("standard");
        for c in 0..g.c {
            for (i, grow) in gy[c * pos..(c + 1) * pos].chunks_exact(g.wo).enumerate() {
                pad[(i + K - 1) * wq + K - 1..][..g.wo].copy_from_slice(grow);
            }
            let wc = &wts[c * K * K..(c + 1) * K * K];
            for (r, drow) in dx[c * hw..(c + 1) * hw].chunks_exact_mut(g.w).enumerate() {
                for u in 0..K {
                    let prow = &pad[(r + g.p + u) * wq..(r + g.p + u + 1) * wq];
                    let xs: [&[f32]; K] = std::array::from_fn(|v| &prow[g.pl + v..g.pl + v + g.w]);
                    let a: [f32; K] = std::array::from_fn(|v| wc[(K - 1 - u) * K + (K - 1 - v)]);
                    for (q, d) in drow.iter_mut().enumerate() {
                        let mut acc = *d;
                        for v in 0..K {
                            acc += a[v] * xs[v][q];
                        }
                        *d = acc;
                    }
                }
            }
        }
    }

    /// One image `x: [C, H, W]` → `y: [C, Ho, Wo]` (overwritten). `split` is scratch of `H·W` (stride > 1).
    fn forward_image(&self, x: &[f32], y: &mut [f32], split: &mut [f32]) {
        let g = &self.g;
        let (hw, pos, kk) = (g.h * g.w, g.ho * g.wo, g.k * g.k);
        let wts = self.w.as_slice().expect("standard");
        let taps: Vec<(usize, usize, isize)> = (0..g.k).map(|v| g.tap(v)).collect();
        for c in 0..g.c {
            let plane = &x[c * hw..(c + 1) * hw];
            let src: &[f32] = if g.s == 1 {
                plane
            } else {
                split_phases(g, plane, split);
                split
            };
            let wc = &wts[c * kk..(c + 1) * kk];
            let yc = &mut y[c * pos..(c + 1) * pos];
            yc.fill(self.b[c]);
            for (i, yrow) in yc.chunks_exact_mut(g.wo).enumerate() {
                for u in 0..g.k {
                    let Some(r) = g.row(i, u) else { continue };
                    let xrow = &src[r * g.w..(r + 1) * g.w];
                    for (v, &(start, len, shift)) in taps.iter().enumerate() {
                        let (lo, hi) = span(g.wo, len, shift);
                        if lo < hi {
                            let a = (lo as isize + shift) as usize;
                            axpy(
                                &mut yrow[lo..hi],
                                wc[u * g.k + v],
                                &xrow[start + a..start + a + (hi - lo)],
                            );
                        }
                    }
                }
            }
        }
    }

    /// VJPs of one image. `dw`, `db` accumulate when given; `dx` (zeroed `[C, H, W]`) receives `∂L/∂x` when given.
    fn backward_image(
        &self,
        x: &[f32],
        gy: &[f32],
        mut dx: Option<&mut [f32]>,
        mut grads: Option<(&mut [f32], &mut [f32])>,
        split: &mut [f32],
        dsplit: &mut [f32],
    ) {
        let g = &self.g;
        let (hw, pos, kk) = (g.h * g.w, g.ho * g.wo, g.k * g.k);
        let wts = self.w.as_slice().expect("standard");
        let taps: Vec<(usize, usize, isize)> = (0..g.k).map(|v| g.tap(v)).collect();
        for c in 0..g.c {
            let gc = &gy[c * pos..(c + 1) * pos];
            if let Some((dw, db)) = grads.as_mut() {
                db[c] += gc.iter().sum::<f32>();
                let plane = &x[c * hw..(c + 1) * hw];
                let src: &[f32] = if g.s == 1 {
                    plane
                } else {
                    split_phases(g, plane, split);
                    split
                };
                let dwc = &mut dw[c * kk..(c + 1) * kk];
                for (i, grow) in gc.chunks_exact(g.wo).enumerate() {
                    for u in 0..g.k {
                        let Some(r) = g.row(i, u) else { continue };
                        let xrow = &src[r * g.w..(r + 1) * g.w];
                        for (v, &(start, len, shift)) in taps.iter().enumerate() {
                            let (lo, hi) = span(g.wo, len, shift);
                            if lo < hi {
                                let a = (lo as isize + shift) as usize;
                                dwc[u * g.k + v] += dot(&grow[lo..hi], &xrow[start + a..start + a + (hi - lo)]);
                            }
                        }
                    }
                }
            }
            if let Some(dx) = dx.as_deref_mut() {
                let wc = &wts[c * kk..(c + 1) * kk];
                let dplane = &mut dx[c * hw..(c + 1) * hw];
                let dst: &mut [f32] = if g.s == 1 {
                    dplane
                } else {
                    dsplit.fill(0.0);
                    &mut *dsplit
                };
                for (i, grow) in gc.chunks_exact(g.wo).enumerate() {
                    for u in 0..g.k {
                        let Some(r) = g.row(i, u) else { continue };
                        let drow = &mut dst[r * g.w..(r + 1) * g.w];
                        for (v, &(start, len, shift)) in taps.iter().enumerate() {
                            let (lo, hi) = span(g.wo, len, shift);
                            if lo < hi {
                                let a = (lo as isize + shift) as usize;
                                axpy(
                                    &mut drow[start + a..start + a + (hi - lo)],
                                    wc[u * g.k + v],
                                    &grow[lo..hi],
                                );
                            }
                        }
                    }
                }
                if g.s != 1 {
                    merge_phases_add(g, dsplit, &mut dx[c * hw..(c + 1) * hw]);
                }
            }
        }
    }
}

impl Layer for DepthwiseConv2d {
    fn output_shape(&self) -> Shape {
        Shape::Image([self.g.c, self.g.ho, self.g.wo])
    }

    fn param_info(&self) -> Vec<ParamInfo> {
        let g = &self.g;
        vec![
            ParamInfo::new("weight", vec![g.c, 1, g.k, g.k]),
            ParamInfo::new("bias", vec![g.c]),
        ]
    }

    fn flops(&self) -> usize {
        let g = &self.g;
        (2 * g.c * g.k * g.k).saturating_mul(g.ho * g.wo)
    }

    fn allocate(&mut self) {
        self.w = Array2::zeros((self.g.c, self.g.k * self.g.k));
        self.b = Array1::zeros(self.g.c);
    }

    fn params(&self) -> Vec<&[f32]> {
        vec![
            self.w.as_slice().expect("standard"),
            self.b.as_slice().expect("standard"),
        ]
    }

    fn params_mut(&mut self) -> Vec<&mut [f32]> {
        vec![
            self.w.as_slice_mut().expect("standard"),
            self.b.as_slice_mut().expect("standard"),
        ]
    }

    /// He-uniform with PyTorch's fan-in for `groups = C`: `k·k`.
    fn init(&mut self, rng: &mut Init, _last: bool) {
        let a = he_bound(self.g.k * self.g.k);
        rng.fill(self.w.as_slice_mut().expect("standard"), a);
    }

    fn forward_clamped(&self, x: ArrayView2<f32>, _keep: bool, clamp: Clamp) -> Option<(Array2<f32>, Saved)> {
        Some((self.forward_then(x, Some(clamp)), Saved::Nothing))
    }

    fn forward(&self, x: ArrayView2<f32>, _keep: bool) -> (Array2<f32>, Saved) {
        (self.forward_then(x, None), Saved::Nothing)
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
        let g = &self.g;
        let (inp, out, n) = (g.c * g.h * g.w, g.c * g.ho * g.wo, dy.nrows());
        let x = x.as_standard_layout();
        let xs = x.as_slice().expect("standard");
        let scratch = if g.s == 1 { 0 } else { g.h * g.w };
        let (mut split, mut dsplit) = (vec![0.0f32; scratch], vec![0.0f32; scratch]);
        let mut dx = need_dx.then(|| Array2::<f32>::zeros((n, inp)));
        let mut grads = grads.map(|gr| {
            let (w, b) = gr.split_at_mut(1);
            (w[0].as_mut_slice(), b[0].as_mut_slice())
        });
        let dy = dy.as_standard_layout();
        let dys = dy.as_slice().expect("standard");
        let fused = matches!((g.k, g.s), (3 | 5, 1 | 2));
        let mut pad = Vec::new();
        for b in 0..n {
            let mut dxi = dx
                .as_mut()
                .map(|d| &mut d.as_slice_mut().expect("fresh")[b * inp..(b + 1) * inp]);
            if fused {
                let gi = &dys[b * out..(b + 1) * out];
                if let Some(d) = dxi.take() {
                    match (g.k, g.s) {
                        (3, 1) => self.backward_dx_s1::<3>(gi, d, &mut pad),
                        (5, 1) => self.backward_dx_s1::<5>(gi, d, &mut pad),
                        (3, _) => self.backward_dx_fused::<3>(gi, d, &mut pad),
                        _ => self.backward_dx_fused::<5>(gi, d, &mut pad),
                    }
                }
                if grads.is_none() {
                    continue;
                }
            }
            let xi = if grads.is_some() {
                &xs[b * inp..(b + 1) * inp]
            } else {
                &[][..]
            };
            let gr = grads.as_mut().map(|(w, b)| (&mut **w, &mut **b));
            self.backward_image(xi, &dys[b * out..(b + 1) * out], dxi, gr, &mut split, &mut dsplit);
        }
        dx
    }

    fn box_clone(&self) -> Box<dyn Layer> {
        Box::new(self.clone())
    }
}
