//! Walks the generated route table against a running k2d: every route answers 401 without
//! credentials, and with credentials answers what a client accepts (a JSON object of the right
//! kind, or a Status whose code matches the HTTP status; a watch stream of JSON lines).

mod common;

use std::time::Duration;

use common::{Creds, K2d};
use futures_util::StreamExt;
use k2d::api::model::{Route, Verb};
use k2d::generated::{RESOURCES, ROUTES};

fn concrete(path: &str) -> String {
    path.replace("{namespace}", "default")
        .replace("{name}", "walk")
        .replace("{path}", "x")
}

/// Checks one route; returns what went wrong.
async fn check(k2d: &K2d, route: &'static Route) -> Result<(), String> {
    let resource = &RESOURCES[route.resource as usize];
    let mut path = concrete(route.path);
    if route.verb == Verb::Watch {
        path.push_str("?timeoutSeconds=1");
    }
    let anonymous = k2d
        .request(
            route.method,
            &path,
            Creds::None,
            None,
            Duration::from_secs(5),
        )
        .await;
    let status = anonymous.json();
    let unauthorized = (
        status["kind"].as_str(),
        status["reason"].as_str(),
        status["code"].as_u64(),
    );
    if anonymous.status != 401 || unauthorized != (Some("Status"), Some("Unauthorized"), Some(401))
    {
        return Err(format!(
            "{} {path} without credentials: {} {status}",
            route.method, anonymous.status
        ));
    }
    let answer = k2d
        .request(
            route.method,
            &path,
            Creds::Token(&k2d.token),
            None,
            Duration::from_secs(3),
        )
        .await;
    let what = format!(
        "{} {path} -> {}: {}",
        route.method,
        answer.status,
        String::from_utf8_lossy(&answer.body)
    );
    let json_type = answer
        .headers
        .get("content-type")
        .is_some_and(|c| c.to_str().unwrap().starts_with("application/json"));
    if answer.status >= 500 || !json_type {
        return Err(what);
    }
    if route.verb == Verb::Watch {
        let events_ok = answer
            .body
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .all(|line| {
                serde_json::from_slice::<serde_json::Value>(line)
                    .is_ok_and(|e| e["type"].is_string())
            });
        return if answer.status == 200 && events_ok {
            Ok(())
        } else {
            Err(what)
        };
    }
    let body: serde_json::Value = serde_json::from_slice(&answer.body).map_err(|_| what.clone())?;
    let ok = match body["kind"].as_str() {
        Some("Status") => body["code"].as_u64() == Some(answer.status as u64),
        Some(kind) => {
            matches!(answer.status, 200 | 201)
                && (kind == resource.list_kind || kind == resource.kind)
                && body["apiVersion"] == resource.api_version()
        }
        None => false,
    };
    if ok { Ok(()) } else { Err(what) }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_generated_route_needs_credentials_and_answers_with_them() {
    let k2d = K2d::start("routes");
    assert!(ROUTES.len() > 100, "the spec has {} routes", ROUTES.len());
    let failures: Vec<String> = futures_util::stream::iter(ROUTES.iter())
        .map(|route| check(&k2d, route))
        .buffer_unordered(16)
        .filter_map(|r| std::future::ready(r.err()))
        .collect()
        .await;
    assert!(
        failures.is_empty(),
        "{} of {} routes failed:\n{}",
        failures.len(),
        ROUTES.len(),
        failures.join("\n")
    );
    assert!(k2d.stop().success(), "k2d exits cleanly on SIGTERM");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fixed_endpoints_need_credentials_too() {
    let k2d = K2d::start("fixed");
    for path in [
        "/version",
        "/healthz",
        "/livez",
        "/readyz",
        "/api",
        "/apis",
        "/api/v1",
        "/apis/apps/v1",
        "/openapi/v3",
        "/openapi/v3/api/v1",
        "/nonexistent",
    ] {
        let a = k2d
            .request("GET", path, Creds::None, None, Duration::from_secs(5))
            .await;
        assert_eq!(a.status, 401, "{path}");
        assert_eq!(a.json()["reason"], "Unauthorized", "{path}");
        let a = k2d
            .request(
                "GET",
                path,
                Creds::Token("wrong"),
                None,
                Duration::from_secs(5),
            )
            .await;
        assert_eq!(a.status, 401, "{path} with a wrong token");
        let a = k2d
            .request(
                "GET",
                path,
                Creds::AdminCertificate,
                None,
                Duration::from_secs(5),
            )
            .await;
        assert_eq!(
            a.status,
            if path == "/nonexistent" { 404 } else { 200 },
            "{path} with the admin certificate"
        );
    }
}

/// Every method on the fixed endpoints, on paths that do not exist (which must not reveal that
/// they do not exist before authentication) and on paths of unknown groups and resources: 401
/// with the Unauthorized Status (no body for HEAD), the same for all of them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_method_on_any_path_needs_credentials() {
    let k2d = K2d::start("any-path");
    let paths = [
        "/",
        "/version",
        "/healthz",
        "/livez",
        "/readyz",
        "/readyz/ping",
        "/metrics",
        "/openapi/v2",
        "/openapi/v3",
        "/api",
        "/apis",
        "/apis/apps",
        "/apis/no.such.group/v1/things",
        "/api/v1/namespaces/default/nosuchresource",
        "/api/v1/namespaces/default/pods/x/nosuchsubresource",
        "/api/v1/namespaces/default/secrets/db-password",
        "/logs/",
        "/debug/pprof/",
        "/%2e%2e/%2e%2e/etc/passwd",
    ];
    for path in paths {
        for method in ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] {
            let a = k2d
                .request(method, path, Creds::None, None, Duration::from_secs(5))
                .await;
            assert_eq!(a.status, 401, "{method} {path}");
            if method != "HEAD" {
                let s = a.json();
                assert_eq!(
                    (&s["kind"], &s["reason"], &s["code"], &s["message"]),
                    (
                        &serde_json::json!("Status"),
                        &serde_json::json!("Unauthorized"),
                        &serde_json::json!(401),
                        &serde_json::json!("Unauthorized")
                    ),
                    "{method} {path}"
                );
            }
        }
    }
}

