//! Protobuf bodies as Go clients write them (every non-pointer field present, zero or not), built
//! with prost's wire-format primitives, and two bodies recorded from real clients, decoded and
//! compared with the JSON the same client sends for the same object (`kubectl ... -o json`).

use base64::Engine as _;
use prost::encoding::{WireType, encode_key, encode_varint};
use serde_json::{Value, json};

use super::{ProtobufError, decode, is_protobuf};

/// A message under construction, written in the order fields are added (Go writes tag order).
#[derive(Clone, Default)]
struct Pb(Vec<u8>);

impl Pb {
    fn new() -> Self {
        Pb::default()
    }

    fn varint(mut self, tag: u32, v: u64) -> Self {
        encode_key(tag, WireType::Varint, &mut self.0);
        encode_varint(v, &mut self.0);
        self
    }

    fn int(self, tag: u32, v: i64) -> Self {
        self.varint(tag, v as u64)
    }

    fn bool(self, tag: u32, v: bool) -> Self {
        self.varint(tag, u64::from(v))
    }

    fn bytes(mut self, tag: u32, b: &[u8]) -> Self {
        encode_key(tag, WireType::LengthDelimited, &mut self.0);
        encode_varint(b.len() as u64, &mut self.0);
        self.0.extend_from_slice(b);
        self
    }

    fn str(self, tag: u32, s: &str) -> Self {
        self.bytes(tag, s.as_bytes())
    }

    fn msg(self, tag: u32, m: Pb) -> Self {
        self.bytes(tag, &m.0)
    }

    /// A map entry with a string value.
    fn entry(self, tag: u32, k: &str, v: &str) -> Self {
        self.msg(tag, Pb::new().str(1, k).str(2, v))
    }

    /// A map entry with a bytes value.
    fn entry_bytes(self, tag: u32, k: &str, v: &[u8]) -> Self {
        self.msg(tag, Pb::new().str(1, k).bytes(2, v))
    }

    /// A map entry with a message value.
    fn entry_msg(self, tag: u32, k: &str, v: Pb) -> Self {
        self.msg(tag, Pb::new().str(1, k).msg(2, v))
    }
}

/// `k8s\0` + `runtime.Unknown` as Go writes it (raw, then empty contentEncoding and contentType).
fn body(api_version: &str, kind: &str, raw: Pb) -> Vec<u8> {
    let unknown = Pb::new()
        .msg(1, Pb::new().str(1, api_version).str(2, kind))
        .msg(2, raw)
        .str(3, "")
        .str(4, "");
    let mut out = b"k8s\0".to_vec();
    out.extend(unknown.0);
    out
}

/// An `ObjectMeta` as a Go client writes it for a new object: every non-pointer field, zero
/// `generation`, empty `creationTimestamp`, then the labels.
fn meta(name: &str, namespace: &str, labels: &[(&str, &str)]) -> Pb {
    let mut m = Pb::new()
        .str(1, name)
        .str(2, "")
        .str(3, namespace)
        .str(4, "")
        .str(5, "")
        .str(6, "")
        .int(7, 0)
        .msg(8, Pb::new());
    for (k, v) in labels {
        m = m.entry(11, k, v);
    }
    m
}

/// A `Container` with the zero values Go writes.
fn container(name: &str, image: &str, resources: Pb) -> Pb {
    Pb::new()
        .str(1, name)
        .str(2, image)
        .str(5, "")
        .msg(8, resources)
        .str(13, "")
        .str(14, "")
        .bool(16, false)
        .bool(17, false)
        .bool(18, false)
        .str(20, "")
}

/// A `PodSpec` with the zero values Go writes.
fn pod_spec(containers: Vec<Pb>) -> Pb {
    let mut s = Pb::new();
    for c in containers {
        s = s.msg(2, c);
    }
    s.str(3, "")
        .str(6, "")
        .str(8, "")
        .str(9, "")
        .str(10, "")
        .bool(11, false)
        .bool(12, false)
        .bool(13, false)
        .str(16, "")
        .str(17, "")
        .str(19, "")
        .str(24, "")
}

