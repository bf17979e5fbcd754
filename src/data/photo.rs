//! Photo preprocessing for the ImageNet models (CONTRACTS.md §C): RGBA `(width, height, bytes)` →
//! `x ∈ [0, 1]^(3×224×224)`, the standard ImageNet evaluation recipe (as in the EfficientNet and torchvision
//! evaluation pipelines):
//!
//! 1. **Validate**: both sides in [`MIN_SIDE`]`..=`[`MAX_SIDE`], at most [`MAX_PIXELS`] pixels, and
//!    `len == width·height·4`; otherwise [`Error::Image`]. A photo smaller than 32 pixels a side holds nothing a
//!    224×224 classifier could see.
//! 2. **Opaque RGB**: a pixel with alpha `a < 255` is composited over white, `c' = (c·a + 255·(255 − a)) / 255`
//!    (rounded), so a transparent cut-out reads as an object on white paper. Opaque photos are unchanged.
//! 3. **Resize the short side to 256** ([`RESIZE_SHORT`]), the long side to `⌊long·256 / short⌋`, with PIL's
//!    separable bicubic filter (`Image.resize(…, BICUBIC)` of Pillow ≥ 7, which is what the reference pipelines
//!    use): Keys' cubic convolution kernel with `a = −0.5` (R. Keys, "Cubic convolution interpolation for digital
//!    image processing", IEEE TASSP 1981),
//!    `k(t) = (a+2)|t|³ − (a+3)|t|² + 1` for `|t| < 1`, `a|t|³ − 5a|t|² + 8a|t| − 4a` for `1 ≤ |t| < 2`, else 0.
//!    When shrinking by a factor `f = in/out > 1` the kernel is stretched by `f` (support `2f`, argument `t/f`),
//!    which is the antialiasing; output pixel `i` is centred at source coordinate `(i + ½)·f`, and its weights
//!    are normalised to sum to 1. As in PIL, the weights are rounded to 22-bit fixed point, the horizontal pass
//!    runs first, and each pass rounds and clamps to 8 bits, so the result equals Pillow's byte for byte.
//! 4. **Centre crop 224** ([`SIDE`]): offset `⌊(side − 224) / 2⌋` on each axis. Only the cropped pixels are
//!    computed (each output pixel of a separable filter is independent of the others), so memory stays at
//!    224 columns × the source height.
//! 5. **NCHW / 255**: `x[c·224·224 + y·224 + x] = rgb / 255`. There is no mean/std normalisation here: that is the
//!    model's first layer, so an attack's η stays in pixel units (η = 1/255 is one grey level).
//!
//! Shared by the CLI (which decodes PNG/JPEG and applies the EXIF orientation first, see `image_io`) and the
//! wasm Session (the browser decodes). Pure Rust; besides the caller's RGBA buffer it allocates one source row
//! and 224 columns × the source rows the crop needs (a 12 MP phone photo: about 2 MB, about 0.1 s natively).

use crate::{Error, Result};

/// Side of the model input.
pub const SIDE: usize = 224;
/// The short side is resized to this before the centre crop.
pub const RESIZE_SHORT: usize = 256;
/// Smallest accepted side of a photo.
pub const MIN_SIDE: u32 = 32;
/// Most pixels accepted.
pub use crate::data::preprocess::MAX_PIXELS;
/// Longest accepted side (the same limit as the MNIST preprocessing).
pub use crate::data::preprocess::MAX_SIDE;

/// Bits of fraction in the fixed-point filter weights (Pillow's `PRECISION_BITS = 32 − 8 − 2`).
const PRECISION_BITS: u32 = 22;
/// Support of the bicubic kernel at scale 1.
const BICUBIC_SUPPORT: f64 = 2.0;
/// Keys' parameter, PIL's choice.
const KEYS_A: f64 = -0.5;

