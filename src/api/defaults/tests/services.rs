//! Services: `kubectl expose`, `kubectl apply` of a plain manifest, `helm create`'s chart, and
//! each Service type.

use serde_json::{Value, json};

use super::defaulted;

fn service(spec: Value) -> Value {
    defaulted(
        "",
        "services",
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"}, "spec": spec}),
    )
}

/// `kubectl apply` of the manifest in the project's traces.
#[test]
fn plain_manifest() {
    let out =
        service(json!({"ports": [{"port": 80, "targetPort": 80}], "selector": {"app": "web"}}));
    assert_eq!(
        out["spec"],
        json!({
            "internalTrafficPolicy": "Cluster",
            "ipFamilies": ["IPv4"],
            "ipFamilyPolicy": "SingleStack",
            "ports": [{"port": 80, "protocol": "TCP", "targetPort": 80}],
            "selector": {"app": "web"},
            "sessionAffinity": "None",
            "type": "ClusterIP"
        })
    );
    assert_eq!(out["status"], json!({"loadBalancer": {}}));
}

/// `kubectl expose deployment web --port=8080 --target-port=80`.
#[test]
fn kubectl_expose() {
    let out = service(json!({
        "ports": [{"protocol": "TCP", "port": 8080, "targetPort": 80}],
        "selector": {"app": "web"}
    }));
    assert_eq!(
        out["spec"]["ports"],
        json!([{"protocol": "TCP", "port": 8080, "targetPort": 80}])
    );
    assert_eq!(out["spec"]["type"], "ClusterIP");
}

/// `helm create`'s Service: a named target port is kept.
#[test]
fn helm_chart() {
    let out = service(json!({
        "ports": [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": "http"}],
        "selector": {"app.kubernetes.io/instance": "demo", "app.kubernetes.io/name": "demo"},
        "type": "ClusterIP"
    }));
    assert_eq!(out["spec"]["ports"][0]["targetPort"], "http");
    assert_eq!(out["spec"]["sessionAffinity"], "None");
    assert_eq!(out["spec"]["internalTrafficPolicy"], "Cluster");
    assert!(out["spec"].get("externalTrafficPolicy").is_none());
}

#[test]
fn target_port_defaults_to_port_when_absent_zero_or_empty() {
    let out = service(json!({"ports": [
        {"name": "a", "port": 80},
        {"name": "b", "port": 81, "targetPort": 0},
        {"name": "c", "port": 82, "targetPort": ""},
        {"name": "d", "port": 53, "protocol": "UDP", "targetPort": 5353}
    ]}));
    let ports = &out["spec"]["ports"];
    assert_eq!(ports[0]["targetPort"], 80);
    assert_eq!(ports[1]["targetPort"], 81);
    assert_eq!(ports[2]["targetPort"], 82);
    assert_eq!(
        ports[3],
        json!({"name": "d", "port": 53, "protocol": "UDP", "targetPort": 5353})
    );
}

#[test]
fn node_port_and_load_balancer() {
    let np = service(json!({"type": "NodePort", "ports": [{"port": 80, "nodePort": 30080}]}));
    assert_eq!(np["spec"]["externalTrafficPolicy"], "Cluster");
    assert_eq!(np["spec"]["internalTrafficPolicy"], "Cluster");
    assert!(np["spec"].get("allocateLoadBalancerNodePorts").is_none());

    let lb = defaulted(
        "",
        "services",
        json!({
            "apiVersion": "v1", "kind": "Service", "metadata": {"name": "lb"},
            "spec": {"type": "LoadBalancer", "ports": [{"port": 443}], "externalTrafficPolicy": "Local"},
            "status": {"loadBalancer": {"ingress": [{"ip": "192.168.1.10"}, {"hostname": "edge.local"}]}}
        }),
    );
    assert_eq!(lb["spec"]["externalTrafficPolicy"], "Local");
    assert_eq!(lb["spec"]["allocateLoadBalancerNodePorts"], true);
    assert_eq!(
        lb["status"]["loadBalancer"]["ingress"],
        json!([{"ip": "192.168.1.10", "ipMode": "VIP"}, {"hostname": "edge.local"}])
    );
}

#[test]
fn cluster_ip_with_external_ips_is_externally_accessible() {
    let out = service(json!({"ports": [{"port": 80}], "externalIPs": ["192.168.1.10"]}));
    assert_eq!(out["spec"]["externalTrafficPolicy"], "Cluster");
}

#[test]
fn external_name() {
    let out = service(json!({"type": "ExternalName", "externalName": "db.example.com"}));
    assert_eq!(
        out["spec"],
        json!({"type": "ExternalName", "externalName": "db.example.com", "sessionAffinity": "None"})
    );
}

#[test]
fn headless_services() {
    let with_selector =
        service(json!({"clusterIP": "None", "selector": {"app": "db"}, "ports": [{"port": 5432}]}));
    assert_eq!(with_selector["spec"]["clusterIPs"], json!(["None"]));
    assert_eq!(with_selector["spec"]["ipFamilyPolicy"], "SingleStack");
    assert_eq!(with_selector["spec"]["ipFamilies"], json!(["IPv4"]));

    let without = service(json!({"clusterIP": "None", "ports": [{"port": 5432}]}));
    assert_eq!(without["spec"]["ipFamilyPolicy"], "RequireDualStack");
    assert_eq!(without["spec"]["ipFamilies"], json!(["IPv4"]));
}

#[test]
fn cluster_ips_mirror_each_other_and_give_the_family() {
    let ip = service(json!({"clusterIP": "10.96.0.20", "ports": [{"port": 80}]}));
    assert_eq!(ip["spec"]["clusterIPs"], json!(["10.96.0.20"]));
    let ips = service(json!({"clusterIPs": ["fd00::20"], "ports": [{"port": 80}]}));
    assert_eq!(ips["spec"]["clusterIP"], "fd00::20");
    assert_eq!(ips["spec"]["ipFamilies"], json!(["IPv6"]));
    // No address is allocated here.
    let none = service(json!({"ports": [{"port": 80}]}));
    assert!(none["spec"].get("clusterIP").is_none());
    assert!(none["spec"].get("clusterIPs").is_none());
}

#[test]
fn given_ip_family_fields_are_kept() {
    let out = service(json!({
        "ports": [{"port": 80}], "ipFamilyPolicy": "PreferDualStack", "ipFamilies": ["IPv4"]
    }));
    assert_eq!(out["spec"]["ipFamilyPolicy"], "PreferDualStack");
    assert_eq!(out["spec"]["ipFamilies"], json!(["IPv4"]));
}

#[test]
fn session_affinity() {
    let none = service(json!({
        "ports": [{"port": 80}], "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 60}}
    }));
    assert!(none["spec"].get("sessionAffinityConfig").is_none());

    let client_ip = service(json!({"ports": [{"port": 80}], "sessionAffinity": "ClientIP"}));
    assert_eq!(
        client_ip["spec"]["sessionAffinityConfig"],
        json!({"clientIP": {"timeoutSeconds": 10800}})
    );
    let given = service(json!({
        "ports": [{"port": 80}], "sessionAffinity": "ClientIP",
        "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 60}}
    }));
    assert_eq!(
        given["spec"]["sessionAffinityConfig"]["clientIP"]["timeoutSeconds"],
        60
    );
}
