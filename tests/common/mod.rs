//! Helpers shared by the integration tests (`mod common;` in each that needs them; Cargo does not build this folder
//! as a test of its own).

use advlab::attacks::Classifier;
use advlab::nn::Model;
use ndarray::{Array2, Array4, ArrayView2, ArrayView4};

/// A `Model` seen only through the trait's required methods: its gradients take the generic path (logits, then
/// `logits_vjp`) instead of the model's own one-pass overrides, so a test can check the two agree.
pub struct Generic<'a>(pub &'a Model);

impl Classifier for Generic<'_> {
    fn num_classes(&self) -> usize {
        Classifier::num_classes(self.0)
    }
    fn input_shape(&self) -> [usize; 3] {
        Classifier::input_shape(self.0)
    }
    fn logits(&self, x: ArrayView4<f32>) -> Array2<f32> {
        Classifier::logits(self.0, x)
    }
    fn logits_vjp(&self, x: ArrayView4<f32>, d: ArrayView2<f32>) -> (Array2<f32>, Array4<f32>) {
        Classifier::logits_vjp(self.0, x, d)
    }
}
