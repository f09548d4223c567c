//! Hand-written translators, one file per resource, each overriding the methods of its generated
//! trait that mean something on Docker. None exists yet: every resource keeps the generated
//! stored-object defaults.

use crate::generated::Translators;

/// The translators k2d serves with.
pub fn all() -> Translators {
    Translators::default()
}