/// Keys' cubic convolution kernel with `a = −0.5`.
fn bicubic(t: f64) -> f64 {
    let t = t.abs();
    if t < 1.0 {
        ((KEYS_A + 2.0) * t - (KEYS_A + 3.0)) * t * t + 1.0
    } else if t < 2.0 {
        (((t - 5.0) * t + 8.0) * t - 4.0) * KEYS_A
    } else {
        0.0
    }
}

/// The fixed-point weights of output pixels `first..first + count` of a resize from `in_size` to `out_size`:
/// for each, the first source index and its integer weights.
struct Coeffs {
    start: Vec<usize>,
    weights: Vec<Vec<i32>>,
}

fn coefficients(in_size: usize, out_size: usize, first: usize, count: usize) -> Coeffs {
    let scale = in_size as f64 / out_size as f64;
    let filter_scale = scale.max(1.0);
    let support = BICUBIC_SUPPORT * filter_scale;
    let inv = 1.0 / filter_scale;
    let mut start = Vec::with_capacity(count);
    let mut weights = Vec::with_capacity(count);
    for i in first..first + count {
        let center = (i as f64 + 0.5) * scale;
        // C's (int) truncation toward zero, then clamping, exactly as Pillow.
        let lo = ((center - support + 0.5) as i64).max(0) as usize;
        let hi = ((center + support + 0.5) as i64).min(in_size as i64) as usize;
        let w: Vec<f64> = (lo..hi).map(|x| bicubic((x as f64 - center + 0.5) * inv)).collect();
        let sum: f64 = w.iter().sum();
        let one = f64::from(1u32 << PRECISION_BITS);
        // f64::round rounds half away from zero, as Pillow's (int)(±0.5 + w·2^22).
        let fixed = w
            .iter()
            .map(|&v| ((if sum != 0.0 { v / sum } else { v }) * one).round() as i32)
            .collect();
        start.push(lo);
        weights.push(fixed);
    }
    Coeffs { start, weights }
}

/// Rounds a fixed-point accumulator (which started at ½) to a byte, clamping to `0..=255`.
fn clip8(acc: i64) -> u8 {
    (acc >> PRECISION_BITS).clamp(0, 255) as u8
}

/// PIL-exact bicubic resize of an interleaved 8-bit image with `channels` bytes per pixel from `w×h` to
/// `out_w×out_h`, computing only the window of `crop_w×crop_h` output pixels at `(left, top)`.
/// Returns the window, interleaved, `crop_w·crop_h·channels` bytes.
///
/// `fill_row(y, row)` writes source row `y` (`w·channels` bytes) into `row`: the source is read one row at a time,
/// so a caller can convert its pixels on the fly (RGBA → RGB) without a full-size copy.
fn resize_window(
    fill_row: &dyn Fn(usize, &mut [u8]),
    (w, h, channels): (usize, usize, usize),
    (out_w, out_h): (usize, usize),
    (left, top, crop_w, crop_h): (usize, usize, usize, usize),
) -> Vec<u8> {
    let half = 1i64 << (PRECISION_BITS - 1);
    let vert = coefficients(h, out_h, top, crop_h);
    // Source rows the vertical pass reads.
    let row0 = vert.start[0];
    let row1 = vert
        .start
        .iter()
        .zip(&vert.weights)
        .map(|(s, k)| s + k.len())
        .max()
        .unwrap_or(row0);
    // Horizontal pass (first, as in Pillow): rows row0..row1, output columns left..left + crop_w.
    let horiz = coefficients(w, out_w, left, crop_w);
    let rows = row1 - row0;
    let mut tmp = vec![0u8; rows * crop_w * channels];
    let same_width = w == out_w;
    let mut src_row = vec![0u8; w * channels];
    for r in 0..rows {
        fill_row(row0 + r, &mut src_row);
        let dst_row = &mut tmp[r * crop_w * channels..(r + 1) * crop_w * channels];
        for x in 0..crop_w {
            for c in 0..channels {
                dst_row[x * channels + c] = if same_width {
                    src_row[(left + x) * channels + c]
                } else {
                    let mut acc = half;
                    for (j, &k) in horiz.weights[x].iter().enumerate() {
                        acc += i64::from(src_row[(horiz.start[x] + j) * channels + c]) * i64::from(k);
                    }
                    clip8(acc)
                };
            }
        }
    }
    // Vertical pass.
    let same_height = h == out_h;
    let mut out = vec![0u8; crop_w * crop_h * channels];
    for y in 0..crop_h {
        for x in 0..crop_w {
            for c in 0..channels {
                out[(y * crop_w + x) * channels + c] = if same_height {
                    tmp[((top + y - row0) * crop_w + x) * channels + c]
                } else {
                    let mut acc = half;
                    for (j, &k) in vert.weights[y].iter().enumerate() {
                        let r = vert.start[y] + j - row0;
                        acc += i64::from(tmp[(r * crop_w + x) * channels + c]) * i64::from(k);
                    }
                    clip8(acc)
                };
            }
        }
    }
    out
}

