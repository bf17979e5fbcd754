//! The row operations everything else shares: arg-max, softmax and sign, with one NaN rule.
//!
//! Used by the model ([`super::Model::predict`], [`super::Model::probabilities`]), the loss, the attacks and the
//! page's predictions, so a number means the same thing everywhere.
//!
//! **The NaN rule.**
//! * [`argmax`]: NaN never wins; ties go to the first index; a row with no number at all (empty or all NaN)
//!   gives 0. `+∞` wins like any largest value.
//! * [`sign`]: `sign(v) = 1` for `v > 0`, `−1` for `v < 0`, and `0` for `±0` and for NaN (a flat or undefined
//!   gradient component moves nothing: Goodfellow et al. 2015's `sign(∇ₓJ)` with `sign(0) = 0`).
//! * [`softmax_in_place`]: `p_k = exp(z_k − m) / Σⱼ exp(z_j − m)` with `m = maxₖ z_k` (no `exp` overflows).
//!   A row that has no distribution (a NaN entry, a `+∞` entry, or only `−∞` entries) becomes **all NaN**, so
//!   the caller sees it is not a prediction; otherwise a `−∞` entry gets probability 0.
//!
//! ```
//! use advlab::nn::ops::{argmax, sign, softmax_in_place};
//!
//! assert_eq!(argmax(&[f32::NAN, 0.2, 0.7, 0.7]), 2);
//! assert_eq!([-3.0, 0.0, f32::NAN].map(sign), [-1.0, 0.0, 0.0]);
//! let mut z = [0.0f32, f32::NAN];
//! softmax_in_place(&mut z);
//! assert!(z.iter().all(|p| p.is_nan()));
//! ```

use ndarray::{Array2, ArrayView2};

/// Index of the largest value (first on ties; NaN never wins; 0 for a row with no number).
pub fn argmax(v: &[f32]) -> usize {
    let mut best: Option<usize> = None;
    for (i, &x) in v.iter().enumerate() {
        if !x.is_nan() && best.is_none_or(|b| x > v[b]) {
            best = Some(i);
        }
    }
    best.unwrap_or(0)
}

/// Arg-max over every index but `skip`, with the rule of [`argmax`]; when every other entry is NaN, the first
/// index that is not `skip`. `usize::MAX` when there is no other index (`v.len() ≤ 1`).
pub fn argmax_except(v: &[f32], skip: usize) -> usize {
    let mut best: Option<usize> = None;
    let mut first = usize::MAX;
    for (i, &x) in v.iter().enumerate() {
        if i == skip {
            continue;
        }
        if first == usize::MAX {
            first = i;
        }
        if !x.is_nan() && best.is_none_or(|b| x > v[b]) {
            best = Some(i);
        }
    }
    best.unwrap_or(first)
}

/// [`argmax`] of each row.
pub fn argmax_rows(z: ArrayView2<f32>) -> Vec<usize> {
    z.rows()
        .into_iter()
        .map(|r| match r.as_slice() {
            Some(s) => argmax(s),
            None => argmax(&r.to_vec()),
        })
        .collect()
}

/// `sign(v)`, with `sign(±0) = sign(NaN) = 0`.
#[inline]
pub fn sign(v: f32) -> f32 {
    if v > 0.0 {
        1.0
    } else if v < 0.0 {
        -1.0
    } else {
        0.0
    }
}

/// Softmax of one row in place (see the module docs for the NaN rule). Returns `(m, log Σⱼ exp(z_j − m))`, the
/// two parts of log-sum-exp, kept apart so that `L = (m − z_y) + log Σ` stays exact when `m ≈ z_y`.
pub fn softmax_in_place(z: &mut [f32]) -> (f32, f32) {
    let m = z.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let undefined = z.iter().any(|v| v.is_nan()) || m == f32::INFINITY || m == f32::NEG_INFINITY;
    if undefined {
        z.fill(f32::NAN);
        return (f32::NAN, f32::NAN);
    }
    let mut s = 0.0f32;
    for v in z.iter_mut() {
        *v = (*v - m).exp();
        s += *v;
    }
    for v in z.iter_mut() {
        *v /= s;
    }
    (m, s.ln())
}

/// Row-wise [`softmax_in_place`].
pub fn softmax_rows(z: ArrayView2<f32>) -> Array2<f32> {
    let mut p = z.as_standard_layout().into_owned();
    for mut row in p.rows_mut() {
        softmax_in_place(row.as_slice_mut().expect("standard layout rows are contiguous"));
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argmax_rule() {
        assert_eq!(argmax(&[1.0, 3.0, 3.0, 2.0]), 1);
        assert_eq!(argmax(&[f32::NAN, 1.0, 2.0]), 2);
        assert_eq!(argmax(&[2.0, f32::NAN, 1.0]), 0);
        assert_eq!(argmax(&[f32::NAN, f32::NAN]), 0);
        assert_eq!(argmax(&[]), 0);
        assert_eq!(argmax(&[f32::NEG_INFINITY, f32::INFINITY]), 1);
        assert_eq!(argmax_except(&[5.0, 1.0, 2.0], 0), 2);
        assert_eq!(argmax_except(&[5.0, f32::NAN, 2.0], 2), 0);
        assert_eq!(argmax_except(&[5.0, f32::NAN, f32::NAN], 0), 1);
        assert_eq!(argmax_except(&[5.0], 0), usize::MAX);
        let z = ndarray::array![[0.0, f32::NAN, 1.0], [f32::NAN, f32::NAN, f32::NAN]];
        assert_eq!(argmax_rows(z.view()), vec![2, 0]);
        assert_eq!(argmax_rows(z.t()), vec![0, 0, 0]); // columns [0, NaN], [NaN, NaN], [1, NaN]
    }

    #[test]
    fn sign_rule() {
        assert_eq!(
            [3.0, -0.5, 0.0, -0.0, f32::NAN, f32::INFINITY].map(sign),
            [1.0, -1.0, 0.0, 0.0, 0.0, 1.0]
        );
    }

    #[test]
    fn softmax_rule() {
        let mut z = [1000.0f32, 1000.0, f32::NEG_INFINITY];
        let (m, ls) = softmax_in_place(&mut z);
        assert_eq!(z, [0.5, 0.5, 0.0]);
        assert_eq!((m, ls), (1000.0, 2f32.ln()));
        for bad in [
            vec![1.0, f32::NAN, 0.0],
            vec![f32::INFINITY, 0.0],
            vec![f32::NEG_INFINITY, f32::NEG_INFINITY],
        ] {
            let mut z = bad.clone();
            let (m, ls) = softmax_in_place(&mut z);
            assert!(z.iter().all(|v| v.is_nan()), "{bad:?} → {z:?}");
            assert!(m.is_nan() && ls.is_nan());
        }
        let mut empty: [f32; 0] = [];
        softmax_in_place(&mut empty);
        let p = softmax_rows(ndarray::array![[0.0f32, 0.0], [f32::NAN, 1.0]].view());
        assert_eq!(p.row(0).to_vec(), vec![0.5, 0.5]);
        assert!(p.row(1).iter().all(|v| v.is_nan()));
        // The sum is 1 to rounding on an ordinary row, and the order is kept.
        let mut z = [0.3f32, -1.2, 2.5, 0.0];
        softmax_in_place(&mut z);
        assert!((z.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        assert_eq!(argmax(&z), 2);
    }
}
