//! Validation of incoming objects, with kube-apiserver v1.35's rules and its exact messages.
//!
//! - [`names`], [`meta`], [`mod@generate_name`]: `metadata.name`/`generateName` against each kind's
//!   naming rule, namespace presence, label and annotation syntax (422 Invalid).
//! - [`fields`]: the `fieldValidation` parameter: values of the wrong type (always 400), unknown
//!   and repeated fields (400 under `Strict`, warnings under `Warn`), server-side apply's own
//!   wording.
//! - [`required`]: required fields missing (422 Invalid, `FieldValueRequired`).
//! - [`field_error`]: field errors and the 422 Status that carries them.
//!
//! The order kube-apiserver follows for a create or update: parse the `fieldValidation` parameter
//! ([`FieldValidation::parse`]); decode the body ([`check`] / [`check_yaml`]; patches:
//! [`check_patch`], [`check_apply`]); fill a `generateName` ([`fn@generate_name`]); then validate
//! ([`validate_object_meta`] followed by [`required_errors`], all reported in one
//! [`invalid_status`]).

pub mod dns;
pub mod field_error;
pub mod fields;
pub mod generate_name;
pub mod labels;
pub mod meta;
pub mod names;
pub mod numbers;
pub mod pod_paths;
pub mod required;

mod apply_paths;
mod go_base64;
mod go_types;
mod walk;
mod yaml_dups;

pub use field_error::{ErrorKind, FieldError, invalid_status};
pub use fields::{
    FieldValidation, PatchKind, check, check_apply, check_patch, check_yaml, duplicate_fields,
    unknown_fields,
};
pub use generate_name::generate_name;
pub use meta::validate_object_meta;
pub use names::{NameRule, name_rule, validate_generate_name, validate_name};
pub use numbers::number_errors;
pub use pod_paths::pod_path_errors;
pub use required::{missing_required, required_errors};
pub use yaml_dups::{yaml_duplicate_keys, yaml_strict_error};
