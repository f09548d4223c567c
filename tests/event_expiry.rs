//! Events expire `--event-ttl` after their last write, in both Event APIs, and across a
//! restart; a rewrite gives an Event a new TTL. Against a k2d with no engine and a 3 s TTL.

mod common;

use std::time::Duration;

use common::K2d;
use common::api::{create, eventually, get, merge_patch, now};
use serde_json::json;

const CORE: &str = "/api/v1/namespaces/default/events";
const V1: &str = "/apis/events.k8s.io/v1/namespaces/default/events";

fn core_event(name: &str) -> serde_json::Value {
    json!({
        "apiVersion": "v1", "kind": "Event",
        "metadata": {"name": name},
        "involvedObject": {"kind": "Pod", "name": "p", "namespace": "default"},
        "reason": "Tested", "message": "m", "type": "Normal", "count": 1,
        "firstTimestamp": now(), "lastTimestamp": now(),
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_go_a_ttl_after_their_last_write() {
    let mut k2d = K2d::start_with("event-ttl", &["--event-ttl", "3s"]);
    create(&k2d, CORE, &core_event("plain")).await;
    create(&k2d, CORE, &core_event("refreshed")).await;
    let v1 = json!({
        "apiVersion": "events.k8s.io/v1", "kind": "Event",
        "metadata": {"name": "newer-api"},
        "eventTime": time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339).unwrap(),
        "reportingController": "tests/event-expiry", "reportingInstance": "i",
        "action": "Testing", "reason": "Tested", "type": "Normal",
        "regarding": {"kind": "Pod", "name": "p", "namespace": "default"},
    });
    create(&k2d, V1, &v1).await;

    // Two seconds on, the recorder's way of counting a repeat: a new write.
    tokio::time::sleep(Duration::from_secs(2)).await;
    merge_patch(
        &k2d,
        &format!("{CORE}/refreshed"),
        &json!({"count": 2, "lastTimestamp": now()}),
    )
    .await;

    for (api, name) in [(CORE, "plain"), (V1, "newer-api")] {
        let path = format!("{api}/{name}");
        eventually(&format!("{path} to expire"), 10, async || {
            get(&k2d, &path).await.is_none().then_some(())
        })
        .await;
    }
    assert!(
        get(&k2d, &format!("{CORE}/refreshed")).await.is_some(),
        "an event written again is kept for a new TTL"
    );
    eventually("the rewritten event to expire", 10, async || {
        get(&k2d, &format!("{CORE}/refreshed"))
            .await
            .is_none()
            .then_some(())
    })
    .await;

    // An event stored before a restart still expires after it.
    create(&k2d, CORE, &core_event("across-restart")).await;
    k2d.kill_and_restart();
    eventually(
        "an event from before the restart to expire",
        10,
        async || {
            get(&k2d, &format!("{CORE}/across-restart"))
                .await
                .is_none()
                .then_some(())
        },
    )
    .await;
}
