//! Registry credentials from a pod's imagePullSecrets: `kubernetes.io/dockerconfigjson`
//! (`{"auths": {registry: {...}}}`) and the older `kubernetes.io/dockercfg`
//! (`{registry: {...}}`), matched against the image's registry the way the kubelet's
//! credential keyring matches (scheme and `/v1/` suffixes ignored, Docker Hub's aliases,
//! `host:port`, `*.` wildcards and path prefixes).

use base64::Engine as _;
use bollard::auth::DockerCredentials;
use serde_json::Value;

use super::env::secret_bytes;
use super::{Resolved, list_at, str_at};

/// Docker Hub as image names name it.
const DOCKER_HUB: &str = "docker.io";
/// Docker Hub as the engine names it in credentials.
const DOCKER_HUB_SERVER: &str = "https://index.docker.io/v1/";

/// The credentials of the first imagePullSecret entry matching `image` (the most specific
/// entry of that secret when several match).
pub fn for_image(pod: &Value, resolved: &Resolved, image: &str) -> Option<DockerCredentials> {
    let (registry, repo) = split_image(image);
    for r in list_at(
        pod.pointer("/spec").unwrap_or(&Value::Null),
        "imagePullSecrets",
    ) {
        let Some(secret) = str_at(r, "name").and_then(|n| resolved.secrets.get(n)) else {
            continue;
        };
        let Some(auths) = auths(secret) else { continue };
        let best = auths
            .iter()
            .filter_map(|(key, entry)| {
                let score = matches(key, &registry, &repo)?;
                Some((score, key, entry))
            })
            .max_by_key(|(score, _, _)| *score);
        if let Some((_, _, entry)) = best {
            return Some(credentials(entry, &registry));
        }
    }
    None
}

/// The registry entries of a pull secret.
fn auths(secret: &Value) -> Option<serde_json::Map<String, Value>> {
    let data = secret_bytes(secret);
    let find = |k: &str| {
        data.iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
    };
    if let Some(bytes) = find(".dockerconfigjson") {
        let v: Value = serde_json::from_slice(&bytes).ok()?;
        return v.get("auths").and_then(Value::as_object).cloned();
    }
    let bytes = find(".dockercfg")?;
    let v: Value = serde_json::from_slice(&bytes).ok()?;
    v.as_object().cloned()
}

fn credentials(entry: &Value, registry: &str) -> DockerCredentials {
    let text = |k| str_at(entry, k).filter(|s| !s.is_empty()).map(String::from);
    let mut c = DockerCredentials {
        username: text("username"),
        password: text("password"),
        auth: text("auth"),
        email: text("email"),
        serveraddress: Some(if registry == DOCKER_HUB {
            DOCKER_HUB_SERVER.to_string()
        } else {
            registry.to_string()
        }),
        identitytoken: text("identitytoken"),
        registrytoken: text("registrytoken"),
    };
    if let Some(auth) = &c.auth
        && c.username.is_none()
        && let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(auth.trim())
        && let Ok(text) = String::from_utf8(decoded)
        && let Some((u, p)) = text.split_once(':')
    {
        c.username = Some(u.to_string());
        c.password = Some(p.to_string());
    }
    c
}

/// An image's registry host (`docker.io` when it names none) and repository path.
pub fn split_image(image: &str) -> (String, String) {
    let without_digest = image.split('@').next().unwrap_or(image);
    let (first, rest) = match without_digest.split_once('/') {
        Some((f, r)) if f.contains('.') || f.contains(':') || f == "localhost" => {
            (normalize_host(f), r.to_string())
        }
        _ => (DOCKER_HUB.to_string(), without_digest.to_string()),
    };
    // Drop the tag (a colon after the last slash).
    let repo = match rest.rsplit_once(':') {
        Some((r, tag)) if !tag.contains('/') => r.to_string(),
        _ => rest,
    };
    (first, repo)
}

fn normalize_host(host: &str) -> String {
    let h = host.to_ascii_lowercase();
    match h.as_str() {
        "index.docker.io" | "registry-1.docker.io" | "registry.hub.docker.com" => DOCKER_HUB.into(),
        _ => h,
    }
}

/// How specifically the config key `key` matches (`None`: not at all): longer matched paths
/// and exact hosts win over wildcards.
fn matches(key: &str, registry: &str, repo: &str) -> Option<usize> {
    let k = key
        .trim()
        .trim_start_matches("https://")
        .trim_start_matches("http://");
    let (host, path) = match k.split_once('/') {
        Some((h, p)) => (h, p.trim_end_matches('/')),
        None => (k, ""),
    };
    // The `/v1/` and `/v2/` API paths of old configs name the whole registry.
    let path = if matches!(path, "v1" | "v2") {
        ""
    } else {
        path
    };
    let host = normalize_host(host);
    let exact = host == registry;
    let wild = !exact && wildcard(&host, registry);
    if !exact && !wild {
        return None;
    }
    if !(path.is_empty() || repo == path || repo.starts_with(&format!("{path}/"))) {
        return None;
    }
    Some(path.len() * 4 + if exact { 2 } else { 1 })
}

