//! `fieldValidation`: what kube-apiserver does with unknown fields, repeated keys and values of
//! the wrong type in a request body.
//!
//! - A value of the wrong type is always refused, whatever the mode (400), with the Go decoder's
//!   text: `Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal
//!   string into Go struct field DeploymentSpec.spec.replicas of type int32`.
//! - `Strict` refuses unknown and repeated fields (400): `Deployment in version "v1" cannot be
//!   handled as a Deployment: strict decoding error: unknown field "spec.bogusField", duplicate
//!   field "spec.replicas"` (patches: `strict decoding error: ...` alone).
//! - `Warn` (the default when the parameter is absent, since Kubernetes 1.27) accepts the object
//!   and returns one warning per problem (`unknown field "spec.bogusField"`), which the API layer
//!   sends as `Warning: 299 - "..."` headers. Helm 3 sends no parameter and so is never refused.
//! - `Ignore` skips the strict checks.
//!
//! Server-side apply is different: its merge engine refuses unknown fields in every mode (see
//! [`check_apply`]). Protobuf bodies cannot carry unknown fields and are not checked here.

use serde_json::Value;

use super::field_error::{FieldError, invalid_status};
use super::go_types::mismatch_message;
use super::walk::{Findings, Node, Problem, Target, walk_json, walk_value};
use super::yaml_dups::yaml_strict_error;
use crate::api::model::Verb;
use crate::api::status::Status;
use crate::generated::SCHEMAS;

/// The `fieldValidation` query parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldValidation {
    /// Accept unknown and repeated fields silently.
    Ignore,
    /// Accept them and warn.
    Warn,
    /// Refuse them.
    Strict,
}

impl FieldValidation {
    /// Reads the parameter of a write. Absent or empty means `Warn`. Anything other than
    /// `Ignore`, `Warn` or `Strict` (case matters) is refused with the 422 kube-apiserver gives
    /// (`CreateOptions.meta.k8s.io "" is invalid: fieldValidation: Unsupported value: ...`).
    pub fn parse(value: Option<&str>, verb: Verb) -> Result<Self, Status> {
        match value.unwrap_or_default() {
            "" | "Warn" => Ok(FieldValidation::Warn),
            "Ignore" => Ok(FieldValidation::Ignore),
            "Strict" => Ok(FieldValidation::Strict),
            other => {
                let options = match verb {
                    Verb::Update => "UpdateOptions",
                    Verb::Patch => "PatchOptions",
                    _ => "CreateOptions",
                };
                Err(invalid_status(
                    options,
                    "meta.k8s.io",
                    "",
                    &[FieldError::not_supported(
                        "fieldValidation",
                        other,
                        &["", "Ignore", "Strict", "Warn"],
                    )],
                ))
            }
        }
    }
}

/// The kind of a patch body, for [`check_patch`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PatchKind {
    /// `application/json-patch+json`: a list of operations.
    Json,
    /// `application/merge-patch+json`.
    Merge,
    /// `application/strategic-merge-patch+json`.
    Strategic,
}

/// Paths of the fields of `obj` the schema does not declare, as kube-apiserver reports them
/// (`spec.bogusField`, `spec.template.spec.containers[0].bogus`). Fields of free-form type
/// (`x-kubernetes-preserve-unknown-fields`, `RawExtension`, `fieldsV1`) are not looked into.
pub fn unknown_fields(obj: &Value, schema: usize) -> Vec<String> {
    walk_value(obj, Node::Object(schema), Target::Root(schema))
        .problems
        .into_iter()
        .filter_map(|p| match p {
            Problem::Unknown(path) => Some(path),
            Problem::Duplicate(_) => None,
        })
        .collect()
}

/// Paths of the keys repeated in one JSON object of a raw body (`spec.replicas`,
/// `metadata.labels.app`). `serde_json` keeps the last of two equal keys without a word (so does
/// Go's decoder), so the parsed object no longer shows them: the raw bytes are read again.
pub fn duplicate_fields(raw_json: &[u8]) -> Vec<String> {
    walk_json(raw_json, Node::Untyped, Target::None)
        .problems
        .into_iter()
        .filter_map(|p| match p {
            Problem::Duplicate(path) => Some(path),
            Problem::Unknown(_) => None,
        })
        .collect()
}

/// Checks a JSON create or update body (`raw`, already parsed into `obj`) against the schema.
/// `Ok` carries the warnings to send.
pub fn check(
    raw: &[u8],
    obj: &Value,
    schema: usize,
    mode: FieldValidation,
) -> Result<Vec<String>, Status> {
    let found = walk_json(raw, Node::Object(schema), Target::Root(schema));
    let problems = problems_text(&found);
    decode_outcome(obj, schema, mode, found, problems)
}