fn decoded(body: &[u8]) -> Value {
    decode(body).unwrap_or_else(|e| panic!("decodes: {e}"))
}

/// The body `kubectl create deployment hello --image=nginx:1.27 --replicas=1` (v1.32.5) sent, as
/// recorded in a trace.
const KUBECTL_CREATE_DEPLOYMENT: &str = "azhzAAoVCgdhcHBzL3YxEgpEZXBsb3ltZW50ErkBCiMKBWhlbGxvEgAaACIAKgAyADgAQgBaDAoDYXBwEgVoZWxsbxKDAQgBEg4KDAoDYXBwEgVoZWxsbxpnCh4KABIAGgAiACoAMgA4AEIAWgwKA2FwcBIFaGVsbG8SRRInCgVuZ2lueBIKbmdpbng6MS4yNyoAQgBqAHIAgAEAiAEAkAEAogEAGgAyAEIASgBSAFgAYABoAIIBAIoBAJoBAMIBACICCgAoADgAGgwIABAAGAAgACgAOAAaACIA";

/// What the same command sends with `-o json` (less `"creationTimestamp": null`, which the
/// decoder leaves out).
fn hello_deployment_json() -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "hello", "labels": {"app": "hello"}},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": "hello"}},
            "template": {
                "metadata": {"labels": {"app": "hello"}},
                "spec": {"containers": [{"name": "nginx", "image": "nginx:1.27", "resources": {}}]}
            },
            "strategy": {}
        },
        "status": {}
    })
}

#[test]
fn recorded_kubectl_create_deployment() {
    let body = base64::engine::general_purpose::STANDARD
        .decode(KUBECTL_CREATE_DEPLOYMENT)
        .unwrap();
    assert_eq!(body.len(), 219);
    assert_eq!(decoded(&body), hello_deployment_json());
}

#[test]
fn kubectl_create_deployment_web() {
    let labels = [("app", "web")];
    let template = Pb::new()
        .msg(1, meta("", "", &labels))
        .msg(2, pod_spec(vec![container("nginx", "nginx", Pb::new())]));
    let deployment = Pb::new()
        .msg(1, meta("web", "", &labels))
        .msg(
            2,
            Pb::new()
                .int(1, 1)
                .msg(2, Pb::new().entry(1, "app", "web"))
                .msg(3, template)
                .msg(4, Pb::new().str(1, ""))
                .int(5, 0)
                .bool(7, false),
        )
        .msg(
            3,
            Pb::new()
                .int(1, 0)
                .int(2, 0)
                .int(3, 0)
                .int(4, 0)
                .int(5, 0)
                .int(7, 0),
        );
    let json = decoded(&body("apps/v1", "Deployment", deployment));
    assert_eq!(
        json,
        json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web", "labels": {"app": "web"}},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "nginx", "image": "nginx", "resources": {}}]}
                },
                "strategy": {}
            },
            "status": {}
        })
    );
}

#[test]
fn explicit_zero_replicas_is_kept() {
    // `kubectl create deployment web --image=nginx --replicas=0`: `replicas` is a *int32 set to 0,
    // `minReadySeconds` a plain int32 at 0.
    let deployment = Pb::new()
        .msg(1, meta("web", "", &[]))
        .msg(2, Pb::new().int(1, 0).int(5, 0).int(6, 0).bool(7, false));
    let json = decoded(&body("apps/v1", "Deployment", deployment));
    assert_eq!(
        json["spec"],
        json!({"replicas": 0, "revisionHistoryLimit": 0})
    );
}

/// The release payload of a Helm release Secret starts like this (base64 of gzip, as Helm
/// stores it); the JSON body carries it base64-encoded once more.
const RELEASE: &str = "H4sIAAAAAAAC/+R8e2+jyJr3V7F4RzrvSkkacOiOLc0fhsQYxyExtr";

