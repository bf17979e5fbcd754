//! PNG reading and writing for the CLI (native only; in the browser the page decodes images itself).
//!
//! [`read_png`] turns any PNG (grey, grey+alpha, RGB, RGBA, palette, 1 to 16 bits, interlaced) into 8-bit RGBA.
//! The header's dimensions are checked against the preprocessing limits before the image buffer is allocated,
//! and the decoder's own allocations are capped by [`png::Limits`], so a hostile file fails with
//! [`Error::Image`].

use png::{BitDepth, ColorType, Decoder, Encoder, Limits, Transformations};

use crate::data::preprocess::{MAX_PIXELS, MAX_SIDE};
use crate::{Error, Result};

/// Cap on the decoder's internal allocations (chunks, text, ICC profiles, row buffers).
const DECODER_LIMIT_BYTES: usize = 64 << 20;

fn decode_err(e: png::DecodingError) -> Error {
    Error::Image(format!("cannot decode PNG: {e}"))
}

/// Decodes a PNG into `(width, height, rgba)` with `rgba.len() == width·height·4`. Only the first frame of an
/// animated PNG is read.
pub fn read_png(bytes: &[u8]) -> Result<(u32, u32, Vec<u8>)> {
    if bytes.is_empty() {
        return Err(Error::Image("the PNG file is empty".into()));
    }
    let mut decoder = Decoder::new_with_limits(
        bytes,
        Limits {
            bytes: DECODER_LIMIT_BYTES,
        },
    );
    decoder.set_transformations(Transformations::EXPAND | Transformations::STRIP_16);
    let header = decoder.read_header_info().map_err(decode_err)?;
    let (w, h) = (header.width, header.height);
    if w == 0 || h == 0 || w > MAX_SIDE || h > MAX_SIDE || u64::from(w) * u64::from(h) > MAX_PIXELS {
        return Err(Error::Image(format!(
            "the PNG is {w}×{h}; at most {MAX_SIDE} pixels a side and {MAX_PIXELS} pixels in all are accepted"
        )));
    }
    let mut reader = decoder.read_info().map_err(decode_err)?;
    let mut buf = vec![0u8; reader.output_buffer_size()];
    let frame = reader.next_frame(&mut buf).map_err(decode_err)?;
    if frame.bit_depth != BitDepth::Eight {
        return Err(Error::Image(format!(
            "unexpected {:?} output after expansion",
            frame.bit_depth
        )));
    }
    let (fw, fh) = (frame.width as usize, frame.height as usize);
    let channels = frame.color_type.samples();
    let stride = frame.line_size;
    let mut rgba = Vec::with_capacity(fw * fh * 4);
    for row in buf.chunks(stride).take(fh) {
        let row = row
            .get(..fw * channels)
            .ok_or_else(|| Error::Image("PNG row shorter than its width".into()))?;
        match frame.color_type {
            ColorType::Grayscale => row.iter().for_each(|&g| rgba.extend_from_slice(&[g, g, g, 255])),
            ColorType::GrayscaleAlpha => row
                .chunks_exact(2)
                .for_each(|p| rgba.extend_from_slice(&[p[0], p[0], p[0], p[1]])),
            ColorType::Rgb => row
                .chunks_exact(3)
                .for_each(|p| rgba.extend_from_slice(&[p[0], p[1], p[2], 255])),
            ColorType::Rgba => rgba.extend_from_slice(row),
            ColorType::Indexed => return Err(Error::Image("PNG palette was not expanded".into())),
        }
    }
    if rgba.len() != fw * fh * 4 {
        return Err(Error::Image(format!(
            "PNG decoded to {} bytes, expected {}",
            rgba.len(),
            fw * fh * 4
        )));
    }
    Ok((frame.width, frame.height, rgba))
}

fn encode(width: u32, height: u32, data: &[u8], color: ColorType) -> Result<Vec<u8>> {
    let channels = color.samples();
    let want = u64::from(width) * u64::from(height) * channels as u64;
    if width == 0 || height == 0 || data.len() as u64 != want {
        return Err(Error::Image(format!(
            "cannot write a {width}×{height} PNG with {channels} bytes per pixel from {} bytes (need {want}, \
             both sides ≥ 1)",
            data.len()
        )));
    }
    let mut out = Vec::new();
    let mut encoder = Encoder::new(&mut out, width, height);
    encoder.set_color(color);
    encoder.set_depth(BitDepth::Eight);
    let enc_err = |e: png::EncodingError| Error::Image(format!("cannot encode PNG: {e}"));
    let mut writer = encoder.write_header().map_err(enc_err)?;
    writer.write_image_data(data).map_err(enc_err)?;
    writer.finish().map_err(enc_err)?;
    Ok(out)
}

/// Encodes an 8-bit RGBA image (`width·height·4` bytes, row-major) as PNG.
pub fn write_png_rgba(width: u32, height: u32, rgba: &[u8]) -> Result<Vec<u8>> {
    encode(width, height, rgba, ColorType::Rgba)
}

/// Encodes an 8-bit grey image (`width·height` bytes, row-major) as PNG.
pub fn write_png_gray(width: u32, height: u32, gray: &[u8]) -> Result<Vec<u8>> {
    encode(width, height, gray, ColorType::Grayscale)
}
