//! Deployments: stored as any object; the Deployment controller
//! ([`crate::controllers::deployment`]) rolls them out, so writes carry no "stored only" warning.

use super::controlled::{self, controlled_translator};
use crate::api::{ApiRequest, ApiResult};

/// The deployments translator.
pub struct Deployments;

controlled_translator!(Deployments, crate::generated::apps_v1::DeploymentTranslator);