#[test]
fn helm_release_secret() {
    let labels = [
        ("createdAt", "1795236479"),
        ("name", "demo"),
        ("owner", "helm"),
        ("status", "pending-install"),
        ("version", "1"),
    ];
    let secret = Pb::new()
        .msg(1, meta("sh.helm.release.v1.demo.v1", "", &labels))
        .entry_bytes(2, "release", RELEASE.as_bytes())
        .str(3, "helm.sh/release.v1");
    let json = decoded(&body("v1", "Secret", secret));
    assert_eq!(
        json,
        json!({
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {
                "name": "sh.helm.release.v1.demo.v1",
                "labels": {
                    "createdAt": "1795236479", "name": "demo", "owner": "helm",
                    "status": "pending-install", "version": "1"
                }
            },
            "data": {"release": "SDRzSUFBQUFBQUFDLytSOGUyK2p5SnIzVjdGNFJ6cnZTa2thY09pT0xjMGZoc1FZeHlFeHRy"},
            "type": "helm.sh/release.v1"
        })
    );
    // The recorded JSON of that Secret starts the same way.
    assert!(
        "SDRzSUFBQUFBQUFDLytSOGUyK2p5SnIzVjdGNFJ6cnZTa2thY09pT0xjMGZoc1FZeHlFeHRybE5S"
            .starts_with(json["data"]["release"].as_str().unwrap())
    );
}

#[test]
fn helm_delete_options_is_31_bytes() {
    let body = body("v1", "DeleteOptions", Pb::new());
    assert_eq!(body.len(), 31);
    assert_eq!(
        hex(&body),
        "6b3873000a130a027631120d44656c6574654f7074696f6e7312001a002200"
    );
    assert_eq!(
        decoded(&body),
        json!({"apiVersion": "v1", "kind": "DeleteOptions"})
    );
}

#[test]
fn delete_options_of_any_group_with_pointer_zeros() {
    // `kubectl delete --grace-period=0`-like options: 0 and false are meaningful here.
    let opts = Pb::new()
        .int(1, 0)
        .msg(2, Pb::new().str(1, "uid-1"))
        .bool(3, false)
        .str(4, "Foreground")
        .str(5, "All");
    assert_eq!(
        decoded(&body("apps/v1", "DeleteOptions", opts.clone())),
        json!({
            "apiVersion": "apps/v1", "kind": "DeleteOptions",
            "gracePeriodSeconds": 0, "preconditions": {"uid": "uid-1"},
            "orphanDependents": false, "propagationPolicy": "Foreground", "dryRun": ["All"]
        })
    );
    assert_eq!(
        decoded(&body("meta.k8s.io/v1", "DeleteOptions", opts))["gracePeriodSeconds"],
        json!(0)
    );
}

#[test]
fn kubectl_create_configmap() {
    // The recorded JSON of `kubectl create configmap cm1 --from-literal=a=b`.
    let cm = Pb::new()
        .msg(1, meta("cm1", "", &[]))
        .entry(2, "a", "b")
        .entry_bytes(3, "bin", &[0, 1, 2, 255]);
    assert_eq!(
        decoded(&body("v1", "ConfigMap", cm)),
        json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "cm1"},
            "data": {"a": "b"},
            "binaryData": {"bin": "AAEC/w=="}
        })
    );
}

#[test]
fn kubectl_create_namespace() {
    let ns = Pb::new()
        .msg(1, meta("ns1", "", &[]))
        .msg(2, Pb::new())
        .msg(3, Pb::new().str(1, ""));
    assert_eq!(
        decoded(&body("v1", "Namespace", ns)),
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ns1"}, "spec": {}, "status": {}})
    );
}

#[test]
fn kubectl_create_serviceaccount() {
    let sa = Pb::new().msg(1, meta("sa1", "default", &[]));
    assert_eq!(
        decoded(&body("v1", "ServiceAccount", sa)),
        json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "sa1", "namespace": "default"}})
    );
    // automountServiceAccountToken is a *bool: an explicit false is kept.
    let sa = Pb::new().msg(1, meta("sa2", "", &[])).bool(4, false);
    assert_eq!(
        decoded(&body("v1", "ServiceAccount", sa))["automountServiceAccountToken"],
        json!(false)
    );
}

