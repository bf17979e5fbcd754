//! Photos for the ImageNet model (issue 15): JPEG decoding with the EXIF orientation applied, on JPEGs this test
//! builds (jpeg-encoder, a dev-dependency), and the bad files that must be a named `Error::Image`, never a panic:
//! CMYK, truncated, 1×1, 30000×30000 declared.

use advlab::data::exif::{apply_orientation, jpeg_orientation};
use advlab::data::image_io::{read_image, read_jpeg, write_png_rgba};
use advlab::data::photo::{photo_crop_rgb, preprocess_photo, SIDE};
use advlab::Error;
use jpeg_encoder::{ColorType, Encoder};

/// Six flat 8×8 blocks, 3 wide and 2 tall (24×16 grey): levels 0, 50, 100 / 150, 200, 250. Flat blocks survive
/// JPEG at quality 100 almost exactly (DC only), so every turn of the picture can be told apart.
const LEVELS: [u8; 6] = [0, 50, 100, 150, 200, 250];

fn blocks_gray() -> Vec<u8> {
    let mut g = vec![0u8; 24 * 16];
    for y in 0..16 {
        for x in 0..24 {
            g[y * 24 + x] = LEVELS[(y / 8) * 3 + x / 8];
        }
    }
    g
}

/// EXIF APP1 body: "Exif\0\0" + a TIFF header in the given byte order whose IFD0 holds Orientation = `v`.
fn exif_app1(little: bool, v: u16) -> Vec<u8> {
    let p16 = |x: u16| if little { x.to_le_bytes() } else { x.to_be_bytes() };
    let p32 = |x: u32| if little { x.to_le_bytes() } else { x.to_be_bytes() };
    let mut t = b"Exif\0\0".to_vec();
    t.extend_from_slice(if little { b"II" } else { b"MM" });
    t.extend_from_slice(&p16(42));
    t.extend_from_slice(&p32(8));
    t.extend_from_slice(&p16(1));
    t.extend_from_slice(&p16(0x0112));
    t.extend_from_slice(&p16(3));
    t.extend_from_slice(&p32(1));
    t.extend_from_slice(&p16(v));
    t.extend_from_slice(&[0, 0]);
    t.extend_from_slice(&p32(0));
    t
}

fn jpeg(data: &[u8], w: u16, h: u16, color: ColorType, quality: u8, exif: Option<Vec<u8>>) -> Vec<u8> {
    let mut out = Vec::new();
    let mut enc = Encoder::new(&mut out, quality);
    if let Some(e) = exif {
        enc.add_app_segment(1, e).unwrap();
    }
    enc.encode(data, w, h, color).unwrap();
    out
}

fn image_err<T: std::fmt::Debug>(r: advlab::Result<T>) -> String {
    match r {
        Err(Error::Image(m)) => m,
        other => panic!("expected Error::Image, got {other:?}"),
    }
}

/// The level of the 8×8 block whose centre is near (x, y) in a decoded RGBA image of width `w`.
fn level_at(rgba: &[u8], w: u32, x: usize, y: usize) -> u8 {
    rgba[(y * w as usize + x) * 4]
}

#[test]
fn grey_jpeg_decodes_to_its_blocks() {
    let file = jpeg(&blocks_gray(), 24, 16, ColorType::Luma, 100, None);
    assert_eq!(jpeg_orientation(&file), None);
    let (w, h, rgba) = read_image(&file).unwrap();
    assert_eq!((w, h, rgba.len()), (24, 16, 24 * 16 * 4));
    for (i, &want) in LEVELS.iter().enumerate() {
        let got = level_at(&rgba, w, (i % 3) * 8 + 4, (i / 3) * 8 + 4);
        assert!(got.abs_diff(want) <= 2, "block {i}: {got} vs {want}");
    }
    assert!(rgba.chunks(4).all(|p| p[0] == p[1] && p[1] == p[2] && p[3] == 255));
}

#[test]
fn every_exif_orientation_is_applied_in_both_byte_orders() {
    let plain = read_jpeg(&jpeg(&blocks_gray(), 24, 16, ColorType::Luma, 100, None)).unwrap();
    // The block shown at the top-left corner for each orientation (stored grid 0 1 2 / 3 4 5).
    let top_left = [0usize, 0, 2, 5, 3, 0, 3, 5, 2];
    for o in 1..=8u16 {
        for little in [true, false] {
            let file = jpeg(&blocks_gray(), 24, 16, ColorType::Luma, 100, Some(exif_app1(little, o)));
            assert_eq!(jpeg_orientation(&file), Some(o as u8));
            let (w, h, rgba) = read_jpeg(&file).unwrap();
            let want = apply_orientation(plain.0, plain.1, plain.2.clone(), o as u8);
            assert_eq!((w, h), (want.0, want.1), "orientation {o}");
            assert!(
                rgba == want.2,
                "orientation {o}: pixels differ from the stored image turned"
            );
            if o >= 5 {
                assert_eq!((w, h), (16, 24));
            } else {
                assert_eq!((w, h), (24, 16));
            }
            let got = level_at(&rgba, w, 4, 4);
            assert!(
                got.abs_diff(LEVELS[top_left[o as usize]]) <= 2,
                "orientation {o}: top-left {got}"
            );
        }
    }
    // Out-of-range values are ignored: the photo stays as stored.
    let file = jpeg(&blocks_gray(), 24, 16, ColorType::Luma, 100, Some(exif_app1(true, 9)));
    assert_eq!(read_jpeg(&file).unwrap(), plain);
}