/// Checks a YAML create or update body: repeated keys are read from the YAML text (go-yaml's
/// message, first), types and unknown fields from the parsed object.
pub fn check_yaml(
    raw_yaml: &[u8],
    obj: &Value,
    schema: usize,
    mode: FieldValidation,
) -> Result<Vec<String>, Status> {
    let found = walk_value(obj, Node::Object(schema), Target::Root(schema));
    let mut problems = Vec::new();
    if found.mismatch.is_none() && mode != FieldValidation::Ignore {
        problems.extend(yaml_strict_error(raw_yaml));
    }
    problems.extend(problems_text(&found));
    decode_outcome(obj, schema, mode, found, problems)
}

/// Checks a JSON, merge or strategic merge patch: repeated keys (and, for JSON patches, unknown
/// operation fields) in the patch body, then types and unknown fields in the patched object.
/// A type error is a 422 on the field `patch`, as kube-apiserver answers; strict problems a 400
/// `strict decoding error: ...`.
pub fn check_patch(
    kind: PatchKind,
    patch: &[u8],
    patched: &Value,
    schema: usize,
    mode: FieldValidation,
) -> Result<Vec<String>, Status> {
    let found = walk_value(patched, Node::Object(schema), Target::Root(schema));
    if let Some(m) = &found.mismatch {
        let text = serde_json::to_string(patched).unwrap_or_default();
        return Err(invalid_status(
            "",
            "",
            "",
            &[FieldError::invalid("patch", text, mismatch_message(m))],
        ));
    }
    if mode == FieldValidation::Ignore {
        return Ok(Vec::new());
    }
    let body_node = match kind {
        PatchKind::Json => Node::JsonPatch,
        PatchKind::Merge | PatchKind::Strategic => Node::Untyped,
    };
    let mut problems: Vec<String> = walk_json(patch, body_node, Target::None)
        .problems
        .iter()
        .map(|p| match kind {
            PatchKind::Json => format!("json patch {p}"),
            _ => p.to_string(),
        })
        .collect();
    problems.extend(problems_text(&found));
    match mode {
        _ if problems.is_empty() => Ok(Vec::new()),
        FieldValidation::Strict => Err(Status::bad_request(format!(
            "strict decoding error: {}",
            problems.join(", ")
        ))),
        _ => Ok(problems),
    }
}

/// Checks a server-side apply body (`application/apply-patch+yaml`; JSON is YAML too) for an
/// object `namespace/name`. Unknown fields are refused in every mode, in the merge engine's words
/// and with its status (500, no reason; kube-apiserver v1.35 does not map this error):
/// `failed to create typed patch object (default/bad; apps/v1, Kind=Deployment):
/// .spec.bogusField: field not declared in schema`. Repeated keys follow the mode (`error strict
/// decoding YAML: ...` with 400 under `Strict`, a warning under `Warn`).
pub fn check_apply(
    raw_yaml: &[u8],
    applied: &Value,
    schema: usize,
    mode: FieldValidation,
    namespace: &str,
    name: &str,
) -> Result<Vec<String>, Status> {
    let errors = super::apply_paths::undeclared_fields(applied, schema);
    if !errors.is_empty() {
        let (group, version, kind) = schema_gvk(schema, applied);
        let gv = if group.is_empty() {
            format!("/{version}")
        } else {
            format!("{group}/{version}")
        };
        let detail = if errors.len() == 1 {
            errors[0].clone()
        } else {
            format!("errors:\n  {}", errors.join("\n  "))
        };
        return Err(Status::new(
            500,
            "",
            format!(
                "failed to create typed patch object ({namespace}/{name}; {gv}, Kind={kind}): {detail}"
            ),
        ));
    }
    let found = walk_value(applied, Node::Object(schema), Target::Root(schema));
    if let Some(m) = &found.mismatch {
        return Err(Status::bad_request(mismatch_message(m)));
    }
    if mode == FieldValidation::Ignore {
        return Ok(Vec::new());
    }
    match yaml_strict_error(raw_yaml) {
        None => Ok(Vec::new()),
        Some(e) if mode == FieldValidation::Strict => Err(Status::bad_request(format!(
            "error strict decoding YAML: {e}"
        ))),
        Some(e) => Ok(vec![e]),
    }
}

fn problems_text(found: &Findings) -> Vec<String> {
    found.problems.iter().map(ToString::to_string).collect()
}