#[test]
fn kubectl_auth_can_i() {
    // `kubectl auth can-i create pods`.
    let review = Pb::new()
        .msg(1, meta("", "", &[]))
        .msg(
            2,
            Pb::new().msg(
                1,
                Pb::new()
                    .str(1, "default")
                    .str(2, "create")
                    .str(3, "")
                    .str(4, "")
                    .str(5, "pods")
                    .str(6, "")
                    .str(7, ""),
            ),
        )
        .msg(
            3,
            Pb::new()
                .bool(1, false)
                .str(2, "")
                .str(3, "")
                .bool(4, false),
        );
    assert_eq!(
        decoded(&body(
            "authorization.k8s.io/v1",
            "SelfSubjectAccessReview",
            review
        )),
        json!({
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SelfSubjectAccessReview",
            "metadata": {},
            "spec": {"resourceAttributes": {"namespace": "default", "verb": "create", "resource": "pods"}},
            "status": {"allowed": false}
        })
    );
}

#[test]
fn kubectl_create_token() {
    // `kubectl create token sa1 --duration=1h`.
    let request = Pb::new()
        .msg(1, meta("", "", &[]))
        .msg(2, Pb::new().int(4, 3600))
        .msg(3, Pb::new().str(1, "").msg(2, Pb::new()));
    assert_eq!(
        decoded(&body("authentication.k8s.io/v1", "TokenRequest", request)),
        json!({
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenRequest",
            "metadata": {},
            "spec": {"expirationSeconds": 3600},
            "status": {"token": ""}
        })
    );
}

#[test]
fn kubectl_autoscale() {
    // `kubectl autoscale deployment web --min=1 --max=3 --cpu-percent=80` (autoscaling/v1).
    let hpa = Pb::new()
        .msg(1, meta("web", "", &[]))
        .msg(
            2,
            Pb::new()
                .msg(
                    1,
                    Pb::new()
                        .str(1, "Deployment")
                        .str(2, "web")
                        .str(3, "apps/v1"),
                )
                .int(2, 1)
                .int(3, 3)
                .int(4, 80),
        )
        .msg(3, Pb::new().int(3, 0).int(4, 0));
    assert_eq!(
        decoded(&body("autoscaling/v1", "HorizontalPodAutoscaler", hpa)),
        json!({
            "apiVersion": "autoscaling/v1",
            "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "web"},
            "spec": {
                "scaleTargetRef": {"kind": "Deployment", "name": "web", "apiVersion": "apps/v1"},
                "minReplicas": 1, "maxReplicas": 3, "targetCPUUtilizationPercentage": 80
            },
            "status": {"currentReplicas": 0, "desiredReplicas": 0}
        })
    );
}

fn int_or_string_int(v: i64) -> Pb {
    Pb::new().int(1, 0).int(2, v).str(3, "")
}

fn int_or_string_str(s: &str) -> Pb {
    Pb::new().int(1, 1).int(2, 0).str(3, s)
}

#[test]
fn kubectl_create_service_with_int_or_string_ports() {
    // `kubectl create service clusterip web --tcp=80:8080`, plus a named target port.
    let port = |name: &str, port: i64, target: Pb| {
        Pb::new()
            .str(1, name)
            .str(2, "TCP")
            .int(3, port)
            .msg(4, target)
            .int(5, 0)
    };
    let svc = Pb::new()
        .msg(1, meta("web", "", &[("app", "web")]))
        .msg(
            2,
            Pb::new()
                .msg(1, port("80-8080", 80, int_or_string_int(8080)))
                .msg(1, port("https", 443, int_or_string_str("https")))
                .entry(2, "app", "web")
                .str(3, "")
                .str(4, "ClusterIP")
                .str(7, "")
                .str(8, "")
                .str(10, "")
                .str(11, "")
                .int(12, 0)
                .bool(13, false),
        )
        .msg(3, Pb::new().msg(1, Pb::new()));
    assert_eq!(
        decoded(&body("v1", "Service", svc)),
        json!({
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "web", "labels": {"app": "web"}},
            "spec": {
                "ports": [
                    {"name": "80-8080", "protocol": "TCP", "port": 80, "targetPort": 8080},
                    {"name": "https", "protocol": "TCP", "port": 443, "targetPort": "https"}
                ],
                "selector": {"app": "web"},
                "type": "ClusterIP"
            },
            "status": {"loadBalancer": {}}
        })
    );
}

