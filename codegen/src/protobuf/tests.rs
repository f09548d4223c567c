//! `codegen protobuf` on a miniature k8s-pb: prost-style source in, table out.

use serde_json::json;

use super::names::Schemas;
use super::source::{RawMessage, read_source};
use super::{FILE, build, load, render};

const META: &str = r#"
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct ObjectMeta {
    #[prost(string, optional, tag = "1")]
    pub name: ::core::option::Option<::prost::alloc::string::String>,
    #[prost(string, optional, tag = "2")]
    pub generate_name: ::core::option::Option<::prost::alloc::string::String>,
    #[prost(message, optional, tag = "8")]
    pub creation_timestamp: ::core::option::Option<Time>,
    #[prost(btree_map = "string, string", tag = "11")]
    pub labels: ::prost::alloc::collections::BTreeMap<::prost::alloc::string::String, ::prost::alloc::string::String>,
}
#[derive(Clone, Copy, PartialEq, Eq, Hash, ::prost::Message)]
pub struct Time {
    #[prost(int64, optional, tag = "1")]
    pub seconds: ::core::option::Option<i64>,
    #[prost(int32, optional, tag = "2")]
    pub nanos: ::core::option::Option<i32>,
}
impl crate::Resource for ObjectMeta {}
"#;

const CORE: &str = r#"
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct Secret {
    #[prost(message, optional, tag = "1")]
    pub metadata: ::core::option::Option<super::super::super::apimachinery::pkg::apis::meta::v1::ObjectMeta>,
    #[prost(btree_map = "string, bytes", tag = "2")]
    pub data: ::prost::alloc::collections::BTreeMap<::prost::alloc::string::String, ::prost::alloc::vec::Vec<u8>>,
    #[prost(string, optional, tag = "3")]
    pub r#type: ::core::option::Option<::prost::alloc::string::String>,
}
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct PodSpec {
    #[prost(message, repeated, tag = "1")]
    pub volumes: ::prost::alloc::vec::Vec<Volume>,
    #[prost(bool, optional, tag = "12")]
    pub host_pid: ::core::option::Option<bool>,
    #[prost(bool, optional, tag = "21")]
    pub automount_service_account_token: ::core::option::Option<bool>,
    #[prost(int64, repeated, packed = "false", tag = "30")]
    pub sizes: ::prost::alloc::vec::Vec<i64>,
}
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct Volume {
    #[prost(string, optional, tag = "1")]
    pub name: ::core::option::Option<::prost::alloc::string::String>,
    #[prost(message, optional, tag = "2")]
    pub volume_source: ::core::option::Option<VolumeSource>,
}
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct VolumeSource {
    #[prost(message, optional, tag = "1")]
    pub host_path: ::core::option::Option<HostPathVolumeSource>,
    #[prost(message, optional, boxed, tag = "16")]
    pub downward_api: ::core::option::Option<::prost::alloc::boxed::Box<HostPathVolumeSource>>,
}
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct HostPathVolumeSource {
    #[prost(string, optional, tag = "1")]
    pub path: ::core::option::Option<::prost::alloc::string::String>,
}
"#;

const AUTHN: &str = r#"
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct ExtraValue {
    #[prost(string, repeated, tag = "1")]
    pub items: ::prost::alloc::vec::Vec<::prost::alloc::string::String>,
}
"#;

fn module(path: &str) -> Vec<String> {
    path.split('.').map(str::to_string).collect()
}

fn raw() -> Vec<RawMessage> {
    let mut raw = Vec::new();
    raw.extend(read_source(META, &module("apimachinery.pkg.apis.meta.v1")).unwrap());
    raw.extend(read_source(CORE, &module("api.core.v1")).unwrap());
    raw.extend(read_source(AUTHN, &module("api.authentication.v1")).unwrap());
    raw
}

