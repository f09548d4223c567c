//! A Kubernetes protobuf body (`k8s\0` envelope) through the server's decoder.
//! The invariants are in `k2d::fuzz_checks::protobuf`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| k2d::fuzz_checks::protobuf(data));
