//! Hand-blocked f32 kernels for the small products of a single-image forward pass, where a general sgemm's
//! packing costs more than the product: [`gemm`] (Winograd's 16 channel products, see [`super::winograd`]) and
//! [`gemv`] (a dense layer on one image).
//!
//! Each has a register-blocked core written with wasm `v128` intrinsics when the build has simd128 (the page's
//! build), and the same blocking in plain Rust otherwise (native builds, where LLVM vectorises it). Without fused
//! multiply-add in baseline wasm SIMD, every multiply-add is two instructions; the blocking keeps the loads (one
//! per four multiply-adds or fewer) off the critical path, so both kernels run close to that arithmetic bound.
//! The summation order is the same in both versions: results are bit-identical between them.

use super::layer::Clamp;

/// `m = u · v` for row-major `u: [rows, inner]`, `v: [inner, cols]`, `m: [rows, cols]` (overwritten).
///
/// Register-blocked: 4 rows of `m` × 8 columns live in 8 four-lane accumulators while the inner index runs, so
/// each step is 2 loads of `v`, 4 broadcasts of `u` and 16 multiply-adds; no packing (the operands are small and
/// already contiguous). A last block of 4 columns uses 4 accumulators; other edges fall back to a plain loop. On
/// wasm32 with simd128 the blocks use `v128` directly.
pub fn gemm(u: &[f32], v: &[f32], m: &mut [f32], rows: usize, inner: usize, cols: usize) {
    gemm_bias(u, v, m, rows, inner, cols, None, None);
}

/// [`gemm`] with an epilogue applied as each block is stored: `m[r, ·] = clamp(u[r, ·] · v + bias[r])`. The bias
/// is added after the products (the order of a separate pass) and [`Clamp::apply`] is the activation's own
/// function, so the result is bit-identical to `gemm`, then `+ bias`, then the activation; it only saves two
/// passes over `m` (a 1×1 convolution's bias and its ReLU6).
#[allow(clippy::too_many_arguments)]
pub fn gemm_bias(
    u: &[f32],
    v: &[f32],
    m: &mut [f32],
    rows: usize,
    inner: usize,
    cols: usize,
    bias: Option<&[f32]>,
    clamp: Option<Clamp>,
) {
    const MR: usize = 4;
    assert!(u.len() >= rows * inner && v.len() >= inner * cols && m.len() >= rows * cols);
    assert!(bias.is_none_or(|b| b.len() >= rows));
    let e = Epilogue { bias, clamp };
    let rb = rows / MR * MR;
    let (c8, c4) = (cols / 8 * 8, cols / 4 * 4);
    if rows * inner <= inner * cols {
        // `u` is the smaller operand (a 1×1 convolution over a large image): sweep the rows for each column panel,
        // so the panel of `v` (inner × 8 values) stays in L1 while `u` streams from L2.
        for q in (0..c8).step_by(8) {
            for r in (0..rb).step_by(MR) {
                block::<2>(u, v, m, r, q, inner, cols, &e);
            }
        }
        if c4 > c8 {
            for r in (0..rb).step_by(MR) {
                block::<1>(u, v, m, r, c8, inner, cols, &e);
            }
        }
    } else {
        for r in (0..rb).step_by(MR) {
            for q in (0..c8).step_by(8) {
                block::<2>(u, v, m, r, q, inner, cols, &e);
            }
            if c4 > c8 {
                block::<1>(u, v, m, r, c8, inner, cols, &e);
            }
        }
    }
    // Edges. The last columns of the blocked rows (at most 3; a 7×7 image has 49) are dot products of 4 rows of
    // `u` with the column of `v`, gathered once: in SIMD, where a scalar loop along `k` (a strided load and a
    // dependent add per step) took a fifth of a 7×7 layer's time. Then the remaining rows, row by row.
    if c4 < cols && rb > 0 {
        let mut column = vec![0.0f32; inner];
        for q in c4..cols {
            for (k, c) in column.iter_mut().enumerate() {
                *c = v[k * cols + q];
            }
            for r in (0..rb).step_by(MR) {
                let d = dot4(&u[r * inner..(r + MR) * inner], inner, &column);
                for (i, &di) in d.iter().enumerate() {
                    m[(r + i) * cols + q] = e.scalar(r + i, di);
                }
            }
        }
    }
    for r in rb..rows {
        let mr = &mut m[r * cols..(r + 1) * cols];
        mr.fill(0.0);
        for (k, &a) in u[r * inner..(r + 1) * inner].iter().enumerate() {
            for (mv, &vv) in mr.iter_mut().zip(&v[k * cols..(k + 1) * cols]) {
                *mv += a * vv;
            }
        }
        mr.iter_mut().for_each(|x| *x = e.scalar(r, *x));
    }
}