#[test]
fn colour_jpeg_keeps_its_colours_and_feeds_the_photo_recipe() {
    let (w, h) = (300usize, 200usize);
    let rgb: Vec<u8> = (0..w * h)
        .flat_map(|i| if i % w < w / 2 { [220, 30, 30] } else { [30, 30, 220] })
        .collect();
    let file = jpeg(&rgb, w as u16, h as u16, ColorType::Rgb, 95, Some(exif_app1(false, 6)));
    let (pw, ph, rgba) = read_image(&file).unwrap();
    // Turned clockwise: the red left half is now the top half.
    assert_eq!((pw, ph), (200, 300));
    let top = &rgba[(10 * 200 + 100) * 4..][..3];
    let bottom = &rgba[(290 * 200 + 100) * 4..][..3];
    assert!(top[0] > 200 && top[2] < 60, "{top:?}");
    assert!(bottom[2] > 200 && bottom[0] < 60, "{bottom:?}");
    let x = preprocess_photo(pw, ph, &rgba).unwrap();
    assert_eq!(x.len(), 3 * SIDE * SIDE);
    assert!(x.iter().all(|v| (0.0..=1.0).contains(v)));
    // The crop can be saved as what the model sees.
    let crop = photo_crop_rgb(pw, ph, &rgba).unwrap();
    let crop_rgba: Vec<u8> = crop.chunks(3).flat_map(|p| [p[0], p[1], p[2], 255]).collect();
    assert!(write_png_rgba(SIDE as u32, SIDE as u32, &crop_rgba).is_ok());
}

#[test]
fn progressive_jpeg_decodes() {
    let mut out = Vec::new();
    let mut enc = Encoder::new(&mut out, 90);
    enc.set_progressive(true);
    enc.encode(&blocks_gray(), 24, 16, ColorType::Luma).unwrap();
    let (w, h, _) = read_jpeg(&out).unwrap();
    assert_eq!((w, h), (24, 16));
}

#[test]
fn cmyk_jpeg_is_refused_by_name() {
    let cmyk: Vec<u8> = (0..64 * 64).flat_map(|i| [(i % 256) as u8, 40, 80, 0]).collect();
    let file = jpeg(&cmyk, 64, 64, ColorType::Cmyk, 90, None);
    let m = image_err(read_image(&file));
    assert!(m.contains("CMYK"), "{m}");
}

#[test]
fn truncated_jpeg_is_an_image_error() {
    let rgb: Vec<u8> = (0..64 * 64 * 3).map(|i| (i * 13 % 251) as u8).collect();
    let file = jpeg(&rgb, 64, 64, ColorType::Rgb, 90, Some(exif_app1(true, 6)));
    // Cut inside the headers, inside the scan, and just before the end-of-image marker.
    for cut in [3, 20, 100, file.len() / 2, file.len() - 40] {
        let m = image_err(read_image(&file[..cut]));
        assert!(m.contains("JPEG"), "cut at {cut}: {m}");
    }
    // No cut anywhere panics.
    for cut in (0..file.len()).step_by(7) {
        let _ = read_image(&file[..cut]);
    }
}

#[test]
fn tiny_and_huge_photos_are_image_errors() {
    // A 1×1 PNG decodes, but is no photo for a 224×224 model.
    let png = write_png_rgba(1, 1, &[10, 20, 30, 255]).unwrap();
    let (w, h, rgba) = read_image(&png).unwrap();
    let m = image_err(preprocess_photo(w, h, &rgba));
    assert!(m.contains("1×1"), "{m}");
    // A JPEG whose frame header declares 30000×30000: refused before decoding, by its size.
    let mut file = jpeg(&blocks_gray(), 24, 16, ColorType::Luma, 90, None);
    let sof = file
        .windows(2)
        .position(|w| w == [0xFF, 0xC0])
        .expect("a baseline SOF0 marker");
    file[sof + 5..sof + 7].copy_from_slice(&30000u16.to_be_bytes());
    file[sof + 7..sof + 9].copy_from_slice(&30000u16.to_be_bytes());
    let m = image_err(read_image(&file));
    assert!(m.contains("30000×30000"), "{m}");
    // The preprocessing alone refuses the size too, before looking at the (tiny) buffer.
    let m = image_err(preprocess_photo(30000, 30000, &[0; 4]));
    assert!(m.contains("30000×30000"), "{m}");
}

#[test]
fn unknown_and_empty_files_are_image_errors() {
    image_err(read_image(&[]));
    image_err(read_image(b"GIF89a"));
    image_err(read_jpeg(&[]));
    image_err(read_jpeg(&[0xFF, 0xD8]));
}
