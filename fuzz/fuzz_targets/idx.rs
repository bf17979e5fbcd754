//! The IDX reader: any bytes give images/labels or an error, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = advlab::data::idx::parse_idx(data);
});