/// PIL-exact bicubic resize (`Image.resize((out_w, out_h), Image.BICUBIC)`) of an interleaved 8-bit image with
/// `channels` bytes per pixel. Errors on empty sizes or a buffer of the wrong length.
pub fn resize_bicubic(
    src: &[u8],
    (w, h): (usize, usize),
    channels: usize,
    (out_w, out_h): (usize, usize),
) -> Result<Vec<u8>> {
    if w == 0 || h == 0 || out_w == 0 || out_h == 0 || channels == 0 {
        return Err(Error::Image(format!(
            "cannot resize {w}×{h} to {out_w}×{out_h} with {channels} channels: every size must be ≥ 1"
        )));
    }
    if src.len() != w * h * channels {
        return Err(Error::Image(format!(
            "the buffer holds {} bytes, but {w}×{h} with {channels} channels needs {}",
            src.len(),
            w * h * channels
        )));
    }
    let row_bytes = w * channels;
    let fill = |y: usize, row: &mut [u8]| row.copy_from_slice(&src[y * row_bytes..(y + 1) * row_bytes]);
    Ok(resize_window(
        &fill,
        (w, h, channels),
        (out_w, out_h),
        (0, 0, out_w, out_h),
    ))
}

/// Size after resizing the short side to [`RESIZE_SHORT`]: `(new_w, new_h)`, the long side `⌊long·256/short⌋`.
pub fn resized_size(width: usize, height: usize) -> (usize, usize) {
    if width <= height {
        (RESIZE_SHORT, height * RESIZE_SHORT / width)
    } else {
        (width * RESIZE_SHORT / height, RESIZE_SHORT)
    }
}

/// The square of the source photo that the model sees, `(left, top, side)` in source pixels: the 224×224 centre
/// crop of the resized image mapped back by the resize factor `short/256` (for the page's crop outline).
pub fn crop_box(width: usize, height: usize) -> (f32, f32, f32) {
    let (out_w, out_h) = resized_size(width, height);
    let scale = width.min(height) as f32 / RESIZE_SHORT as f32;
    let (left, top) = ((out_w - SIDE) / 2, (out_h - SIDE) / 2);
    (left as f32 * scale, top as f32 * scale, SIDE as f32 * scale)
}

fn validate(width: u32, height: u32, rgba: &[u8]) -> Result<()> {
    if width < MIN_SIDE || height < MIN_SIDE {
        return Err(Error::Image(format!(
            "the photo is {width}×{height}; at least {MIN_SIDE} pixels a side are needed"
        )));
    }
    if width > MAX_SIDE || height > MAX_SIDE || u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(Error::Image(format!(
            "the photo is {width}×{height}; at most {MAX_SIDE} pixels a side and {MAX_PIXELS} pixels in all are \
             accepted"
        )));
    }
    let want = width as usize * height as usize * 4;
    if rgba.len() != want {
        return Err(Error::Image(format!(
            "the RGBA buffer holds {} bytes, but a {width}×{height} image needs {want}",
            rgba.len()
        )));
    }
    Ok(())
}

