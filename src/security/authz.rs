//! Who may do what. The admin (group `system:masters`) may do everything. Everyone else is
//! decided by RBAC over the stored Roles, ClusterRoles, RoleBindings and ClusterRoleBindings,
//! evaluated as a cluster's RBAC authorizer evaluates them, plus the one grant a cluster gives
//! every authenticated user through its default `system:basic-user` binding: asking about its own
//! rights (self-subject reviews). Discovery, OpenAPI, `/version` and the health endpoints answer
//! every authenticated user without a check (a cluster's `system:discovery` and
//! `system:public-info-viewer` bindings). Nothing else is granted by default: a pod's service
//! account token can neither read nor write anything until a RoleBinding or ClusterRoleBinding
//! says so, as on a cluster.

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

/// The built-in grant that needs no stored object (`system:basic-user`): self-subject reviews.
fn built_in(a: &Attributes<'_>) -> bool {
    matches!(a.group, "authorization.k8s.io" | "authentication.k8s.io")
        && a.verb == "create"
        && a.resource.starts_with("selfsubject")
}

/// Decides a request. `Ok` when allowed (with the reason), `Err` with the refusal message.
pub fn authorize(store: &Store, user: &User, a: &Attributes<'_>) -> Result<String, String> {
    if user.groups.iter().any(|g| g == ADMIN_GROUP) {
        return Ok(format!("{} is in group {ADMIN_GROUP}", user.name));
    }
    if built_in(a) {
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
    fn service_accounts_get_nothing_but_self_reviews_by_default() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let u = sa();
        let refused = |verb, group, resource, sub: Option<&'static str>| {
            let mut a = attrs(verb, group, resource);
            a.subresource = sub;
            authorize(&store, &u, &a).is_err()
        };
        for verb in [
            "get", "list", "watch", "create", "update", "patch", "delete",
        ] {
            assert!(refused(verb, "", "pods", None), "{verb} pods");
            assert!(refused(verb, "", "secrets", None), "{verb} secrets");
            assert!(
                refused(verb, "apps", "deployments", None),
                "{verb} deployments"
            );
        }
        for sub in ["exec", "attach", "portforward", "log", "status"] {
            assert!(
                refused("create", "", "pods", Some(sub)),
                "create pods/{sub}"
            );
            assert!(refused("get", "", "pods", Some(sub)), "get pods/{sub}");
        }
        assert!(
            authorize(
                &store,
                &u,
                &attrs("create", "authorization.k8s.io", "selfsubjectaccessreviews")
            )
            .is_ok()
        );
        assert!(refused(
            "create",
            "authorization.k8s.io",
            "subjectaccessreviews",
            None
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
