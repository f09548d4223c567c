//! The ConfigMaps and Secrets a pod names, and reading them through the API.

use serde_json::Value;

use super::{Resolved, list_at, str_at};
use crate::api::Status;
use crate::client::{self, Client};

/// (ConfigMap names, Secret names), each once, in the order the pod names them: env
/// `valueFrom`, `envFrom` of init, app and ephemeral containers, volumes (projected sources
/// included) and imagePullSecrets.
pub fn names(pod: &Value) -> (Vec<String>, Vec<String>) {
    let mut cms = Vec::new();
    let mut secrets = Vec::new();
    let add = |list: &mut Vec<String>, name: Option<&str>| {
        if let Some(n) = name.filter(|n| !n.is_empty())
            && !list.iter().any(|x| x == n)
        {
            list.push(n.to_string());
        }
    };
    let spec = pod.get("spec").unwrap_or(&Value::Null);
    let containers = ["initContainers", "containers", "ephemeralContainers"]
        .iter()
        .flat_map(|k| list_at(spec, k));
    for c in containers {
        for var in list_at(c, "env") {
            if let Some(r) = var.pointer("/valueFrom/configMapKeyRef") {
                add(&mut cms, str_at(r, "name"));
            }
            if let Some(r) = var.pointer("/valueFrom/secretKeyRef") {
                add(&mut secrets, str_at(r, "name"));
            }
        }
        for from in list_at(c, "envFrom") {
            if let Some(r) = from.get("configMapRef") {
                add(&mut cms, str_at(r, "name"));
            }
            if let Some(r) = from.get("secretRef") {
                add(&mut secrets, str_at(r, "name"));
            }
        }
    }
    for v in list_at(spec, "volumes") {
        if let Some(cm) = v.get("configMap") {
            add(&mut cms, str_at(cm, "name"));
        }
        if let Some(s) = v.get("secret") {
            add(&mut secrets, str_at(s, "secretName"));
        }
        if let Some(p) = v.get("projected") {
            for s in list_at(p, "sources") {
                if let Some(cm) = s.get("configMap") {
                    add(&mut cms, str_at(cm, "name"));
                }
                if let Some(sec) = s.get("secret") {
                    add(&mut secrets, str_at(sec, "name"));
                }
            }
        }
    }
    for r in list_at(spec, "imagePullSecrets") {
        add(&mut secrets, str_at(r, "name"));
    }
    (cms, secrets)
}

/// Reads the objects [`names`] gives from the pod's namespace; missing ones are left out.
pub async fn resolve(client: &Client, pod: &Value) -> Result<Resolved, Status> {
    let ns = pod
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or("default");
    let (cms, secrets) = names(pod);
    let mut out = Resolved::default();
    for name in cms {
        let path = client::path("v1", "configmaps", Some(ns), Some(&name), None);
        if let Some(obj) = client.get(&path).await? {
            out.configmaps.insert(name, obj);
        }
    }
    for name in secrets {
        let path = client::path("v1", "secrets", Some(ns), Some(&name), None);
        if let Some(obj) = client.get(&path).await? {
            out.secrets.insert(name, obj);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_place_a_pod_names_them() {
        let pod = json!({"spec": {
            "initContainers": [{"name": "init", "envFrom": [{"secretRef": {"name": "init-secret"}}]}],
            "containers": [{"name": "app",
                "env": [
                    {"name": "A", "valueFrom": {"configMapKeyRef": {"name": "env-cm", "key": "a"}}},
                    {"name": "B", "valueFrom": {"secretKeyRef": {"name": "env-secret", "key": "b"}}},
                    {"name": "C", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                    {"name": "D", "value": "plain"}
                ],
                "envFrom": [{"configMapRef": {"name": "from-cm"}}, {"configMapRef": {"name": "env-cm"}}]}],
            "ephemeralContainers": [{"name": "debug", "envFrom": [{"configMapRef": {"name": "debug-cm"}}]}],
            "volumes": [
                {"name": "v1", "configMap": {"name": "vol-cm"}},
                {"name": "v2", "secret": {"secretName": "vol-secret"}},
                {"name": "v3", "projected": {"sources": [
                    {"configMap": {"name": "proj-cm"}}, {"secret": {"name": "proj-secret"}},
                    {"serviceAccountToken": {"path": "t"}}]}},
                {"name": "v4", "emptyDir": {}}
            ],
            "imagePullSecrets": [{"name": "regcred"}, {"name": "env-secret"}]
        }});
        let (cms, secrets) = names(&pod);
        assert_eq!(
            cms,
            vec!["env-cm", "from-cm", "debug-cm", "vol-cm", "proj-cm"]
        );
        assert_eq!(
            secrets,
            vec![
                "init-secret",
                "env-secret",
                "vol-secret",
                "proj-secret",
                "regcred"
            ]
        );
        assert_eq!(names(&json!({})), (vec![], vec![]));
    }

    /// A client over a fresh store holding the default namespaces.
    fn client(dir: &std::path::Path) -> Client {
        use crate::api::objects::{ApiContext, namespaces};
        use crate::api::router::{DEFAULT_BODY_LIMIT, Router};
        use std::sync::Arc;
        let ctx = ApiContext {
            store: Arc::new(crate::store::Store::open(dir).unwrap()),
            engine: None,
        };
        namespaces::ensure_defaults(&ctx).unwrap();
        let router = Arc::new(Router {
            translators: crate::translators::all(),
            body_limit: DEFAULT_BODY_LIMIT,
            server_address: "127.0.0.1:6443".into(),
            ctx: Arc::new(ctx),
        });
        Client::new(router, "kubelet")
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn resolve_reads_what_exists_and_leaves_out_the_rest() {
        let tmp = tempfile::tempdir().unwrap();
        let c = client(tmp.path());
        c.create(
            &client::path("v1", "configmaps", Some("default"), None, None),
            &json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"},
                "data": {"mode": "fast"}}),
        )
        .await
        .unwrap();
        c.create(
            &client::path("v1", "secrets", Some("default"), None, None),
            &json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db"},
                "stringData": {"password": "s3cr3t"}}),
        )
        .await
        .unwrap();
        let pod = json!({"metadata": {"name": "p", "namespace": "default"}, "spec": {
            "containers": [{"name": "c", "envFrom": [
                {"configMapRef": {"name": "settings"}},
                {"configMapRef": {"name": "absent", "optional": true}},
                {"secretRef": {"name": "db"}}
            ]}],
            "imagePullSecrets": [{"name": "regcred"}]
        }});
        let r = resolve(&c, &pod).await.unwrap();
        let mut cms: Vec<&String> = r.configmaps.keys().collect();
        cms.sort();
        assert_eq!(cms, vec!["settings"]);
        assert_eq!(r.configmaps["settings"]["data"]["mode"], "fast");
        assert_eq!(r.secrets.keys().collect::<Vec<_>>(), vec!["db"]);
        let decoded = crate::runtime::spec::env::secret_entries(&r.secrets["db"]);
        assert_eq!(
            decoded,
            vec![("password".to_string(), "s3cr3t".to_string())]
        );
    }
}
