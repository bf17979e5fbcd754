//! PNG and JPEG reading, PNG writing, for the CLI (native only; in the browser the page decodes images itself).
//!
//! [`read_png`] turns any PNG (grey, grey+alpha, RGB, RGBA, palette, 1 to 16 bits, interlaced) into 8-bit RGBA.
//! [`read_jpeg`] turns a baseline or progressive JPEG (grey or YCbCr/RGB) into 8-bit RGBA and applies its EXIF
//! orientation ([`crate::data::exif`]); CMYK (print) and 16-bit lossless JPEGs are refused. [`read_image`] picks
//! the decoder by the file's signature. In both decoders the header's dimensions are checked against the
//! preprocessing limits before the image buffer is allocated, and the decoder's own allocations are capped, so a
//! hostile or truncated file fails with [`Error::Image`].

use png::{BitDepth, ColorType, Decoder, Encoder, Limits, Transformations};

use jpeg_decoder::PixelFormat;

use crate::data::exif::{apply_orientation, jpeg_orientation};
use crate::data::preprocess::{MAX_PIXELS, MAX_SIDE};
use crate::{Error, Result};

/// Cap on the decoder's internal allocations (chunks, text, ICC profiles, row buffers).
const DECODER_LIMIT_BYTES: usize = 64 << 20;

/// Cap on the JPEG decoder's buffers: the RGB pixels of the largest accepted image, plus room for its tables.
const JPEG_LIMIT_BYTES: usize = MAX_PIXELS as usize * 3 + (16 << 20);

fn check_size(kind: &str, w: u32, h: u32) -> Result<()> {
    if w == 0 || h == 0 || w > MAX_SIDE || h > MAX_SIDE || u64::from(w) * u64::from(h) > MAX_PIXELS {
        return Err(Error::Image(format!(
            "the {kind} is {w}×{h}; at most {MAX_SIDE} pixels a side and {MAX_PIXELS} pixels in all are accepted"
        )));
    }
    Ok(())
}

/// Decodes a PNG or a JPEG, told apart by their signatures, into `(width, height, rgba)`. A JPEG's EXIF
/// orientation is applied.
pub fn read_image(bytes: &[u8]) -> Result<(u32, u32, Vec<u8>)> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        read_png(bytes)
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        read_jpeg(bytes)
    } else if bytes.is_empty() {
        Err(Error::Image("the image file is empty".into()))
    } else {
        Err(Error::Image("not a PNG or JPEG file (unknown signature)".into()))
    }
}

fn jpeg_err(e: jpeg_decoder::Error) -> Error {
    Error::Image(format!("cannot decode JPEG: {e}"))
}

/// Decodes a JPEG into `(width, height, rgba)` with `rgba.len() == width·height·4`, turned by its EXIF
/// orientation (so width and height are those of the photo as meant to be seen).
pub fn read_jpeg(bytes: &[u8]) -> Result<(u32, u32, Vec<u8>)> {
    if bytes.is_empty() {
        return Err(Error::Image("the JPEG file is empty".into()));
    }
    let mut decoder = jpeg_decoder::Decoder::new(bytes);
    decoder.set_max_decoding_buffer_size(JPEG_LIMIT_BYTES);
    decoder.read_info().map_err(jpeg_err)?;
    let info = decoder
        .info()
        .ok_or_else(|| Error::Image("the JPEG has no frame header".into()))?;
    let (w, h) = (u32::from(info.width), u32::from(info.height));
    check_size("JPEG", w, h)?;
    let channels = match info.pixel_format {
        PixelFormat::L8 => 1,
        PixelFormat::RGB24 => 3,
        PixelFormat::CMYK32 => {
            return Err(Error::Image(
                "the JPEG is in CMYK (print) colours; save it as an RGB JPEG or a PNG".into(),
            ))
        }
        PixelFormat::L16 => {
            return Err(Error::Image(
                "16-bit (lossless) JPEGs are not supported; save it as an 8-bit JPEG or a PNG".into(),
            ))
        }
    };
    let pixels = decoder.decode().map_err(jpeg_err)?;
    let n = w as usize * h as usize;
    if pixels.len() != n * channels {
        return Err(Error::Image(format!(
            "the JPEG decoded to {} bytes, expected {}",
            pixels.len(),
            n * channels
        )));
    }
    let mut rgba = Vec::with_capacity(n * 4);
    if channels == 1 {
        pixels.iter().for_each(|&g| rgba.extend_from_slice(&[g, g, g, 255]));
    } else {
        pixels
            .chunks_exact(3)
            .for_each(|p| rgba.extend_from_slice(&[p[0], p[1], p[2], 255]));
    }
    Ok(apply_orientation(w, h, rgba, jpeg_orientation(bytes).unwrap_or(1)))
}

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
    check_size("PNG", header.width, header.height)?;
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
