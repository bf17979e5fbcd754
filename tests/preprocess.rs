//! The MNIST recipe on synthetic drawings and on real MNIST digits re-rendered as large RGBA images.

use advlab::data::dataset::{dataset_dir, load, DatasetName, Split};
use advlab::data::preprocess::{
    check_dims, from_gray28, gray_to_rgba, preprocess_gray, preprocess_rgba, to_gray_u8, Invert, Options, Preprocessed,
    CENTER, FIT, MAX_PIXELS, MAX_SIDE, SIDE,
};
use advlab::Error;

const AUTO: Options = Options { invert: Invert::Auto };

/// An RGBA canvas filled with one colour.
struct Canvas {
    w: usize,
    h: usize,
    rgba: Vec<u8>,
}

impl Canvas {
    fn new(w: usize, h: usize, fill: [u8; 4]) -> Self {
        Canvas {
            w,
            h,
            rgba: fill.repeat(w * h),
        }
    }

    fn set(&mut self, x: usize, y: usize, c: [u8; 4]) {
        let i = 4 * (y * self.w + x);
        self.rgba[i..i + 4].copy_from_slice(&c);
    }

    /// A round-capped stroke of radius `r` from `a` to `b`, hard-edged.
    fn stroke(&mut self, a: (f32, f32), b: (f32, f32), r: f32, c: [u8; 4]) {
        for y in 0..self.h {
            for x in 0..self.w {
                let p = (x as f32 + 0.5, y as f32 + 0.5);
                let (dx, dy) = (b.0 - a.0, b.1 - a.1);
                let t = (((p.0 - a.0) * dx + (p.1 - a.1) * dy) / (dx * dx + dy * dy)).clamp(0.0, 1.0);
                let (qx, qy) = (a.0 + t * dx - p.0, a.1 + t * dy - p.1);
                if qx * qx + qy * qy <= r * r {
                    self.set(x, y, c);
                }
            }
        }
    }

    fn rect(&mut self, x0: usize, y0: usize, w: usize, h: usize, c: [u8; 4]) {
        for y in y0..y0 + h {
            for x in x0..x0 + w {
                self.set(x, y, c);
            }
        }
    }

    fn run(&self, opts: &Options) -> Preprocessed {
        preprocess_rgba(&self.rgba, self.w as u32, self.h as u32, opts).unwrap()
    }
}

const WHITE: [u8; 4] = [255, 255, 255, 255];
const BLACK: [u8; 4] = [0, 0, 0, 255];
const CLEAR: [u8; 4] = [0, 0, 0, 0];

/// Centre of mass in index coordinates (row, column).
fn com(px: &[f32]) -> (f32, f32) {
    let (mut m, mut r, mut c) = (0.0, 0.0, 0.0);
    for (i, &v) in px.iter().enumerate() {
        m += v;
        r += v * (i / SIDE) as f32;
        c += v * (i % SIDE) as f32;
    }
    (r / m, c / m)
}

/// Bounding box of the non-zero pixels: (row0, col0, rows, cols).
fn bbox(px: &[f32]) -> (usize, usize, usize, usize) {
    let on: Vec<(usize, usize)> = (0..px.len())
        .filter(|&i| px[i] > 0.0)
        .map(|i| (i / SIDE, i % SIDE))
        .collect();
    let r0 = on.iter().map(|p| p.0).min().unwrap();
    let r1 = on.iter().map(|p| p.0).max().unwrap();
    let c0 = on.iter().map(|p| p.1).min().unwrap();
    let c1 = on.iter().map(|p| p.1).max().unwrap();
    (r0, c0, r1 - r0 + 1, c1 - c0 + 1)
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

fn mean_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).sum::<f32>() / a.len() as f32
}

/// A "7": two strokes, off-centre on a 300×240 canvas.
fn seven(bg: [u8; 4], ink: [u8; 4]) -> Canvas {
    let mut c = Canvas::new(300, 240, bg);
    c.stroke((40.0, 30.0), (150.0, 35.0), 7.0, ink);
    c.stroke((150.0, 35.0), (80.0, 200.0), 7.0, ink);
    c
}

