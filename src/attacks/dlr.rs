//! The Difference of Logits Ratio (DLR) loss of Croce & Hein, "Reliable evaluation of adversarial robustness with
//! an ensemble of diverse parameter-free attacks", ICML 2020, §4 (eq. 6 untargeted, eq. 7 targeted), and its
//! gradient in the logits.
//!
//! With `z` the logits, `y` the true class and `π` the classes sorted by decreasing logit (`z_π1 ≥ z_π2 ≥ …`):
//!
//! ```text
//! DLR(z, y)    = −(z_y − max_{i≠y} z_i) / (z_π1 − z_π3 + 1e-12)
//! DLR-T(z, y, t) = −(z_y − z_t)         / (z_π1 − (z_π3 + z_π4)/2 + 1e-12)
//! ```
//!
//! The attack *maximises* the loss; `DLR > 0` exactly when some class beats `y` (untargeted), `DLR-T > 0` when `t`
//! beats `y`. The loss is invariant to shifting and to (positive) scaling of the logits, so a model whose logits
//! are huge, or squeezed into probabilities, does not saturate it the way it saturates the cross-entropy: the
//! reason AutoAttack pairs APGD-CE with APGD on DLR.
//!
//! **Gradient** (what [`super::Classifier::logits_and_loss_gradient`] needs): with `N` the numerator's difference
//! and `D` the denominator, `L = −N/D`, so `∂L/∂z_j = −(∂N/∂z_j)/D + N·(∂D/∂z_j)/D²`, where `∂N` is `+1` at `y`,
//! `−1` at the runner-up (or at `t`), and `∂D` is `+1` at `π1`, `−1` at `π3` (targeted: `−½` at `π3` and at
//! `π4`). The sort is treated as fixed (it is piecewise constant), as autograd does; ties break towards the lower
//! class index ([`super::argmax`]'s rule).
//!
//! Fewer classes than the formula reads: `π3` and `π4` are clamped to the last class (`K = 3`: `π4 = π3`; `K = 2`:
//! both are `π2`). AutoAttack's own code refuses the DLR loss below 3 classes and DLR-T below 4; here it stays
//! defined (and finite: the `1e-12` keeps `D > 0`), it just measures less.

/// The first four classes by decreasing logit, ties to the lower index, NaN never chosen while a number is left,
/// clamped to the last class found when `K < 4`. Four selection passes, no sort: `K` can be 1000.
fn top4(z: &[f32]) -> [usize; 4] {
    let mut out = [0usize; 4];
    let mut found = 0;
    for slot in 0..4 {
        let mut best: Option<usize> = None;
        for (i, &v) in z.iter().enumerate() {
            if out[..found].contains(&i) {
                continue;
            }
            let better = match best {
                None => true,
                Some(b) => !v.is_nan() && (z[b].is_nan() || v > z[b]),
            };
            if better {
                best = Some(i);
            }
        }
        match best {
            Some(b) => {
                out[slot] = b;
                found += 1;
            }
            None => out[slot] = out[found.max(1) - 1],
        }
    }
    out
}

/// `L = −N/D` and, into `grad` when given, `∂L/∂z` from `∂N` and `∂D` (lists of `(class, coefficient)`).
fn ratio(n: f64, d: f64, dn: &[(usize, f64)], dd: &[(usize, f64)], grad: Option<&mut [f32]>) -> f32 {
    if let Some(g) = grad {
        g.iter_mut().for_each(|v| *v = 0.0);
        let mut acc = vec![0.0f64; g.len()];
        for &(j, c) in dn {
            acc[j] -= c / d;
        }
        for &(j, c) in dd {
            acc[j] += n * c / (d * d);
        }
        for (gj, a) in g.iter_mut().zip(acc) {
            *gj = a as f32;
        }
    }
    (-n / d) as f32
}

