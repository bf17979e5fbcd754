//! PNG in and out: every colour type becomes RGBA, writing round-trips, and bad files are `Error::Image`.

use advlab::data::image_io::{read_png, write_png_gray, write_png_rgba};
use advlab::Error;
use png::{BitDepth, ColorType, Encoder};

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 37 % 251) as u8).collect()
}

/// Encodes with the png crate directly, for colour types this crate does not write.
fn encode(w: u32, h: u32, color: ColorType, depth: BitDepth, data: &[u8], palette: Option<Vec<u8>>) -> Vec<u8> {
    let mut out = Vec::new();
    let mut enc = Encoder::new(&mut out, w, h);
    enc.set_color(color);
    enc.set_depth(depth);
    if let Some(p) = palette {
        enc.set_palette(p);
    }
    let mut writer = enc.write_header().unwrap();
    writer.write_image_data(data).unwrap();
    writer.finish().unwrap();
    out
}

fn image_err<T: std::fmt::Debug>(r: advlab::Result<T>) -> String {
    match r {
        Err(Error::Image(m)) => m,
        other => panic!("expected Error::Image, got {other:?}"),
    }
}

#[test]
fn rgba_roundtrip() {
    let rgba = pattern(7 * 5 * 4);
    let png = write_png_rgba(7, 5, &rgba).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    assert_eq!(read_png(&png).unwrap(), (7, 5, rgba));
}

#[test]
fn gray_roundtrip_reads_as_opaque_rgba() {
    let gray = pattern(28 * 28);
    let (w, h, rgba) = read_png(&write_png_gray(28, 28, &gray).unwrap()).unwrap();
    assert_eq!((w, h), (28, 28));
    let expect: Vec<u8> = gray.iter().flat_map(|&g| [g, g, g, 255]).collect();
    assert_eq!(rgba, expect);
}

#[test]
fn every_colour_type_becomes_rgba() {
    // RGB, 8 bits.
    let rgb = pattern(3 * 2 * 3);
    let (_, _, out) = read_png(&encode(3, 2, ColorType::Rgb, BitDepth::Eight, &rgb, None)).unwrap();
    assert_eq!(
        out,
        rgb.chunks(3).flat_map(|p| [p[0], p[1], p[2], 255]).collect::<Vec<_>>()
    );
    // Grey + alpha.
    let ga = [10, 20, 30, 40];
    let (_, _, out) = read_png(&encode(2, 1, ColorType::GrayscaleAlpha, BitDepth::Eight, &ga, None)).unwrap();
    assert_eq!(out, vec![10, 10, 10, 20, 30, 30, 30, 40]);
    // 16-bit RGBA: the high byte is kept.
    let rgba16 = [0x12, 0x34, 0xAB, 0xCD, 0xFF, 0x00, 0x80, 0x01];
    let (_, _, out) = read_png(&encode(1, 1, ColorType::Rgba, BitDepth::Sixteen, &rgba16, None)).unwrap();
    assert_eq!(out, vec![0x12, 0xAB, 0xFF, 0x80]);
    // 1-bit grey, 10 pixels wide (two bytes per row): expanded to 0 / 255.
    let bits = [0b1010_0000, 0b0100_0000];
    let (w, _, out) = read_png(&encode(10, 1, ColorType::Grayscale, BitDepth::One, &bits, None)).unwrap();
    assert_eq!(w, 10);
    let grey: Vec<u8> = out.chunks(4).map(|p| p[0]).collect();
    assert_eq!(grey, vec![255, 0, 255, 0, 0, 0, 0, 0, 0, 255]);
    // 8-bit palette with two colours.
    let palette = vec![255, 0, 0, 0, 0, 255];
    let (_, _, out) = read_png(&encode(
        3,
        1,
        ColorType::Indexed,
        BitDepth::Eight,
        &[0, 1, 0],
        Some(palette),
    ))
    .unwrap();
    assert_eq!(out, vec![255, 0, 0, 255, 0, 0, 255, 255, 255, 0, 0, 255]);
}

#[test]
fn corrupt_files_are_image_errors() {
    let png = write_png_rgba(4, 4, &pattern(64)).unwrap();
    assert!(image_err(read_png(&[])).contains("empty"));
    image_err(read_png(b"not a png at all"));
    image_err(read_png(&png[..png.len() / 2]));
    image_err(read_png(&png[..20]));
    // Flip a byte inside the IHDR chunk: its CRC no longer matches.
    let mut bad = png.clone();
    bad[17] ^= 0x40;
    image_err(read_png(&bad));
}

/// A PNG header claiming `w`×`h`, with a valid CRC, and no image data.
fn header_only(w: u32, h: u32) -> Vec<u8> {
    let mut ihdr = b"IHDR".to_vec();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 6, 0, 0, 0]); // 8-bit RGBA
    let mut crc = flate2::Crc::new();
    crc.update(&ihdr);
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    out.extend_from_slice(&13u32.to_be_bytes());
    out.extend_from_slice(&ihdr);
    out.extend_from_slice(&crc.sum().to_be_bytes());
    out
}

#[test]
fn huge_dimensions_are_refused_before_allocating() {
    for (w, h) in [(100_000, 1), (1, 9000), (8000, 8000)] {
        let m = image_err(read_png(&header_only(w, h)));
        assert!(m.contains(&format!("{w}×{h}")), "{m}");
    }
    // Within the limits the same header is accepted and then fails for lack of data, not size.
    let m = image_err(read_png(&header_only(16, 16)));
    assert!(!m.contains("16×16"), "{m}");
}

#[test]
fn writing_checks_the_buffer() {
    image_err(write_png_rgba(2, 2, &[0; 15]));
    image_err(write_png_gray(2, 2, &[0; 5]));
    image_err(write_png_gray(0, 0, &[]));
}
