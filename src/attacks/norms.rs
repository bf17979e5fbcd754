//! Norms, projections onto the threat model `{x' : ‖x' − x‖ ≤ η} ∩ [0,1]ⁿ`, and the few random draws the attacks
//! need, all from a [`ChaCha8Rng`] and plain `f32`/`f64` arithmetic so that a seed gives the same numbers natively
//! and in wasm.

use rand::RngCore;
use rand_chacha::ChaCha8Rng;

use super::Norm;

/// `‖δ‖∞ = maxᵢ |δᵢ|`.
pub fn linf(d: &[f32]) -> f32 {
    d.iter().fold(0.0f32, |m, v| m.max(v.abs()))
}

/// `‖δ‖₂`, accumulated in `f64`.
pub fn l2(d: &[f32]) -> f32 {
    d.iter().map(|&v| (v as f64) * (v as f64)).sum::<f64>().sqrt() as f32
}

/// `‖δ‖₁`, accumulated in `f64`.
pub fn l1(d: &[f32]) -> f32 {
    d.iter().map(|&v| v.abs() as f64).sum::<f64>() as f32
}

/// `‖δ‖₀`: the number of non-zero entries.
pub fn l0(d: &[f32]) -> usize {
    d.iter().filter(|&&v| v != 0.0).count()
}

/// `sign(v)` with `sign(0) = sign(NaN) = 0` ([`crate::nn::ops::sign`]).
pub use crate::nn::ops::sign;

/// `g / ‖g‖₂` in place (left at zero when `g = 0`).
pub fn normalize_l2(g: &mut [f32]) {
    let n = g.iter().map(|&v| (v as f64) * (v as f64)).sum::<f64>().sqrt();
    if n > 0.0 {
        for v in g.iter_mut() {
            *v = (*v as f64 / n) as f32;
        }
    }
}

/// Projects `adv` onto `{x' : ‖x' − x‖ ≤ eps} ∩ [0,1]ⁿ` in place.
///
/// L∞: the exact projection, `x'ᵢ ← clamp(x'ᵢ, max(xᵢ − ε, 0), min(xᵢ + ε, 1))`.
/// L2: `δ ← δ · min(1, ε/‖δ‖₂)`, then clip `x + δ` to `[0,1]` (clipping only shrinks `|δᵢ|`, so the bound holds;
/// this is the usual PGD-L2 projection of Madry et al.).
pub fn project(adv: &mut [f32], x: &[f32], eps: f32, norm: Norm) {
    match norm {
        Norm::Linf => {
            for (a, &xi) in adv.iter_mut().zip(x) {
                *a = a.clamp((xi - eps).max(0.0), (xi + eps).min(1.0));
            }
        }
        Norm::L2 => {
            let n = adv
                .iter()
                .zip(x)
                .map(|(&a, &xi)| ((a - xi) as f64).powi(2))
                .sum::<f64>()
                .sqrt();
            // Shrink a hair more than ε/‖δ‖ so that rounding of x + δ cannot push ‖δ‖ past ε.
            if n > eps as f64 {
                let f = eps as f64 / n * (1.0 - 1e-7);
                for (a, &xi) in adv.iter_mut().zip(x) {
                    *a = (xi + ((*a - xi) as f64 * f) as f32).clamp(0.0, 1.0);
                }
            } else {
                clip01(adv);
            }
        }
    }
}

/// Clips every value to `[0, 1]`.
pub fn clip01(a: &mut [f32]) {
    for v in a.iter_mut() {
        *v = v.clamp(0.0, 1.0);
    }
}

/// Uniform `f32` in `[0, 1)` with 24 random bits.
#[inline]
pub fn uniform(rng: &mut ChaCha8Rng) -> f32 {
    (rng.next_u32() >> 8) as f32 * (1.0 / 16_777_216.0)
}

/// Uniform integer in `0..n` (`n ≥ 1`), unbiased (Lemire's multiply-and-reject), identical on 32- and 64-bit.
pub fn below(rng: &mut ChaCha8Rng, n: usize) -> usize {
    assert!(n >= 1 && n <= u32::MAX as usize, "below: n out of range");
    let n = n as u32;
    let threshold = n.wrapping_neg() % n;
    loop {
        let m = rng.next_u32() as u64 * n as u64;
        if (m as u32) >= threshold {
            return (m >> 32) as usize;
        }
    }
}

