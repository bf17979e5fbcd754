//! 2-D convolution (cross-correlation, as in every ML framework) with stride and zero padding.
//!
//! Forward: `y[n,o,i,j] = b[o] + Σ_{c,u,v} W[o,c,u,v]·x[n,c,s·i+u−p, s·j+v−p]` (terms outside the image are 0),
//! `Ho = (H + 2p − k)/s + 1`. Computed as `Y = W · im2col(x)` (one sgemm per block of images, see [`super::im2col`]).
//!
//! Backward, with `G = ∂L/∂Y` rearranged to `[O, B·Ho·Wo]`:
//! `∂L/∂W = G · im2col(x)ᵀ`, `∂L/∂b[o] = Σ_{n,i,j} G[n,o,i,j]`, `∂L/∂x = col2im(Wᵀ · G)`.
//!
//! Images are processed in blocks of [`CONV_BLOCK`], which bounds the column matrix's memory whatever the batch.

use ndarray::linalg::general_mat_mul;
use ndarray::{Array1, Array2, ArrayView2, ArrayViewMut2};

use super::im2col::{col2im, im2col, ConvGeom};

/// Images per im2col block: large enough that the GEMM is efficient, small enough to stay in cache-sized memory.
pub const CONV_BLOCK: usize = 32;

/// Convolution layer; `W` is stored as `[O, C·k·k]`, which is `[O, C, k, k]` row-major.
#[derive(Debug, Clone)]
pub struct Conv2d {
    pub(crate) g: ConvGeom,
    pub(crate) w: Array2<f32>,
    pub(crate) b: Array1<f32>,
}

impl Conv2d {
    /// Zero parameters for the given geometry.
    pub fn zeros(g: ConvGeom) -> Conv2d {
        Conv2d {
            g,
            w: Array2::zeros((g.o, g.ckk())),
            b: Array1::zeros(g.o),
        }
    }

    pub fn geometry(&self) -> &ConvGeom {
        &self.g
    }

    /// `x: [N, C·H·W]` (standard layout) → `y: [N, O·Ho·Wo]`.
    pub fn forward(&self, x: ArrayView2<f32>) -> Array2<f32> {
        let g = &self.g;
        let (n, pos) = (x.nrows(), g.positions());
        let x = x.as_standard_layout();
        let xs = x.as_slice().expect("standard layout");
        let mut y = Array2::<f32>::zeros((n, g.o * pos));
        let ys = y.as_slice_mut().expect("fresh array");
        for start in (0..n).step_by(CONV_BLOCK) {
            let nb = CONV_BLOCK.min(n - start);
            let mut cols = vec![0.0f32; g.ckk() * nb * pos];
            im2col(
                &xs[start * g.input_len()..(start + nb) * g.input_len()],
                nb,
                g,
                &mut cols,
            );
            let cols = ArrayView2::from_shape((g.ckk(), nb * pos), &cols).expect("cols shape");
            let yb = self.w.dot(&cols); // [O, nb·pos]
            let yb = yb.as_slice().expect("fresh array");
            // [O, nb, pos] → [nb, O, pos], adding the bias.
            for bi in 0..nb {
                for o in 0..g.o {
                    let dst = &mut ys[((start + bi) * g.o + o) * pos..][..pos];
                    let src = &yb[(o * nb + bi) * pos..][..pos];
                    let bias = self.b[o];
                    for (d, &s) in dst.iter_mut().zip(src) {
                        *d = s + bias;
                    }
                }
            }
        }
        y
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
                let mut cols = vec![0.0f32; g.ckk() * nb * pos];
                im2col(
                    &xs[start * g.input_len()..(start + nb) * g.input_len()],
                    nb,
                    g,
                    &mut cols,
                );
                let cols = ArrayView2::from_shape((g.ckk(), nb * pos), &cols).expect("cols shape");
                let mut dw = ArrayViewMut2::from_shape(self.w.raw_dim(), dw).expect("dW buffer has W's size");
                general_mat_mul(1.0, &gp, &cols.t(), 1.0, &mut dw);
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