#[test]
fn drawn_stroke_is_centred_and_fits_20x20() {
    let p = seven(BLACK, WHITE).run(&AUTO);
    assert!(!p.empty && !p.inverted);
    assert_eq!(p.pixels.len(), SIDE * SIDE);
    assert!(p.pixels.iter().all(|&v| (0.0..=1.0).contains(&v)));
    let (r, c) = com(&p.pixels);
    assert!(
        (r - CENTER).abs() <= 0.5 && (c - CENTER).abs() <= 0.5,
        "centre of mass ({r}, {c})"
    );
    let (_, _, rows, cols) = bbox(&p.pixels);
    assert_eq!(rows.max(cols), FIT, "the longer side fills the 20-pixel box");
    assert!(rows <= FIT && cols <= FIT);
    // The ink spans 124 × 184 source pixels: the aspect ratio is kept to within a pixel.
    let want = 20.0 * 124.0 / 184.0;
    assert!((cols as f32 - want).abs() <= 1.0, "{cols} columns, want ≈ {want}");
    assert!(
        p.pixels.iter().cloned().fold(0.0, f32::max) > 0.9999,
        "strokes saturate"
    );
}

#[test]
fn aspect_ratio_of_a_rectangle_is_exact() {
    let mut c = Canvas::new(300, 200, BLACK);
    c.rect(30, 70, 100, 50, WHITE);
    let p = c.run(&AUTO);
    let (r0, c0, rows, cols) = bbox(&p.pixels);
    assert_eq!((rows, cols), (10, 20));
    // A uniform block stays uniform (area averaging of a full-coverage region). Its centre (4.5, 9.5) in the
    // box goes to 14 + 0.5 (ties round away from zero): offsets (10, 5).
    assert!(p.pixels.iter().all(|&v| v == 0.0 || (v - 1.0).abs() < 1e-5));
    assert_eq!((r0, c0), (10, 5));
    let (r, col) = com(&p.pixels);
    assert!((r - 14.5).abs() < 1e-4 && (col - 14.5).abs() < 1e-4, "({r}, {col})");
    // A tall one: 30 × 90.
    let mut c = Canvas::new(200, 200, BLACK);
    c.rect(10, 10, 30, 90, WHITE);
    let (_, _, rows, cols) = bbox(&c.run(&AUTO).pixels);
    assert_eq!((rows, cols), (20, 7)); // 30 · 20/90 = 6.67 → 7
}

#[test]
fn dark_ink_on_light_paper_is_inverted() {
    let bright = seven(BLACK, WHITE).run(&AUTO);
    let dark = seven(WHITE, BLACK).run(&AUTO);
    assert!(dark.inverted && !dark.empty);
    assert!(max_abs_diff(&dark.pixels, &bright.pixels) < 1e-6);
    // Grey paper and grey pencil: the levels step restores black background and saturated strokes.
    let pencil = seven([200, 190, 180, 255], [90, 90, 100, 255]).run(&AUTO);
    assert!(pencil.inverted);
    assert!(max_abs_diff(&pencil.pixels, &bright.pixels) < 1e-6);
    // Forcing the polarity: `Yes` on a drawing on black reproduces the inverted one's input; `No` on paper
    // finds no bright ink.
    let forced = seven(WHITE, BLACK).run(&Options { invert: Invert::Yes });
    assert_eq!(forced, dark);
    let refused = seven(WHITE, BLACK).run(&Options { invert: Invert::No });
    assert!(refused.empty && !refused.inverted);
}

