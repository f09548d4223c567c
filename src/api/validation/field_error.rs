//! Field-level validation errors as kube-apiserver words them (`field.Error` in apimachinery), and
//! the 422 `Invalid` Status that carries them.
//!
//! The text of an error is `<field>: <body>`, where the body is the error type's phrase
//! (`Invalid value`, `Required value`, ...), then the bad value for the types that show it, then
//! `: <detail>`. Strings are quoted the way Go's `%q` quotes them.

use serde_json::Value;

use crate::api::status::{Status, StatusCause, StatusDetails};

/// The type of a field error; each maps to a `reason` in `details.causes` and a phrase in the text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// `FieldValueRequired`: a value that must be set is missing.
    Required,
    /// `FieldValueInvalid`: a malformed value.
    Invalid,
    /// `FieldValueNotSupported`: a value outside an enumerated set.
    NotSupported,
    /// `FieldValueForbidden`: a value not allowed in this context.
    Forbidden,
    /// `FieldValueTooLong`: a value longer than allowed (the value is not shown).
    TooLong,
    /// `FieldValueDuplicate`: a value that must be unique is repeated.
    Duplicate,
}

impl ErrorKind {
    /// The `reason` of the matching `StatusCause`.
    pub fn reason(self) -> &'static str {
        match self {
            ErrorKind::Required => "FieldValueRequired",
            ErrorKind::Invalid => "FieldValueInvalid",
            ErrorKind::NotSupported => "FieldValueNotSupported",
            ErrorKind::Forbidden => "FieldValueForbidden",
            ErrorKind::TooLong => "FieldValueTooLong",
            ErrorKind::Duplicate => "FieldValueDuplicate",
        }
    }

    /// The phrase that starts the error body.
    pub fn phrase(self) -> &'static str {
        match self {
            ErrorKind::Required => "Required value",
            ErrorKind::Invalid => "Invalid value",
            ErrorKind::NotSupported => "Unsupported value",
            ErrorKind::Forbidden => "Forbidden",
            ErrorKind::TooLong => "Too long",
            ErrorKind::Duplicate => "Duplicate value",
        }
    }

    /// Kinds whose body never shows the bad value.
    fn hides_value(self) -> bool {
        matches!(
            self,
            ErrorKind::Required | ErrorKind::Forbidden | ErrorKind::TooLong
        )
    }
}

/// One field error: `metadata.name: Invalid value: "Web": a lowercase RFC 1123 subdomain ...`.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldError {
    /// The type of error.
    pub kind: ErrorKind,
    /// The field path, e.g. `metadata.name` or `spec.template.spec.containers[0].name`.
    pub field: String,
    /// The bad value (`Value::Null` prints as `null`).
    pub value: Value,
    /// Why it is bad; may be empty.
    pub detail: String,
}

impl FieldError {
    /// `Invalid value` with a string value.
    pub fn invalid(
        field: impl Into<String>,
        value: impl Into<Value>,
        detail: impl Into<String>,
    ) -> Self {
        FieldError {
            kind: ErrorKind::Invalid,
            field: field.into(),
            value: value.into(),
            detail: detail.into(),
        }
    }

    /// `Required value`, with an optional detail.
    pub fn required(field: impl Into<String>, detail: impl Into<String>) -> Self {
        FieldError {
            kind: ErrorKind::Required,
            field: field.into(),
            value: Value::String(String::new()),
            detail: detail.into(),
        }
    }

    /// `Unsupported value`, listing the supported values as Go does (`"a", "b"`).
    pub fn not_supported(
        field: impl Into<String>,
        value: impl Into<Value>,
        supported: &[&str],
    ) -> Self {
        let detail = if supported.is_empty() {
            String::new()
        } else {
            let quoted: Vec<String> = supported.iter().map(|v| go_quote(v)).collect();
            format!("supported values: {}", quoted.join(", "))
        };
        FieldError {
            kind: ErrorKind::NotSupported,
            field: field.into(),
            value: value.into(),
            detail,
        }
    }

    /// `Too long: must have at most <max> bytes` (the value is never shown).
    pub fn too_long(field: impl Into<String>, max: usize) -> Self {
        FieldError {
            kind: ErrorKind::TooLong,
            field: field.into(),
            value: Value::Null,
            detail: format!("must have at most {max} bytes"),
        }
    }

    /// The message without the field: what `details.causes[].message` carries.
    pub fn body(&self) -> String {
        let mut s = self.kind.phrase().to_string();
        if !self.kind.hides_value() {
            s.push_str(": ");
            s.push_str(&go_value(&self.value));
        }
        if !self.detail.is_empty() {
            s.push_str(": ");
            s.push_str(&self.detail);
        }
        s
    }

    /// The cause for `details.causes`.
    pub fn cause(&self) -> StatusCause {
        StatusCause {
            reason: self.kind.reason().to_string(),
            message: self.body(),
            field: self.field.clone(),
        }
    }
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.body())
    }
}

/// Several errors in one line, as apimachinery's aggregate prints them: one message alone, or
/// `[first, second]` with repeated messages dropped.
pub fn aggregate(errors: &[FieldError]) -> String {
    let mut seen: Vec<String> = Vec::new();
    for e in errors {
        let msg = e.to_string();
        if !seen.contains(&msg) {
            seen.push(msg);
        }
    }
    match seen.len() {
        1 => seen.remove(0),
        _ => format!("[{}]", seen.join(", ")),
    }
}

