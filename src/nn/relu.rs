//! Rectified linear unit.
//!
//! Forward `y = max(0, x)`; backward `∂L/∂x = ∂L/∂y · [x > 0]` (the subgradient 0 is taken at the kink `x = 0`).
//! No parameters. Since `y > 0 ⇔ x > 0`, the mask is read from the output, so the layer runs in place (its
//! input buffer becomes its output) both at inference and when recording for a backward pass.

use ndarray::{Array2, ArrayView2, Zip};

use super::layer::{Layer, Saved, Shape};

/// `max(0, x)`, element-wise.
pub fn forward(x: ArrayView2<f32>) -> Array2<f32> {
    x.mapv(|v| if v > 0.0 { v } else { 0.0 })
}

/// [`forward`] in place.
pub fn forward_in_place(x: &mut Array2<f32>) {
    x.mapv_inplace(|v| if v > 0.0 { v } else { 0.0 });
}

/// `∂L/∂x = dy · [x > 0]` (`x` may equally be the output `y`: the mask is the same).
pub fn backward(x: ArrayView2<f32>, dy: ArrayView2<f32>) -> Array2<f32> {
    Zip::from(&x)
        .and(&dy)
        .map_collect(|&x, &g| if x > 0.0 { g } else { 0.0 })
}

/// The ReLU layer on activations of the given shape.
#[derive(Debug, Clone, Copy)]
pub struct Relu(pub Shape);

impl Layer for Relu {
    fn output_shape(&self) -> Shape {
        self.0
    }

    fn forward(&self, x: ArrayView2<f32>, _keep: bool) -> (Array2<f32>, Saved) {
        (forward(x), Saved::Nothing)
    }

    fn in_place(&self) -> bool {
        true
    }

    fn forward_in_place(&self, x: &mut Array2<f32>) {
        forward_in_place(x);
    }

    fn needs_output(&self) -> bool {
        true
    }

    fn backward(
        &self,
        _x: ArrayView2<f32>,
        y: ArrayView2<f32>,
        _saved: &Saved,
        mut dy: Array2<f32>,
        need_dx: bool,
        _grads: Option<&mut [Vec<f32>]>,
    ) -> Option<Array2<f32>> {
        need_dx.then(|| {
            let mask = |g: &mut f32, y: f32| *g = if y > 0.0 { *g } else { 0.0 };
            match (dy.as_slice_mut(), y.as_slice()) {
                (Some(gs), Some(ys)) => gs.iter_mut().zip(ys).for_each(|(g, &y)| mask(g, y)),
                _ => Zip::from(&mut dy).and(&y).for_each(|g, &y| mask(g, y)),
            }
            dy
        })
    }

    fn box_clone(&self) -> Box<dyn Layer> {
        Box::new(*self)
    }
}