/// What [`gemm_bias`] does to a value before storing it.
struct Epilogue<'a> {
    bias: Option<&'a [f32]>,
    clamp: Option<Clamp>,
}

impl Epilogue<'_> {
    #[inline(always)]
    fn scalar(&self, row: usize, x: f32) -> f32 {
        let x = match self.bias {
            Some(b) => x + b[row],
            None => x,
        };
        match self.clamp {
            Some(c) => c.apply(x),
            None => x,
        }
    }
}

/// One 4 × (4·NV) block of `m` at row `r`, column `q`, stored through the epilogue: `v128` intrinsics with
/// simd128, the same blocking and order in plain Rust otherwise.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn block<const NV: usize>(
    u: &[f32],
    v: &[f32],
    m: &mut [f32],
    r: usize,
    q: usize,
    inner: usize,
    cols: usize,
    e: &Epilogue,
) {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        use std::arch::wasm32::*;
        assert!((r + 3) * inner + inner <= u.len() && (inner - 1) * cols + q + 4 * NV <= v.len());
        assert!((r + 3) * cols + q + 4 * NV <= m.len());
        let mut acc = [[f32x4_splat(0.0); NV]; 4];
        // SAFETY: the asserts above bound every index below: rows r..r+4 of u have `inner` values, and row k < inner
        // of v and rows r..r+4 of m have the columns q..q+4·NV. Unaligned v128 loads and stores are allowed in wasm.
        unsafe {
            let (up, vp) = (u.as_ptr(), v.as_ptr());
            for k in 0..inner {
                let vrow = vp.add(k * cols + q);
                let b: [v128; NV] = std::array::from_fn(|j| v128_load(vrow.add(4 * j) as *const v128));
                for (i, row) in acc.iter_mut().enumerate() {
                    let a = v128_load32_splat(up.add((r + i) * inner + k) as *const u32);
                    for (x, &bj) in row.iter_mut().zip(&b) {
                        *x = f32x4_add(*x, f32x4_mul(a, bj));
                    }
                }
            }
            if let Some(bias) = e.bias {
                for (i, row) in acc.iter_mut().enumerate() {
                    let b = f32x4_splat(bias[r + i]);
                    row.iter_mut().for_each(|x| *x = f32x4_add(*x, b));
                }
            }
            if let Some(c) = e.clamp {
                // pmax(lo, x) = lo < x ? x : lo and pmin(hi, y) = y < hi ? y : hi: exactly Clamp::apply.
                let (lo, hi) = (f32x4_splat(c.lo), f32x4_splat(c.hi));
                acc.iter_mut()
                    .flatten()
                    .for_each(|x| *x = f32x4_pmin(hi, f32x4_pmax(lo, *x)));
            }
            let mp = m.as_mut_ptr();
            for (i, row) in acc.iter().enumerate() {
                let dst = mp.add((r + i) * cols + q);
                for (j, &x) in row.iter().enumerate() {
                    v128_store(dst.add(4 * j) as *mut v128, x);
                }
            }
        }
    }
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    {
        let mut acc = [[[0.0f32; 4]; NV]; 4];
        for k in 0..inner {
            let vrow = &v[k * cols + q..][..4 * NV];
            for (i, row) in acc.iter_mut().enumerate() {
                let a = u[(r + i) * inner + k];
                for (j, x) in row.iter_mut().enumerate() {
                    for l in 0..4 {
                        x[l] += a * vrow[4 * j + l];
                    }
                }
            }
        }
        for (i, row) in acc.iter().enumerate() {
            for (j, x) in row.iter().enumerate() {
                let dst = &mut m[(r + i) * cols + q + 4 * j..][..4];
                for (d, &xv) in dst.iter_mut().zip(x) {
                    *d = e.scalar(r + i, xv);
                }
            }
        }
    }
}

