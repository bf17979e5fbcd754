//! Preprocessing of arbitrary RGBA buffers and dimensions: the first 9 bytes choose width, height and the invert
//! mode, the rest is the buffer. Errors are fine; a success is 784 values in [0, 1].
#![no_main]
use advlab::data::{preprocess_rgba, Invert, Options};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() < 9 {
        return;
    }
    let w = u32::from_le_bytes([data[0], data[1], data[2], data[3]]);
    let h = u32::from_le_bytes([data[4], data[5], data[6], data[7]]);
    // Small sides most of the time so the buffer can match; any u32 sometimes.
    let (w, h) = if data[8] & 0x80 == 0 { (w % 64, h % 64) } else { (w, h) };
    let invert = [Invert::Auto, Invert::Yes, Invert::No][usize::from(data[8] & 3) % 3];
    let rgba = &data[9..];
    // When the sizes nearly fit, pad/trim so the recipe itself (not just the size check) runs.
    let want = (w as usize).saturating_mul(h as usize).saturating_mul(4);
    let buf: Vec<u8> = if data[8] & 0x40 != 0 && want <= 1 << 20 {
        rgba.iter()
            .copied()
            .cycle()
            .take(if rgba.is_empty() { 0 } else { want })
            .collect()
    } else {
        rgba.to_vec()
    };
    if let Ok(p) = preprocess_rgba(&buf, w, h, &Options { invert }) {
        assert_eq!(p.pixels.len(), 784);
        assert!(p.pixels.iter().all(|v| v.is_finite() && (0.0..=1.0).contains(v)));
    }
});
