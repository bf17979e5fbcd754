//! MNIST's own recipe, applied to a drawn or uploaded image so that the models see what they were trained on.
//!
//! LeCun et al. (1998) describe MNIST as follows: the digits were "size normalized to fit in a 20x20 pixel box
//! while preserving their aspect ratio", anti-aliased to grey levels, and "centered in a 28x28 image by computing
//! the center of mass of the pixels, and translating the image so as to position this point at the center of the
//! 28x28 field". Fashion-MNIST follows the same layout. [`preprocess_rgba`] does exactly that:
//!
//! 1. **Validate** the buffer: `width, height ≥ 1`, `len == width·height·4`, neither side above [`MAX_SIDE`] and at
//!    most [`MAX_PIXELS`] pixels (the page downscales huge images before calling).
//! 2. **Grey** by Rec. 601 luma. If the image has transparency, it is composited over the background that
//!    contrasts with its visible content: black behind light ink (the page's transparent drawing canvas with white
//!    strokes), white behind dark ink (a scanned signature saved as a transparent PNG).
//! 3. **Polarity**: MNIST is bright ink on a black background. With [`Invert::Auto`] the image is inverted when the
//!    mean of its border pixels is light, which is the case for dark ink on paper.
//! 4. **Levels**: the median of the border becomes 0 and the brightest pixel 1, so a grey sheet of paper or a
//!    faint pencil line still gives MNIST's black background and saturated strokes. For a drawing on black this
//!    changes nothing. If the brightest pixel is less than [`MIN_CONTRAST`] above the background, the image is
//!    blank: the result is all zeros with `empty: true` (not an error).
//! 5. **Crop** to the bounding box of the pixels above [`INK_THRESHOLD`]; the weaker ones are treated as noise.
//! 6. **Fit 20×20** keeping the aspect ratio: the longer side becomes 20 pixels. Shrinking uses area averaging
//!    (each output pixel is the mean of the source area it covers, a box filter), so a large photo does not alias;
//!    the rare enlargement of a tiny crop uses bilinear interpolation.
//! 7. **Centre of mass**: the 20×20 box is placed in the 28×28 frame, shifted by whole pixels so that the
//!    intensity-weighted centre of mass lands on pixel (14, 14) (index coordinates, rows and columns `0..28`; this
//!    is where MNIST's own test digits have it on average). The shift is clamped so that no ink leaves the frame.
//!
//! Shared by the CLI (`advlab attack <png>`) and the page (through `web`); pure Rust, no allocation larger than
//! one grey byte per input pixel.

use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// Side of the output image.
pub const SIDE: usize = 28;
/// Side of the box the ink is fitted into.
pub const FIT: usize = 20;
/// The centre of mass is moved to this pixel (row and column, index coordinates).
pub const CENTER: f32 = 14.0;
/// Longest accepted side of an input image.
pub const MAX_SIDE: u32 = 8192;
/// Most pixels accepted in an input image (40 M: a 160 MB RGBA buffer).
pub const MAX_PIXELS: u64 = 40_000_000;
/// Pixels at or below this level (after the levels step, in `[0, 1]`) do not count as ink for the crop.
pub const INK_THRESHOLD: f32 = 0.1;
/// Smallest difference between the brightest pixel and the background (in `[0, 1]`) that counts as ink.
pub const MIN_CONTRAST: f32 = 0.1;

/// Whether to invert the grey image so that the ink is bright on dark, as in MNIST.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Invert {
    /// Invert when the border of the image is light (dark ink on paper).
    #[default]
    Auto,
    /// Always invert.
    Yes,
    /// Never invert.
    No,
}

impl FromStr for Invert {
    type Err = Error;

    /// Accepts `auto`, `yes` / `true`, `no` / `false`.
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(Invert::Auto),
            "yes" | "true" => Ok(Invert::Yes),
            "no" | "false" => Ok(Invert::No),
            _ => Err(Error::param(
                "invert",
                format!("expected `auto`, `yes` or `no`, got `{s}`"),
            )),
        }
    }
}

/// Options of [`preprocess_rgba`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Options {
    /// Polarity handling; [`Invert::Auto`] by default.
    pub invert: Invert,
}

/// The result of the recipe.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Preprocessed {
    /// 28×28 = 784 values, row-major, in `[0, 1]`, bright ink on black.
    pub pixels: Vec<f32>,
    /// True if the grey image was inverted (dark ink on a light background).
    pub inverted: bool,
    /// True if no ink was found; `pixels` are then all zero.
    pub empty: bool,
}

impl Preprocessed {
    fn blank(inverted: bool) -> Self {
        Preprocessed {
            pixels: vec![0.0; SIDE * SIDE],
            inverted,
            empty: true,
        }
    }
}

