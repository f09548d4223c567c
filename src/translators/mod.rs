//! Hand-written translators, one file per resource, each overriding the methods of its generated
//! trait that mean something more than stored-object semantics. Every other resource keeps the
//! generated defaults.

pub mod jobs;
pub mod namespaces;
pub mod nodemetrics;
pub mod persistentvolumeclaims;
pub mod persistentvolumes;
pub mod podmetrics;
pub mod pods;
pub mod selfsubjectaccessreviews;
pub mod selfsubjectreviews;
pub mod selfsubjectrulesreviews;
pub mod serviceaccounts;
pub mod services;

use crate::generated::Translators;

/// (group, resource) of the translators [`all`] registers (keep the two together): with
/// [`crate::api::stored::ACTED_ON`], the resources the README lists as acted on.
pub const TRANSLATED: &[(&str, &str)] = &[
    ("", "namespaces"),
    ("", "services"),
    ("", "persistentvolumeclaims"),
    ("", "serviceaccounts"),
    ("", "pods"),
    ("batch", "jobs"),
    ("metrics.k8s.io", "pods"),
    ("metrics.k8s.io", "nodes"),
    ("authentication.k8s.io", "selfsubjectreviews"),
    ("authorization.k8s.io", "selfsubjectaccessreviews"),
    ("authorization.k8s.io", "selfsubjectrulesreviews"),
];

/// The translators k2d serves with.
pub fn all() -> Translators {
    let mut t = Translators::default();
    t.core_v1.namespaces = Box::new(namespaces::Namespaces);
    t.core_v1.services = Box::new(services::Services);
    t.core_v1.persistentvolumeclaims = Box::new(persistentvolumeclaims::PersistentVolumeClaims);
    t.core_v1.serviceaccounts = Box::new(serviceaccounts::ServiceAccounts);
    t.core_v1.pods = Box::new(pods::Pods);
    t.batch_v1.jobs = Box::new(jobs::Jobs);
    t.metrics_v1beta1.pods = Box::new(podmetrics::PodMetrics);
    t.metrics_v1beta1.nodes = Box::new(nodemetrics::NodeMetrics);
    t.authentication_v1.selfsubjectreviews = Box::new(selfsubjectreviews::SelfSubjectReviews);
    t.authorization_v1.selfsubjectaccessreviews =
        Box::new(selfsubjectaccessreviews::SelfSubjectAccessReviews);
    t.authorization_v1.selfsubjectrulesreviews =
        Box::new(selfsubjectrulesreviews::SelfSubjectRulesReviews);
    t
}
