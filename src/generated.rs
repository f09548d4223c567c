//! The code `build.rs` generates from `spec/` (see `codegen/`): resource and route tables, the path
//! matcher, one translator trait per resource, the dispatcher, the schema model and the embedded
//! discovery and OpenAPI documents. Nothing in this module is written by hand.

#![allow(clippy::all, missing_docs)]

include!(concat!(env!("OUT_DIR"), "/k2d_generated.rs"));

/// The index in [`SCHEMAS`] of the schema with this `components.schemas` name.
pub fn schema_index(name: &str) -> Option<usize> {
    SCHEMAS.binary_search_by(|s| s.name.cmp(name)).ok()
}

/// The resource `name` of API group `group` (empty for core), if the spec serves it.
pub fn resource(group: &str, name: &str) -> Option<&'static ResourceInfo> {
    RESOURCES
        .iter()
        .find(|r| r.group == group && r.name == name)
}
