//! Who may do what. The admin (group `system:masters`) may do everything. Everyone else is
//! decided by RBAC over the stored Roles, ClusterRoles, RoleBindings and ClusterRoleBindings,
//! evaluated as a cluster's RBAC authorizer evaluates them, plus two built-in grants: every
//! authenticated user may ask about its own rights (self-subject reviews), and every service
//! account may read (get, list, watch) every resource except Secrets.

use serde_json::Value;

use super::auth::{ADMIN_GROUP, User};
use crate::store::{ObjectKey, Store};

/// The group every service account is in.
pub const SERVICE_ACCOUNTS_GROUP: &str = "system:serviceaccounts";

/// What a request does, as RBAC sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attributes<'a> {
    /// get, list, watch, create, update, patch, delete, deletecollection.
    pub verb: &'a str,
    /// API group ("" for core).
    pub group: &'a str,
    /// Resource (plural).
    pub resource: &'a str,
    /// Subresource, if any.
    pub subresource: Option<&'a str>,
    /// Namespace, for namespaced requests.
    pub namespace: Option<&'a str>,
    /// Object name, when the request names one.
    pub name: Option<&'a str>,
}

impl Attributes<'_> {
    /// `pods` or `pods/log`.
    pub fn resource_path(&self) -> String {
        match self.subresource {
            Some(s) => format!("{}/{s}", self.resource),
            None => self.resource.to_string(),
        }
    }

    /// The message of a refusal, worded as the real server words it.
    pub fn forbidden_message(&self, user: &User) -> String {
        let what = match self.name {
            Some(n) if !n.is_empty() => format!("{} \"{n}\"", self.qualified()),
            _ => self.qualified(),
        };
        let scope = match self.namespace {
            Some(ns) if !ns.is_empty() => format!(" in the namespace \"{ns}\""),
            _ => " at the cluster scope".to_string(),
        };
        format!(
            "{what} is forbidden: User \"{}\" cannot {} resource \"{}\" in API group \"{}\"{scope}",
            user.name,
            self.verb,
            self.resource_path(),
            self.group
        )
    }

    fn qualified(&self) -> String {
        let base = if self.group.is_empty() {
            self.resource.to_string()
        } else {
            format!("{}.{}", self.resource, self.group)
        };
        match self.subresource {
            Some(s) => format!("{base}/{s}"),
            None => base,
        }
    }
}

