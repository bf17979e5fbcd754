//! "Is this input like the training data?": the overconfidence caveat of the page's verdict.
//!
//! A classifier gives every input one of its classes, often with a high softmax probability, even when the input
//! is nothing like what it learned from: a photo of a house reads as "2 (99 %)" on an MNIST model. The softmax
//! is no measure of familiarity (Hendrycks & Gimpel 2017, "A Baseline for Detecting Misclassified and
//! Out-of-Distribution Examples in Neural Networks", ICLR; Nguyen et al. 2015, "Deep Neural Networks are Easily
//! Fooled"). So the caveat looks at the input itself, not at the model.
//!
//! **The rule, for MNIST digits** (the 28×28 image the model sees, after the preprocessing recipe): a handwritten
//! digit is a pen stroke, nearly black or white, with a thin grey rim from the anti-aliasing. Two numbers
//! describe that ([`ink_profile`]):
//!
//! * `grey`: the fraction of pixels that are mid-grey, `64/255 < v < 192/255`;
//! * `ink`: the fraction of pixels that are ink, `v > 127/255`.
//!
//! Over the 60 000 MNIST training digits (measured; `tests/familiar.rs` re-measures): `ink` lies in
//! 0.019–0.398 (median 0.129), `grey` is at most 0.111, and `grey / ink` at most 1.60 (median 0.38). An input
//! outside any of these ranges, with a margin, is unlike every training digit, and the page says so next to the
//! verdict ([`Unfamiliar::reason`]):
//!
//! | reason | rule | limit | a photo through the MNIST recipe |
//! |---|---|---|---|
//! | `faint` | `ink <` [`MNIST_INK_MIN`] | 0.015 | the rocket: 0.001 (the recipe keeps only a few faint marks) |
//! | `soft` | `grey / ink >` [`MNIST_SOFT_MAX`] | 2.0 | the cat: 2.9, the coffee cup: 3.2 (grey texture, not strokes) |
//! | `grey` | `grey >` [`MNIST_GREY_MAX`] | 0.12 | |
//! | `ink` | `ink >` [`MNIST_INK_MAX`] | 0.42 | |
//!
//! None of the 10 000 test digits is flagged. The rule looks only at the pixels' tones, so a picture made of
//! flat, stroke-like shapes passes: the cameraman photo becomes one dark blob with the tones of a thick digit,
//! and is not flagged. A stronger test would measure the distance to the training data in the model's own
//! features (Lee et al. 2018, "A Simple Unified Framework for Detecting Out-of-Distribution Samples and
//! Adversarial Attacks"), at the price of per-model statistics in every weight file.
//!
//! Fashion-MNIST's clothes are grey photographs themselves (`grey` reaches 0.82 on its training set), so these
//! numbers say nothing there and no rule is applied (`None` for every input); nor for photo models, whose
//! ImageNet classes cover most of what a camera sees.

/// The share of an image's pixels in the two bands of [`ink_profile`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InkProfile {
    /// Pixels with `64/255 < v < 192/255`, as a fraction of all.
    pub grey: f32,
    /// Pixels with `v > 127/255`, as a fraction of all.
    pub ink: f32,
}

/// Why an input is unlike the training data: which rule, the input's value, and the rule's limit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Unfamiliar {
    /// `"faint"`, `"soft"`, `"grey"` or `"ink"` (the module docs' table).
    pub reason: &'static str,
    pub value: f32,
    pub limit: f32,
}

/// The largest mid-grey share accepted on MNIST: the training maximum 0.111, plus 0.009.
pub const MNIST_GREY_MAX: f32 = 0.12;
/// The largest ink share accepted on MNIST: the training maximum 0.398, plus 0.022.
pub const MNIST_INK_MAX: f32 = 0.42;
/// The smallest ink share accepted on MNIST: the training minimum 0.019, less 0.004.
pub const MNIST_INK_MIN: f32 = 0.015;
/// The largest `grey / ink` accepted on MNIST: the training maximum 1.60, plus 0.4.
pub const MNIST_SOFT_MAX: f32 = 2.0;

/// [`InkProfile`] of pixels in `[0, 1]`.
pub fn ink_profile(x: &[f32]) -> InkProfile {
    let n = x.len().max(1) as f32;
    let grey = x.iter().filter(|&&v| v > 64.0 / 255.0 && v < 192.0 / 255.0).count() as f32 / n;
    let ink = x.iter().filter(|&&v| v > 127.0 / 255.0).count() as f32 / n;
    InkProfile { grey, ink }
}

/// The caveat for input `x` of a model trained on `dataset`, or `None` when `x` is like the training data (or
/// when the dataset has no rule: see the module docs).
pub fn unfamiliar(dataset: &str, x: &[f32]) -> Option<Unfamiliar> {
    if dataset != "mnist" {
        return None;
    }
    let p = ink_profile(x);
    let flag = |reason, value, limit| Some(Unfamiliar { reason, value, limit });
    if p.ink < MNIST_INK_MIN {
        return flag("faint", p.ink, MNIST_INK_MIN);
    }
    if p.grey > MNIST_SOFT_MAX * p.ink {
        return flag("soft", p.grey / p.ink, MNIST_SOFT_MAX);
    }
    if p.grey > MNIST_GREY_MAX {
        return flag("grey", p.grey, MNIST_GREY_MAX);
    }
    if p.ink > MNIST_INK_MAX {
        return flag("ink", p.ink, MNIST_INK_MAX);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clean_stroke_passes_and_grey_texture_or_a_filled_block_does_not() {
        // A 1-pixel-rimmed vertical bar: ink 4 columns × 20 rows, grey rims 2 × 20.
        let mut bar = vec![0.0f32; 784];
        for r in 4..24 {
            for c in 12..16 {
                bar[r * 28 + c] = 1.0;
            }
            bar[r * 28 + 11] = 0.5;
            bar[r * 28 + 16] = 0.5;
        }
        assert_eq!(unfamiliar("mnist", &bar), None);
        let texture: Vec<f32> = (0..784).map(|i| 0.3 + 0.4 * ((i * 7919) % 13) as f32 / 13.0).collect();
        assert_eq!(unfamiliar("mnist", &texture).map(|u| u.reason), Some("soft"));
        let faint: Vec<f32> = (0..784).map(|i| if i % 100 == 0 { 0.9 } else { 0.0 }).collect();
        assert_eq!(unfamiliar("mnist", &faint).map(|u| u.reason), Some("faint"));
        let block: Vec<f32> = (0..784).map(|i| if (i / 28) % 28 < 14 { 1.0 } else { 0.0 }).collect();
        assert_eq!(unfamiliar("mnist", &block).map(|u| u.reason), Some("ink"));
        assert_eq!(unfamiliar("fashion", &texture), None);
    }
}