/// `y[r] = w[r, ·] · x + b[r]` for row-major `w: [rows, cols]`.
///
/// Four rows at a time share each load of `x`: per four columns, one load of `x`, four of `w`, four multiplies and
/// four adds into four-lane accumulators, reduced at the end of the row (lane order 0+1, 2+3, then the two).
pub fn gemv(w: &[f32], rows: usize, cols: usize, x: &[f32], b: &[f32], y: &mut [f32]) {
    assert!(w.len() == rows * cols && x.len() == cols && b.len() == rows && y.len() == rows);
    let rb = rows / 4 * 4;
    for r in (0..rb).step_by(4) {
        let d = dot4(&w[r * cols..(r + 4) * cols], cols, x);
        for i in 0..4 {
            y[r + i] = d[i] + b[r + i];
        }
    }
    for r in rb..rows {
        y[r] = dot4(&w[r * cols..(r + 1) * cols].repeat(4), cols, x)[0] + b[r];
    }
}

/// Dot products of the 4 rows of `w4: [4, cols]` with `x`, by 4-lane partial sums (see [`gemv`]).
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[inline(always)]
fn dot4(w4: &[f32], cols: usize, x: &[f32]) -> [f32; 4] {
    use std::arch::wasm32::*;
    assert!(w4.len() == 4 * cols && x.len() == cols);
    let cb = cols / 4 * 4;
    let mut acc = [f32x4_splat(0.0); 4];
    // SAFETY: k + 4 <= cb <= cols bounds every load: x has `cols` values and each row of w4 has `cols` values.
    unsafe {
        let (wp, xp) = (w4.as_ptr(), x.as_ptr());
        for k in (0..cb).step_by(4) {
            let xv = v128_load(xp.add(k) as *const v128);
            for (i, a) in acc.iter_mut().enumerate() {
                *a = f32x4_add(*a, f32x4_mul(v128_load(wp.add(i * cols + k) as *const v128), xv));
            }
        }
    }
    let mut out = [0.0f32; 4];
    for (i, a) in acc.iter().enumerate() {
        let l = [
            f32x4_extract_lane::<0>(*a),
            f32x4_extract_lane::<1>(*a),
            f32x4_extract_lane::<2>(*a),
            f32x4_extract_lane::<3>(*a),
        ];
        out[i] = reduce(l, &w4[i * cols + cb..(i + 1) * cols], &x[cb..]);
    }
    out
}

#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
#[inline(always)]
fn dot4(w4: &[f32], cols: usize, x: &[f32]) -> [f32; 4] {
    let cb = cols / 4 * 4;
    let mut acc = [[0.0f32; 4]; 4];
    for k in (0..cb).step_by(4) {
        let xv: &[f32; 4] = x[k..k + 4].try_into().expect("4 values");
        for (i, a) in acc.iter_mut().enumerate() {
            let wv: &[f32; 4] = w4[i * cols + k..i * cols + k + 4].try_into().expect("4 values");
            for l in 0..4 {
                a[l] += wv[l] * xv[l];
            }
        }
    }
    std::array::from_fn(|i| reduce(acc[i], &w4[i * cols + cb..(i + 1) * cols], &x[cb..]))
}

