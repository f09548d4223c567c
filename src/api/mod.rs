//! The API machinery shared by every resource: routing, discovery, OpenAPI, version, health,
//! content negotiation, Status errors and the stored-object defaults of the generated translators.

pub mod accept;
pub mod apply;
pub mod body;
pub mod defaults;
pub mod discovery;
pub mod meta;
pub mod model;
pub mod objects;
pub mod openapi;
pub mod patch;
pub mod printers;
pub mod protobuf;
pub mod reply;
pub mod request;
pub mod router;
pub mod selector;
pub mod status;
pub mod stored;
pub mod table;
pub mod validation;
pub mod version;
pub mod yaml;

pub use reply::Reply;
pub use request::ApiRequest;
pub use status::Status;

/// What every translator method returns.
pub type ApiResult = Result<Reply, Status>;
