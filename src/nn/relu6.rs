//! ReLU6, the bounded activation of MobileNet (Howard et al. 2017, "MobileNets") and EfficientNet-Lite.
//!
//! Forward `y = min(max(x, 0), 6)`; backward `∂L/∂x = ∂L/∂y · [0 < x < 6]` (subgradient 0 at both kinks). As
//! `0 < y < 6 ⇔ 0 < x < 6`, the mask is read from the output and the layer runs in place. No parameters.

use ndarray::{Array2, ArrayView2, Zip};

use super::layer::{Clamp, Layer, Saved, Shape};

/// The ReLU6 layer on activations of the given shape.
#[derive(Debug, Clone, Copy)]
pub struct Relu6(pub Shape);

/// `min(max(x, 0), 6)` by compare-and-select (as in ReLU): vectorises, and NaN maps to 0 like ReLU's.
const RELU6: Clamp = Clamp { lo: 0.0, hi: 6.0 };

#[inline(always)]
fn relu6(v: f32) -> f32 {
    RELU6.apply(v)
}

impl Layer for Relu6 {
    fn output_shape(&self) -> Shape {
        self.0
    }

    fn forward(&self, x: ArrayView2<f32>, _keep: bool) -> (Array2<f32>, Saved) {
        (x.mapv(relu6), Saved::Nothing)
    }

    fn in_place(&self) -> bool {
        true
    }

    fn forward_in_place(&self, x: &mut Array2<f32>) {
        x.mapv_inplace(relu6);
    }

    fn needs_output(&self) -> bool {
        true
    }

    fn clamp(&self) -> Option<Clamp> {
        Some(RELU6)
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
            let mask = |g: &mut f32, y: f32| *g = if y > 0.0 && y < 6.0 { *g } else { 0.0 };
            match (dy.as_slice_mut(), y.as_slice()) {
                // Contiguous (always, inside a model): a branch-free select over two slices, vectorised.
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
