//! API defaulting: the values kube-apiserver v1.35 fills in before it stores an object (the
//! `SetDefaults_*` functions and declarative defaults of the Kubernetes API types), so that
//! clients read back what a real server returns (`kubectl get -o yaml`, Helm's three-way merge,
//! `kubectl rollout`) and k2d's own controllers find every field they rely on.
//!
//! [`apply`] takes the group, the resource and the decoded object, on create and on update
//! (the real server defaults every object it decodes), after the request body was checked and
//! before `managedFields` are recorded (the real server records defaulted fields as the
//! writer's). It only fills in what is not set, except where the real server normalises: the
//! deprecated `serviceAccount` of pod specs mirrors `serviceAccountName`, and a Service with
//! `sessionAffinity: None` loses any `sessionAffinityConfig`.
//!
//! # What is filled in
//!
//! - Every resource: the defaults its OpenAPI schema declares, and `{}` for the fields the Go
//!   types always serialise (see [`schema`]).
//! - Pod specs, in Pods and in every pod template (Deployment, ReplicaSet, StatefulSet,
//!   DaemonSet, Job, CronJob's `jobTemplate`): `dnsPolicy`, `restartPolicy`, `securityContext`,
//!   `terminationGracePeriodSeconds`, `schedulerName`; per container `imagePullPolicy`,
//!   termination message path and policy, `resources: {}`, port protocols, probe timings and
//!   `httpGet` path and scheme, `fieldRef.apiVersion`; volume modes and sources. Pods alone
//!   also get `enableServiceLinks`, requests copied from limits and, with `hostNetwork`, host
//!   ports (see [`pod`], [`container`], [`volumes`]).
//! - Services, Secrets, PersistentVolumes and claims, Endpoints, Nodes, Events ([`service`],
//!   [`core_kinds`]); the apps workloads ([`apps`]); Jobs and CronJobs ([`batch`]);
//!   HorizontalPodAutoscalers v1 and v2 ([`autoscaling`]); NetworkPolicies ([`networking`]);
//!   EndpointSlices ([`discovery`]); RoleBindings ([`rbac`]); StorageClasses ([`storage`]);
//!   the status counters the Go types always serialise ([`status`]).
//!
//! # What is not done here, and where it belongs
//!
//! - Cluster IPs: the real server allocates `clusterIP`/`clusterIPs` (and node ports) when it
//!   stores a Service; that is the Service translator's job. What does not depend on the
//!   address is done here: `ipFamilyPolicy` and `ipFamilies` (k2d's service network is single
//!   stack IPv4), and `clusterIP`/`clusterIPs` mirroring each other when one is given.
//! - Admission plugins, which run on create only and only for Pods: the `ServiceAccount`,
//!   `Priority` (`priority: 0`, `preemptionPolicy`) and `DefaultTolerationSeconds`
//!   (`not-ready`/`unreachable` tolerations for 300 s) results are in
//!   [`admission::pod_on_create`], for the Pod create path to call; the service account token
//!   volume is left to whatever serves tokens to containers. `DefaultStorageClass`
//!   (`storageClassName` of claims) is not done: k2d has no default StorageClass.
//! - What the resources' storage strategies do on create: Job selectors and template labels,
//!   status resets, the Deployment revision annotation, Namespace labels, finalizers and phase
//!   (completed where Namespaces are created), generation.
//! - Quantities are kept as sent: the real server rounds resource quantities up to milli-units
//!   and writes them in canonical form (`0.5` becomes `500m`). Pod-level `spec.resources`
//!   (aggregated from the containers' resources) are not defaulted either.
//! - Serialised `null`s: timestamps such as a core Event's `eventTime`, and the
//!   `currentMetrics: null` of a v2 autoscaler's status, are left absent (clients read absent
//!   and `null` alike).

pub mod admission;
pub mod apps;
pub mod autoscaling;
pub mod batch;
pub mod container;
pub mod core_kinds;
pub mod discovery;
mod fields;
pub mod image;
pub mod networking;
pub mod pod;
pub mod rbac;
pub mod schema;
pub mod service;
pub mod status;
pub mod storage;
pub mod volumes;

