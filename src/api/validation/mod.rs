//! Validation of incoming objects: names, unknown and duplicate fields (fieldValidation), required fields.

pub mod dns;
pub mod field_error;
pub mod generate_name;
pub mod labels;
pub mod meta;
pub mod names;

pub use field_error::{ErrorKind, FieldError, invalid_status};
pub use generate_name::generate_name;
pub use meta::validate_object_meta;
pub use names::{NameRule, name_rule, validate_generate_name, validate_name};

mod apply_paths;
pub mod fields;
mod go_base64;
mod go_types;
mod walk;
mod yaml_dups;
