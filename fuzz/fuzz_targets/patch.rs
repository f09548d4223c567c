//! A JSON, merge or strategic merge patch applied to a JSON document.
//! The invariants are in `k2d::fuzz_checks::patch`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| k2d::fuzz_checks::patch(data));