/// One row of RGBA → opaque RGB (alpha composited over white, rounded) into `rgb` (3 bytes a pixel).
fn rgba_row_to_rgb(rgba: &[u8], rgb: &mut [u8]) {
    for (p, q) in rgba.chunks_exact(4).zip(rgb.chunks_exact_mut(3)) {
        let a = u32::from(p[3]);
        for (d, &c) in q.iter_mut().zip(&p[..3]) {
            *d = if a == 255 {
                c
            } else {
                ((u32::from(c) * a + 255 * (255 - a) + 127) / 255) as u8
            };
        }
    }
}

/// Steps 1–4: the 224×224 centre crop of the resized photo as interleaved 8-bit RGB (`224·224·3` bytes), e.g. to
/// save what the model sees.
pub fn photo_crop_rgb(width: u32, height: u32, rgba: &[u8]) -> Result<Vec<u8>> {
    validate(width, height, rgba)?;
    let (w, h) = (width as usize, height as usize);
    let (out_w, out_h) = resized_size(w, h);
    let (left, top) = ((out_w - SIDE) / 2, (out_h - SIDE) / 2);
    let fill = |y: usize, row: &mut [u8]| rgba_row_to_rgb(&rgba[y * w * 4..(y + 1) * w * 4], row);
    Ok(resize_window(&fill, (w, h, 3), (out_w, out_h), (left, top, SIDE, SIDE)))
}

/// The full recipe (steps 1–5): `3·224·224` values in `[0, 1]`, NCHW (channel-major, then rows).
pub fn preprocess_photo(width: u32, height: u32, rgba: &[u8]) -> Result<Vec<f32>> {
    let crop = photo_crop_rgb(width, height, rgba)?;
    Ok(rgb_to_chw(&crop))
}

