//! im2col / col2im: turn a convolution into one matrix product.
//!
//! For a block of `B` images `x: [B, C, H, W]` and a `k×k` kernel with stride `s` and zero padding `p` (top) and `pl` (left), the
//! column matrix is `cols: [C·k·k, B·Ho·Wo]` with
//! `cols[(c·k + u)·k + v, (b·Ho + i)·Wo + j] = x[b, c, s·i + u − p, s·j + v − pl]` (0 outside the image).
//! Then `conv(x) = W · cols` with `W: [O, C·k·k]`. `col2im` is the adjoint: it scatter-adds a column matrix back
//! onto the image grid, which is exactly the VJP of `im2col`.
//!
//! Both loops write (or read) whole output rows contiguously; for stride 1 the inner loop is a `memcpy`.

/// Geometry of one convolution on one image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConvGeom {
    /// Input channels, height, width.
    pub c: usize,
    pub h: usize,
    pub w: usize,
    /// Output channels.
    pub o: usize,
    /// Kernel size, stride, zero padding above (`p`) and left of (`pl`) the image. The padding below and right
    /// is implied by the output size (TensorFlow's "same" padding is asymmetric for stride 2).
    pub k: usize,
    pub s: usize,
    pub p: usize,
    pub pl: usize,
    /// Output height and width: `(H + 2p − k)/s + 1` for symmetric padding, `⌈H/s⌉` for "same".
    pub ho: usize,
    pub wo: usize,
}

impl ConvGeom {
    /// Rows of the column matrix: `C·k·k`.
    pub fn ckk(&self) -> usize {
        self.c * self.k * self.k
    }
    /// Output positions per image: `Ho·Wo`.
    pub fn positions(&self) -> usize {
        self.ho * self.wo
    }
    /// Input features per image: `C·H·W`.
    pub fn input_len(&self) -> usize {
        self.c * self.h * self.w
    }
}

/// Output indices `i ∈ [0, out)` with `0 ≤ i·s + off < inp`, as a half-open range.
fn valid(out: usize, inp: usize, s: usize, off: isize) -> (usize, usize) {
    let lo = if off >= 0 { 0 } else { off.unsigned_abs().div_ceil(s) };
    let room = inp as isize - off;
    let hi = if room <= 0 {
        0
    } else {
        (room as usize).div_ceil(s).min(out)
    };
    (lo.min(hi), hi)
}

/// `cols` (length `C·k·k · B·Ho·Wo`, any contents on entry: every entry is written) ← im2col of `x`
/// (length `B·C·H·W`).
pub fn im2col(x: &[f32], b: usize, g: &ConvGeom, cols: &mut [f32]) {
    let (pos, ncol, chw, hw) = (g.positions(), b * g.positions(), g.input_len(), g.h * g.w);
    debug_assert_eq!(x.len(), b * chw);
    debug_assert_eq!(cols.len(), g.ckk() * ncol);
    for c in 0..g.c {
        for u in 0..g.k {
            let offu = u as isize - g.p as isize;
            let (ilo, ihi) = valid(g.ho, g.h, g.s, offu);
            for v in 0..g.k {
                let offv = v as isize - g.pl as isize;
                let (jlo, jhi) = valid(g.wo, g.w, g.s, offv);
                let r = (c * g.k + u) * g.k + v;
                let row = &mut cols[r * ncol..(r + 1) * ncol];
                for bi in 0..b {
                    let src = &x[bi * chw + c * hw..bi * chw + (c + 1) * hw];
                    let dst = &mut row[bi * pos..(bi + 1) * pos];
                    dst[..ilo * g.wo].fill(0.0);
                    dst[ihi * g.wo..].fill(0.0);
                    for i in ilo..ihi {
                        let hi = (i * g.s) as isize + offu;
                        let srow = &src[hi as usize * g.w..(hi as usize + 1) * g.w];
                        let drow = &mut dst[i * g.wo..(i + 1) * g.wo];
                        drow[..jlo].fill(0.0);
                        drow[jhi..].fill(0.0);
                        if g.s == 1 {
                            let a = (jlo as isize + offv) as usize;
                            drow[jlo..jhi].copy_from_slice(&srow[a..a + (jhi - jlo)]);
                        } else {
                            for j in jlo..jhi {
                                drow[j] = srow[((j * g.s) as isize + offv) as usize];
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `dx` (length `B·C·H·W`) += col2im of `cols` (length `C·k·k · B·Ho·Wo`): the adjoint of [`im2col`].
pub fn col2im(cols: &[f32], b: usize, g: &ConvGeom, dx: &mut [f32]) {
    let (pos, ncol, chw, hw) = (g.positions(), b * g.positions(), g.input_len(), g.h * g.w);
    debug_assert_eq!(dx.len(), b * chw);
    debug_assert_eq!(cols.len(), g.ckk() * ncol);
    for c in 0..g.c {
        for u in 0..g.k {
            let offu = u as isize - g.p as isize;
            let (ilo, ihi) = valid(g.ho, g.h, g.s, offu);
            for v in 0..g.k {
                let offv = v as isize - g.pl as isize;
                let (jlo, jhi) = valid(g.wo, g.w, g.s, offv);
                let r = (c * g.k + u) * g.k + v;
                let row = &cols[r * ncol..(r + 1) * ncol];
                for bi in 0..b {
                    let dst = &mut dx[bi * chw + c * hw..bi * chw + (c + 1) * hw];
                    let src = &row[bi * pos..(bi + 1) * pos];
                    for i in ilo..ihi {
                        let hi = (i * g.s) as isize + offu;
                        let drow = &mut dst[hi as usize * g.w..(hi as usize + 1) * g.w];
                        let srow = &src[i * g.wo..(i + 1) * g.wo];
                        if g.s == 1 {
                            let a = (jlo as isize + offv) as usize;
                            for (d, &s) in drow[a..a + (jhi - jlo)].iter_mut().zip(&srow[jlo..jhi]) {
                                *d += s;
                            }
                        } else {
                            for j in jlo..jhi {
                                drow[((j * g.s) as isize + offv) as usize] += srow[j];
                            }
                        }
                    }
                }
            }
        }
    }
}