/// The four lanes' partial sums `(l0 + l1) + (l2 + l3)`, then the leftover columns in order.
#[inline(always)]
fn reduce(l: [f32; 4], wt: &[f32], xt: &[f32]) -> f32 {
    let mut s = (l[0] + l[1]) + (l[2] + l[3]);
    for (a, b) in wt.iter().zip(xt) {
        s += a * b;
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gemm_blocks_and_edges() {
        for (rows, inner, cols) in [
            (4, 3, 12),
            (9, 5, 37),
            (32, 32, 36),
            (1, 1, 1),
            (3, 7, 11),
            (8, 2, 24),
            (5, 4, 6),
            (4, 9, 13),
            (16, 24, 100),
            (40, 3, 9),
        ] {
            let u: Vec<f32> = (0..rows * inner).map(|i| (i % 13) as f32 - 6.0).collect();
            let v: Vec<f32> = (0..inner * cols).map(|i| (i % 7) as f32 * 0.5).collect();
            let mut m = vec![f32::NAN; rows * cols];
            gemm(&u, &v, &mut m, rows, inner, cols);
            for r in 0..rows {
                for q in 0..cols {
                    let want: f32 = (0..inner).map(|k| u[r * inner + k] * v[k * cols + q]).sum();
                    assert_eq!(m[r * cols + q], want, "{rows}×{inner}×{cols} at ({r}, {q})");
                }
            }
        }
    }

    #[test]
    fn the_bias_and_clamp_epilogue_equals_separate_passes_bit_for_bit() {
        let relu6 = Clamp { lo: 0.0, hi: 6.0 };
        for (rows, inner, cols) in [(4, 3, 12), (9, 5, 37), (16, 24, 100), (40, 3, 9), (3, 7, 11)] {
            let u: Vec<f32> = (0..rows * inner)
                .map(|i| ((i * 37) % 23) as f32 * 0.173 - 1.9)
                .collect();
            let v: Vec<f32> = (0..inner * cols)
                .map(|i| ((i * 11) % 19) as f32 * 0.291 - 2.2)
                .collect();
            let b: Vec<f32> = (0..rows).map(|r| r as f32 * 0.37 - 1.0).collect();
            let mut want = vec![f32::NAN; rows * cols];
            gemm(&u, &v, &mut want, rows, inner, cols);
            for (r, row) in want.chunks_exact_mut(cols).enumerate() {
                row.iter_mut().for_each(|x| *x = relu6.apply(*x + b[r]));
            }
            let mut got = vec![f32::NAN; rows * cols];
            gemm_bias(&u, &v, &mut got, rows, inner, cols, Some(&b), Some(relu6));
            assert_eq!(got, want, "{rows}×{inner}×{cols}");
            assert!(got.contains(&0.0) && got.contains(&6.0) && got.iter().any(|&x| x > 0.0 && x < 6.0));
        }
    }

    #[test]
    fn gemv_rows_and_leftover_columns() {
        for (rows, cols) in [(128, 1152), (10, 128), (5, 7), (1, 3), (7, 33)] {
            let w: Vec<f32> = (0..rows * cols).map(|i| ((i * 31) % 17) as f32 * 0.125 - 1.0).collect();
            let x: Vec<f32> = (0..cols).map(|i| ((i * 7) % 5) as f32 * 0.25).collect();
            let b: Vec<f32> = (0..rows).map(|r| r as f32).collect();
            let mut y = vec![f32::NAN; rows];
            gemv(&w, rows, cols, &x, &b, &mut y);
            for r in 0..rows {
                let want: f64 = b[r] as f64 + (0..cols).map(|k| w[r * cols + k] as f64 * x[k] as f64).sum::<f64>();
                assert!(
                    (y[r] as f64 - want).abs() <= 1e-4 * want.abs().max(1.0),
                    "{rows}×{cols} row {r}: {} vs {want}",
                    y[r]
                );
            }
        }
    }
}
