//! Validation of incoming objects: names, unknown and duplicate fields (fieldValidation), required fields.
