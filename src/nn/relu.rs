//! Rectified linear unit.
//!
//! Forward `y = max(0, x)`; backward `∂L/∂x = ∂L/∂y · [x > 0]` (the subgradient 0 is taken at the kink `x = 0`).
//! No parameters.

use ndarray::{Array2, ArrayView2, Zip};

/// `max(0, x)`, element-wise.
pub fn forward(x: ArrayView2<f32>) -> Array2<f32> {
    x.mapv(|v| if v > 0.0 { v } else { 0.0 })
}

/// [`forward`] in place (inference, where the input is not needed again).
pub fn forward_in_place(x: &mut Array2<f32>) {
    x.mapv_inplace(|v| if v > 0.0 { v } else { 0.0 });
}

/// `∂L/∂x = dy · [x > 0]`.
pub fn backward(x: ArrayView2<f32>, dy: ArrayView2<f32>) -> Array2<f32> {
    Zip::from(&x)
        .and(&dy)
        .map_collect(|&x, &g| if x > 0.0 { g } else { 0.0 })
}