/// The 422 `Invalid` Status for an object: `Deployment.apps "web" is invalid: <errors>`, with
/// `details` naming the kind (not the resource) and one cause per error.
pub fn invalid_status(kind: &str, group: &str, name: &str, errors: &[FieldError]) -> Status {
    let qualified = if group.is_empty() {
        kind.to_string()
    } else {
        format!("{kind}.{group}")
    };
    Status::new(
        422,
        "Invalid",
        format!(
            "{qualified} {} is invalid: {}",
            go_quote(name),
            aggregate(errors)
        ),
    )
    .with_details(StatusDetails {
        name: name.to_string(),
        group: group.to_string(),
        kind: kind.to_string(),
        causes: errors.iter().map(FieldError::cause).collect(),
        ..Default::default()
    })
}

/// A bad value as Go's field errors print it: strings quoted, numbers and booleans bare,
/// `null` for nothing, anything else as compact JSON.
fn go_value(v: &Value) -> String {
    match v {
        Value::String(s) => go_quote(s),
        Value::Null => "null".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        other => other.to_string(),
    }
}

/// A string quoted as Go's `%q` / `strconv.Quote` does: printable characters kept, the usual
/// escapes for control characters, `\u`/`\U` for other non-printable ones.
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if c.is_control() || is_unprintable_space(c) => {
                if (c as u32) < 0x10000 {
                    out.push_str(&format!("\\u{:04x}", c as u32));
                } else {
                    out.push_str(&format!("\\U{:08x}", c as u32));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Spaces other than U+0020 that Go's `unicode.IsPrint` rejects (and so `%q` escapes).
fn is_unprintable_space(c: char) -> bool {
    c != ' ' && c.is_whitespace()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn invalid_reads_like_the_real_server() {
        let e = FieldError::invalid("metadata.name", "Web", "bad");
        assert_eq!(e.to_string(), r#"metadata.name: Invalid value: "Web": bad"#);
        assert_eq!(e.body(), r#"Invalid value: "Web": bad"#);
    }

    #[test]
    fn required_hides_the_value() {
        let e = FieldError::required("spec.containers", "");
        assert_eq!(e.to_string(), "spec.containers: Required value");
        let e = FieldError::required("metadata.name", "name or generateName is required");
        assert_eq!(
            e.to_string(),
            "metadata.name: Required value: name or generateName is required"
        );
    }

    #[test]
    fn not_supported_lists_quoted_values() {
        let e = FieldError::not_supported(
            "fieldValidation",
            "bogus",
            &["", "Ignore", "Strict", "Warn"],
        );
        assert_eq!(
            e.to_string(),
            r#"fieldValidation: Unsupported value: "bogus": supported values: "", "Ignore", "Strict", "Warn""#
        );
    }

    #[test]
    fn numbers_and_null_print_bare() {
        let e = FieldError::invalid(
            "spec.replicas",
            json!(-1),
            "must be greater than or equal to 0",
        );
        assert_eq!(
            e.to_string(),
            "spec.replicas: Invalid value: -1: must be greater than or equal to 0"
        );
        let e = FieldError::invalid("x", Value::Null, "");
        assert_eq!(e.to_string(), "x: Invalid value: null");
    }

    #[test]
    fn aggregate_brackets_several_and_drops_repeats() {
        let a = FieldError::required("a", "");
        let b = FieldError::required("b", "");
        assert_eq!(aggregate(std::slice::from_ref(&a)), "a: Required value");
        assert_eq!(
            aggregate(&[a.clone(), b, a]),
            "[a: Required value, b: Required value]"
        );
    }

    #[test]
    fn invalid_status_has_kind_details_and_causes() {
        let s = invalid_status(
            "Deployment",
            "apps",
            "Web",
            &[FieldError::invalid("metadata.name", "Web", "bad")],
        );
        let v = s.to_json();
        assert_eq!(v["code"], 422);
        assert_eq!(v["reason"], "Invalid");
        assert_eq!(
            v["message"],
            r#"Deployment.apps "Web" is invalid: metadata.name: Invalid value: "Web": bad"#
        );
        assert_eq!(
            v["details"],
            json!({"name": "Web", "group": "apps", "kind": "Deployment", "causes": [
                {"reason": "FieldValueInvalid", "message": "Invalid value: \"Web\": bad", "field": "metadata.name"}
            ]})
        );
        let v = invalid_status(
            "Pod",
            "",
            "p",
            &[FieldError::required("spec.containers", "")],
        )
        .to_json();
        assert_eq!(
            v["message"],
            r#"Pod "p" is invalid: spec.containers: Required value"#
        );
    }

    #[test]
    fn go_quote_escapes_like_go() {
        assert_eq!(go_quote("a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(go_quote("tab\there\n"), r#""tab\there\n""#);
        assert_eq!(go_quote("\u{1}"), r#""\x01""#);
        assert_eq!(go_quote("héllo"), "\"héllo\"");
        assert_eq!(go_quote("\u{a0}"), r#""\u00a0""#);
    }
}
