//! Label and field selector text: parse, print, parse again.
//! The invariants are in `k2d::fuzz_checks::selectors`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| k2d::fuzz_checks::selectors(data));