#[test]
fn pod_with_quantities_times_probes_and_volumes() {
    let quantity = |s: &str| Pb::new().str(1, s);
    let resources = Pb::new()
        .entry_msg(1, "cpu", quantity("500m"))
        .entry_msg(1, "memory", quantity("128Mi"))
        .entry_msg(2, "cpu", quantity("250m"));
    let probe = Pb::new()
        .msg(
            1,
            Pb::new().msg(
                2,
                Pb::new()
                    .str(1, "/healthz")
                    .msg(2, int_or_string_str("http"))
                    .str(3, "")
                    .str(4, "HTTP"),
            ),
        )
        .int(2, 5)
        .int(3, 0)
        .int(4, 10)
        .int(5, 0)
        .int(6, 0);
    let mut web = container("web", "nginx", resources);
    web = web.msg(10, probe).msg(
        6,
        Pb::new()
            .str(1, "http")
            .int(2, 0)
            .int(3, 80)
            .str(4, "TCP")
            .str(5, ""),
    );
    let volume = Pb::new().str(1, "config").msg(
        2,
        Pb::new().msg(19, Pb::new().msg(1, Pb::new().str(1, "cm1")).int(3, 0o644)),
    );
    let spec = pod_spec(vec![web]).msg(1, volume).int(4, 0);
    let mut pod_meta = meta("web", "default", &[]);
    pod_meta = pod_meta.msg(8, Pb::new().int(1, 1_795_236_479));
    let pod = Pb::new().msg(1, pod_meta).msg(2, spec).msg(
        3,
        Pb::new()
            .str(1, "Running")
            .msg(7, Pb::new().int(1, 1_795_236_480).int(2, 5)),
    );
    let json = decoded(&body("v1", "Pod", pod));
    assert_eq!(
        json["metadata"],
        json!({"name": "web", "namespace": "default", "creationTimestamp": "2026-11-21T04:47:59Z"})
    );
    assert_eq!(
        json["spec"],
        json!({
            "containers": [{
                "name": "web",
                "image": "nginx",
                "resources": {"limits": {"cpu": "500m", "memory": "128Mi"}, "requests": {"cpu": "250m"}},
                "livenessProbe": {
                    "httpGet": {"path": "/healthz", "port": "http", "scheme": "HTTP"},
                    "initialDelaySeconds": 5, "periodSeconds": 10
                },
                "ports": [{"name": "http", "containerPort": 80, "protocol": "TCP"}]
            }],
            "volumes": [{"name": "config", "configMap": {"name": "cm1", "defaultMode": 420}}],
            "terminationGracePeriodSeconds": 0
        })
    );
    // Time keeps seconds only, as Go's decoder does.
    assert_eq!(
        json["status"],
        json!({"phase": "Running", "startTime": "2026-11-21T04:48:00Z"})
    );
}