/// The outcome of decoding a create or update body.
fn decode_outcome(
    obj: &Value,
    schema: usize,
    mode: FieldValidation,
    found: Findings,
    problems: Vec<String>,
) -> Result<Vec<String>, Status> {
    if let Some(m) = &found.mismatch {
        return Err(Status::bad_request(cannot_be_handled(
            obj,
            schema,
            &mismatch_message(m),
        )));
    }
    match mode {
        FieldValidation::Ignore => Ok(Vec::new()),
        _ if problems.is_empty() => Ok(Vec::new()),
        FieldValidation::Warn => Ok(problems),
        FieldValidation::Strict => Err(Status::bad_request(cannot_be_handled(
            obj,
            schema,
            &format!("strict decoding error: {}", problems.join(", ")),
        ))),
    }
}

/// `<Kind> in version "<v>" cannot be handled as a <Kind>: <err>`: how kube-apiserver wraps a
/// decoding error of a create or update body (the first kind and version are the body's).
fn cannot_be_handled(obj: &Value, schema: usize, err: &str) -> String {
    let (_, version, kind) = schema_gvk(schema, obj);
    let target = SCHEMAS[schema]
        .gvks
        .first()
        .map(|g| g.2)
        .unwrap_or(kind.as_str());
    format!("{kind} in version \"{version}\" cannot be handled as a {target}: {err}")
}

