//! The DNS-style name rules of Kubernetes (RFC 1123 label and subdomain, RFC 1035 label) and the
//! path-segment rule, each returning kube-apiserver's messages (empty when the value is valid).
//!
//! The messages name the regular expression Kubernetes documents; the checks themselves are
//! written out by hand (no regex engine in the binary).

/// Longest RFC 1123 / RFC 1035 label.
pub const LABEL_MAX: usize = 63;
/// Longest RFC 1123 subdomain.
pub const SUBDOMAIN_MAX: usize = 253;

const DNS1123_LABEL_FMT: &str = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
const DNS1123_LABEL_MSG: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character";
const DNS1123_SUBDOMAIN_FMT: &str =
    "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
const DNS1123_SUBDOMAIN_MSG: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
const DNS1035_LABEL_FMT: &str = "[a-z]([-a-z0-9]*[a-z0-9])?";
const DNS1035_LABEL_MSG: &str = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character";

/// `must be no more than N characters`: the length message of apimachinery's name checks.
pub fn max_len_error(max: usize) -> String {
    format!("must be no more than {max} characters")
}

/// `must be non-empty`.
pub fn empty_error() -> &'static str {
    "must be non-empty"
}

/// A regex failure as apimachinery words it: `<msg> (e.g. 'a',  or 'b', regex used for
/// validation is '<re>')`. The double space after each comma is Kubernetes' own.
pub fn regex_error(msg: &str, re: &str, examples: &[&str]) -> String {
    if examples.is_empty() {
        return format!("{msg} (regex used for validation is '{re}')");
    }
    let mut s = format!("{msg} (e.g. ");
    for (i, ex) in examples.iter().enumerate() {
        if i > 0 {
            s.push_str(" or ");
        }
        s.push('\'');
        s.push_str(ex);
        s.push_str("', ");
    }
    s.push_str("regex used for validation is '");
    s.push_str(re);
    s.push_str("')");
    s
}

fn lower_alnum(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit()
}

/// `[a-z0-9]([-a-z0-9]*[a-z0-9])?`
fn matches_dns1123_label(s: &[u8]) -> bool {
    match (s.first(), s.last()) {
        (Some(&f), Some(&l)) => {
            lower_alnum(f) && lower_alnum(l) && s.iter().all(|&b| lower_alnum(b) || b == b'-')
        }
        _ => false,
    }
}

/// Labels joined by dots.
fn matches_dns1123_subdomain(s: &str) -> bool {
    s.split('.')
        .all(|part| matches_dns1123_label(part.as_bytes()))
}

/// `[a-z]([-a-z0-9]*[a-z0-9])?`
fn matches_dns1035_label(s: &str) -> bool {
    let b = s.as_bytes();
    matches_dns1123_label(b) && b[0].is_ascii_lowercase()
}

/// RFC 1123 label: namespaces, most DNS-visible names.
pub fn dns1123_label(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > LABEL_MAX {
        errs.push(max_len_error(LABEL_MAX));
    }
    if !matches_dns1123_label(value.as_bytes()) {
        if matches_dns1123_subdomain(value) {
            errs.push("must not contain dots".to_string());
        } else {
            errs.push(regex_error(
                DNS1123_LABEL_MSG,
                DNS1123_LABEL_FMT,
                &["my-name", "123-abc"],
            ));
        }
    }
    errs
}

/// RFC 1123 subdomain: the default rule for object names.
pub fn dns1123_subdomain(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > SUBDOMAIN_MAX {
        errs.push(max_len_error(SUBDOMAIN_MAX));
    }
    if !matches_dns1123_subdomain(value) {
        errs.push(regex_error(
            DNS1123_SUBDOMAIN_MSG,
            DNS1123_SUBDOMAIN_FMT,
            &["example.com"],
        ));
    }
    errs
}

/// RFC 1035 label (must start with a letter): Service names.
pub fn dns1035_label(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > LABEL_MAX {
        errs.push(max_len_error(LABEL_MAX));
    }
    if !matches_dns1035_label(value) {
        errs.push(regex_error(
            DNS1035_LABEL_MSG,
            DNS1035_LABEL_FMT,
            &["my-name", "abc-123"],
        ));
    }
    errs
}

/// A name that is used as one segment of a URL path (RBAC objects): not `.` or `..`, no `/`, no
/// `%`. With `prefix` (a `generateName`), only the characters are checked.
pub fn path_segment(value: &str, prefix: bool) -> Vec<String> {
    if !prefix {
        for bad in [".", ".."] {
            if value == bad {
                return vec![format!("may not be '{bad}'")];
            }
        }
    }
    ["/", "%"]
        .iter()
        .filter(|bad| value.contains(**bad))
        .map(|bad| format!("may not contain '{bad}'"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subdomain() {
        assert!(dns1123_subdomain("web").is_empty());
        assert!(dns1123_subdomain("example.com").is_empty());
        assert!(dns1123_subdomain("a-1.b-2").is_empty());
        assert_eq!(
            dns1123_subdomain("Web"),
            vec![
                "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
            ]
        );
        for bad in ["", "-a", "a-", "a..b", ".a", "a.", "a_b"] {
            assert_eq!(dns1123_subdomain(bad).len(), 1, "{bad}");
        }
        let long = "a".repeat(254);
        assert_eq!(
            dns1123_subdomain(&long),
            vec!["must be no more than 253 characters"]
        );
    }

    #[test]
    fn label() {
        assert!(dns1123_label("default").is_empty());
        assert!(dns1123_label("0abc").is_empty());
        assert_eq!(dns1123_label("a.b"), vec!["must not contain dots"]);
        assert_eq!(
            dns1123_label("A"),
            vec![
                "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
            ]
        );
        let long = "a".repeat(64);
        assert_eq!(
            dns1123_label(&long),
            vec!["must be no more than 63 characters"]
        );
    }

    #[test]
    fn dns1035() {
        assert!(dns1035_label("web").is_empty());
        assert_eq!(
            dns1035_label("1web"),
            vec![
                "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
            ]
        );
        assert_eq!(dns1035_label("a.b").len(), 1);
    }

    #[test]
    fn path_segments() {
        assert!(path_segment("system:admin", false).is_empty());
        assert_eq!(path_segment("..", false), vec!["may not be '..'"]);
        assert_eq!(path_segment(".", false), vec!["may not be '.'"]);
        assert!(path_segment(".", true).is_empty());
        assert_eq!(
            path_segment("a/b%c", false),
            vec!["may not contain '/'", "may not contain '%'"]
        );
    }
}