#[test]
fn lease_micro_time_and_user_info_extra() {
    let lease = Pb::new().msg(1, meta("leader", "kube-system", &[])).msg(
        2,
        Pb::new()
            .str(1, "node-1")
            .int(2, 15)
            .msg(4, Pb::new().int(1, 1_795_236_479).int(2, 123_456_789))
            .int(5, 0),
    );
    assert_eq!(
        decoded(&body("coordination.k8s.io/v1", "Lease", lease))["spec"],
        json!({
            "holderIdentity": "node-1", "leaseDurationSeconds": 15,
            "renewTime": "2026-11-21T04:47:59.123456Z", "leaseTransitions": 0
        })
    );
    let review = Pb::new().msg(1, meta("", "", &[])).msg(
        2,
        Pb::new().msg(
            1,
            Pb::new()
                .str(1, "admin")
                .str(2, "")
                .str(3, "system:masters")
                .str(3, "system:authenticated")
                .entry_msg(4, "scopes", Pb::new().str(1, "a").str(1, "b")),
        ),
    );
    assert_eq!(
        decoded(&body(
            "authentication.k8s.io/v1",
            "SelfSubjectReview",
            review
        ))["status"],
        json!({"userInfo": {
            "username": "admin",
            "groups": ["system:masters", "system:authenticated"],
            "extra": {"scopes": ["a", "b"]}
        }})
    );
}

