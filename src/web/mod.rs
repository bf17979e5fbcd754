//! The wasm boundary. STUB.
