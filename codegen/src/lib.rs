//! k2d's code generator.
//!
//! Three jobs, all driven by the OpenAPI v3 documents in `spec/`:
//! - [`trim`] derives `spec/` from full upstream documents (run by hand, via the `codegen` binary);
//! - [`generate`] turns `spec/` into Rust source and JSON documents (run by k2d's `build.rs`);
//! - [`protobuf`] derives `spec/protobuf.json`, the protobuf field table, from the k8s-pb crate's
//!   source (run by hand, via the `codegen` binary).

pub mod api_path;
pub mod generate;
pub mod protobuf;
pub mod trim;

pub use generate::generate;