#[test]
fn transparency_is_composited_against_the_ink() {
    let bright = seven(BLACK, WHITE).run(&AUTO);
    // The page's transparent canvas with white strokes.
    let white_on_clear = seven(CLEAR, WHITE).run(&AUTO);
    assert!(!white_on_clear.inverted);
    assert!(max_abs_diff(&white_on_clear.pixels, &bright.pixels) < 1e-6);
    // Black ink on a transparent background (e.g. a scanned signature): composited over white, then inverted.
    let black_on_clear = seven(CLEAR, BLACK).run(&AUTO);
    assert!(black_on_clear.inverted);
    assert!(max_abs_diff(&black_on_clear.pixels, &bright.pixels) < 1e-6);
    // Half-transparent white ink counts half.
    let faint = seven(CLEAR, [255, 255, 255, 128]).run(&AUTO);
    assert!(
        max_abs_diff(&faint.pixels, &bright.pixels) < 1e-6,
        "levels stretch the faint ink to 1"
    );
    // Nothing visible at all.
    let p = Canvas::new(50, 50, CLEAR).run(&AUTO);
    assert!(p.empty && p.pixels.iter().all(|&v| v == 0.0));
}

#[test]
fn blank_inputs_are_empty_not_errors() {
    for fill in [BLACK, WHITE, [128, 128, 128, 255], [30, 30, 30, 255]] {
        let p = Canvas::new(64, 48, fill).run(&AUTO);
        assert!(p.empty, "{fill:?}");
        assert_eq!(p.pixels, vec![0.0; 784]);
    }
    // Faint noise below the contrast threshold.
    let mut c = Canvas::new(64, 48, BLACK);
    c.set(10, 10, [20, 20, 20, 255]);
    assert!(c.run(&AUTO).empty);
    // But one clear dot is ink.
    c.set(30, 20, WHITE);
    let p = c.run(&AUTO);
    assert!(!p.empty);
    let (r, col) = com(&p.pixels);
    assert!((r - CENTER).abs() <= 0.5 && (col - CENTER).abs() <= 0.5);
}

#[test]
fn large_images_are_area_averaged_without_aliasing() {
    // 400×400 of one-pixel vertical stripes: every output pixel averages 20 columns, 10 of them lit.
    let mut c = Canvas::new(600, 600, BLACK);
    for x in (100..500).step_by(2) {
        c.rect(x, 100, 1, 400, WHITE);
    }
    let p = c.run(&AUTO);
    let (r0, c0, rows, cols) = bbox(&p.pixels);
    assert_eq!((rows, cols), (20, 20));
    for r in r0..r0 + rows {
        for col in c0..c0 + cols {
            let v = p.pixels[r * SIDE + col];
            assert!((v - 0.5).abs() < 0.03, "pixel ({r}, {col}) = {v}: aliasing");
        }
    }
}

#[test]
fn tiny_inputs_are_enlarged() {
    let mut c = Canvas::new(5, 5, BLACK);
    c.set(2, 1, WHITE);
    c.set(2, 2, WHITE);
    c.set(2, 3, WHITE);
    let p = c.run(&AUTO);
    let (_, _, rows, cols) = bbox(&p.pixels);
    assert_eq!((rows, cols), (20, 7));
    let (r, col) = com(&p.pixels);
    assert!((r - CENTER).abs() <= 0.5 && (col - CENTER).abs() <= 0.5);
    // A single pixel image: its own border, white → inverted → blank.
    assert!(Canvas::new(1, 1, WHITE).run(&AUTO).empty);
}

#[test]
fn bad_dimensions_are_image_errors() {
    let is_image_err = |r: advlab::Result<Preprocessed>| matches!(r, Err(Error::Image(_)));
    assert!(is_image_err(preprocess_rgba(&[], 0, 0, &AUTO)));
    assert!(is_image_err(preprocess_rgba(&[0; 4], 0, 1, &AUTO)));
    assert!(is_image_err(preprocess_rgba(&[0; 16], 2, 3, &AUTO)));
    assert!(is_image_err(preprocess_rgba(&[0; 15], 2, 2, &AUTO)));
    assert!(is_image_err(preprocess_rgba(&[], MAX_SIDE + 1, 1, &AUTO)));
    assert!(is_image_err(preprocess_rgba(&[], 1, MAX_SIDE + 1, &AUTO)));
    let side = (MAX_PIXELS as f64).sqrt() as u32 + 1;
    assert!(side <= MAX_SIDE);
    assert!(is_image_err(preprocess_rgba(&[], side, side, &AUTO)));
    assert!(is_image_err(preprocess_gray(&[0; 5], 2, 2, &AUTO)));
    // u32 overflow of w·h·4 must not wrap on 32-bit targets.
    assert!(check_dims(u32::MAX, u32::MAX, 0, 4).is_err());
    assert!(check_dims(3, 2, 24, 4).is_ok());
    assert!(matches!(from_gray28(&[0; 783]), Err(Error::Image(_))));
    assert!(matches!("maybe".parse::<Invert>(), Err(Error::InvalidParameter { .. })));
    assert_eq!("true".parse::<Invert>().unwrap(), Invert::Yes);
}

