//! Residual block (He et al. 2016, "Deep Residual Learning"), as in the inverted residuals of MobileNetV2
//! (Sandler et al. 2018) and EfficientNet (Tan & Le 2019): `y = x + body(x)`, the body a chain of layers that
//! maps the shape to itself.
//!
//! Backward: `∂L/∂x = ∂L/∂y + J_bodyᵀ ∂L/∂y`; the body's parameter gradients are those of the body with
//! `∂L/∂y` as its output gradient. Tensor names nest: parameter `weight` of body layer `j` of top-level layer `i`
//! is `layers.<i>.layers.<j>.weight`.

use ndarray::{Array2, ArrayView2, Zip};

use super::init::Init;
use super::layer::{Chain, Layer, ParamInfo, Saved, Shape};
use super::LayerSpec;

/// A skip connection around a chain of layers.
#[derive(Debug, Clone)]
pub struct Residual {
    body: Chain,
}

impl Residual {
    /// Validates the body on `input` and that it returns the same shape.
    pub(crate) fn new(layers: &[LayerSpec], input: Shape) -> Result<Residual, String> {
        if layers.is_empty() {
            return Err("the body has no layers".into());
        }
        let body = Chain::build(layers, input)?;
        let out = body.output_shape();
        if out != input {
            return Err(format!(
                "the body maps {input} to {out}; a skip connection needs the same shape"
            ));
        }
        Ok(Residual { body })
    }
}

impl Layer for Residual {
    fn output_shape(&self) -> Shape {
        self.body.output_shape()
    }

    fn param_info(&self) -> Vec<ParamInfo> {
        self.body.param_info().into_iter().map(|(_, p)| p).collect()
    }

    fn flops(&self) -> usize {
        self.body.flops
    }

    fn allocate(&mut self) {
        self.body.allocate();
    }

    fn params(&self) -> Vec<&[f32]> {
        self.body.params()
    }

    fn params_mut(&mut self) -> Vec<&mut [f32]> {
        self.body.params_mut()
    }

    fn init(&mut self, rng: &mut Init, _last: bool) {
        self.body.layers.iter_mut().for_each(|l| l.init(rng, false));
    }

    fn parts(&self) -> Vec<&dyn Layer> {
        self.body.layers.iter().map(|l| l.as_ref()).collect()
    }

    fn forward(&self, x: ArrayView2<f32>, keep: bool) -> (Array2<f32>, Saved) {
        let x = x.as_standard_layout();
        let mut tape = self.body.forward(x.to_owned(), keep);
        // y = x + body(x). The body's output buffer becomes y unless its last layer's VJP reads it.
        let last_reads = self.body.layers.last().is_some_and(|l| l.needs_output());
        let mut y = if keep && last_reads {
            tape.output().clone()
        } else {
            std::mem::take(tape.acts.last_mut().expect("output"))
        };
        Zip::from(&mut y).and(&x).for_each(|y, &x| *y += x);
        let saved = if keep { Saved::Tape(tape) } else { Saved::Nothing };
        (y, saved)
    }

    fn backward(
        &self,
        _x: ArrayView2<f32>,
        _y: ArrayView2<f32>,
        saved: &Saved,
        dy: Array2<f32>,
        need_dx: bool,
        grads: Option<&mut [Vec<f32>]>,
    ) -> Option<Array2<f32>> {
        let Saved::Tape(tape) = saved else {
            unreachable!("a residual block records its body")
        };
        if !need_dx {
            self.body.backward(tape, dy, false, grads);
            return None;
        }
        let mut dx = self.body.backward(tape, dy.clone(), true, grads).expect("dx requested");
        dx += &dy;
        Some(dx)
    }

    fn box_clone(&self) -> Box<dyn Layer> {
        Box::new(self.clone())
    }
}