/// Interleaved 224×224 RGB bytes → NCHW `f32 / 255`.
pub fn rgb_to_chw(rgb: &[u8]) -> Vec<f32> {
    let n = rgb.len() / 3;
    let mut x = vec![0f32; rgb.len()];
    for (i, p) in rgb.chunks_exact(3).enumerate() {
        for c in 0..3 {
            x[c * n + i] = f32::from(p[c]) / 255.0;
        }
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rgba_from(w: usize, h: usize, f: impl Fn(usize, usize, usize) -> u8) -> Vec<u8> {
        let mut v = Vec::with_capacity(w * h * 4);
        for y in 0..h {
            for x in 0..w {
                for c in 0..3 {
                    v.push(f(x, y, c));
                }
                v.push(255);
            }
        }
        v
    }

    /// FNV-1a, 64 bit, the same few lines as in the Python that computed the expected hashes.
    fn fnv1a(bytes: &[u8]) -> u64 {
        bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
        })
    }

    #[test]
    fn kernel_values_by_hand() {
        assert_eq!(bicubic(0.0), 1.0);
        assert_eq!(bicubic(0.25), 0.867_187_5);
        assert_eq!(bicubic(-0.75), 0.226_562_5);
        assert_eq!(bicubic(1.25), -0.070_312_5);
        assert_eq!(bicubic(1.0), 0.0);
        assert_eq!(bicubic(2.0), 0.0);
    }

    #[test]
    fn a_step_halved_by_hand() {
        // 4 → 2: scale 2, support 4, output 0 centred at 1.0 reads sources 0..4 at t = (x − 0.5)/2:
        // k(−0.25), k(0.25), k(0.75), k(1.25) = 0.8671875, 0.8671875, 0.2265625, −0.0703125, sum 1.890625, so
        // out0 = 255·(0.2265625 − 0.0703125)/1.890625 = 21.07 → 21 and, by symmetry, out1 = 233.93 → 234.
        let out = resize_bicubic(&[0, 0, 255, 255], (4, 1), 1, (2, 1)).unwrap();
        assert_eq!(out, vec![21, 234]);
    }

    fn pil_test_image() -> Vec<u8> {
        (0..7 * 5 * 3).map(|i| ((i * 37 + 11) % 256) as u8).collect()
    }

    #[test]
    fn equals_pillow_on_small_cases() {
        // Expected bytes from Pillow 11.3: Image.fromarray(pil_test_image as 5×7×3).resize(size, BICUBIC).
        let src = pil_test_image();
        let down = resize_bicubic(&src, (7, 5), 3, (3, 2)).unwrap();
        assert_eq!(
            down,
            vec![109, 91, 137, 167, 133, 101, 129, 175, 133, 87, 118, 157, 133, 99, 127, 156, 153, 79]
        );
        let squeeze = resize_bicubic(&src, (7, 5), 3, (7, 3)).unwrap();
        assert_eq!(
            squeeze,
            vec![
                14, 51, 88, 125, 162, 199, 244, 17, 54, 91, 128, 165, 202, 247, 20, 57, 94, 131, 168, 205, 250, 29, 66,
                103, 140, 177, 214, 197, 32, 69, 106, 143, 180, 217, 200, 35, 72, 109, 146, 183, 220, 55, 44, 81, 118,
                155, 192, 229, 2, 47, 84, 121, 158, 195, 232, 5, 50, 87, 124, 161, 198, 235, 8
            ]
        );
        let up = resize_bicubic(&src, (7, 5), 3, (11, 8)).unwrap();
        assert_eq!(up.len(), 11 * 8 * 3);
        assert_eq!(&up[..12], &[2, 39, 76, 50, 101, 138, 132, 153, 190, 220, 41, 78]);
        assert_eq!(up[up.len() - 1], 10);
    }

    #[test]
    fn full_recipe_equals_pillow() {
        // Expected FNV-1a hashes of Pillow's centre crop (ImageOps-free: resize short side 256 with BICUBIC,
        // crop at ⌊(side − 224)/2⌋) of these synthetic photos, computed with Pillow 11.3.
        let cases: [(usize, usize, u64); 3] = [
            (451, 300, PIL_451X300),
            (300, 1000, PIL_300X1000),
            (200, 150, PIL_200X150),
        ];
        for (w, h, want) in cases {
            let rgba = rgba_from(w, h, |x, y, c| ((x * 7 + y * 3 + c * 50 + (x * y) / 13) % 256) as u8);
            let crop = photo_crop_rgb(w as u32, h as u32, &rgba).unwrap();
            assert_eq!(crop.len(), SIDE * SIDE * 3);
            assert_eq!(fnv1a(&crop), want, "{w}×{h}");
        }
    }

    const PIL_451X300: u64 = 0xe831_703f_0c31_dcf2;
    const PIL_300X1000: u64 = 0xf3fc_89a8_4179_a24e;
    const PIL_200X150: u64 = 0x4173_8862_7095_ab50;

    #[test]
    fn constant_photo_stays_constant() {
        for &(w, h) in &[(300usize, 200usize), (256, 256), (64, 900), (1000, 999)] {
            let rgba = rgba_from(w, h, |_, _, c| [10u8, 128, 250][c]);
            let x = preprocess_photo(w as u32, h as u32, &rgba).unwrap();
            assert_eq!(x.len(), 3 * SIDE * SIDE);
            for c in 0..3 {
                let want = f32::from([10u8, 128, 250][c]) / 255.0;
                assert!(
                    x[c * SIDE * SIDE..(c + 1) * SIDE * SIDE].iter().all(|&v| v == want),
                    "{w}×{h} c{c}"
                );
            }
        }
    }

    #[test]
    fn output_is_nchw_in_unit_range() {
        // Red varies along x only, green along y only, blue is constant: a separable filter keeps that, so in
        // NCHW order every red column, every green row and the whole blue plane are constant.
        let rgba = rgba_from(320, 240, |x, y, c| [(x / 2) as u8, y as u8, 77][c]);
        let x = preprocess_photo(320, 240, &rgba).unwrap();
        assert_eq!(x.len(), 3 * SIDE * SIDE);
        assert!(x.iter().all(|v| (0.0..=1.0).contains(v)));
        let plane = |c: usize| &x[c * SIDE * SIDE..(c + 1) * SIDE * SIDE];
        for i in 0..SIDE {
            assert!(
                (0..SIDE).all(|r| plane(0)[r * SIDE + i] == plane(0)[i]),
                "red column {i}"
            );
            assert!(
                (0..SIDE).all(|col| plane(1)[i * SIDE + col] == plane(1)[i * SIDE]),
                "green row {i}"
            );
        }
        assert!(plane(0)[SIDE - 1] > plane(0)[0] && plane(1)[(SIDE - 1) * SIDE] > plane(1)[0]);
        assert!(plane(2).iter().all(|&v| v == 77.0 / 255.0));
    }

    #[test]
    fn resized_sizes() {
        assert_eq!(resized_size(451, 300), (384, 256));
        assert_eq!(resized_size(300, 451), (256, 384));
        assert_eq!(resized_size(256, 256), (256, 256));
        assert_eq!(resized_size(32, 8192), (256, 65536));
    }

    #[test]
    fn transparency_is_composited_over_white() {
        let mut rgba = rgba_from(64, 64, |_, _, _| 0);
        rgba.chunks_exact_mut(4).for_each(|p| p[3] = 0);
        let x = preprocess_photo(64, 64, &rgba).unwrap();
        assert!(x.iter().all(|&v| v == 1.0));
        // 200·128/255 + 127 = 227.4, 100·128/255 + 127 = 177.2, 0 + 127 = 127.5 (rounded down by the +127 bias of
        // (c·a + 255·(255 − a) + 127) / 255 = 32512 / 255 = 127.498).
        let mut rgb = [0u8; 3];
        rgba_row_to_rgb(&[200, 100, 0, 128], &mut rgb);
        assert_eq!(rgb, [227, 177, 127]);
    }

    #[test]
    fn bad_sizes_are_named_errors() {
        let one = rgba_from(1, 1, |_, _, _| 9);
        assert!(matches!(preprocess_photo(1, 1, &one), Err(Error::Image(_))));
        assert!(matches!(preprocess_photo(0, 0, &[]), Err(Error::Image(_))));
        // Huge declared sizes fail before any allocation (the buffer is tiny).
        let e = preprocess_photo(30_000, 30_000, &one).unwrap_err();
        assert!(matches!(&e, Error::Image(m) if m.contains("30000×30000")), "{e}");
        assert!(matches!(
            preprocess_photo(MAX_SIDE, MAX_SIDE, &one),
            Err(Error::Image(_))
        ));
        assert!(matches!(preprocess_photo(64, 64, &one), Err(Error::Image(_))));
        assert!(matches!(
            resize_bicubic(&[1, 2, 3], (2, 2), 1, (1, 1)),
            Err(Error::Image(_))
        ));
        assert!(matches!(resize_bicubic(&[1], (1, 1), 1, (0, 1)), Err(Error::Image(_))));
    }

    #[test]
    fn extreme_aspect_ratio_stays_bounded() {
        // 32×8192 → 256×65536, but only the 224×224 crop (and 224 columns of the source height) is computed.
        let rgba = rgba_from(32, 8192, |x, y, _| ((x + y) % 256) as u8);
        let crop = photo_crop_rgb(32, 8192, &rgba).unwrap();
        assert_eq!(crop.len(), SIDE * SIDE * 3);
    }
}
