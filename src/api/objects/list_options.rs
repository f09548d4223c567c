//! The query parameters of a get, list and watch, read as kube-apiserver reads them: integers
//! as Go's `strconv.ParseInt` does (400 BadRequest with its error text), a `resourceVersion` as
//! the storage layer parses it, and the combinations of `resourceVersionMatch`, `continue` and
//! `sendInitialEvents` its `ListOptions` validation refuses (422 Invalid, kind
//! `ListOptions.meta.k8s.io`).

use std::num::IntErrorKind;

use serde_json::Value;

use crate::api::request::Query;
use crate::api::status::Status;
use crate::api::validation::field_error::{ErrorKind, FieldError, go_quote, invalid_status};

/// An integer query parameter (`limit`, `timeoutSeconds`, `gracePeriodSeconds`): `None` when
/// absent; a value that is not a decimal 64-bit integer is a 400 with Go's parse error, as the
/// real server's query decoding answers (an empty value included).
pub fn int64(query: &Query, name: &str) -> Result<Option<i64>, Status> {
    match query.get(name) {
        None => Ok(None),
        Some(v) => parse_int64(v).map(Some).map_err(Status::bad_request),
    }
}

/// Go's `strconv.ParseInt(v, 10, 64)`, with its error text.
fn parse_int64(v: &str) -> Result<i64, String> {
    v.parse::<i64>().map_err(|e| {
        let why = match e.kind() {
            IntErrorKind::PosOverflow | IntErrorKind::NegOverflow => "value out of range",
            _ => "invalid syntax",
        };
        format!("strconv.ParseInt: parsing {}: {why}", go_quote(v))
    })
}

/// A `resourceVersion` this server could have issued: `None` for none, `""` or `"0"` (any
/// version), else the revision. Anything else is refused with the storage layer's words.
///
/// kube-apiserver answers this case with a 500 whose message is the text below (an open
/// upstream bug: the parse error is not mapped to a client error); k2d answers 400 BadRequest
/// with the same text, since the input is the client's and a 500 invites retries.
pub fn resource_version(query: &Query) -> Result<Option<u64>, Status> {
    match query.get("resourceVersion") {
        None | Some("" | "0") => Ok(None),
        Some(v) => parse_resource_version(v).map(Some),
    }
}

fn parse_resource_version(v: &str) -> Result<u64, Status> {
    // Go's ParseUint takes no sign, where Rust's accepts a leading `+`.
    let parsed = if v.starts_with('+') {
        Err(IntErrorKind::InvalidDigit)
    } else {
        v.parse::<u64>().map_err(|e| *e.kind())
    };
    parsed.map_err(|kind| {
        let why = match kind {
            IntErrorKind::PosOverflow => "value out of range",
            _ => "invalid syntax",
        };
        let e = FieldError::invalid(
            "resourceVersion",
            Value::String(v.to_string()),
            format!("strconv.ParseUint: parsing {}: {why}", go_quote(v)),
        );
        Status::bad_request(e.to_string())
    })
}

/// A boolean query parameter as the real server decodes one: absent, `0` or `false` (any case)
/// are false, anything else (an empty value too) is true. `None` when absent.
pub fn bool_param(query: &Query, name: &str) -> Option<bool> {
    query.get(name).map(|_| query.flag(name))
}

fn forbidden(field: &str, detail: &str) -> FieldError {
    FieldError {
        kind: ErrorKind::Forbidden,
        field: field.to_string(),
        value: Value::Null,
        detail: detail.to_string(),
    }
}