#[test]
fn unknown_fields_are_skipped_and_repeats_merge() {
    let cm = Pb::new()
        .msg(1, meta("cm1", "", &[]))
        .str(99, "from the future")
        .int(98, 7)
        .msg(1, Pb::new().entry(12, "note", "merged"))
        .entry(2, "a", "b");
    assert_eq!(
        decoded(&body("v1", "ConfigMap", cm)),
        json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "cm1", "annotations": {"note": "merged"}},
            "data": {"a": "b"}
        })
    );
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn errors() {
    assert_eq!(
        decode(br#"{"kind":"Secret"}"#),
        Err(ProtobufError::NotProtobuf)
    );
    let status = ProtobufError::NotProtobuf.status("Secret", br#"{"kind":"Secret"}"#);
    assert_eq!(status.code, 400);
    assert_eq!(
        status.message,
        "the object provided is unrecognized (must be of type Secret): provided data does not appear to be a protobuf message, expected prefix [107 56 115 0] ({\"kind\":\"Secret\"})"
    );

    let mut truncated = body("v1", "Secret", Pb::new().msg(1, meta("s", "", &[])));
    truncated.truncate(truncated.len() - 6);
    assert!(
        matches!(decode(&truncated), Err(ProtobufError::Envelope(ref r)) if r == "unexpected EOF")
    );

    let mut broken_object = Pb::new().msg(1, meta("s", "", &[])).0;
    broken_object.truncate(broken_object.len() - 3);
    let e = decode(&body("v1", "Secret", Pb(broken_object))).unwrap_err();
    assert_eq!(
        e,
        ProtobufError::Object {
            api_version: "v1".into(),
            kind: "Secret".into(),
            reason: "unexpected EOF".into()
        }
    );
    assert_eq!(
        e.status("Secret", &[]).message,
        "Secret in version \"v1\" cannot be handled as a Secret: unexpected EOF"
    );

    let wrong_wire = Pb::new().int(1, 5);
    assert_eq!(
        decode(&body("v1", "Secret", wrong_wire))
            .unwrap_err()
            .to_string(),
        "proto: wrong wireType = 0 for field metadata"
    );

    let tag_zero = Pb(vec![0x00, 0x00]);
    assert_eq!(
        decode(&body("v1", "Secret", tag_zero))
            .unwrap_err()
            .to_string(),
        "proto: Secret: illegal tag 0 (wire type 0)"
    );

    let e = decode(&body("v1", "Frobnicator", Pb::new())).unwrap_err();
    assert_eq!(e.code(), 400);
    assert_eq!(
        e.status("Pod", &[]).message,
        "Frobnicator in version \"v1\" cannot be handled as a Pod: no kind \"Frobnicator\" is registered for version \"v1\" in scheme \"k2d\""
    );

    assert_eq!(
        decode(&body("v1", "", Pb::new())),
        Err(ProtobufError::MissingKind {
            api_version: "v1".into()
        })
    );

    let mut gzipped = b"k8s\0".to_vec();
    gzipped.extend(
        Pb::new()
            .msg(1, Pb::new().str(1, "v1").str(2, "Secret"))
            .str(3, "gzip")
            .0,
    );
    let e = decode(&gzipped).unwrap_err();
    assert_eq!(e.code(), 415);
    assert_eq!(e.status("Secret", &gzipped).reason, "UnsupportedMediaType");
}

#[test]
fn deep_nesting_is_refused_not_a_stack_overflow() {
    // RawExtension can hold a nested `k8s\0` object; nest far too deep.
    let mut inner = body("v1", "DeleteOptions", Pb::new());
    for _ in 0..200 {
        let watch_event = Pb::new().str(1, "ADDED").msg(2, Pb::new().bytes(1, &inner));
        inner = body("v1", "WatchEvent", watch_event);
    }
    let e = decode(&inner).unwrap_err();
    assert!(e.to_string().contains("maximum recursion depth"), "{e}");
    // Ten levels are fine.
    let mut inner = body("v1", "DeleteOptions", Pb::new());
    for _ in 0..10 {
        let watch_event = Pb::new().str(1, "ADDED").msg(2, Pb::new().bytes(1, &inner));
        inner = body("v1", "WatchEvent", watch_event);
    }
    let json = decoded(&inner);
    assert_eq!(json["type"], "ADDED");
    assert_eq!(json["object"]["object"]["kind"], "WatchEvent");
}

#[test]
fn content_type_matching() {
    assert!(is_protobuf("application/vnd.kubernetes.protobuf"));
    assert!(is_protobuf(
        "application/vnd.kubernetes.protobuf; charset=utf-8"
    ));
    assert!(!is_protobuf("application/json"));
}

#[test]
fn every_served_kind_has_a_message() {
    use crate::generated::{RESOURCES, SCHEMAS};
    for r in RESOURCES {
        let schema = r
            .schema
            .unwrap_or_else(|| panic!("{} has a schema", r.name));
        let msg = super::table::message_of_schema(schema)
            .unwrap_or_else(|| panic!("no protobuf message for {} ({})", r.kind, r.api_version()));
        assert_eq!(msg.short_name(), r.kind);
    }
    // The table is indexed like SCHEMAS.
    for (i, s) in SCHEMAS.iter().enumerate() {
        if let Some(m) = super::table::message_of_schema(i) {
            assert!(
                s.name.ends_with(&format!(".{}", m.short_name())),
                "{}",
                s.name
            );
        }
    }
}

#[test]
fn the_kinds_clients_send_in_protobuf_decode() {
    // client-requirements 1.1: what kubectl's typed commands and Helm send.
    for (api_version, kind) in [
        ("v1", "Secret"),
        ("v1", "ConfigMap"),
        ("v1", "Namespace"),
        ("v1", "ServiceAccount"),
        ("v1", "Service"),
        ("authentication.k8s.io/v1", "TokenRequest"),
        ("apps/v1", "Deployment"),
        ("batch/v1", "Job"),
        ("batch/v1", "CronJob"),
        ("autoscaling/v1", "HorizontalPodAutoscaler"),
        ("authorization.k8s.io/v1", "SelfSubjectAccessReview"),
        ("authentication.k8s.io/v1", "SelfSubjectReview"),
        ("v1", "DeleteOptions"),
    ] {
        let json = decode(&body(api_version, kind, Pb::new()))
            .unwrap_or_else(|e| panic!("{api_version} {kind}: {e}"));
        assert_eq!(json, json!({"apiVersion": api_version, "kind": kind}));
    }
}

#[test]
fn field_names_are_the_schema_property_names() {
    use super::table::INLINE;
    let mut missing = Vec::new();
    for (i, s) in crate::generated::SCHEMAS.iter().enumerate() {
        let Some(m) = super::table::message_of_schema(i) else {
            continue;
        };
        for f in m.fields() {
            if !f.has(INLINE) && s.field(f.name()).is_none() {
                missing.push(format!("{}.{}", s.name, f.name()));
            }
        }
    }
    assert!(missing.is_empty(), "{missing:#?}");
}
