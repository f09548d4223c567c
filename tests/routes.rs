//! Walks the generated route table against a running k2d: every route answers 401 without
//! credentials, and with credentials answers what a client accepts (a JSON object of the right
//! kind, or a Status whose code matches the HTTP status; a watch stream of JSON lines).

mod common;

use std::time::Duration;

use common::{Creds, K2d};
use k2d::api::model::Verb;
use k2d::generated::{RESOURCES, ROUTES};

fn concrete(path: &str) -> String {
    path.replace("{namespace}", "default").replace("{name}", "walk").replace("{path}", "x")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_generated_route_needs_credentials_and_answers_with_them() {
    let k2d = K2d::start("routes");
    assert!(ROUTES.len() > 100, "the spec has {} routes", ROUTES.len());
    for route in ROUTES {
        let resource = &RESOURCES[route.resource as usize];
        let mut path = concrete(route.path);
        if route.verb == Verb::Watch {
            path.push_str("?timeoutSeconds=1");
        }
        let anonymous = k2d.request(route.method, &path, Creds::None, None, Duration::from_secs(5)).await;
        assert_eq!(anonymous.status, 401, "{} {path} without credentials", route.method);
        let status = anonymous.json();
        assert_eq!((status["kind"].as_str(), status["reason"].as_str(), status["code"].as_u64()), (Some("Status"), Some("Unauthorized"), Some(401)));

        let answer = k2d.request(route.method, &path, Creds::Token(&k2d.token), None, Duration::from_secs(3)).await;
        let what = format!("{} {path} -> {}: {}", route.method, answer.status, String::from_utf8_lossy(&answer.body));
        assert!(answer.status < 500, "{what}");
        assert!(
            answer.headers.get("content-type").is_some_and(|c| c.to_str().unwrap().starts_with("application/json")),
            "{what}"
        );
        if route.verb == Verb::Watch {
            assert_eq!(answer.status, 200, "{what}");
            for line in answer.body.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
                let event: serde_json::Value = serde_json::from_slice(line).expect("watch events are JSON lines");
                assert!(event["type"].is_string(), "{what}");
            }
            continue;
        }
        let body = answer.json();
        match body["kind"].as_str() {
            Some("Status") => assert_eq!(body["code"].as_u64(), Some(answer.status as u64), "{what}"),
            Some(kind) => {
                assert_eq!(answer.status, 200, "{what}");
                assert_eq!(kind, resource.list_kind, "{what}");
                assert_eq!(body["apiVersion"], resource.api_version(), "{what}");
            }
            None => panic!("no kind: {what}"),
        }
    }
    assert!(k2d.stop().success(), "k2d exits cleanly on SIGTERM");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fixed_endpoints_need_credentials_too() {
    let k2d = K2d::start("fixed");
    for path in ["/version", "/healthz", "/livez", "/readyz", "/api", "/apis", "/api/v1", "/apis/apps/v1", "/openapi/v3", "/openapi/v3/api/v1", "/nonexistent"] {
        let a = k2d.request("GET", path, Creds::None, None, Duration::from_secs(5)).await;
        assert_eq!(a.status, 401, "{path}");
        let a = k2d.request("GET", path, Creds::Token("wrong"), None, Duration::from_secs(5)).await;
        assert_eq!(a.status, 401, "{path} with a wrong token");
        let a = k2d.request("GET", path, Creds::AdminCertificate, None, Duration::from_secs(5)).await;
        assert_eq!(a.status, if path == "/nonexistent" { 404 } else { 200 }, "{path} with the admin certificate");
    }
}
