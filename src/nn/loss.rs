//! Softmax and the softmax cross-entropy loss.
//!
//! For logits `z ∈ ℝᴷ` and label `y`: `L = log Σₖ exp(z_k) − z_y`, evaluated stably as
//! `m + log Σₖ exp(z_k − m) − z_y` with `m = maxₖ z_k` (log-sum-exp), so no `exp` overflows.
//! Gradient: `∂L/∂z = softmax(z) − onehot(y)`. The batch loss is the mean over rows, so each row of the
//! gradient is divided by `N`. Softmax and arg-max are [`super::ops`]'s (one NaN rule for the whole crate).

use ndarray::{Array2, ArrayView2};

use super::ops::{argmax, softmax_in_place};
pub use super::ops::{argmax_rows, softmax_rows};

/// `(mean loss, ∂(mean loss)/∂logits)` for labels in `0..K`.
///
/// Panics if `labels.len() != logits.nrows()` or a label is out of range; validate user data first
/// ([`Model::check_labels`](super::Model::check_labels)).
pub fn softmax_cross_entropy(logits: ArrayView2<f32>, labels: &[usize]) -> (f32, Array2<f32>) {
    let n = logits.nrows();
    if n == 0 {
        return (0.0, logits.to_owned());
    }
    let (sum, grad, _) = cross_entropy_rows(logits, labels, 1.0 / n as f32);
    ((sum / n as f64) as f32, grad)
}

/// Per-chunk worker: `(Σ losses in f64, scale·(softmax − onehot), number of rows whose arg-max is the label)`.
pub(crate) fn cross_entropy_rows(logits: ArrayView2<f32>, labels: &[usize], scale: f32) -> (f64, Array2<f32>, usize) {
    assert_eq!(logits.nrows(), labels.len(), "one label per row");
    let k = logits.ncols();
    let mut grad = logits.as_standard_layout().into_owned();
    let mut sum = 0.0f64;
    let mut correct = 0;
    for (mut g, &y) in grad.rows_mut().into_iter().zip(labels) {
        assert!(y < k, "label {y} out of range for {k} classes");
        let g = g.as_slice_mut().expect("standard layout rows are contiguous");
        correct += usize::from(argmax(g) == y);
        let z_y = g[y];
        let (m, log_sum) = softmax_in_place(g);
        sum += f64::from((m - z_y) + log_sum);
        g[y] -= 1.0;
        g.iter_mut().for_each(|v| *v *= scale);
    }
    (sum, grad, correct)
}
