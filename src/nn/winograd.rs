//! Winograd's minimal filtering F(2×2, 3×3) for 3×3 convolutions with stride 1 (Lavin & Gray 2016, "Fast
//! Algorithms for Convolutional Neural Networks", §4), the batch-1 forward path of [`super::conv2d`].
//!
//! Each output tile `Y` of 2×2 pixels comes from a 4×4 input tile `d` and the 3×3 filter `g`:
//!
//! `Y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A`, with
//! `Bᵀ = [[1,0,−1,0],[0,1,1,0],[0,−1,1,0],[0,1,0,−1]]`, `G = [[1,0,0],[½,½,½],[½,−½,½],[0,0,1]]`,
//! `Aᵀ = [[1,1,1,0],[0,1,−1,−1]]`.
//!
//! Summed over input channels, the element-wise product becomes 16 independent matrix products
//! `M[ξ] = U[ξ] · V[ξ]` (`U[ξ]: [O, C]` transformed filters, `V[ξ]: [C, tiles]` transformed input), so a layer
//! costs `16·O·C·tiles` multiply-adds instead of `36·O·C·tiles` — 2.25× fewer — plus cheap additions for the
//! transforms. For the shipped CNN's second convolution (32→32 channels, 12×12 outputs) that is 2.65 → 1.18 MFLOP.
//! The result equals the direct convolution up to f32 rounding (tests: within 1e-5 relative).
//!
//! Layout: `V[ξ]: [C, tiles]` and `M[ξ]: [O, tiles]` are row-major, so the 16 products are plain blocked matrix
//! products ([`kernels::gemm`]). The input and output transforms run tile by tile, fully unrolled: at the shipped
//! sizes (6×6 tiles per channel) loops over a row of tiles are too short to pay for themselves (measured: the
//! row-wise version of the transforms took 41 µs of the 70 µs layer, the unrolled one about 26 of 55).

use super::im2col::ConvGeom;
use super::kernels;

/// Whether [`forward_image`] applies and pays off: a 3×3 kernel with stride 1 (any padding) and at least
/// [`MIN_CHANNELS`] input channels. With one input channel (a first layer on grey images) the 16 channel sums are
/// single products, and the output transform then costs more than the multiplications it saves (measured in
/// Chromium: 35 µs against 23 µs for im2col + sgemm on the shipped CNN's first layer).
pub fn applies(g: &ConvGeom) -> bool {
    computes(g) && g.c >= MIN_CHANNELS
}

/// Whether [`forward_image`] computes this convolution at all: a 3×3 kernel with stride 1, the same padding above
/// and left, and a non-empty output
/// (any padding and channel counts; [`applies`] adds when it is worth it).
pub fn computes(g: &ConvGeom) -> bool {
    g.k == 3 && g.s == 1 && g.p == g.pl && g.ho > 0 && g.wo > 0
}

/// See [`applies`].
pub const MIN_CHANNELS: usize = 4;

/// `U = G g Gᵀ` for every (output, input) channel pair, as 16 matrices `U[ξ]: [O, C]` (`ξ = 4a + k`), from
/// `w: [O, C·3·3]` row-major.
pub fn transform_filters(w: &[f32], o: usize, c: usize) -> Vec<f32> {
    let mut u = vec![0.0f32; 16 * o * c];
    for oi in 0..o {
        for ci in 0..c {
            let g = &w[(oi * c + ci) * 9..][..9];
            // G g: rows (g0, (g0+g1+g2)/2, (g0−g1+g2)/2, g2), each of 3 values.
            let mut gg = [[0.0f32; 3]; 4];
            for v in 0..3 {
                let (g0, g1, g2) = (g[v], g[3 + v], g[6 + v]);
                gg[0][v] = g0;
                gg[1][v] = 0.5 * (g0 + g1 + g2);
                gg[2][v] = 0.5 * (g0 - g1 + g2);
                gg[3][v] = g2;
            }
            // (G g) Gᵀ: the same on each row.
            for (a, r) in gg.iter().enumerate() {
                let t = [r[0], 0.5 * (r[0] + r[1] + r[2]), 0.5 * (r[0] - r[1] + r[2]), r[2]];
                for (k, &val) in t.iter().enumerate() {
                    u[((4 * a + k) * o + oi) * c + ci] = val;
                }
            }
        }
    }
    u
}