/// The group, version and kind of a body: its own `apiVersion` and `kind`, else the schema's.
fn schema_gvk(schema: usize, obj: &Value) -> (String, String, String) {
    let (g, v, k) = SCHEMAS[schema]
        .gvks
        .first()
        .copied()
        .unwrap_or(("", "", SCHEMAS[schema].name));
    let text = |key: &str| {
        obj.get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    let (group, version) = match text("apiVersion") {
        Some(av) => match av.split_once('/') {
            Some((g, v)) => (g.to_string(), v.to_string()),
            None => (String::new(), av.to_string()),
        },
        None => (g.to_string(), v.to_string()),
    };
    let kind = text("kind").unwrap_or(k).to_string();
    (group, version, kind)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generated::schema_index;
    use serde_json::json;

    fn schema(name: &str) -> usize {
        schema_index(name).unwrap()
    }

    fn deployment() -> usize {
        schema("io.k8s.api.apps.v1.Deployment")
    }

    /// The body kubectl sent in the `bad.yaml` trace (annotation shortened).
    const BAD: &str = r#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{}\n"},"name":"bad","namespace":"default"},"spec":{"bogusField":1,"replicas":1,"selector":{"matchLabels":{"app":"bad"}},"template":{"metadata":{"labels":{"app":"bad"}},"spec":{"containers":[{"image":"busybox","name":"c"}]}}}}"#;

    fn run(raw: &str, mode: FieldValidation) -> Result<Vec<String>, Status> {
        let obj: Value = serde_json::from_str(raw).unwrap();
        check(raw.as_bytes(), &obj, deployment(), mode)
    }

    #[test]
    fn the_bad_yaml_trace_under_strict() {
        let e = run(BAD, FieldValidation::Strict).unwrap_err();
        assert_eq!(e.code, 400);
        assert_eq!(e.reason, "BadRequest");
        assert_eq!(
            e.message,
            r#"Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: unknown field "spec.bogusField""#
        );
    }

    #[test]
    fn the_bad_yaml_trace_under_warn_and_ignore() {
        assert_eq!(
            run(BAD, FieldValidation::Warn).unwrap(),
            vec![r#"unknown field "spec.bogusField""#]
        );
        assert!(run(BAD, FieldValidation::Ignore).unwrap().is_empty());
    }

    #[test]
    fn clean_bodies_pass_in_every_mode() {
        let web = r#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","labels":{"app":"web"},"creationTimestamp":null},"spec":{"replicas":2,"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"image":"nginx:1.27","name":"nginx","ports":[{"containerPort":80}],"resources":{"limits":{"cpu":1,"memory":"64Mi"}}}]}},"strategy":{}},"status":{}}"#;
        for mode in [
            FieldValidation::Strict,
            FieldValidation::Warn,
            FieldValidation::Ignore,
        ] {
            assert_eq!(run(web, mode).unwrap(), Vec::<String>::new());
        }
    }

    #[test]
    fn several_problems_in_one_message() {
        let raw = r#"{"spec":{"replicas":1,"replicas":2,"template":{"spec":{"containers":[{"name":"c","bogus":1}]}}},"extra":true}"#;
        let e = run(raw, FieldValidation::Strict).unwrap_err();
        assert_eq!(
            e.message,
            r#"Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: duplicate field "spec.replicas", unknown field "spec.template.spec.containers[0].bogus", unknown field "extra""#
        );
        assert_eq!(run(raw, FieldValidation::Warn).unwrap().len(), 3);
    }

    #[test]
    fn wrong_types_are_refused_in_every_mode() {
        let raw = r#"{"apiVersion":"apps/v1","kind":"Deployment","spec":{"replicas":"2"}}"#;
        for mode in [
            FieldValidation::Strict,
            FieldValidation::Warn,
            FieldValidation::Ignore,
        ] {
            let e = run(raw, mode).unwrap_err();
            assert_eq!(e.code, 400);
            assert_eq!(
                e.message,
                r#"Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32"#
            );
        }
    }

    #[test]
    fn pods_services_configmaps_namespaces() {
        let pod = schema("io.k8s.api.core.v1.Pod");
        let raw = r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"name":"c","image":"busybox","command":["sh"],"bogus":1}],"restartPolicy":"Never"}}"#;
        let obj: Value = serde_json::from_str(raw).unwrap();
        assert_eq!(
            check(raw.as_bytes(), &obj, pod, FieldValidation::Strict)
                .unwrap_err()
                .message,
            r#"Pod in version "v1" cannot be handled as a Pod: strict decoding error: unknown field "spec.containers[0].bogus""#
        );
        let svc = schema("io.k8s.api.core.v1.Service");
        let raw = r#"{"apiVersion":"v1","kind":"Service","metadata":{"name":"web"},"spec":{"ports":[{"port":80,"targetPort":80}],"selector":{"app":"web"},"typo":"NodePort"}}"#;
        let obj: Value = serde_json::from_str(raw).unwrap();
        assert_eq!(
            check(raw.as_bytes(), &obj, svc, FieldValidation::Warn).unwrap(),
            vec![r#"unknown field "spec.typo""#]
        );
        let cm = schema("io.k8s.api.core.v1.ConfigMap");
        let raw = r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"},"data":{"a":"1","a":"2"},"binaryData":{"b":"aGk="}}"#;
        let obj: Value = serde_json::from_str(raw).unwrap();
        assert_eq!(
            check(raw.as_bytes(), &obj, cm, FieldValidation::Strict)
                .unwrap_err()
                .message,
            r#"ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: duplicate field "data.a""#
        );
        let ns = schema("io.k8s.api.core.v1.Namespace");
        let raw = r#"{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"team"},"spec":{"finalizers":["kubernetes"]},"status":{"phase":"Active"}}"#;
        let obj: Value = serde_json::from_str(raw).unwrap();
        assert!(
            check(raw.as_bytes(), &obj, ns, FieldValidation::Strict)
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn yaml_bodies() {
        let yaml = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: bad\nspec:\n  replicas: 1\n  replicas: 2\n  bogusField: 1\n";
        let obj: Value = serde_yaml_ng::from_str(yaml).unwrap();
        let e =
            check_yaml(yaml.as_bytes(), &obj, deployment(), FieldValidation::Strict).unwrap_err();
        assert_eq!(
            e.message,
            "Deployment in version \"v1\" cannot be handled as a Deployment: strict decoding error: yaml: unmarshal errors:\n  line 7: key \"replicas\" already set in map, unknown field \"spec.bogusField\""
        );
        let w = check_yaml(yaml.as_bytes(), &obj, deployment(), FieldValidation::Warn).unwrap();
        assert_eq!(w.len(), 2);
        assert!(
            check_yaml(yaml.as_bytes(), &obj, deployment(), FieldValidation::Ignore)
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn patches() {
        let d = deployment();
        let patched = json!({"apiVersion": "apps/v1", "kind": "Deployment", "spec": {"replicas": 3, "bogus": 1}});
        let patch = br#"{"spec":{"replicas":3,"replicas":3,"bogus":1}}"#;
        let e = check_patch(
            PatchKind::Strategic,
            patch,
            &patched,
            d,
            FieldValidation::Strict,
        )
        .unwrap_err();
        assert_eq!(e.code, 400);
        assert_eq!(
            e.message,
            r#"strict decoding error: duplicate field "spec.replicas", unknown field "spec.bogus""#
        );
        let w = check_patch(PatchKind::Merge, patch, &patched, d, FieldValidation::Warn).unwrap();
        assert_eq!(
            w,
            vec![
                r#"duplicate field "spec.replicas""#,
                r#"unknown field "spec.bogus""#
            ]
        );
        assert!(
            check_patch(
                PatchKind::Merge,
                patch,
                &patched,
                d,
                FieldValidation::Ignore
            )
            .unwrap()
            .is_empty()
        );
        let ops = br#"[{"op":"replace","path":"/spec/replicas","value":3,"bogus":1}]"#;
        let ok = json!({"spec": {"replicas": 3}});
        let e = check_patch(PatchKind::Json, ops, &ok, d, FieldValidation::Strict).unwrap_err();
        assert_eq!(
            e.message,
            r#"strict decoding error: json patch unknown field "[0].bogus""#
        );
    }

    #[test]
    fn a_patch_that_breaks_a_type_is_422_on_patch() {
        let patched = json!({"spec": {"replicas": "x"}});
        let e = check_patch(
            PatchKind::Merge,
            b"{}",
            &patched,
            deployment(),
            FieldValidation::Ignore,
        )
        .unwrap_err();
        assert_eq!(e.code, 422);
        assert_eq!(
            e.message,
            r#" "" is invalid: patch: Invalid value: "{\"spec\":{\"replicas\":\"x\"}}": json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32"#
        );
    }

    #[test]
    fn server_side_apply() {
        let d = deployment();
        let body = r#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"bad","namespace":"default"},"spec":{"bogusField":1,"template":{"spec":{"containers":[{"name":"c","image":"busybox","bogus":true}]}}}}"#;
        let obj: Value = serde_json::from_str(body).unwrap();
        let e = check_apply(
            body.as_bytes(),
            &obj,
            d,
            FieldValidation::Ignore,
            "default",
            "bad",
        )
        .unwrap_err();
        assert_eq!(e.code, 500);
        assert_eq!(
            e.message,
            "failed to create typed patch object (default/bad; apps/v1, Kind=Deployment): errors:\n  .spec.bogusField: field not declared in schema\n  .spec.template.spec.containers[name=\"c\"].bogus: field not declared in schema"
        );
        let pod = schema("io.k8s.api.core.v1.Pod");
        let body = r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"x":1}}"#;
        let obj: Value = serde_json::from_str(body).unwrap();
        let e = check_apply(
            body.as_bytes(),
            &obj,
            pod,
            FieldValidation::Strict,
            "default",
            "p",
        )
        .unwrap_err();
        assert_eq!(
            e.message,
            "failed to create typed patch object (default/p; /v1, Kind=Pod): .spec.x: field not declared in schema"
        );
        let yaml = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  name: p\n";
        let obj: Value = serde_yaml_ng::from_str(yaml).unwrap();
        let e = check_apply(
            yaml.as_bytes(),
            &obj,
            pod,
            FieldValidation::Strict,
            "default",
            "p",
        )
        .unwrap_err();
        assert_eq!(
            e.message,
            "error strict decoding YAML: yaml: unmarshal errors:\n  line 5: key \"name\" already set in map"
        );
        assert_eq!(
            check_apply(
                yaml.as_bytes(),
                &obj,
                pod,
                FieldValidation::Warn,
                "default",
                "p"
            )
            .unwrap()
            .len(),
            1
        );
    }

    #[test]
    fn field_validation_parameter() {
        assert_eq!(
            FieldValidation::parse(None, Verb::Create).unwrap(),
            FieldValidation::Warn
        );
        assert_eq!(
            FieldValidation::parse(Some(""), Verb::Create).unwrap(),
            FieldValidation::Warn
        );
        assert_eq!(
            FieldValidation::parse(Some("Strict"), Verb::Patch).unwrap(),
            FieldValidation::Strict
        );
        assert_eq!(
            FieldValidation::parse(Some("Ignore"), Verb::Update).unwrap(),
            FieldValidation::Ignore
        );
        let e = FieldValidation::parse(Some("strict"), Verb::Create).unwrap_err();
        assert_eq!(e.code, 422);
        assert_eq!(
            e.message,
            r#"CreateOptions.meta.k8s.io "" is invalid: fieldValidation: Unsupported value: "strict": supported values: "", "Ignore", "Strict", "Warn""#
        );
        let e = FieldValidation::parse(Some("x"), Verb::Patch).unwrap_err();
        assert!(e.message.starts_with("PatchOptions.meta.k8s.io"));
    }

    #[test]
    fn unknown_and_duplicate_helpers() {
        let obj = json!({"spec": {"bogusField": 1, "template": {"spec": {"containers": [{"name": "c", "bogus": 1}]}}}});
        assert_eq!(
            unknown_fields(&obj, deployment()),
            vec!["spec.bogusField", "spec.template.spec.containers[0].bogus"]
        );
        assert_eq!(
            duplicate_fields(br#"{"a":1,"b":{"c":[{"d":1,"d":2}]},"a":3}"#),
            vec!["b.c[0].d", "a"]
        );
    }
}
