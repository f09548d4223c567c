//! Credentials: the CA and certificates, the admin token, service account tokens, the
//! kubeconfig, authenticating requests with them, and deciding what each caller may do.

pub mod auth;
pub mod authz;
pub mod files;
pub mod kubeconfig;
pub mod pki;
pub mod tokens;