/// Checks the size of an image buffer with `channels` bytes per pixel against the limits of this module.
pub fn check_dims(width: u32, height: u32, len: usize, channels: usize) -> Result<()> {
    if width == 0 || height == 0 {
        return Err(Error::Image(format!(
            "the image is {width}×{height}; both sides must be at least 1 pixel"
        )));
    }
    if width > MAX_SIDE || height > MAX_SIDE {
        return Err(Error::Image(format!(
            "the image is {width}×{height}; the longest side may be at most {MAX_SIDE} pixels"
        )));
    }
    let pixels = u64::from(width) * u64::from(height);
    if pixels > MAX_PIXELS {
        return Err(Error::Image(format!(
            "the image has {pixels} pixels ({width}×{height}); at most {MAX_PIXELS} are accepted"
        )));
    }
    let want = pixels * channels as u64;
    if len as u64 != want {
        return Err(Error::Image(format!(
            "a {width}×{height} image with {channels} bytes per pixel needs {want} bytes, got {len}"
        )));
    }
    Ok(())
}

/// Runs the recipe on an RGBA buffer (4 bytes per pixel, row-major, not premultiplied: what the browser's
/// `getImageData` and [`crate::data::image_io::read_png`] give).
pub fn preprocess_rgba(rgba: &[u8], width: u32, height: u32, opts: &Options) -> Result<Preprocessed> {
    check_dims(width, height, rgba.len(), 4)?;
    let luma = |p: &[u8]| (299 * u32::from(p[0]) + 587 * u32::from(p[1]) + 114 * u32::from(p[2]) + 500) / 1000;
    let has_alpha = rgba.chunks_exact(4).any(|p| p[3] < 255);
    let gray: Vec<u8> = if has_alpha {
        // Alpha-weighted mean luma of the visible content decides the background it is composited over.
        let (mut sum, mut weight) = (0u64, 0u64);
        for p in rgba.chunks_exact(4) {
            sum += u64::from(luma(p)) * u64::from(p[3]);
            weight += u64::from(p[3]);
        }
        if weight == 0 {
            return Ok(Preprocessed::blank(false));
        }
        let bg = if sum >= 128 * weight { 0 } else { 255 };
        rgba.chunks_exact(4)
            .map(|p| {
                let a = u32::from(p[3]);
                ((luma(p) * a + bg * (255 - a) + 127) / 255) as u8
            })
            .collect()
    } else {
        rgba.chunks_exact(4).map(|p| luma(p) as u8).collect()
    };
    preprocess_gray_owned(gray, width as usize, height as usize, opts)
}

/// Runs the recipe (from step 3) on a grey buffer, one byte per pixel, row-major.
pub fn preprocess_gray(gray: &[u8], width: u32, height: u32, opts: &Options) -> Result<Preprocessed> {
    check_dims(width, height, gray.len(), 1)?;
    preprocess_gray_owned(gray.to_vec(), width as usize, height as usize, opts)
}

/// Histogram of the outermost ring of pixels.
fn border_histogram(gray: &[u8], w: usize, h: usize) -> [u64; 256] {
    let mut hist = [0u64; 256];
    for y in 0..h {
        let row = &gray[y * w..(y + 1) * w];
        if y == 0 || y == h - 1 {
            row.iter().for_each(|&v| hist[v as usize] += 1);
        } else {
            hist[row[0] as usize] += 1;
            if w > 1 {
                hist[row[w - 1] as usize] += 1;
            }
        }
    }
    hist
}

