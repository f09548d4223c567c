//! Tests of the patch functions, with the real schemas and the bodies kubectl and Helm send.

mod client_traces;
mod errors;
mod json_patch;
mod merge_patch;
mod patch_type;
mod strategic_directives;
mod strategic_lists;
mod strategic_maps;
mod support;
