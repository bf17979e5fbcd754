//! Failure drills for the recovery tests (issue 10): the two ways a wasm engine dies for real, on purpose.
//!
//! - A Rust panic: `panic = "abort"` on wasm32, so the panic hook prints the message and the instance traps
//!   (`RuntimeError: unreachable`). The instance may now hold a half-updated state (a `RefCell` left borrowed, an
//!   allocator mid-update), so it must never be used again.
//! - Out of memory: the allocator asks `memory.grow` for more than the 4 GiB a wasm32 memory can hold; Rust's
//!   allocation-error handler aborts, which is the same trap.
//!
//! `www/worker.js` reports a trap as fatal and `www/engine.js` replaces the worker, re-sends the models and tells
//! the page, which says so (translated) and redoes its view for the same drawing. Nothing in the page calls these;
//! the end-to-end tests do (`tests/e2e/robust.test.mjs`).

use wasm_bindgen::prelude::*;

/// Panics with a recognisable message.
#[wasm_bindgen(js_name = selfTestPanic)]
pub fn self_test_panic() {
    panic!("self-test: a deliberate panic in the engine");
}

/// Allocates 256 MiB blocks (never touched, so the browser commits no real memory for them) until the wasm
/// memory cannot grow any further; the failed allocation aborts the instance. Returns only if it never fails.
#[wasm_bindgen(js_name = selfTestOutOfMemory)]
pub fn self_test_out_of_memory() -> usize {
    let mut hoard: Vec<Vec<u8>> = Vec::new();
    // 4 GiB / 256 MiB = 16 blocks fill the address space; the 17th cannot exist.
    for _ in 0..17 {
        hoard.push(std::hint::black_box(Vec::with_capacity(256 << 20)));
    }
    hoard.iter().map(Vec::capacity).sum()
}
