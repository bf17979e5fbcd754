//! Fully connected layer.
//!
//! Forward, for a batch `x: [N, in]`, `W: [out, in]`, `b: [out]`:
//! `y[n, o] = b[o] + Σᵢ W[o, i]·x[n, i]`, i.e. `Y = X Wᵀ + 1 bᵀ`.
//!
//! Backward, given `G = ∂L/∂Y: [N, out]`:
//! `∂L/∂X = G W`, `∂L/∂W = Gᵀ X`, `∂L/∂b = Σₙ G[n, ·]`.
//!
//! For batches, all three are single sgemm calls (`matrixmultiply` packs its operands, so the transposed views
//! cost one strided copy of the small operand, not a strided inner loop: measured ≤ 5 % on the CNN's 1152→128
//! layer, see `benches/nn.rs`). For at most [`SMALL_BATCH`] rows (a slider move, a single-image attack) packing
//! all of `W` would cost more than the product, so `Y` and `∂L/∂X` use contiguous row dot products and row
//! `axpy`s instead (halves the single-image latency of the MLP).

use ndarray::linalg::general_mat_mul;
use ndarray::{Array1, Array2, ArrayView2, ArrayViewMut2};

use super::init::{glorot_bound, he_bound, Init};
use super::layer::{Layer, ParamInfo, Saved, Shape, TOO_BIG};

/// Up to this many rows, [`Dense`] uses matrix-vector products instead of sgemm.
pub const SMALL_BATCH: usize = 4;

/// `y = x Wᵀ + b` with `W: [outputs, inputs]` (PyTorch's `nn.Linear` layout).
#[derive(Debug, Clone)]
pub struct Dense {
    pub(crate) w: Array2<f32>,
    pub(crate) b: Array1<f32>,
    /// `outputs` (also before [`Layer::allocate`]).
    n_out: usize,
}

impl Dense {
    /// The layer for `spec` on `input`, validated, parameters not yet allocated.
    pub(crate) fn new(inputs: usize, outputs: usize, input: Shape) -> Result<Dense, String> {
        if inputs == 0 || outputs == 0 {
            return Err("inputs and outputs must be at least 1".into());
        }
        let Shape::Flat(d) = input else {
            return Err(format!("needs flat input but receives {input}; add a flatten layer"));
        };
        if d != inputs {
            return Err(format!("expects {inputs} inputs but receives {d}"));
        }
        inputs
            .checked_mul(outputs)
            .and_then(|w| w.checked_add(outputs))
            .ok_or(TOO_BIG)?;
        Ok(Dense {
            w: Array2::zeros((0, inputs)),
            b: Array1::zeros(0),
            n_out: outputs,
        })
    }

    /// Zero weights and biases.
    pub fn zeros(inputs: usize, outputs: usize) -> Dense {
        Dense {
            w: Array2::zeros((outputs, inputs)),
            b: Array1::zeros(outputs),
            n_out: outputs,
        }
    }

    pub fn inputs(&self) -> usize {
        self.w.ncols()
    }

    pub fn outputs(&self) -> usize {
        self.n_out
    }

    /// `Y = X Wᵀ + 1 bᵀ` for `x: [N, inputs]`.
    pub fn forward(&self, x: ArrayView2<f32>) -> Array2<f32> {
        if x.nrows() <= SMALL_BATCH {
            // y_r = W x_r + b: a blocked matrix-vector product per row (kernels::gemv).
            let (rows, cols) = (self.outputs(), self.inputs());
            let x = x.as_standard_layout();
            let mut y = Array2::zeros((x.nrows(), rows));
            let (w, b) = (
                self.w.as_slice().expect("standard"),
                self.b.as_slice().expect("standard"),
            );
            for (yr, xr) in y
                .as_slice_mut()
                .expect("fresh")
                .chunks_exact_mut(rows)
                .zip(x.as_slice().expect("standard").chunks_exact(cols))
            {
                super::kernels::gemv(w, rows, cols, xr, b, yr);
            }
            return y;
        }
        let mut y = x.dot(&self.w.t());
        y += &self.b;
        y
    }

    /// Vector-Jacobian products for `dy = ∂L/∂Y`.
    ///
    /// Adds `Gᵀ X` to `dw` and `Σₙ G` to `db` when given (accumulates, so chunks can share a buffer), and returns
    /// `∂L/∂X = G W` when `need_dx`.
    pub fn backward(
        &self,
        x: ArrayView2<f32>,
        dy: ArrayView2<f32>,
        need_dx: bool,
        grads: Option<(&mut [f32], &mut [f32])>,
    ) -> Option<Array2<f32>> {
        if let Some((dw, db)) = grads {
            let mut dw =
                ArrayViewMut2::from_shape(self.w.raw_dim(), dw).expect("dense dW buffer has the weight's size");
            general_mat_mul(1.0, &dy.t(), &x, 1.0, &mut dw);
            for row in dy.rows() {
                for (acc, &g) in db.iter_mut().zip(row) {
                    *acc += g;
                }
            }
        }
        need_dx.then(|| {
            if dy.nrows() > SMALL_BATCH {
                return dy.dot(&self.w);
            }
            // ∂x_r = Σ_o dy[r, o] · W[o, ·]: contiguous row axpys.
            let mut dx = Array2::zeros((dy.nrows(), self.inputs()));
            for (mut dxr, dyr) in dx.rows_mut().into_iter().zip(dy.rows()) {
                for (&g, wo) in dyr.iter().zip(self.w.rows()) {
                    if g != 0.0 {
                        dxr.scaled_add(g, &wo);
                    }
                }
            }
            dx
        })
    }
}

impl Layer for Dense {
    fn output_shape(&self) -> Shape {
        Shape::Flat(self.n_out)
    }

    fn param_info(&self) -> Vec<ParamInfo> {
        vec![
            ParamInfo::new("weight", vec![self.n_out, self.inputs()]),
            ParamInfo::new("bias", vec![self.n_out]),
        ]
    }

    fn flops(&self) -> usize {
        2 * self.n_out * self.inputs()
    }

    fn allocate(&mut self) {
        *self = Dense::zeros(self.inputs(), self.n_out);
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

    fn init(&mut self, rng: &mut Init, last: bool) {
        let (fi, fo) = (self.inputs(), self.n_out);
        let a = if last { glorot_bound(fi, fo) } else { he_bound(fi) };
        rng.fill(self.w.as_slice_mut().expect("standard"), a);
    }

    fn forward(&self, x: ArrayView2<f32>, _keep: bool) -> (Array2<f32>, Saved) {
        (Dense::forward(self, x), Saved::Nothing)
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
        Dense::backward(self, x, dy.view(), need_dx, pg)
    }

    fn box_clone(&self) -> Box<dyn Layer> {
        Box::new(self.clone())
    }
}
