//! Which naming rule each kind follows in Kubernetes v1.35, and the check of `metadata.name` and
//! `metadata.generateName` against it.
//!
//! Most kinds take an RFC 1123 subdomain. Exceptions (from the kinds' validation in
//! kube-apiserver): Namespace and StatefulSet take an RFC 1123 label, Service an RFC 1035 label
//! (it must start with a letter), the four RBAC kinds a path segment (anything without `/` or
//! `%`, but not `.` or `..`, so `system:controller:x` is valid), and CronJob a subdomain of at
//! most 52 characters (its controller appends an 11-character suffix for the Jobs it creates).
//! The self-subject reviews are never stored and carry no name rule.

use super::dns::{dns1035_label, dns1123_label, dns1123_subdomain, path_segment};
use super::field_error::FieldError;
use crate::api::model::ResourceInfo;

/// The longest CronJob name: 63 minus the `-<timestamp>` suffix of its Jobs.
const CRONJOB_NAME_MAX: usize = 52;

/// A naming rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameRule {
    /// RFC 1123 subdomain (lowercase, digits, `-`, `.`; at most 253 characters).
    Subdomain,
    /// RFC 1123 label (no dots; at most 63 characters).
    Label,
    /// RFC 1035 label (an RFC 1123 label that starts with a letter).
    Dns1035Label,
    /// One URL path segment: not `.`/`..`, no `/` or `%`.
    PathSegment,
    /// A subdomain of at most 52 characters.
    CronJob,
    /// No rule (objects that are never stored by name).
    Unchecked,
}

/// The rule for a resource, as kube-apiserver v1.35 applies it.
pub fn name_rule(resource: &ResourceInfo) -> NameRule {
    match (resource.group, resource.name) {
        ("", "namespaces") => NameRule::Label,
        ("", "services") => NameRule::Dns1035Label,
        ("apps", "statefulsets") => NameRule::Label,
        ("batch", "cronjobs") => NameRule::CronJob,
        (
            "rbac.authorization.k8s.io",
            "roles" | "clusterroles" | "rolebindings" | "clusterrolebindings",
        ) => NameRule::PathSegment,
        ("authorization.k8s.io" | "authentication.k8s.io", _) => NameRule::Unchecked,
        _ => NameRule::Subdomain,
    }
}

/// The messages for a name (`prefix == false`) or a `generateName` (`prefix == true`).
///
/// A prefix may end with `-`: like Kubernetes, the check masks a trailing dash before testing
/// (it drops the last two characters and appends `a`, which is what apimachinery does).
pub fn name_messages(rule: NameRule, name: &str, prefix: bool) -> Vec<String> {
    let masked;
    let cut = name.len().saturating_sub(2);
    let checked = if prefix
        && name.len() > 1
        && name.ends_with('-')
        && name.is_char_boundary(cut)
        && rule != NameRule::PathSegment
    {
        masked = format!("{}a", &name[..cut]);
        masked.as_str()
    } else {
        name
    };
    match rule {
        NameRule::Subdomain | NameRule::CronJob => dns1123_subdomain(checked),
        NameRule::Label => dns1123_label(checked),
        NameRule::Dns1035Label => dns1035_label(checked),
        NameRule::PathSegment => path_segment(name, prefix),
        NameRule::Unchecked => Vec::new(),
    }
}

/// Checks `metadata.name`. An empty name is `Required` (callers fill a `generateName` first).
/// Each broken rule is its own error, as in kube-apiserver.
pub fn validate_name(rule: NameRule, name: &str) -> Result<(), Vec<FieldError>> {
    if rule == NameRule::Unchecked {
        return Ok(());
    }
    if name.is_empty() {
        return Err(vec![FieldError::required(
            "metadata.name",
            "name or generateName is required",
        )]);
    }
    let mut errs: Vec<FieldError> = name_messages(rule, name, false)
        .into_iter()
        .map(|m| FieldError::invalid("metadata.name", name, m))
        .collect();
    if rule == NameRule::CronJob && name.len() > CRONJOB_NAME_MAX {
        errs.push(FieldError::invalid(
            "metadata.name",
            name,
            format!("must be no more than {CRONJOB_NAME_MAX} characters"),
        ));
    }
    if errs.is_empty() { Ok(()) } else { Err(errs) }
}

