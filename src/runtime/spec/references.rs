//! The ConfigMaps and Secrets a pod names, and reading them through the API.

use std::collections::HashMap;

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
    out.tokens = tokens(client, pod, ns).await;
    out.services = services(client, pod, ns).await?;
    Ok(out)
}

/// The (audience, expirationSeconds) of every projected `serviceAccountToken` source.
pub fn token_requests(pod: &Value) -> Vec<(String, i64)> {
    let mut out = Vec::new();
    for v in pod
        .pointer("/spec/volumes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        for s in v
            .pointer("/projected/sources")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(t) = s.get("serviceAccountToken") {
                let aud = t["audience"].as_str().unwrap_or_default().to_string();
                let exp = t["expirationSeconds"].as_i64().unwrap_or(3600);
                if !out.contains(&(aud.clone(), exp)) {
                    out.push((aud, exp));
                }
            }
        }
    }
    out
}

/// Tokens for the pod's projected sources, bound to the pod, asked for through TokenRequest
/// as a kubelet asks. One that cannot be had is left out (the volume then fails to mount).
async fn tokens(client: &Client, pod: &Value, ns: &str) -> HashMap<(String, i64), String> {
    let mut out = HashMap::new();
    let sa = pod
        .pointer("/spec/serviceAccountName")
        .and_then(Value::as_str)
        .unwrap_or("default");
    let meta = |f: &str| {
        pod.pointer(&format!("/metadata/{f}"))
            .cloned()
            .unwrap_or(Value::Null)
    };
    for (aud, exp) in token_requests(pod) {
        let request = serde_json::json!({
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenRequest",
            "spec": {
                "audiences": if aud.is_empty() { serde_json::json!([]) } else { serde_json::json!([aud]) },
                "expirationSeconds": exp,
                "boundObjectRef": {"apiVersion": "v1", "kind": "Pod", "name": meta("name"), "uid": meta("uid")},
            },
        });
        let path = client::path("v1", "serviceaccounts", Some(ns), Some(sa), Some("token"));
        match client.create(&path, &request).await {
            Ok(answer) => {
                if let Some(t) = answer.pointer("/status/token").and_then(Value::as_str) {
                    out.insert((aud, exp), t.to_string());
                }
            }
            Err(e) => tracing::debug!("a token for service account {ns}/{sa}: {e}"),
        }
    }
    out
}

/// The Services whose variables the pod's containers get.
async fn services(client: &Client, pod: &Value, ns: &str) -> Result<Vec<Value>, Status> {
    let mut out = Vec::new();
    let kubernetes = client::path("v1", "services", Some("default"), Some("kubernetes"), None);
    if let Some(k) = client.get(&kubernetes).await? {
        out.push(k);
    }
    let links = pod
        .pointer("/spec/enableServiceLinks")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    if links {
        let listed = client
            .list(&client::path("v1", "services", Some(ns), None, None), None)
            .await?;
        out.extend(listed.into_iter().filter(|s| {
            !(ns == "default" && s.pointer("/metadata/name") == Some(&Value::from("kubernetes")))
        }));
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
            tokens: Arc::new(crate::security::tokens::TokenIssuer::load_or_create(dir).unwrap()),
            gc: Default::default(),
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
