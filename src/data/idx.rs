//! Reader for the IDX format of MNIST and Fashion-MNIST, raw or gzip-compressed.
//!
//! An IDX file is a big-endian header followed by the data, row-major:
//!
//! ```text
//! bytes 0..2   0x00 0x00
//! byte  2      data type: 0x08 = unsigned byte (the only type MNIST uses, and the only one read here)
//! byte  3      number of dimensions d
//! 4 bytes × d  each dimension as a big-endian u32
//! then         exactly d0·d1·…·d(d-1) bytes of data
//! ```
//!
//! So images are magic `0x00000803` with dimensions `[n, rows, cols]` and labels are magic `0x00000801` with
//! `[n]`. A file that starts with the gzip header `1f 8b` is decompressed first (with the `gzip` feature, on by
//! default; the page's lean wasm leaves it out because the browser's own `DecompressionStream` inflates the one
//! gzip file the page fetches, and refuses a gzip stream by name).
//!
//! Everything is validated: the magic, the data type, the dimension count, overflow of the product of the
//! dimensions, and that the data length matches exactly (neither truncated nor with trailing bytes). The data size
//! is capped at [`MAX_IDX_BYTES`] before anything is allocated, and a gzip stream never gets a buffer larger than
//! its compressed size could possibly expand to, so a lying header or a gzip bomb fails with [`Error::Idx`]
//! instead of exhausting memory. Pure Rust; builds for wasm32.

use std::io::{self, Read};

#[cfg(feature = "gzip")]
use flate2::read::MultiGzDecoder;

use crate::{Error, Result};

/// Largest data section accepted (512 MiB). The biggest real file, MNIST's training images, holds 47 MB.
pub const MAX_IDX_BYTES: usize = 512 << 20;

/// Most dimensions accepted in a header (MNIST uses 1 or 3).
pub const MAX_IDX_DIMS: usize = 4;

/// Magic number of a u8 IDX file with three dimensions: images `[n, rows, cols]`.
pub const MAGIC_IMAGES: u32 = 0x0000_0803;

/// Magic number of a u8 IDX file with one dimension: labels `[n]`.
pub const MAGIC_LABELS: u32 = 0x0000_0801;

/// Deflate cannot expand its input by more than about 1032:1; used to bound the first allocation.
#[cfg(feature = "gzip")]
const MAX_DEFLATE_RATIO: usize = 1032;

/// A parsed u8 IDX file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdxU8 {
    /// The dimensions from the header, outermost first.
    pub dims: Vec<usize>,
    /// The data, row-major; its length is the product of `dims`.
    pub data: Vec<u8>,
}

impl IdxU8 {
    /// The magic number this file would have: `0x0000_08dd` with `dd` the number of dimensions.
    pub fn magic(&self) -> u32 {
        0x0800 | self.dims.len() as u32
    }

    /// Encodes this file as raw (uncompressed) IDX bytes. Fails if the data length does not match the dims
    /// or a dimension does not fit in a u32.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        if self.dims.is_empty() || self.dims.len() > MAX_IDX_DIMS {
            return Err(Error::Idx(format!(
                "cannot encode {} dimensions; IDX files here have 1 to {MAX_IDX_DIMS}",
                self.dims.len()
            )));
        }
        let expected = element_count(&self.dims)?;
        if expected != self.data.len() {
            return Err(Error::Idx(format!(
                "dims {:?} need {expected} bytes of data but {} were given",
                self.dims,
                self.data.len()
            )));
        }
        let mut out = Vec::with_capacity(4 + 4 * self.dims.len() + self.data.len());
        out.extend_from_slice(&self.magic().to_be_bytes());
        for &d in &self.dims {
            let d = u32::try_from(d).map_err(|_| Error::Idx(format!("dimension {d} does not fit in a u32")))?;
            out.extend_from_slice(&d.to_be_bytes());
        }
        out.extend_from_slice(&self.data);
        Ok(out)
    }
}

/// True if `bytes` starts with the gzip magic `1f 8b`.
pub fn is_gzip(bytes: &[u8]) -> bool {
    bytes.len() >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b
}

/// Parses a u8 IDX file with any number of dimensions in `1..=MAX_IDX_DIMS`, raw or gzip-compressed.
pub fn parse_idx(bytes: &[u8]) -> Result<IdxU8> {
    if bytes.is_empty() {
        return Err(Error::Idx(
            "the file is empty (0 bytes); an IDX file starts with a 4-byte magic number".into(),
        ));
    }
    if is_gzip(bytes) {
        #[cfg(feature = "gzip")]
        {
            let bound = bytes.len().saturating_mul(MAX_DEFLATE_RATIO);
            parse_stream(MultiGzDecoder::new(bytes), " (after gzip decompression)", bound)
        }
        #[cfg(not(feature = "gzip"))]
        Err(Error::Idx(
            "the file is gzip-compressed and this build reads raw IDX only: decompress it first (gunzip, or the \
             browser's DecompressionStream)"
                .into(),
        ))
    } else {
        parse_stream(bytes, "", bytes.len())
    }
}

