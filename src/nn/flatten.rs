//! Flatten: NCHW → `N×(C·H·W)`.
//!
//! `y[n, (c·H + h)·W + w] = x[n, c, h, w]`. A standard-layout NCHW tensor already has exactly this memory
//! layout, so inside [`Model`](super::Model) (which stores every activation as `[N, features]`) flatten is the
//! identity on memory and its VJP is the identity too: `∂L/∂x = reshape(∂L/∂y)`.

use ndarray::{Array2, ArrayView2, ArrayView4, CowArray, Ix2};

use super::layer::{Layer, Saved, Shape};

/// Flattens each image of `x` into one row; borrows when `x` is standard layout, copies otherwise.
pub fn flatten(x: ArrayView4<'_, f32>) -> CowArray<'_, f32, Ix2> {
    let (n, c, h, w) = x.dim();
    if x.is_standard_layout() {
        CowArray::from(x.into_shape_with_order((n, c * h * w)).expect("standard layout"))
    } else {
        let owned = x.as_standard_layout().into_owned();
        CowArray::from(owned.into_shape_with_order((n, c * h * w)).expect("standard layout"))
    }
}

/// Views a standard-layout `[N, C·H·W]` matrix as `[N, C, H, W]` (for callers that want images back).
pub fn unflatten(x: ArrayView2<'_, f32>, chw: [usize; 3]) -> ndarray::ArrayView4<'_, f32> {
    x.into_shape_with_order((x.nrows(), chw[0], chw[1], chw[2]))
        .expect("rows hold C·H·W features")
}

/// The flatten layer; holds the feature count `C·H·W`. Identity on memory, so it runs in place.
#[derive(Debug, Clone, Copy)]
pub struct Flatten(pub usize);

impl Layer for Flatten {
    fn output_shape(&self) -> Shape {
        Shape::Flat(self.0)
    }

    fn forward(&self, x: ArrayView2<f32>, _keep: bool) -> (Array2<f32>, Saved) {
        (x.to_owned(), Saved::Nothing)
    }

    fn in_place(&self) -> bool {
        true
    }

    fn forward_in_place(&self, _x: &mut Array2<f32>) {}

    fn backward(
        &self,
        _x: ArrayView2<f32>,
        _y: ArrayView2<f32>,
        _saved: &Saved,
        dy: Array2<f32>,
        need_dx: bool,
        _grads: Option<&mut [Vec<f32>]>,
    ) -> Option<Array2<f32>> {
        need_dx.then_some(dy)
    }

    fn box_clone(&self) -> Box<dyn Layer> {
        Box::new(*self)
    }
}
