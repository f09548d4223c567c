//! Why an apply was refused, and the `Status` the API answers with.

use std::fmt;

use super::conflict::{self, Conflict};
use crate::api::status::{Status, StatusCause, StatusDetails};

/// A refused apply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ApplyError {
    /// Fields the configuration would change are owned by other managers (409 Conflict).
    Conflict(Vec<Conflict>),
    /// The request cannot be an apply: wrong kind or version, managedFields in the
    /// configuration, a name that is not the object's (400 BadRequest).
    BadRequest(String),
    /// The configuration does not fit the schema: a list item without its key, duplicate keys,
    /// a missing field manager (422 Invalid).
    Invalid(String),
}

impl ApplyError {
    /// The Kubernetes `Status` for this error.
    pub fn to_status(&self) -> Status {
        match self {
            ApplyError::Conflict(conflicts) => {
                let causes = conflicts
                    .iter()
                    .map(|c| StatusCause {
                        reason: "FieldManagerConflict".into(),
                        message: format!("conflict with {}", c.owner()),
                        field: c.field.clone(),
                    })
                    .collect();
                Status::new(409, "Conflict", conflict::message(conflicts)).with_details(
                    StatusDetails {
                        causes,
                        ..Default::default()
                    },
                )
            }
            ApplyError::BadRequest(m) => Status::bad_request(m.clone()),
            ApplyError::Invalid(m) => Status::new(422, "Invalid", m.clone()),
        }
    }
}

impl fmt::Display for ApplyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApplyError::Conflict(c) => f.write_str(&conflict::message(c)),
            ApplyError::BadRequest(m) | ApplyError::Invalid(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for ApplyError {}

impl From<ApplyError> for Status {
    fn from(e: ApplyError) -> Status {
        e.to_status()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conflicts_become_409_with_causes() {
        let e = ApplyError::Conflict(vec![Conflict {
            manager: "kubectl".into(),
            operation: "Update".into(),
            subresource: "scale".into(),
            api_version: "apps/v1".into(),
            field: ".spec.replicas".into(),
        }]);
        let v = e.to_status().to_json();
        assert_eq!(v["code"], 409);
        assert_eq!(v["reason"], "Conflict");
        assert_eq!(
            v["details"]["causes"][0],
            serde_json::json!({
                "reason": "FieldManagerConflict",
                "message": "conflict with \"kubectl\" with subresource \"scale\" using apps/v1",
                "field": ".spec.replicas"
            })
        );
        assert_eq!(ApplyError::Invalid("x".into()).to_status().code, 422);
    }
}
