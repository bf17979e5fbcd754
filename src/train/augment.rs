//! Data augmentation as [`BatchTransform`](super::BatchTransform) hooks.

use ndarray::{s, Array4};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::trainer::Batch;
use crate::error::Result;
use crate::nn::Model;

/// Shifts each image by a random whole number of pixels in `[-max_shift, max_shift]` along each axis, filling
/// with 0 (the background of MNIST and Fashion-MNIST). Handwritten digits are roughly translation-invariant, so
/// this is the classic cheap way to gain accuracy on MNIST. Draws two integers per image from the hook's stream.
pub fn random_shift(
    max_shift: usize,
) -> impl FnMut(&Model, Batch, &mut ChaCha8Rng) -> Result<Batch> {
    move |_, batch, rng| {
        if max_shift == 0 {
            return Ok(batch);
        }
        let (n, c, h, w) = batch.images.dim();
        let m = max_shift.min(1 << 16) as i32;
        let mut out = Array4::<f32>::zeros((n, c, h, w));
        for i in 0..n {
            let dy = rng.random_range(-m..=m) as isize;
            let dx = rng.random_range(-m..=m) as isize;
            // Destination rows/cols [d0, d1) take source rows/cols [d0 - d, d1 - d).
            let span = |d: isize, len: usize| {
                let lo = d.max(0).min(len as isize) as usize;
                let hi = (len as isize + d).clamp(0, len as isize) as usize;
                (lo, hi.max(lo))
            };
            let ((y0, y1), (x0, x1)) = (span(dy, h), span(dx, w));
            if y0 == y1 || x0 == x1 {
                continue;
            }
            let src = batch.images.slice(s![
                i,
                ..,
                (y0 as isize - dy) as usize..(y1 as isize - dy) as usize,
                (x0 as isize - dx) as usize..(x1 as isize - dx) as usize
            ]);
            out.slice_mut(s![i, .., y0..y1, x0..x1]).assign(&src);
        }
        Ok(Batch {
            images: out,
            labels: batch.labels,
        })
    }
}