/// Refuses what kube-apiserver's `ListOptions` validation refuses for a list (`watch` false)
/// or a watch, all errors in one 422.
pub fn validate(query: &Query, watch: bool) -> Result<(), Status> {
    let rv = query.get("resourceVersion").unwrap_or_default();
    let continues = query.get("continue").is_some_and(|c| !c.is_empty());
    let send_initial = bool_param(query, "sendInitialEvents");
    let rv_match = query.get("resourceVersionMatch").filter(|m| !m.is_empty());
    let mut errors = Vec::new();
    if watch {
        if send_initial.is_some() && rv_match != Some("NotOlderThan") {
            errors.push(forbidden(
                "resourceVersionMatch",
                "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan",
            ));
        }
        if let Some(m) = rv_match {
            if send_initial.is_none() {
                errors.push(forbidden(
                    "resourceVersionMatch",
                    "resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided",
                ));
            }
            if m != "NotOlderThan" {
                errors.push(FieldError::not_supported(
                    "resourceVersionMatch",
                    m,
                    &["NotOlderThan"],
                ));
            }
            if continues {
                errors.push(forbidden(
                    "resourceVersionMatch",
                    "resourceVersionMatch is forbidden when continue is provided",
                ));
            }
        }
    } else {
        if let Some(m) = rv_match {
            if rv.is_empty() {
                errors.push(forbidden(
                    "resourceVersionMatch",
                    "resourceVersionMatch is forbidden unless resourceVersion is provided",
                ));
            }
            if continues {
                errors.push(forbidden(
                    "resourceVersionMatch",
                    "resourceVersionMatch is forbidden when continue is provided",
                ));
            }
            if m != "Exact" && m != "NotOlderThan" {
                errors.push(FieldError::not_supported(
                    "resourceVersionMatch",
                    m,
                    &["Exact", "NotOlderThan", ""],
                ));
            }
            if m == "Exact" && rv == "0" {
                errors.push(forbidden(
                    "resourceVersionMatch",
                    "resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\"",
                ));
            }
        }
        if send_initial.is_some() {
            errors.push(forbidden(
                "sendInitialEvents",
                "sendInitialEvents is forbidden for list",
            ));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(invalid_status("ListOptions", "meta.k8s.io", "", &errors))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(raw: &str) -> Query {
        Query::parse(Some(raw))
    }

    #[test]
    fn integers_are_refused_with_go_parse_errors() {
        let e = int64(&q("timeoutSeconds=abc"), "timeoutSeconds").unwrap_err();
        assert_eq!((e.code, e.reason), (400, "BadRequest"));
        assert_eq!(
            e.message,
            r#"strconv.ParseInt: parsing "abc": invalid syntax"#
        );
        let e = int64(&q("timeoutSeconds=99999999999999999999"), "timeoutSeconds").unwrap_err();
        assert_eq!(
            e.message,
            r#"strconv.ParseInt: parsing "99999999999999999999": value out of range"#
        );
        let e = int64(&q("limit="), "limit").unwrap_err();
        assert_eq!(e.message, r#"strconv.ParseInt: parsing "": invalid syntax"#);
        assert_eq!(int64(&q("limit=-5"), "limit").unwrap(), Some(-5));
        assert_eq!(int64(&q("limit=%2B7"), "limit").unwrap(), Some(7));
        assert_eq!(int64(&q("x=1"), "limit").unwrap(), None);
    }

    #[test]
    fn resource_versions_must_be_unsigned_integers() {
        assert_eq!(resource_version(&q("resourceVersion=0")).unwrap(), None);
        assert_eq!(resource_version(&q("resourceVersion=")).unwrap(), None);
        assert_eq!(
            resource_version(&q("resourceVersion=42")).unwrap(),
            Some(42)
        );
        let e = resource_version(&q("resourceVersion=abc")).unwrap_err();
        assert_eq!((e.code, e.reason), (400, "BadRequest"));
        assert_eq!(
            e.message,
            r#"resourceVersion: Invalid value: "abc": strconv.ParseUint: parsing "abc": invalid syntax"#
        );
        for signed in ["-1", "%2B1"] {
            let e = resource_version(&q(&format!("resourceVersion={signed}"))).unwrap_err();
            assert!(e.message.ends_with("invalid syntax"), "{}", e.message);
        }
        let e = resource_version(&q("resourceVersion=99999999999999999999")).unwrap_err();
        assert!(e.message.ends_with("value out of range"), "{}", e.message);
    }

    #[test]
    fn booleans_are_true_unless_false_or_zero() {
        assert_eq!(bool_param(&q("a=FALSE"), "a"), Some(false));
        assert_eq!(bool_param(&q("a=0"), "a"), Some(false));
        assert_eq!(bool_param(&q("a="), "a"), Some(true));
        assert_eq!(bool_param(&q("a=yes"), "a"), Some(true));
        assert_eq!(bool_param(&q("b=1"), "a"), None);
    }

    #[test]
    fn list_refuses_match_combinations() {
        let e = validate(&q("resourceVersionMatch=Exact"), false).unwrap_err();
        assert_eq!((e.code, e.reason), (422, "Invalid"));
        assert_eq!(
            e.message,
            r#"ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided"#
        );
        let e = validate(&q("resourceVersion=0&resourceVersionMatch=Exact"), false).unwrap_err();
        assert!(
            e.message
                .ends_with(r#"resourceVersionMatch "exact" is forbidden for resourceVersion "0""#),
            "{}",
            e.message
        );
        let e = validate(&q("resourceVersion=5&resourceVersionMatch=Newest"), false).unwrap_err();
        assert!(e.message.ends_with(r#"resourceVersionMatch: Unsupported value: "Newest": supported values: "Exact", "NotOlderThan", """#), "{}", e.message);
        let e = validate(&q("resourceVersionMatch=Bad&continue=x"), false).unwrap_err();
        assert!(
            e.message.contains(": [resourceVersionMatch: Forbidden"),
            "{}",
            e.message
        );
        let e = validate(&q("sendInitialEvents=true"), false).unwrap_err();
        assert!(
            e.message
                .ends_with("sendInitialEvents: Forbidden: sendInitialEvents is forbidden for list"),
            "{}",
            e.message
        );
        validate(
            &q("resourceVersion=0&resourceVersionMatch=NotOlderThan"),
            false,
        )
        .unwrap();
        validate(
            &q("resourceVersion=7&resourceVersionMatch=Exact&limit=5"),
            false,
        )
        .unwrap();
    }

    #[test]
    fn watch_refuses_match_combinations() {
        let e = validate(&q("sendInitialEvents=true"), true).unwrap_err();
        assert_eq!(
            e.message,
            r#"ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan"#
        );
        let e = validate(&q("resourceVersionMatch=NotOlderThan"), true).unwrap_err();
        assert!(
            e.message.ends_with(
                "resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided"
            ),
            "{}",
            e.message
        );
        let e = validate(
            &q("sendInitialEvents=true&resourceVersionMatch=Exact"),
            true,
        )
        .unwrap_err();
        assert!(
            e.message
                .contains(r#"Unsupported value: "Exact": supported values: "NotOlderThan""#),
            "{}",
            e.message
        );
        validate(
            &q("sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true"),
            true,
        )
        .unwrap();
        validate(&q("resourceVersion=10"), true).unwrap();
    }
}
