//! The one fact the protobuf definitions do not carry: which scalar fields are Go pointers whose
//! zero value means something other than "unset".
//!
//! Kubernetes' `generated.proto` declares every scalar `optional`, whether the Go field is `int32`
//! or `*int32`, and k8s-pb follows it. On the wire a Go client always writes a non-pointer scalar,
//! zero or not, and writes a pointer scalar only when it is set. So a present `0`, `false` or `""`
//! is either a non-pointer zero (which Go's JSON `omitempty` drops and which means "unset") or an
//! explicit zero in a pointer (which Go's JSON keeps and which can mean something else:
//! `replicas: 0` is not "default to 1"). The decoder drops present zeros, except in the fields
//! listed here, where it keeps them as a Go client's JSON would.
//!
//! The list is hand-kept, from the Go types of k8s.io/api and k8s.io/apimachinery: pointer fields
//! of the kinds clients send in protobuf, where the zero value is meaningful or differs from the
//! default. `codegen protobuf` marks these fields `"pointer": true` in `spec/protobuf.json` and
//! reports entries that name no field (renamed upstream, or a typo).

/// (OpenAPI schema name, JSON field name) of pointer scalars whose zero is kept.
pub const KEEP_ZERO: &[(&str, &str)] = &[
    // meta/v1
    (
        "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions",
        "gracePeriodSeconds",
    ),
    (
        "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions",
        "orphanDependents",
    ),
    (
        "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions",
        "ignoreStoreReadErrorWithClusterBreakingPotential",
    ),
    (
        "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
        "deletionGracePeriodSeconds",
    ),
    (
        "io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference",
        "controller",
    ),
    (
        "io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference",
        "blockOwnerDeletion",
    ),
    ("io.k8s.apimachinery.pkg.apis.meta.v1.Preconditions", "uid"),
    (
        "io.k8s.apimachinery.pkg.apis.meta.v1.Preconditions",
        "resourceVersion",
    ),
    // apps/v1
    ("io.k8s.api.apps.v1.DeploymentSpec", "replicas"),
    ("io.k8s.api.apps.v1.DeploymentSpec", "revisionHistoryLimit"),
    (
        "io.k8s.api.apps.v1.DeploymentSpec",
        "progressDeadlineSeconds",
    ),
    ("io.k8s.api.apps.v1.ReplicaSetSpec", "replicas"),
    ("io.k8s.api.apps.v1.StatefulSetSpec", "replicas"),
    ("io.k8s.api.apps.v1.StatefulSetSpec", "revisionHistoryLimit"),
    (
        "io.k8s.api.apps.v1.RollingUpdateStatefulSetStrategy",
        "partition",
    ),
    ("io.k8s.api.apps.v1.DaemonSetSpec", "revisionHistoryLimit"),
    // batch/v1
    ("io.k8s.api.batch.v1.JobSpec", "parallelism"),
    ("io.k8s.api.batch.v1.JobSpec", "completions"),
    ("io.k8s.api.batch.v1.JobSpec", "activeDeadlineSeconds"),
    ("io.k8s.api.batch.v1.JobSpec", "backoffLimit"),
    ("io.k8s.api.batch.v1.JobSpec", "backoffLimitPerIndex"),
    ("io.k8s.api.batch.v1.JobSpec", "maxFailedIndexes"),
    ("io.k8s.api.batch.v1.JobSpec", "ttlSecondsAfterFinished"),
    ("io.k8s.api.batch.v1.JobSpec", "manualSelector"),
    ("io.k8s.api.batch.v1.JobSpec", "suspend"),
    ("io.k8s.api.batch.v1.CronJobSpec", "startingDeadlineSeconds"),
    ("io.k8s.api.batch.v1.CronJobSpec", "suspend"),
    (
        "io.k8s.api.batch.v1.CronJobSpec",
        "successfulJobsHistoryLimit",
    ),
    ("io.k8s.api.batch.v1.CronJobSpec", "failedJobsHistoryLimit"),
    // autoscaling
    (
        "io.k8s.api.autoscaling.v1.HorizontalPodAutoscalerSpec",
        "minReplicas",
    ),
    (
        "io.k8s.api.autoscaling.v1.HorizontalPodAutoscalerSpec",
        "targetCPUUtilizationPercentage",
    ),
    (
        "io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerSpec",
        "minReplicas",
    ),
    (
        "io.k8s.api.autoscaling.v2.HPAScalingRules",
        "stabilizationWindowSeconds",
    ),
    // authentication/v1
    (
        "io.k8s.api.authentication.v1.TokenRequestSpec",
        "expirationSeconds",
    ),
    // coordination/v1
    ("io.k8s.api.coordination.v1.LeaseSpec", "holderIdentity"),
    (
        "io.k8s.api.coordination.v1.LeaseSpec",
        "leaseDurationSeconds",
    ),
    ("io.k8s.api.coordination.v1.LeaseSpec", "leaseTransitions"),
    // core/v1: pods and containers
    (
        "io.k8s.api.core.v1.PodSpec",
        "terminationGracePeriodSeconds",
    ),
    ("io.k8s.api.core.v1.PodSpec", "activeDeadlineSeconds"),
    ("io.k8s.api.core.v1.PodSpec", "automountServiceAccountToken"),
    ("io.k8s.api.core.v1.PodSpec", "shareProcessNamespace"),
    ("io.k8s.api.core.v1.PodSpec", "enableServiceLinks"),
    ("io.k8s.api.core.v1.PodSpec", "setHostnameAsFQDN"),
    ("io.k8s.api.core.v1.PodSpec", "hostUsers"),
    ("io.k8s.api.core.v1.PodSpec", "priority"),
    ("io.k8s.api.core.v1.Probe", "terminationGracePeriodSeconds"),
    ("io.k8s.api.core.v1.SecurityContext", "privileged"),
    ("io.k8s.api.core.v1.SecurityContext", "runAsUser"),
    ("io.k8s.api.core.v1.SecurityContext", "runAsGroup"),
    ("io.k8s.api.core.v1.SecurityContext", "runAsNonRoot"),
    (
        "io.k8s.api.core.v1.SecurityContext",
        "readOnlyRootFilesystem",
    ),
    (
        "io.k8s.api.core.v1.SecurityContext",
        "allowPrivilegeEscalation",
    ),
    ("io.k8s.api.core.v1.PodSecurityContext", "runAsUser"),
    ("io.k8s.api.core.v1.PodSecurityContext", "runAsGroup"),
    ("io.k8s.api.core.v1.PodSecurityContext", "runAsNonRoot"),
    ("io.k8s.api.core.v1.PodSecurityContext", "fsGroup"),
    ("io.k8s.api.core.v1.Toleration", "tolerationSeconds"),
    ("io.k8s.api.core.v1.TopologySpreadConstraint", "minDomains"),
    // core/v1: volumes
    ("io.k8s.api.core.v1.SecretVolumeSource", "defaultMode"),
    ("io.k8s.api.core.v1.SecretVolumeSource", "optional"),
    ("io.k8s.api.core.v1.ConfigMapVolumeSource", "defaultMode"),
    ("io.k8s.api.core.v1.ConfigMapVolumeSource", "optional"),
    ("io.k8s.api.core.v1.ProjectedVolumeSource", "defaultMode"),
    ("io.k8s.api.core.v1.DownwardAPIVolumeSource", "defaultMode"),
    ("io.k8s.api.core.v1.DownwardAPIVolumeFile", "mode"),
    ("io.k8s.api.core.v1.KeyToPath", "mode"),
    ("io.k8s.api.core.v1.SecretProjection", "optional"),
    ("io.k8s.api.core.v1.ConfigMapProjection", "optional"),
    (
        "io.k8s.api.core.v1.ServiceAccountTokenProjection",
        "expirationSeconds",
    ),
    ("io.k8s.api.core.v1.ConfigMapKeySelector", "optional"),
    ("io.k8s.api.core.v1.SecretKeySelector", "optional"),
    ("io.k8s.api.core.v1.ConfigMapEnvSource", "optional"),
    ("io.k8s.api.core.v1.SecretEnvSource", "optional"),
    (
        "io.k8s.api.core.v1.PersistentVolumeClaimSpec",
        "storageClassName",
    ),
    // core/v1: services, accounts, secrets, config maps
    (
        "io.k8s.api.core.v1.ServiceSpec",
        "allocateLoadBalancerNodePorts",
    ),
    ("io.k8s.api.core.v1.ClientIPConfig", "timeoutSeconds"),
    (
        "io.k8s.api.core.v1.ServiceAccount",
        "automountServiceAccountToken",
    ),
    ("io.k8s.api.core.v1.Secret", "immutable"),
    ("io.k8s.api.core.v1.ConfigMap", "immutable"),
    // networking/v1, policy/v1, storage/v1
    ("io.k8s.api.networking.v1.NetworkPolicyPort", "endPort"),
    ("io.k8s.api.storage.v1.StorageClass", "allowVolumeExpansion"),
];
