//! Which fields managers can own. Never: `apiVersion`, `kind`, `metadata` itself and the
//! metadata the server sets (`name`, `namespace`, `uid`, `resourceVersion`, `generation`,
//! `creationTimestamp`, `selfLink`, `managedFields`). A write to the main resource of a kind
//! with a status subresource owns nothing under `status`; a write to the status subresource
//! owns nothing else.

use std::sync::LazyLock;

use super::field_set::FieldSet;
use super::path::{Path, PathElement};
use crate::generated::RESOURCES;

/// What part of the object a write reaches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// The main resource; `status` is left to the status subresource when there is one.
    Main {
        /// The kind has a status subresource.
        status_is_separate: bool,
    },
    /// The status subresource.
    Status,
}

impl Scope {
    /// The scope of a write to this subresource (`None`: the object itself) of the kind with
    /// this schema. Other subresources (`scale`) write the main resource's fields.
    pub fn of(schema: Option<usize>, subresource: Option<&str>) -> Scope {
        if subresource == Some("status") {
            return Scope::Status;
        }
        let status_is_separate = schema.is_some_and(|s| {
            RESOURCES
                .iter()
                .any(|r| r.schema == Some(s) && r.subresources.contains(&"status"))
        });
        Scope::Main { status_is_separate }
    }

    /// `set` without what this scope leaves alone (`status`, or all but `status`).
    pub fn reset(self, set: &FieldSet) -> FieldSet {
        let status = [PathElement::field("status")];
        match self {
            Scope::Main {
                status_is_separate: true,
            } => {
                let mut s = set.clone();
                s.remove_prefix(&status);
                s
            }
            Scope::Main { .. } => set.clone(),
            Scope::Status => set.keep_prefix(&status),
        }
    }

    /// `set` without what this scope cannot own: [`Scope::reset`], and the server-set metadata.
    pub fn owned(self, set: &FieldSet) -> FieldSet {
        strip_server_metadata(&self.reset(set))
    }
}

/// The paths no manager ever owns (only these exact paths: what is below them stays).
static SERVER_METADATA: LazyLock<FieldSet> = LazyLock::new(|| {
    [
        &["apiVersion"][..],
        &["kind"],
        &["metadata"],
        &["metadata", "name"],
        &["metadata", "namespace"],
        &["metadata", "creationTimestamp"],
        &["metadata", "selfLink"],
        &["metadata", "uid"],
        &["metadata", "clusterName"],
        &["metadata", "generation"],
        &["metadata", "managedFields"],
        &["metadata", "resourceVersion"],
    ]
    .iter()
    .map(|p| Path::fields(p))
    .collect()
});

/// `set` without the metadata the server sets.
pub fn strip_server_metadata(set: &FieldSet) -> FieldSet {
    set.difference(&SERVER_METADATA)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generated::schema_index;

    #[test]
    fn server_metadata_and_status_are_not_owned() {
        let deploy = schema_index("io.k8s.api.apps.v1.Deployment");
        let set: FieldSet = [
            &["metadata"][..],
            &["metadata", "name"],
            &["metadata", "labels", "a"],
            &["status", "replicas"],
            &["spec", "replicas"],
            &["kind"],
        ]
        .iter()
        .map(|p| Path::fields(p))
        .collect();
        let main = Scope::of(deploy, None).owned(&set);
        let printed: Vec<String> = main.paths().iter().map(ToString::to_string).collect();
        assert_eq!(printed, [".metadata.labels.a", ".spec.replicas"]);
        let status = Scope::of(deploy, Some("status")).owned(&set);
        let printed: Vec<String> = status.paths().iter().map(ToString::to_string).collect();
        assert_eq!(printed, [".status.replicas"]);
        let cm = schema_index("io.k8s.api.core.v1.ConfigMap");
        assert_eq!(
            Scope::of(cm, None),
            Scope::Main {
                status_is_separate: false
            }
        );
    }
}
