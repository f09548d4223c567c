//! The text kube-apiserver gives a value of the wrong JSON type. Its decoder is Go's
//! `encoding/json` (as forked in `sigs.k8s.io/json`), so the message names Go types:
//! `json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32`.
//!
//! The schema model keeps only what merging needs (an integer is an integer), so the Go type is
//! read from the embedded OpenAPI document, which says `int32`/`int64`, `byte`, or a reference to
//! `Time`. That costs a parse of one document, and happens only when a request is being refused.

use serde_json::Value;

use super::walk::{Found, Target, TypeMismatch};
use crate::api::model::Ty;
use crate::generated::{GROUP_VERSIONS, SCHEMAS};

const REF_PREFIX: &str = "#/components/schemas/";

/// The sentence for a type mismatch, without the `<Kind> in version ...` prefix.
pub(crate) fn mismatch_message(m: &TypeMismatch) -> String {
    let found = match &m.found {
        Found::Base64(at) => return format!("illegal base64 data at input byte {at}"),
        Found::String => "string".to_string(),
        Found::Number(None) => "number".to_string(),
        Found::Number(Some(text)) => format!("number {text}"),
        Found::Bool => "bool".to_string(),
        Found::Object => "object".to_string(),
        Found::Array => "array".to_string(),
    };
    // Types with their own JSON decoding report errors without the struct context.
    if m.int_or_string {
        return format!("json: cannot unmarshal {found} into Go value of type int32");
    }
    let go = go_type(m.target);
    if go == "v1.Time" || go == "v1.MicroTime" {
        return format!("json: cannot unmarshal {found} into Go value of type string");
    }
    match m.in_struct {
        Some(s) if !m.go_path.is_empty() => format!(
            "json: cannot unmarshal {found} into Go struct field {}.{} of type {go}",
            short_name(SCHEMAS[s].name),
            m.go_path
        ),
        _ => format!("json: cannot unmarshal {found} into Go value of type {go}"),
    }
}

/// The Go type a value lands in, as `reflect.Type.String()` prints it (`int32`, `[]v1.Container`,
/// `map[string]string`, `v1.DeploymentSpec`).
pub(crate) fn go_type(target: Target) -> String {
    match target {
        Target::Root(i) => named(SCHEMAS[i].name),
        Target::None => "interface {}".to_string(),
        Target::Field {
            schema,
            field,
            depth,
        } => match property(SCHEMAS[schema].name, field) {
            Some(mut p) => {
                for _ in 0..depth {
                    p = element(&p).unwrap_or(Value::Null);
                }
                from_openapi(&p)
            }
            None => {
                let mut ty = SCHEMAS[schema].field(field).map(|f| &f.ty);
                for _ in 0..depth {
                    ty = match ty {
                        Some(Ty::Array(t) | Ty::Map(t)) => Some(*t),
                        _ => None,
                    };
                }
                ty.map_or_else(|| "interface {}".to_string(), from_model)
            }
        },
    }
}

/// `io.k8s.api.apps.v1.DeploymentSpec` → `DeploymentSpec`.
fn short_name(schema: &str) -> &str {
    schema.rsplit('.').next().unwrap_or(schema)
}

/// A Go package-qualified type name: `v1.Container`, `intstr.IntOrString`, `resource.Quantity`.
fn named(schema: &str) -> String {
    let mut parts = schema.rsplit('.');
    let name = parts.next().unwrap_or(schema);
    match parts.next() {
        Some(pkg) => format!("{pkg}.{name}"),
        None => name.to_string(),
    }
}

fn from_model(ty: &Ty) -> String {
    match ty {
        Ty::String => "string".into(),
        Ty::Integer => "int32".into(),
        Ty::Number => "float64".into(),
        Ty::Boolean => "bool".into(),
        Ty::IntOrString => "intstr.IntOrString".into(),
        Ty::Any => "interface {}".into(),
        Ty::Object(i) => named(SCHEMAS[*i].name),
        Ty::Array(t) => format!("[]{}", from_model(t)),
        Ty::Map(t) => format!("map[string]{}", from_model(t)),
    }
}

/// The referenced schema of a property (`$ref`, or `allOf` with one `$ref`).
fn reference(p: &Value) -> Option<&str> {
    p.get("$ref")
        .or_else(|| p.get("allOf")?.get(0)?.get("$ref"))
        .and_then(Value::as_str)
        .map(|r| r.strip_prefix(REF_PREFIX).unwrap_or(r))
}

/// The schema of a list element or map value.
fn element(p: &Value) -> Option<Value> {
    p.get("items")
        .or_else(|| p.get("additionalProperties"))
        .cloned()
}

fn from_openapi(p: &Value) -> String {
    if let Some(r) = reference(p) {
        return named(r);
    }
    let format = p.get("format").and_then(Value::as_str).unwrap_or_default();
    match p.get("type").and_then(Value::as_str) {
        Some("integer") => match format {
            "int64" => "int64".into(),
            "int32" => "int32".into(),
            _ => "int".into(),
        },
        Some("number") => match format {
            "float" => "float32".into(),
            _ => "float64".into(),
        },
        Some("boolean") => "bool".into(),
        Some("string") if format == "byte" => "[]uint8".into(),
        Some("string") => "string".into(),
        Some("array") => format!(
            "[]{}",
            element(p).map_or("interface {}".into(), |e| from_openapi(&e))
        ),
        Some("object") => match p.get("additionalProperties") {
            Some(ap) => format!("map[string]{}", from_openapi(ap)),
            None => "map[string]interface {}".into(),
        },
        _ => "interface {}".into(),
    }
}

