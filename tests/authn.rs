//! Issue 8, point 9 against a running k2d (`--engine none`): every wrong bearer token is a 401
//! (wrong value or length, empty, `Bearer` alone, another scheme, a JWT of another key, an
//! expired service account token, the token of a deleted service account or pod), a valid
//! service account token gets discovery and nothing else, the data directory stays private,
//! and credentials rotated by deleting their files (the documented procedure) take effect on
//! restart with the old ones refused.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use common::{Creds, K2d};
use k2d::security::tokens::{self, KubernetesClaim, Named, TokenIssuer};

const WAIT: Duration = Duration::from_secs(5);

async fn status(k2d: &K2d, path: &str, creds: Creds<'_>) -> u16 {
    k2d.request("GET", path, creds, None, WAIT).await.status
}

/// The uid of an object, waiting for the controller that makes it.
async fn uid_of(k2d: &K2d, path: &str) -> String {
    for _ in 0..200 {
        let a = k2d
            .request("GET", path, Creds::Token(&k2d.token), None, WAIT)
            .await;
        if a.status == 200 {
            return a.json()["metadata"]["uid"].as_str().unwrap().to_string();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{path} never appeared");
}

fn sign(issuer: &TokenIssuer, claim: KubernetesClaim, issued: i64, seconds: i64) -> String {
    issuer
        .sign(&tokens::claims(claim, vec![], issued, seconds))
        .unwrap()
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn default_sa(uid: &str) -> KubernetesClaim {
    KubernetesClaim {
        namespace: "default".into(),
        serviceaccount: Named {
            name: "default".into(),
            uid: uid.into(),
        },
        pod: None,
        node: None,
    }
}

/// The token with one character of its signature changed (one that carries six full bits).
fn tampered(token: &str) -> String {
    let mut chars: Vec<char> = token.chars().collect();
    let i = chars.len() - 10;
    chars[i] = if chars[i] == 'A' { 'B' } else { 'A' };
    chars.into_iter().collect()
}

fn data_dir_issuer(k2d: &K2d) -> TokenIssuer {
    let text = std::fs::read_to_string(k2d.data_dir.join("sa.key")).unwrap();
    let der =
        base64::Engine::decode(&base64::engine::general_purpose::STANDARD, text.trim()).unwrap();
    TokenIssuer::from_pkcs8(&der).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_tokens_are_401_and_a_service_account_gets_discovery_only() {
    let k2d = K2d::start("authn-tokens");
    let admin = k2d.token.clone();
    let sa_uid = uid_of(&k2d, "/api/v1/namespaces/default/serviceaccounts/default").await;
    let ours = data_dir_issuer(&k2d);
    let other_key = ring::signature::EcdsaKeyPair::generate_pkcs8(
        &ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
        &ring::rand::SystemRandom::new(),
    )
    .unwrap();
    let theirs = TokenIssuer::from_pkcs8(other_key.as_ref()).unwrap();

    let valid = sign(&ours, default_sa(&sa_uid), now(), 600);
    let mut bound = default_sa(&sa_uid);
    bound.pod = Some(Named {
        name: "gone".into(),
        uid: "no-such-pod".into(),
    });
    let wrong: Vec<(String, String)> = vec![
        (
            "wrong value".into(),
            format!("Bearer {}", "0".repeat(admin.len())),
        ),
        ("one character more".into(), format!("Bearer {admin}0")),
        (
            "one character less".into(),
            format!("Bearer {}", &admin[1..]),
        ),
        (
            "upper case".into(),
            format!("Bearer {}", admin.to_uppercase()),
        ),
        ("empty".into(), "Bearer ".into()),
        ("Bearer alone".into(), "Bearer".into()),
        ("another scheme".into(), format!("Basic {admin}")),
        ("no scheme".into(), admin.clone()),
        (
            "a JWT of another key".into(),
            format!("Bearer {}", sign(&theirs, default_sa(&sa_uid), now(), 600)),
        ),
        (
            "an expired token".into(),
            format!(
                "Bearer {}",
                sign(&ours, default_sa(&sa_uid), now() - 7200, 3600)
            ),
        ),
        (
            "a token of another account uid".into(),
            format!(
                "Bearer {}",
                sign(&ours, default_sa("recreated"), now(), 600)
            ),
        ),
        (
            "a token bound to a deleted pod".into(),
            format!("Bearer {}", sign(&ours, bound, now(), 600)),
        ),
        (
            "a tampered token".into(),
            format!("Bearer {}", tampered(&valid)),
        ),
    ];
    for path in ["/version", "/api", "/api/v1/namespaces/default/pods"] {
        for (what, header) in &wrong {
            let a = k2d
                .request("GET", path, Creds::Authorization(header), None, WAIT)
                .await;
            assert_eq!(a.status, 401, "{what} on {path}");
            assert_eq!(a.json()["reason"], "Unauthorized", "{what} on {path}");
        }
    }
    // The valid token: discovery and self-reviews, nothing else.
    assert_eq!(status(&k2d, "/api", Creds::Token(&valid)).await, 200);
    assert_eq!(
        status(&k2d, "/apis/apps/v1", Creds::Token(&valid)).await,
        200
    );
    for path in [
        "/api/v1/namespaces/default/pods",
        "/api/v1/namespaces/default/secrets",
        "/api/v1/namespaces/default/configmaps/kube-root-ca.crt",
        "/api/v1/namespaces",
    ] {
        assert_eq!(
            status(&k2d, path, Creds::Token(&valid)).await,
            403,
            "{path}"
        );
    }
    let review = br#"{"apiVersion":"authorization.k8s.io/v1","kind":"SelfSubjectAccessReview","spec":{"resourceAttributes":{"verb":"list","resource":"pods","namespace":"default"}}}"#;
    let a = k2d
        .send_with(
            "POST",
            "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
            Creds::Token(&valid),
            "application/json",
            review.to_vec(),
        )
        .await;
    assert_eq!(a.status, 201, "{}", String::from_utf8_lossy(&a.body));
    assert_eq!(a.json()["status"]["allowed"], false);
}

/// Every path under the data directory: top-level files 0600, directories 0700 (files inside
/// pod volume directories carry the modes their pod asks for, behind those directories).
fn check_private(dir: &std::path::Path) {
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(dir), 0o700, "{}", dir.display());
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        names.push(p.file_name().unwrap().to_string_lossy().to_string());
        let m = mode(&p);
        if p.is_dir() {
            assert_eq!(m, 0o700, "{}", p.display());
        } else {
            assert_eq!(m, 0o600, "{} is {m:o}", p.display());
        }
    }
    for required in [
        "ca.crt",
        "ca.key",
        "server.crt",
        "server.key",
        "admin.crt",
        "admin.key",
        "token",
        "kubeconfig",
        "sa.key",
        "store.redb",
    ] {
        assert!(
            names.iter().any(|n| n == required),
            "{required} in {names:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotated_credentials_replace_the_old_ones_and_stay_private() {
    let mut k2d = K2d::start("authn-rotate");
    check_private(&k2d.data_dir);
    let sa_uid = uid_of(&k2d, "/api/v1/namespaces/default/serviceaccounts/default").await;
    let sa_token = sign(&data_dir_issuer(&k2d), default_sa(&sa_uid), now(), 600);
    assert_eq!(status(&k2d, "/api", Creds::Token(&sa_token)).await, 200);

    // A restart keeps everything.
    let old_token = k2d.token.clone();
    let read = |n: &str| std::fs::read_to_string(k2d.data_dir.join(n)).unwrap();
    let (old_ca, old_server) = (read("ca.crt"), read("server.crt"));
    k2d.kill_and_restart();
    check_private(&k2d.data_dir);
    assert_eq!(k2d.token, old_token);
    assert_eq!(status(&k2d, "/api", Creds::Token(&sa_token)).await, 200);

    // The admin token: delete it, restart; a new one, the old one refused.
    std::fs::remove_file(k2d.data_dir.join("token")).unwrap();
    k2d.kill_and_restart();
    check_private(&k2d.data_dir);
    assert_ne!(k2d.token, old_token);
    assert_eq!(status(&k2d, "/api", Creds::Token(&old_token)).await, 401);
    assert_eq!(
        status(&k2d, "/api", Creds::Token(&k2d.token.clone())).await,
        200
    );
    let kubeconfig = std::fs::read_to_string(k2d.data_dir.join("kubeconfig")).unwrap();
    assert!(kubeconfig.contains(&k2d.token) && !kubeconfig.contains(&old_token));

    // The token signing key: tokens signed with the old one are refused.
    std::fs::remove_file(k2d.data_dir.join("sa.key")).unwrap();
    k2d.kill_and_restart();
    check_private(&k2d.data_dir);
    assert_eq!(status(&k2d, "/api", Creds::Token(&sa_token)).await, 401);

    // The CA: a new CA, server and admin certificates issued from it; the token stays.
    let token = k2d.token.clone();
    for f in ["ca.crt", "ca.key"] {
        std::fs::remove_file(k2d.data_dir.join(f)).unwrap();
    }
    k2d.kill_and_restart();
    check_private(&k2d.data_dir);
    let read = |n: &str| std::fs::read_to_string(k2d.data_dir.join(n)).unwrap();
    assert_ne!(read("ca.crt"), old_ca);
    assert_ne!(read("server.crt"), old_server);
    assert_eq!(k2d.token, token);
    // The test client now trusts only the new CA: the server's new certificate verifies.
    assert_eq!(status(&k2d, "/api", Creds::AdminCertificate).await, 200);
    assert_eq!(status(&k2d, "/api", Creds::Token(&token)).await, 200);
    // Pods verify k2d with the kube-root-ca.crt ConfigMap: it follows the new CA.
    let new_ca = read("ca.crt");
    let mut published = String::new();
    for _ in 0..200 {
        let a = k2d
            .request(
                "GET",
                "/api/v1/namespaces/default/configmaps/kube-root-ca.crt",
                Creds::Token(&token),
                None,
                WAIT,
            )
            .await;
        published = a.json()["data"]["ca.crt"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        if published == new_ca {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(published, new_ca);
}
