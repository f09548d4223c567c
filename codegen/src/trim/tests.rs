//! End-to-end tests of `trim` on small synthetic upstream documents, and checks of the committed
//! `spec/` documents.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::*;

/// A scratch directory under the system's temp dir, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir =
            std::env::temp_dir().join(format!("k2d-codegen-trim-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn schema_ref(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

/// An operation as upstream writes them: prose, CBOR media types, a kind.
fn op(action: &str, kind: Option<&str>, group: &str, schema: &str) -> Value {
    let content = json!({
        "application/cbor": {"schema": schema_ref(schema)},
        "application/json": {"schema": schema_ref(schema)},
        "application/json;stream=watch": {"schema": schema_ref(schema)},
        "application/cbor-seq": {"schema": schema_ref(schema)}
    });
    let mut o = json!({
        "description": format!("{action} something"),
        "operationId": format!("{action}{kind:?}"),
        "parameters": [{"description": "prose", "in": "query", "name": "pretty", "schema": {"type": "string", "uniqueItems": true}}],
        "responses": {"200": {"content": content, "description": "OK"}, "401": {"description": "Unauthorized"}},
        "tags": ["t"],
        "x-kubernetes-action": action
    });
    if action == "put" {
        o["requestBody"] = json!({"content": {
            "*/*": {"schema": schema_ref(schema)},
            "application/apply-patch+cbor": {"schema": schema_ref(schema)}
        }, "required": true});
    }
    if let Some(kind) = kind {
        o["x-kubernetes-group-version-kind"] =
            json!({"group": group, "kind": kind, "version": "v1"});
    }
    o
}

fn get(kind: &str, group: &str, schema: &str) -> Value {
    json!({"get": op("get", Some(kind), group, schema), "put": op("put", Some(kind), group, schema)})
}

fn upstream_core() -> Value {
    let mut paths = serde_json::Map::new();
    paths.insert(
        "/api/v1/".into(),
        json!({"get": op("get", None, "", "APIResourceList")}),
    );
    for (path, kind, schema) in [
        ("/api/v1/namespaces", "Namespace", "NamespaceList"),
        ("/api/v1/namespaces/{name}", "Namespace", "Namespace"),
        ("/api/v1/namespaces/{name}/status", "Namespace", "Namespace"),
        (
            "/api/v1/namespaces/{name}/finalize",
            "Namespace",
            "Namespace",
        ),
        ("/api/v1/watch/namespaces", "Namespace", "WatchEvent"),
        ("/api/v1/watch/namespaces/{name}", "Namespace", "WatchEvent"),
        ("/api/v1/namespaces/{namespace}/pods", "Pod", "PodList"),
        ("/api/v1/namespaces/{namespace}/pods/{name}", "Pod", "Pod"),
        (
            "/api/v1/namespaces/{namespace}/pods/{name}/log",
            "Pod",
            "Pod",
        ),
        (
            "/api/v1/namespaces/{namespace}/pods/{name}/eviction",
            "Eviction",
            "Pod",
        ),
        (
            "/api/v1/namespaces/{namespace}/pods/{name}/proxy",
            "Pod",
            "Pod",
        ),
        (
            "/api/v1/namespaces/{namespace}/pods/{name}/proxy/{path}",
            "Pod",
            "Pod",
        ),
        ("/api/v1/pods", "Pod", "PodList"),
        ("/api/v1/watch/pods", "Pod", "WatchEvent"),
        (
            "/api/v1/watch/namespaces/{namespace}/pods",
            "Pod",
            "WatchEvent",
        ),
        (
            "/api/v1/watch/namespaces/{namespace}/pods/{name}",
            "Pod",
            "WatchEvent",
        ),
        (
            "/api/v1/namespaces/{namespace}/configmaps",
            "ConfigMap",
            "ConfigMap",
        ),
        (
            "/api/v1/namespaces/{namespace}/configmaps/{name}",
            "ConfigMap",
            "ConfigMap",
        ),
        ("/api/v1/configmaps", "ConfigMap", "ConfigMap"),
    ] {
        paths.insert(path.into(), get(kind, "", schema));
    }
    let object =
        |props: Value| json!({"description": "a thing", "type": "object", "properties": props});
    json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "unversioned"},
        "paths": paths,
        "components": {
            "securitySchemes": {"BearerToken": {"description": "Bearer Token authentication", "in": "header", "name": "authorization", "type": "apiKey"}},
            "schemas": {
                "APIResourceList": object(json!({"resources": {"type": "array", "items": schema_ref("APIResource")}})),
                "APIResource": object(json!({"name": {"type": "string", "description": "n"}})),
                "Namespace": object(json!({"metadata": {"allOf": [schema_ref("ObjectMeta")], "default": {}}})),
                "NamespaceList": object(json!({"items": {"type": "array", "items": schema_ref("Namespace")}})),
                "ObjectMeta": object(json!({"labels": {"type": "object", "additionalProperties": {"type": "string", "default": ""}}})),
                "Pod": object(json!({
                    "metadata": {"allOf": [schema_ref("ObjectMeta")], "default": {}},
                    "spec": {"allOf": [schema_ref("PodSpec")], "default": {}}
                })),
                "PodList": object(json!({"items": {"type": "array", "items": schema_ref("Pod")}})),
                "PodSpec": {
                    "type": "object",
                    "required": ["containers"],
                    "properties": {
                        "description": {"description": "a property called description", "type": "string"},
                        "$ref": {"type": "string"},
                        "containers": {"type": "array", "items": schema_ref("Container"),
                                       "x-kubernetes-list-map-keys": ["name"], "x-kubernetes-list-type": "map",
                                       "x-kubernetes-patch-merge-key": "name", "x-kubernetes-patch-strategy": "merge"}
                    }
                },
                "Container": object(json!({"port": {"x-kubernetes-int-or-string": true, "anyOf": [{"type": "integer"}, {"type": "string"}]}})),
                "WatchEvent": object(json!({"object": {"allOf": [schema_ref("RawExtension")]}})),
                "RawExtension": {"description": "raw", "type": "object"},
                "ConfigMap": object(json!({"data": {"type": "object"}})),
                "Unreached": object(json!({}))
            }
        }
    })
}

