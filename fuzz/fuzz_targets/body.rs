//! A request body (JSON, YAML or protobuf, picked by the first byte) through the server's decoder.
//! The invariants are in `k2d::fuzz_checks::body`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| k2d::fuzz_checks::body(data));