fn strings(v: &Value, field: &str) -> Vec<String> {
    v[field]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// `true` when one PolicyRule allows the request.
pub fn rule_allows(rule: &Value, a: &Attributes<'_>) -> bool {
    let verbs = strings(rule, "verbs");
    if !verbs.iter().any(|v| v == "*" || v == a.verb) {
        return false;
    }
    let groups = strings(rule, "apiGroups");
    if !groups.iter().any(|g| g == "*" || g == a.group) {
        return false;
    }
    let path = a.resource_path();
    let resources = strings(rule, "resources");
    let resource_ok = resources.iter().any(|r| {
        r == "*"
            || *r == path
            || (a.subresource.is_none() && r == a.resource)
            || (a.subresource.is_some() && *r == format!("{}/*", a.resource))
            || a.subresource.is_some_and(|s| *r == format!("*/{s}"))
    });
    if !resource_ok {
        return false;
    }
    let names = strings(rule, "resourceNames");
    names.is_empty() || a.name.is_some_and(|n| names.iter().any(|r| r == n))
}

/// `true` when a binding subject is this user.
fn subject_matches(subject: &Value, user: &User) -> bool {
    let name = subject["name"].as_str().unwrap_or_default();
    match subject["kind"].as_str().unwrap_or_default() {
        "User" => name == user.name,
        "Group" => user.groups.iter().any(|g| g == name),
        "ServiceAccount" => {
            let ns = subject["namespace"].as_str().unwrap_or_default();
            user.name == format!("system:serviceaccount:{ns}:{name}")
        }
        _ => false,
    }
}

/// The built-in grants that need no stored object.
fn built_in(user: &User, a: &Attributes<'_>) -> bool {
    if a.group == "authorization.k8s.io" || a.group == "authentication.k8s.io" {
        return a.verb == "create" && a.resource.starts_with("selfsubject");
    }
    user.groups.iter().any(|g| g == SERVICE_ACCOUNTS_GROUP)
        && matches!(a.verb, "get" | "list" | "watch")
        && !(a.group.is_empty() && a.resource == "secrets")
        && a.subresource
            .is_none_or(|s| matches!(s, "status" | "scale" | "log"))
}

/// Decides a request. `Ok` when allowed (with the reason), `Err` with the refusal message.
pub fn authorize(store: &Store, user: &User, a: &Attributes<'_>) -> Result<String, String> {
    if user.groups.iter().any(|g| g == ADMIN_GROUP) {
        return Ok(format!("{} is in group {ADMIN_GROUP}", user.name));
    }
    if built_in(user, a) {
        return Ok("allowed by k2d's built-in grants".into());
    }
    let list = |resource: &str, ns: Option<&str>| {
        store
            .list("rbac.authorization.k8s.io", resource, ns)
            .map(|(items, _)| items)
            .unwrap_or_default()
    };
    let role_rules = |kind: &str, name: &str, ns: &str| -> Vec<Value> {
        let key = match kind {
            "ClusterRole" => ObjectKey::new("rbac.authorization.k8s.io", "clusterroles", "", name),
            "Role" => ObjectKey::new("rbac.authorization.k8s.io", "roles", ns, name),
            _ => return Vec::new(),
        };
        store
            .get(&key)
            .ok()
            .flatten()
            .and_then(|r| r["rules"].as_array().cloned())
            .unwrap_or_default()
    };
    let mut bindings = list("clusterrolebindings", None);
    let ns = a.namespace.filter(|n| !n.is_empty());
    if let Some(ns) = ns {
        bindings.extend(list("rolebindings", Some(ns)));
    }
    for b in &bindings {
        let subjects = b["subjects"].as_array().cloned().unwrap_or_default();
        if !subjects.iter().any(|s| subject_matches(s, user)) {
            continue;
        }
        let kind = b["roleRef"]["kind"].as_str().unwrap_or_default();
        let role = b["roleRef"]["name"].as_str().unwrap_or_default();
        let bns = b["metadata"]["namespace"].as_str().unwrap_or_default();
        if role_rules(kind, role, bns)
            .iter()
            .any(|r| rule_allows(r, a))
        {
            let bname = b["metadata"]["name"].as_str().unwrap_or_default();
            return Ok(format!(
                "RBAC: allowed by binding {bname:?} of {kind} {role:?}"
            ));
        }
    }
    Err(a.forbidden_message(user))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sa() -> User {
        User {
            name: "system:serviceaccount:t:default".into(),
            groups: vec![
                SERVICE_ACCOUNTS_GROUP.into(),
                "system:serviceaccounts:t".into(),
                "system:authenticated".into(),
            ],
        }
    }

    fn attrs<'a>(verb: &'a str, group: &'a str, resource: &'a str) -> Attributes<'a> {
        Attributes {
            verb,
            group,
            resource,
            subresource: None,
            namespace: Some("t"),
            name: None,
        }
    }

    #[test]
    fn rules_match_as_rbac_does() {
        let rule = json!({"apiGroups": ["apps"], "resources": ["deployments", "deployments/scale"], "verbs": ["get", "patch"]});
        assert!(rule_allows(&rule, &attrs("get", "apps", "deployments")));
        assert!(!rule_allows(&rule, &attrs("delete", "apps", "deployments")));
        assert!(!rule_allows(&rule, &attrs("get", "", "deployments")));
        let mut scale = attrs("patch", "apps", "deployments");
        scale.subresource = Some("scale");
        assert!(rule_allows(&rule, &scale));
        let all = json!({"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]});
        assert!(rule_allows(&all, &scale));
        let named = json!({"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"], "resourceNames": ["a"]});
        let mut get_a = attrs("get", "", "configmaps");
        assert!(!rule_allows(&named, &get_a));
        get_a.name = Some("a");
        assert!(rule_allows(&named, &get_a));
        let subs = json!({"apiGroups": [""], "resources": ["pods/*"], "verbs": ["create"]});
        let mut exec = attrs("create", "", "pods");
        exec.subresource = Some("exec");
        assert!(rule_allows(&subs, &exec));
    }

    #[test]
    fn service_accounts_read_but_do_not_write_by_default() {
        let u = sa();
        assert!(built_in(&u, &attrs("list", "", "pods")));
        assert!(built_in(&u, &attrs("watch", "apps", "deployments")));
        assert!(!built_in(&u, &attrs("create", "", "pods")));
        assert!(!built_in(&u, &attrs("get", "", "secrets")));
        let mut exec = attrs("get", "", "pods");
        exec.subresource = Some("exec");
        assert!(!built_in(&u, &exec));
        assert!(built_in(
            &u,
            &attrs("create", "authorization.k8s.io", "selfsubjectaccessreviews")
        ));
    }

    #[test]
    fn refusals_are_worded_as_the_real_server_words_them() {
        let a = attrs("create", "", "pods");
        assert_eq!(
            a.forbidden_message(&sa()),
            "pods is forbidden: User \"system:serviceaccount:t:default\" cannot create resource \"pods\" in API group \"\" in the namespace \"t\""
        );
        let mut d = attrs("delete", "apps", "deployments");
        d.name = Some("web");
        d.namespace = None;
        assert_eq!(
            d.forbidden_message(&sa()),
            "deployments.apps \"web\" is forbidden: User \"system:serviceaccount:t:default\" cannot delete resource \"deployments\" in API group \"apps\" at the cluster scope"
        );
        assert!(subject_matches(
            &json!({"kind": "ServiceAccount", "name": "default", "namespace": "t"}),
            &sa()
        ));
        assert!(subject_matches(
            &json!({"kind": "Group", "name": "system:serviceaccounts:t"}),
            &sa()
        ));
        assert!(!subject_matches(
            &json!({"kind": "User", "name": "default"}),
            &sa()
        ));
    }
}
