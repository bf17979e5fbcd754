//! The crate's one error type.
//!
//! Every fallible function returns [`Result`]. At the wasm boundary each error becomes a `JsError` whose message
//! starts with a stable key (`error.model_file: …`) so the page can translate it (see `www/i18n/*.json`).
//! Panics are bugs.

use std::fmt;

/// Everything that can go wrong, grouped by what the user (or caller) did.
#[derive(Debug, Clone, PartialEq)]
pub enum Error {
    /// A numeric or enumerated parameter is out of its domain (η < 0, NaN, an unknown attack, a bad target …).
    InvalidParameter { name: String, reason: String },
    /// A weight file is truncated, corrupt, lies about lengths, or disagrees with its metadata.
    ModelFile(String),
    /// An IDX dataset file has the wrong magic number or size.
    Idx(String),
    /// An image cannot be decoded or has unusable dimensions.
    Image(String),
    /// A tensor has the wrong shape for the operation.
    Shape(String),
    /// File-system or process I/O (native only).
    Io(String),
    /// The caller's progress callback asked to stop.
    Cancelled,
}

/// Crate-wide result.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// Shorthand for [`Error::InvalidParameter`].
    pub fn param(name: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::InvalidParameter { name: name.into(), reason: reason.into() }
    }

    /// Stable i18n key of this kind of error; the page looks it up in `www/i18n/<lang>.json`.
    pub fn key(&self) -> &'static str {
        match self {
            Error::InvalidParameter { .. } => "error.parameter",
            Error::ModelFile(_) => "error.model_file",
            Error::Idx(_) => "error.idx",
            Error::Image(_) => "error.image",
            Error::Shape(_) => "error.shape",
            Error::Io(_) => "error.io",
            Error::Cancelled => "error.cancelled",
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidParameter { name, reason } => write!(f, "invalid parameter `{name}`: {reason}"),
            Error::ModelFile(m) => write!(f, "bad model file: {m}"),
            Error::Idx(m) => write!(f, "bad IDX file: {m}"),
            Error::Image(m) => write!(f, "bad image: {m}"),
            Error::Shape(m) => write!(f, "shape mismatch: {m}"),
            Error::Io(m) => write!(f, "I/O error: {m}"),
            Error::Cancelled => write!(f, "cancelled"),
        }
    }
}

impl std::error::Error for Error {}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Io(e.to_string())
    }
}

/// Checks that a user-supplied number is finite and inside `[lo, hi]`.
pub fn check_range(name: &str, value: f32, lo: f32, hi: f32) -> Result<f32> {
    if !value.is_finite() {
        return Err(Error::param(name, format!("must be a finite number, got {value}")));
    }
    if value < lo || value > hi {
        return Err(Error::param(name, format!("must lie in [{lo}, {hi}], got {value}")));
    }
    Ok(value)
}