fn upstream_apps() -> Value {
    let mut paths = serde_json::Map::new();
    paths.insert(
        "/apis/apps/v1/".into(),
        json!({"get": op("get", None, "", "APIResourceList")}),
    );
    for (path, kind, group, schema) in [
        (
            "/apis/apps/v1/namespaces/{namespace}/deployments",
            "Deployment",
            "apps",
            "Deployment",
        ),
        (
            "/apis/apps/v1/namespaces/{namespace}/deployments/{name}",
            "Deployment",
            "apps",
            "Deployment",
        ),
        (
            "/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale",
            "Scale",
            "autoscaling",
            "Scale",
        ),
        (
            "/apis/apps/v1/namespaces/{namespace}/deployments/{name}/status",
            "Deployment",
            "apps",
            "Deployment",
        ),
        (
            "/apis/apps/v1/deployments",
            "Deployment",
            "apps",
            "Deployment",
        ),
    ] {
        paths.insert(path.into(), get(kind, group, schema));
    }
    json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "unversioned"},
        "paths": paths,
        "components": {"schemas": {
            "APIResourceList": {"type": "object"},
            "Deployment": {"type": "object", "description": "d"},
            "Scale": {"type": "object", "description": "s"}
        }}
    })
}

const LIST: &str = "\
# test list
groupVersions:
  - groupVersion: v1
    resources:
      - name: namespaces
        subresources: [status]
        shortNames: [ns]
        columns:
          - {name: Name, type: string, format: name, jsonPath: .metadata.name}
          - {name: Status, type: string, jsonPath: .status.phase}
          - {name: Age, type: date, jsonPath: .metadata.creationTimestamp}
      - name: pods
        subresources: [log]
        shortNames: [po]
        categories: [all]
  - groupVersion: apps/v1
    resources:
      - name: deployments
        subresources: [scale]
";