/// A uniformly random permutation of `0..n` (Fisher–Yates).
pub fn permutation(rng: &mut ChaCha8Rng, n: usize) -> Vec<usize> {
    let mut p: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        let j = below(rng, i + 1);
        p.swap(i, j);
    }
    p
}

/// Fills `out` with standard normal samples (Box–Muller: `z = √(−2 ln u₁)·(cos 2πu₂, sin 2πu₂)`, computed in
/// `f64`).
pub fn fill_normal(rng: &mut ChaCha8Rng, out: &mut [f32]) {
    let mut chunks = out.chunks_mut(2);
    for c in &mut chunks {
        // u₁ ∈ (0, 1] avoids ln 0.
        let u1 = 1.0 - (rng.next_u64() >> 11) as f64 * (1.0 / 9_007_199_254_740_992.0);
        let u2 = (rng.next_u64() >> 11) as f64 * (1.0 / 9_007_199_254_740_992.0);
        let r = (-2.0 * u1.ln()).sqrt();
        let t = 2.0 * std::f64::consts::PI * u2;
        c[0] = (r * t.cos()) as f32;
        if c.len() > 1 {
            c[1] = (r * t.sin()) as f32;
        }
    }
}

/// The random start of PGD (Madry et al. 2018): `x₀ = Π(x + δ)` with `δ` uniform in the ε-ball:
/// L∞: `δᵢ ~ U(−ε, ε)`; L2: `δ = ε·u^{1/n}·z/‖z‖₂`, `z ~ N(0, I)`, `u ~ U(0,1)`.
pub fn random_start(rng: &mut ChaCha8Rng, x: &[f32], eps: f32, norm: Norm) -> Vec<f32> {
    let mut adv = x.to_vec();
    match norm {
        Norm::Linf => {
            for a in adv.iter_mut() {
                *a += eps * (2.0 * uniform(rng) - 1.0);
            }
        }
        Norm::L2 => {
            let mut z = vec![0.0f32; x.len()];
            fill_normal(rng, &mut z);
            normalize_l2(&mut z);
            let r = eps as f64 * (uniform(rng) as f64).powf(1.0 / x.len() as f64);
            for (a, zi) in adv.iter_mut().zip(&z) {
                *a += (r * *zi as f64) as f32;
            }
        }
    }
    project(&mut adv, x, eps, norm);
    adv
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn projections_keep_the_bound() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let x: Vec<f32> = (0..784).map(|_| uniform(&mut rng)).collect();
        for &norm in &[Norm::Linf, Norm::L2] {
            for &eps in &[0.0f32, 0.01, 0.3, 2.0] {
                let mut a: Vec<f32> = x.iter().map(|v| v + 3.0 * (uniform(&mut rng) - 0.5)).collect();
                project(&mut a, &x, eps, norm);
                let d: Vec<f32> = a.iter().zip(&x).map(|(a, b)| a - b).collect();
                assert!(norm.of(&d) <= eps + 1e-6, "{norm:?} {eps}: {}", norm.of(&d));
                assert!(a.iter().all(|v| (0.0..=1.0).contains(v)));
                if eps == 0.0 {
                    assert_eq!(a, x);
                }
            }
        }
    }

    #[test]
    fn below_and_permutation_are_uniform_enough() {
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        let mut counts = [0usize; 7];
        for _ in 0..70_000 {
            counts[below(&mut rng, 7)] += 1;
        }
        assert!(counts.iter().all(|&c| (9_000..11_000).contains(&c)), "{counts:?}");
        let mut p = permutation(&mut rng, 100);
        p.sort_unstable();
        assert_eq!(p, (0..100).collect::<Vec<_>>());
    }

    #[test]
    fn normals_have_unit_variance() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let mut z = vec![0.0f32; 100_001];
        fill_normal(&mut rng, &mut z);
        let mean = z.iter().map(|&v| v as f64).sum::<f64>() / z.len() as f64;
        let var = z.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / z.len() as f64;
        assert!(mean.abs() < 0.02 && (var - 1.0).abs() < 0.02, "{mean} {var}");
    }
}
