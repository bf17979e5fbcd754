//! The wasm boundary: the only module with `#[wasm_bindgen]`.
//!
//! The page's Web Worker (`www/worker.js`) owns one [`Session`]. Values cross the boundary as typed arrays or as
//! plain objects through `serde-wasm-bindgen` (the DTOs in [`dto`]). Every [`crate::Error`] becomes a `JsError`
//! whose message starts with the error's i18n key, so the page can translate it ([`errors`]).

#[cfg(feature = "audit")]
pub mod audit;
pub mod bench;
pub mod dto;
pub mod errors;
pub mod lessons;
#[cfg(feature = "photo")]
pub mod photo;
pub mod self_test;
pub mod session;
pub mod training;

use wasm_bindgen::prelude::*;

pub use session::Session;

/// Runs once when the module is instantiated: a Rust panic then prints its message and location to the console
/// instead of an opaque `unreachable` trap.
#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
}

/// The crate version, so the page can show which engine it runs.
#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}