fn preprocess_gray_owned(mut gray: Vec<u8>, w: usize, h: usize, opts: &Options) -> Result<Preprocessed> {
    let mut hist = border_histogram(&gray, w, h);
    let count: u64 = hist.iter().sum();
    let mean = hist.iter().enumerate().map(|(v, &c)| v as u64 * c).sum::<u64>() as f64 / count as f64;
    let inverted = match opts.invert {
        Invert::Auto => mean > 127.5,
        Invert::Yes => true,
        Invert::No => false,
    };
    if inverted {
        gray.iter_mut().for_each(|v| *v = 255 - *v);
        hist.reverse();
    }
    // Levels: border median → 0, brightest pixel → 1.
    let mut seen = 0u64;
    let background = hist
        .iter()
        .position(|&c| {
            seen += c;
            2 * seen >= count
        })
        .unwrap_or(0) as f32;
    let peak = f32::from(gray.iter().copied().max().unwrap_or(0));
    if peak - background < MIN_CONTRAST * 255.0 {
        return Ok(Preprocessed::blank(inverted));
    }
    let range = peak - background;
    let level = |v: u8| ((f32::from(v) - background) / range).clamp(0.0, 1.0);

    // Crop: bounding box of the pixels above the ink threshold.
    let cut = background + INK_THRESHOLD * range;
    let (mut x0, mut y0, mut x1, mut y1) = (usize::MAX, usize::MAX, 0usize, 0usize);
    for (y, row) in gray.chunks_exact(w).enumerate() {
        let first = row.iter().position(|&v| f32::from(v) > cut);
        if let Some(first) = first {
            let last = row.iter().rposition(|&v| f32::from(v) > cut).unwrap_or(first);
            x0 = x0.min(first);
            x1 = x1.max(last + 1);
            y0 = y0.min(y);
            y1 = y + 1;
        }
    }
    if x0 == usize::MAX {
        return Ok(Preprocessed::blank(inverted));
    }
    let (bw, bh) = (x1 - x0, y1 - y0);

    // Fit into FIT×FIT keeping the aspect ratio.
    let scale = FIT as f64 / bw.max(bh) as f64;
    let tw = ((bw as f64 * scale).round() as usize).clamp(1, FIT);
    let th = ((bh as f64 * scale).round() as usize).clamp(1, FIT);
    let wx = axis_weights(bw, tw);
    let wy = axis_weights(bh, th);
    // Horizontal pass over the crop's rows (bh × tw), then vertical (th × tw): never more than 20 values per row.
    let mut rows = vec![0f32; bh * tw];
    for (y, out) in rows.chunks_exact_mut(tw).enumerate() {
        let src = &gray[(y0 + y) * w + x0..(y0 + y) * w + x1];
        for (o, ws) in out.iter_mut().zip(&wx) {
            *o = ws.iter().map(|&(j, k)| k * level(src[j])).sum();
        }
    }
    let mut small = vec![0f32; th * tw];
    for (out_row, ws) in small.chunks_exact_mut(tw).zip(&wy) {
        for &(j, k) in ws {
            let src = &rows[j * tw..(j + 1) * tw];
            out_row.iter_mut().zip(src).for_each(|(o, &s)| *o += k * s);
        }
    }

    // Centre of mass → pixel (CENTER, CENTER), by whole pixels, clamped inside the frame.
    let (mut mass, mut mx, mut my) = (0f64, 0f64, 0f64);
    for (y, row) in small.chunks_exact(tw).enumerate() {
        for (x, &v) in row.iter().enumerate() {
            let v = f64::from(v);
            mass += v;
            mx += v * x as f64;
            my += v * y as f64;
        }
    }
    if mass <= 0.0 {
        return Ok(Preprocessed::blank(inverted));
    }
    let place = |com: f64, size: usize| -> usize {
        let off = (f64::from(CENTER) - com).round();
        off.clamp(0.0, (SIDE - size) as f64) as usize
    };
    let ox = place(mx / mass, tw);
    let oy = place(my / mass, th);
    let mut pixels = vec![0f32; SIDE * SIDE];
    for (y, row) in small.chunks_exact(tw).enumerate() {
        let dst = &mut pixels[(oy + y) * SIDE + ox..(oy + y) * SIDE + ox + tw];
        dst.iter_mut().zip(row).for_each(|(d, &s)| *d = s.clamp(0.0, 1.0));
    }
    Ok(Preprocessed {
        pixels,
        inverted,
        empty: false,
    })
}

/// Resampling weights along one axis from `src` to `dst` pixels: for each output pixel, `(source index, weight)`
/// pairs summing to 1. Area averaging when shrinking, bilinear (pixel centres aligned) when enlarging.
fn axis_weights(src: usize, dst: usize) -> Vec<Vec<(usize, f32)>> {
    let ratio = src as f64 / dst as f64;
    (0..dst)
        .map(|i| {
            if dst <= src {
                let (lo, hi) = (i as f64 * ratio, (i + 1) as f64 * ratio);
                let (first, last) = (lo.floor() as usize, (hi.ceil() as usize).min(src));
                (first..last)
                    .filter_map(|j| {
                        let overlap = hi.min(j as f64 + 1.0) - lo.max(j as f64);
                        (overlap > 1e-9).then_some((j, (overlap / ratio) as f32))
                    })
                    .collect()
            } else {
                let pos = ((i as f64 + 0.5) * ratio - 0.5).clamp(0.0, (src - 1) as f64);
                let j0 = pos.floor() as usize;
                let j1 = (j0 + 1).min(src - 1);
                let t = (pos - j0 as f64) as f32;
                if j1 == j0 || t == 0.0 {
                    vec![(j0, 1.0)]
                } else {
                    vec![(j0, 1.0 - t), (j1, t)]
                }
            }
        })
        .collect()
}

/// Converts a 28×28 grey image (784 bytes, e.g. one MNIST record) into model input in `[0, 1]` (`u8 / 255`).
pub fn from_gray28(bytes: &[u8]) -> Result<Vec<f32>> {
    if bytes.len() != SIDE * SIDE {
        return Err(Error::Image(format!(
            "a 28×28 grey image has {} bytes, got {}",
            SIDE * SIDE,
            bytes.len()
        )));
    }
    Ok(bytes.iter().map(|&b| f32::from(b) / 255.0).collect())
}

/// Converts values in `[0, 1]` to grey bytes (rounded, clamped; NaN becomes 0). Any length.
pub fn to_gray_u8(values: &[f32]) -> Vec<u8> {
    values
        .iter()
        .map(|&v| {
            if v.is_nan() {
                0
            } else {
                (v.clamp(0.0, 1.0) * 255.0).round() as u8
            }
        })
        .collect()
}

/// Renders grey values in `[0, 1]` as an opaque RGBA buffer (white ink on black), for a canvas or a PNG.
pub fn gray_to_rgba(values: &[f32]) -> Vec<u8> {
    to_gray_u8(values).into_iter().flat_map(|g| [g, g, g, 255]).collect()
}
