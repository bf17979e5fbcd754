//! Non-overlapping max pooling, window = stride = `size` (floor of `H/size` rows and `W/size` columns, as in
//! PyTorch; leftover rows/columns are dropped).
//!
//! Forward: `y[n,c,i,j] = max_{0≤u,v<size} x[n,c,size·i+u, size·j+v]`.
//! Backward: `∂L/∂x[n,c,h,w] = Σ_{(i,j): (h,w) = argmax of window (i,j)} ∂L/∂y[n,c,i,j]` — the gradient flows only
//! to the arg-max of each window (the first one on ties). The arg-max indices are kept from the forward pass.

use ndarray::{Array2, ArrayView2};

use super::layer::{Layer, Saved, Shape};

/// Max pooling over `[C, H, W]` images.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MaxPool2d {
    pub c: usize,
    pub h: usize,
    pub w: usize,
    pub size: usize,
    pub ho: usize,
    pub wo: usize,
}

impl MaxPool2d {
    /// The layer for `spec` on `input`, validated.
    pub(crate) fn layer(size: usize, input: Shape) -> Result<MaxPool2d, String> {
        let [c, h, w] = input.image()?;
        if size == 0 {
            return Err("size must be at least 1".into());
        }
        if size > h || size > w {
            return Err(format!("window {size} is larger than the input {h}×{w}"));
        }
        Ok(MaxPool2d::new(c, h, w, size))
    }

    pub fn new(c: usize, h: usize, w: usize, size: usize) -> MaxPool2d {
        MaxPool2d {
            c,
            h,
            w,
            size,
            ho: h / size,
            wo: w / size,
        }
    }

    /// `x: [N, C·H·W]` → `(y: [N, C·Ho·Wo], arg-max index into each image's C·H·W features, one per output)`.
    pub fn forward(&self, x: ArrayView2<f32>) -> (Array2<f32>, Vec<u32>) {
        let (n, hw, out) = (x.nrows(), self.h * self.w, self.c * self.ho * self.wo);
        let x = x.as_standard_layout();
        let xs = x.as_slice().expect("standard layout");
        let inp = self.c * hw;
        let mut ys = Vec::with_capacity(n * out);
        let mut idx = Vec::with_capacity(n * out);
        if self.size == 2 {
            for b in 0..n {
                self.forward2_image(&xs[b * inp..(b + 1) * inp], &mut ys, &mut idx);
            }
        } else {
            self.forward_any(xs, n, &mut ys, &mut idx);
        }
        (Array2::from_shape_vec((n, out), ys).expect("n·out values"), idx)
    }

    /// Any window size: the running max over each window, row by row.
    fn forward_any(&self, xs: &[f32], n: usize, ys: &mut Vec<f32>, idx: &mut Vec<u32>) {
        let (hw, inp) = (self.h * self.w, self.c * self.h * self.w);
        let (size, w, wo) = (self.size, self.w, self.wo);
        for b in 0..n {
            let img = &xs[b * inp..(b + 1) * inp];
            for c in 0..self.c {
                for i in 0..self.ho {
                    let top = c * hw + i * size * w;
                    for j in 0..wo {
                        // Branch-free running max (a data-dependent branch mispredicts half the time here).
                        let first = top + j * size;
                        let (mut bv, mut bi) = (img[first], first);
                        for u in 0..size {
                            let row = first + u * w;
                            for (q, &v) in img[row..row + size].iter().enumerate() {
                                let gt = v > bv;
                                bv = if gt { v } else { bv };
                                bi = if gt { row + q } else { bi };
                            }
                        }
                        ys.push(bv);
                        idx.push(bi as u32);
                    }
                }
            }
        }
    }

    /// The 2×2 case of [`forward`](Self::forward) for one image (every shipped CNN): the same values and the same
    /// first-on-ties arg-max (order: top-left, top-right, bottom-left, bottom-right), with the row pair and the
    /// column pairs walked as exact chunks, so there is no bounds check or dynamic window loop inside.
    fn forward2_image(&self, img: &[f32], ys: &mut Vec<f32>, idx: &mut Vec<u32>) {
        let (hw, w) = (self.h * self.w, self.w);
        for c in 0..self.c {
            for i in 0..self.ho {
                let top = c * hw + 2 * i * w;
                let r0 = &img[top..top + 2 * self.wo];
                let r1 = &img[top + w..top + w + 2 * self.wo];
                for (j, (p, q)) in r0.chunks_exact(2).zip(r1.chunks_exact(2)).enumerate() {
                    let first = (top + 2 * j) as u32;
                    let (mut bv, mut bi) = (p[0], first);
                    for (v, at) in [
                        (p[1], first + 1),
                        (q[0], first + w as u32),
                        (q[1], first + w as u32 + 1),
                    ] {
                        let gt = v > bv;
                        bv = if gt { v } else { bv };
                        bi = if gt { at } else { bi };
                    }
                    ys.push(bv);
                    idx.push(bi);
                }
            }
        }
    }