#[test]
fn gray_helpers_roundtrip() {
    let bytes: Vec<u8> = (0..784).map(|i| (i % 256) as u8).collect();
    let x = from_gray28(&bytes).unwrap();
    assert_eq!(x[255], 1.0);
    assert_eq!(to_gray_u8(&x), bytes);
    assert_eq!(to_gray_u8(&[-1.0, 2.0, f32::NAN]), vec![0, 255, 0]);
    assert_eq!(gray_to_rgba(&[0.5]), vec![128, 128, 128, 255]);
}

/// Mean abs diff after the best shift of `a` by at most one pixel each way. Centring by whole pixels may round a
/// centre of mass near x.5 the other way than MNIST did, and faint edge pixels below the ink threshold do not count
/// for the crop; either moves the digit by one pixel without changing it.
fn aligned_diff(a: &[f32], b: &[f32]) -> f32 {
    let mut best = f32::INFINITY;
    for dy in -1i32..=1 {
        for dx in -1i32..=1 {
            let mut shifted = vec![0.0; SIDE * SIDE];
            for (i, &v) in a.iter().enumerate() {
                let (r, c) = ((i / SIDE) as i32 + dy, (i % SIDE) as i32 + dx);
                if (0..SIDE as i32).contains(&r) && (0..SIDE as i32).contains(&c) {
                    shifted[r as usize * SIDE + c as usize] = v;
                }
            }
            best = best.min(mean_abs_diff(&shifted, b));
        }
    }
    best
}

/// Draws a 28×28 digit at `scale`× (nearest neighbour) at (`x0`, `y0`) on a `w`×`h` canvas.
fn render(digit: &[f32], scale: usize, w: usize, h: usize, x0: usize, y0: usize, dark_on_light: bool) -> Canvas {
    let mut c = Canvas::new(w, h, if dark_on_light { WHITE } else { BLACK });
    for (i, &v) in digit.iter().enumerate() {
        let g = (v * 255.0).round() as u8;
        let g = if dark_on_light { 255 - g } else { g };
        c.rect(
            x0 + (i % SIDE) * scale,
            y0 + (i / SIDE) * scale,
            scale,
            scale,
            [g, g, g, 255],
        );
    }
    c
}

#[test]
fn real_mnist_digits_survive_the_recipe() {
    if let Err(e) = dataset_dir(DatasetName::Mnist) {
        eprintln!("note: skipping, MNIST not present: {e}");
        return;
    }
    let ds = load(DatasetName::Mnist, Split::Test, Some(100)).unwrap();
    let px = ds.images.as_slice().unwrap();
    let (mut total, mut worst) = (0.0, 0.0f32);
    for i in 0..ds.len() {
        let digit = &px[i * 784..(i + 1) * 784];
        let cases = [
            render(digit, 4, 112, 112, 0, 0, false),
            render(digit, 3, 400, 300, 170, 20, true),
        ];
        for c in cases {
            let p = c.run(&AUTO);
            assert!(!p.empty);
            total += mean_abs_diff(&p.pixels, digit);
            worst = worst.max(aligned_diff(&p.pixels, digit));
        }
    }
    let mean = total / (2 * ds.len()) as f32;
    eprintln!("mean abs diff {mean}; worst image, up to a one-pixel shift: {worst}");
    assert!(mean < 0.005, "mean abs diff {mean}");
    assert!(worst < 0.02, "worst image {worst}");
}
