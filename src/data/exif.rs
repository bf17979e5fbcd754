//! The EXIF orientation of a JPEG, and applying it, so that a phone photo taken upright reaches the model upright.
//!
//! Cameras store the sensor's rows as they are and record how to turn them in the EXIF tag `Orientation`
//! (0x0112) of IFD0 (EXIF 2.32 / TIFF 6.0, a SHORT with values 1–8). The EXIF data sits in a JPEG `APP1` segment
//! that starts with `"Exif\0\0"`, followed by a TIFF structure: a byte-order mark (`II` little-endian, `MM`
//! big-endian), the number 42, and the offset of IFD0, whose entries are 12 bytes each (tag, type, count, value).
//!
//! [`jpeg_orientation`] walks the JPEG's segments up to the start of scan and reads that tag; a missing, malformed
//! or out-of-range value gives `None` (the photo is then used as stored: a broken EXIF block is no reason to refuse
//! a photo). [`apply_orientation`] turns the pixels. Every read is bounds-checked: no input can panic.
//!
//! Browsers apply the orientation themselves when they decode (`image-orientation: from-image`), so the page
//! never needs this; the CLI does.

/// Reads the EXIF orientation (1–8) of a JPEG file, or `None` when it has none (or an unusable one).
pub fn jpeg_orientation(jpeg: &[u8]) -> Option<u8> {
    if jpeg.get(..2)? != [0xFF, 0xD8] {
        return None;
    }
    let mut i = 2;
    loop {
        if *jpeg.get(i)? != 0xFF {
            return None;
        }
        while *jpeg.get(i)? == 0xFF {
            i += 1;
        }
        let marker = jpeg[i];
        i += 1;
        match marker {
            // Stand-alone markers: no length.
            0x01 | 0xD0..=0xD8 => continue,
            // Start of scan or end of image: the metadata segments are all before.
            0xDA | 0xD9 => return None,
            _ => {}
        }
        let len = usize::from(u16::from_be_bytes([*jpeg.get(i)?, *jpeg.get(i + 1)?]));
        if len < 2 {
            return None;
        }
        let segment = jpeg.get(i + 2..i + len)?;
        if marker == 0xE1 {
            if let Some(tiff) = segment.strip_prefix(b"Exif\0\0") {
                if let Some(o) = tiff_orientation(tiff) {
                    return Some(o);
                }
            }
        }
        i += len;
    }
}

/// Reads tag 0x0112 of IFD0 of a TIFF structure (the body of an EXIF block): `Some(1..=8)` or `None`.
pub fn tiff_orientation(tiff: &[u8]) -> Option<u8> {
    let little = match tiff.get(..2)? {
        b"II" => true,
        b"MM" => false,
        _ => return None,
    };
    let u16_at = |at: usize| -> Option<u16> {
        let b = [*tiff.get(at)?, *tiff.get(at.checked_add(1)?)?];
        Some(if little {
            u16::from_le_bytes(b)
        } else {
            u16::from_be_bytes(b)
        })
    };
    let u32_at = |at: usize| -> Option<u32> {
        let b: [u8; 4] = tiff.get(at..at.checked_add(4)?)?.try_into().ok()?;
        Some(if little {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        })
    };
    if u16_at(2)? != 42 {
        return None;
    }
    let ifd = usize::try_from(u32_at(4)?).ok()?;
    let count = usize::from(u16_at(ifd)?);
    for k in 0..count {
        let entry = ifd.checked_add(2 + 12 * k)?;
        if u16_at(entry)? != 0x0112 {
            continue;
        }
        // Type 3 = SHORT, count 1: the value is in the first two bytes of the 4-byte value field.
        if u16_at(entry + 2)? != 3 || u32_at(entry + 4)? < 1 {
            return None;
        }
        let v = u16_at(entry + 8)?;
        return (1..=8).contains(&v).then_some(v as u8);
    }
    None
}