fn schemas() -> Schemas {
    let mut s = Schemas::default();
    let props = |names: &[&str]| {
        let p: serde_json::Map<String, serde_json::Value> =
            names.iter().map(|n| (n.to_string(), json!({}))).collect();
        json!({"type": "object", "properties": p})
    };
    s.add(
        "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
        &props(&["name", "generateName", "creationTimestamp", "labels"]),
    );
    s.add(
        "io.k8s.apimachinery.pkg.apis.meta.v1.Time",
        &json!({"type": "string", "format": "date-time"}),
    );
    s.add(
        "io.k8s.api.core.v1.Secret",
        &props(&["apiVersion", "kind", "metadata", "data", "type"]),
    );
    s.add(
        "io.k8s.api.core.v1.PodSpec",
        &props(&["volumes", "hostPID", "automountServiceAccountToken"]),
    );
    s.add(
        "io.k8s.api.core.v1.Volume",
        &props(&["name", "hostPath", "downwardAPI"]),
    );
    s.add("io.k8s.api.core.v1.HostPathVolumeSource", &props(&["path"]));
    s
}

#[test]
fn messages_fields_and_names() {
    let (table, report) = build(&raw(), &schemas(), "k8s-pb test").unwrap();
    let secret = &table.messages["io.k8s.api.core.v1.Secret"];
    let f = |i: usize| serde_json::to_value(&secret.fields[i]).unwrap();
    assert_eq!(
        f(0),
        json!({"tag": 1, "name": "metadata", "kind": "message", "message": "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"})
    );
    assert_eq!(
        f(1),
        json!({"tag": 2, "name": "data", "kind": "map<string,bytes>"})
    );
    assert_eq!(f(2), json!({"tag": 3, "name": "type", "kind": "string"}));

    let pod = &table.messages["io.k8s.api.core.v1.PodSpec"];
    let names: Vec<&str> = pod.fields.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "volumes",
            "hostPID",
            "automountServiceAccountToken",
            "sizes"
        ]
    );
    assert!(pod.fields[0].repeated && pod.fields[3].repeated);
    assert!(pod.fields[2].pointer, "a listed Go pointer");
    assert!(!pod.fields[1].pointer);
    assert!(pod.fields[3].guessed, "no property named sizes");
    assert_eq!(report.guessed_fields, ["io.k8s.api.core.v1.PodSpec.sizes"]);

    // The embedded VolumeSource has no schema: inline, named after Volume's properties.
    let volume = &table.messages["io.k8s.api.core.v1.Volume"];
    assert!(volume.fields[1].inline && !volume.fields[1].guessed);
    let source = &table.messages["io.k8s.api.core.v1.VolumeSource"];
    assert!(source.unmatched);
    assert_eq!(source.fields[1].name, "downwardAPI");

    assert_eq!(
        table.messages["io.k8s.apimachinery.pkg.apis.meta.v1.Time"]
            .form
            .as_deref(),
        Some("time")
    );
    let extra = &table.messages["io.k8s.api.authentication.v1.ExtraValue"];
    assert_eq!(extra.form.as_deref(), Some("string-list"));
    assert!(
        report
            .unmatched_messages
            .contains(&"io.k8s.api.core.v1.VolumeSource".to_string())
    );
    assert!(
        report
            .stale_pointers
            .contains(&"io.k8s.api.apps.v1.DeploymentSpec.replicas".to_string()),
        "pointer entries for messages absent here are reported"
    );
}

#[test]
fn render_round_trips() {
    let (table, _) = build(&raw(), &schemas(), "k8s-pb test").unwrap();
    let text = render(&table);
    let back: super::Table = serde_json::from_str(&text).unwrap();
    assert_eq!(render(&back), text);
}

#[test]
fn committed_table_is_in_canonical_form() {
    let spec = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec");
    let text = std::fs::read_to_string(spec.join(FILE)).unwrap();
    assert_eq!(
        render(&load(&spec).unwrap()),
        text,
        "spec/protobuf.json was edited by hand; regenerate it with `codegen protobuf`"
    );
}

#[test]
fn bad_form_layouts_are_refused() {
    let odd_time = r#"
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct Time {
    #[prost(string, optional, tag = "1")]
    pub seconds: ::core::option::Option<::prost::alloc::string::String>,
}
"#;
    let raw = read_source(odd_time, &module("apimachinery.pkg.apis.meta.v1")).unwrap();
    assert!(build(&raw, &schemas(), "x").is_err());
}