/// Parses an image file (magic `0x00000803`, dims `[n, rows, cols]` with rows, cols ≥ 1).
/// Returns `(n, rows, cols, pixels)` with `pixels.len() == n·rows·cols`, row-major.
pub fn parse_images(bytes: &[u8]) -> Result<(usize, usize, usize, Vec<u8>)> {
    let idx = parse_idx(bytes)?;
    expect_magic(&idx, MAGIC_IMAGES, "images [n, rows, cols]")?;
    let (n, rows, cols) = (idx.dims[0], idx.dims[1], idx.dims[2]);
    if rows == 0 || cols == 0 {
        return Err(Error::Idx(format!(
            "images must have at least one row and column, got {rows}×{cols}"
        )));
    }
    Ok((n, rows, cols, idx.data))
}

/// Parses a label file (magic `0x00000801`, dims `[n]`). Returns the `n` labels.
pub fn parse_labels(bytes: &[u8]) -> Result<Vec<u8>> {
    let idx = parse_idx(bytes)?;
    expect_magic(&idx, MAGIC_LABELS, "labels [n]")?;
    Ok(idx.data)
}

fn expect_magic(idx: &IdxU8, want: u32, what: &str) -> Result<()> {
    let got = idx.magic();
    if got != want {
        return Err(Error::Idx(format!(
            "wrong magic number: expected 0x{want:08X} ({what}), found 0x{got:08X} ({} dimensions)",
            idx.dims.len()
        )));
    }
    Ok(())
}

fn element_count(dims: &[usize]) -> Result<usize> {
    dims.iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| {
            Error::Idx(format!(
                "dimensions {dims:?} overflow: their product does not fit in memory addresses"
            ))
        })
}

fn read_err(e: io::Error, what: &str, ctx: &str) -> Error {
    if e.kind() == io::ErrorKind::UnexpectedEof {
        Error::Idx(format!("truncated{ctx}: the file ends inside the {what}"))
    } else {
        Error::Idx(format!("cannot read the {what}{ctx}: {e}"))
    }
}

/// `ctx` names the decoding for messages; `alloc_bound` caps the first allocation (the most data the input
/// could possibly yield).
fn parse_stream<R: Read>(mut r: R, ctx: &str, alloc_bound: usize) -> Result<IdxU8> {
    let mut head = [0u8; 4];
    r.read_exact(&mut head)
        .map_err(|e| read_err(e, "4-byte magic number", ctx))?;
    let magic = u32::from_be_bytes(head);
    if head[0] != 0 || head[1] != 0 {
        return Err(Error::Idx(format!(
            "wrong magic number 0x{magic:08X}{ctx}: an IDX file starts with two zero bytes \
             (expected 0x{MAGIC_IMAGES:08X} for images or 0x{MAGIC_LABELS:08X} for labels)"
        )));
    }
    if head[2] != 0x08 {
        return Err(Error::Idx(format!(
            "unsupported data type 0x{:02X} ({}) in magic 0x{magic:08X}; only 0x08 (unsigned byte) is read",
            head[2],
            dtype_name(head[2])
        )));
    }
    let ndims = head[3] as usize;
    if ndims == 0 || ndims > MAX_IDX_DIMS {
        return Err(Error::Idx(format!(
            "magic 0x{magic:08X} declares {ndims} dimensions; expected 1 to {MAX_IDX_DIMS}"
        )));
    }
    let mut dims = Vec::with_capacity(ndims);
    for i in 0..ndims {
        let mut d = [0u8; 4];
        r.read_exact(&mut d)
            .map_err(|e| read_err(e, &format!("header (dimension {i} of {ndims})"), ctx))?;
        dims.push(u32::from_be_bytes(d) as usize);
    }
    let expected = element_count(&dims)?;
    if expected > MAX_IDX_BYTES {
        return Err(Error::Idx(format!(
            "dimensions {dims:?} declare {expected} bytes of data, more than the {MAX_IDX_BYTES}-byte limit"
        )));
    }
    let mut data = Vec::with_capacity(expected.min(alloc_bound));
    // One byte more than expected, so trailing data is detected without reading an unbounded stream.
    r.by_ref()
        .take(expected as u64 + 1)
        .read_to_end(&mut data)
        .map_err(|e| Error::Idx(format!("corrupt data{ctx}: {e}")))?;
    if data.len() < expected {
        return Err(Error::Idx(format!(
            "truncated{ctx}: dimensions {dims:?} need {expected} bytes of data but only {} are present",
            data.len()
        )));
    }
    if data.len() > expected {
        return Err(Error::Idx(format!(
            "trailing bytes{ctx}: dimensions {dims:?} need exactly {expected} bytes of data but the file has more"
        )));
    }
    Ok(IdxU8 { dims, data })
}

fn dtype_name(t: u8) -> &'static str {
    match t {
        0x08 => "unsigned byte",
        0x09 => "signed byte",
        0x0B => "i16",
        0x0C => "i32",
        0x0D => "f32",
        0x0E => "f64",
        _ => "unknown type",
    }
}
