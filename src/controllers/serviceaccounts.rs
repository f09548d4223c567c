//! What every namespace holds in a cluster without anyone creating it: the `default`
//! ServiceAccount and the `kube-root-ca.crt` ConfigMap (the CA pods use to verify the API
//! server); both come back when deleted, and the ConfigMap follows a new CA at start. Also the default ClusterRoles that bindings name
//! (`cluster-admin`, `admin`, `edit`, `view`), created when missing.

use serde_json::{Value, json};

use crate::client::{Client, path};
use crate::store::EventKind;

/// The ConfigMap holding the cluster's CA certificate in every namespace.
pub const ROOT_CA_CONFIGMAP: &str = "kube-root-ca.crt";

/// The API groups the aggregated `edit` and `view` roles cover.
const WORKLOAD_GROUPS: &[&str] = &[
    "",
    "apps",
    "batch",
    "autoscaling",
    "networking.k8s.io",
    "policy",
    "discovery.k8s.io",
    "storage.k8s.io",
    "coordination.k8s.io",
    "events.k8s.io",
];

/// What `view` may read: every resource of the workload groups except Secrets.
const VIEWABLE: &[&str] = &[
    "pods",
    "pods/log",
    "pods/status",
    "services",
    "endpoints",
    "configmaps",
    "serviceaccounts",
    "persistentvolumeclaims",
    "persistentvolumeclaims/status",
    "events",
    "limitranges",
    "resourcequotas",
    "replicationcontrollers",
    "namespaces",
    "deployments",
    "deployments/scale",
    "deployments/status",
    "replicasets",
    "replicasets/scale",
    "replicasets/status",
    "statefulsets",
    "statefulsets/scale",
    "daemonsets",
    "controllerrevisions",
    "jobs",
    "cronjobs",
    "horizontalpodautoscalers",
    "ingresses",
    "networkpolicies",
    "poddisruptionbudgets",
    "endpointslices",
    "leases",
];

/// The default ClusterRoles, as (name, rules).
fn default_roles() -> Vec<(&'static str, Value)> {
    let all = json!([
        {"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]},
        {"nonResourceURLs": ["*"], "verbs": ["*"]}
    ]);
    let edit = json!([{"apiGroups": WORKLOAD_GROUPS, "resources": ["*"], "verbs": ["*"]}]);
    let admin = json!([
        {"apiGroups": WORKLOAD_GROUPS, "resources": ["*"], "verbs": ["*"]},
        {"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["roles", "rolebindings"], "verbs": ["*"]}
    ]);
    let view = json!([{"apiGroups": WORKLOAD_GROUPS, "resources": VIEWABLE, "verbs": ["get", "list", "watch"]}]);
    vec![
        ("cluster-admin", all),
        ("admin", admin),
        ("edit", edit),
        ("view", view),
    ]
}

async fn ensure(client: &Client, collection: &str, name: &str, obj: Value) {
    let p = format!("{collection}/{name}");
    match client.get(&p).await {
        Ok(Some(_)) => {}
        Ok(None) => {
            if let Err(e) = client.create(collection, &obj).await
                && e.code != 409
                && e.code != 403
            {
                tracing::warn!("creating {p}: {e}");
            }
        }
        Err(e) => tracing::warn!("reading {p}: {e}"),
    }
}

/// Gives a namespace its `default` ServiceAccount and root CA ConfigMap.
async fn fill(client: &Client, ns: &str, ca: &str) {
    ensure(
        client,
        &path("v1", "serviceaccounts", Some(ns), None, None),
        "default",
        json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default"}}),
    )
    .await;
    ensure(
        client,
        &path("v1", "configmaps", Some(ns), None, None),
        ROOT_CA_CONFIGMAP,
        json!({"apiVersion": "v1", "kind": "ConfigMap",
               "metadata": {"name": ROOT_CA_CONFIGMAP,
                            "annotations": {"kubernetes.io/description": "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters."}},
               "data": {"ca.crt": ca}}),
    )
    .await;
    // After the CA was rotated (its files deleted before a restart), the ConfigMap that pods
    // mount carries the new CA; written only when it differs.
    let cm = path("v1", "configmaps", Some(ns), Some(ROOT_CA_CONFIGMAP), None);
    if let Ok(Some(existing)) = client.get(&cm).await
        && existing.pointer("/data/ca.crt").and_then(Value::as_str) != Some(ca)
        && let Err(e) = client
            .merge_patch(&cm, &json!({"data": {"ca.crt": ca}}))
            .await
    {
        tracing::warn!("updating {cm}: {e}");
    }
}

fn active(ns: &Value) -> bool {
    ns.pointer("/metadata/deletionTimestamp").is_none()
}

/// Starts the controller; `ca` is the PEM of k2d's CA certificate.
pub fn start(client: Client, ca: String) {
    tokio::spawn(async move {
        let roles = path(
            "rbac.authorization.k8s.io/v1",
            "clusterroles",
            None,
            None,
            None,
        );
        for (name, rules) in default_roles() {
            let role = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                "metadata": {"name": name, "labels": {"kubernetes.io/bootstrapping": "rbac-defaults"}},
                "rules": rules});
            ensure(&client, &roles, name, role).await;
        }
        loop {
            if let Err(e) = follow(&client, &ca).await {
                tracing::warn!("service account controller: {e}; starting over");
            }
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        }
    });
}

async fn follow(client: &Client, ca: &str) -> anyhow::Result<()> {
    let store = client.ctx().store.clone();
    let (namespaces, _, mut ns_watch) = store.list_and_watch("", "namespaces", None)?;
    let mut sa_watch = store.watch("", "serviceaccounts", None, None)?;
    let mut cm_watch = store.watch("", "configmaps", None, None)?;
    for ns in namespaces.iter().filter(|n| active(n)) {
        if let Some(name) = ns.pointer("/metadata/name").and_then(Value::as_str) {
            fill(client, name, ca).await;
        }
    }
    loop {
        let (ev, wanted) = tokio::select! {
            ev = ns_watch.recv() => (ev, None),
            ev = sa_watch.recv() => (ev, Some("default")),
            ev = cm_watch.recv() => (ev, Some(ROOT_CA_CONFIGMAP)),
        };
        let Some(ev) = ev else {
            anyhow::bail!("a watch ended")
        };
        let ns = ev.key.namespace.clone();
        match wanted {
            None if ev.kind == EventKind::Added && active(&ev.object) => {
                fill(client, &ev.key.name, ca).await;
            }
            Some(name) if ev.kind == EventKind::Deleted && ev.key.name == name => {
                let namespace =
                    store.get(&crate::store::ObjectKey::new("", "namespaces", "", &ns))?;
                if namespace.as_ref().is_some_and(active) {
                    fill(client, &ns, ca).await;
                }
            }
            _ => {}
        }
    }
}
