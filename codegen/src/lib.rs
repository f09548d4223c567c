//! k2d's code generator.
//!
//! Two jobs, both driven by the OpenAPI v3 documents in `spec/`:
//! - [`trim`] derives `spec/` from full upstream documents (run by hand, via the `codegen` binary);
//! - [`generate`] turns `spec/` into Rust source and JSON documents (run by k2d's `build.rs`).

pub mod api_path;
pub mod generate;
pub mod trim;

pub use generate::generate;
