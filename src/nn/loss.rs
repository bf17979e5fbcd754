//! Softmax and the softmax cross-entropy loss.
//!
//! For logits `z ∈ ℝᴷ` and label `y`: `L = log Σₖ exp(z_k) − z_y`, evaluated stably as
//! `m + log Σₖ exp(z_k − m) − z_y` with `m = maxₖ z_k` (log-sum-exp), so no `exp` overflows.
//! Gradient: `∂L/∂z = softmax(z) − onehot(y)`. The batch loss is the mean over rows, so each row of the
//! gradient is divided by `N`.

use ndarray::{Array2, ArrayView2, ArrayViewMut1};

/// Row-wise softmax, `p_k = exp(z_k − m) / Σ exp(z_j − m)`.
pub fn softmax_rows(z: ArrayView2<f32>) -> Array2<f32> {
    let mut p = z.to_owned();
    for row in p.rows_mut() {
        softmax_in_place(row);
    }
    p
}

/// Softmax of one row in place; returns `(m, log Σ exp(z − m))`, the two parts of log-sum-exp.
fn softmax_in_place(mut row: ArrayViewMut1<f32>) -> (f32, f32) {
    let m = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0f32;
    for v in row.iter_mut() {
        *v = (*v - m).exp();
        sum += *v;
    }
    let inv = 1.0 / sum;
    row.iter_mut().for_each(|v| *v *= inv);
    (m, sum.ln())
}

/// Index of the largest entry of each row (the first one on ties).
pub fn argmax_rows(z: ArrayView2<f32>) -> Vec<usize> {
    z.rows()
        .into_iter()
        .map(|r| {
            let mut best = 0;
            for (k, &v) in r.iter().enumerate() {
                if v > r[best] {
                    best = k;
                }
            }
            best
        })
        .collect()
}

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
    let mut grad = logits.to_owned();
    let mut sum = 0.0f64;
    let mut correct = 0;
    for (row, (mut g, &y)) in logits.rows().into_iter().zip(grad.rows_mut().into_iter().zip(labels)) {
        assert!(y < k, "label {y} out of range for {k} classes");
        let mut best = 0;
        for (j, &v) in row.iter().enumerate() {
            if v > row[best] {
                best = j;
            }
        }
        correct += usize::from(best == y);
        let (m, log_sum) = softmax_in_place(g.view_mut());
        sum += f64::from((m - row[y]) + log_sum);
        g[y] -= 1.0;
        g.iter_mut().for_each(|v| *v *= scale);
    }
    (sum, grad, correct)
}