/// Checks `metadata.generateName` (empty is fine).
pub fn validate_generate_name(rule: NameRule, prefix: &str) -> Result<(), Vec<FieldError>> {
    if prefix.is_empty() || rule == NameRule::Unchecked {
        return Ok(());
    }
    let errs: Vec<FieldError> = name_messages(rule, prefix, true)
        .into_iter()
        .map(|m| FieldError::invalid("metadata.generateName", prefix, m))
        .collect();
    if errs.is_empty() { Ok(()) } else { Err(errs) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule_of(group: &str, name: &str) -> NameRule {
        let r = crate::generated::resource(group, name).expect("resource served");
        name_rule(r)
    }

    #[test]
    fn rules_per_kind() {
        assert_eq!(rule_of("", "namespaces"), NameRule::Label);
        assert_eq!(rule_of("", "services"), NameRule::Dns1035Label);
        assert_eq!(rule_of("", "pods"), NameRule::Subdomain);
        assert_eq!(rule_of("", "configmaps"), NameRule::Subdomain);
        assert_eq!(rule_of("", "secrets"), NameRule::Subdomain);
        assert_eq!(rule_of("apps", "deployments"), NameRule::Subdomain);
        assert_eq!(rule_of("apps", "statefulsets"), NameRule::Label);
        assert_eq!(rule_of("batch", "cronjobs"), NameRule::CronJob);
        assert_eq!(
            rule_of("rbac.authorization.k8s.io", "clusterroles"),
            NameRule::PathSegment
        );
        assert_eq!(
            rule_of("authorization.k8s.io", "selfsubjectaccessreviews"),
            NameRule::Unchecked
        );
    }

    #[test]
    fn the_brief_example_reads_exactly_like_kube_apiserver() {
        let errs = validate_name(NameRule::Subdomain, "Web").unwrap_err();
        assert_eq!(errs.len(), 1);
        assert_eq!(
            errs[0].to_string(),
            r#"metadata.name: Invalid value: "Web": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"#
        );
    }

    #[test]
    fn names_that_pass_and_fail() {
        assert!(validate_name(NameRule::Subdomain, "web.example").is_ok());
        assert!(validate_name(NameRule::Label, "web.example").is_err());
        assert!(validate_name(NameRule::Dns1035Label, "1web").is_err());
        assert!(validate_name(NameRule::Label, "1web").is_ok());
        assert!(validate_name(NameRule::PathSegment, "system:controller:x").is_ok());
        assert!(validate_name(NameRule::PathSegment, "a/b").is_err());
        let errs = validate_name(NameRule::Subdomain, "").unwrap_err();
        assert_eq!(
            errs[0].to_string(),
            "metadata.name: Required value: name or generateName is required"
        );
    }

    #[test]
    fn too_long_and_malformed_give_two_errors() {
        let name = format!("-{}", "a".repeat(253));
        let errs = validate_name(NameRule::Subdomain, &name).unwrap_err();
        assert_eq!(errs.len(), 2);
        assert!(
            errs[0]
                .detail
                .starts_with("must be no more than 253 characters")
        );
    }

    #[test]
    fn cronjob_names_stop_at_52() {
        assert!(validate_name(NameRule::CronJob, &"a".repeat(52)).is_ok());
        let errs = validate_name(NameRule::CronJob, &"a".repeat(53)).unwrap_err();
        assert_eq!(errs[0].detail, "must be no more than 52 characters");
    }

    #[test]
    fn generate_name_may_end_with_a_dash() {
        assert!(validate_generate_name(NameRule::Subdomain, "web-").is_ok());
        assert!(validate_generate_name(NameRule::Dns1035Label, "web-").is_ok());
        assert!(validate_generate_name(NameRule::Subdomain, "-").is_err());
        let errs = validate_generate_name(NameRule::Subdomain, "Web-").unwrap_err();
        assert_eq!(errs[0].field, "metadata.generateName");
        assert!(
            errs[0]
                .to_string()
                .starts_with(r#"metadata.generateName: Invalid value: "Web-": a lowercase"#)
        );
    }
}
