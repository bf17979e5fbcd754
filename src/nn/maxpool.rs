//! Non-overlapping max pooling, window = stride = `size` (floor of `H/size` rows and `W/size` columns, as in
//! PyTorch; leftover rows/columns are dropped).
//!
//! Forward: `y[n,c,i,j] = max_{0≤u,v<size} x[n,c,size·i+u, size·j+v]`.
//! Backward: `∂L/∂x[n,c,h,w] = Σ_{(i,j): (h,w) = argmax of window (i,j)} ∂L/∂y[n,c,i,j]` — the gradient flows only
//! to the arg-max of each window (the first one on ties). The arg-max indices are kept from the forward pass.

use ndarray::{Array2, ArrayView2};

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
        (
            Array2::from_shape_vec((n, out), ys).expect("n·out values"),
            idx,
        )
    }

    /// `∂L/∂x` from `dy: [N, C·Ho·Wo]` and the arg-max indices of [`forward`](Self::forward).
    pub fn backward(&self, dy: ArrayView2<f32>, idx: &[u32]) -> Array2<f32> {
        let (n, out, inp) = (
            dy.nrows(),
            self.c * self.ho * self.wo,
            self.c * self.h * self.w,
        );
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