/// A scratch upstream dir and spec dir holding [`LIST`].
fn setup(name: &str) -> (Scratch, PathBuf, PathBuf) {
    let scratch = Scratch::new(name);
    let upstream = scratch.0.join("upstream");
    let spec = scratch.0.join("spec");
    fs::create_dir_all(upstream.join("api")).unwrap();
    fs::create_dir_all(upstream.join("apis/apps")).unwrap();
    fs::create_dir_all(&spec).unwrap();
    fs::write(upstream.join("api/v1.json"), upstream_core().to_string()).unwrap();
    fs::write(
        upstream.join("apis/apps/v1.json"),
        upstream_apps().to_string(),
    )
    .unwrap();
    fs::write(spec.join(RESOURCES_FILE), LIST).unwrap();
    (scratch, upstream, spec)
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap()
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// Every string-valued `description` in `v` that is not a Response's, as JSON pointers.
fn prose_descriptions(v: &Value, at: &str, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            let is_response = at.contains("/responses/")
                && at.matches('/').count() == 5
                && at.starts_with("/paths/");
            if map.get("description").is_some_and(Value::is_string) && !is_response {
                out.push(at.to_string());
            }
            for (k, x) in map {
                prose_descriptions(
                    x,
                    &format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")),
                    out,
                );
            }
        }
        Value::Array(items) => {
            for (i, x) in items.iter().enumerate() {
                prose_descriptions(x, &format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

fn options(upstream: &Path, spec: &Path, add: Vec<AddRequest>) -> Options {
    Options {
        upstream: upstream.to_path_buf(),
        spec: spec.to_path_buf(),
        add,
    }
}

#[test]
fn trims_paths_schemas_prose_and_cbor() {
    let (_s, upstream, spec) = setup("trims");
    let report = run(&options(&upstream, &spec, vec![])).unwrap();
    assert_eq!(report.documents.len(), 2);

    let core = read_json(&spec.join("api/v1.json"));
    assert_eq!(
        keys(&core["paths"]),
        set(&[
            "/api/v1/",
            "/api/v1/namespaces",
            "/api/v1/namespaces/{name}",
            "/api/v1/namespaces/{name}/status",
            "/api/v1/watch/namespaces",
            "/api/v1/watch/namespaces/{name}",
            "/api/v1/namespaces/{namespace}/pods",
            "/api/v1/namespaces/{namespace}/pods/{name}",
            "/api/v1/namespaces/{namespace}/pods/{name}/log",
            "/api/v1/pods",
            "/api/v1/watch/pods",
            "/api/v1/watch/namespaces/{namespace}/pods",
            "/api/v1/watch/namespaces/{namespace}/pods/{name}",
        ])
    );
    assert_eq!(
        keys(&core["components"]["schemas"]),
        set(&[
            "APIResource",
            "APIResourceList",
            "Container",
            "Namespace",
            "NamespaceList",
            "ObjectMeta",
            "Pod",
            "PodList",
            "PodSpec",
            "RawExtension",
            "WatchEvent"
        ])
    );
    let mut prose = Vec::new();
    prose_descriptions(&core, "", &mut prose);
    assert!(prose.is_empty(), "descriptions left: {prose:?}");
    let text = fs::read_to_string(spec.join("api/v1.json")).unwrap();
    assert!(!text.contains("cbor"));
    assert!(text.ends_with("}\n"));

    let spec_props = &core["components"]["schemas"]["PodSpec"]["properties"];
    assert_eq!(spec_props["description"], json!({"type": "string"}));
    assert_eq!(spec_props["$ref"], json!({"type": "string"}));
    assert_eq!(
        spec_props["containers"]["x-kubernetes-patch-merge-key"],
        "name"
    );
    assert_eq!(
        core["components"]["schemas"]["PodSpec"]["required"],
        json!(["containers"])
    );
    assert_eq!(
        core["components"]["securitySchemes"]["BearerToken"]["type"],
        "apiKey"
    );
    assert_eq!(core["info"]["title"], "Kubernetes");
    let put = &core["paths"]["/api/v1/namespaces/{namespace}/pods/{name}"]["put"];
    assert_eq!(keys(&put["requestBody"]["content"]), set(&["*/*"]));
    assert_eq!(put["responses"]["401"]["description"], "Unauthorized");
    assert_eq!(
        keys(&put["responses"]["200"]["content"]),
        set(&["application/json", "application/json;stream=watch"])
    );
    assert_eq!(
        put["parameters"][0],
        json!({"in": "query", "name": "pretty", "schema": {"type": "string", "uniqueItems": true}})
    );

    let facts = &core["x-k2d-resources"];
    assert_eq!(keys(facts), set(&["namespaces", "pods"]));
    assert_eq!(facts["pods"]["singularName"], "pod");
    assert_eq!(facts["pods"]["shortNames"], json!(["po"]));
    assert_eq!(facts["pods"]["categories"], json!(["all"]));
    assert_eq!(
        facts["pods"]["columns"],
        json!([
            {"name": "Name", "type": "string", "format": "name", "priority": 0, "jsonPath": ".metadata.name"},
            {"name": "Age", "type": "date", "format": "", "priority": 0, "jsonPath": ".metadata.creationTimestamp"}
        ])
    );
    assert_eq!(facts["namespaces"]["categories"], json!([]));
    assert_eq!(
        facts["namespaces"]["columns"][1]["jsonPath"],
        ".status.phase"
    );

    let apps = read_json(&spec.join("apis/apps/v1.json"));
    assert_eq!(
        apps["x-k2d-resources"]["deployments"]["singularName"],
        "deployment"
    );
    assert_eq!(
        keys(&apps["components"]["schemas"]),
        set(&["APIResourceList", "Deployment", "Scale"])
    );
    assert!(
        apps["paths"]
            .get("/apis/apps/v1/namespaces/{namespace}/deployments/{name}/status")
            .is_none()
    );
}

#[test]
fn produced_documents_parse_with_openapiv3() {
    let (_s, upstream, spec) = setup("openapiv3");
    run(&options(&upstream, &spec, vec![])).unwrap();
    for rel in output::generated_documents(&spec).unwrap() {
        let text = fs::read_to_string(spec.join(&rel)).unwrap();
        let doc = check_openapiv3(&text).unwrap_or_else(|e| panic!("{rel}: {e:#}"));
        assert!(doc.extensions.contains_key("x-k2d-resources"), "{rel}");
    }
}

#[test]
fn rerun_is_byte_identical() {
    let (_s, upstream, spec) = setup("rerun");
    run(&options(&upstream, &spec, vec![])).unwrap();
    let before: Vec<Vec<u8>> = ["api/v1.json", "apis/apps/v1.json"]
        .iter()
        .map(|r| fs::read(spec.join(r)).unwrap())
        .collect();
    let report = run(&options(&upstream, &spec, vec![])).unwrap();
    assert!(report.documents.iter().all(|d| !d.changed), "{report:?}");
    let after: Vec<Vec<u8>> = ["api/v1.json", "apis/apps/v1.json"]
        .iter()
        .map(|r| fs::read(spec.join(r)).unwrap())
        .collect();
    assert_eq!(before, after);
}

#[test]
fn removes_documents_of_unlisted_group_versions() {
    let (_s, upstream, spec) = setup("stale");
    fs::create_dir_all(spec.join("apis/batch")).unwrap();
    fs::write(spec.join("apis/batch/v1.json"), "{}\n").unwrap();
    let report = run(&options(&upstream, &spec, vec![])).unwrap();
    assert_eq!(report.removed, ["apis/batch/v1.json"]);
    assert!(!spec.join("apis/batch").exists());
    assert!(spec.join("resources.yaml").exists());
}

#[test]
fn errors_name_what_was_asked() {
    let cases = [
        (
            "  - groupVersion: apps/v9\n    resources:\n      - name: deployments\n",
            "unknown group-version apps/v9",
        ),
        (
            "  - groupVersion: batch/v1\n    resources:\n      - name: jobs\n",
            "unknown group-version batch/v1",
        ),
        (
            "  - groupVersion: v1\n    resources:\n      - name: podz\n",
            "resource v1/podz not found",
        ),
        (
            "  - groupVersion: v1\n    resources:\n      - name: pods\n        subresources: [exec]\n",
            "subresource v1/pods/exec not found",
        ),
    ];
    for (i, (entry, message)) in cases.iter().enumerate() {
        let (_s, upstream, spec) = setup(&format!("errors{i}"));
        fs::write(
            spec.join(RESOURCES_FILE),
            format!("groupVersions:\n{entry}"),
        )
        .unwrap();
        let err = format!("{:#}", run(&options(&upstream, &spec, vec![])).unwrap_err());
        assert!(err.contains(message), "{err}");
        assert!(!spec.join("api").exists(), "nothing is written on error");
    }
    let (_s, upstream, spec) = setup("errors-hint");
    fs::write(spec.join(RESOURCES_FILE), "groupVersions:\n  - groupVersion: v1\n    resources:\n      - name: pods\n        subresources: [exec]\n").unwrap();
    let err = format!("{:#}", run(&options(&upstream, &spec, vec![])).unwrap_err());
    assert!(err.contains("pods has: eviction, log, proxy"), "{err}");
}

#[test]
fn add_appends_then_trims() {
    let (_s, upstream, spec) = setup("add");
    let mut req = AddRequest::parse("v1/configmaps").unwrap();
    req.short_names = vec!["cm".into()];
    let report = run(&options(
        &upstream,
        &spec,
        vec![req, AddRequest::parse("v1/pods:log").unwrap()],
    ))
    .unwrap();
    assert_eq!(report.added, ["v1/configmaps"]);
    assert_eq!(report.already_listed, [("v1/pods".to_string(), vec![])]);
    let text = fs::read_to_string(spec.join(RESOURCES_FILE)).unwrap();
    assert!(text.starts_with("# test list\n"));
    assert!(
        text.contains(
            "      - name: configmaps\n        shortNames: [cm]\n  - groupVersion: apps/v1\n"
        ),
        "{text}"
    );
    let core = read_json(&spec.join("api/v1.json"));
    assert!(
        core["paths"]
            .get("/api/v1/namespaces/{namespace}/configmaps/{name}")
            .is_some()
    );
    assert_eq!(
        core["x-k2d-resources"]["configmaps"]["shortNames"],
        json!(["cm"])
    );
    assert!(core["components"]["schemas"].get("ConfigMap").is_some());
}

#[test]
fn failed_add_changes_nothing() {
    let (_s, upstream, spec) = setup("add-fails");
    let err = run(&options(
        &upstream,
        &spec,
        vec![AddRequest::parse("apps/v1/deployments2").unwrap()],
    ))
    .unwrap_err();
    assert!(
        format!("{err:#}").contains("resource apps/v1/deployments2 not found"),
        "{err:#}"
    );
    assert_eq!(fs::read_to_string(spec.join(RESOURCES_FILE)).unwrap(), LIST);
}

/// The repository's `spec/` directory.
fn committed_spec() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("spec")
}

#[test]
fn committed_documents_match_the_list_and_parse_with_openapiv3() {
    let spec = committed_spec();
    let list =
        ResourceList::parse(&fs::read_to_string(spec.join(RESOURCES_FILE)).unwrap()).unwrap();
    let expected: BTreeSet<String> = list
        .group_versions
        .iter()
        .map(|g| {
            format!(
                "{}.json",
                GroupVersion::parse(&g.group_version).unwrap().doc_path()
            )
        })
        .collect();
    assert_eq!(
        output::generated_documents(&spec).unwrap(),
        expected,
        "run `codegen trim` after editing resources.yaml"
    );
    for entry in &list.group_versions {
        let rel = format!(
            "{}.json",
            GroupVersion::parse(&entry.group_version)
                .unwrap()
                .doc_path()
        );
        let text = fs::read_to_string(spec.join(&rel)).unwrap();
        check_openapiv3(&text).unwrap_or_else(|e| panic!("{rel}: {e:#}"));
        let doc: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(output::canonical_json(&doc), text, "{rel} is not canonical");
        let mut prose = Vec::new();
        prose_descriptions(&doc, "", &mut prose);
        assert!(prose.is_empty(), "{rel}: descriptions left at {prose:?}");
        let names: BTreeSet<String> = entry.resources.iter().map(|r| r.name.clone()).collect();
        assert_eq!(keys(&doc["x-k2d-resources"]), names, "{rel}");
    }
}

/// With `K2D_UPSTREAM_OPENAPI` set to the upstream directory, checks that `spec/` is what `trim`
/// produces from it now.
#[test]
fn committed_documents_are_fresh() {
    let Some(upstream) = std::env::var_os("K2D_UPSTREAM_OPENAPI") else {
        println!("note: K2D_UPSTREAM_OPENAPI is not set; not re-trimming spec/ to compare");
        return;
    };
    let spec = committed_spec();
    let list =
        ResourceList::parse(&fs::read_to_string(spec.join(RESOURCES_FILE)).unwrap()).unwrap();
    for (rel, doc) in trim_all(Path::new(&upstream), &list).unwrap() {
        let committed = fs::read_to_string(spec.join(&rel)).unwrap_or_default();
        assert!(
            committed == doc.text,
            "{rel} is stale: run `cargo run -p k2d-codegen -- trim --upstream <dir>`"
        );
    }
}