/// The OpenAPI schema of one property, from the first embedded document that has the schema.
/// Documents of the schema's own group are read first; shared types are in every document.
fn property(schema: &str, field: &str) -> Option<Value> {
    let package = schema.split('.').nth(3).unwrap_or_default();
    let own = |group: &str| {
        (package == "core" && group.is_empty())
            || (!group.is_empty() && group.split('.').next() == Some(package))
    };
    let ordered = GROUP_VERSIONS
        .iter()
        .filter(|gv| own(gv.group))
        .chain(GROUP_VERSIONS.iter().filter(|gv| !own(gv.group)));
    for gv in ordered {
        let Ok(doc) = serde_json::from_slice::<Value>(&gv.openapi()) else {
            continue;
        };
        let found = doc
            .get("components")
            .and_then(|c| c.get("schemas"))
            .and_then(|s| s.get(schema));
        if let Some(s) = found {
            return s.get("properties").and_then(|p| p.get(field)).cloned();
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::validation::walk::{Node, walk_json};
    use crate::generated::schema_index;

    fn message(schema: &str, raw: &str) -> String {
        let i = schema_index(schema).unwrap();
        let f = walk_json(raw.as_bytes(), Node::Object(i), Target::Root(i));
        mismatch_message(&f.mismatch.expect("a mismatch"))
    }

    const DEPLOYMENT: &str = "io.k8s.api.apps.v1.Deployment";

    #[test]
    fn scalar_fields() {
        assert_eq!(
            message(DEPLOYMENT, r#"{"spec":{"replicas":"3"}}"#),
            "json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32"
        );
        assert_eq!(
            message(DEPLOYMENT, r#"{"spec":{"replicas":1.5}}"#),
            "json: cannot unmarshal number 1.5 into Go struct field DeploymentSpec.spec.replicas of type int32"
        );
        assert_eq!(
            message(DEPLOYMENT, r#"{"metadata":{"generation":"1"}}"#),
            "json: cannot unmarshal string into Go struct field ObjectMeta.metadata.generation of type int64"
        );
        assert_eq!(
            message(DEPLOYMENT, r#"{"spec":{"paused":"yes"}}"#),
            "json: cannot unmarshal string into Go struct field DeploymentSpec.spec.paused of type bool"
        );
    }

    #[test]
    fn nested_lists_maps_and_objects() {
        assert_eq!(
            message(
                DEPLOYMENT,
                r#"{"spec":{"template":{"spec":{"containers":[{"name":"c","image":5}]}}}}"#
            ),
            "json: cannot unmarshal number into Go struct field Container.spec.template.spec.containers.image of type string"
        );
        assert_eq!(
            message(
                DEPLOYMENT,
                r#"{"spec":{"template":{"spec":{"containers":["x"]}}}}"#
            ),
            "json: cannot unmarshal string into Go struct field PodSpec.spec.template.spec.containers of type v1.Container"
        );
        assert_eq!(
            message(
                DEPLOYMENT,
                r#"{"spec":{"template":{"spec":{"containers":{}}}}}"#
            ),
            "json: cannot unmarshal object into Go struct field PodSpec.spec.template.spec.containers of type []v1.Container"
        );
        assert_eq!(
            message(DEPLOYMENT, r#"{"metadata":{"labels":{"app":1}}}"#),
            "json: cannot unmarshal number into Go struct field ObjectMeta.metadata.labels of type string"
        );
        assert_eq!(
            message(DEPLOYMENT, r#"{"metadata":{"labels":[]}}"#),
            "json: cannot unmarshal array into Go struct field ObjectMeta.metadata.labels of type map[string]string"
        );
        assert_eq!(
            message(DEPLOYMENT, r#"{"spec":"x"}"#),
            "json: cannot unmarshal string into Go struct field Deployment.spec of type v1.DeploymentSpec"
        );
        assert_eq!(
            message(DEPLOYMENT, r#"[]"#),
            "json: cannot unmarshal array into Go value of type v1.Deployment"
        );
    }

    #[test]
    fn types_with_their_own_decoding() {
        assert_eq!(
            message(DEPLOYMENT, r#"{"metadata":{"creationTimestamp":5}}"#),
            "json: cannot unmarshal number into Go value of type string"
        );
        // The model has no int-or-string field yet (the generator maps the `oneOf` schema to
        // `Any`), so the wording is checked on a hand-made mismatch.
        let m = TypeMismatch {
            found: Found::Bool,
            in_struct: schema_index("io.k8s.api.apps.v1.RollingUpdateDeployment"),
            go_path: "spec.strategy.rollingUpdate.maxSurge".into(),
            target: Target::None,
            int_or_string: true,
        };
        assert_eq!(
            mismatch_message(&m),
            "json: cannot unmarshal bool into Go value of type int32"
        );
    }

    #[test]
    fn secret_data_is_base64() {
        let secret = "io.k8s.api.core.v1.Secret";
        assert_eq!(
            message(secret, r#"{"data":{"password":"hello"}}"#),
            "illegal base64 data at input byte 4"
        );
        assert_eq!(
            message(secret, r#"{"data":{"password":1}}"#),
            "json: cannot unmarshal number into Go struct field Secret.data of type []uint8"
        );
        let i = schema_index(secret).unwrap();
        let ok = walk_json(
            br#"{"data":{"a":"aGVsbG8="},"stringData":{"b":"plain"}}"#,
            Node::Object(i),
            Target::Root(i),
        );
        assert!(ok.mismatch.is_none());
    }
}
