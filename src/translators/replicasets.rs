//! ReplicaSets: stored as any object; the ReplicaSet controller
//! ([`crate::controllers::replicaset`]) keeps their pods, so writes carry no "stored only"
//! warning.

use super::controlled::{self, controlled_translator};
use crate::api::{ApiRequest, ApiResult};

/// The replicasets translator.
pub struct ReplicaSets;

controlled_translator!(ReplicaSets, crate::generated::apps_v1::ReplicaSetTranslator);