/// Per-call scratch, reused across calls by the caller.
#[derive(Debug, Default, Clone)]
pub struct Scratch {
    v: Vec<f32>,
    m: Vec<f32>,
}

/// `V[4a + k][c][ti·tw + tj] = (Bᵀ d B)[a][k]` for every channel `c` and tile `(ti, tj)`.
///
/// Tile by tile, fully unrolled: 16 loads, 32 additions, 16 stores, no inner loops (the rows of a 12×12 output
/// are only 6 tiles wide, too short for loops over tiles to pay for their own overhead). Tiles that reach into
/// the zero padding read through a bounds-checked fetch; the others read the image directly.
fn input_transform(x: &[f32], g: &ConvGeom, s: &mut Scratch) {
    let (c, h, w, p) = (g.c, g.h, g.w, g.p);
    let (th, tw) = (g.ho.div_ceil(2), g.wo.div_ceil(2));
    let tiles = th * tw;
    s.v.resize(16 * c * tiles, 0.0);
    let stride = c * tiles;
    for ci in 0..c {
        let img = &x[ci * h * w..][..h * w];
        let fetch = |r: usize, q: usize| -> f32 {
            // Padded coordinates: input row r − p, column q − p.
            if r >= p && q >= p && r - p < h && q - p < w {
                img[(r - p) * w + (q - p)]
            } else {
                0.0
            }
        };
        for ti in 0..th {
            for tj in 0..tw {
                let (r0, q0) = (2 * ti, 2 * tj);
                let inside = r0 >= p && q0 >= p && r0 + 4 - p <= h && q0 + 4 - p <= w;
                let d: [[f32; 4]; 4] = if inside {
                    std::array::from_fn(|i| {
                        let row = &img[(r0 + i - p) * w + q0 - p..][..4];
                        [row[0], row[1], row[2], row[3]]
                    })
                } else {
                    std::array::from_fn(|i| std::array::from_fn(|j| fetch(r0 + i, q0 + j)))
                };
                // d·B on each row, then Bᵀ· on the columns of the result.
                let t: [[f32; 4]; 4] = std::array::from_fn(|i| {
                    [
                        d[i][0] - d[i][2],
                        d[i][1] + d[i][2],
                        d[i][2] - d[i][1],
                        d[i][1] - d[i][3],
                    ]
                });
                let at = ci * tiles + ti * tw + tj;
                let [t0, t1, t2, t3] = t;
                for k in 0..4 {
                    s.v[k * stride + at] = t0[k] - t2[k];
                    s.v[(4 + k) * stride + at] = t1[k] + t2[k];
                    s.v[(8 + k) * stride + at] = t2[k] - t1[k];
                    s.v[(12 + k) * stride + at] = t1[k] - t3[k];
                }
            }
        }
    }
}