/// Bodies no client would send: each gets a 4xx Status, and nothing is stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_bodies_get_a_status_and_change_nothing() {
    let k2d = K2d::start("hostile");
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let bodies: Vec<(&str, Vec<u8>)> = vec![
        ("application/json", b"[]".to_vec()),
        ("application/json", b"null".to_vec()),
        ("application/json", b"\"x\"".to_vec()),
        ("application/json", b"{\"metadata\": 5}".to_vec()),
        (
            "application/json",
            b"{\"kind\": 5, \"metadata\": {\"name\": \"a\"}}".to_vec(),
        ),
        (
            "application/json",
            b"{\"metadata\": {\"name\": \"a/b\"}}".to_vec(),
        ),
        ("application/json", vec![0xff, 0xfe, b'{']),
        ("application/json", deep.clone().into_bytes()),
        ("application/yaml", b"a: [".to_vec()),
        ("application/yaml", deep.into_bytes()),
        (
            "application/vnd.kubernetes.protobuf",
            b"k8s\0\x0a\xff\xff\xff\xff\x0f".to_vec(),
        ),
        ("application/vnd.kubernetes.protobuf", b"nope".to_vec()),
        ("text/plain", b"hello".to_vec()),
    ];
    for path in [
        "/api/v1/namespaces/default/configmaps",
        "/apis/apps/v1/namespaces/default/deployments",
    ] {
        let list_now = || {
            k2d.request(
                "GET",
                path,
                Creds::Token(&k2d.token),
                None,
                Duration::from_secs(5),
            )
        };
        // What k2d itself keeps there (the root CA ConfigMap, made just after start) stays;
        // nothing is added.
        let mut before = list_now().await.json()["items"].clone();
        for _ in 0..100 {
            if path.ends_with("/deployments") || before.as_array().is_some_and(|a| !a.is_empty()) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
            before = list_now().await.json()["items"].clone();
        }
        for (ct, body) in &bodies {
            let a = k2d.send("POST", path, ct, body.clone()).await;
            let shown = String::from_utf8_lossy(&a.body[..a.body.len().min(300)]).to_string();
            assert!(
                (400..500).contains(&a.status),
                "POST {path} {ct} {:?}: {} {shown}",
                &body[..body.len().min(40)],
                a.status
            );
            assert_eq!(a.json()["kind"], "Status", "{shown}");
        }
        let list = list_now().await;
        assert_eq!(
            list.json()["items"],
            before,
            "nothing was stored under {path}"
        );
    }
    // A JSON patch may not turn an object into something else.
    let cm = br#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"}}"#.to_vec();
    assert_eq!(
        k2d.send(
            "POST",
            "/api/v1/namespaces/default/configmaps",
            "application/json",
            cm
        )
        .await
        .status,
        201
    );
    for patch in [
        &br#"[{"op":"replace","path":"","value":5}]"#[..],
        br#"[{"op":"replace","path":"/metadata","value":[]}]"#,
    ] {
        let a = k2d
            .send(
                "PATCH",
                "/api/v1/namespaces/default/configmaps/c",
                "application/json-patch+json",
                patch.to_vec(),
            )
            .await;
        assert!(
            (400..500).contains(&a.status),
            "{} {}",
            a.status,
            String::from_utf8_lossy(&a.body)
        );
    }
    let c = k2d
        .request(
            "GET",
            "/api/v1/namespaces/default/configmaps/c",
            Creds::Token(&k2d.token),
            None,
            Duration::from_secs(5),
        )
        .await;
    assert_eq!(c.json()["metadata"]["name"], "c");
    assert!(k2d.stop().success(), "k2d survived and stops cleanly");
}