#[cfg(test)]
mod tests;

use serde_json::Value;

use fields::Object;

/// A defaulting function of one kind.
type Defaulter = fn(&mut Object);

/// The hand-written defaulters, by group and resource (core is `""`).
const DEFAULTERS: &[(&str, &str, &[Defaulter])] = &[
    ("", "pods", &[pod::pod]),
    ("", "services", &[service::service]),
    ("", "secrets", &[core_kinds::secret]),
    (
        "",
        "persistentvolumeclaims",
        &[core_kinds::persistent_volume_claim],
    ),
    ("", "persistentvolumes", &[core_kinds::persistent_volume]),
    ("", "endpoints", &[core_kinds::endpoints]),
    ("", "nodes", &[core_kinds::node]),
    ("", "events", &[core_kinds::event]),
    ("apps", "deployments", &[apps::deployment]),
    (
        "apps",
        "replicasets",
        &[apps::replica_set, status::replica_set],
    ),
    (
        "apps",
        "statefulsets",
        &[apps::stateful_set, status::stateful_set],
    ),
    (
        "apps",
        "daemonsets",
        &[apps::daemon_set, status::daemon_set],
    ),
    ("batch", "jobs", &[batch::job]),
    ("batch", "cronjobs", &[batch::cron_job]),
    (
        "autoscaling",
        "horizontalpodautoscalers",
        &[
            autoscaling::horizontal_pod_autoscaler,
            status::horizontal_pod_autoscaler,
        ],
    ),
    (
        "networking.k8s.io",
        "networkpolicies",
        &[networking::network_policy],
    ),
    (
        "discovery.k8s.io",
        "endpointslices",
        &[discovery::endpoint_slice],
    ),
    (
        "rbac.authorization.k8s.io",
        "rolebindings",
        &[rbac::binding],
    ),
    (
        "rbac.authorization.k8s.io",
        "clusterrolebindings",
        &[rbac::binding],
    ),
    (
        "storage.k8s.io",
        "storageclasses",
        &[storage::storage_class],
    ),
    (
        "policy",
        "poddisruptionbudgets",
        &[status::pod_disruption_budget],
    ),
];

/// Resources whose defaults are applied elsewhere (Namespaces: where they are created).
const ELSEWHERE: &[(&str, &str)] = &[("", "namespaces")];

/// Fills in, in place, the defaults kube-apiserver gives an object of this resource (`group` is
/// `""` or `"core"` for the core group). A `resource/status` write is defaulted as the resource;
/// other subresources (`scale`, ...) carry other kinds and are left alone, as is anything that
/// is not a JSON object.
pub fn apply(group: &str, resource: &str, obj: &mut Value) {
    let Some((group, resource)) = target(group, resource) else {
        return;
    };
    let Value::Object(obj) = obj else {
        return;
    };
    if let Some(schema) = schema::schema_of(group, resource, obj) {
        schema::fill(obj, schema);
    }
    for defaulter in defaulters(group, resource) {
        defaulter(obj);
    }
}

/// Whether [`apply`] can change objects of this resource (`false` for kinds without defaults a
/// client could see, such as ConfigMaps, ServiceAccounts and Roles).
pub fn resource_has_defaults(group: &str, resource: &str) -> bool {
    let Some((group, resource)) = target(group, resource) else {
        return false;
    };
    !defaulters(group, resource).is_empty()
        || schema::schema_of(group, resource, &Object::new()).is_some_and(schema::has_defaults)
}

/// The group and resource to default, `None` when nothing is defaulted here.
fn target<'a>(group: &'a str, resource: &'a str) -> Option<(&'a str, &'a str)> {
    let group = if group == "core" { "" } else { group };
    let resource = match resource.split_once('/') {
        None => resource,
        Some((resource, "status")) => resource,
        Some(_) => return None,
    };
    (!ELSEWHERE.contains(&(group, resource))).then_some((group, resource))
}

fn defaulters(group: &str, resource: &str) -> &'static [Defaulter] {
    DEFAULTERS
        .iter()
        .find(|(g, r, _)| *g == group && *r == resource)
        .map_or(&[], |(_, _, d)| d)
}
