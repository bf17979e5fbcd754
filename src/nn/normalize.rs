//! Per-channel input normalisation, the first layer of an ImageNet model, so that attacks keep working on pixels
//! in `[0, 1]` (η = 1/255 is one grey level) while the network sees its training distribution.
//!
//! Forward `y[c, h, w] = (x[c, h, w] − mean[c]) / std[c]`; backward `∂L/∂x[c, h, w] = ∂L/∂y[c, h, w] / std[c]`.
//! No trainable parameters (mean and std live in the architecture). EfficientNet-Lite uses mean = 127/255 and
//! std = 128/255 on all three channels, i.e. `(255·x − 127)/128`. Runs in place.

use ndarray::{Array2, ArrayView2};

use super::layer::{Layer, Saved, Shape};

/// The normalisation layer on `[C, H, W]` images.
#[derive(Debug, Clone)]
pub struct Normalize {
    shape: [usize; 3],
    mean: Vec<f32>,
    std: Vec<f32>,
}

impl Normalize {
    /// Validates one finite mean and one positive finite std per channel.
    pub(crate) fn new(mean: &[f32], std: &[f32], input: Shape) -> Result<Normalize, String> {
        let shape = input.image()?;
        let c = shape[0];
        if mean.len() != c || std.len() != c {
            return Err(format!(
                "needs one mean and one std per channel ({c}), got {} and {}",
                mean.len(),
                std.len()
            ));
        }
        if mean.iter().any(|m| !m.is_finite()) {
            return Err("mean values must be finite".into());
        }
        if std.iter().any(|s| !(s.is_finite() && *s > 0.0)) {
            return Err("std values must be positive and finite".into());
        }
        Ok(Normalize {
            shape,
            mean: mean.to_vec(),
            std: std.to_vec(),
        })
    }

    fn hw(&self) -> usize {
        self.shape[1] * self.shape[2]
    }
}

impl Layer for Normalize {
    fn output_shape(&self) -> Shape {
        Shape::Image(self.shape)
    }

    fn forward(&self, x: ArrayView2<f32>, _keep: bool) -> (Array2<f32>, Saved) {
        let mut y = x.as_standard_layout().into_owned();
        self.forward_in_place(&mut y);
        (y, Saved::Nothing)
    }

    fn in_place(&self) -> bool {
        true
    }

    fn forward_in_place(&self, x: &mut Array2<f32>) {
        let hw = self.hw();
        let xs = x.as_slice_mut().expect("standard layout");
        for img in xs.chunks_exact_mut(hw * self.shape[0]) {
            for ((ch, &m), &s) in img.chunks_exact_mut(hw).zip(&self.mean).zip(&self.std) {
                ch.iter_mut().for_each(|v| *v = (*v - m) / s);
            }
        }
    }

    fn backward(
        &self,
        _x: ArrayView2<f32>,
        _y: ArrayView2<f32>,
        _saved: &Saved,
        mut dy: Array2<f32>,
        need_dx: bool,
        _grads: Option<&mut [Vec<f32>]>,
    ) -> Option<Array2<f32>> {
        need_dx.then(|| {
            let hw = self.hw();
            let gs = dy.as_slice_mut().expect("standard layout");
            for img in gs.chunks_exact_mut(hw * self.shape[0]) {
                for (ch, &s) in img.chunks_exact_mut(hw).zip(&self.std) {
                    ch.iter_mut().for_each(|g| *g /= s);
                }
            }
            dy
        })
    }

    fn box_clone(&self) -> Box<dyn Layer> {
        Box::new(self.clone())
    }
}
