//! Global average pooling: `[C, H, W]` → `C` features, the head of every modern CNN (Lin et al. 2014, "Network
//! in Network", §3.2).
//!
//! Forward `y[c] = (1/(H·W)) Σ_{h,w} x[c, h, w]`; backward `∂L/∂x[c, h, w] = ∂L/∂y[c] / (H·W)`. No parameters.

use ndarray::{Array2, ArrayView2};

use super::layer::{Layer, Saved, Shape};

/// Global average pooling over `[C, H, W]` images.
#[derive(Debug, Clone, Copy)]
pub struct GlobalAvgPool {
    shape: [usize; 3],
}

impl GlobalAvgPool {
    pub(crate) fn new(input: Shape) -> Result<GlobalAvgPool, String> {
        Ok(GlobalAvgPool { shape: input.image()? })
    }
}

impl Layer for GlobalAvgPool {
    fn output_shape(&self) -> Shape {
        Shape::Flat(self.shape[0])
    }

    fn forward(&self, x: ArrayView2<f32>, _keep: bool) -> (Array2<f32>, Saved) {
        let [c, h, w] = self.shape;
        let hw = h * w;
        let inv = 1.0 / hw as f32;
        let x = x.as_standard_layout();
        let xs = x.as_slice().expect("standard layout");
        let mut y = Array2::<f32>::zeros((x.nrows(), c));
        for (img, yr) in xs
            .chunks_exact(c * hw)
            .zip(y.as_slice_mut().expect("fresh").chunks_exact_mut(c))
        {
            for (ch, o) in img.chunks_exact(hw).zip(yr) {
                *o = ch.iter().sum::<f32>() * inv;
            }
        }
        (y, Saved::Nothing)
    }

    fn backward(
        &self,
        _x: ArrayView2<f32>,
        _y: ArrayView2<f32>,
        _saved: &Saved,
        dy: Array2<f32>,
        need_dx: bool,
        _grads: Option<&mut [Vec<f32>]>,
    ) -> Option<Array2<f32>> {
        need_dx.then(|| {
            let [c, h, w] = self.shape;
            let hw = h * w;
            let inv = 1.0 / hw as f32;
            let mut dx = Array2::<f32>::zeros((dy.nrows(), c * hw));
            for (dimg, gr) in dx
                .as_slice_mut()
                .expect("fresh")
                .chunks_exact_mut(c * hw)
                .zip(dy.rows())
            {
                for (ch, &g) in dimg.chunks_exact_mut(hw).zip(gr) {
                    ch.fill(g * inv);
                }
            }
            dx
        })
    }

    fn box_clone(&self) -> Box<dyn Layer> {
        Box::new(*self)
    }
}