    /// The values of [`forward`](Self::forward) without the arg-max indices (inference: nothing will be
    /// back-propagated). `y = max(max(a, b), max(c, d))` per 2×2 window is branch-free and vectorises; other sizes
    /// take the general path.
    pub fn forward_values(&self, x: ArrayView2<f32>) -> Array2<f32> {
        if self.size != 2 {
            return self.forward(x).0;
        }
        let (n, hw, w, wo) = (x.nrows(), self.h * self.w, self.w, self.wo);
        let x = x.as_standard_layout();
        let xs = x.as_slice().expect("standard layout");
        let (inp, out) = (self.c * hw, self.c * self.ho * wo);
        let mut y = Array2::<f32>::zeros((n, out));
        let ys = y.as_slice_mut().expect("fresh array");
        for (img, yimg) in xs.chunks_exact(inp).zip(ys.chunks_exact_mut(out)) {
            for (c, yc) in yimg.chunks_exact_mut(self.ho * wo).enumerate() {
                for (i, yrow) in yc.chunks_exact_mut(wo).enumerate() {
                    let top = c * hw + 2 * i * w;
                    let r0 = &img[top..top + 2 * wo];
                    let r1 = &img[top + w..top + w + 2 * wo];
                    for ((o, p), q) in yrow.iter_mut().zip(r0.chunks_exact(2)).zip(r1.chunks_exact(2)) {
                        // `>`-based max, as the arg-max path: the same value whenever no input is NaN.
                        let m0 = if p[1] > p[0] { p[1] } else { p[0] };
                        let m1 = if q[1] > q[0] { q[1] } else { q[0] };
                        *o = if m1 > m0 { m1 } else { m0 };
                    }
                }
            }
        }
        y
    }

    /// `∂L/∂x` from `dy: [N, C·Ho·Wo]` and the arg-max indices of [`forward`](Self::forward).
    pub fn backward(&self, dy: ArrayView2<f32>, idx: &[u32]) -> Array2<f32> {
        let (n, out, inp) = (dy.nrows(), self.c * self.ho * self.wo, self.c * self.h * self.w);
        let dy = dy.as_standard_layout();
        let dys = dy.as_slice().expect("standard layout");
        let mut dx = Array2::<f32>::zeros((n, inp));
        let dxs = dx.as_slice_mut().expect("fresh array");
        for b in 0..n {
            for k in b * out..(b + 1) * out {
                dxs[b * inp + idx[k] as usize] += dys[k];
            }
        }
        dx
    }
}

impl Layer for MaxPool2d {
    fn output_shape(&self) -> Shape {
        Shape::Image([self.c, self.ho, self.wo])
    }

    fn forward(&self, x: ArrayView2<f32>, keep: bool) -> (Array2<f32>, Saved) {
        if keep {
            let (y, idx) = MaxPool2d::forward(self, x);
            (y, Saved::Indices(idx))
        } else {
            (self.forward_values(x), Saved::Nothing)
        }
    }

    fn backward(
        &self,
        _x: ArrayView2<f32>,
        _y: ArrayView2<f32>,
        saved: &Saved,
        dy: Array2<f32>,
        need_dx: bool,
        _grads: Option<&mut [Vec<f32>]>,
    ) -> Option<Array2<f32>> {
        let Saved::Indices(idx) = saved else {
            unreachable!("max-pool records its arg-max indices")
        };
        need_dx.then(|| MaxPool2d::backward(self, dy.view(), idx))
    }

    fn box_clone(&self) -> Box<dyn Layer> {
        Box::new(*self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values with many ties (a few levels only), so the first-on-ties rule is exercised.
    fn input(n: usize, len: usize) -> Array2<f32> {
        Array2::from_shape_fn((n, len), |(b, i)| ((b * 7919 + i * 104_729) % 5) as f32 * 0.25 - 0.5)
    }

    #[test]
    fn the_2x2_paths_match_the_general_window_loop() {
        // Even and odd sizes (odd: the last row and column are dropped).
        for (c, h, w) in [(3, 8, 8), (2, 7, 9), (32, 28, 28)] {
            let p = MaxPool2d::new(c, h, w, 2);
            let x = input(3, c * h * w);
            let (y, idx) = p.forward(x.view());
            let (mut ys, mut is) = (Vec::new(), Vec::new());
            p.forward_any(x.as_slice().unwrap(), 3, &mut ys, &mut is);
            assert_eq!(y.as_slice().unwrap(), &ys[..], "values");
            assert_eq!(idx, is, "arg-max, first on ties");
            assert_eq!(p.forward_values(x.view()), y, "the inference path");
        }
    }

    #[test]
    fn other_window_sizes_take_the_general_path() {
        let p = MaxPool2d::new(2, 9, 9, 3);
        let x = input(2, 2 * 81);
        let (y, _) = p.forward(x.view());
        assert_eq!(p.forward_values(x.view()), y);
        // One window by hand: image 0, channel 1, window (1, 2) covers rows 3..6, columns 6..9.
        let want = (3..6)
            .flat_map(|r| (6..9).map(move |q| 81 + r * 9 + q))
            .map(|k| x[[0, k]])
            .fold(f32::NEG_INFINITY, f32::max);
        assert_eq!(y[[0, 9 + 3 + 2]], want);
    }
}