/// The untargeted DLR loss of logits `z` for the true class `y` (eq. 6); writes `∂DLR/∂z` into `grad` when given
/// (`grad.len() == z.len()`).
///
/// ```
/// use advlab::attacks::dlr::dlr;
///
/// // y = 0 leads by 1 over class 1; π1 − π3 = 3 − 0 = 3: DLR = −1/3.
/// let z = [3.0, 2.0, 0.0, -1.0];
/// let mut g = [0.0f32; 4];
/// assert!((dlr(&z, 0, Some(&mut g)) + 1.0 / 3.0).abs() < 1e-6);
/// // Raising the runner-up raises the loss; the classes outside the formula get no gradient.
/// assert!(g[1] > 0.0 && g[3] == 0.0);
/// ```
pub fn dlr(z: &[f32], y: usize, grad: Option<&mut [f32]>) -> f32 {
    if z.len() < 2 {
        // One class: nothing to beat it.
        return ratio(0.0, 1.0, &[], &[], grad);
    }
    let [p1, _, p3, _] = top4(z);
    let m = super::argmax_except(z, y);
    let n = z[y] as f64 - z[m] as f64;
    let d = z[p1] as f64 - z[p3] as f64 + 1e-12;
    ratio(n, d, &[(y, 1.0), (m, -1.0)], &[(p1, 1.0), (p3, -1.0)], grad)
}

/// The targeted DLR loss of logits `z`, true class `y`, target `t` (eq. 7); writes `∂DLR-T/∂z` into `grad` when
/// given.
///
/// ```
/// use advlab::attacks::dlr::dlr_targeted;
///
/// // z_y − z_t = 3 − 1 = 2; π1 − (π3 + π4)/2 = 3 − (1 + 0)/2 = 2.5.
/// let z = [3.0, 2.0, 1.0, 0.0];
/// assert!((dlr_targeted(&z, 0, 2, None) + 2.0 / 2.5).abs() < 1e-6);
/// ```
pub fn dlr_targeted(z: &[f32], y: usize, t: usize, grad: Option<&mut [f32]>) -> f32 {
    let [p1, _, p3, p4] = top4(z);
    let n = z[y] as f64 - z[t] as f64;
    let d = z[p1] as f64 - 0.5 * (z[p3] as f64 + z[p4] as f64) + 1e-12;
    ratio(n, d, &[(y, 1.0), (t, -1.0)], &[(p1, 1.0), (p3, -0.5), (p4, -0.5)], grad)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top4_breaks_ties_low_and_clamps() {
        assert_eq!(top4(&[1.0, 3.0, 3.0, 0.0, 2.0]), [1, 2, 4, 0]);
        assert_eq!(top4(&[1.0, 2.0]), [1, 0, 0, 0]);
        assert_eq!(top4(&[f32::NAN, 1.0, 0.0]), [1, 2, 0, 0]);
    }

    #[test]
    fn sign_tells_success() {
        // y = 2 is beaten by class 0: positive loss.
        assert!(dlr(&[2.0, 0.0, 1.0, -3.0], 2, None) > 0.0);
        assert!(dlr(&[2.0, 0.0, 1.0, -3.0], 0, None) < 0.0);
        assert!(dlr_targeted(&[2.0, 0.0, 1.0, -3.0], 2, 0, None) > 0.0);
        assert!(dlr_targeted(&[2.0, 0.0, 1.0, -3.0], 0, 2, None) < 0.0);
        // Equal logits: 0, not NaN.
        assert_eq!(dlr(&[1.0; 5], 0, None), 0.0);
    }

    #[test]
    fn invariant_to_shift_and_scale() {
        let z = [0.3f32, -1.2, 2.5, 0.9, 1.7];
        for y in 0..5 {
            let a = dlr(&z, y, None);
            let zs: Vec<f32> = z.iter().map(|v| 7.0 * v - 3.0).collect();
            assert!((a - dlr(&zs, y, None)).abs() < 1e-5, "{y}");
        }
    }
}
