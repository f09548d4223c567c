//! rbac.authorization.k8s.io/v1: `SetDefaults_RoleBinding`, `SetDefaults_ClusterRoleBinding`
//! and `SetDefaults_Subject`. Roles and ClusterRoles have none.

use super::fields::{Object, child, items, set_blank, str_of};

/// The RBAC API group, the default of `roleRef.apiGroup` and of User and Group subjects.
pub const GROUP: &str = "rbac.authorization.k8s.io";

/// A RoleBinding or ClusterRoleBinding.
pub fn binding(obj: &mut Object) {
    if let Some(role_ref) = child(obj, "roleRef") {
        set_blank(role_ref, "apiGroup", GROUP);
    }
    for subject in items(obj, "subjects") {
        // ServiceAccount subjects keep the core group, "" (which is not serialised).
        if matches!(str_of(subject, "kind"), "User" | "Group") {
            set_blank(subject, "apiGroup", GROUP);
        }
    }
}
