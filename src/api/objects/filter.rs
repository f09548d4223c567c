//! Which objects a list or watch returns: the label and field selectors of the request, and the
//! object name of a single-object watch.

use serde_json::Value;

use crate::api::ApiRequest;
use crate::api::selector::{FieldSelector, LabelSelector};
use crate::api::status::Status;

/// The selection a request makes.
pub struct Filter {
    labels: Option<LabelSelector>,
    fields: Option<FieldSelector>,
    name: Option<String>,
}

impl Filter {
    /// The request's `labelSelector`, `fieldSelector` and path name.
    pub fn from_request(req: &ApiRequest) -> Result<Filter, Status> {
        let labels = match req
            .query
            .get("labelSelector")
            .filter(|s| !s.trim().is_empty())
        {
            Some(s) => Some(LabelSelector::parse(s)?),
            None => None,
        };
        let fields = match req
            .query
            .get("fieldSelector")
            .filter(|s| !s.trim().is_empty())
        {
            Some(s) => Some(FieldSelector::parse_for(req.resource, s)?),
            None => None,
        };
        Ok(Filter {
            labels,
            fields,
            name: req.name.clone(),
        })
    }

    /// `true` when the filter selects everything.
    pub fn is_empty(&self) -> bool {
        self.labels.is_none() && self.fields.is_none() && self.name.is_none()
    }

    /// `true` when the object is selected.
    pub fn matches(&self, obj: &Value) -> bool {
        if let Some(n) = &self.name
            && crate::api::meta::meta_str(obj, "name") != Some(n.as_str())
        {
            return false;
        }
        if let Some(l) = &self.labels
            && !l.matches(obj.pointer("/metadata/labels").and_then(Value::as_object))
        {
            return false;
        }
        if let Some(f) = &self.fields
            && !f.matches_object(obj)
        {
            return false;
        }
        true
    }
}
