//! Apply conflicts: a field the configuration would change that another manager owns. The
//! messages are the real server's, which kubectl prints as they are:
//! `Apply failed with 1 conflict: conflict with "kubectl" with subresource "scale" using apps/v1: .spec.replicas`.

use std::collections::BTreeMap;

use super::managers::{Entry, UPDATE};

/// One conflicting field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conflict {
    /// The manager that owns the field.
    pub manager: String,
    /// Its operation (`Apply` or `Update`).
    pub operation: String,
    /// Its subresource, empty for the object itself.
    pub subresource: String,
    /// Its API version.
    pub api_version: String,
    /// The field, as Kubernetes prints paths: `.spec.replicas`.
    pub field: String,
}

impl Conflict {
    /// The conflict on `field` with the writer of `entry`.
    pub fn new(entry: &Entry, field: String) -> Self {
        Conflict {
            manager: entry.manager.clone(),
            operation: entry.operation.clone(),
            subresource: entry.subresource.clone(),
            api_version: entry.api_version.clone(),
            field,
        }
    }

    /// How the server names the other writer: `"kubectl" with subresource "scale" using apps/v1`.
    pub fn owner(&self) -> String {
        let mut s = quote(&self.manager);
        if !self.subresource.is_empty() {
            s.push_str(&format!(" with subresource {}", quote(&self.subresource)));
        }
        if self.operation == UPDATE {
            s.push_str(&format!(" using {}", self.api_version));
        }
        s
    }
}

fn quote(s: &str) -> String {
    serde_json::Value::from(s).to_string()
}

/// The message of a 409 for these conflicts.
pub fn message(conflicts: &[Conflict]) -> String {
    if let [c] = conflicts {
        return format!(
            "Apply failed with 1 conflict: conflict with {}: {}",
            c.owner(),
            c.field
        );
    }
    let mut by_owner: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for c in conflicts {
        by_owner.entry(c.owner()).or_default().push(&c.field);
    }
    let mut lines = Vec::new();
    for (owner, fields) in by_owner {
        lines.push(format!("conflicts with {owner}:"));
        lines.extend(fields.into_iter().map(|f| format!("- {f}")));
    }
    format!(
        "Apply failed with {} conflicts: {}",
        conflicts.len(),
        lines.join("\n")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(manager: &str, op: &str, sub: &str, field: &str) -> Conflict {
        Conflict {
            manager: manager.into(),
            operation: op.into(),
            subresource: sub.into(),
            api_version: "apps/v1".into(),
            field: field.into(),
        }
    }

    #[test]
    fn messages_read_like_the_real_server() {
        assert_eq!(
            message(&[c("kubectl", "Update", "scale", ".spec.replicas")]),
            "Apply failed with 1 conflict: conflict with \"kubectl\" with subresource \"scale\" using apps/v1: .spec.replicas"
        );
        assert_eq!(
            message(&[
                c("helm", "Apply", "", ".spec.replicas"),
                c("helm", "Apply", "", ".spec.paused"),
                c("a", "Update", "", ".metadata.labels.x"),
            ]),
            "Apply failed with 3 conflicts: conflicts with \"a\" using apps/v1:\n- .metadata.labels.x\nconflicts with \"helm\":\n- .spec.replicas\n- .spec.paused"
        );
    }
}
