//! What `trim` removes from the parts it keeps: description prose and CBOR media types.

use serde_json::{Map, Value};

/// The HTTP methods an OpenAPI path item may hold operations for.
pub const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Removes every `description` key whose value is a string, at any depth. A key named
/// `description` holding an object (a schema property called `description`) is kept.
pub fn strip_descriptions(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if map.get("description").is_some_and(Value::is_string) {
                map.remove("description");
            }
            map.values_mut().for_each(strip_descriptions);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_descriptions),
        _ => {}
    }
}

/// Strips one path item: descriptions everywhere except the (required) `description` of each
/// Response object, and CBOR media types of request bodies and responses.
pub fn strip_path_item(item: &mut Value) {
    let Some(item) = item.as_object_mut() else {
        return;
    };
    for (key, value) in item.iter_mut() {
        match value.as_object_mut() {
            Some(op) if METHODS.contains(&key.as_str()) => strip_operation(op),
            _ => strip_descriptions(value),
        }
    }
}

fn strip_operation(op: &mut Map<String, Value>) {
    let responses = op.remove("responses");
    strip_descriptions_in_map(op);
    if let Some(content) = op.get_mut("requestBody").and_then(|b| b.get_mut("content")) {
        drop_cbor(content);
    }
    if let Some(mut responses) = responses {
        if let Some(responses) = responses.as_object_mut() {
            for response in responses.values_mut() {
                strip_response(response);
            }
        }
        op.insert("responses".into(), responses);
    }
}

/// A Response keeps its `description` ("OK", "Created", ...): OpenAPI (and the `openapiv3`
/// crate) require it.
fn strip_response(response: &mut Value) {
    let Some(map) = response.as_object_mut() else {
        return;
    };
    let description = map.remove("description");
    strip_descriptions_in_map(map);
    if let Some(content) = map.get_mut("content") {
        drop_cbor(content);
    }
    if let Some(description) = description {
        map.insert("description".into(), description);
    }
}

fn strip_descriptions_in_map(map: &mut Map<String, Value>) {
    if map.get("description").is_some_and(Value::is_string) {
        map.remove("description");
    }
    map.values_mut().for_each(strip_descriptions);
}

/// Removes the media types containing `cbor` from a `content` map.
fn drop_cbor(content: &mut Value) {
    if let Some(content) = content.as_object_mut() {
        content.retain(|media_type, _| !media_type.contains("cbor"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keeps_properties_named_description() {
        let mut v = json!({
            "description": "prose",
            "properties": {
                "description": {"description": "more prose", "type": "string"},
                "x": {"items": {"description": "deep", "type": "integer"}}
            }
        });
        strip_descriptions(&mut v);
        assert_eq!(
            v,
            json!({"properties": {"description": {"type": "string"}, "x": {"items": {"type": "integer"}}}})
        );
    }

    #[test]
    fn path_items_keep_response_descriptions_and_drop_cbor() {
        let mut v = json!({
            "parameters": [{"description": "p", "in": "query", "name": "pretty"}],
            "put": {
                "description": "replace",
                "requestBody": {"content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/A"}},
                    "application/apply-patch+cbor": {"schema": {"$ref": "#/components/schemas/A"}}
                }},
                "responses": {
                    "200": {"description": "OK", "content": {
                        "application/cbor": {}, "application/cbor-seq": {}, "application/json": {}
                    }},
                    "401": {"description": "Unauthorized"}
                }
            }
        });
        strip_path_item(&mut v);
        assert_eq!(
            v,
            json!({
                "parameters": [{"in": "query", "name": "pretty"}],
                "put": {
                    "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/A"}}}},
                    "responses": {
                        "200": {"content": {"application/json": {}}, "description": "OK"},
                        "401": {"description": "Unauthorized"}
                    }
                }
            })
        );
    }
}