/// Turns an RGBA image as stored into the image as meant to be seen, for EXIF orientation `o`:
/// 1 as is, 2 mirrored left–right, 3 turned 180°, 4 mirrored top–bottom, 5 transposed (mirrored across the main
/// diagonal), 6 turned 90° clockwise, 7 transversed (mirrored across the other diagonal), 8 turned 90°
/// anticlockwise. Values 5–8 swap width and height. Any other value, or a buffer that is not `w·h·4` bytes long,
/// leaves the image as it is. Returns `(width, height, rgba)`.
pub fn apply_orientation(w: u32, h: u32, rgba: Vec<u8>, o: u8) -> (u32, u32, Vec<u8>) {
    let (wu, hu) = (w as usize, h as usize);
    if !(2..=8).contains(&o) || rgba.len() != wu * hu * 4 {
        return (w, h, rgba);
    }
    let swap = o >= 5;
    let (ow, oh) = if swap { (hu, wu) } else { (wu, hu) };
    let mut out = vec![0u8; rgba.len()];
    for y in 0..oh {
        for x in 0..ow {
            // The stored pixel shown at (x, y).
            let (sx, sy) = match o {
                2 => (wu - 1 - x, y),
                3 => (wu - 1 - x, hu - 1 - y),
                4 => (x, hu - 1 - y),
                5 => (y, x),
                6 => (y, hu - 1 - x),
                7 => (wu - 1 - y, hu - 1 - x),
                _ => (wu - 1 - y, x),
            };
            let s = (sy * wu + sx) * 4;
            let d = (y * ow + x) * 4;
            out[d..d + 4].copy_from_slice(&rgba[s..s + 4]);
        }
    }
    (ow as u32, oh as u32, out)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A minimal EXIF body: a TIFF header in the given byte order with one IFD0 entry, tag 0x0112 SHORT = `v`,
    /// preceded by an unrelated entry (ImageWidth) so that the search is exercised.
    pub(crate) fn exif_tiff(little: bool, v: u16) -> Vec<u8> {
        let p16 = |x: u16| if little { x.to_le_bytes() } else { x.to_be_bytes() };
        let p32 = |x: u32| if little { x.to_le_bytes() } else { x.to_be_bytes() };
        let mut t = Vec::new();
        t.extend_from_slice(if little { b"II" } else { b"MM" });
        t.extend_from_slice(&p16(42));
        t.extend_from_slice(&p32(8));
        t.extend_from_slice(&p16(2));
        for (tag, typ, value) in [(0x0100u16, 3u16, 640u16), (0x0112, 3, v)] {
            t.extend_from_slice(&p16(tag));
            t.extend_from_slice(&p16(typ));
            t.extend_from_slice(&p32(1));
            t.extend_from_slice(&p16(value));
            t.extend_from_slice(&[0, 0]);
        }
        t.extend_from_slice(&p32(0));
        t
    }

    /// An APP1 EXIF block for [`jpeg_encoder::Encoder::add_app_segment`] (without the marker and length).
    pub(crate) fn exif_app1(little: bool, v: u16) -> Vec<u8> {
        let mut d = b"Exif\0\0".to_vec();
        d.extend(exif_tiff(little, v));
        d
    }

    #[test]
    fn reads_both_byte_orders_and_every_value() {
        for little in [true, false] {
            for v in 1..=8u16 {
                assert_eq!(
                    tiff_orientation(&exif_tiff(little, v)),
                    Some(v as u8),
                    "little {little} v {v}"
                );
            }
            for v in [0u16, 9, 0xFFFF] {
                assert_eq!(tiff_orientation(&exif_tiff(little, v)), None);
            }
        }
    }

    #[test]
    fn malformed_tiff_is_none_not_a_panic() {
        let good = exif_tiff(true, 6);
        for n in 0..good.len() {
            // Every truncation: None or (past the entry) the right value, never a panic.
            let r = tiff_orientation(&good[..n]);
            assert!(r.is_none() || r == Some(6));
        }
        let mut bad_order = good.clone();
        bad_order[..2].copy_from_slice(b"IM");
        assert_eq!(tiff_orientation(&bad_order), None);
        let mut bad_magic = good.clone();
        bad_magic[2] = 43;
        assert_eq!(tiff_orientation(&bad_magic), None);
        let mut far_ifd = good.clone();
        far_ifd[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(tiff_orientation(&far_ifd), None);
        let mut long_type = good.clone();
        long_type[8 + 2 + 12 + 2] = 4; // the orientation entry's type: LONG instead of SHORT
        assert_eq!(tiff_orientation(&long_type), None);
    }

    #[test]
    fn walks_jpeg_segments() {
        let exif = exif_app1(false, 8);
        let seg = |marker: u8, body: &[u8]| {
            let mut s = vec![0xFF, marker];
            s.extend_from_slice(&((body.len() + 2) as u16).to_be_bytes());
            s.extend_from_slice(body);
            s
        };
        let mut jpeg = vec![0xFF, 0xD8];
        jpeg.extend(seg(0xE0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0"));
        jpeg.extend(seg(0xE1, b"http://ns.adobe.com/xap/1.0/\0<x/>"));
        jpeg.extend(seg(0xE1, &exif));
        jpeg.extend([0xFF, 0xDA, 0, 2, 0xFF, 0xD9]);
        assert_eq!(jpeg_orientation(&jpeg), Some(8));
        for n in 0..jpeg.len() {
            let _ = jpeg_orientation(&jpeg[..n]);
        }
        // An EXIF block after the start of scan does not count; no EXIF at all is None.
        assert_eq!(jpeg_orientation(&[0xFF, 0xD8, 0xFF, 0xDA, 0, 2]), None);
        assert_eq!(jpeg_orientation(b"\x89PNG"), None);
        assert_eq!(jpeg_orientation(&[]), None);
    }

    #[test]
    fn orientations_move_pixels_as_specified() {
        // Stored 3×2:  a b c / d e f  (each pixel's red byte is its letter).
        let stored: Vec<u8> = b"abcdef".iter().flat_map(|&c| [c, 0, 0, 255]).collect();
        let shown = |o: u8| {
            let (w, h, px) = apply_orientation(3, 2, stored.clone(), o);
            (w, h, px.chunks(4).map(|p| p[0] as char).collect::<String>())
        };
        assert_eq!(shown(1), (3, 2, "abcdef".into()));
        assert_eq!(shown(2), (3, 2, "cbafed".into()));
        assert_eq!(shown(3), (3, 2, "fedcba".into()));
        assert_eq!(shown(4), (3, 2, "defabc".into()));
        assert_eq!(shown(5), (2, 3, "adbecf".into()));
        assert_eq!(shown(6), (2, 3, "daebfc".into()));
        assert_eq!(shown(7), (2, 3, "fcebda".into()));
        assert_eq!(shown(8), (2, 3, "cfbead".into()));
        assert_eq!(shown(9), (3, 2, "abcdef".into()));
        // A wrong-length buffer is returned unchanged.
        assert_eq!(apply_orientation(5, 5, vec![1, 2, 3], 6), (5, 5, vec![1, 2, 3]));
    }
}