/// `*.example.com` matches `a.example.com` (one label per `*`), with equal ports.
fn wildcard(pattern: &str, host: &str) -> bool {
    let (pat_host, pat_port) = pattern.split_once(':').unwrap_or((pattern, ""));
    let (h, port) = host.split_once(':').unwrap_or((host, ""));
    if pat_port != port || !pat_host.contains('*') {
        return false;
    }
    let p: Vec<&str> = pat_host.split('.').collect();
    let hs: Vec<&str> = h.split('.').collect();
    p.len() == hs.len()
        && p.iter().zip(&hs).all(|(p, h)| {
            *p == "*" || p == h || (p.ends_with('*') && h.starts_with(p.trim_end_matches('*')))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::spec::testutil::b64;
    use serde_json::json;

    fn with_secrets(secrets: Vec<(&str, Value)>) -> (Value, Resolved) {
        let mut r = Resolved::default();
        let mut refs = Vec::new();
        for (name, s) in secrets {
            r.secrets.insert(name.into(), s);
            refs.push(json!({"name": name}));
        }
        (json!({"spec": {"imagePullSecrets": refs}}), r)
    }

    fn dockerconfigjson(auths: Value) -> Value {
        json!({"type": "kubernetes.io/dockerconfigjson",
            "data": {".dockerconfigjson": b64(&json!({"auths": auths}).to_string())}})
    }

    #[test]
    fn image_names() {
        assert_eq!(split_image("nginx"), ("docker.io".into(), "nginx".into()));
        assert_eq!(
            split_image("library/nginx:1.27"),
            ("docker.io".into(), "library/nginx".into())
        );
        assert_eq!(
            split_image("docker.io/bitnami/redis:7"),
            ("docker.io".into(), "bitnami/redis".into())
        );
        assert_eq!(
            split_image("index.docker.io/x/y"),
            ("docker.io".into(), "x/y".into())
        );
        assert_eq!(
            split_image("localhost:5000/app:dev"),
            ("localhost:5000".into(), "app".into())
        );
        assert_eq!(
            split_image("ghcr.io/org/tool@sha256:abcd"),
            ("ghcr.io".into(), "org/tool".into())
        );
        assert_eq!(
            split_image("Registry.Example.com/a/b"),
            ("registry.example.com".into(), "a/b".into())
        );
    }

    #[test]
    fn docker_hub_with_auth_field() {
        let (pod, r) = with_secrets(vec![(
            "hub",
            dockerconfigjson(
                json!({"https://index.docker.io/v1/": {"auth": b64("alice:pw:with:colons")}}),
            ),
        )]);
        let c = for_image(&pod, &r, "alice/app:1").unwrap();
        assert_eq!(c.username.as_deref(), Some("alice"));
        assert_eq!(c.password.as_deref(), Some("pw:with:colons"));
        assert_eq!(
            c.serveraddress.as_deref(),
            Some("https://index.docker.io/v1/")
        );
        assert!(for_image(&pod, &r, "ghcr.io/alice/app").is_none());
    }

    #[test]
    fn host_port_path_and_wildcards() {
        let (pod, r) = with_secrets(vec![(
            "many",
            dockerconfigjson(json!({
                "registry.example.com:5000": {"username": "port", "password": "p1"},
                "registry.example.com": {"username": "plain", "password": "p2"},
                "registry.example.com/team-a": {"username": "team", "password": "p3"},
                "*.corp.example": {"username": "wild", "password": "p4"}
            })),
        )]);
        let user = |image| for_image(&pod, &r, image).and_then(|c| c.username);
        assert_eq!(
            user("registry.example.com:5000/app").as_deref(),
            Some("port")
        );
        assert_eq!(user("registry.example.com/app").as_deref(), Some("plain"));
        assert_eq!(
            user("registry.example.com/team-a/app:2").as_deref(),
            Some("team")
        );
        assert_eq!(
            user("registry.example.com/team-ab/app").as_deref(),
            Some("plain")
        );
        assert_eq!(user("eu.corp.example/x").as_deref(), Some("wild"));
        assert_eq!(user("a.b.corp.example/x"), None);
        assert_eq!(user("registry.example.com:6000/app"), None);
    }

    #[test]
    fn legacy_dockercfg_and_secret_order() {
        let legacy = json!({"type": "kubernetes.io/dockercfg",
            "data": {".dockercfg": b64(&json!({"quay.io": {"auth": b64("bob:pw"), "email": "b@x"}}).to_string())}});
        let (pod, r) = with_secrets(vec![
            (
                "broken",
                json!({"type": "kubernetes.io/dockerconfigjson", "data": {".dockerconfigjson": b64("{not json")}}),
            ),
            (
                "missing-type",
                json!({"type": "Opaque", "data": {"x": b64("y")}}),
            ),
            ("legacy", legacy),
        ]);
        let c = for_image(&pod, &r, "quay.io/bob/app").unwrap();
        assert_eq!(c.username.as_deref(), Some("bob"));
        assert_eq!(c.email.as_deref(), Some("b@x"));
        assert_eq!(c.serveraddress.as_deref(), Some("quay.io"));
        assert!(for_image(&json!({}), &r, "quay.io/bob/app").is_none());
    }
}