/// `y[o, i, j] = bias[o] + Σ_{c,u,v} W[o,c,u,v]·x[c, i+u−p, j+v−p]` for one image `x: [C, H, W]`, written to
/// `y: [O, Ho, Wo]`, with `u` from [`transform_filters`]. Requires [`computes`].
pub fn forward_image(x: &[f32], g: &ConvGeom, u: &[f32], bias: &[f32], y: &mut [f32], s: &mut Scratch) {
    debug_assert!(computes(g));
    let (th, tw) = (g.ho.div_ceil(2), g.wo.div_ceil(2));
    input_transform(x, g, s);
    let (c, o, tiles) = (g.c, g.o, th * tw);
    s.m.resize(16 * o * tiles, 0.0);
    // M[ξ] = U[ξ] · V[ξ]: 16 products [O, C] × [C, tiles].
    for xi in 0..16 {
        kernels::gemm(
            &u[xi * o * c..][..o * c],
            &s.v[xi * c * tiles..][..c * tiles],
            &mut s.m[xi * o * tiles..][..o * tiles],
            o,
            c,
            tiles,
        );
    }

    // Y = Aᵀ M A + bias, tile by tile (unrolled, as the input transform).
    let (ho, wo) = (g.ho, g.wo);
    let stride = o * tiles;
    for oi in 0..o {
        let yo = &mut y[oi * ho * wo..][..ho * wo];
        let b = bias[oi];
        let mo = &s.m[oi * tiles..];
        for ti in 0..th {
            for tj in 0..tw {
                let at = ti * tw + tj;
                let m: [f32; 16] = std::array::from_fn(|xi| mo[xi * stride + at]);
                // Aᵀ on the row index a, for each column index k.
                let s0: [f32; 4] = std::array::from_fn(|k| m[k] + m[4 + k] + m[8 + k]);
                let s1: [f32; 4] = std::array::from_fn(|k| m[4 + k] - m[8 + k] - m[12 + k]);
                // ·A on the column index k.
                let (i, j) = (2 * ti, 2 * tj);
                let full = i + 2 <= ho && j + 2 <= wo;
                let put = |yo: &mut [f32], r: usize, q: usize, v: f32| {
                    if full || (r < ho && q < wo) {
                        yo[r * wo + q] = v;
                    }
                };
                put(yo, i, j, s0[0] + s0[1] + s0[2] + b);
                put(yo, i, j + 1, s0[1] - s0[2] - s0[3] + b);
                put(yo, i + 1, j, s1[0] + s1[1] + s1[2] + b);
                put(yo, i + 1, j + 1, s1[1] - s1[2] - s1[3] + b);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Direct convolution, the definition, in f64.
    fn direct(x: &[f32], g: &ConvGeom, w: &[f32], b: &[f32]) -> Vec<f64> {
        let mut y = vec![0.0f64; g.o * g.ho * g.wo];
        for o in 0..g.o {
            for i in 0..g.ho {
                for j in 0..g.wo {
                    let mut acc = b[o] as f64;
                    for c in 0..g.c {
                        for u in 0..3 {
                            for v in 0..3 {
                                let (r, q) = (
                                    i as isize + u as isize - g.p as isize,
                                    j as isize + v as isize - g.p as isize,
                                );
                                if r >= 0 && q >= 0 && (r as usize) < g.h && (q as usize) < g.w {
                                    acc += w[((o * g.c + c) * 3 + u) * 3 + v] as f64
                                        * x[(c * g.h + r as usize) * g.w + q as usize] as f64;
                                }
                            }
                        }
                    }
                    y[(o * g.ho + i) * g.wo + j] = acc;
                }
            }
        }
        y
    }

    fn geom(c: usize, h: usize, w: usize, o: usize, p: usize) -> ConvGeom {
        ConvGeom {
            c,
            h,
            w,
            o,
            k: 3,
            s: 1,
            p,
            pl: p,
            ho: h + 2 * p - 2,
            wo: w + 2 * p - 2,
        }
    }

    #[test]
    fn equals_the_direct_convolution() {
        // The shipped layers, odd output sizes (a half tile at the edge), padding 0, 1, 2, one channel, tiny images.
        for (c, h, w, o, p) in [
            (1, 28, 28, 32, 1),
            (32, 14, 14, 32, 0),
            (3, 7, 9, 5, 0),
            (2, 5, 6, 3, 2),
            (1, 3, 3, 1, 0),
            (4, 2, 2, 2, 1),
        ] {
            let g = geom(c, h, w, o, p);
            let x: Vec<f32> = (0..c * h * w).map(|i| ((i * 7919) % 97) as f32 / 97.0).collect();
            let wt: Vec<f32> = (0..o * c * 9)
                .map(|i| ((i * 104_729) % 61) as f32 / 61.0 - 0.5)
                .collect();
            let b: Vec<f32> = (0..o).map(|i| i as f32 * 0.1 - 0.2).collect();
            let u = transform_filters(&wt, o, c);
            let mut y = vec![f32::NAN; o * g.ho * g.wo];
            forward_image(&x, &g, &u, &b, &mut y, &mut Scratch::default());
            let want = direct(&x, &g, &wt, &b);
            let scale = want.iter().fold(1.0f64, |a, v| a.max(v.abs()));
            for (k, (&got, &want)) in y.iter().zip(&want).enumerate() {
                assert!(
                    (got as f64 - want).abs() <= 1e-5 * scale,
                    "{c}×{h}×{w}→{o} p={p}: output {k} is {got}, the direct convolution gives {want}"
                );
            }
        }
    }
}
